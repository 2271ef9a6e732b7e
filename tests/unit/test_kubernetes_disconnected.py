"""The Runner Disconnected judges on Kubernetes: pods exist, pods ready (phases, container states, restarts,
the startup grace), logs readable, network errors per pod."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from blinkcheck.kubernetes.disconnected import judge_logs_readable, judge_pod_ready, judge_pods_exist
from blinkcheck.kubernetes.parse import (
    deployment_facts,
    event_facts,
    hpa_facts,
    pod_facts,
)
from blinkcheck.kubernetes.pods import events_text
from blinkcheck.logs.judge import judge_network_errors
from blinkcheck.model import Outcome
from tests.reliability import Sees
from tests.unit.kubernetes_objects import CATALOG, NOW, NS, container, deployment, pod, remedy, ts, window

# ------------------------------------------------------------------ pods-ready: phases and container states


@pytest.mark.parametrize(
    ("scenario", "outcome", "words"),
    [
        ("healthy", Outcome.PASSED, "Running and Ready"),
        ("pending", Outcome.FAILED, "Pending (Unschedulable: 0/1 nodes are available"),
        ("crashloop", Outcome.FAILED, "CrashLoopBackOff (the container keeps crashing; restarts "),
        ("secret-missing", Outcome.FAILED, "CreateContainerConfigError (the container's configuration is broken (a "
                                           'missing Secret or ConfigMap?): secret "blink-runner-secret" not found)'),
        ("secret-empty", Outcome.FAILED, "(container blink-runner exited with code 1)"),
    ],
)
def test_pod_ready_on_the_labs_own_pods(scenario, outcome, words):
    """The lab's recorded pods (tests/data/kubernetes): the same objects a lab test sees."""
    from tests.unit import recorded

    s = recorded.kubernetes(scenario)
    p = s.runner_pods[0]
    f = judge_pod_ready("k8s.disconnected.pods-ready", p, s.runner_pods, s.now, s.events(p.name), s.window(p) if p.has_run else None)
    assert f.outcome is outcome, f.summary
    assert words in f.summary
    if outcome is Outcome.FAILED:
        assert p.name in remedy(f) and f"-n {NS}" in remedy(f)
        assert f.evidence[0].title == "kubectl get pods" and p.name in f.evidence[0].text
        assert f.evidence[1].title == f"Events of {p.name}"


# Hand-made pods for what the lab cannot produce: an image that cannot be pulled (no registry), an OOM kill, an
# eviction, a pod Running but not Ready, a pod being deleted (Terminating lasts 2 s in the lab).
@pytest.mark.parametrize(
    ("raw", "outcome", "words"),
    [
        (pod(), Outcome.PASSED, "Running and Ready"),
        (
            pod(
                phase="Pending",
                no_status=True,
                conditions=[
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": "Unschedulable",
                        "message": "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.",
                    }
                ],
            ),
            Outcome.FAILED,
            "Pending (Unschedulable: 0/1 nodes",
        ),
        (
            pod(
                phase="Pending",
                containers=[container("waiting", "ImagePullBackOff", "Back-off pulling image", ready=False)],
            ),
            Outcome.FAILED,
            "ImagePullBackOff (the image cannot be pulled: Back-off",
        ),
        (
            pod(phase="Pending", containers=[container("waiting", "ErrImagePull", ready=False)]),
            Outcome.FAILED,
            "ErrImagePull",
        ),
        (
            pod(
                containers=[
                    container("waiting", "CrashLoopBackOff", ready=False, restarts=4, last_reason="Error", last_exit=1)
                ]
            ),
            Outcome.FAILED,
            "CrashLoopBackOff (the container keeps crashing; restarts 4, last exit code 1 (Error))",
        ),
        (
            pod(
                phase="Pending",
                containers=[
                    container(
                        "waiting", "CreateContainerConfigError", 'secret "blink-runner-secret" not found', ready=False
                    )
                ],
            ),
            Outcome.FAILED,
            "CreateContainerConfigError (the container's configuration is broken (a missing Secret or ConfigMap?): "
            'secret "blink-runner-secret" not found)',
        ),
        (
            pod(containers=[container(restarts=1, last_reason="OOMKilled", last_exit=137, last_finished_ago=120)]),
            Outcome.FAILED,
            "OOMKilled",
        ),
        (pod(phase="Failed", containers=[], reason="Evicted"), Outcome.FAILED, "Failed (Evicted"),
        (pod(containers=[container(ready=False)]), Outcome.FAILED, "Running but not Ready"),
        (pod(deleting=True), Outcome.WARNING, "Terminating"),
    ],
)
def test_pod_ready(raw, outcome, words):
    p = pod_facts(raw)
    f = judge_pod_ready("k8s.disconnected.pods-ready", p, [p], NOW)
    assert f.outcome is outcome, f.summary
    assert words in f.summary
    if outcome is Outcome.FAILED:
        assert p.name in remedy(f) and f"-n {NS}" in remedy(f)
        assert f.evidence[0].title == "kubectl get pods" and p.name in f.evidence[0].text


