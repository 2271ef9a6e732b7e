"""The Kubernetes preconditions: the API server answers, the permissions (SelfSubjectAccessReview); and every
remedy placeholder of the Kubernetes conditions is filled by what the judges produce."""

from __future__ import annotations

from blinkcheck.kubernetes.deployment import judge_secret
from blinkcheck.kubernetes.disconnected import judge_logs_readable, judge_pods_exist
from blinkcheck.kubernetes.facts import SecretFacts
from blinkcheck.kubernetes.parse import deployment_facts, pod_facts
from blinkcheck.kubernetes.preconditions import ApiFacts, judge_api, judge_permissions, subject_flag
from blinkcheck.kubernetes.upgrade import (
    Wait,
    judge_operator_stuck,
    judge_rollback,
)
from blinkcheck.logs.judge import judge_network_errors
from blinkcheck.model import Outcome
from tests.unit.fake_kube_api import spec_for
from tests.unit.kubernetes_objects import CATALOG, NOW, NS, access, deployment, operator, pod, remedy, window


def test_permissions_all_granted():
    f = judge_permissions("k8s.cluster.permissions", [access("list", "pods", True, ("a",))], NS, "alice")
    assert f.outcome is Outcome.PASSED


def test_permissions_missing_pods_log_names_verb_resource_and_checks():
    accesses = [
        access("list", "pods", True, ("k8s.disconnected.pods-exist",)),
        access("get", "pods/log", False, ("k8s.disconnected.logs-readable", "k8s.upgrade.operator-handoff")),
    ]
    f = judge_permissions("k8s.cluster.permissions", accesses, NS, "system:serviceaccount:blink:checker")
    assert f.outcome is Outcome.FAILED
    assert "get pods/log in namespace blink" in f.summary
    text = remedy(f)
    assert "get pods/log in namespace blink" in text
    assert "--serviceaccount=blink:checker" in text
    assert "--verb=get --resource=pods/log" in text
    assert "k8s.disconnected.logs-readable, k8s.upgrade.operator-handoff" in text


def test_permissions_optional_or_unknown_only_warn():
    only_events = [access("list", "events", False, ("k8s.disconnected.pods-ready",), optional=True)]
    assert judge_permissions("k8s.cluster.permissions", only_events, NS, "alice").outcome is Outcome.WARNING
    review_failed = [access("list", "pods", None, ("x",))]
    assert judge_permissions("k8s.cluster.permissions", review_failed, NS, "alice").outcome is Outcome.WARNING
    assert subject_flag("alice") == "--user=alice"


def test_api_unreachable_is_not_evaluable_with_the_reason():
    f = judge_api("k8s.cluster.api-reachable", ApiFacts(False, "https://127.0.0.1:6443", "lab", NS, error="connection refused"))
    assert f.outcome is Outcome.NOT_EVALUABLE
    assert "(https://127.0.0.1:6443): connection refused" in remedy(f)
    ok = judge_api("k8s.cluster.api-reachable", ApiFacts(True, "https://127.0.0.1:6443", "lab", NS, version="v1.34.4"))
    assert ok.outcome is Outcome.PASSED and "v1.34.4" in ok.summary


