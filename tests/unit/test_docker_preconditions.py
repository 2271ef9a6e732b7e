"""The Docker precondition: the engine answers."""

from __future__ import annotations

from blinkcheck.docker.facts import EngineFacts
from blinkcheck.docker.preconditions import judge_daemon
from blinkcheck.model import Outcome
from tests.unit.docker_objects import shown


def test_daemon_unreachable_is_not_evaluable_never_healthy():
    f = judge_daemon("docker.host.daemon-reachable", EngineFacts(False, "tcp://127.0.0.1:1", error="connection refused"))
    assert f.outcome is Outcome.NOT_EVALUABLE
    assert "connection refused" in f.summary


def test_daemon_findings_exactly():
    up = judge_daemon("docker.host.daemon-reachable", EngineFacts(True, "unix:///var/run/docker.sock", "27.5.1", "1.47"))
    assert shown(up) == {
        "id": "docker.host.daemon-reachable", "outcome": "passed",
        "summary": "Docker engine 27.5.1 (API 1.47) answers at unix:///var/run/docker.sock.",
        "object": "unix:///var/run/docker.sock",
        "values": {"docker_host": "unix:///var/run/docker.sock", "reason": ""},
        "evidence": [], "hints": [], "because_of": "", "variant": "",
    }
    down = judge_daemon("docker.host.daemon-reachable", EngineFacts(False, "tcp://127.0.0.1:1", error="connection refused"))
    assert (down.condition_id, down.summary, down.object, dict(down.values)) == (
        "docker.host.daemon-reachable",
        "Could not reach the Docker engine at tcp://127.0.0.1:1: connection refused",
        "tcp://127.0.0.1:1",
        {"docker_host": "tcp://127.0.0.1:1", "reason": "connection refused"},
    )
