#!/usr/bin/env bash
# Makes sure a Docker engine answers on the local socket: when none does and we are root,
# start Debian's dockerd in the background (no systemd on our machines).
set -euo pipefail
log() { printf '[engine %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
if timeout 10 docker info >/dev/null 2>&1; then exit 0; fi
[ "$(id -u)" = 0 ] || { echo "engine: no Docker engine answers and we are not root to start one" >&2; exit 1; }
command -v dockerd >/dev/null || { echo "engine: dockerd is not installed (apt-get install docker.io)" >&2; exit 1; }
log "starting dockerd (log: /var/log/blink-lab-dockerd.log)"
# A dead loopback proxy: no registry can be reached anyway, and nothing may ever try (network rule).
HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY= \
  nohup dockerd >/var/log/blink-lab-dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  if timeout 5 docker info >/dev/null 2>&1; then log "dockerd is up"; exit 0; fi
  sleep 0.5
done
echo "engine: dockerd did not answer within 30 s; see /var/log/blink-lab-dockerd.log:" >&2
tail -20 /var/log/blink-lab-dockerd.log >&2
exit 1
