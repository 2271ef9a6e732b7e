"""The API's own JSON -> facts, field by field: the lab's recorded objects (tests/data/kubernetes) parsed to exactly
the facts the judges read, the fields the API leaves out (omitted when zero or unset), the egress probe's variables
of a pod spec, the Secrets a deployment reads, and operators grouped from deployments and pods."""

from __future__ import annotations

from typing import Any

import pytest

from blinkcheck.kubernetes.facts import (
    ContainerStatus,
    DeploymentFacts,
    EnvVar,
    EventFacts,
    HpaFacts,
    OperatorFacts,
    PodCondition,
    PodFacts,
)
from blinkcheck.kubernetes.parse import deployment_facts, event_facts, group_operators, hpa_facts, pod_facts, probe_env
from tests.unit import recorded
from tests.unit.kubernetes_objects import NS, container, deployment, pod, ts

CRASHLOOP_POD = "blink-runner-58f94c9694-vb7d2"
BACKOFF = (
    "back-off 20s restarting failed container=blink-runner pod=blink-runner-58f94c9694-vb7d2_blink"
    "(825e25fd-2756-4525-8ae6-85760d2c37f4)"
)
UNSCHEDULABLE = (
    "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. no new claims to deallocate, "
    "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
)


def _raw(scenario: str, kind: str, name: str) -> dict[str, Any]:
    return next(o for o in recorded.kubernetes(scenario).items(kind) if o["metadata"]["name"] == name)


# ------------------------------------------------------------------ the lab's objects, field by field


def test_crashlooping_pod_from_the_lab():
    not_ready = "containers with unready status: [blink-runner]"
    assert pod_facts(_raw("crashloop", "pods", CRASHLOOP_POD)) == PodFacts(
        namespace="blink",
        name=CRASHLOOP_POD,
        phase="Running",
        containers=(
            ContainerStatus(
                "blink-runner",
                image="docker.io/blink-lab/runner:1.0.994",
                ready=False,
                restart_count=2,
                state="waiting",
                reason="CrashLoopBackOff",
                message=BACKOFF,
                last_reason="Error",
                last_exit_code=1,
                last_finished_at="2026-12-02T09:31:16Z",
            ),
        ),
        conditions=(
            PodCondition("PodReadyToStartContainers", "True", since="2026-12-02T09:31:04Z"),
            PodCondition("Initialized", "True", since="2026-12-02T09:31:02Z"),
            PodCondition("Ready", "False", "ContainersNotReady", not_ready, "2026-12-02T09:31:02Z"),
            PodCondition("ContainersReady", "False", "ContainersNotReady", not_ready, "2026-12-02T09:31:02Z"),
            PodCondition("PodScheduled", "True", since="2026-12-02T09:31:02Z"),
        ),
        labels=(("app", "blink-runner"), ("pod-template-hash", "58f94c9694"), ("release", "blink-runner")),
        created="2026-12-02T09:31:02Z",
        node="vm",
        ip="10.244.0.34",
    )


def test_exited_container_from_the_lab():
    """hpa: one of three replicas exited with code 1 after a first exit with code 1."""
    p = pod_facts(_raw("hpa", "pods", "blink-runner-6975d47475-s8qt8"))
    assert p.containers == (
        ContainerStatus("blink-runner", "docker.io/blink-lab/runner:1.0.994", ready=False, restart_count=1,
                        state="terminated", reason="Error", exit_code=1,
                        started_at="2026-12-02T09:31:42Z", last_reason="Error", last_exit_code=1,
                        last_finished_at="2026-12-02T09:31:41Z"),
    )  # fmt: skip


def test_unschedulable_pod_from_the_lab_has_its_containers_from_the_spec():
    p = pod_facts(_raw("pending", "pods", "blink-runner-7c9665885d-wtszf"))
    assert (p.phase, p.node, p.containers) == ("Pending", "", (ContainerStatus("blink-runner", "blinkops/blink-runner:1.0.994"),))
    assert p.conditions == (
        PodCondition("PodScheduled", "False", "Unschedulable", UNSCHEDULABLE, "2026-12-02T09:31:37Z"),
    )
    assert not p.has_run


