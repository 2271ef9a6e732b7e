"""A pod's state in words (facts.describe_state: what a support engineer reads in the report) and kubectl's STATUS
column, on the lab's recorded pods and on hand-made pods for what the lab cannot produce; an operator's state and
since when it has not been running."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from blinkcheck.kubernetes.facts import OperatorFacts, describe_state, parse_time
from blinkcheck.kubernetes.parse import deployment_facts, group_operators, pod_facts
from tests.unit import recorded
from tests.unit.kubernetes_objects import NOW, NS, container, deployment, pod, ts

UNSCHEDULABLE = (
    "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. no new claims to deallocate, "
    "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
)


# ------------------------------------------------------------------ the lab's own pods


@pytest.mark.parametrize(
    ("scenario", "name", "status", "words"),
    [
        ("healthy", "blink-runner-7898cb7fff-rmbw9", "Running", "Running and Ready"),
        ("crashloop", "blink-runner-58f94c9694-vb7d2", "CrashLoopBackOff",
         "CrashLoopBackOff (the container keeps crashing; restarts 2, last exit code 1 (Error))"),
        ("secret-missing", "blink-runner-7898cb7fff-fhcs7", "CreateContainerConfigError",
         "CreateContainerConfigError (the container's configuration is broken (a missing Secret or ConfigMap?): "
         'secret "blink-runner-secret" not found)'),
        ("secret-empty", "blink-runner-6fb8658f4-lzjfj", "Error", "Error (container blink-runner exited with code 1)"),
        ("pending", "blink-runner-7c9665885d-wtszf", "Pending", f"Pending (Unschedulable: {UNSCHEDULABLE})"),
        ("operator-rollback", "blink-operator-1.0.995-85d69f4d5d-gsgll", "Running",
         "Running and Ready, restarted 1 time (last exit code 0, Completed)"),
    ],
)  # fmt: skip
def test_state_of_the_labs_pods(scenario, name, status, words):
    p = next(p for p in recorded.kubernetes(scenario).pods if p.name == name)
    assert p.status == status
    assert describe_state(p) == words


# ------------------------------------------------------------------ hand-made pods


def _with_init(raw: dict[str, Any], *init: dict[str, Any]) -> dict[str, Any]:
    raw["status"]["initContainerStatuses"] = list(init)
    return raw


def _with_status(raw: dict[str, Any], reason: str = "", message: str = "") -> dict[str, Any]:
    raw["status"].pop("reason", None)
    raw["status"].pop("message", None)
    raw["status"].update({k: v for k, v in (("reason", reason), ("message", message)) if v})
    return raw


def _last_state(raw_container: dict[str, Any], exit_code: int, reason: str = "") -> dict[str, Any]:
    terminated = {"exitCode": exit_code, "finishedAt": ts(600), **({"reason": reason} if reason else {})}
    raw_container["lastState"] = {"terminated": terminated}
    return raw_container


def _scheduled_false(reason: str = "", message: str = "") -> list[dict[str, Any]]:
    cond = {"type": "PodScheduled", "status": "False"}
    cond.update({k: v for k, v in (("reason", reason), ("message", message)) if v})
    return [cond]


PULL = 'Back-off pulling image "blink-lab/nope:1"'
INITIALIZING = container("waiting", "PodInitializing", ready=False)
STATES = [
    ("being deleted", pod(deleting=True), "Terminating", "Terminating"),
    ("an init container's image cannot be pulled",
     _with_init(pod(phase="Pending", containers=[INITIALIZING]),
                container("waiting", "ImagePullBackOff", PULL, ready=False, name="fetch-config")),
     "Init:ImagePullBackOff", f"Init:ImagePullBackOff (init container fetch-config: {PULL})"),
    ("an init container crash-loops, no message",
     _with_init(pod(phase="Pending", containers=[INITIALIZING]),
                container("waiting", "CrashLoopBackOff", ready=False, restarts=3, name="fetch-config")),
     "Init:CrashLoopBackOff", "Init:CrashLoopBackOff (init container fetch-config)"),
    ("an init container still being created is no failure",
     _with_init(pod(phase="Pending", containers=[INITIALIZING]),
                container("waiting", "ContainerCreating", ready=False, name="fetch-config")),
     "Init:ContainerCreating", "Pending (PodInitializing)"),
    ("an init container that completed",
     _with_init(pod(), container("terminated", "Completed", ready=False, name="fetch-config")),
     "Running", "Running and Ready"),
    ("an init container that failed",
     _with_init(pod(phase="Pending", containers=[INITIALIZING]),
                container("terminated", "Error", exit_code=2, ready=False, name="fetch-config")),
     "Init:Error", "Init:Error (init container fetch-config exited with code 2)"),
    ("an init container that failed, no reason",
     _with_init(pod(phase="Pending", containers=[INITIALIZING]),
                container("terminated", exit_code=1, ready=False, name="fetch-config")),
     "Init:Error", "Init:Error (init container fetch-config exited with code 1)"),
    ("the image cannot be pulled",
     pod(phase="Pending", containers=[container("waiting", "ErrImagePull", PULL, ready=False)]),
     "ErrImagePull", f"ErrImagePull (the image cannot be pulled: {PULL})"),
    ("the image name is invalid, no message",
     pod(phase="Pending", containers=[container("waiting", "InvalidImageName", ready=False)]),
     "InvalidImageName", "InvalidImageName (the image name is invalid)"),
    ("not scheduled, no reason or message",
     pod(phase="Pending", no_status=True, conditions=_scheduled_false()), "Pending", "Pending (not scheduled)"),
    ("unschedulable, no message",
     pod(phase="Pending", no_status=True, conditions=_scheduled_false("Unschedulable")),
     "Pending", "Pending (Unschedulable)"),
    ("scheduled, the container being created",
     pod(phase="Pending", containers=[container("waiting", "ContainerCreating", ready=False)],
         conditions=[{"type": "PodScheduled", "status": "True"}]),
     "ContainerCreating", "Pending (ContainerCreating)"),
    ("pending, no container status yet", pod(phase="Pending", no_status=True, conditions=[]), "Pending", "Pending"),
    ("pending, a container waiting without a reason",
     pod(phase="Pending", containers=[container("waiting", ready=False)]), "Pending", "Pending"),
    ("evicted",
     _with_status(pod(phase="Failed", containers=[container("terminated", "Error", exit_code=137, ready=False)]),
                  "Evicted", "The node was low on resource: memory."),
     "Error", "Failed (Evicted: The node was low on resource: memory.)"),  # kubectl too shows the container's Error
    ("failed with a reason only", _with_status(pod(phase="Failed", containers=[]), "Evicted"), "Evicted",
     "Failed (Evicted)"),
    ("failed with a message only", _with_status(pod(phase="Failed", containers=[]), message="node shut down"),
     "Failed", "Failed (node shut down)"),
    ("succeeded", pod(phase="Succeeded", containers=[]), "Succeeded", "Succeeded"),
    ("node lost",
     _with_status(pod(phase="Unknown", containers=[]), "NodeLost", "Node node0 which was running the pod is unresponsive"),
     "NodeLost", "Unknown (NodeLost: Node node0 which was running the pod is unresponsive)"),
    ("killed for memory, restarted",
     pod(containers=[container(restarts=1, last_reason="OOMKilled", last_exit=137, last_finished_ago=600)]),
     "Running", "OOMKilled (container blink-runner ran out of memory; restarts 1)"),
    ("killed for memory just now",
     pod(containers=[container("terminated", "OOMKilled", exit_code=137, ready=False)]),
     "OOMKilled", "OOMKilled (container blink-runner ran out of memory; restarts 0)"),
    ("a container exited without a reason",
     pod(containers=[container("terminated", exit_code=2, ready=False)]),
     "ExitCode:2", "Terminated (container blink-runner exited with code 2)"),
    ("a sidecar exited", pod(containers=[container(), container("terminated", "Error", exit_code=1, name="proxy")]),
     "Error", "Error (container proxy exited with code 1)"),
    ("running, not ready", pod(containers=[container(ready=False)]), "Running",
     "Running but not Ready (its readiness probe fails)"),
    ("restarted twice, the sidecar never",
     pod(containers=[container(name="proxy"),
                     container(restarts=2, last_reason="Error", last_exit=1, last_finished_ago=600)]),
     "Running", "Running and Ready, restarted 2 times (last exit code 1, Error)"),
    ("restarted once, the last state without a reason",
     pod(containers=[_last_state(container(restarts=1), 143)]), "Running",
     "Running and Ready, restarted 1 time (last exit code 143)"),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "status", "words"), [s[1:] for s in STATES], ids=[s[0] for s in STATES])
def test_state_of_a_pod_in_words(raw, status, words):
    p = pod_facts(raw)
    assert p.status == status
    assert describe_state(p) == words


# ------------------------------------------------------------------ operators


def test_operator_state_names_each_pod():
    s = recorded.kubernetes("operator-stuck")
    (op,) = s.operators
    second = pod_facts(pod("blink-operator-1.0.995-cdcb44f6c-n2b4x", labels={"app": "blink-operator"}))
    both = OperatorFacts(op.name, op.namespace, op.deployment, (*op.pods, second))
    assert both.state() == (
        "blink-operator-1.0.995-cdcb44f6c-w9kbz CrashLoopBackOff (the container keeps crashing; restarts 1, last "
        "exit code 1 (Error)), blink-operator-1.0.995-cdcb44f6c-n2b4x Running and Ready"
    )


def test_operator_without_pods_says_why_its_deployment_has_none():
    """The recorded operator-stuck deployment (Available=False, Progressing=True) with its pods gone, and a deployment
    whose ReplicaSet cannot create pods (ReplicaFailure=True, as a quota makes it)."""
    recorded_deployment = recorded.kubernetes("operator-stuck").operators[0].deployment
    assert recorded_deployment is not None
    gone = OperatorFacts(recorded_deployment.name, NS, recorded_deployment)
    assert gone.state() == (
        "no pods (replicas 1): Available=False MinimumReplicasUnavailable: Deployment does not have minimum "
        "availability."
    )
    quota = deployment_facts(deployment("blink-operator", replicas=2, ready=0, secret=None, conditions=[
        {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
         "message": "Deployment does not have minimum availability."},
        {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated", "message": "is progressing."},
        {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
         "message": 'pods "blink-operator-5c7b9-x" is forbidden: exceeded quota: pods'},
    ]))  # fmt: skip
    assert OperatorFacts("blink-operator", NS, quota).state() == (
        "no pods (replicas 2): Available=False MinimumReplicasUnavailable: Deployment does not have minimum "
        'availability.; ReplicaFailure=True FailedCreate: pods "blink-operator-5c7b9-x" is forbidden: exceeded quota: '
        "pods"
    )
    healthy = deployment_facts(deployment("blink-operator", replicas=0, secret=None, conditions=[
        {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "ok"},
    ]))  # fmt: skip
    assert OperatorFacts("blink-operator", NS, healthy).state() == "no pods (replicas 0)"


def test_operator_not_running_since_on_the_labs_objects():
    """operator-stuck: its pod has not been Ready since its Ready condition's last transition; operator-pending: a
    pod with no Ready condition at all counts from its creation; a running operator has no such moment."""
    assert recorded.kubernetes("operator-stuck").operators[0].not_running_since() == parse_time("2026-12-02T09:37:30Z")
    assert recorded.kubernetes("operator-pending").operators[0].not_running_since() == parse_time(
        "2026-12-02T09:37:39Z"
    )
    assert recorded.kubernetes("operator-rollback").operators[0].not_running_since() is None


def _operator_pod(name: str, age: float, not_ready_for: float | None) -> dict[str, Any]:
    conditions = [] if not_ready_for is None else [{"type": "Ready", "status": "False",
                                                    "lastTransitionTime": ts(not_ready_for)}]  # fmt: skip
    return pod(name, containers=[container("waiting", "CrashLoopBackOff", ready=False, restarts=2,
                                           name="blink-operator")],
               conditions=conditions, labels={"app": "blink-operator"}, age=age)  # fmt: skip


def _operator(*pods: dict[str, Any], age: float = 3600) -> OperatorFacts:
    d = deployment_facts(deployment("blink-operator", ready=0, age=age, selector={"app": "blink-operator"},
                                    secret=None))  # fmt: skip
    (op,) = group_operators([d], [pod_facts(p) for p in pods])
    return op


def test_operator_not_running_since_the_latest_pod_stopped():
    op = _operator(
        _operator_pod("blink-operator-5c7b9-a", 3000, 2000), _operator_pod("blink-operator-5c7b9-b", 900, 300)
    )
    assert op.not_running_since() == NOW - timedelta(seconds=300)
    # a Ready condition without a transition time: the pod's creation
    op = _operator(_operator_pod("blink-operator-5c7b9-a", 900, None))
    assert op.not_running_since() == NOW - timedelta(seconds=900)


def test_operator_not_running_since_counts_adopted_pods_not_the_deployments_creation():
    """A deployment re-created over its orphaned pods (`kubectl delete --cascade=orphan`, then apply) adopts them:
    they stopped before the deployment was created, and that older moment is when the operator stopped."""
    op = _operator(_operator_pod("blink-operator-5c7b9-a", 7200, 5000), age=600)
    assert op.not_running_since() == NOW - timedelta(seconds=5000)


def test_operator_not_running_since_its_deployment_was_created_when_it_has_no_pods():
    assert _operator(age=600).not_running_since() == NOW - timedelta(seconds=600)


def test_operator_not_running_since_is_unknown_when_a_pods_moment_is_unknown():
    unknown = _operator_pod("blink-operator-5c7b9-b", 900, None)
    unknown["metadata"]["creationTimestamp"] = "yesterday"
    op = _operator(_operator_pod("blink-operator-5c7b9-a", 3000, 2000), unknown)
    assert op.not_running_since() is None