def test_pod_ready_evidence_holds_events_and_previous_lines():
    p = pod_facts(
        pod(
            containers=[
                container("waiting", "CrashLoopBackOff", ready=False, restarts=3, last_reason="Error", last_exit=1)
            ]
        )
    )
    events = [
        event_facts(
            {
                "type": "Warning",
                "reason": "BackOff",
                "message": "Back-off restarting failed container",
                "count": 7,
                "lastTimestamp": ts(5),
                "involvedObject": {"kind": "Pod", "name": p.name},
            }
        )
    ]
    f = judge_pod_ready("k8s.disconnected.pods-ready", p, [p], NOW, events, window("now", previous=("fatal: bad config",)))
    titles = [e.title for e in f.evidence]
    assert titles[1] == f"Events of {p.name}" and "Back-off restarting failed container" in f.evidence[1].text
    assert any("previous container" in t for t in titles)
    assert "fatal: bad config" in "\n".join(e.text for e in f.evidence)
    assert "CrashLoopBackOff" in f.evidence[0].text  # the STATUS column, as kubectl prints it


def test_events_unreadable_is_said_not_hidden():
    assert events_text(None) == "(events could not be read)"
    assert events_text([]) == "(no events)"


@pytest.mark.parametrize(
    ("started_ago", "outcome"),
    [(59, Outcome.WARNING), (60, Outcome.FAILED), (61, Outcome.FAILED)],
)
def test_not_ready_startup_grace_edges(started_ago, outcome):
    p = pod_facts(pod(containers=[container(ready=False, started_ago=started_ago)]))
    assert judge_pod_ready("k8s.disconnected.pods-ready", p, [p], NOW).outcome is outcome


@pytest.mark.parametrize(
    ("restarts", "last_ago", "outcome"),
    [
        (4, 60, Outcome.PASSED),  # a few restarts: noted, not a failure
        (5, 60, Outcome.FAILED),  # many, and recent
        (5, 3599, Outcome.FAILED),
        (5, 3601, Outcome.WARNING),  # many, but over an hour ago
        (4023, 30, Outcome.FAILED),  # thousands
    ],
    ids=["few", "many-recent", "many-59min-ago", "many-61min-ago", "thousands"],
)
@pytest.mark.reliability(
    "a runner pod with thousands of restarts, the last 30 s ago (canned API data)",
    Sees(outcomes={"k8s.disconnected.pods-ready": "failed"},
         says={"k8s.disconnected.pods-ready": "restarted 4023 times (last exit code 2, Error)"}, case="thousands"),
)
def test_high_restart_counts(restarts, last_ago, outcome, sees):
    c = container(restarts=restarts, last_reason="Error", last_exit=2, last_finished_ago=last_ago)
    p = pod_facts(pod(containers=[c]))
    f = judge_pod_ready("k8s.disconnected.pods-ready", p, [p], NOW)
    assert f.outcome is outcome
    assert f"restarted {restarts} times" in f.summary
    if restarts == 4023:
        sees(f)


def test_old_oom_kill_only_warns():
    p = pod_facts(
        pod(containers=[container(restarts=1, last_reason="OOMKilled", last_exit=137, last_finished_ago=7200)])
    )
    assert judge_pod_ready("k8s.disconnected.pods-ready", p, [p], NOW).outcome is Outcome.WARNING


