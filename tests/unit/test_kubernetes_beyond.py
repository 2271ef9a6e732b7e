"""Beyond the runbook on Kubernetes: the judges of NetworkPolicies, the runner pods' nodes, evicted pods and
quotas, on the API's own JSON (canned)."""

from __future__ import annotations

from typing import Any

import pytest

from blinkcheck.catalog import load_catalog
from blinkcheck.kubernetes.beyond import (
    judge_clock,
    judge_evictions,
    judge_network_policy,
    judge_node,
    judge_quota,
    not_granted,
)
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
from blinkcheck.probe.clock import runner_clock
from blinkcheck.probe.result import ProbeResult, Step
from tests.unit.kubernetes_objects import deployment, pod

NS = "blink"
NP, NODE, EVICTED, QUOTA = ("k8s.beyond.network-policy", "k8s.beyond.node-pressure", "k8s.beyond.evicted-pods",
                            "k8s.beyond.quota-blocks-upgrade")  # fmt: skip
CLOCK = "k8s.runner.clock-skew"
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
    assert f.outcome is Outcome.FAILED and "one more pod of deployment blink-operator-1.0.995 needs 200m more" in f.summary
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
        judge_clock(CLOCK, RUNNER, answered(BLINK_DATE, BLINK_EPOCH + 300), 60, "blink.lab.test"),
    ]


# ------------------------------------------------------------------ the runner pod's clock against Blink's Date

BLINK_DATE, BLINK_EPOCH = "Wed, 02 Dec 2026 16:00:00 GMT", 1796227200.0
URL = "https://blink.lab.test:18443"
ANSWERED = (Step("dns", True, "resolved"), Step("tcp", True, "connected"), Step("tls", True, "ok"),
            Step("http", True, "HTTP 200"))  # fmt: skip


def answered(date: str, clock: float, tool: str = "curl", **more: Any) -> ProbeResult:
    return ProbeResult(RUNNER.label, URL, steps=ANSWERED, http_status="200", tool=tool, server_date=date,
                       clock_at=clock, **more)  # fmt: skip


def test_a_runner_pods_clock_off_by_more_than_the_limit_fails_naming_its_node():
    how = "`kubectl exec -n blink blink-runner-7d9f8-abcde -c blink-runner -- date -u +%s`, 0.8s after the tool's answer"
    f = judge_clock(CLOCK, RUNNER, answered(BLINK_DATE, BLINK_EPOCH + 300.4, clock_how=how), 60, "blink.lab.test")
    assert (f.outcome, f.object, f.summary) == (
        Outcome.FAILED, "pod blink/blink-runner-7d9f8-abcde",
        "The clock of pod blink/blink-runner-7d9f8-abcde (node node0) is 5m ahead of Blink's.")  # fmt: skip
    assert load_catalog()[CLOCK].remediation(f.variant, f.values) == (
        "The clock of runner pod blink-runner-7d9f8-abcde in blink is 5m ahead of Blink's (the Date of Blink's answer: "
        "Wed, 02 Dec 2026 16:00:00 GMT); more than 1m off, TLS certificates and signed requests to blink.lab.test "
        "fail.\n"
        "Pods use their node's clock: fix it on node node0, where the pod runs. Its time service (chronyd, "
        "systemd-timesyncd or ntpd) must run and synchronise: check it there (`chronyc sources`, `timedatectl "
        "timesync-status`) and restart it; on a managed cluster the node image keeps the time (replace a node that "
        "drifts).\n"
        "- Check: `kubectl exec -n blink blink-runner-7d9f8-abcde -- date -u`, then on node node0: `date -u`, and "
        "`timedatectl` (systemd) or `chronyc tracking` (chrony)")
    assert [(e.title, e.text) for e in f.evidence] == [
        ("Clocks", "Blink's Date header: Wed, 02 Dec 2026 16:00:00 GMT\nthe runner's clock then: Wed, 02 Dec 2026 "
                   f"16:05:00 GMT\nthe runner's clock read by: {how}\noffset: +300.4s")]  # fmt: skip
    behind = judge_clock(CLOCK, RUNNER, answered(BLINK_DATE, BLINK_EPOCH - 61.5), 60, "b")
    assert (behind.outcome, behind.summary) == (
        Outcome.FAILED, "The clock of pod blink/blink-runner-7d9f8-abcde (node node0) is 1m 2s behind Blink's.")


def test_a_runner_pods_clock_within_the_limit_passes():
    f = judge_clock(CLOCK, RUNNER, answered(BLINK_DATE, BLINK_EPOCH - 59.4), 60, "b")
    assert (f.outcome, f.summary) == (
        Outcome.PASSED, "The clock of pod blink/blink-runner-7d9f8-abcde (node node0) is within 1m of Blink's (-59s).")
    same = judge_clock(CLOCK, RUNNER, answered(BLINK_DATE, BLINK_EPOCH - 0.04), 60, "b")
    assert same.summary.endswith("is within 1m of Blink's (+0s).")  # not "-0s"


