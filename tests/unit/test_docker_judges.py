"""The Docker judges on canned Engine API data, including odd states."""

from __future__ import annotations

from dataclasses import replace

import pytest

from blinkcheck.catalog import load_catalog
from blinkcheck.docker.deployment import judge_socket_mounted
from blinkcheck.docker.disconnected import judge_container_exists, judge_container_running, judge_logs_readable
from blinkcheck.docker.facts import ContainerFacts, EngineFacts, container_facts, describe_state, is_runner, state_table
from blinkcheck.docker.preconditions import judge_daemon
from blinkcheck.docker.upgrade import judge_new_container, judge_not_a_runner, judge_upgrade_indicators
from blinkcheck.logs.judge import upgrade_lines
from blinkcheck.logs.scan import LogPatterns, LogWindow, scan_lines
from blinkcheck.model import Outcome, manual_blink_status
from tests.reliability import Sees
from tests.unit.canned import SECRET, inspect

CATALOG = load_catalog()
PATTERNS = LogPatterns.from_catalog(CATALOG)


def window(*lines: str) -> LogWindow:
    return scan_lines(lines, PATTERNS, "container blink-runner (3f2a9c1b7d4e)", "last 2000 lines, since 1h")


def parse_upgrade_lines(lines: list[str]):
    return upgrade_lines(window(*lines), CATALOG.upgrade_patterns)


def test_facts_keep_env_names_never_values():
    facts = container_facts(inspect())
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
    assert is_runner(names, image, "blink-runner") is expected


def test_no_runner_fails_and_names_the_host():
    f = judge_container_exists([], "blink-runner", "unix:///var/run/docker.sock")
    assert f.outcome is Outcome.FAILED
    assert "unix:///var/run/docker.sock" in f.summary


def test_several_runners_listed():
    cs = [container_facts(inspect("blink-runner")), container_facts(inspect("blink-runner-1.0.995"))]
    f = judge_container_exists(cs, "blink-runner", "h")
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
    f = judge_container_running(c, None if c.status == "running" else s.window(c))
    assert f.outcome is outcome and words in f.summary
    if outcome is Outcome.FAILED:
        assert [e.title for e in f.evidence] == ["State", "Last log lines", "Environment variable names (values withheld)"]
        assert "BLINK_RUNNER_GROUP_API_KEY" in f.evidence[-1].text and "[REDACTED]" not in f.evidence[-1].text


# Hand-made inspects (tests/unit/canned.py) for what the lab cannot produce: an OOM kill, thousands of restarts,
# paused, dead and created containers.
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
    f = judge_container_running(c, window("last words"))
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
    f = judge_container_running(c, window("panic: cannot reach Blink"))
    sees(f)


def test_exited_leftover_beside_a_running_runner_only_warns():
    c = container_facts(inspect(name="blink-runner-1.0.763", status="exited", exit_code=0))
    assert judge_container_running(c, window(), others_running=True).outcome is Outcome.WARNING
    # ...but a restarting one is a live problem, whatever else runs.
    r = container_facts(inspect(status="restarting"))
    assert judge_container_running(r, window(), others_running=True).outcome is Outcome.FAILED


def test_logs_unreadable_fails_with_reason():
    c = container_facts(inspect())
    w = LogWindow("c", "w", error='configured logging driver does not support reading')
    f = judge_logs_readable(c, w)
    assert f.outcome is Outcome.FAILED and "logging driver" in f.summary


def test_socket_mounted():
    assert judge_socket_mounted(container_facts(inspect())).outcome is Outcome.PASSED
    f = judge_socket_mounted(container_facts(inspect(socket=False)))
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
    c = container_facts(inspect())
    f = judge_upgrade_indicators(c, window("a", "b"), [])
    assert f.outcome is Outcome.PASSED and "nothing to judge" in f.summary


def test_new_container_exited_fails_with_real_ids():
    runner = container_facts(inspect())
    line = parse_upgrade_lines([CREATING])[0]
    new = container_facts(inspect("blink-runner-1.0.995", status="exited", exit_code=1, cid="9" * 64))
    f = judge_new_container(runner, line, new, window("fatal: cannot register"))
    assert f.outcome is Outcome.FAILED
    assert f.values["container_id"] == runner.short_id
    assert f.values["new_container_id"] == "9" * 12
    assert any("fatal: cannot register" in e.text for e in f.evidence)