def test_operator_deployment_from_the_lab_omits_zero_counts():
    """The API leaves readyReplicas and availableReplicas out while they are 0 (operator-stuck)."""
    assert deployment_facts(_raw("operator-stuck", "deployments", "blink-operator-1.0.995")) == DeploymentFacts(
        namespace="blink",
        name="blink-operator-1.0.995",
        replicas=1,
        ready_replicas=0,
        available_replicas=0,
        updated_replicas=1,
        selector=(("app", "blink-operator"), ("release", "blink-operator")),
        selector_query="app=blink-operator,release=blink-operator",
        labels=(
            ("app", "blink-operator"),
            ("blink-lab.io/scenario", "operator-stuck"),
            ("release", "blink-operator"),
            ("version", "1.0.995"),
        ),
        created="2026-12-02T09:37:30Z",
        images=("blink-lab/operator:1.0.995",),
        conditions=(
            PodCondition(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                "2026-12-02T09:37:30Z",
            ),
            PodCondition(
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                'ReplicaSet "blink-operator-1.0.995-cdcb44f6c" is progressing.',
                "2026-12-02T09:37:30Z",
            ),
        ),
    )


def test_runner_deployment_from_the_lab_reads_its_secret():
    d = deployment_facts(_raw("hpa", "deployments", "blink-runner"))
    assert (d.replicas, d.ready_replicas, d.available_replicas, d.updated_replicas) == (3, 2, 2, 3)
    assert d.secret_refs == (("blink-runner-secret", "appKey"),)


def test_hpa_from_the_lab():
    assert hpa_facts(_raw("hpa", "hpas", "blink-runner")) == HpaFacts(
        "blink", "blink-runner", "Deployment", "blink-runner", min_replicas=3, max_replicas=5, current_replicas=1
    )


def test_events_from_the_lab():
    """The scheduler's event has an eventTime and no lastTimestamp or count; the kubelet's have both."""
    events = {e.reason: e for e in recorded.kubernetes("crashloop").events(CRASHLOOP_POD)}
    assert events["Scheduled"] == EventFacts(
        "Normal",
        "Scheduled",
        f"Successfully assigned blink/{CRASHLOOP_POD} to vm",
        1,
        "2026-12-02T09:31:02.719301Z",
        f"Pod/{CRASHLOOP_POD}",
    )
    assert events["BackOff"] == EventFacts(
        "Warning", "BackOff", f"Back-off restarting failed container blink-runner in pod {BACKOFF.split('pod=')[1]}",
        3, "2026-12-02T09:31:32Z", f"Pod/{CRASHLOOP_POD}",
    )  # fmt: skip


# ------------------------------------------------------------------ what the API leaves out


def test_pod_fields_the_api_leaves_out():
    """A pod the kubelet has not reported on: no phase, no conditions, a container whose state is still empty."""
    raw = pod(containers=[container()])
    raw["status"] = {"containerStatuses": [{"name": "blink-runner", "state": {}, "lastState": {}, "ready": False}]}
    del raw["metadata"]["creationTimestamp"]
    p = pod_facts(raw)
    assert (p.phase, p.conditions, p.created, p.status) == ("Unknown", (), "", "Unknown")
    assert p.containers == (ContainerStatus("blink-runner"),)
    assert not p.has_run and not p.alive and not p.ready


def test_evicted_pod_keeps_the_reason_and_message_of_its_status():
    raw = pod(phase="Failed", containers=[container("terminated", "Error", exit_code=137, ready=False)],
              reason="Evicted")  # fmt: skip
    p = pod_facts(raw)
    assert (p.reason, p.message) == ("Evicted", "The node was low on resource: memory.")


