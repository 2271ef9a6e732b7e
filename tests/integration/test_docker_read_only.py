"""Read-only by default, provably: record every Docker API call the suite makes on the real engine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from blinkcheck.docker.gather import PROBE_CALLS, READ_CALLS
from lab.docker import scenarios as lab
from tests.faultproxy import FaultProxy, Rule
from tests.harness import run_checks

pytestmark = pytest.mark.docker_lab

BASE = ["--target", "docker", "--blink-url", lab.BLINK_URL, "--probe-timeout", "4"]


def recorded_calls(tmp_path: Path, *args: str, scenario: str = "upgrade-failed", remote: bool = False) -> list[str]:
    """Every call, through a proxy of ours: a unix socket (the engine's own host) or a loopback port (remote)."""
    lab.up(scenario)
    calls: list[str] = []
    proxy = FaultProxy(None if remote else tmp_path / "docker.sock").start()
    proxy.rules.append(Rule(r"^[A-Z]+ \S+", before=lambda m: calls.append(m.group(0))))
    try:
        run = run_checks(*BASE, "--docker-host", proxy.url, *args, report_dir=tmp_path / "r")
    finally:
        proxy.stop()
        lab.down()
    assert run.exit_code in (0, 1), run.stdout[-2000:]
    assert calls, "nothing went through the proxy"
    return calls


def shape(call: str, probe_ids: set[str]) -> str:
    """`GET /v1.41/containers/3f2a.../logs?tail=2000` -> `GET /containers/{id}/logs`."""
    method, path = call.split(" ", 1)
    path = re.sub(r"^/v[\d.]+", "", path.split("?", 1)[0])
    for pid in probe_ids:
        path = path.replace(pid, "{probe}")
    path = re.sub(r"^/containers/(?!json$|create$|\{probe\})[^/]+", "/containers/{id}", path)
    path = re.sub(r"^/images/.+/json$", "/images/{name}/json", path)
    return f"{method} {path}"


def test_probe_off_makes_only_reads(tmp_path):
    calls = recorded_calls(tmp_path, "--probe", "off")
    shapes = {shape(c, set()) for c in calls}
    assert shapes <= set(READ_CALLS), shapes - set(READ_CALLS)
    assert all(c.startswith(("GET ", "HEAD ")) for c in calls), calls


def test_probe_on_the_engines_host_makes_only_reads(tmp_path):
    """The default on the engine's host: the suite enters the runner's namespace itself; nothing is created."""
    calls = recorded_calls(tmp_path, scenario="healthy")
    shapes = {shape(c, set()) for c in calls}
    assert shapes <= set(READ_CALLS), shapes - set(READ_CALLS)
    assert all(c.startswith(("GET ", "HEAD ")) for c in calls), calls


def test_probe_on_a_remote_engine_writes_only_its_own_container(tmp_path):
    calls = recorded_calls(tmp_path, scenario="healthy", remote=True)
    creates = [c for c in calls if "/containers/create" in c]
    # one for the egress probe to Blink's URL, one for Blink's readiness asked from the runner's namespace
    # (docker.blink.ready; asked only because the first reached Blink)
    assert len(creates) == 2, calls
    # Ids of the probe containers: whatever was started, waited for and deleted.
    probe_ids = {m.group(1) for c in calls if (m := re.search(r"/containers/([0-9a-f]{12,64})/(?:start|wait)", c))}
    writes = [c for c in calls if not c.startswith(("GET ", "HEAD "))]
    assert all(shape(c, probe_ids) in PROBE_CALLS for c in writes), writes
    shapes = {shape(c, probe_ids) for c in calls}
    assert shapes <= set(READ_CALLS) | set(PROBE_CALLS), shapes - set(READ_CALLS) - set(PROBE_CALLS)