def test_new_container_missing_fails():
    runner = container_facts(inspect())
    line = parse_upgrade_lines([CREATING])[0]
    f = judge_new_container(runner, line, None, None)
    assert f.outcome is Outcome.FAILED and "no such container" in f.summary


def test_new_container_running_passes():
    runner = container_facts(inspect())
    line = parse_upgrade_lines([FOUND])[0]
    new = container_facts(inspect("blink-runner-1.0.995"))
    assert judge_new_container(runner, line, new, None).outcome is Outcome.PASSED


def test_daemon_unreachable_is_not_evaluable_never_healthy():
    f = judge_daemon(EngineFacts(False, "tcp://127.0.0.1:1", error="connection refused"))
    assert f.outcome is Outcome.NOT_EVALUABLE
    assert "connection refused" in f.summary


def test_upgrade_indicators_on_unreadable_logs_are_not_evaluable():
    c = container_facts(inspect())
    w = LogWindow("c", "w", error="engine went away")
    assert judge_upgrade_indicators(c, w, []).outcome is Outcome.NOT_EVALUABLE


# ------------------------------------------------------------------ whole findings, exactly (what the report shows)


def shown(f) -> dict:
    """Everything a finding carries into the report, for exact comparison."""
    return {
        "id": f.condition_id,
        "outcome": str(f.outcome),
        "summary": f.summary,
        "object": f.object,
        "values": dict(f.values),
        "evidence": [(e.title, e.source, e.text) for e in f.evidence],
        "hints": list(f.hints),
        "because_of": f.because_of,
        "variant": f.variant,
    }


RUNNER = "container blink-runner (3f2a9c1b7d4e)"


def test_container_facts_read_every_field_of_the_inspect():
    raw = inspect(status="restarting", exit_code=2, oom=True, restarts=7)
    raw["State"]["Error"] = "OCI runtime create failed"
    raw["Config"]["Tty"] = True
    raw["HostConfig"]["LogConfig"]["Type"] = "local"
    raw["Mounts"].append({"Type": "volume", "Source": "/var/lib/docker/volumes/x", "Destination": "/data"})
    assert container_facts(raw) == ContainerFacts(
        id="3f2a9c1b7d4e" + "0" * 52,
        name="blink-runner",
        image="blinkops/blink-runner:1.0.994",
        status="restarting",
        exit_code=2,
        oom_killed=True,
        restart_count=7,
        started_at="2026-11-28T10:00:00Z",
        finished_at="2026-11-28T11:00:00Z",
        error="OCI runtime create failed",
        env_names=("BLINK_RUNNER_GROUP_API_KEY", "PATH", "RUNNER_MODE"),
        mounts=(("/var/run/docker.sock", "/var/run/docker.sock"), ("/var/lib/docker/volumes/x", "/data")),
        log_driver="local",
        tty=True,
    )


def test_container_facts_of_a_sparse_inspect():
    """An engine that leaves fields out (older API versions, a container being removed): defaults, no crash."""
    assert container_facts({}) == ContainerFacts(id="", name="", image="", status="unknown")
    running = container_facts({"State": {"Running": True}, "Mounts": [{}]})
    assert running.status == "running" and running.mounts == (("", ""),) and running.tty is False
    assert container_facts({"State": {"Status": "exited", "Running": True}}).status == "exited"


def test_state_table_lines_up_and_shows_finished_only_when_not_running():
    a = container_facts(inspect("blink-runner", status="exited", exit_code=137, oom=True, restarts=3))
    b = container_facts(inspect("blink-runner-1.0.995", cid="9" * 64))
    assert state_table([a, b]).splitlines() == [
        "CONTAINER ID  NAME                  IMAGE                          STATUS   EXIT  OOM  RESTARTS  FINISHED" + " " * 12,
        "3f2a9c1b7d4e  blink-runner          blinkops/blink-runner:1.0.994  exited   137   yes  3         2026-11-28T11:00:00Z",
        "999999999999  blink-runner-1.0.995  blinkops/blink-runner:1.0.994  running  0     no   0         " + " " * 20,
    ]


