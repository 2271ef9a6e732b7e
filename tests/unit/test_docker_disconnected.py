"""The Runner Disconnected judges on Docker: the container exists, runs, its logs are readable."""

from __future__ import annotations

import pytest

from blinkcheck.docker.disconnected import judge_container_exists, judge_container_running, judge_logs_readable
from blinkcheck.docker.facts import container_facts, state_table
from blinkcheck.docker.upgrade import judge_upgrade_indicators
from blinkcheck.logs.scan import LogWindow, scan_lines
from blinkcheck.model import Outcome
from tests.reliability import Sees
from tests.unit.canned import SECRET, inspect
from tests.unit.docker_objects import PATTERNS, RUNNER, shown, window


def test_no_runner_fails_and_names_the_host():
    f = judge_container_exists("docker.disconnected.container-exists", [], "blink-runner", "unix:///var/run/docker.sock")
    assert f.outcome is Outcome.FAILED
    assert "unix:///var/run/docker.sock" in f.summary


def test_several_runners_listed():
    cs = [container_facts(inspect("blink-runner")), container_facts(inspect("blink-runner-1.0.995"))]
    f = judge_container_exists("docker.disconnected.container-exists", cs, "blink-runner", "h")
    assert f.outcome is Outcome.PASSED
    assert "blink-runner-1.0.995" in f.evidence[0].text


@pytest.mark.parametrize(
    ("scenario", "outcome", "words"),
    [("healthy", Outcome.PASSED, "is running (restarts: 0)."), ("runner-exited", Outcome.FAILED, "is exited with code 1 at ")],
)
def test_container_running_on_the_labs_own_containers(scenario, outcome, words):
    """The lab's recorded `docker inspect` and logs (tests/data/docker): the same objects a lab test sees."""
    from tests.unit import recorded

    s = recorded.docker(scenario)
    c = s.runners[0]
    f = judge_container_running("docker.disconnected.container-running", c, None if c.status == "running" else s.window(c))
    assert f.outcome is outcome and words in f.summary
    if outcome is Outcome.FAILED:
        assert [e.title for e in f.evidence] == ["State", "Last log lines", "Environment variable names (values withheld)"]
        assert "BLINK_RUNNER_GROUP_API_KEY" in f.evidence[-1].text and "[REDACTED]" not in f.evidence[-1].text


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
    c = container_facts(inspect(status=status, **kwargs))
    f = judge_container_running("docker.disconnected.container-running", c, window("last words"))
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
    c = container_facts(inspect(status="restarting", restarts=4023, exit_code=2))
    f = judge_container_running("docker.disconnected.container-running", c, window("panic: cannot reach Blink"))
    sees(f)


def test_exited_leftover_beside_a_running_runner_only_warns():
    c = container_facts(inspect(name="blink-runner-1.0.763", status="exited", exit_code=0))
    assert judge_container_running("docker.disconnected.container-running", c, window(), others_running=True).outcome is Outcome.WARNING
    # ...but a restarting one is a live problem, whatever else runs.
    r = container_facts(inspect(status="restarting"))
    assert judge_container_running("docker.disconnected.container-running", r, window(), others_running=True).outcome is Outcome.FAILED


def test_logs_unreadable_fails_with_reason():
    c = container_facts(inspect())
    w = LogWindow("c", "w", error='configured logging driver does not support reading')
    f = judge_logs_readable("docker.disconnected.logs-readable", c, w)
    assert f.outcome is Outcome.FAILED and "logging driver" in f.summary


def test_container_exists_findings_exactly():
    none = judge_container_exists("docker.disconnected.container-exists", [], "blink-runner", "unix:///var/run/docker.sock")
    assert (none.summary, none.object, dict(none.values), none.evidence) == (
        "No container named blink-runner* or from image blinkops/blink-runner on unix:///var/run/docker.sock "
        "(docker ps -a).",
        "unix:///var/run/docker.sock",
        {"runner_name": "blink-runner", "docker_host": "unix:///var/run/docker.sock"},
        (),
    )
    cs = [container_facts(inspect("blink-runner")), container_facts(inspect("blink-runner-1.0.995", cid="9" * 64))]
    found = judge_container_exists("docker.disconnected.container-exists", cs, "blink-runner", "h")
    assert found.summary == "Found 2 runner container(s): blink-runner, blink-runner-1.0.995."
    assert dict(found.values) == {"runner_name": "blink-runner", "docker_host": "h", "container_id": "3f2a9c1b7d4e",
                                  "container_name": "blink-runner"}
    assert [(e.title, e.source, e.text) for e in found.evidence] == [
        ("docker ps -a (runner containers)", "", state_table(cs))]
    assert found.object == "h"


