#!/usr/bin/env bash
# Builds the suite's container image without any registry (README "The container image"):
#   bash scripts/build-image.sh            # -> blink-runner-checks:<version> in the local Docker engine
#   bash scripts/build-image.sh --lock     # re-pin deploy/image/requirements.txt from .venv, then stop
#
# Two stages, each cached:
#   1. the base (`blink-runner-checks-base:<key>`): a Debian 12 root filesystem made by mmdebstrap from
#      Debian's packages (python3, python3-venv, ca-certificates) with the pinned Python packages of
#      deploy/image/requirements.txt installed from wheels into /opt/venv, `docker import`ed.
#      Rebuilt only when its inputs change (its recipe below, the lock file, the mirrors).
#   2. the suite on top (deploy/image/Dockerfile, `docker build --network none`): the checks, their
#      catalog and the entrypoint, user 10001; Docker's own layer cache makes a rebuild take seconds.
# Environment: BLINK_IMAGE (tag), BLINK_IMAGE_MIRROR / BLINK_IMAGE_SECURITY_MIRROR (Debian mirrors;
# default deb.debian.org as apt uses), BLINK_IMAGE_CACHE (wheels; default /var/cache/blink-checks-image),
# SOURCE_DATE_EPOCH (the base's file times; default the lock file's last commit).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
log() { printf '[image %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
lock=$top/deploy/image/requirements.txt
python=$top/.venv/bin/python
[ -x "$python" ] || python=python3

if [ "${1:-}" = "--lock" ]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  "$python" -c 'import tomllib,sys; print("\n".join(tomllib.load(open(sys.argv[1],"rb"))["project"]["dependencies"]))' \
    "$top/pyproject.toml" >"$tmp/deps.txt"
  "$python" -m pip freeze --exclude-editable | grep -v '^#' >"$tmp/constraints.txt"
  "$python" -m pip install -q --dry-run --ignore-installed --report "$tmp/report.json" -r "$tmp/deps.txt" -c "$tmp/constraints.txt"
  { sed -n '1,2p' "$lock"
    "$python" -c 'import json,sys
r = json.load(open(sys.argv[1]))
for i in sorted(r["install"], key=lambda i: i["metadata"]["name"].lower()):
    print(i["metadata"]["name"] + "==" + i["metadata"]["version"])' "$tmp/report.json"; } >"$tmp/lock.txt"
  mv "$tmp/lock.txt" "$lock"
  log "pinned $(grep -c '==' "$lock") packages in $lock"
  exit 0
fi

command -v mmdebstrap >/dev/null || { echo "build-image: mmdebstrap is missing: apt-get install mmdebstrap (scripts/setup.sh does)" >&2; exit 1; }
timeout 10 docker info >/dev/null 2>&1 || { echo "build-image: no Docker engine answers (bash scripts/engine.sh)" >&2; exit 1; }

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$top/pyproject.toml")
image=${BLINK_IMAGE:-blink-runner-checks:$version}
mirror=${BLINK_IMAGE_MIRROR:-http://deb.debian.org/debian}
security=${BLINK_IMAGE_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
cache=${BLINK_IMAGE_CACHE:-/var/cache/blink-checks-image}
packages=python3,python3-venv,ca-certificates
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct -- deploy/image/requirements.txt 2>/dev/null || echo 0)}
[ -n "$SOURCE_DATE_EPOCH" ] || SOURCE_DATE_EPOCH=0

wheels=$cache/wheels-$(sha256sum "$lock" | cut -c1-16)
# The base's recipe; its key is the hash of the recipe and the pins (editing the rest of this script keeps the base).
# shellcheck disable=SC2016 # the hooks' "$1" is mmdebstrap's (the root filesystem), not ours
recipe=(--mode=root --variant=essential --include="$packages"
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/locale/*'
  --customize-hook='mkdir -p "$1"/tmp/wheels' --customize-hook="sync-in $wheels /tmp/wheels"
  --customize-hook='chroot "$1" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c "python3 -m venv /opt/venv && /opt/venv/bin/pip install -q --no-index --no-cache-dir --find-links /tmp/wheels -r /tmp/wheels/requirements.txt && /opt/venv/bin/pip uninstall -q -y pip setuptools"'
  --customize-hook='rm -rf "$1"/tmp/wheels "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*'
  --customize-hook='echo "blinkcheck:x:10001:10001:Blink runner checks:/tmp:/usr/sbin/nologin" >>"$1"/etc/passwd'
  --customize-hook='echo "blinkcheck:x:10001:" >>"$1"/etc/group'
  --customize-hook='mkdir -p "$1"/reports && chown 10001:10001 "$1"/reports && chmod 0750 "$1"/reports'
  bookworm)
sources=("deb $mirror bookworm main" "deb $mirror bookworm-updates main" "deb $security bookworm-security main")
base_key=$( (cat "$lock"; printf '%s\n' "${recipe[@]}" "${sources[@]}") | sha256sum | cut -c1-16)
base=blink-runner-checks-base:$base_key
started=$(date +%s)

if docker image inspect "$base" >/dev/null 2>&1; then
  log "base $base is there (cached)"
else
  if [ ! -f "$wheels/.complete" ]; then
    log "downloading the pinned wheels into $wheels"
    rm -rf "$wheels"; mkdir -p "$wheels"
    "$python" -m pip download -q --only-binary=:all: --no-deps --python-version 3.11 -r "$lock" -d "$wheels"
    touch "$wheels/.complete"
  fi
  cp "$lock" "$wheels/requirements.txt"
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  log "making the Debian 12 root filesystem (mmdebstrap: $packages from $mirror)"
  mmdebstrap --quiet "${recipe[@]}" "$work/base.tar" "${sources[@]}"
  log "importing $base"
  docker import --change "LABEL blink-runner-checks.base=$base_key" "$work/base.tar" "$base" >/dev/null
  rm -rf "$work"; trap - EXIT
  for old in $(docker images --format '{{.Repository}}:{{.Tag}}' blink-runner-checks-base); do
    [ "$old" = "$base" ] || docker rmi "$old" >/dev/null 2>&1 || true   # an older base of ours, if nothing uses it
  done
fi

ctx=$(mktemp -d); trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/suite"
(cd "$top" && tar -c --exclude=__pycache__ blinkcheck checks fixtures conftest.py pyproject.toml) | tar -x -C "$ctx/suite"
cp "$top/deploy/image/entrypoint.sh" "$ctx/suite/entrypoint.sh"
find "$ctx/suite" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
log "building $image on $base"
if ! out=$(docker build -q --network none --build-arg "BASE=$base" -f "$top/deploy/image/Dockerfile" -t "$image" "$ctx" 2>&1)
then
  printf '%s\n' "$out" >&2; exit 1
fi
# earlier builds of ours, now untagged (every image of ours carries the base's label; nothing else is touched)
docker image prune -f --filter "label=blink-runner-checks.base" >/dev/null
log "built $image in $(( $(date +%s) - started )) s"
