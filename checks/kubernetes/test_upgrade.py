"""Runbook: Runner Upgrade Failure / Kubernetes, steps 3-4 (steps 1-2 are the Disconnected checks)."""

import pytest

from blinkcheck.blinkview import judge_version
from blinkcheck.kubernetes.blink import local_runner
from blinkcheck.kubernetes.upgrade import (
    find_handoff,
    judge_operator_handoff,
    judge_operator_state,
    judge_operator_stuck,
    judge_rollback,
)
from blinkcheck.model import CouldNotLook


def _operator_logs(kubernetes_facts, operator):
    """The operator's logs as evidence (`kubectl logs deployment/blink-operator-...`), when readable."""
    out = {}
    for pod in operator.pods:
        if not pod.has_run:
            continue
        try:
            out[pod.name] = kubernetes_facts.log_window(pod, pod.containers[0].name if pod.containers else None)
        except CouldNotLook:
            pass
    return out


@pytest.mark.condition("k8s.upgrade.operator-state")
def test_operator_state(kubernetes_facts, operators, spec, record):
    """Steps 3-4: `kubectl get pods | grep blink-operator`, `kubectl get deployment | grep blink-operator`."""
    for ns in kubernetes_facts.namespaces:
        mine = [o for o in operators if o.namespace == ns]
        logs = {name: w for o in mine for name, w in _operator_logs(kubernetes_facts, o).items()}
        now = kubernetes_facts.now()
        record(judge_operator_state(record.condition_id, mine, ns, now, spec.rollback_window_s, logs))


@pytest.mark.condition("k8s.upgrade.operator-handoff")
def test_operator_handoff(kubernetes_facts, runner_pods, operators, catalog, spec, record):
    """Step 3: "Operator has been deployed with version: ..." while the runner runs and no operator is alive."""
    pattern = catalog.upgrade_patterns["operator_handoff"]
    judged = False
    kubernetes_facts.read_logs(runner_pods)
    for pod in runner_pods:
        if not pod.has_run:
            continue
        window = kubernetes_facts.log_window(pod)
        deployment = kubernetes_facts.runner_deployment(pod.namespace)
        name = deployment.name if deployment else spec.runner_name
        record(judge_operator_handoff(record.condition_id, pod, window, find_handoff(window, pattern), operators, name))
        judged = True
    if not judged:
        record.nothing_to_judge("no runner pod has logs to search")


@pytest.mark.condition("k8s.upgrade.operator-stuck")
def test_operator_not_stuck(kubernetes_facts, operators, spec, record):
    """Step 4: operator exists but is not running → wait one minute, check again; still down → delete it."""
    stuck = [o for o in operators if not o.running]
    for before in stuck:
        after, wait = kubernetes_facts.wait_for_operator(before)
        pod = (after or before).pods[0] if (after or before).pods else None
        events = kubernetes_facts.events(pod.namespace, pod.name) if pod else None
        logs = next(iter(_operator_logs(kubernetes_facts, after).values()), None) if after else None
        now = kubernetes_facts.now()
        record(judge_operator_stuck(record.condition_id, before, after, wait, spec.runner_name, now, events, logs))
    if not stuck:
        running = ", ".join(o.name for o in operators)
        summary = (
            f"Every blink-operator runs ({running})." if operators else "No blink-operator exists: nothing to wait for."
        )
        where = kubernetes_facts.namespace_text
        record.passed(summary, where, values={"namespace": where})


@pytest.mark.condition("k8s.upgrade.rollback-overdue")
def test_rollback_not_overdue(kubernetes_facts, operators, spec, record):
    """Step 3: the operator rolls back by itself after 5 minutes if the upgrade fails."""
    now = kubernetes_facts.now()
    for operator in operators:
        record(judge_rollback(record.condition_id, operator, now, spec.rollback_window_s, spec.runner_name))
    if not operators:
        where = kubernetes_facts.namespace_text
        record.passed("No blink-operator exists: no rollback is due.", where, values={"namespace": where})


@pytest.mark.condition("k8s.blink.version")
def test_blink_reports_the_running_version(runner_pods, blink_view, spec, record):
    """Steps 5-6 as Blink sees it: the version Blink reports is the runner image each pod runs."""
    local = [local_runner(p, spec.runner_name) for p in runner_pods]
    runners = blink_view.runners_for(record.condition_id)
    for r in local:
        record(judge_version(record.condition_id, r, runners))
    if not local:
        record.nothing_to_judge("no runner here")