def test_pod_being_deleted_and_its_init_containers():
    raw = pod(deleting=True)
    raw["status"]["initContainerStatuses"] = [
        container("terminated", "Completed", ready=False, name="fetch-config"),
        container("waiting", "PodInitializing", ready=False, name="wait-for-db"),
    ]
    p = pod_facts(raw)
    assert p.deleting and p.status == "Terminating"
    assert [(c.name, c.state, c.reason, c.exit_code) for c in p.init_containers] == [
        ("fetch-config", "terminated", "Completed", 0),
        ("wait-for-db", "waiting", "PodInitializing", None),
    ]


def test_condition_without_reason_message_or_transition_time():
    raw = pod(conditions=[{"type": "Ready", "status": "True"}])
    assert pod_facts(raw).conditions == (PodCondition("Ready", "True", "", "", ""),)


def test_deployment_fields_the_api_leaves_out():
    """A deployment scaled to 0 has no status counts; one without spec.replicas wants the API's default, 1."""
    raw = deployment(replicas=0)
    raw["status"] = {}
    del raw["metadata"]["creationTimestamp"]
    d = deployment_facts(raw)
    assert (d.replicas, d.ready_replicas, d.available_replicas, d.updated_replicas, d.created) == (0, 0, 0, 0, "")
    del raw["spec"]["replicas"]
    assert deployment_facts(raw).replicas == 1


def test_hpa_fields_the_api_leaves_out():
    """minReplicas defaults to 1; a new HPA has no status yet."""
    raw = {"metadata": {"name": "blink-runner", "namespace": NS},
           "spec": {"maxReplicas": 4, "scaleTargetRef": {"kind": "Deployment", "name": "blink-runner"}}}  # fmt: skip
    h = hpa_facts(raw)
    assert (h.min_replicas, h.max_replicas, h.current_replicas) == (1, 4, 0)
    assert h.describe() == "HPA blink/blink-runner targets deployment blink-runner (min 1, max 4, current 0)"


def test_event_without_time_fields_is_dated_by_its_creation():
    raw = {"involvedObject": {"kind": "Pod", "name": "p"}, "lastTimestamp": None, "eventTime": None,
           "metadata": {"creationTimestamp": ts(60)}, "message": "  Readiness probe failed: 503\n"}  # fmt: skip
    assert event_facts(raw) == EventFacts("", "", "Readiness probe failed: 503", 1, ts(60), "Pod/p")
    assert event_facts({}).last_seen == ""
    pulled = {"type": "Normal", "reason": "Pulled", "count": 2, "lastTimestamp": ts(5),
              "involvedObject": {"kind": "Pod", "name": "p"}}  # fmt: skip
    assert event_facts(pulled) == EventFacts("Normal", "Pulled", "", 2, ts(5), "Pod/p")  # an event without a message


# ------------------------------------------------------------------ the egress probe's variables of a pod spec


def test_probe_env_of_the_labs_proxied_runner():
    """proxy-dead: literal HTTPS_PROXY, NO_PROXY and SSL_CERT_FILE; BLINK_URL (configMap) and the API key (Secret)
    are not the probe's and are not kept."""
    spec = _raw("proxy-dead", "pods", "blink-runner-587d88ff75-9gvdr")["spec"]
    proxy = next(e["value"] for e in spec["containers"][0]["env"] if e["name"] == "HTTPS_PROXY")  # holds a password
    assert proxy.startswith("http://blink-proxy:") and proxy.endswith("@10.244.0.1:3128")
    assert [(e.container, e.name, e.value, e.source) for e in probe_env(spec)] == [
        ("blink-runner", "SSL_CERT_FILE", "/blink/ca.pem", ""),
        ("blink-runner", "HTTPS_PROXY", proxy, ""),
        ("blink-runner", "NO_PROXY", "localhost,127.0.0.1", ""),
    ]
    assert pod_facts(_raw("proxy-dead", "pods", "blink-runner-587d88ff75-9gvdr")).probe_env == probe_env(spec)


