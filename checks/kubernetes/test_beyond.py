"""Beyond the runbook on Kubernetes: the cluster's causes behind a disconnected runner or a stuck upgrade."""

from urllib.parse import urlsplit

import pytest

from blinkcheck.catalog import KUBERNETES_PODS_READY
from blinkcheck.kubernetes.beyond import (
    judge_clock,
    judge_evictions,
    judge_network_policy,
    judge_node,
    judge_quota,
    not_granted,
)
from blinkcheck.kubernetes.facts import describe_state
from blinkcheck.logs.judge import blink_host

# --- cluster causes ---


def _blink_port(url: str) -> int:
    parts = urlsplit(url)
    return parts.port or (80 if parts.scheme == "http" else 443)


@pytest.mark.condition("k8s.beyond.network-policy")
def test_no_network_policy_blocks_egress(kubernetes_facts, runner_pods, spec, record):
    """A NetworkPolicy that selects the runner pods and allows no egress to Blink's port (or no DNS)."""
    host = blink_host(spec.blink_url)
    for ns in kubernetes_facts.namespaces:
        pods = [p for p in runner_pods if p.namespace == ns]
        why = kubernetes_facts.not_granted("networkpolicies", ns)
        if why:
            record(not_granted(record.condition_id, why, f"namespace {ns}"))
            continue
        policies = kubernetes_facts.network_policies(ns) if pods else []
        for pod in pods:
            record(judge_network_policy(record.condition_id, pod, policies, host, _blink_port(spec.blink_url)))
    if not runner_pods:
        record.nothing_to_judge("no runner pods (see the check that they exist)")


@pytest.mark.condition("k8s.beyond.node-pressure")
def test_runner_nodes_without_pressure(kubernetes_facts, runner_pods, spec, record):
    """The nodes the runner pods run on: Ready, no DiskPressure, MemoryPressure or PIDPressure."""
    on_node: dict[str, list] = {}
    for p in runner_pods:
        if p.node and p.phase not in ("Failed", "Succeeded"):
            on_node.setdefault(p.node, []).append(p)
    if on_node and (why := kubernetes_facts.not_granted("nodes")):
        record(not_granted(record.condition_id, why, "nodes of the runner pods"))
        return
    for name, pods in sorted(on_node.items()):
        deployment = kubernetes_facts.runner_deployment(pods[0].namespace)
        record(judge_node(record.condition_id, kubernetes_facts.node(name), pods,
                          deployment.name if deployment else spec.runner_name))  # fmt: skip
    if not on_node:
        record.nothing_to_judge("no runner pod is placed on a node")


@pytest.mark.condition("k8s.beyond.evicted-pods")
def test_no_evicted_runner_pods(kubernetes_facts, runner_pods, record):
    """Runner pods the kubelet evicted (Failed, reason Evicted), with the kubelet's message."""
    for ns in kubernetes_facts.namespaces:
        for finding in judge_evictions(record.condition_id, [p for p in runner_pods if p.namespace == ns], ns):
            record(finding)


@pytest.mark.condition("k8s.beyond.quota-blocks-upgrade")
def test_no_quota_blocks_the_upgrade(kubernetes_facts, operators, record):
    """A ResourceQuota or LimitRange that refuses the new pods an upgrade needs (the operator's, the new runner's)."""
    for ns in kubernetes_facts.namespaces:
        why = kubernetes_facts.not_granted("resourcequotas", ns) or kubernetes_facts.not_granted("limitranges", ns)
        if why:
            record(not_granted(record.condition_id, why, f"namespace {ns}"))
            continue
        runner = kubernetes_facts.runner_deployment(ns)
        deployments = [d for d in [runner, *(o.deployment for o in operators if o.namespace == ns)] if d]
        record(judge_quota(record.condition_id, ns, kubernetes_facts.resource_quotas(ns),
                           kubernetes_facts.limit_ranges(ns), deployments))  # fmt: skip


# --- the runner's own state ---


@pytest.mark.condition("k8s.runner.clock-skew")
def test_runner_clock(kubernetes_probe, runner_pods, spec, record):
    """The Date header of Blink's answer to the egress probe (exec into the runner pod), against the pod's clock."""
    if not spec.probe:
        pytest.skip("the egress probe is switched off (--probe off): Blink's clock is read from its answer")
    for pod in runner_pods:
        if not pod.ready:
            record.blocked_by(KUBERNETES_PODS_READY,
                              f"{pod.label} is {describe_state(pod)}: the probe runs inside a Ready runner pod.",
                              pod.label, {"pod": pod.name, "namespace": pod.namespace})  # fmt: skip
            continue
        record(judge_clock(record.condition_id, pod, kubernetes_probe.probe(pod), spec.max_clock_skew_s,
                           blink_host(spec.blink_url)))  # fmt: skip
    if not runner_pods:
        record.nothing_to_judge("no runner pod to probe from")
