#!/usr/bin/env bash
# Build the pinned binaries of the Kubernetes lab from the Go module proxy into a cache folder
# outside the repository. Every piece is keyed by version and reused when its marker exists.
#
#   bash lab/k8s/build.sh            # build what is missing, print the paths
#   BLINK_LAB_CACHE=/some/dir bash lab/k8s/build.sh
#
# Layout (CACHE=${BLINK_LAB_CACHE:-/var/cache/blink-lab}):
#   $CACHE/k8s/$K8S_VERSION/{kube-apiserver,kube-controller-manager,kube-scheduler,kubelet,kubectl}
#   $CACHE/etcd/$ETCD_VERSION/etcd
#   $CACHE/kwok/$KWOK_VERSION/kwok  (+ stages/*.yaml copied from the kwok module)
#   $CACHE/pause/$PAUSE_VERSION/pause (static; the lab packs it into an image)
#   $CACHE/go/{build,mod,path}       Go build and module caches (a warm machine rebuilds nothing)
# A `.complete` marker is written into each versioned folder only after that piece succeeded.
set -euo pipefail

K8S_VERSION=${BLINK_K8S_VERSION:-v1.34.4}
ETCD_VERSION=${BLINK_ETCD_VERSION:-v3.6.16}
KWOK_VERSION=${BLINK_KWOK_VERSION:-v0.8.0}
PAUSE_VERSION=${BLINK_PAUSE_VERSION:-3.10-blink1}

CACHE=${BLINK_LAB_CACHE:-/var/cache/blink-lab}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

export PATH="/usr/local/go/bin:$PATH"
export GOCACHE="$CACHE/go/build"
export GOMODCACHE="$CACHE/go/mod"
export GOPATH="$CACHE/go/path"
export GOTOOLCHAIN=local
export GOFLAGS=-buildvcs=false
export CGO_ENABLED=0

