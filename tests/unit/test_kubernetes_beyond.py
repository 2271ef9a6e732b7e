"""Beyond the runbook on Kubernetes: the judges of NetworkPolicies, the runner pods' nodes, evicted pods and
quotas, on the API's own JSON (canned)."""

from __future__ import annotations

from typing import Any

import pytest

from blinkcheck.kubernetes.beyond import judge_evictions, judge_network_policy, judge_node, judge_quota, not_granted
from blinkcheck.kubernetes.facts import quantity
from blinkcheck.kubernetes.parse import (
    deployment_facts,
    limit_facts,
    network_policy_facts,
    node_facts,
    pod_facts,
    quota_facts,
)
from blinkcheck.model import Outcome
from tests.unit.kubernetes_objects import deployment, pod

NS = "blink"
NP, NODE, EVICTED, QUOTA = ("k8s.beyond.network-policy", "k8s.beyond.node-pressure", "k8s.beyond.evicted-pods",
                            "k8s.beyond.quota-blocks-upgrade")  # fmt: skip
RUNNER = pod_facts(pod(labels={"app": "blink-runner", "release": "blink-runner"}))
DNS_RULE = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}  # fmt: skip


def policy(name: str = "deny-egress", selector: dict[str, Any] | None = None, types: list[str] | None = None,
           egress: list[dict[str, Any]] | None = None) -> Any:  # fmt: skip
    spec: dict[str, Any] = {"podSelector": selector if selector is not None else {"matchLabels": {"app": "blink-runner"}}}
    if types is not None:
        spec["policyTypes"] = types
    if egress is not None:
        spec["egress"] = egress
    return network_policy_facts({"metadata": {"name": name, "namespace": NS}, "spec": spec})


def np_judge(*policies: Any, host: str = "app.blinkops.com", port: int = 443) -> Any:
    return judge_network_policy(NP, RUNNER, list(policies), host, port)


def test_no_policy_or_ingress_only_passes():
    assert np_judge().outcome is Outcome.PASSED
    f = np_judge(policy(types=["Ingress"]))
    assert f.outcome is Outcome.PASSED and "none of type Egress" in f.summary and "1 selecting it" in f.summary


def test_deny_all_egress_fails_naming_the_policy():
    f = np_judge(policy(types=["Egress"]))
    assert (f.outcome, f.variant, f.values["policy"]) == (Outcome.FAILED, "blocked", "deny-egress")
    assert "no rule allows TCP 443 to app.blinkops.com" in f.summary and f.object == RUNNER.label


def test_only_dns_allowed_fails_on_blinks_port():
    f = np_judge(policy(types=["Egress"], egress=[DNS_RULE]))
    assert (f.outcome, f.variant) == (Outcome.FAILED, "blocked")
    assert "namespaces kubernetes.io/metadata.name=kube-system" in f.values["allowed"]


def test_policies_are_additive_and_a_policy_not_selecting_the_pod_does_not_count():
    allow = policy("allow-blink", egress=[{"ports": [{"port": 443}]}, DNS_RULE])
    assert np_judge(policy(types=["Egress"]), allow).outcome is Outcome.PASSED
    other = policy("allow-blink", selector={"matchLabels": {"app": "other"}}, egress=[{"ports": [{"port": 443}]}])
    assert np_judge(policy(types=["Egress"]), other).outcome is Outcome.FAILED


def test_port_without_dns_fails_as_no_dns():
    f = np_judge(policy(egress=[{"ports": [{"protocol": "TCP", "port": 443}]}]))
    assert (f.outcome, f.variant) == (Outcome.FAILED, "no-dns")


@pytest.mark.parametrize(("rule", "outcome"), [
    ({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443}]}, Outcome.PASSED),
    ({"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 443}]}, Outcome.WARNING),
    ({"ports": [{"port": 8000, "endPort": 9000}]}, Outcome.FAILED),
    ({"ports": [{"port": 400, "endPort": 500}]}, Outcome.PASSED),
    ({"ports": [{"port": "https"}]}, Outcome.WARNING),
    ({"ports": [{"protocol": "UDP", "port": 443}]}, Outcome.FAILED),
    ({"to": [{"podSelector": {}}]}, Outcome.FAILED),
])  # fmt: skip
def test_egress_rules_ports_and_destinations(rule, outcome):
    assert np_judge(policy(egress=[rule, DNS_RULE])).outcome is outcome


