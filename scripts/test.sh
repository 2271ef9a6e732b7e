#!/usr/bin/env bash
# The project's tests: lint and types, unit tests, then integration tests against the real Docker
# engine (Docker lab) and the lab Kubernetes cluster (built from upstream sources on first use,
# cached after, always torn down). Usage: bash scripts/test.sh [extra pytest args]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
log() { printf '[test %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
case "${CI:-}" in true|1|yes)
  if [ "${BLINK_LAB_K8S:-on}" = off ]; then
    log "CI=true: BLINK_LAB_K8S=off would skip every Kubernetes test; under CI they all run"
    exit 1
  fi;;
esac
bash scripts/setup.sh

log "ruff and mypy"
.venv/bin/ruff check .
.venv/bin/mypy

log "mutation testing, CI-sized (docs/mutation.md): the named plausible bugs, then mutmut on a few modules"
.venv/bin/python -m tests.mutation named
.venv/bin/python -m tests.mutation ci

paths=(tests/)
k8s_up=0
if [ "${BLINK_LAB_K8S:-on}" != off ] && [ -f lab/k8s/__main__.py ]; then
  log "bringing up the lab Kubernetes cluster (first run builds it: see lab/k8s/build.sh)"
  trap '.venv/bin/python -m lab.k8s down >/dev/null 2>&1 || true; .venv/bin/python -m lab.docker down >/dev/null 2>&1 || true' EXIT
  .venv/bin/python -m lab.k8s up
  k8s_up=1
  [ -d lab/k8s/tests ] && paths+=(lab/k8s/tests/)
else
  trap '.venv/bin/python -m lab.docker down >/dev/null 2>&1 || true' EXIT
fi

log "pytest ${paths[*]}"
set +e
BLINK_LAB_K8S_UP=$k8s_up .venv/bin/pytest "${paths[@]}" -q -rs "$@"
code=$?
set -e
# pytest's exit 5 ("no tests collected") is a failure here, like every other non-zero code.
[ "$code" = 0 ] || log "pytest exited $code"
exit "$code"
