"""The scheduling options' pure parts (blinkcheck.schedule): comparing with earlier runs, --fail-after, when a
message is due and what it says, the Prometheus text (read back by the Prometheus text-format parser), and the
webhook post against local receivers on loopback: one that answers, one that is down, one that never answers, one
that drips, one that fails first. The whole runs: tests/integration/test_schedule_options.py and
tests/integration/test_schedule_docker.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from blinkcheck.schedule import history, metrics, notify
from tests.webhook import down_url, receiver, silent_receiver

A = "docker.disconnected.container-running"
B = "docker.disconnected.no-network-errors"


def run(started: str, failing: list[str], alerting: list[str] | None = None) -> history.Past:
    return history.Past(started, frozenset(failing), frozenset(failing if alerting is None else alerting))


def test_first_run_everything_failing_is_new_and_nothing_cleared():
    found = history.compare([A], "t3", [A, B], [])
    assert found.previous is None and found.new == [A] and found.cleared == []
    assert [(s.key, s.runs, s.since) for s in found.failing] == [(A, 1, "t3")]
    assert "the first run kept there" in history.note(found, Path("/h"))[0]


def test_new_cleared_and_how_long_each_failure_has_lasted():
    past = [run("t2", [A, B]), run("t1", [A]), run("t0", [])]
    found = history.compare([A], "t3", [A, B], past)
    assert found.previous == "t2" and found.new == [] and found.cleared == [B]
    assert [(s.runs, s.since) for s in found.failing] == [(3, "t1")]
    [line] = history.note(found, Path("/h"))
    assert "new failures: none; cleared: docker.disconnected.no-network-errors;" in line
    assert "for 3 runs since t1" in line


def test_a_condition_not_checked_now_is_not_cleared():
    found = history.compare([], "t1", [A], [run("t0", [A, B])])
    assert found.cleared == [A]  # B was not looked at this time: not called cleared


def test_fail_after_holds_a_run_back_until_a_failure_has_lasted_n_runs():
    once = history.compare([A], "t1", [A], [run("t0", [])], fail_after=2)
    assert once.held_back and once.alerting == [] and history.exit_code(1, once) == 0
    assert "--fail-after 2: no failure has lasted 2 runs in a row yet" in history.note(once, Path("/h"))[-1]
    twice = history.compare([A], "t2", [A], [run("t1", [A], []), run("t0", [])], fail_after=2)
    assert not twice.held_back and twice.alerting == [A] and history.exit_code(1, twice) == 1
    # a flapping condition never reaches it
    flap = history.compare([A], "t3", [A], [run("t2", []), run("t1", [A]), run("t0", [])], fail_after=2)
    assert history.exit_code(1, flap) == 0
    assert history.exit_code(4, flap) == 4  # a usage error is never held back


def test_kept_runs_are_read_newest_first_pruned_and_bad_files_skipped(tmp_path: Path):
    for i, started in enumerate(["2026-12-02T10:00:00.000001+00:00", "2026-12-02T11:00:00+00:00",
                                 "2026-12-02T09:00:00.5+00:00"]):  # fmt: skip
        data = {"started_at": started, "exit_code": 1,
                "checks": [{"id": A, "object": f"container blink-runner ({i})", "outcome": "failed" if i else "passed"}]}  # fmt: skip
        (tmp_path / history.file_name(started)).write_text(json.dumps(data))
    (tmp_path / "results-20261202T120000.000000Z.json").write_text("{not json")
    (tmp_path / "notes.txt").write_text("not ours")
    runs, bad = history.load(tmp_path)
    assert [r.started_at[11:19] for r in runs] == ["11:00:00", "10:00:00", "09:00:00"] and bad == 1
    assert runs[0].failing == {A} and runs[0].alerting == {A}  # an older file: its failures failed it
    gone = history.prune(tmp_path, 2)
    assert len(gone) == 2 and (tmp_path / "notes.txt").exists()
    assert sorted(p.name for p in tmp_path.glob("results-*")) == ["results-20261202T110000.000000Z.json",
                                                                  "results-20261202T120000.000000Z.json"]  # fmt: skip


def test_a_message_on_a_new_failure_and_on_recovery_only():
    assert notify.kind_of([A], None) == "failure"  # no earlier run: it is new
    assert notify.kind_of([A], frozenset({A})) is None  # still failing: said already
    assert notify.kind_of([A, B], frozenset({A})) == "failure"  # another one
    assert notify.kind_of([], frozenset({A})) == "recovery"
    assert notify.kind_of([], frozenset()) is None and notify.kind_of([], None) is None


def test_message_text_names_the_failure_the_remedy_and_the_report():
    remedy = "\n".join(f"step {i}" for i in range(1, 12))
    text = notify.message("failure", target="docker (unix:///var/run/docker.sock)", failures=[(A, "container blink-runner", "the runner exited")],
                          cleared=[], remedy=remedy, summary="blink-checks: 1 failed (exit 1)",
                          report="/reports/report.html", host="h1")["text"]  # fmt: skip
    assert "new failure" in text and "docker.disconnected.container-running (container blink-runner): the runner exited" in text
    assert "step 8" in text and "step 9" not in text and "…" in text  # the remedy, capped
    assert text.endswith("Report: /reports/report.html (on h1)")
    back = notify.message("recovery", target="kubernetes (blink)", failures=[], cleared=["x (pod p)"], remedy="",
                          summary="s", report="r", host="h")["text"]  # fmt: skip
    assert "recovered" in back and "Cleared: x (pod p)" in back


def test_where_shows_no_key_of_the_webhook():
    assert notify.where("https://hooks.slack.com/services/T0/B0/SECRETKEY") == "https://hooks.slack.com"
    assert notify.where("http://user:pw@127.0.0.1:8080/x?token=1") == "http://127.0.0.1:8080"


def test_post_to_a_receiver_that_answers():
    with receiver() as rec:
        sent = notify.post(rec.url, {"text": "hello"}, timeout_s=5)
    assert sent.sent and sent.attempts == 1 and rec.messages == [{"text": "hello"}]


def test_post_retries_a_failing_receiver_a_bounded_number_of_times():
    with receiver(fail_first=2) as rec:
        sent = notify.post(rec.url, {"text": "x"}, timeout_s=5, sleep=lambda s: None)
    assert sent.sent and sent.attempts == 3 and len(rec.messages) == 1
    with receiver(fail_first=99) as rec:
        sent = notify.post(rec.url, {"text": "x"}, timeout_s=5, sleep=lambda s: None)
    assert not sent.sent and sent.attempts == notify.ATTEMPTS == rec.requests and sent.why == "HTTP 500"


def test_post_to_a_receiver_that_is_down_gives_up_quickly():
    started = time.monotonic()
    sent = notify.post(down_url(), {"text": "x"}, timeout_s=2, sleep=lambda s: None)
    assert not sent.sent and sent.attempts == 3 and "refused" in sent.why.lower(), sent
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("drip", [False, True], ids=["silent", "dripping"])
def test_post_to_a_receiver_that_never_answers_is_bounded(drip: bool):
    with silent_receiver(drip=drip) as url:
        started = time.monotonic()
        sent = notify.post(url, {"text": "x"}, timeout_s=0.5, sleep=lambda s: None)
        took = time.monotonic() - started
    assert not sent.sent and sent.attempts == 3 and "within 0.5s" in sent.why, sent
    assert took < 3 * (0.5 + 0.5) + 1, took


def test_metrics_are_prometheus_text_with_a_gauge_per_condition_and_object(tmp_path: Path):
    rows = [(A, "container blink-runner", "docker", "failed"), (B, 'container "odd"\\name', "docker", "passed"),
            ("docker.host.daemon-reachable", "", "docker", "passed")]  # fmt: skip
    text = metrics.exposition(rows, duration_s=1.5, exit_code=1, finished=1_800_000_000.0, last_success=1_700_000_000.0)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert {f.type for f in families.values()} == {"gauge"}
    outcome = {(s.labels["condition"], s.labels["object"]): s.labels["outcome"] for s in families["blink_checks_outcome"].samples}
    assert outcome == {(A, "container blink-runner"): "failed", (B, 'container "odd"\\name'): "passed",
                       ("docker.host.daemon-reachable", ""): "passed"}  # fmt: skip
    failing = {s.labels["condition"]: s.value for s in families["blink_checks_failing"].samples}
    assert failing == {A: 1.0, B: 0.0, "docker.host.daemon-reachable": 0.0}
    assert families["blink_checks_run_exit_code"].samples[0].value == 1
    assert families["blink_checks_run_duration_seconds"].samples[0].value == 1.5
    (tmp_path / "m.prom").write_text(text)
    assert metrics.previous_success(tmp_path / "m.prom") == 1_700_000_000.0
    assert metrics.previous_success(tmp_path / "none.prom") is None
    never = metrics.exposition([], duration_s=0, exit_code=1, finished=1.0, last_success=None)
    assert "last_success" not in never and list(text_string_to_metric_families(never))