def test_ip_literal_blink_is_checked_against_cidr_and_except():
    rule = {"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}], "ports": [{"port": 18443}]}
    assert np_judge(policy(egress=[rule, DNS_RULE]), host="10.2.3.4", port=18443).outcome is Outcome.PASSED
    assert np_judge(policy(egress=[rule, DNS_RULE]), host="10.1.3.4", port=18443).outcome is Outcome.FAILED
    assert np_judge(policy(egress=[rule, DNS_RULE]), host="192.168.1.1", port=18443).outcome is Outcome.FAILED


def test_match_expressions_select():
    sel = {"matchExpressions": [{"key": "app", "operator": "In", "values": ["blink-runner"]}]}
    assert np_judge(policy(selector=sel, types=["Egress"])).outcome is Outcome.FAILED
    sel = {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["blink-runner"]}]}
    assert np_judge(policy(selector=sel, types=["Egress"])).outcome is Outcome.PASSED
    assert np_judge(policy(selector={}, types=["Egress"])).outcome is Outcome.FAILED  # {} selects every pod


def node(conditions: list[tuple[str, str]], unschedulable: bool = False) -> Any:
    conds = [{"type": t, "status": s, "reason": f"Kubelet{t}", "message": f"kubelet says {t}={s}"} for t, s in conditions]
    return node_facts({"metadata": {"name": "vm"}, "spec": {"unschedulable": unschedulable}, "status": {"conditions": conds}})


HEALTHY = [("Ready", "True"), ("DiskPressure", "False"), ("MemoryPressure", "False"), ("PIDPressure", "False")]


@pytest.mark.parametrize(("change", "says"), [
    (("DiskPressure", "True"), "DiskPressure=True"),
    (("MemoryPressure", "True"), "MemoryPressure=True"),
    (("PIDPressure", "True"), "PIDPressure=True"),
    (("Ready", "False"), "Ready=False"),
    (("Ready", "Unknown"), "Ready=Unknown"),
])  # fmt: skip
def test_node_pressure_and_not_ready_fail(change, says):
    conds = [change if t == change[0] else (t, s) for t, s in HEALTHY]
    f = judge_node(NODE, node(conds), [RUNNER], "blink-runner")
    assert f.outcome is Outcome.FAILED and says in f.summary and f.values["condition"] == says
    assert f.values["message"] == f"kubelet says {says}" and f.object == "node vm"


def test_healthy_node_passes_and_cordoned_warns():
    assert judge_node(NODE, node(HEALTHY), [RUNNER], "blink-runner").outcome is Outcome.PASSED
    assert judge_node(NODE, node(HEALTHY, unschedulable=True), [RUNNER], "blink-runner").outcome is Outcome.WARNING


def test_evicted_pod_fails_with_reason_and_message():
    raw = pod(name="blink-runner-7d9f8-old", phase="Failed", reason="Evicted")
    raw["status"]["message"] = "The node was low on resource: memory."
    raw["spec"] = {**raw.get("spec", {}), "nodeName": "vm"}
    [f] = judge_evictions(EVICTED, [RUNNER, pod_facts(raw)], NS)
    assert f.outcome is Outcome.FAILED and f.values["message"] == "The node was low on resource: memory."
    assert f.values["node"] == "vm" and "was evicted from node vm" in f.summary
    [ok] = judge_evictions(EVICTED, [RUNNER], NS)
    assert ok.outcome is Outcome.PASSED and ok.object == "namespace blink"


def quota(hard: dict[str, str], used: dict[str, str]) -> Any:
    return quota_facts({"metadata": {"name": "blink-quota", "namespace": NS}, "status": {"hard": hard, "used": used}})


def with_requests(name: str, cpu: str) -> Any:
    raw = deployment(name=name)
    raw["spec"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"cpu": cpu}, "limits": {"cpu": cpu}}
    return deployment_facts(raw)


def test_quantities():
    assert quantity("100m") == pytest.approx(0.1) and quantity("128Mi") == 128 * 2**20 and quantity("2") == 2
    assert quantity("1e3") == 1000 and quantity("lots") is None


