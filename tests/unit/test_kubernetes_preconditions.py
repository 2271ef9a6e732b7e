"""The Kubernetes preconditions: the API server answers, the permissions (SelfSubjectAccessReview); and every
remedy placeholder of the Kubernetes conditions is filled by what the judges produce."""

from __future__ import annotations

import re

import pytest

from blinkcheck.kubernetes.deployment import judge_secret
from blinkcheck.kubernetes.disconnected import judge_logs_readable, judge_pods_exist
from blinkcheck.kubernetes.facts import SecretFacts
from blinkcheck.kubernetes.parse import deployment_facts, pod_facts
from blinkcheck.kubernetes.preconditions import Access, ApiFacts, judge_api, judge_permissions, subject_flag
from blinkcheck.kubernetes.reads import READ
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
    from tests.unit.test_kubernetes_beyond import beyond_findings

    findings += beyond_findings()
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


# ------------------------------------------------------------------ the API server answers


def test_api_reachable_says_which_server_version_context_and_namespace():
    f = judge_api("k8s.cluster.api-reachable", ApiFacts(True, "https://10.0.0.1:6443", "prod", NS, version="v1.31.2"))
    assert f.condition_id == "k8s.cluster.api-reachable"
    assert f.outcome is Outcome.PASSED
    assert f.summary == "The API server https://10.0.0.1:6443 (Kubernetes v1.31.2) answers; context prod, namespace blink."
    assert f.object == "https://10.0.0.1:6443"


@pytest.mark.parametrize(
    ("server", "context", "summary", "obj", "remedy_line"),
    [
        ("https://10.0.0.1:6443", "prod", "Could not reach the Kubernetes API server https://10.0.0.1:6443: timed out",
         "https://10.0.0.1:6443", "talk to the Kubernetes API server (https://10.0.0.1:6443): timed out"),
        # A kubeconfig without a server: the report names the context the user chose, and says there is no server.
        ("", "prod", "Could not reach the Kubernetes API server (unknown): timed out", "prod",
         "talk to the Kubernetes API server (no server configured): timed out"),
    ],
)
def test_api_unreachable_names_the_server_or_else_the_context(server, context, summary, obj, remedy_line):
    f = judge_api("k8s.cluster.api-reachable", ApiFacts(False, server, context, NS, error="timed out"))
    assert f.condition_id == "k8s.cluster.api-reachable"
    assert (f.outcome, f.summary, f.object) == (Outcome.NOT_EVALUABLE, summary, obj)
    assert remedy_line in remedy(f)


# ------------------------------------------------------------------ the permissions: what is named, what it stops


def real_access(key: str, allowed: bool | None, namespace: str = NS, name: str = "", choice: bool = False,
                detail: str = "") -> Access:
    """An access as the gatherer builds it: the read of reads.READS, the checks the catalog says make it."""
    r = READ[key]
    return Access(r.verb, r.resource_text, namespace, CATALOG.readers(key), allowed=allowed, name=name,
                  optional=r.optional, detail=detail, choice=choice)  # fmt: skip


@pytest.mark.parametrize(
    ("access", "text", "grant"),
    [
        (real_access("logs", False), "get pods/log in namespace blink",
         "kubectl create role blink-check-get-pods-log --verb=get --resource=pods/log -n blink && kubectl create "
         "rolebinding blink-check-get-pods-log --role=blink-check-get-pods-log --user=alice -n blink"),
        (real_access("secret", False, name="blink-runner-secret"), "get secrets (blink-runner-secret) in namespace blink",
         "kubectl create role blink-check-get-secrets --verb=get --resource=secrets "
         "--resource-name=blink-runner-secret -n blink && kubectl create rolebinding blink-check-get-secrets "
         "--role=blink-check-get-secrets --user=alice -n blink"),
        (real_access("deployments", False, namespace=""), "list deployments.apps in all namespaces",
         "kubectl create clusterrole blink-check-list-deployments-apps --verb=list --resource=deployments.apps && "
         "kubectl create clusterrolebinding blink-check-list-deployments-apps "
         "--clusterrole=blink-check-list-deployments-apps --user=alice"),
        (real_access("hpas", False), "list horizontalpodautoscalers.autoscaling in namespace blink",
         "kubectl create role blink-check-list-horizontalpodautoscalers-autoscaling --verb=list "
         "--resource=horizontalpodautoscalers.autoscaling -n blink && kubectl create rolebinding "
         "blink-check-list-horizontalpodautoscalers-autoscaling "
         "--role=blink-check-list-horizontalpodautoscalers-autoscaling --user=alice -n blink"),
    ],
)
def test_a_missing_read_is_named_and_granted_by_one_command(access, text, grant):
    """Each missing read: how the summary names it, and the kubectl command that grants just it (a Role in the
    namespace, a ClusterRole for --all-namespaces; role names are valid Kubernetes names)."""
    assert access.text == text
    assert access.grant("--user=alice") == grant
    f = judge_permissions("k8s.cluster.permissions", [real_access("pods", True), access], NS, "alice")
    assert f.summary.startswith(f"alice lacks 1 read permission(s): {text}. ")
    assert f"\n  {grant}" in remedy(f)
    for word in grant.split():
        if word.startswith("blink-check-"):
            assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", word), word


