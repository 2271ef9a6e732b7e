"""The Docker host itself, read through testinfra's `host` (pytest-testinfra): the local host when the engine is the
local socket, the host behind `--docker-host ssh://…` through testinfra's ssh backend (the system `ssh`, never
prompting, as the docker CLI's ssh:// reaches it). Read-only: `stat -f` of Docker's data root, `systemctl
is-enabled/is-active docker.service`, the process list. Every command is bounded: testinfra waits for its commands
without a limit, so the backends here end a command's whole process group at --api-timeout.

Where the host cannot be looked at, `HostFacts.unavailable` says why in one line: a tcp:// engine (no shell there),
or a suite that runs somewhere else than the engine (in a container beside a mounted socket).
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
from typing import Any

from blinkcheck.docker.context import parse_ssh
from blinkcheck.docker.facts import EngineInfo, HostFacts
from blinkcheck.model import CouldNotLook

# Every command the suite runs on the Docker host (README "Read-only by default"): reads only.
READ_COMMANDS = ("uname -n", "stat -f -c ", "ps -e -o comm=", "test -d ", "systemctl is-enabled docker.service",
                 "systemctl is-active docker.service", "ps -o comm= -p 1")  # fmt: skip
TIME_SERVICES = ("chronyd", "systemd-timesyncd", "ntpd", "openntpd", "timesyncd", "ntpsec")


class HostTimeout(CouldNotLook):
    pass


def _bounded(base: type) -> type:
    """A testinfra backend whose commands end at a deadline (their process group killed), stdin closed."""

    class Bounded(base):
        timeout_s = 10.0

        def run_local(self, command: str, *args: str) -> Any:
            cmd = self.encode(self.quote(command, *args))
            proc = subprocess.Popen(cmd, shell=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
            try:
                out, err = proc.communicate(timeout=self.timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                raise HostTimeout(f"timed out: the host did not answer within {self.timeout_s:g}s") from None
            finally:
                if proc.poll() is None:  # interrupted while waiting: never leave it behind
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            return self.result(proc.returncode, cmd, out, err)

    return Bounded


def testinfra_host(docker_host: str, timeout_s: float) -> tuple[Any, str, str]:
    """(testinfra Host or None, where in words, why not)."""
    from testinfra.backend.local import LocalBackend
    from testinfra.backend.ssh import SshBackend
    from testinfra.host import Host

    if docker_host.startswith("unix://"):
        backend = _bounded(LocalBackend)()
        where = "the local host"
    elif docker_host.startswith("ssh://"):
        target = parse_ssh(docker_host)
        spec = (f"{target.user}@" if target.user else "") + target.host + (f":{target.port}" if target.port else "")
        backend = _bounded(SshBackend)(spec, timeout=max(1, math.ceil(timeout_s)), controlpersist=0,
                                       ssh_extra_args="-o BatchMode=yes -T")  # fmt: skip
        where = f"ssh://{target.shown}"
    else:
        scheme = docker_host.split("://", 1)[0]
        return None, docker_host, (
            f"the engine is reached over {scheme}://, which gives no shell on its host: the suite cannot read the "
            "host's disk, memory or services from here (run the suite on that host, or use --docker-host ssh://…)"
        )
    backend.timeout_s = timeout_s
    host = Host(backend)
    backend.set_host(host)
    return host, where, ""


def _run(host: Any, command: str, *args: str) -> Any:
    try:
        return host.run(command, *args)
    except CouldNotLook:
        raise
    except RuntimeError as exc:  # testinfra's ssh backend: ssh itself failed (exit 255)
        result = exc.args[0] if exc.args else None
        said = (getattr(result, "stderr", "") or str(exc)).strip().splitlines()
        raise CouldNotLook(f"ssh failed: {said[-1] if said else 'no reason given'}") from None


def read_host(docker_host: str, info: EngineInfo, timeout_s: float) -> HostFacts:
    """The host facts; `unavailable` when the host cannot be looked at. Raises nothing but DeadlineExceeded."""
    try:
        host, where, why = testinfra_host(docker_host, timeout_s)
    except Exception as exc:  # a malformed ssh:// address, testinfra missing
        return HostFacts(docker_host, unavailable=f"{type(exc).__name__}: {exc}")
    if host is None:
        return HostFacts(where, unavailable=why)
    try:
        return _read(host, where, info)
    except CouldNotLook as exc:  # a host the suite should be able to read, that did not answer: could not look
        return HostFacts(where, error=f"could not read the host ({where}): {exc.reason}")


def _read(host: Any, where: str, info: EngineInfo) -> HostFacts:
    name = _run(host, "uname -n").stdout.strip()
    if info.name and name and name != info.name:
        return HostFacts(where, unavailable=(
            f"{where} is '{name}', but the engine's host is '{info.name}' (the suite runs in a container or on "
            "another machine than the engine): its disk and services are not the engine's host's"))  # fmt: skip
    facts: dict[str, Any] = {"data_root": info.data_root}
    st = _run(host, "stat -f -c '%S %b %a %c %d' -- " + _quote(info.data_root or "/var/lib/docker"))
    parts = st.stdout.split()
    if st.rc == 0 and len(parts) == 5 and all(p.isdigit() for p in parts):
        bsize, blocks, avail, files, ffree = map(int, parts)
        facts.update(disk_total=bsize * blocks, disk_free=bsize * avail, inodes_total=files, inodes_free=ffree)
    else:
        facts["disk_error"] = (st.stderr.strip() or st.stdout.strip() or f"stat exited {st.rc}")[:300]
    procs = _run(host, "ps -e -o comm=")
    running = {line.strip() for line in procs.stdout.splitlines()} if procs.rc == 0 else set()
    facts["time_service"] = next((s for s in TIME_SERVICES if s in running), "")
    if _run(host, "test -d /run/systemd/system").rc == 0:  # sd_booted(): systemd is the init
        facts["systemd"] = True
        facts["service_enabled"] = _run(host, "systemctl is-enabled docker.service").stdout.strip() or "unknown"
        facts["service_active"] = _run(host, "systemctl is-active docker.service").stdout.strip() or "unknown"
    else:
        init = _run(host, "ps -o comm= -p 1")
        facts["init"] = init.stdout.strip() if init.rc == 0 else ""
    return HostFacts(where, **facts)


def _quote(path: str) -> str:
    import shlex

    return shlex.quote(path)