def test_daemon_findings_exactly():
    up = judge_daemon(EngineFacts(True, "unix:///var/run/docker.sock", "27.5.1", "1.47"))
    assert shown(up) == {
        "id": "docker.host.daemon-reachable", "outcome": "passed",
        "summary": "Docker engine 27.5.1 (API 1.47) answers at unix:///var/run/docker.sock.",
        "object": "unix:///var/run/docker.sock",
        "values": {"docker_host": "unix:///var/run/docker.sock", "reason": ""},
        "evidence": [], "hints": [], "because_of": "", "variant": "",
    }
    down = judge_daemon(EngineFacts(False, "tcp://127.0.0.1:1", error="connection refused"))
    assert (down.condition_id, down.summary, down.object, dict(down.values)) == (
        "docker.host.daemon-reachable",
        "Could not reach the Docker engine at tcp://127.0.0.1:1: connection refused",
        "tcp://127.0.0.1:1",
        {"docker_host": "tcp://127.0.0.1:1", "reason": "connection refused"},
    )


def test_container_exists_findings_exactly():
    none = judge_container_exists([], "blink-runner", "unix:///var/run/docker.sock")
    assert (none.summary, none.object, dict(none.values), none.evidence) == (
        "No container named blink-runner* or from image blinkops/blink-runner on unix:///var/run/docker.sock "
        "(docker ps -a).",
        "unix:///var/run/docker.sock",
        {"runner_name": "blink-runner", "docker_host": "unix:///var/run/docker.sock"},
        (),
    )
    cs = [container_facts(inspect("blink-runner")), container_facts(inspect("blink-runner-1.0.995", cid="9" * 64))]
    found = judge_container_exists(cs, "blink-runner", "h")
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
    f = judge_container_running(c, window("2026-11-28T10:59:59Z fatal: no config"))
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
    assert [e.title for e in judge_container_running(c, None).evidence] == [
        "State", "Engine error", "Environment variable names (values withheld)"]
    running = judge_container_running(container_facts(inspect(restarts=2)), None)
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
    f = judge_container_running(container_facts(inspect(status=status)), None, others_running=others)
    assert f.outcome is outcome
    left_over = "; another runner container is running, so this one is probably left over."
    assert f.summary.endswith(left_over if outcome is Outcome.WARNING else ".")
    assert left_over not in f.summary or outcome is Outcome.WARNING


def test_describe_state_of_each_engine_state():
    exited = container_facts(inspect(status="exited", exit_code=137, oom=True))
    assert describe_state(exited) == "exited with code 137 (OOM-killed) at 2026-11-28T11:00:00Z"
    assert describe_state(ContainerFacts("i", "n", "img", "exited", exit_code=3)) == "exited with code 3"
    restarting = container_facts(inspect(status="restarting", restarts=12, exit_code=2))
    assert describe_state(restarting) == "restarting (restart count 12, last exit code 2)"
    assert describe_state(container_facts(inspect(status="paused"))) == "paused"


def test_logs_readable_findings_exactly():
    c = container_facts(inspect())
    ok = judge_logs_readable(c, window("a", "b", "c"))
    assert shown(ok) == {
        "id": "docker.disconnected.logs-readable", "outcome": "passed",
        "summary": f"Read 3 log lines of {RUNNER} (last 2000 lines, since 1h).",
        "object": RUNNER,
        "values": {"container_id": "3f2a9c1b7d4e", "container_name": "blink-runner",
                   "log_window": "last 2000 lines, since 1h", "reason": ""},
        "evidence": [], "hints": [], "because_of": "", "variant": "",
    }
    part = judge_logs_readable(c, scan_lines(["a"], PATTERNS, "s", "w", cut="the read did not finish within 120s"))
    assert part.outcome is Outcome.WARNING
    assert part.summary == f"Read 1 log lines of {RUNNER} (w), but not to the newest line: the read did not finish within 120s."
    assert part.values["reason"] == "the read did not finish within 120s" and part.values["log_window"] == "w"
    bad = judge_logs_readable(c, LogWindow("c", "w", error="configured logging driver does not support reading"))
    assert bad.summary == f"Could not read the logs of {RUNNER}: configured logging driver does not support reading"
    assert bad.values["reason"] == "configured logging driver does not support reading" and bad.object == RUNNER
    assert bad.condition_id == "docker.disconnected.logs-readable"


