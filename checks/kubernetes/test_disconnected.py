"""Runbook: Runner Disconnected / Kubernetes, steps 1-3."""

import pytest

from blinkcheck.blinkview import group_names, judge_group, judge_ready, judge_seen, readiness_measured
from blinkcheck.catalog import KUBERNETES_PODS_READY
from blinkcheck.kubernetes.blink import local_runner
from blinkcheck.kubernetes.disconnected import judge_logs_readable, judge_pod_ready, judge_pods_exist
from blinkcheck.kubernetes.facts import describe_state
from blinkcheck.logs.judge import has_network_errors, judge_network_errors
from blinkcheck.logs.scan import LogWindow
from blinkcheck.model import CouldNotLook, Outcome
from blinkcheck.probe.judge import judge_probe
from blinkcheck.probe.result import reached


def _logs_if_readable(kubernetes_facts, pod):
    """Log lines as evidence for another check: absent (not a failure) when they cannot be read."""
    try:
        return kubernetes_facts.log_window(pod) if pod.has_run else None
    except CouldNotLook:
        return None


def _probe_passed(kubernetes_probe, pod):
    """The egress probe's answer from this pod (whether the path to Blink is open now); None: could not probe."""
    if not pod.ready:
        return None
    try:
        return reached(kubernetes_probe.probe(pod))
    except CouldNotLook:
        return None


@pytest.mark.condition("k8s.disconnected.pods-exist")
def test_runner_pods_exist(kubernetes_facts, spec, record):
    """Step 1: `kubectl get pods` — the blink-runner deployment and its pods."""
    for ns in kubernetes_facts.namespaces:
        deployment = kubernetes_facts.runner_deployment(ns)
        pods = kubernetes_facts.runner_pods(ns)
        selector = kubernetes_facts.runner_selector_query(ns)
        hpa = kubernetes_facts.hpa_for(deployment)
        record(judge_pods_exist(record.condition_id, deployment, pods, spec.runner_name, ns, selector,
                                kubernetes_facts.now(), hpa))  # fmt: skip


@pytest.mark.condition("k8s.disconnected.pods-ready")
def test_runner_pods_ready(kubernetes_facts, runner_pods, record):
    """Step 1: every runner pod is Running and Ready; the pod's events and last lines say why not."""
    now = kubernetes_facts.now()
    for pod in runner_pods:
        finding = judge_pod_ready(record.condition_id, pod, runner_pods, now)
        if finding.outcome is not Outcome.PASSED:
            events = kubernetes_facts.events(pod.namespace, pod.name)
            logs = _logs_if_readable(kubernetes_facts, pod)
            finding = judge_pod_ready(record.condition_id, pod, runner_pods, now, events, logs)
        record(finding)
    if not runner_pods:
        record.nothing_to_judge("no runner pods (see the check that they exist)")


@pytest.mark.condition("k8s.disconnected.logs-readable")
def test_runner_logs_readable(kubernetes_facts, spec, record):
    """Step 2: `kubectl logs -f deployment/blink-runner`; with HPA, each pod's logs individually."""
    judged = False
    for ns in kubernetes_facts.namespaces:
        deployment = kubernetes_facts.runner_deployment(ns)
        hpa = kubernetes_facts.hpa_for(deployment)
        pods = kubernetes_facts.runner_pods(ns)
        kubernetes_facts.read_logs(pods)  # every pod's window at once (bounded parallelism), then judged one by one
        for pod in pods:
            window = kubernetes_facts.log_window(pod) if pod.has_run else LogWindow(pod.label, spec.log_window)
            name = deployment.name if deployment else spec.runner_name
            record(judge_logs_readable(record.condition_id, pod, window, name, hpa, len(pods)))
            judged = True
    if not judged:
        record.nothing_to_judge("no runner pods to read logs from")


@pytest.mark.condition("k8s.disconnected.no-network-errors")
def test_no_network_errors(kubernetes_facts, kubernetes_probe, runner_pods, catalog, spec, record):
    """Step 3: diagnose the error — failures reaching Blink in each pod's logs (as on Docker)."""
    judged = False
    kubernetes_facts.read_logs(runner_pods)
    for pod in runner_pods:
        if not pod.has_run:
            continue
        window = kubernetes_facts.log_window(pod)
        if window.error:
            continue  # k8s.disconnected.logs-readable reports it
        values = {"pod": pod.name, "namespace": pod.namespace}
        probe_passed = _probe_passed(kubernetes_probe, pod) if spec.probe and has_network_errors(window) else None
        record(judge_network_errors(record.condition_id, window, catalog, spec.blink_url, values,
                                    probe_passed))  # fmt: skip
        judged = True
    if not judged:
        record.nothing_to_judge("no runner pod has logs to judge")


@pytest.mark.condition("k8s.disconnected.blink-reachable")
def test_blink_reachable_from_pod(kubernetes_probe, runner_pods, spec, catalog, record):
    """Step 3: network communication to Blink, tried from inside a runner pod (exec)."""
    if not spec.probe:
        pytest.skip("the egress probe is switched off (--probe off)")
    for pod in runner_pods:
        values = {"pod": pod.name, "namespace": pod.namespace}
        if not pod.ready:
            record.blocked_by(KUBERNETES_PODS_READY,
                              f"{pod.label} is {describe_state(pod)}: the probe runs inside a Ready runner pod.",
                              pod.label, values)  # fmt: skip
            continue
        record(judge_probe(record.condition_id, kubernetes_probe.probe(pod), values, spec.probe_strict,
                           catalog.probe_layers))  # fmt: skip
    if not runner_pods:
        record.nothing_to_judge("no runner pod to probe from")


@pytest.mark.condition("k8s.disconnected.blink-status")
def test_blink_is_up(catalog, blink_view, record):
    """Step 3: verify Blink is up — a manual step in the production-alerts channel, with what the suite measured of
    Blink's readiness beside it."""
    record.manual_blink_status(catalog.site.get("status_channel", ""), readiness_measured(blink_view.readiness()))


@pytest.mark.condition("k8s.blink.ready")
def test_blink_ready(blink_view, kubernetes_facts, kubernetes_probe, spec, record):
    """Step 3: verify Blink is up — its controller's readiness, asked from the suite's host and from each Ready
    runner pod (where the egress probe runs)."""
    ready = lambda: [p for p in kubernetes_facts.runner_pods() if p.ready]  # noqa: E731
    asked = blink_view.readiness_from(ready, kubernetes_probe, spec)
    record(judge_ready(record.condition_id, blink_view.readiness(), blink_view.url, asked))


@pytest.mark.condition("k8s.blink.sees-runner")
def test_blink_sees_runner(runner_pods, blink_view, spec, record):
    """Step 3 as Blink sees it: each running runner pod is one of Blink's runners, recently seen."""
    local = [local_runner(p, spec.runner_name) for p in runner_pods]
    runners, now = blink_view.runners_for(record.condition_id), blink_view.now()
    for r in local:
        record(judge_seen(record.condition_id, r, runners, now, spec.blink_stale_s))
    if not local:
        record.nothing_to_judge("no runner here")


@pytest.mark.condition("k8s.blink.group-available")
def test_blink_group_available(runner_pods, blink_view, spec, record):
    """Blink's view: the runner group of these runner pods has available runners."""
    local = [local_runner(p, spec.runner_name) for p in runner_pods]
    runners, groups = blink_view.runners_for(record.condition_id), blink_view.groups_for(record.condition_id)
    names = group_names(local, runners)
    for name in names:
        record(judge_group(record.condition_id, name, groups))
    if not names:
        record.nothing_to_judge("Blink lists none of the runners that run here, so no group of theirs")