def test_probe_env_says_where_values_it_cannot_read_come_from():
    spec = {
        "containers": [
            {"name": "blink-runner",
             "envFrom": [{"configMapRef": {"name": "proxy-settings"}}, {"secretRef": {"name": "proxy-creds"}},
                         {"prefix": "X_", "configMapRef": {"name": "other"}}],
             "env": [
                 {"name": "BLINK_URL", "value": "https://app.blinkops.com"},
                 {"name": "HTTP_PROXY", "valueFrom": {"configMapKeyRef": {"name": "proxy-settings", "key": "http"}}},
                 {"name": "https_proxy", "valueFrom": {"secretKeyRef": {"name": "proxy-creds", "key": "url"}}},
                 {"name": "NO_PROXY", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
                 {"name": "SSL_CERT_DIR", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
                 {"name": "no_proxy", "value": ""},
                 {"name": "http_proxy"},
             ]},
            {"name": "sidecar", "env": [{"name": "SSL_CERT_FILE", "value": "/etc/ssl/sidecar.pem"}]},
        ]
    }  # fmt: skip
    assert probe_env(spec) == (
        EnvVar("blink-runner", "*", source="configMap proxy-settings (envFrom)"),
        EnvVar("blink-runner", "*", source="secret proxy-creds (envFrom)"),
        EnvVar("blink-runner", "*", source="configMap other (envFrom)"),
        EnvVar("blink-runner", "HTTP_PROXY", source="configMap proxy-settings key http"),
        EnvVar("blink-runner", "https_proxy", source="secret proxy-creds key url"),
        EnvVar("blink-runner", "NO_PROXY", source="fieldRef {'fieldPath': 'status.hostIP'}"),
        EnvVar("blink-runner", "SSL_CERT_DIR", source="resourceFieldRef {'resource': 'limits.cpu'}"),
        EnvVar("blink-runner", "no_proxy", ""),
        EnvVar("blink-runner", "http_proxy", ""),
        EnvVar("sidecar", "SSL_CERT_FILE", "/etc/ssl/sidecar.pem"),
    )
    assert [e.value for e in probe_env(spec)][-3:] == ["", "", "/etc/ssl/sidecar.pem"]


def test_probe_env_of_a_value_from_a_source_kind_it_does_not_know():
    """A newer API's source (fileKeyRef): not literal, so not used as a value, whatever its shape."""
    spec = {"containers": [{"name": "r", "env": [{"name": "HTTPS_PROXY", "valueFrom": {"fileKeyRef": {"path": "p"}}}]}]}
    (e,) = probe_env(spec)
    assert (e.name, e.value, e.source) == ("HTTPS_PROXY", "", "{}")
    assert probe_env({}) == () and probe_env({"containers": [{"name": "r"}]}) == ()


# ------------------------------------------------------------------ the Secrets a deployment reads


def test_secret_refs_of_init_containers_env_envfrom_and_volumes_once_each():
    raw = deployment()
    tmpl = raw["spec"]["template"]["spec"]
    tmpl["initContainers"] = [{"name": "fetch", "env": [
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "fetch-token", "key": "token"}}},
        {"name": "URL", "valueFrom": {"configMapKeyRef": {"name": "fetch-config", "key": "url"}}},
    ]}]  # fmt: skip
    tmpl["containers"][0]["envFrom"] = [{"secretRef": {"name": "extra"}}, {"configMapRef": {"name": "cm"}},
                                        {"secretRef": {}}]  # fmt: skip
    tmpl["containers"].append({"name": "again", "env": tmpl["containers"][0]["env"]})
    tmpl["volumes"] = [{"name": "s", "secret": {"secretName": "certs"}}, {"name": "e", "emptyDir": {}},
                       {"name": "x", "secret": {}}]  # fmt: skip
    assert deployment_facts(raw).secret_refs == (
        ("fetch-token", "token"), ("blink-runner-secret", "appKey"), ("extra", ""), ("certs", ""),
    )  # fmt: skip


