"""The scheduling options in whole runs that need no lab: an engine that is not there (a socket path where
nothing is) makes a run that fails; the webhook receivers are local (loopback). What a user sees: bad values are
usage errors; a receiver that is down or never answers does not hold the run up or change its exit code, and the
webhook's key never reaches a report."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jsonschema
import pytest

from tests.harness import ROOT, run_checks
from tests.webhook import down_url, receiver, silent_receiver

NO_ENGINE = ("--target", "docker", "--docker-host", "unix:///nonexistent/docker.sock")


@pytest.mark.parametrize(("args", "message"), [
    (["--fail-after", "2"], "--fail-after: needs --history DIR"),
    (["--notify", "http://127.0.0.1:9/x"], "--notify: needs --history DIR"),
    (["--history", "/proc/blink-history"], "--history: cannot write to '/proc/blink-history'"),
    (["--history", "{tmp}/h", "--notify", "ftp://x/y"], "--notify: 'ftp://x/y' is not a valid URL"),
    (["--history", "{tmp}/h", "--history-keep", "0"], "--history-keep: '0' is out of range"),
    (["--metrics", "/nonexistent/dir/blink.prom"], "--metrics: cannot write to '/nonexistent/dir'"),
])  # fmt: skip
def test_bad_scheduling_option_is_a_usage_error(tmp_path: Path, args: list[str], message: str):
    run = run_checks(*NO_ENGINE, *[a.replace("{tmp}", str(tmp_path)) for a in args], report_dir=tmp_path / "r")
    assert run.exit_code == 4, run.stdout + run.stderr
    assert message in run.stdout + run.stderr


def test_history_notify_and_metrics_on_a_failing_then_still_failing_run(tmp_path: Path):
    opts = ("--history", str(tmp_path / "h"), "--metrics", str(tmp_path / "blink.prom"))
    with receiver() as rec:
        first = run_checks(*NO_ENGINE, *opts, "--notify", rec.url, report_dir=tmp_path / "r1")
        second = run_checks(*NO_ENGINE, *opts, "--notify", rec.url, report_dir=tmp_path / "r2")
    assert first.exit_code == 1 and second.exit_code == 1, first.stdout[-2000:]
    assert len(rec.messages) == 1, rec.messages  # the new failure once, not on every run
    text = rec.messages[0]["text"]
    assert "new failure" in text and "docker.host.daemon-reachable" in text and "Report: " in text
    assert "failure message sent to http://127.0.0.1:" in first.stdout
    assert "nothing new since the last run: no message" in second.stdout
    history = second.results["history"]
    schema = json.loads((ROOT / "blinkcheck" / "results.schema.json").read_text())
    jsonschema.validate(second.results, schema)
    bad = {**second.results, "history": {**history, "failing": [{"id": "x", "runs": 0, "since": "t"}]}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    assert history["previous_run"] == first.results["started_at"]
    # the engine not answering, and every check that could not look because of it: two runs each, since the first
    assert history["failing"][0]["id"] == "docker.host.daemon-reachable"
    assert {(f["runs"], f["since"]) for f in history["failing"]} == {(2, first.results["started_at"])}
    assert "docker.disconnected.container-exists" not in text  # the message names the cause, not its echoes
    assert "for 2 runs since" in second.stdout and "History (" in second.html
    assert len(list((tmp_path / "h").glob("results-*.json"))) == 2
    prom = (tmp_path / "blink.prom").read_text()
    assert 'blink_checks_failing{condition="docker.host.daemon-reachable",object="unix:///nonexistent/docker.sock",platform="docker"} 1' in prom
    assert "blink_checks_run_exit_code 1" in prom and "last_success" not in prom
    for run in (first, second):  # the webhook's key is in no report
        for name in ("report.html", "results.json", "junit.xml"):
            assert "hook-key-0123456789" not in (run.report_dir / name).read_text()
        assert "hook-key-0123456789" not in run.stdout + run.stderr


def test_fail_after_holds_the_first_failure_back(tmp_path: Path):
    opts = ("--history", str(tmp_path / "h"), "--fail-after", "2")
    first = run_checks(*NO_ENGINE, *opts, report_dir=tmp_path / "r1")
    second = run_checks(*NO_ENGINE, *opts, report_dir=tmp_path / "r2")
    assert first.exit_code == 0, first.stdout[-2000:]
    assert "--fail-after 2: no failure has lasted 2 runs in a row yet" in first.stdout
    assert first.results["exit_code"] == 0 and first.results["history"]["held_back"] is True
    assert second.exit_code == 1 and second.results["history"]["alerting"], second.stdout[-2000:]


@pytest.mark.parametrize("receiver_kind", ["down", "silent"])
def test_a_receiver_that_is_down_or_silent_does_not_change_the_run(tmp_path: Path, receiver_kind: str):
    def go(url: str):
        return run_checks(*NO_ENGINE, "--history", str(tmp_path / "h"), "--notify", url, "--notify-timeout", "1s",
                          report_dir=tmp_path / "r")  # fmt: skip

    started = time.monotonic()
    if receiver_kind == "down":
        run = go(down_url())
    else:
        with silent_receiver() as url:
            run = go(url)
    took = time.monotonic() - started
    assert run.exit_code == 1, run.stdout[-2000:]  # as it would have been
    assert "failure message NOT sent to http://127.0.0.1:" in run.stdout, run.stdout[-2000:]
    assert ("refused" if receiver_kind == "down" else "within 1s") in run.stdout
    assert took < 30, took  # three bounded attempts on top of the run
    assert json.loads((run.report_dir / "results.json").read_text())["exit_code"] == 1