# ------------------------------------------------------------------ pods-exist, HPA, logs


def test_pods_exist_variants():
    d = deployment_facts(deployment())
    p = pod_facts(pod())
    sel = "app=blink-runner,release=blink-runner"
    none = judge_pods_exist("k8s.disconnected.pods-exist", None, [], "blink-runner", NS, sel, NOW)
    assert none.outcome is Outcome.FAILED and "No deployment blink-runner" in none.summary
    assert "`kubectl get pods -n blink`" in remedy(none) and "No deployment blink-runner" in remedy(none)
    no_pods = judge_pods_exist("k8s.disconnected.pods-exist", d, [], "blink-runner", NS, sel, NOW)
    assert no_pods.outcome is Outcome.FAILED and "has no pods" in no_pods.summary
    scaled = judge_pods_exist("k8s.disconnected.pods-exist", deployment_facts(deployment(replicas=0, ready=0)), [], "blink-runner", NS, sel, NOW)
    assert scaled.outcome is Outcome.FAILED and "scaled to 0" in scaled.summary
    orphan = judge_pods_exist("k8s.disconnected.pods-exist", None, [p], "blink-runner", NS, sel, NOW)
    assert orphan.outcome is Outcome.WARNING and "--runner-name" in orphan.summary
    ok = judge_pods_exist("k8s.disconnected.pods-exist", d, [p], "blink-runner", NS, sel, NOW)
    assert ok.outcome is Outcome.PASSED and "1/1 ready" in ok.summary
    assert [e.title for e in ok.evidence] == ["kubectl get deployment", "kubectl get pods"]


def test_deployment_problem_is_shown_when_it_has_no_pods():
    d = deployment_facts(
        deployment(
            ready=0,
            conditions=[
                {
                    "type": "ReplicaFailure",
                    "status": "True",
                    "reason": "FailedCreate",
                    "message": 'pods "blink-runner-x" is forbidden: exceeded quota',
                }
            ],
        )
    )
    f = judge_pods_exist("k8s.disconnected.pods-exist", d, [], "blink-runner", NS, "app=blink-runner", NOW)
    assert "exceeded quota" in f.summary


HPA: dict[str, Any] = {
    "metadata": {"name": "blink-runner", "namespace": NS},
    "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "blink-runner"},
        "minReplicas": 3,
        "maxReplicas": 5,
    },
    "status": {"currentReplicas": 3, "desiredReplicas": 3},
}


def test_hpa_present_or_not():
    d = deployment_facts(deployment(replicas=3, ready=2))
    hpa = hpa_facts(HPA)
    assert hpa.targets(d)
    other = hpa_facts({**HPA, "spec": {**HPA["spec"], "scaleTargetRef": {"kind": "Deployment", "name": "x"}}})
    assert not other.targets(d)
    pods = [pod_facts(pod(f"blink-runner-7d9f8-{i}")) for i in "abc"]
    with_hpa = judge_logs_readable("k8s.disconnected.logs-readable", pods[0], window("a"), "blink-runner", hpa, 3)
    assert "each pod's logs individually" in with_hpa.summary and "min 3, max 5" in with_hpa.summary
    single = judge_logs_readable("k8s.disconnected.logs-readable", pods[0], window("a"), "blink-runner", None, 1)
    assert "`kubectl logs deployment/blink-runner`" in single.summary
    many = judge_logs_readable("k8s.disconnected.logs-readable", pods[0], window("a"), "blink-runner", None, 3)
    assert "each of 3 pods' logs" in many.summary
    exists = judge_pods_exist("k8s.disconnected.pods-exist", d, pods, "blink-runner", NS, "app=blink-runner", NOW, hpa)
    assert "HPA blink/blink-runner targets deployment blink-runner" in exists.summary