# ------------------------------------------------------------------ operators


def _op_deployment(name: str, namespace: str = NS, selector: dict[str, str] | None = None) -> DeploymentFacts:
    raw = deployment(name, selector=selector or {"app": "blink-operator"}, secret=None)
    raw["metadata"]["namespace"] = namespace
    return deployment_facts(raw)


def _op_pod(name: str, namespace: str = NS, labels: dict[str, str] | None = None) -> PodFacts:
    raw = pod(name, containers=[container(name="blink-operator")], labels=labels or {"app": "blink-operator"})
    raw["metadata"]["namespace"] = namespace
    return pod_facts(raw)


def _grouped(ops: list[OperatorFacts]) -> list[tuple[str, str, bool, list[str]]]:
    return [(o.namespace, o.name, o.deployment is not None, [p.name for p in o.pods]) for o in ops]


def test_operators_during_an_upgrade_each_keep_their_own_pods():
    """Two operator deployments with the same selector (the old and the new version): each has the pods named
    after it, not every pod its selector matches."""
    ops = group_operators(
        [_op_deployment("blink-operator-1.0.996"), _op_deployment("blink-operator-1.0.995")],
        [_op_pod("blink-operator-1.0.995-5c7b9-aaaaa"), _op_pod("blink-operator-1.0.996-6d8c0-bbbbb")],
    )
    assert _grouped(ops) == [
        (NS, "blink-operator-1.0.995", True, ["blink-operator-1.0.995-5c7b9-aaaaa"]),
        (NS, "blink-operator-1.0.996", True, ["blink-operator-1.0.996-6d8c0-bbbbb"]),
    ]


def test_operator_adopting_pods_it_did_not_name_finds_them_by_its_selector():
    """A deployment re-created under a new name over orphaned pods (`kubectl delete --cascade=orphan`) adopts them
    by its selector; a pod its selector does not match stays a bare operator pod."""
    ops = group_operators(
        [_op_deployment("blink-operator-1.0.996")],
        [_op_pod("blink-operator-1.0.995-5c7b9-aaaaa"), _op_pod("blink-operator-debug", labels={"app": "debug"})],
    )
    assert _grouped(ops) == [
        (NS, "blink-operator-1.0.996", True, ["blink-operator-1.0.995-5c7b9-aaaaa"]),
        (NS, "blink-operator-debug", False, ["blink-operator-debug"]),
    ]
    assert ops[1] == OperatorFacts(
        "blink-operator-debug", NS, None, (_op_pod("blink-operator-debug", labels={"app": "debug"}),)
    )


def test_operators_of_several_namespaces():
    """Deployments are looked at in namespace order, whatever else the namespaces hold; a deployment claims only
    the pods of its own namespace."""
    apps = deployment_facts(deployment("blink-runner"))
    other = deployment_facts({**deployment("api"), "metadata": {"name": "api", "namespace": "a-team"}})
    ops = group_operators(
        [_op_deployment("blink-operator", "z-team"), other, apps, _op_deployment("blink-operator", NS)],
        [_op_pod("blink-operator-5c7b9-zzzzz", "z-team"), _op_pod("blink-operator-5c7b9-bbbbb", NS)],
    )
    assert _grouped(ops) == [
        (NS, "blink-operator", True, ["blink-operator-5c7b9-bbbbb"]),
        ("z-team", "blink-operator", True, ["blink-operator-5c7b9-zzzzz"]),
    ]


@pytest.mark.parametrize("namespace", ["blink", "z-team"])
def test_a_bare_operator_pod_is_an_operator_of_its_namespace(namespace):
    (op,) = group_operators([], [_op_pod("blink-operator-bare", namespace)])
    assert (op.namespace, op.label, op.deployment) == (namespace, f"pod {namespace}/blink-operator-bare", None)
    assert [p.name for p in op.pods] == ["blink-operator-bare"] and op.running
