#!/usr/bin/env bash
# One-time (idempotent) set-up on a fresh Debian 12 machine, as root:
#   Debian packages (docker.io, containerd, busybox-static, curl, iptables, CNI plugins, mmdebstrap for the
#   image of scripts/build-image.sh, shellcheck, openssh-server), actionlint (Go) into .venv/bin,
#   a running Docker engine, the virtualenv at .venv with the project installed, the lab images.
# Sourced or run by scripts/demo.sh and scripts/test.sh; safe to run again.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

need_pkgs=()
for p in python3 python3-venv docker.io containerd busybox-static curl iptables containernetworking-plugins chromium mmdebstrap shellcheck; do
  dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "setup: missing Debian packages ${need_pkgs[*]}; run as root or install them" >&2; exit 1; }
  log "installing Debian packages: ${need_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

# The ssh:// tests start their own sshd on a loopback port (never the machine's ssh service): install
# openssh-server without letting the package start or enable that service.
if ! dpkg -s openssh-server >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "setup: missing Debian package openssh-server; run as root or install it" >&2; exit 1; }
  log "installing openssh-server (its service is not started)"
  policy=/usr/sbin/policy-rc.d made_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null || { [ -z "$made_policy" ] || rm -f "$policy"; exit 1; }
  [ -z "$made_policy" ] || rm -f "$policy"
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true
  fi
fi

# Go builds the lab's programs (and the Kubernetes lab from upstream modules). Our machines come with
# Go 1.26 at /usr/local/go; Debian's golang (1.19) is too old for kwok and Kubernetes 1.34.
export PATH="$PATH:/usr/local/go/bin"
go_minor=$(go env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
if [ -z "$go_minor" ] || [ "$go_minor" -lt 26 ]; then
  echo "setup: Go >= 1.26 is needed at /usr/local/go/bin or on PATH (found: $(go env GOVERSION 2>/dev/null || echo none))" >&2
  exit 1
fi

bash "$top/scripts/engine.sh"

if [ ! -x "$top/.venv/bin/python" ]; then
  log "creating virtualenv .venv"
  python3 -m venv "$top/.venv"
fi
stamp="$top/.venv/.installed-$(sha256sum "$top/pyproject.toml" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  log "installing the project into .venv"
  "$top/.venv/bin/pip" install -q --upgrade pip >/dev/null
  "$top/.venv/bin/pip" install -q -e "$top[dev,lab]"
  rm -f "$top"/.venv/.installed-*
  touch "$stamp"
fi

# actionlint lints the GitHub Actions template (tests/unit/test_deploy_templates.py): built from the Go module proxy.
actionlint_version=v1.7.12
if [ "$("$top/.venv/bin/actionlint" -version 2>/dev/null | sed -n 1p)" != "$actionlint_version" ]; then
  log "installing actionlint $actionlint_version into .venv/bin (go install)"
  GOBIN="$top/.venv/bin" go install "github.com/rhysd/actionlint/cmd/actionlint@$actionlint_version"
fi

bash "$top/lab/images/build.sh"
log "ready"