def test_logs_readable_variants():
    never = pod_facts(pod(phase="Pending", no_status=True, conditions=[]))
    f = judge_logs_readable("k8s.disconnected.logs-readable", never, window(error="container is waiting to start"), "blink-runner", None, 1)
    assert f.outcome is Outcome.BLOCKED and f.because_of == "k8s.disconnected.pods-ready"
    running = pod_facts(pod())
    bad = judge_logs_readable("k8s.disconnected.logs-readable", running, window(error="the server rejected our request"), "blink-runner", None, 1)
    assert bad.outcome is Outcome.FAILED and "the server rejected our request" in remedy(bad)
    restarted = pod_facts(pod(containers=[container(restarts=2, last_reason="Error", last_exit=1)]))
    prev = judge_logs_readable("k8s.disconnected.logs-readable", restarted, window("x", previous=("y", "z")), "blink-runner", None, 1)
    assert prev.outcome is Outcome.PASSED and "previous container: 2 lines" in prev.summary
    gone = judge_logs_readable("k8s.disconnected.logs-readable", restarted, window("x"), "blink-runner", None, 1)
    assert "previous container's logs are gone" in gone.summary


def test_network_errors_per_pod_share_the_docker_judge():
    w = window(
        "level=info msg=ok",
        previous=('level=error msg="Post \\"https://app.blinkops.com/ping\\": dial tcp 1.2.3.4:443: i/o timeout"',),
    )
    f = judge_network_errors(
        "k8s.disconnected.no-network-errors",
        w,
        CATALOG,
        "https://app.blinkops.com",
        {"pod": "blink-runner-7d9f8-abcde", "namespace": NS},
    )
    assert f.outcome is Outcome.FAILED
    text = remedy(f)
    assert "Runner pod blink-runner-7d9f8-abcde in blink logged 1 network error(s) reaching app.blinkops.com" in text
    assert "`kubectl logs -f blink-runner-7d9f8-abcde -n blink`" in text


# ------------------------------------------------------------------ edges the mutation tests found


@pytest.mark.parametrize(("restarts", "outcome"), [(0, Outcome.WARNING), (1, Outcome.FAILED), (3, Outcome.FAILED)])
def test_startup_grace_is_only_for_a_first_start(restarts, outcome):
    """A container that just started gets its readiness probe's time; one that just restarted does not (hand-made:
    the lab cannot hold a pod in "restarted 10 s ago, not yet Ready" long enough to record it)."""
    c = container(ready=False, started_ago=10, restarts=restarts, last_reason="Error" if restarts else "",
                  last_exit=1 if restarts else None)  # fmt: skip
    p = pod_facts(pod(containers=[c]))
    f = judge_pod_ready("k8s.disconnected.pods-ready", p, [p], NOW)
    assert f.outcome is outcome
    if outcome is Outcome.WARNING:
        assert f.summary.endswith("Running but not Ready (its readiness probe fails). It started less than 1m ago: "
                                  "it may still become Ready.")


def test_startup_grace_needs_a_running_container_with_a_start_time():
    not_started = pod_facts(pod(phase="Pending", containers=[container("waiting", "ContainerCreating", ready=False)]))
    assert judge_pod_ready("k8s.disconnected.pods-ready", not_started, [not_started], NOW).outcome is Outcome.FAILED
    raw = pod(containers=[container(ready=False, started_ago=10)])
    raw["status"]["containerStatuses"][0]["state"]["running"] = {}  # running, no startedAt
    no_time = pod_facts(raw)
    assert judge_pod_ready("k8s.disconnected.pods-ready", no_time, [no_time], NOW).outcome is Outcome.FAILED


# ------------------------------------------------------------------ pods-exist: each way of missing, in full