log() { printf '%s build.sh: %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { log "ERROR: $*"; exit 1; }
# The binary's `--version` names the version. Read whole into a variable, never `| grep -q`: under
# pipefail a reader that exits early kills the writer with SIGPIPE, at random (cold-machine builds).
reports_version() { local said; said=$("$1" --version) && [[ $said == *"$2"* ]]; }

command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"
mkdir -p "$GOCACHE" "$GOMODCACHE" "$GOPATH" "$CACHE/src"

START=$(date +%s)

# --------------------------------------------------------------------------- kubernetes
build_k8s() {
  local out="$CACHE/k8s/$K8S_VERSION"
  if [[ -f "$out/.complete" ]]; then log "kubernetes $K8S_VERSION: cached in $out"; return; fi
  local minor patch staging_tag
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  patch=$(echo "$K8S_VERSION" | cut -d. -f3)
  staging_tag="v0.$minor.$patch"
  local src="$CACHE/src/k8s-$K8S_VERSION"
  rm -rf "$src"; mkdir -p "$src" "$out"
  log "kubernetes $K8S_VERSION: downloading go.mod (staging tag $staging_tag)"
  local gomod
  gomod=$(cd "$src" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
  [[ -f "$gomod" ]] || die "could not download k8s.io/kubernetes@$K8S_VERSION go.mod"
  # every k8s.io/<name> that upstream replaces with ./staging/... is a published staging module
  mapfile -t staging < <(sed -n 's#^\s*\(k8s.io/[A-Za-z0-9._-]*\) => ./staging/.*#\1#p' "$gomod")
  (( ${#staging[@]} > 20 )) || die "found only ${#staging[@]} staging modules in $gomod"
  log "kubernetes $K8S_VERSION: ${#staging[@]} staging modules; probing $staging_tag of each"
  # every needed staging module must be served at exactly $staging_tag; the sample-* modules are
  # never imported by the commands, so when the proxy lacks them an empty local stub stands in
  local m stubs=()
  declare -A stubbed=()
  for m in "${staging[@]}"; do
    if ! (cd "$src" && go list -m "$m@$staging_tag" >/dev/null 2>&1); then
      case "$m" in
        k8s.io/sample-*)
          mkdir -p "$src/stub/${m#k8s.io/}"
          printf 'module %s\n\ngo 1.24\n' "$m" >"$src/stub/${m#k8s.io/}/go.mod"
          stubbed[$m]=1; stubs+=("$m") ;;
        *) die "staging module $m@$staging_tag is not served by the module proxy" ;;
      esac
    fi
  done
  (( ${#stubs[@]} == 0 )) || log "kubernetes $K8S_VERSION: not served, stubbed (unused by the commands): ${stubs[*]}"
  {
    echo "module blinklab/k8sbuild"
    echo
    grep -m1 '^go ' "$gomod"
    echo
    grep '^godebug' "$gomod" || true
    echo
    echo "replace ("
    for m in "${staging[@]}"; do
      if [[ -n "${stubbed[$m]:-}" ]]; then echo "	$m => ./stub/${m#k8s.io/}"; else echo "	$m => $m $staging_tag"; fi
    done
    echo ")"
  } >"$src/go.mod"
  local pkgs=(cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubelet cmd/kubectl)
  local gets=() p
  for p in "${pkgs[@]}"; do gets+=("k8s.io/kubernetes/$p@$K8S_VERSION"); done
  log "kubernetes $K8S_VERSION: go get (downloads all dependency modules)"
  (cd "$src" && go get "${gets[@]}") || die "go get of kubernetes commands failed"
  local commit date ld
  commit=$(cd "$src" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^\t\t"Hash": "\(.*\)",\{0,1\}$/\1/p' | sed -n 1p)
  [[ -n "$commit" ]] || commit=0000000000000000000000000000000000000000
  date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  ld="-s -w"
  for v in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $v.gitVersion=$K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor"
    ld+=" -X $v.gitCommit=$commit -X $v.gitTreeState=clean -X $v.buildDate=$date"
  done
  local bpkgs=()
  for p in "${pkgs[@]}"; do bpkgs+=("k8s.io/kubernetes/$p"); done
  log "kubernetes $K8S_VERSION: go build ${pkgs[*]##*/} (the long part on a cold cache)"
  (cd "$src" && go build -trimpath -ldflags "$ld" -o "$out/" "${bpkgs[@]}") || die "go build of kubernetes failed"
  reports_version "$out/kube-apiserver" "$K8S_VERSION" || die "kube-apiserver does not report $K8S_VERSION"
  touch "$out/.complete"
  log "kubernetes $K8S_VERSION: done -> $out"
}

# --------------------------------------------------------------------------- etcd
build_etcd() {
  local out="$CACHE/etcd/$ETCD_VERSION"
  if [[ -f "$out/.complete" ]]; then log "etcd $ETCD_VERSION: cached in $out"; return; fi
  local src="$CACHE/src/etcd-$ETCD_VERSION"
  rm -rf "$src"; mkdir -p "$src" "$out"
  log "etcd $ETCD_VERSION: downloading go.mod"
  local gomod
  gomod=$(cd "$src" && go mod download -json "go.etcd.io/etcd/server/v3@$ETCD_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
  [[ -f "$gomod" ]] || die "could not download go.etcd.io/etcd/server/v3@$ETCD_VERSION go.mod"
  # upstream replaces its sibling modules with ../<dir>; use their published tags instead
  mapfile -t sib < <(sed -n 's#^\s*\(go.etcd.io/etcd/[A-Za-z0-9/._-]*\) => \.\./.*#\1#p' "$gomod")
  {
    echo "module blinklab/etcdbuild"
    echo
    grep -m1 '^go ' "$gomod"
    echo
    grep '^godebug' "$gomod" || true
    echo
    echo "replace ("
    for m in "${sib[@]}"; do echo "	$m => $m $ETCD_VERSION"; done
    echo ")"
  } >"$src/go.mod"
  log "etcd $ETCD_VERSION: go get (replacing ${#sib[@]} sibling modules)"
  (cd "$src" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION") || die "go get of etcd failed"
  log "etcd $ETCD_VERSION: go build"
  (cd "$src" && go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3) || die "go build of etcd failed"
  reports_version "$out/etcd" "${ETCD_VERSION#v}" || die "etcd does not report $ETCD_VERSION"
  touch "$out/.complete"
  log "etcd $ETCD_VERSION: done -> $out"
}

# --------------------------------------------------------------------------- kwok
build_kwok() {
  local out="$CACHE/kwok/$KWOK_VERSION"
  if [[ -f "$out/.complete" ]]; then log "kwok $KWOK_VERSION: cached in $out"; return; fi
  mkdir -p "$out"
  log "kwok $KWOK_VERSION: go install"
  GOBIN="$out" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" || die "go install kwok failed"
  local dir
  dir=$(cd "$CACHE/src" && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [[ -d "$dir/kustomize/stage" ]] || die "kwok module has no kustomize/stage dir ($dir)"
  rm -rf "$out/stages"; mkdir -p "$out/stages"
  # the node and pod stages kwok needs without built-ins (fast variants: Ready at once)
  local f n=0
  while IFS= read -r f; do
    cp "$f" "$out/stages/$(echo "${f#"$dir/kustomize/stage/"}" | tr / _)"; n=$((n + 1))
  done < <(find "$dir/kustomize/stage" -name '*.yaml' ! -name kustomization.yaml ! -path '*/testdata/*')
  log "kwok $KWOK_VERSION: copied $n stage files"
  touch "$out/.complete"
  log "kwok $KWOK_VERSION: done -> $out"
}

# --------------------------------------------------------------------------- pause
build_pause() {
  local out="$CACHE/pause/$PAUSE_VERSION"
  local sum
  sum=$(sha256sum "$HERE/pause/main.go" | cut -c1-16)
  if [[ -f "$out/.complete" ]] && [[ "$(cat "$out/.complete")" == "$sum" ]]; then
    log "pause $PAUSE_VERSION: cached in $out"; return
  fi
  mkdir -p "$out"
  log "pause $PAUSE_VERSION: go build"
  (cd "$HERE/pause" && go build -trimpath -ldflags "-s -w" -o "$out/pause" .) || die "go build of pause failed"
  echo "$sum" >"$out/.complete"
  log "pause $PAUSE_VERSION: done -> $out"
}

what=${1:-all}
case "$what" in
  all) build_pause; build_etcd; build_kwok; build_k8s ;;
  k8s) build_k8s ;;
  etcd) build_etcd ;;
  kwok) build_kwok ;;
  pause) build_pause ;;
  *) die "usage: build.sh [all|k8s|etcd|kwok|pause]" ;;
esac
log "finished ($what) in $(( $(date +%s) - START )) s; cache $CACHE"