@pytest.mark.parametrize(
    ("subject", "flag"),
    [
        ("system:serviceaccount:blink:checker", "--serviceaccount=blink:checker"),
        ("system:serviceaccount:ops:blink-health-check", "--serviceaccount=ops:blink-health-check"),
        ("alice@example.com", "--user=alice@example.com"),
        ("system:serviceaccount:only-namespace", "--user=system:serviceaccount:only-namespace"),
        ("oidc:system:serviceaccount:blink:checker", "--user=oidc:system:serviceaccount:blink:checker"),
    ],
)
def test_the_grant_names_a_service_account_or_a_user(subject, flag):
    assert subject_flag(subject) == flag
    f = judge_permissions("k8s.cluster.permissions", [real_access("logs", False)], NS, subject)
    text = remedy(f)
    assert f"--role=blink-health-check {flag} -n blink`" in text
    assert f"--role=blink-check-get-pods-log {flag} -n blink" in text
    assert f"Grant them to {subject}:" in text


def test_missing_reads_name_every_check_they_stop_and_only_those():
    accesses = [real_access(k, k not in ("logs", "secret")) for k in ("pods", "deployments", "logs", "secret", "events")]
    f = judge_permissions("k8s.cluster.permissions", accesses, NS, "system:serviceaccount:blink:checker")
    assert (f.condition_id, f.outcome) == ("k8s.cluster.permissions", Outcome.FAILED)
    assert f.object == "system:serviceaccount:blink:checker"
    stopped = ("k8s.disconnected.logs-readable, k8s.disconnected.no-network-errors, k8s.runner.secret-present, "
               "k8s.upgrade.operator-handoff")  # sorted, each once
    assert f.summary == (
        "system:serviceaccount:blink:checker lacks 2 read permission(s): get pods/log in namespace blink; get secrets "
        f"in namespace blink. Only the checks that need them are not evaluable: {stopped}."
    )
    text = remedy(f)
    assert text.startswith("The suite lacks read permissions in namespace blink: get pods/log in namespace blink; "
                           "get secrets in namespace blink\n"
                           f"Only these checks cannot be evaluated without them: {stopped}\n")  # fmt: skip
    assert text.endswith(
        "one by one:\n"
        "  kubectl create role blink-check-get-pods-log --verb=get --resource=pods/log -n blink && kubectl create "
        "rolebinding blink-check-get-pods-log --role=blink-check-get-pods-log --serviceaccount=blink:checker -n blink\n"
        "  kubectl create role blink-check-get-secrets --verb=get --resource=secrets -n blink && kubectl create "
        "rolebinding blink-check-get-secrets --role=blink-check-get-secrets --serviceaccount=blink:checker -n blink"
    )


@pytest.mark.parametrize(
    ("denied", "outcome"),
    [
        (("events",), Outcome.WARNING),  # evidence only: the checks go on without it
        (("events", "hpas"), Outcome.WARNING),
        (("events", "logs"), Outcome.FAILED),  # one a check cannot do without is enough
        (("logs",), Outcome.FAILED),
    ],
)
def test_a_missing_read_only_evidence_needs_warns_and_a_needed_one_fails(denied, outcome):
    accesses = [real_access(k, k not in denied) for k in ("pods", "logs", "events", "hpas")]
    f = judge_permissions("k8s.cluster.permissions", accesses, NS, "alice")
    assert f.outcome is outcome
    assert f.summary.startswith(f"alice lacks {len(denied)} read permission(s): ")


def test_the_access_review_table_lists_every_read_and_its_answer():
    accesses = [
        real_access("pods", True),
        real_access("secret", False, name="blink-runner-secret"),
        real_access("events", None, namespace=""),
        real_access("exec", False, choice=True),
        Access("list", "pods", NS, ("k8s.disconnected.pods-exist",), allowed=True, optional=True),
    ]
    f = judge_permissions("k8s.cluster.permissions", accesses, NS, "alice")
    (ev,) = f.evidence
    assert (ev.title, ev.source) == ("SelfSubjectAccessReview", "alice")
    readers = ", ".join(CATALOG.readers("pods"))
    assert ev.text.splitlines() == [
        line.rstrip() for line in (
            "VERB    RESOURCE                     NAMESPACE  ALLOWED  NEEDED BY",
            f"list    pods                         blink      yes      {readers}",
            "get     secrets/blink-runner-secret  blink      NO       k8s.runner.secret-present",
            "list    events                       *          unknown  k8s.disconnected.pods-ready, "
            "k8s.upgrade.operator-stuck (evidence only)",
            "create  pods/exec                    blink      NO       k8s.disconnected.blink-reachable, "
            "k8s.runner.clock-skew (optional: skipped without it)",
            "list    pods                         blink      yes      k8s.disconnected.pods-exist (evidence only)",
        )
    ]