def _hand_made_findings() -> list:
    """Findings of the Kubernetes conditions the lab recordings cannot give (hand-made: the API's answer to the
    suite itself, access reviews, the probe's tool output, the operator wait)."""
    from blinkcheck.model import manual_blink_status
    from blinkcheck.probe.judge import judge_probe
    from blinkcheck.probe.result import ProbeResult, Step

    stuck = operator(ready=False, state="waiting", reason="CrashLoopBackOff", restarts=3)
    probe = ProbeResult("pod blink/p", "https://app.blinkops.com", (Step("dns", True, "ok"), Step("tcp", False, "refused")),
                        command="kubectl exec -n blink p -- curl -sS https://app.blinkops.com",
                        reproduce="kubectl exec -n blink p -- curl -sS https://app.blinkops.com")  # fmt: skip
    return [
        judge_api("k8s.cluster.api-reachable", ApiFacts(False, "https://127.0.0.1:6443", "lab", NS, error="connection refused")),
        judge_permissions("k8s.cluster.permissions", [access("get", "pods/log", False, ("k8s.disconnected.logs-readable",))], NS,
                             "system:serviceaccount:blink:checker"),
        judge_probe("k8s.disconnected.blink-reachable", probe, {"pod": "p", "namespace": NS}, True,
                    CATALOG.probe_layers),
        manual_blink_status("k8s.disconnected.blink-status", CATALOG.site["status_channel"]),
        judge_operator_stuck("k8s.upgrade.operator-stuck", stuck, stuck, Wait(60, 60, 20, False), "blink-runner", NOW),
        judge_rollback("k8s.upgrade.rollback-overdue", operator(age=3600), NOW, 300, "blink-runner"),
        judge_secret("k8s.runner.secret-present", SecretFacts(NS, "blink-runner-secret", False), "appKey", None),
        judge_secret("k8s.runner.secret-present", SecretFacts(NS, "blink-runner-secret", True, ("other",)), "appKey",
                     None),
        # The runner deployment and its pods, each way of missing (the lab records only "no runner at all").
        *(judge_pods_exist("k8s.disconnected.pods-exist", d, pods, "blink-runner", NS, "app=blink-runner", NOW)
          for d, pods in ((None, []), (None, [pod_facts(pod())]), (deployment_facts(deployment(replicas=0, ready=0)), []),
                          (deployment_facts(deployment(replicas=2, ready=0)), []),
                          (deployment_facts(deployment(replicas=2, ready=0, conditions=[
                              {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                               "message": "exceeded quota"}])), []))),
        judge_logs_readable("k8s.disconnected.logs-readable", pod_facts(pod()), window(error="the server rejected our request"), "blink-runner",
                               None, 1),
        # The egress probe passing while the errors go on: the runner's own configuration (the probe needs the lab).
        judge_network_errors("k8s.disconnected.no-network-errors", window("dial tcp 10.0.0.1:443: connect: connection "
                             "refused"), CATALOG, "https://app.blinkops.com", {"pod": "p", "namespace": NS}, True),
    ]


def test_every_remedy_placeholder_is_filled_by_what_the_judges_produce(tmp_path):
    """For every condition: each finding that shows a remedy (from the lab recordings, and hand-made ones for what
    the lab cannot record) fills every placeholder of its remedy with the run's values and its own, as the report
    does (report.build_result). A placeholder no judge fills stays visible as {name}: this fails."""
    from types import SimpleNamespace

    from blinkcheck.catalog import placeholders
    from blinkcheck.results import global_values
    from tests.unit import recorded

    findings = [f for name in recorded.scenarios("kubernetes") for f in recorded.findings_of("kubernetes", name)]
    findings += [f for name in recorded.scenarios("docker") for f in recorded.findings_of("docker", name)]
    findings += _hand_made_findings()
    from tests.unit.test_blinkview import blink_findings

    findings += blink_findings("kubernetes") + blink_findings("docker")
    run = global_values(SimpleNamespace(spec=spec_for(tmp_path, namespace=NS), catalog=CATALOG))  # type: ignore[arg-type]
    shown: dict[str, set[str]] = {}
    for f in findings:
        cond = CATALOG[f.condition_id]
        if f.outcome in (Outcome.FAILED, Outcome.WARNING, Outcome.MANUAL) or (
            f.outcome is Outcome.NOT_EVALUABLE and cond.kind == "precondition"
        ):
            template = cond.remedy_for(f.variant) + "\n" + cond.problems.get(f.variant, "")
            text = cond.remediation(f.variant, {**run, **{k: v for k, v in f.values.items() if v != ""}})
            unfilled = {name for name in placeholders(template) if "{" + name + "}" in text}
            assert not unfilled, f"{f.condition_id} ({f.summary[:80]}): {sorted(unfilled)} not filled"
            shown.setdefault(f.condition_id, set()).add(f.variant)
    wanted = {(c.id, v) for c in CATALOG.conditions if c.platform == "kubernetes" for v in c.choices}
    missing = wanted - {(cid, v) for cid, vs in shown.items() for v in vs}
    assert not missing, f"no finding here shows these remedies (condition, variant): {sorted(missing)}"
