"""The Docker judges on canned Engine API data, including odd states."""

from __future__ import annotations

import pytest

from blinkcheck import docker_judges as dj
from blinkcheck.catalog import load_catalog
from blinkcheck.logs import LogPatterns, LogWindow, scan_lines, upgrade_lines
from blinkcheck.model import Outcome
from tests.reliability import Sees
from tests.unit.canned import SECRET, inspect

CATALOG = load_catalog()
PATTERNS = LogPatterns.from_catalog(CATALOG)


def window(*lines: str) -> LogWindow:
    return scan_lines(lines, PATTERNS, "container blink-runner (3f2a9c1b7d4e)", "last 2000 lines, since 1h")


def parse_upgrade_lines(lines: list[str]):
    return upgrade_lines(window(*lines), CATALOG.upgrade_patterns)


def test_facts_keep_env_names_never_values():
    facts = dj.container_facts(inspect())
    assert facts.env_names == ("BLINK_RUNNER_GROUP_API_KEY", "PATH", "RUNNER_MODE")
    assert SECRET not in repr(facts)


@pytest.mark.parametrize(
    ("names", "image", "expected"),
    [
        (["/blink-runner"], "whatever:1", True),
        (["/blink-runner-1.0.995"], "whatever:1", True),
        (["/my-blink-runner"], "busybox:1", False),  # prefix, not substring
        (["/runner"], "blinkops/blink-runner:1.0.994", True),
        (["/runner"], "docker.io/blinkops/blink-runner:1.0.994", True),
        (["/runner"], "blinkops/blink-runner@sha256:abc", True),
        (["/runner"], "blinkops/blink-runner-fork:1", False),
        (["/other"], "registry:5000/blinkops/blink-runner:1", False),
    ],
)
def test_is_runner(names, image, expected):
    assert dj.is_runner(names, image, "blink-runner") is expected


def test_no_runner_fails_and_names_the_host():
    f = dj.judge_container_exists([], "blink-runner", "unix:///var/run/docker.sock")
    assert f.outcome is Outcome.FAILED
    assert "unix:///var/run/docker.sock" in f.summary


def test_several_runners_listed():
    cs = [dj.container_facts(inspect("blink-runner")), dj.container_facts(inspect("blink-runner-1.0.995"))]
    f = dj.judge_container_exists(cs, "blink-runner", "h")
    assert f.outcome is Outcome.PASSED
    assert "blink-runner-1.0.995" in f.evidence[0].text


@pytest.mark.parametrize(
    ("status", "kwargs", "outcome", "words"),
    [
        ("running", {}, Outcome.PASSED, "running"),
        ("exited", {"exit_code": 1}, Outcome.FAILED, "exited with code 1"),
        ("exited", {"exit_code": 137, "oom": True}, Outcome.FAILED, "OOM-killed"),
        ("restarting", {"restarts": 4023, "exit_code": 2}, Outcome.FAILED, "restart count 4023"),
        ("paused", {}, Outcome.FAILED, "paused"),
        ("dead", {}, Outcome.FAILED, "dead"),
        ("created", {}, Outcome.FAILED, "created"),
    ],
)
def test_container_running_states(status, kwargs, outcome, words):
    c = dj.container_facts(inspect(status=status, **kwargs))
    f = dj.judge_container_running(c, window("last words"))
    assert f.outcome is outcome
    assert words in f.summary
    if outcome is Outcome.FAILED:
        titles = [e.title for e in f.evidence]
        assert "State" in titles and "Last log lines" in titles
        assert all(SECRET not in e.text for e in f.evidence)


@pytest.mark.reliability(
    "a runner container with thousands of restarts (canned API data)",
    Sees(outcomes={"docker.disconnected.container-running": "failed"},
         says={"docker.disconnected.container-running": "restarting (restart count 4023, last exit code 2)"}),
)
def test_thousands_of_restarts(sees):
    c = dj.container_facts(inspect(status="restarting", restarts=4023, exit_code=2))
    f = dj.judge_container_running(c, window("panic: cannot reach Blink"))
    sees(f)