def test_a_grant_withheld_by_choice_passes_and_says_which_check_is_skipped():
    """--probe auto without `create pods/exec`: the user's choice; the probe check is skipped, nothing is missing."""
    accesses = [real_access(k, True) for k in ("pods", "deployments", "logs")] + [real_access("exec", False, choice=True)]
    f = judge_permissions("k8s.cluster.permissions", accesses, NS, "alice")
    assert (f.condition_id, f.outcome, f.object) == ("k8s.cluster.permissions", Outcome.PASSED, "alice")
    assert f.summary == ("alice may read everything the checks look at (3 permissions). Not granted, by choice: "
                         "create pods/exec in namespace blink: k8s.disconnected.blink-reachable, k8s.runner.clock-skew "
                         "are skipped.")
    everything = judge_permissions("k8s.cluster.permissions", accesses[:3], NS, "alice")
    assert everything.summary == "alice may read everything the checks look at (3 permissions)."
    assert everything.evidence[0].title == "SelfSubjectAccessReview"
    # The same grant given (or --probe on, where it is no choice): counted, and nothing is said to be withheld.
    for exec_read in (real_access("exec", True, choice=True), real_access("exec", True)):
        given = judge_permissions("k8s.cluster.permissions", [*accesses[:3], exec_read], NS, "alice")
        assert (given.condition_id, given.outcome) == ("k8s.cluster.permissions", Outcome.PASSED)
        assert given.summary == "alice may read everything the checks look at (4 permissions)."


def test_grants_withheld_are_listed_together_with_every_check_they_skip():
    withheld = [real_access("exec", False, choice=True), real_access("exec", False, namespace="ops", choice=True)]
    f = judge_permissions("k8s.cluster.permissions", [real_access("pods", True), *withheld], NS, "alice")
    assert f.outcome is Outcome.PASSED
    assert f.summary.endswith(" Not granted, by choice: create pods/exec in namespace blink; create pods/exec in "
                              "namespace ops: k8s.disconnected.blink-reachable, k8s.runner.clock-skew are skipped.")  # fmt: skip
    # A catalog where two checks exec into the runner pod: both are named, once each.
    two = Access("create", "pods/exec", NS, ("k8s.disconnected.blink-reachable", "k8s.x.other"), allowed=False,
                 choice=True)  # fmt: skip
    f = judge_permissions("k8s.cluster.permissions", [two, two], NS, "alice")
    assert f.summary.endswith(": k8s.disconnected.blink-reachable, k8s.x.other are skipped.")
    one = Access("create", "pods/exec", NS, ("k8s.disconnected.blink-reachable",), allowed=False, choice=True)
    f = judge_permissions("k8s.cluster.permissions", [one], NS, "alice")
    assert f.summary.endswith(": k8s.disconnected.blink-reachable is skipped.")


def test_a_failed_access_review_warns_with_its_reason_and_a_missing_read_still_fails():
    unknown = [real_access("pods", True), real_access("logs", None, detail="the server is currently unable to handle "
                                                                            "the request")]  # fmt: skip
    f = judge_permissions("k8s.cluster.permissions", unknown, NS, "alice")
    assert (f.condition_id, f.outcome, f.object) == ("k8s.cluster.permissions", Outcome.WARNING, "alice")
    assert f.summary == ("Could not ask the API server what alice may read (the server is currently unable to handle "
                         "the request); each check reports a refused read itself.")
    assert f.evidence[0].title == "SelfSubjectAccessReview"
    # Its remedy names nothing as missing: nothing is known to be.
    text = remedy(f)
    assert "in namespace blink: nothing\n" in text and "without them: none\n" in text
    both = judge_permissions("k8s.cluster.permissions", [*unknown, real_access("secret", False)], NS, "alice")
    assert both.outcome is Outcome.FAILED and "lacks 1 read permission(s): get secrets" in both.summary
    # The review of a grant the user may withhold failing says nothing about the suite's permissions.
    choice = judge_permissions("k8s.cluster.permissions", [real_access("pods", True), real_access("exec", None, choice=True)],
                               NS, "alice")  # fmt: skip
    assert choice.outcome is Outcome.PASSED