def test_a_stopped_runner_shows_state_error_last_lines_and_env_names():
    raw = inspect(status="exited", exit_code=1)
    raw["State"]["Error"] = "error mounting /etc/blink"
    c = container_facts(raw)
    f = judge_container_running("docker.disconnected.container-running", c, window("2026-11-28T10:59:59Z fatal: no config"))
    assert shown(f) == {
        "id": "docker.disconnected.container-running", "outcome": "failed",
        "summary": f"{RUNNER} is exited with code 1 at 2026-11-28T11:00:00Z.",
        "object": RUNNER,
        "values": {"container_id": "3f2a9c1b7d4e", "container_name": "blink-runner",
                   "state": "exited with code 1 at 2026-11-28T11:00:00Z"},
        "evidence": [
            ("State", RUNNER, state_table([c])),
            ("Engine error", RUNNER, "error mounting /etc/blink"),
            ("Last log lines", "container blink-runner (3f2a9c1b7d4e), last 2000 lines, since 1h",
             "2026-11-28T10:59:59Z  fatal: no config"),
            ("Environment variable names (values withheld)", "", "BLINK_RUNNER_GROUP_API_KEY, PATH, RUNNER_MODE"),
        ],
        "hints": [], "because_of": "", "variant": "",
    }
    # No window (the logs could not be read): the other evidence stays.
    assert [e.title for e in judge_container_running("docker.disconnected.container-running", c, None).evidence] == [
        "State", "Engine error", "Environment variable names (values withheld)"]
    running = judge_container_running("docker.disconnected.container-running", container_facts(inspect(restarts=2)), None)
    assert (running.summary, running.evidence) == (f"{RUNNER} is running (restarts: 2).", ())
    assert dict(running.values) == {"container_id": "3f2a9c1b7d4e", "container_name": "blink-runner", "state": "running"}


@pytest.mark.parametrize(
    ("status", "others", "outcome"),
    [
        ("exited", True, Outcome.WARNING),
        ("created", True, Outcome.WARNING),
        ("dead", True, Outcome.WARNING),
        ("exited", False, Outcome.FAILED),
        ("paused", True, Outcome.FAILED),
        ("restarting", True, Outcome.FAILED),
    ],
)
def test_only_a_stopped_leftover_beside_a_running_runner_is_a_warning(status, others, outcome):
    f = judge_container_running("docker.disconnected.container-running", container_facts(inspect(status=status)), None, others_running=others)
    assert f.outcome is outcome
    left_over = "; another runner container is running, so this one is probably left over."
    assert f.summary.endswith(left_over if outcome is Outcome.WARNING else ".")
    assert left_over not in f.summary or outcome is Outcome.WARNING


def test_logs_readable_findings_exactly():
    c = container_facts(inspect())
    ok = judge_logs_readable("docker.disconnected.logs-readable", c, window("a", "b", "c"))
    assert shown(ok) == {
        "id": "docker.disconnected.logs-readable", "outcome": "passed",
        "summary": f"Read 3 log lines of {RUNNER} (last 2000 lines, since 1h).",
        "object": RUNNER,
        "values": {"container_id": "3f2a9c1b7d4e", "container_name": "blink-runner",
                   "log_window": "last 2000 lines, since 1h", "reason": ""},
        "evidence": [], "hints": [], "because_of": "", "variant": "",
    }
    part = judge_logs_readable("docker.disconnected.logs-readable", c, scan_lines(["a"], PATTERNS, "s", "w", cut="the read did not finish within 120s"))
    assert part.outcome is Outcome.WARNING
    assert part.summary == f"Read 1 log lines of {RUNNER} (w), but not to the newest line: the read did not finish within 120s."
    assert part.values["reason"] == "the read did not finish within 120s" and part.values["log_window"] == "w"
    bad = judge_logs_readable("docker.disconnected.logs-readable", c, LogWindow("c", "w", error="configured logging driver does not support reading"))
    assert bad.summary == f"Could not read the logs of {RUNNER}: configured logging driver does not support reading"
    assert bad.values["reason"] == "configured logging driver does not support reading" and bad.object == RUNNER
    assert bad.condition_id == "docker.disconnected.logs-readable"


def test_findings_name_their_container_in_every_branch():
    c = container_facts(inspect())
    cut = scan_lines(["a"], PATTERNS, "s", "w", cut="stopped early")
    for f in (judge_logs_readable("docker.disconnected.logs-readable", c, cut), judge_upgrade_indicators("docker.upgrade.indicators", c, cut, []),
              judge_upgrade_indicators("docker.upgrade.indicators", c, LogWindow("c", "w", error="gone"), [])):  # fmt: skip
        assert f.object == RUNNER and dict(f.values)["container_name"] == "blink-runner"
    assert judge_logs_readable("docker.disconnected.logs-readable", c, cut).condition_id == "docker.disconnected.logs-readable"
    assert {judge_upgrade_indicators("docker.upgrade.indicators", c, cut, []).condition_id,
            judge_upgrade_indicators("docker.upgrade.indicators", c, LogWindow("c", "w", error="gone"), []).condition_id} == {
        "docker.upgrade.indicators"}  # fmt: skip