def test_exited_leftover_beside_a_running_runner_only_warns():
    c = dj.container_facts(inspect(name="blink-runner-1.0.763", status="exited", exit_code=0))
    assert dj.judge_container_running(c, window(), others_running=True).outcome is Outcome.WARNING
    # ...but a restarting one is a live problem, whatever else runs.
    r = dj.container_facts(inspect(status="restarting"))
    assert dj.judge_container_running(r, window(), others_running=True).outcome is Outcome.FAILED


def test_logs_unreadable_fails_with_reason():
    c = dj.container_facts(inspect())
    w = LogWindow("c", "w", error='configured logging driver does not support reading')
    f = dj.judge_logs_readable(c, w)
    assert f.outcome is Outcome.FAILED and "logging driver" in f.summary


def test_socket_mounted():
    assert dj.judge_socket_mounted(dj.container_facts(inspect())).outcome is Outcome.PASSED
    f = dj.judge_socket_mounted(dj.container_facts(inspect(socket=False)))
    assert f.outcome is Outcome.FAILED and f.evidence[0].text == "(no mounts)"


CREATING = (
    'time="x" level=info msg="Creating new container with name: blink-runner-1.0.995 and configuration '
    'from container with id: 3f2a9c1b7d4e5f60718293a4b5c6d7e8f9012345678901234567890abcdef12"'
)
FOUND = (
    "Found existing container with name: blink-runner-1.0.995 already running with id: "
    "8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b"
)


def test_upgrade_lines_parsed():
    lines = parse_upgrade_lines(["noise", CREATING, FOUND])
    assert [(x.kind, x.version) for x in lines] == [("creating", "1.0.995"), ("found_existing", "1.0.995")]
    assert lines[0].container_id.startswith("3f2a9c1b7d4e")
    assert lines[1].name == "blink-runner-1.0.995"


def test_no_upgrade_lines_pass_never_fail():
    c = dj.container_facts(inspect())
    f = dj.judge_upgrade_indicators(c, window("a", "b"), [])
    assert f.outcome is Outcome.PASSED and "nothing to judge" in f.summary


def test_new_container_exited_fails_with_real_ids():
    runner = dj.container_facts(inspect())
    line = parse_upgrade_lines([CREATING])[0]
    new = dj.container_facts(inspect("blink-runner-1.0.995", status="exited", exit_code=1, cid="9" * 64))
    f = dj.judge_new_container(runner, line, new, window("fatal: cannot register"))
    assert f.outcome is Outcome.FAILED
    assert f.values["container_id"] == runner.short_id
    assert f.values["new_container_id"] == "9" * 12
    assert any("fatal: cannot register" in e.text for e in f.evidence)


def test_new_container_missing_fails():
    runner = dj.container_facts(inspect())
    line = parse_upgrade_lines([CREATING])[0]
    f = dj.judge_new_container(runner, line, None, None)
    assert f.outcome is Outcome.FAILED and "no such container" in f.summary


def test_new_container_running_passes():
    runner = dj.container_facts(inspect())
    line = parse_upgrade_lines([FOUND])[0]
    new = dj.container_facts(inspect("blink-runner-1.0.995"))
    assert dj.judge_new_container(runner, line, new, None).outcome is Outcome.PASSED


def test_daemon_unreachable_is_not_evaluable_never_healthy():
    f = dj.judge_daemon(dj.EngineFacts(False, "tcp://127.0.0.1:1", error="connection refused"))
    assert f.outcome is Outcome.NOT_EVALUABLE
    assert "connection refused" in f.summary


def test_upgrade_indicators_on_unreadable_logs_are_not_evaluable():
    c = dj.container_facts(inspect())
    w = LogWindow("c", "w", error="engine went away")
    assert dj.judge_upgrade_indicators(c, w, []).outcome is Outcome.NOT_EVALUABLE
