#!/usr/bin/env bash
# Builds the lab's images without a registry: a rootfs (busybox-static, Debian's curl and
# its libraries, the fakerunner Go program) piped into `docker import`.
#   blinkops/blink-runner:1.0.994 / :1.0.995   runner-like (same program, two versions)
#   blink-lab/runner:1.0.994 / :1.0.995        the same, under lab names
#   blink-lab/operator:1.0.995                 simulated blink-operator
# Idempotent: skips when every tag exists and the inputs did not change (hash label).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
log() { printf '[images %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

command -v busybox >/dev/null || { echo "busybox-static is missing: apt-get install busybox-static" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is missing: apt-get install curl" >&2; exit 1; }
export PATH=$PATH:/usr/local/go/bin

inputs_hash=$( (cat "$here/build.sh" "$here"/fakerunner/*.go "$here/fakerunner/go.mod"; busybox --help | sed -n 1p; curl --version | sed -n 1p) | sha256sum | cut -c1-16)
tags=(blinkops/blink-runner:1.0.994 blinkops/blink-runner:1.0.995 blink-lab/runner:1.0.994 blink-lab/runner:1.0.995 blink-lab/operator:1.0.995)
all_there=1
for t in "${tags[@]}"; do
  have=$(docker image inspect -f '{{index .Config.Labels "blink-lab.hash"}}' "$t" 2>/dev/null || true)
  [ "$have" = "$inputs_hash" ] || all_there=0
done
if [ "$all_there" = 1 ]; then log "images up to date ($inputs_hash)"; exit 0; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{bin,usr/bin,etc,tmp,lib64,lib/x86_64-linux-gnu,etc/ssl/certs,blink,var/run}
chmod 1777 "$root/tmp"

log "building fakerunner (static Go)"
(cd "$here/fakerunner" && CGO_ENABLED=0 GOFLAGS=-trimpath go build -ldflags='-s -w' -o "$root/fakerunner" .)

log "adding busybox applets"
cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done

log "adding curl and its libraries"
cp /usr/bin/curl "$root/usr/bin/curl"
ldd /usr/bin/curl | awk '/=>/ {print $3} /ld-linux/ {print $1}' | while read -r lib; do
  [ -f "$lib" ] || continue
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
[ -d /etc/ssl/certs ] && cp -rL /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/" 2>/dev/null || true
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"

import() { # tag, cmd-json, extra env
  local tag=$1 cmd=$2; shift 2
  local changes=(--change "CMD $cmd" --change "ENV PATH=/bin:/usr/bin" --change "LABEL blink-lab.hash=$inputs_hash")
  for e in "$@"; do changes+=(--change "ENV $e"); done
  tar -C "$root" -c . | docker import "${changes[@]}" - "$tag" >/dev/null
  log "imported $tag"
}
import blinkops/blink-runner:1.0.994 '["/fakerunner","runner"]' RUNNER_VERSION=1.0.994
import blinkops/blink-runner:1.0.995 '["/fakerunner","runner"]' RUNNER_VERSION=1.0.995
docker tag blinkops/blink-runner:1.0.994 blink-lab/runner:1.0.994
docker tag blinkops/blink-runner:1.0.995 blink-lab/runner:1.0.995
import blink-lab/operator:1.0.995 '["/fakerunner","operator"]' TARGET_VERSION=1.0.995
log "done"
