"""The Upgrade Failure judges on Docker: the upgrade lines, the new container runs."""

from __future__ import annotations

from blinkcheck.docker.facts import container_facts, state_table
from blinkcheck.docker.upgrade import judge_new_container, judge_not_a_runner, judge_upgrade_indicators
from blinkcheck.logs.scan import LogWindow, scan_lines
from blinkcheck.model import Outcome, manual_blink_status
from tests.unit.canned import inspect
from tests.unit.docker_objects import CREATING, FOUND, PATTERNS, RUNNER, parse_upgrade_lines, shown, window


def test_upgrade_lines_parsed():
    lines = parse_upgrade_lines(["noise", CREATING, FOUND])
    assert [(x.kind, x.version) for x in lines] == [("creating", "1.0.995"), ("found_existing", "1.0.995")]
    assert lines[0].container_id.startswith("3f2a9c1b7d4e")
    assert lines[1].name == "blink-runner-1.0.995"


def test_no_upgrade_lines_pass_never_fail():
    c = container_facts(inspect())
    f = judge_upgrade_indicators("docker.upgrade.indicators", c, window("a", "b"), [])
    assert f.outcome is Outcome.PASSED and "nothing to judge" in f.summary


def test_new_container_exited_fails_with_real_ids():
    runner = container_facts(inspect())
    line = parse_upgrade_lines([CREATING])[0]
    new = container_facts(inspect("blink-runner-1.0.995", status="exited", exit_code=1, cid="9" * 64))
    f = judge_new_container("docker.upgrade.new-container-healthy", runner, line, new, window("fatal: cannot register"))
    assert f.outcome is Outcome.FAILED
    assert f.values["container_id"] == runner.short_id
    assert f.values["new_container_id"] == "9" * 12
    assert any("fatal: cannot register" in e.text for e in f.evidence)


def test_new_container_missing_fails():
    runner = container_facts(inspect())
    line = parse_upgrade_lines([CREATING])[0]
    f = judge_new_container("docker.upgrade.new-container-healthy", runner, line, None, None)
    assert f.outcome is Outcome.FAILED and "no such container" in f.summary


def test_new_container_running_passes():
    runner = container_facts(inspect())
    line = parse_upgrade_lines([FOUND])[0]
    new = container_facts(inspect("blink-runner-1.0.995"))
    assert judge_new_container("docker.upgrade.new-container-healthy", runner, line, new, None).outcome is Outcome.PASSED


def test_upgrade_indicators_on_unreadable_logs_are_not_evaluable():
    c = container_facts(inspect())
    w = LogWindow("c", "w", error="engine went away")
    assert judge_upgrade_indicators("docker.upgrade.indicators", c, w, []).outcome is Outcome.NOT_EVALUABLE


def test_upgrade_indicators_report_the_newest_upgrade_not_the_first():
    older = CREATING.replace("blink-runner-1.0.995", "blink-runner-1.0.990")
    lines = parse_upgrade_lines(["noise", older, FOUND])
    w = window("noise", older, FOUND)
    f = judge_upgrade_indicators("docker.upgrade.indicators", container_facts(inspect()), w, lines)
    assert f.outcome is Outcome.PASSED
    assert f.values["version"] == "1.0.995"
    assert f.summary == (f"{RUNNER} logged an upgrade to 1.0.995 (found the new container running; "
                         "container id 8a7b6c5d4e3f).")
    assert [(e.title, e.source) for e in f.evidence] == [
        ("Upgrade lines", "container blink-runner (3f2a9c1b7d4e), last 2000 lines, since 1h")]
    assert f.evidence[0].text.splitlines() == [older, FOUND]
    only_creating = judge_upgrade_indicators("docker.upgrade.indicators", container_facts(inspect()), w, lines[:1])
    assert only_creating.summary == (f"{RUNNER} logged an upgrade to 1.0.990 (creating a new container; "
                                     "container id 3f2a9c1b7d4e).")