SELECTOR = "app=blink-runner,release=blink-runner"
QUOTA = [{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": "exceeded quota"}]


@pytest.mark.parametrize(
    ("replicas", "pods", "conditions", "outcome", "variant", "problem", "evidence"),
    [
        (None, 0, None, Outcome.FAILED, "missing",
         f"No deployment blink-runner and no pods labelled {SELECTOR} in namespace blink.", []),
        (None, 2, None, Outcome.WARNING, "other-name",
         f"2 pod(s) labelled {SELECTOR} run in blink, but there is no deployment named blink-runner (installed under "
         "another name? pass --runner-name).", ["kubectl get pods"]),
        (0, 0, None, Outcome.FAILED, "scaled-to-zero",
         "Deployment blink-runner in blink is scaled to 0 replicas: no runner pod runs.", ["kubectl get deployment"]),
        (2, 0, None, Outcome.FAILED, "no-pods",
         "Deployment blink-runner in blink wants 2 replica(s) but has no pods.", ["kubectl get deployment"]),
        (3, 0, QUOTA, Outcome.FAILED, "no-pods-because",
         "Deployment blink-runner in blink wants 3 replica(s) but has no pods: ReplicaFailure=True FailedCreate: "
         "exceeded quota", ["kubectl get deployment"]),
    ],
    ids=["missing", "other-name", "scaled-to-zero", "no-pods", "no-pods-because"],
)
def test_pods_missing_say_why_in_the_summary_the_remedy_and_the_evidence(replicas, pods, conditions, outcome, variant,
                                                                          problem, evidence):  # fmt: skip
    d = deployment_facts(deployment(replicas=replicas, ready=0, conditions=conditions)) if replicas is not None else None
    runner_pods = [pod_facts(pod(f"blink-runner-7d9f8-{i}")) for i in ("abcde", "fghij")[:pods]]
    f = judge_pods_exist("k8s.disconnected.pods-exist", d, runner_pods, "blink-runner", NS, SELECTOR, NOW)
    assert (f.condition_id, f.outcome, f.variant) == ("k8s.disconnected.pods-exist", outcome, variant)
    assert f.summary == problem
    assert f.object == "deployment blink/blink-runner"
    assert remedy(f) == (
        f"{problem}\n1. Check pod status: `kubectl get pods -n blink`\n2. `kubectl get deployment blink-runner -n blink`\n"
        "3. If the runner was never installed in this namespace, install it with the Helm command from the Blink UI; "
        "if it runs elsewhere, pass --namespace or --all-namespaces."
    )
    assert [e.title for e in f.evidence] == evidence
    for e in f.evidence:
        if e.title == "kubectl get deployment":
            assert e.source == NS
            assert e.text.splitlines()[1].split() == ["blink", "blink-runner", f"0/{replicas}", str(replicas), "0", "2h"]
        else:
            assert e.source == f"blink, -l {SELECTOR}"
            assert [line.split()[1] for line in e.text.splitlines()[1:]] == [p.name for p in runner_pods]


def test_pods_exist_passes_with_the_ready_count():
    d = deployment_facts(deployment(replicas=3, ready=2))
    pods = [pod_facts(pod(f"blink-runner-7d9f8-{i}")) for i in "abc"]
    f = judge_pods_exist("k8s.disconnected.pods-exist", d, pods, "blink-runner", NS, SELECTOR, NOW)
    assert (f.condition_id, f.outcome, f.object) == ("k8s.disconnected.pods-exist", Outcome.PASSED,
                                                     "deployment blink/blink-runner")  # fmt: skip
    assert f.summary == "Deployment blink-runner in blink has 3 pod(s) (2/3 ready)."


# ------------------------------------------------------------------ pods-ready: why a warning is not a failure


@pytest.mark.parametrize(
    ("raw", "outcome", "summary"),
    [
        (pod(deleting=True), Outcome.WARNING,
         "pod blink/blink-runner-7d9f8-abcde is Terminating. Not yet a failure: it is terminating."),
        (pod(containers=[container(restarts=5, last_reason="Error", last_exit=2, last_finished_ago=3601)]),
         Outcome.WARNING, "pod blink/blink-runner-7d9f8-abcde is Running and Ready, restarted 5 times (last exit code 2, "
         "Error). The last restart is more than an hour old."),
        (pod(containers=[container(restarts=1, last_reason="OOMKilled", last_exit=137, last_finished_ago=7200)]),
         Outcome.WARNING, "pod blink/blink-runner-7d9f8-abcde is OOMKilled (container blink-runner ran out of memory; "
         "restarts 1). The last restart is more than an hour old."),
        (pod(containers=[container(restarts=5, last_reason="Error", last_exit=2, last_finished_ago=60)]),
         Outcome.FAILED, "pod blink/blink-runner-7d9f8-abcde is Running and Ready, restarted 5 times (last exit code 2, "
         "Error)."),
        (pod(containers=[container(ready=False, started_ago=10)]), Outcome.WARNING,
         "pod blink/blink-runner-7d9f8-abcde is Running but not Ready (its readiness probe fails). It started less "
         "than 1m ago: it may still become Ready."),
        (pod(containers=[container(ready=False, started_ago=600)]), Outcome.FAILED,
         "pod blink/blink-runner-7d9f8-abcde is Running but not Ready (its readiness probe fails)."),
    ],
    ids=["terminating", "old-restarts", "old-oom-kill", "recent-restarts", "just-started", "not-ready"],
)
def test_pod_ready_says_why_a_warning_is_not_yet_a_failure(raw, outcome, summary):
    p = pod_facts(raw)
    f = judge_pod_ready("k8s.disconnected.pods-ready", p, [p], NOW)
    assert (f.outcome, f.summary) == (outcome, summary)


def test_pod_ready_shows_the_last_30_lines_of_the_previous_container():
    p = pod_facts(pod(containers=[container("waiting", "CrashLoopBackOff", ready=False, restarts=3, last_reason="Error",
                                            last_exit=1)]))  # fmt: skip
    previous = tuple(f"previous line {i}" for i in range(1, 46))
    f = judge_pod_ready("k8s.disconnected.pods-ready", p, [p], NOW, [], window("current", previous=previous))
    shown = next(e for e in f.evidence if e.title == "Last log lines of the previous container")
    assert shown.text.splitlines() == list(previous[-30:])
    assert shown.source == "pod blink/blink-runner-7d9f8-abcde --previous"


# ------------------------------------------------------------------ logs-readable: gone, cut, how they were read


def test_logs_of_a_pod_gone_during_the_run_are_not_evaluable_not_failed():
    p = pod_facts(pod())
    why = "pod blink/blink-runner-7d9f8-abcde was gone during the run (deleted after it was listed; its log read answered 404)"
    w = replace(window(), error=why, gone=True)
    f = judge_logs_readable("k8s.disconnected.logs-readable", p, w, "blink-runner", None, 1)
    assert (f.condition_id, f.outcome, f.object) == ("k8s.disconnected.logs-readable", Outcome.NOT_EVALUABLE,
                                                     "pod blink/blink-runner-7d9f8-abcde")  # fmt: skip
    assert f.summary == f"Could not read the logs of pod blink/blink-runner-7d9f8-abcde: {why}"


def test_logs_read_only_in_part_warn_with_why():
    p = pod_facts(pod())
    w = replace(window("a", "b", "c"), cut="the read stopped after 30s (--log-read-timeout)")
    f = judge_logs_readable("k8s.disconnected.logs-readable", p, w, "blink-runner", None, 1)
    assert (f.condition_id, f.outcome, f.object) == ("k8s.disconnected.logs-readable", Outcome.WARNING,
                                                     "pod blink/blink-runner-7d9f8-abcde")  # fmt: skip
    assert f.summary == ("Read 3 log lines of pod blink/blink-runner-7d9f8-abcde (last 2000 lines, since 1h); read as "
                         "`kubectl logs deployment/blink-runner`, but not to the newest line: the read stopped after "
                         "30s (--log-read-timeout).")
    assert remedy(f).startswith("The logs of blink-runner-7d9f8-abcde could not be read: the read stopped after 30s "
                                "(--log-read-timeout)\n")  # fmt: skip


@pytest.mark.parametrize(
    ("n_pods", "how"),
    [(1, "`kubectl logs deployment/blink-runner`"), (2, "each of 2 pods' logs"), (5, "each of 5 pods' logs")],
)
def test_logs_of_several_pods_are_read_pod_by_pod(n_pods, how):
    restarted = pod_facts(pod(containers=[container(restarts=2, last_reason="Error", last_exit=1)]))
    f = judge_logs_readable("k8s.disconnected.logs-readable", restarted, window("x"), "blink-runner", None, n_pods)
    assert f.outcome is Outcome.PASSED
    assert f.summary == (f"Read 1 log lines of pod blink/blink-runner-7d9f8-abcde (last 2000 lines, since 1h); the "
                         f"previous container's logs are gone; read as {how}.")  # fmt: skip