def test_socket_is_judged_where_it_is_mounted_in_the_container_not_by_its_host_path():
    # Hand-made mounts: the lab binds the socket at the same path on both sides; a customer's host may keep it
    # elsewhere (rootless Docker: /run/user/1000/docker.sock), and what matters is where the runner sees it.
    base = container_facts(inspect())
    moved = replace(base, mounts=(("/run/user/1000/docker.sock", "/var/run/docker.sock"),))
    f = judge_socket_mounted(moved)
    assert f.outcome is Outcome.PASSED and f.summary == f"{RUNNER} mounts /var/run/docker.sock."
    assert dict(f.values) == {"container_id": "3f2a9c1b7d4e", "container_name": "blink-runner"}
    elsewhere = replace(base, mounts=(("/var/run/docker.sock", "/tmp/docker.sock"), ("/srv/blink", "/blink")))
    f = judge_socket_mounted(elsewhere)
    assert f.outcome is Outcome.FAILED and f.summary == f"{RUNNER} does not mount /var/run/docker.sock."
    assert [(e.title, e.source, e.text) for e in f.evidence] == [
        ("Mounts", RUNNER, "/var/run/docker.sock -> /tmp/docker.sock\n/srv/blink -> /blink")]


def test_upgrade_indicators_report_the_newest_upgrade_not_the_first():
    older = CREATING.replace("blink-runner-1.0.995", "blink-runner-1.0.990")
    lines = parse_upgrade_lines(["noise", older, FOUND])
    w = window("noise", older, FOUND)
    f = judge_upgrade_indicators(container_facts(inspect()), w, lines)
    assert f.outcome is Outcome.PASSED
    assert f.values["version"] == "1.0.995"
    assert f.summary == (f"{RUNNER} logged an upgrade to 1.0.995 (found the new container running; "
                         "container id 8a7b6c5d4e3f).")
    assert [(e.title, e.source) for e in f.evidence] == [
        ("Upgrade lines", "container blink-runner (3f2a9c1b7d4e), last 2000 lines, since 1h")]
    assert f.evidence[0].text.splitlines() == [older, FOUND]
    only_creating = judge_upgrade_indicators(container_facts(inspect()), w, lines[:1])
    assert only_creating.summary == (f"{RUNNER} logged an upgrade to 1.0.990 (creating a new container; "
                                     "container id 3f2a9c1b7d4e).")


def test_upgrade_indicators_on_a_window_read_in_part_are_not_evaluable():
    c = container_facts(inspect())
    w = scan_lines([CREATING], PATTERNS, "s", "w", cut="the read did not finish within 1s")
    f = judge_upgrade_indicators(c, w, parse_upgrade_lines([CREATING]))
    assert f.outcome is Outcome.NOT_EVALUABLE
    assert f.summary == (f"The log window of {RUNNER} was read only in part (the read did not finish within 1s); "
                         "1 upgrade line(s) in the part read: the newest upgrade attempt may be in the part not read.")
    none = judge_upgrade_indicators(c, w, [])
    assert none.summary == (f"The log window of {RUNNER} was read only in part (the read did not finish within 1s): "
                            "the newest upgrade attempt may be in the part not read.")
    err = judge_upgrade_indicators(c, LogWindow("c", "w", error="engine went away"), [])
    assert err.summary == f"Could not read the logs of {RUNNER}: engine went away"
    assert dict(err.values) == {"container_id": "3f2a9c1b7d4e", "container_name": "blink-runner"}
    empty = judge_upgrade_indicators(c, window(), [])
    assert empty.summary == f"No upgrade in {RUNNER}'s logs (last 2000 lines, since 1h): nothing to judge."


def test_a_restarting_upgraded_container_is_a_failed_upgrade():
    runner = container_facts(inspect())
    line = parse_upgrade_lines([CREATING])[0]
    new = container_facts(inspect("blink-runner-1.0.995", status="restarting", restarts=3, exit_code=1, cid="9" * 64))
    f = judge_new_container(runner, line, new, window("2026-11-28T10:59:59Z fatal: cannot register"))
    label = "container blink-runner-1.0.995 (999999999999)"
    assert shown(f) == {
        "id": "docker.upgrade.new-container-healthy", "outcome": "failed",
        "summary": f"The upgrade to 1.0.995 failed: {label} is restarting (restart count 3, last exit code 1).",
        "object": label,
        "values": {"container_id": "3f2a9c1b7d4e", "container_name": "blink-runner", "version": "1.0.995",
                   "new_container_name": "blink-runner-1.0.995", "new_container_id": "999999999999",
                   "new_state": "restarting (restart count 3, last exit code 1)"},
        "evidence": [
            ("State", label, state_table([new])),
            ("Last log lines of the upgraded container", "container blink-runner (3f2a9c1b7d4e)",
             "2026-11-28T10:59:59Z  fatal: cannot register"),
            ("Upgrade line", RUNNER, line.line),
        ],
        "hints": [], "because_of": "", "variant": "",
    }
    no_logs = judge_new_container(runner, line, new, None)
    assert [e.title for e in no_logs.evidence] == ["State", "Upgrade line"]