def test_upgrade_indicators_on_a_window_read_in_part_are_not_evaluable():
    c = container_facts(inspect())
    w = scan_lines([CREATING], PATTERNS, "s", "w", cut="the read did not finish within 1s")
    f = judge_upgrade_indicators("docker.upgrade.indicators", c, w, parse_upgrade_lines([CREATING]))
    assert f.outcome is Outcome.NOT_EVALUABLE
    assert f.summary == (f"The log window of {RUNNER} was read only in part (the read did not finish within 1s); "
                         "1 upgrade line(s) in the part read: the newest upgrade attempt may be in the part not read.")
    none = judge_upgrade_indicators("docker.upgrade.indicators", c, w, [])
    assert none.summary == (f"The log window of {RUNNER} was read only in part (the read did not finish within 1s): "
                            "the newest upgrade attempt may be in the part not read.")
    err = judge_upgrade_indicators("docker.upgrade.indicators", c, LogWindow("c", "w", error="engine went away"), [])
    assert err.summary == f"Could not read the logs of {RUNNER}: engine went away"
    assert dict(err.values) == {"container_id": "3f2a9c1b7d4e", "container_name": "blink-runner"}
    empty = judge_upgrade_indicators("docker.upgrade.indicators", c, window(), [])
    assert empty.summary == f"No upgrade in {RUNNER}'s logs (last 2000 lines, since 1h): nothing to judge."


def test_a_restarting_upgraded_container_is_a_failed_upgrade():
    runner = container_facts(inspect())
    line = parse_upgrade_lines([CREATING])[0]
    new = container_facts(inspect("blink-runner-1.0.995", status="restarting", restarts=3, exit_code=1, cid="9" * 64))
    f = judge_new_container("docker.upgrade.new-container-healthy", runner, line, new, window("2026-11-28T10:59:59Z fatal: cannot register"))
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
    no_logs = judge_new_container("docker.upgrade.new-container-healthy", runner, line, new, None)
    assert [e.title for e in no_logs.evidence] == ["State", "Upgrade line"]


def test_new_container_missing_or_running_exactly():
    runner = container_facts(inspect())
    creating = parse_upgrade_lines([CREATING])[0]
    missing = judge_new_container("docker.upgrade.new-container-healthy", runner, creating, None, None)
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
    assert judge_new_container("docker.upgrade.new-container-healthy", runner, found, None, None).values["new_container_id"] == "8a7b6c5d4e3f"
    new = container_facts(inspect("blink-runner-1.0.995", cid="8a7b6c5d4e3f" + "0" * 52))
    ok = judge_new_container("docker.upgrade.new-container-healthy", runner, found, new, None)
    assert (ok.summary, ok.object, ok.values["new_state"], ok.values["new_container_id"]) == (
        "Upgraded runner container blink-runner-1.0.995 (8a7b6c5d4e3f) runs version 1.0.995.",
        "container blink-runner-1.0.995 (8a7b6c5d4e3f)", "running", "8a7b6c5d4e3f")


def test_not_a_runner_and_manual_status_exactly():
    runner = container_facts(inspect())
    line = parse_upgrade_lines([CREATING])[0]
    f = judge_not_a_runner("docker.upgrade.new-container-healthy", runner, line, "postgres")
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
    measured = "Blink's readiness https://b/api/v1/api/readiness answered HTTP 503 from the suite's host"
    m = manual_blink_status("docker.disconnected.blink-status", "#p1-production-alert", measured)
    assert shown(m) == {
        "id": "docker.disconnected.blink-status", "outcome": "manual",
        "summary": "Manual step: check #p1-production-alert for active production alerts (needs Blink-internal access). "
                   f"Measured: {measured}.",
        "object": "Blink", "values": {"status_channel": "#p1-production-alert"},
        "evidence": [("Blink's readiness, measured", "from the suite's host", measured)], "hints": [], "because_of": "", "variant": "",
    }