@pytest.mark.parametrize(
    ("result", "why", "hints"),
    [
        (ProbeResult(RUNNER.label, URL, unavailable="alice may not exec into pods in blink (create pods/exec is not "
                     "granted)", enable="kubectl apply -f rbac/role-probe-exec.yaml"),
         "the egress probe cannot run for pod blink/blink-runner-7d9f8-abcde (alice may not exec into pods in blink "
         "(create pods/exec is not granted)): Blink's Date is read from its answer",
         ("To enable it: kubectl apply -f rbac/role-probe-exec.yaml",)),
        (answered("", 0.0, tool="nc"), "the probe ran nc, which only connects and reads no answer, so Blink's Date is "
         "not known (curl or wget in the runner's image shows it)", ()),
        (answered("", 0.0), "Blink's answer carried no Date header", ()),
        (answered(BLINK_DATE, 0.0, clock_unread="the runner's container has no `date` to read its clock with "
                  "(`date -u +%s`)"),
         "the runner's container has no `date` to read its clock with (`date -u +%s`)", ()),
        (answered(BLINK_DATE, 0.0), "the runner's clock was not read", ()),
        (answered("yesterday", BLINK_EPOCH), "Blink's Date header is not a date: 'yesterday'", ()),
    ],
    ids=["no exec", "nc", "no Date", "no date command", "clock not read", "bad Date"],
)
def test_a_clock_that_cannot_be_compared_is_skipped_saying_why(result, why, hints):
    f = judge_clock(CLOCK, RUNNER, result, 60, "b")
    assert (f.outcome, f.summary, f.hints, f.evidence) == (Outcome.SKIPPED, f"Not checked: {why}.", hints, ())


def test_a_probe_that_did_not_finish_is_not_evaluable_and_one_blink_did_not_answer_is_blocked():
    """The probe could not look (the exec stream never opened): nothing is known, not-evaluable. It looked and Blink
    did not answer (egress blocked): blocked by k8s.disconnected.blink-reachable, which fails for this pod."""
    unfinished = ProbeResult(RUNNER.label, URL, tool="curl", error="exec failed: the exec stream did not open within 12s")
    f = judge_clock(CLOCK, RUNNER, unfinished, 60, "b")
    assert (f.outcome, f.summary, f.because_of) == (
        Outcome.NOT_EVALUABLE, "Could not compare: the egress probe did not finish (exec failed: the exec stream did "
        "not open within 12s): Blink's Date is read from its answer.", "")  # fmt: skip
    dropped = ProbeResult(RUNNER.label, URL, tool="curl", steps=(Step("dns", True, "resolved"),
                                                                 Step("tcp", False, "timed out", timed_out=True)))
    f = judge_clock(CLOCK, RUNNER, dropped, 60, "b")
    assert (f.outcome, f.summary, f.because_of, f.object) == (
        Outcome.BLOCKED, "Blink did not answer the egress probe from pod blink/blink-runner-7d9f8-abcde (it failed at "
        "the TCP connect (timeout) layer): no Date to compare.", "k8s.disconnected.blink-reachable",
        "pod blink/blink-runner-7d9f8-abcde")  # fmt: skip
    # a failed HTTP layer with an answer (a Date) is an answer: its Date counts
    refused = ProbeResult(RUNNER.label, URL, steps=(*ANSWERED[:3], Step("http", False, "HTTP 503")), tool="curl",
                          server_date=BLINK_DATE, clock_at=BLINK_EPOCH + 2)  # fmt: skip
    assert judge_clock(CLOCK, RUNNER, refused, 60, "b").outcome is Outcome.PASSED


@pytest.mark.parametrize(
    ("rc", "stdout", "stderr", "error", "missing", "expected"),
    [
        (0, "1796227302\n", "", "", False, (1796227300.5, "")),  # 1.5 s between the tool's answer and date's
        (None, "", "", "", True, (0.0, "the runner's container has no `date` to read its clock with (`date -u +%s`)")),
        (None, "", "", "timed out", False, (0.0, "`date -u +%s` in the runner's container did not answer (timed out)")),
        (1, "", "date: invalid date '+%s'\n", "", False,
         (0.0, "`date -u +%s` in the runner's container failed (exit code 1: date: invalid date '+%s')")),
        (2, "", "", "", False, (0.0, "`date -u +%s` in the runner's container failed (exit code 2)")),
        (0, "%s\n", "", "", False,
         (0.0, "`date -u +%s` in the runner's container printed '%s', not seconds since the epoch")),
    ],
    ids=["read", "no date", "no answer", "refused", "failed silently", "no %s"],
)
def test_the_runner_clock_from_date_less_the_time_since_the_tools_answer(rc, stdout, stderr, error, missing, expected):
    assert runner_clock(rc, stdout, stderr, 1000.0, 1001.5, error, missing) == expected


def test_a_date_answered_before_the_tool_is_taken_as_is():
    """Times out of order (the suite's monotonic clock does not run backwards: a caller's mistake) correct nothing."""
    assert runner_clock(0, "1796227302", "", 1001.5, 1000.0) == (1796227302.0, "")
