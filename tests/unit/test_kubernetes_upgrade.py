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