def test_quota_exhausted_or_short_fails_and_room_passes():
    runner, op = with_requests("blink-runner", "50m"), with_requests("blink-operator-1.0.995", "200m")
    f = judge_quota(QUOTA, NS, [quota({"pods": "1"}, {"pods": "1"})], [], [runner])
    assert (f.outcome, f.variant, f.values["quota"]) == (Outcome.FAILED, "quota", "blink-quota")
    assert "pods used 1 of hard 1: exhausted" in f.summary
    f = judge_quota(QUOTA, NS, [quota({"requests.cpu": "100m"}, {"requests.cpu": "50m"})], [], [runner, op])
    assert f.outcome is Outcome.FAILED and "one more pod of deployment blink-operator-1.0.995 needs 0.2 more" in f.summary
    f = judge_quota(QUOTA, NS, [quota({"requests.cpu": "1", "services": "0"}, {"requests.cpu": "50m"})], [], [runner, op])
    assert f.outcome is Outcome.PASSED and "blink-quota" in f.summary
    assert judge_quota(QUOTA, NS, [], [], [runner]).summary == "No ResourceQuota or LimitRange in blink."


def test_failed_create_names_the_quota_from_the_deployment_condition():
    message = ('pods "blink-operator-1.0.995-abc" is forbidden: exceeded quota: blink-quota, requested: '
               'requests.cpu=200m, used: requests.cpu=50m, limited: requests.cpu=100m')  # fmt: skip
    raw = deployment(name="blink-operator-1.0.995", conditions=[
        {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": message}])  # fmt: skip
    f = judge_quota(QUOTA, NS, [quota({"requests.cpu": "100m"}, {"requests.cpu": "50m"})], [],
                    [deployment_facts(deployment()), deployment_facts(raw)])  # fmt: skip
    assert (f.outcome, f.variant, f.values["quota"], f.values["deployment"]) == (
        Outcome.FAILED, "failed-create", "blink-quota", "blink-operator-1.0.995")


def test_limit_range_max_below_a_request_fails():
    lr = limit_facts({"metadata": {"name": "blink-limits", "namespace": NS},
                      "spec": {"limits": [{"type": "Container", "max": {"cpu": "100m"}}]}})  # fmt: skip
    f = judge_quota(QUOTA, NS, [], lr, [with_requests("blink-operator-1.0.995", "200m")])
    assert (f.outcome, f.variant, f.values["quota"]) == (Outcome.FAILED, "limit-range", "blink-limits")
    assert "maximum cpu per Container is 100m" in f.summary
    assert judge_quota(QUOTA, NS, [], lr, [with_requests("blink-runner", "50m")]).outcome is Outcome.PASSED


def test_not_granted_is_skipped_with_the_grant():
    f = not_granted(NODE, "x may not get nodes. To enable this check: kubectl apply -f rbac/clusterrole-nodes.yaml",
                    "nodes")
    assert f.outcome is Outcome.SKIPPED and f.hints == ("kubectl apply -f rbac/clusterrole-nodes.yaml",)


def beyond_findings() -> list[Any]:
    """One finding of every remedy of the conditions past the runbook (for the remedy placeholder test)."""
    runner, op = with_requests("blink-runner", "50m"), with_requests("blink-operator-1.0.995", "200m")
    evicted = pod(name="blink-runner-old", phase="Failed", reason="Evicted")
    evicted["spec"] = {"nodeName": "vm"}
    lr = limit_facts({"metadata": {"name": "lr", "namespace": NS},
                      "spec": {"limits": [{"type": "Container", "max": {"cpu": "100m"}}]}})  # fmt: skip
    failing = deployment(name="blink-operator-1.0.995", conditions=[
        {"type": "ReplicaFailure", "status": "True", "message": "forbidden: exceeded quota: q"}])  # fmt: skip
    return [
        np_judge(policy(types=["Egress"])),
        np_judge(policy(egress=[{"ports": [{"port": 443}]}])),
        np_judge(policy(egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 443}]}, DNS_RULE])),
        judge_node(NODE, node([("Ready", "True"), ("DiskPressure", "True")]), [RUNNER], "blink-runner"),
        *judge_evictions(EVICTED, [pod_facts(evicted)], NS),
        judge_quota(QUOTA, NS, [quota({"pods": "1"}, {"pods": "1"})], [], [runner, op]),
        judge_quota(QUOTA, NS, [], lr, [runner, op]),
        judge_quota(QUOTA, NS, [], [], [runner, deployment_facts(failing)]),
    ]
