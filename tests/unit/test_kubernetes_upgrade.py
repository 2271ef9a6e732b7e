"""The Upgrade Failure judges on Kubernetes: operator state, the handoff, stuck after the wait, the rollback window."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from blinkcheck.kubernetes.facts import OperatorFacts
from blinkcheck.kubernetes.parse import (
    pod_facts,
)
from blinkcheck.kubernetes.upgrade import (
    Wait,
    find_handoff,
    judge_operator_handoff,
    judge_operator_state,
    judge_operator_stuck,
    judge_rollback,
)
from blinkcheck.logs.scan import scan_lines
from blinkcheck.model import Outcome, human
from tests.unit.kubernetes_objects import CATALOG, NOW, NS, PATTERNS, container, operator, pod, remedy, window


def test_operator_state_variants():
    absent = judge_operator_state("k8s.upgrade.operator-state", [], NS, NOW, 300)
    assert absent.outcome is Outcome.PASSED and "no upgrade is in progress" in absent.summary
    running = judge_operator_state("k8s.upgrade.operator-state", [operator(age=60)], NS, NOW, 300)
    assert running.outcome is Outcome.WARNING and "Do nothing, wait for it to complete" in running.summary
    assert "rollback window ends in 4m" in running.summary
    down = judge_operator_state("k8s.upgrade.operator-state",
        [operator(ready=False, state="waiting", reason="CrashLoopBackOff", restarts=3)], NS, NOW, 300
    )
    assert down.outcome is Outcome.WARNING and "exists but is not running" in down.summary
    assert "CrashLoopBackOff" in down.summary and "operator-stuck" in down.summary
    text = remedy(down)
    assert "`kubectl get pods -n blink | grep blink-operator`" in text
    assert [e.title for e in down.evidence][:2] == [
        "kubectl get deployment | grep blink-operator",
        "kubectl get pods | grep blink-operator",
    ]
    no_pods = judge_operator_state("k8s.upgrade.operator-state", [operator(with_pod=False, ready=False)], NS, NOW, 300)
    assert "no pods (replicas 1)" in no_pods.summary


def test_operator_logs_are_evidence():
    logs = {
        "blink-operator-x": scan_lines(["upgrading to 1.0.995"], PATTERNS, "pod blink/blink-operator-x", "w",
                                       previous=["panic: boom"])
    }
    f = judge_operator_state("k8s.upgrade.operator-state", [operator(ready=False, state="waiting", reason="CrashLoopBackOff")], NS, NOW, 300, logs)
    text = "\n".join(e.text for e in f.evidence)
    assert "panic: boom" in text and "upgrading to 1.0.995" in text


HANDOFF = (
    "Operator has been deployed with version: 1.0.995, Current Runner will shutdown once new runner is up and ready."
)


def test_handoff_pattern_from_catalog():
    pattern = CATALOG.upgrade_patterns["operator_handoff"]
    assert find_handoff(window("a", "b"), pattern) is None
    h = find_handoff(window(f'time=... level=info msg="{HANDOFF}"'), pattern)
    assert h is not None and h.version == "1.0.995"
    prev = find_handoff(window("restarted", previous=(HANDOFF,)), pattern)
    assert prev is not None and prev.version == "1.0.995"


def test_handoff_judged_against_operator_and_runner():
    pattern = CATALOG.upgrade_patterns["operator_handoff"]
    runner = pod_facts(pod())
    w = window(HANDOFF)
    h = find_handoff(w, pattern)
    gone = judge_operator_handoff("k8s.upgrade.operator-handoff", runner, w, h, [], "blink-runner")
    assert gone.outcome is Outcome.FAILED and "The upgrade to 1.0.995 has failed" in gone.summary
    text = remedy(gone)
    assert "`kubectl rollout restart deployment blink-runner -n blink`" in text
    assert "`kubectl logs -f deployment/blink-operator-1.0.995 -n blink`" in text
    assert "runner pod blink-runner-7d9f8-abcde logged the operator handoff" in text
    crashing = operator(ready=False, state="waiting", reason="CrashLoopBackOff", restarts=2)
    assert judge_operator_handoff("k8s.upgrade.operator-handoff", runner, w, h, [crashing], "blink-runner").outcome is Outcome.FAILED
    alive = judge_operator_handoff("k8s.upgrade.operator-handoff", runner, w, h, [operator()], "blink-runner")
    assert alive.outcome is Outcome.PASSED
    stopped = pod_facts(pod(containers=[container("terminated", "Completed", ready=False)], phase="Succeeded"))
    assert judge_operator_handoff("k8s.upgrade.operator-handoff", stopped, w, h, [], "blink-runner").outcome is Outcome.PASSED
    assert judge_operator_handoff("k8s.upgrade.operator-handoff", runner, window("x"), None, [], "blink-runner").outcome is Outcome.PASSED


def test_operator_stuck_after_the_wait():
    before = operator(ready=False, state="waiting", reason="CrashLoopBackOff", restarts=3)
    waited = Wait(60, 60.2, 20, False)
    still = judge_operator_stuck("k8s.upgrade.operator-stuck", before, before, waited, "blink-runner", NOW)
    assert still.outcome is Outcome.FAILED
    assert "waited 1m of 1m (20 checks, until the deadline)" in still.summary
    text = remedy(still)
    assert "`kubectl delete deployment blink-operator-1.0.995 -n blink`" in text
    assert "`kubectl rollout restart deployment blink-runner -n blink`" in text
    assert "has not been running for 1m (" in text
    recovered = judge_operator_stuck("k8s.upgrade.operator-stuck", before, operator(), Wait(60, 12, 4, True), "blink-runner", NOW)
    assert (
        recovered.outcome is Outcome.PASSED and "waited 12s of 1m (4 checks, until it recovered)" in recovered.summary
    )
    gone = judge_operator_stuck("k8s.upgrade.operator-stuck", before, None, Wait(60, 3, 1, True), "blink-runner", NOW)
    assert gone.outcome is Outcome.PASSED and "gone" in gone.summary


def test_operator_down_longer_than_the_wait_needs_no_wait():
    before = operator(ready=False, state="waiting", reason="CrashLoopBackOff", restarts=3)
    already = Wait(60, 0, 0, False, already_s=81)
    f = judge_operator_stuck("k8s.upgrade.operator-stuck", before, before, already, "blink-runner", NOW)
    assert f.outcome is Outcome.FAILED
    assert "not running for 1m 21s at the first look, already longer than the 1m wait: no need to wait" in f.summary
    assert "has not been running for 1m 21s (" in remedy(f)
    rest = Wait(60, 20.3, 7, False, already_s=40)
    f = judge_operator_stuck("k8s.upgrade.operator-stuck", before, before, rest, "blink-runner", NOW)
    assert "not running for 40s at the first look; waited 20s of the remaining 20s" in f.summary
    assert "has not been running for 1m (" in remedy(f)


def test_operator_not_running_since_comes_from_the_api():

    crashing = operator(ready=False, state="waiting", reason="CrashLoopBackOff", restarts=3, age=300)
    since = crashing.not_running_since()
    assert since is not None and NOW - since <= timedelta(seconds=300)
    assert operator().not_running_since() is None  # running


def test_operator_stuck_without_waiting_is_honestly_pending():
    before = operator(ready=False, state="waiting", reason="CrashLoopBackOff", restarts=3)
    f = judge_operator_stuck("k8s.upgrade.operator-stuck", before, before, Wait(0, 0, 0, False), "blink-runner", NOW)
    assert f.outcome is Outcome.WARNING
    assert "still pending" in f.summary and "did not wait (--operator-wait 0)" in f.summary


@pytest.mark.parametrize(
    ("age", "outcome"),
    [(299, Outcome.PASSED), (300, Outcome.PASSED), (301, Outcome.FAILED), (3600, Outcome.FAILED)],
)
def test_rollback_window_edges(age, outcome):
    f = judge_rollback("k8s.upgrade.rollback-overdue", operator(age=age), NOW, 300, "blink-runner")
    assert f.outcome is outcome, f.summary
    if outcome is Outcome.FAILED:
        text = remedy(f)
        assert f"alive for {human(age)}, past its 5m rollback window" in text
        assert "`kubectl delete deployment blink-operator-1.0.995 -n blink`" in text


def test_rollback_window_is_configurable_and_dead_operators_are_not_overdue():
    assert judge_rollback("k8s.upgrade.rollback-overdue", operator(age=20), NOW, 10, "blink-runner").outcome is Outcome.FAILED
    dead = operator(age=3600, ready=False, state="waiting", reason="CrashLoopBackOff")
    assert judge_rollback("k8s.upgrade.rollback-overdue", dead, NOW, 300, "blink-runner").outcome is Outcome.PASSED
    unknown = OperatorFacts("blink-operator-1", NS, None, ())
    assert judge_rollback("k8s.upgrade.rollback-overdue", unknown, NOW, 300, "blink-runner").outcome is Outcome.NOT_EVALUABLE


def test_an_operator_alive_in_another_namespace_does_not_take_this_handoff():
    pattern = CATALOG.upgrade_patterns["operator_handoff"]
    runner = pod_facts(pod())
    w = window(HANDOFF)
    elsewhere = replace(operator(), namespace="blink-staging")
    f = judge_operator_handoff("k8s.upgrade.operator-handoff", runner, w, find_handoff(w, pattern), [elsewhere], "blink-runner")
    assert f.outcome is Outcome.FAILED
    assert f.summary == ("The upgrade to 1.0.995 has failed: pod blink/blink-runner-7d9f8-abcde logged the operator "
                         "handoff, still runs, and no blink-operator is alive (no blink-operator deployment or pod "
                         "exists).")
    here = judge_operator_handoff("k8s.upgrade.operator-handoff", runner, w, find_handoff(w, pattern), [elsewhere, operator()], "blink-runner")
    assert here.outcome is Outcome.PASSED
    assert here.summary == ("pod blink/blink-runner-7d9f8-abcde handed the upgrade to 1.0.995 to the operator, and "
                            "deployment blink/blink-operator-1.0.995 is alive.")


# ------------------------------------------------------------------ operator state: which operator, how long, the window


def crashing_operator(version: str = "1.0.995", age: float = 60) -> OperatorFacts:
    """An operator whose only pod crash-loops (exit code 1), as `kubectl get pods` shows it after a failed start."""
    name = f"blink-operator-{version}"
    c = container("waiting", "CrashLoopBackOff", ready=False, restarts=3, last_reason="Error", last_exit=1,
                  name="blink-operator")  # fmt: skip
    p = pod_facts(pod(f"{name}-5c7b9-xyz12", containers=[c], labels={"app": "blink-operator"}, age=age))
    return replace(operator(version=version, age=age, ready=False), pods=(p,))


CRASHING = ("blink-operator-1.0.995-5c7b9-xyz12 CrashLoopBackOff (the container keeps crashing; restarts 3, last exit "
            "code 1 (Error))")


def test_operator_state_names_the_operator_that_is_not_running_not_the_first():
    f = judge_operator_state("k8s.upgrade.operator-state", [operator(version="1.0.994"), crashing_operator()], NS, NOW,
                             300)  # fmt: skip
    assert (f.condition_id, f.outcome, f.variant) == ("k8s.upgrade.operator-state", Outcome.WARNING, "not-running")
    assert f.object == "deployment blink/blink-operator-1.0.995"
    assert remedy(f).startswith(f"Operator blink-operator-1.0.995 in blink exists but is not running: {CRASHING}. The "
                                "runbook waits one minute and checks again (the operator-stuck check does).\n")  # fmt: skip


@pytest.mark.parametrize(
    ("age", "summary_tail"),
    [
        (60, " (for 1m); its 5m rollback window ends in 4m."),
        (299, " (for 4m 59s); its 5m rollback window ends in 1s."),
        (300, " (for 5m)."),  # the window is over: nothing is left to count down (the rollback check judges it)
        (3600, " (for 1h)."),
    ],
)
def test_operator_in_progress_counts_down_its_rollback_window(age, summary_tail):
    f = judge_operator_state("k8s.upgrade.operator-state", [operator(age=age)], NS, NOW, 300)
    assert (f.outcome, f.variant, f.object) == (Outcome.WARNING, "in-progress", "deployment blink/blink-operator-1.0.995")
    assert f.summary == ("Operator deployment blink/blink-operator-1.0.995 is running: an upgrade to 1.0.995 is in "
                         f"progress{summary_tail} Do nothing, wait for it to complete.")  # fmt: skip
    assert remedy(f).startswith(f"Operator blink-operator-1.0.995 in blink is running: an upgrade to 1.0.995 is in "
                                f"progress (for {human(age)}; its rollback window is 5m). Do nothing")  # fmt: skip


def test_operator_in_progress_without_a_creation_time_says_its_age_is_unknown():
    raw = pod("blink-operator-1.0.995-5c7b9-xyz12", containers=[container(name="blink-operator")],
              labels={"app": "blink-operator"})  # fmt: skip
    del raw["metadata"]["creationTimestamp"]
    only_a_pod = OperatorFacts("blink-operator-1.0.995", NS, None, (pod_facts(raw),))
    f = judge_operator_state("k8s.upgrade.operator-state", [only_a_pod], NS, NOW, 300)
    assert (f.outcome, f.variant) == (Outcome.WARNING, "in-progress")
    assert f.summary == ("Operator pod blink/blink-operator-1.0.995 is running: an upgrade to 1.0.995 is in progress. "
                         "Do nothing, wait for it to complete.")
    assert remedy(f).startswith("Operator blink-operator-1.0.995 in blink is running: an upgrade to 1.0.995 is in "
                                "progress (for ?; its rollback window is 5m).")  # fmt: skip


# ------------------------------------------------------------------ handoff: a runner that stopped, several operators


def test_a_runner_that_stopped_after_the_handoff_did_what_the_handoff_says():
    pattern = CATALOG.upgrade_patterns["operator_handoff"]
    w = window(HANDOFF)
    stopped = pod_facts(pod(containers=[container("terminated", "Completed", ready=False)], phase="Succeeded"))
    f = judge_operator_handoff("k8s.upgrade.operator-handoff", stopped, w, find_handoff(w, pattern), [], "blink-runner")
    assert (f.condition_id, f.outcome, f.object) == ("k8s.upgrade.operator-handoff", Outcome.PASSED,
                                                     "pod blink/blink-runner-7d9f8-abcde")  # fmt: skip
    assert f.summary == ("pod blink/blink-runner-7d9f8-abcde logged the handoff to 1.0.995 and is no longer running, as "
                         "the handoff says.")
    (line,) = f.evidence
    assert (line.title, line.text) == ("Handoff line", HANDOFF)
    assert line.source == "pod blink/blink-runner-7d9f8-abcde, last 2000 lines, since 1h"


def test_a_failed_handoff_lists_every_operator_of_the_namespace_that_is_not_alive():
    pattern = CATALOG.upgrade_patterns["operator_handoff"]
    w = window(HANDOFF)
    dead = [operator(version="1.0.995", with_pod=False, ready=False), operator(version="1.0.996", with_pod=False, ready=False)]
    f = judge_operator_handoff("k8s.upgrade.operator-handoff", pod_facts(pod()), w, find_handoff(w, pattern), dead,
                               "blink-runner")  # fmt: skip
    assert f.outcome is Outcome.FAILED
    state = ("deployment blink/blink-operator-1.0.995: no pods (replicas 1); deployment blink/blink-operator-1.0.996: no "
             "pods (replicas 1)")
    assert f.summary.endswith(f"no blink-operator is alive ({state}).")
    assert [(e.title, e.text) for e in f.evidence][1] == ("blink-operator", state)


# ------------------------------------------------------------------ operator stuck: the evidence, each outcome in full


def operator_logs(*lines: str, previous: tuple[str, ...] = ()):
    return scan_lines(lines, PATTERNS, "pod blink/blink-operator-1.0.995-5c7b9-xyz12", "last 2000 lines, since 1h",
                      previous)  # fmt: skip


@pytest.mark.parametrize(
    ("events", "logs", "titles", "log_text"),
    [
        ([], operator_logs("reconciling", previous=("panic: boom",)),
         ["Events of blink-operator-1.0.995's pods", "Operator logs"],
         "--- previous container ---\npanic: boom\n--- current ---\nreconciling"),
        (None, operator_logs(previous=("panic: boom",)), ["Operator logs"],
         "--- previous container ---\npanic: boom\n--- current ---\n(no log lines in the window)"),
        (None, operator_logs("reconciling"), ["Operator logs"], "reconciling"),
        (None, operator_logs(), [], None),  # no lines at all: nothing to show
        (None, None, [], None),
    ],
    ids=["events-and-both-containers", "only-the-previous-container", "only-the-current", "empty-logs", "no-logs"],
)
def test_a_stuck_operator_shows_its_deployment_pods_events_and_logs(events, logs, titles, log_text):
    o = crashing_operator()
    f = judge_operator_stuck("k8s.upgrade.operator-stuck", o, o, Wait(60, 60.2, 20, False), "blink-runner", NOW, events,
                             logs)  # fmt: skip
    assert [e.title for e in f.evidence] == [
        "kubectl get deployment | grep blink-operator", "kubectl get pods | grep blink-operator", *titles]
    assert f.evidence[0].text.splitlines()[1].split() == ["blink", "blink-operator-1.0.995", "0/1", "1", "0", "1m"]
    assert f.evidence[1].text.splitlines()[1].split()[:4] == ["blink", "blink-operator-1.0.995-5c7b9-xyz12", "0/1",
                                                              "CrashLoopBackOff"]  # fmt: skip
    if events is not None:
        assert f.evidence[2].text == "(no events)"
    if log_text is not None:
        assert (f.evidence[-1].text, f.evidence[-1].source) == (log_text, "pod blink/blink-operator-1.0.995-5c7b9-xyz12, "
                                                                "last 2000 lines, since 1h")  # fmt: skip


def test_a_stuck_operator_without_pods_shows_its_deployment_only():
    o = operator(with_pod=False, ready=False)
    f = judge_operator_stuck("k8s.upgrade.operator-stuck", o, o, Wait(60, 60, 20, False), "blink-runner", NOW)
    assert [e.title for e in f.evidence] == ["kubectl get deployment | grep blink-operator"]
    bare = OperatorFacts("blink-operator-1.0.995", NS, None, crashing_operator().pods)
    f = judge_operator_stuck("k8s.upgrade.operator-stuck", bare, bare, Wait(60, 60, 20, False), "blink-runner", NOW)
    assert [e.title for e in f.evidence] == ["kubectl get pods | grep blink-operator"]


@pytest.mark.parametrize(
    ("after", "wait", "outcome", "summary"),
    [
        ("same", Wait(60, 60.2, 20, False), Outcome.FAILED,
         f"deployment blink/blink-operator-1.0.995 exists but is still not running after the runbook's wait ({CRASHING}; "
         "waited 1m of 1m (20 checks, until the deadline))."),
        ("same", Wait(1, 1, 1, False), Outcome.FAILED,  # a one-second wait is a wait
         f"deployment blink/blink-operator-1.0.995 exists but is still not running after the runbook's wait ({CRASHING}; "
         "waited 1s of 1s (1 checks, until the deadline))."),
        ("same", Wait(0, 0, 0, False), Outcome.WARNING,
         f"deployment blink/blink-operator-1.0.995 exists but is not running ({CRASHING}); still pending: the runbook "
         "waits one minute and checks again, and this run did not wait (--operator-wait 0). Re-run with --operator-wait "
         "60s."),
        ("running", Wait(60, 12, 4, True), Outcome.PASSED,
         "deployment blink/blink-operator-1.0.995 was not running at first and runs now (waited 12s of 1m (4 checks, "
         "until it recovered))."),
        ("gone", Wait(60, 3, 1, True), Outcome.PASSED,
         "deployment blink/blink-operator-1.0.995 was not running and is gone now (waited 3s of 1m (1 checks, until it "
         "recovered)): the operator finished or rolled back."),
    ],
    ids=["stuck", "one-second-wait", "no-wait", "recovered", "gone"],
)
def test_operator_stuck_outcomes_in_full(after, wait, outcome, summary):
    before = crashing_operator()
    now = {"same": before, "running": operator(), "gone": None}[after]
    f = judge_operator_stuck("k8s.upgrade.operator-stuck", before, now, wait, "blink-runner", NOW)
    assert (f.condition_id, f.outcome, f.object) == ("k8s.upgrade.operator-stuck", outcome,
                                                     "deployment blink/blink-operator-1.0.995")  # fmt: skip
    assert f.summary == summary
    if outcome is not Outcome.PASSED:  # pending or stuck: what to do with it
        assert len(f.evidence) == 2
        text = remedy(f)
        assert "`kubectl delete deployment blink-operator-1.0.995 -n blink`" in text
        assert "`kubectl rollout restart deployment blink-runner -n blink`" in text
        assert f"has not been running for {human(wait.down_for_s)} ({CRASHING})" in text


@pytest.mark.parametrize(
    ("wait", "text"),
    [
        (Wait(0, 0, 0, False), "did not wait (--operator-wait 0)"),
        (Wait(60, 60.2, 20, False), "waited 1m of 1m (20 checks, until the deadline)"),
        # Another stuck operator's wait already used the shared deadline: no check was made.
        (Wait(60, 0, 0, False), "waited 0s of 1m (0 checks, until the deadline)"),
        (Wait(60, 0, 0, False, already_s=59), "not running for 59s at the first look; waited 0s of the remaining 1s "
                                             "(0 checks, until the deadline)"),
        (Wait(60, 0, 0, False, already_s=60), "not running for 1m at the first look, already longer than the 1m wait: "
                                             "no need to wait"),
        (Wait(60, 60, 20, False, already_s=0), "not running for 0s at the first look; waited 1m of the remaining 1m "
                                              "(20 checks, until the deadline)"),
    ],
    ids=["no-wait", "whole-wait", "deadline-used", "1s-left", "exactly-the-wait", "down-since-now"],
)
def test_the_wait_says_what_it_waited_for_at_its_edges(wait, text):
    assert wait.text() == text


# ------------------------------------------------------------------ rollback: each outcome in full


def test_rollback_outcomes_in_full():
    over = judge_rollback("k8s.upgrade.rollback-overdue", operator(age=3600), NOW, 300, "blink-runner")
    assert (over.condition_id, over.outcome, over.object) == ("k8s.upgrade.rollback-overdue", Outcome.FAILED,
                                                              "deployment blink/blink-operator-1.0.995")  # fmt: skip
    assert over.summary == ("deployment blink/blink-operator-1.0.995 has been alive for 1h, past its 5m rollback "
                            "window: the automatic rollback did not happen.")
    unknown = judge_rollback("k8s.upgrade.rollback-overdue", OperatorFacts("blink-operator-1", NS, None, ()), NOW, 300,
                             "blink-runner")  # fmt: skip
    assert (unknown.condition_id, unknown.outcome, unknown.object) == ("k8s.upgrade.rollback-overdue",
                                                                       Outcome.NOT_EVALUABLE, "pod blink/blink-operator-1")  # fmt: skip
    assert unknown.summary == "pod blink/blink-operator-1 has no creation time: its age is unknown."