def test_new_container_missing_or_running_exactly():
    runner = container_facts(inspect())
    creating = parse_upgrade_lines([CREATING])[0]
    missing = judge_new_container(runner, creating, None, None)
    assert shown(missing) == {
        "id": "docker.upgrade.new-container-healthy", "outcome": "failed",
        "summary": "The upgrade to 1.0.995 names blink-runner-1.0.995, but no such container exists.",
        "object": "container blink-runner-1.0.995",
        # "creating" names the old container's id, not the new one's: the name stands in for the missing id.
        "values": {"container_id": "3f2a9c1b7d4e", "container_name": "blink-runner", "version": "1.0.995",
                   "new_container_name": "blink-runner-1.0.995", "new_container_id": "blink-runner-1.0.995",
                   "new_state": "missing"},
        "evidence": [("Upgrade line", RUNNER, creating.line)],
        "hints": [], "because_of": "", "variant": "",
    }
    found = parse_upgrade_lines([FOUND])[0]
    assert judge_new_container(runner, found, None, None).values["new_container_id"] == "8a7b6c5d4e3f"
    new = container_facts(inspect("blink-runner-1.0.995", cid="8a7b6c5d4e3f" + "0" * 52))
    ok = judge_new_container(runner, found, new, None)
    assert (ok.summary, ok.object, ok.values["new_state"], ok.values["new_container_id"]) == (
        "Upgraded runner container blink-runner-1.0.995 (8a7b6c5d4e3f) runs version 1.0.995.",
        "container blink-runner-1.0.995 (8a7b6c5d4e3f)", "running", "8a7b6c5d4e3f")


def test_not_a_runner_and_manual_status_exactly():
    runner = container_facts(inspect())
    line = parse_upgrade_lines([CREATING])[0]
    f = judge_not_a_runner(runner, line, "postgres")
    assert shown(f) == {
        "id": "docker.upgrade.new-container-healthy", "outcome": "not-evaluable",
        "summary": f"The upgrade line in {RUNNER} names container postgres, which is not a runner container (its "
                   "name and image are not the runner's): the suite does not look at it. Check the line by hand.",
        "object": RUNNER,
        "values": {"container_id": "3f2a9c1b7d4e", "container_name": "blink-runner", "version": "1.0.995"},
        "evidence": [("Upgrade line", RUNNER, line.line)],
        "hints": [], "because_of": "", "variant": "",
    }
    m = manual_blink_status("docker.disconnected.blink-status", "#p1-production-alert")
    assert shown(m) == {
        "id": "docker.disconnected.blink-status", "outcome": "manual",
        "summary": "Manual step: check #p1-production-alert for active production alerts (needs Blink-internal access).",
        "object": "Blink", "values": {"status_channel": "#p1-production-alert"},
        "evidence": [], "hints": [], "because_of": "", "variant": "",
    }


def test_container_label_and_short_id():
    c = container_facts(inspect(cid="0123456789abcdef" * 4))
    assert (c.short_id, c.label) == ("0123456789ab", "container blink-runner (0123456789ab)")


def test_names_may_start_with_any_letter():
    """Only the leading "/" of the engine's name goes (a name may start with X, /, or anything a user chose)."""
    raw = inspect("X-runner")
    assert container_facts(raw).name == "X-runner"
    assert is_runner(["/X-runner"], "busybox:1", "X-runner")


def test_findings_name_their_container_in_every_branch():
    c = container_facts(inspect())
    cut = scan_lines(["a"], PATTERNS, "s", "w", cut="stopped early")
    for f in (judge_logs_readable(c, cut), judge_upgrade_indicators(c, cut, []),
              judge_upgrade_indicators(c, LogWindow("c", "w", error="gone"), [])):  # fmt: skip
        assert f.object == RUNNER and dict(f.values)["container_name"] == "blink-runner"
    assert judge_logs_readable(c, cut).condition_id == "docker.disconnected.logs-readable"
    assert {judge_upgrade_indicators(c, cut, []).condition_id,
            judge_upgrade_indicators(c, LogWindow("c", "w", error="gone"), []).condition_id} == {
        "docker.upgrade.indicators"}  # fmt: skip
