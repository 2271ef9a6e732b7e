"""Kubernetes facts: what the suite knows of pods, deployments, HPAs, events, the runner Secret and the
operator, as plain frozen data (built from the API's own JSON by blinkcheck.kubernetes.parse).
Secret values never reach these: the gatherer hands over key names and which keys are empty."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

OPERATOR_PREFIX = "blink-operator"
DEFAULT_SECRET = "blink-runner-secret"
DEFAULT_SECRET_KEY = "appKey"
# A Running pod restarted this often is a failure (when the last restart is recent), a warning otherwise.
HIGH_RESTARTS = 5
RECENT_RESTART_S = 3600.0
# A container that started this recently may still be becoming Ready.
STARTUP_GRACE_S = 60.0
WAITING_FAILURES = {
    "CrashLoopBackOff": "the container keeps crashing",
    "ImagePullBackOff": "the image cannot be pulled",
    "ErrImagePull": "the image cannot be pulled",
    "InvalidImageName": "the image name is invalid",
    "CreateContainerConfigError": "the container's configuration is broken (a missing Secret or ConfigMap?)",
    "CreateContainerError": "the container cannot be created",
    "RunContainerError": "the container cannot be started",
}


# ------------------------------------------------------------------ time


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).astimezone(UTC)  # Python 3.11 reads the API's "Z" itself
    except ValueError:
        return None


def _age(start: datetime | None, now: datetime) -> float | None:
    return None if start is None else (now - start).total_seconds()


# ------------------------------------------------------------------ facts


@dataclass(frozen=True)
class ContainerStatus:
    name: str
    image: str = ""  # the image the container runs (Blink's view compares its tag with Blink's version)
    ready: bool = False
    restart_count: int = 0
    state: str = ""  # running | waiting | terminated | "" (no status yet)
    reason: str = ""  # waiting / terminated reason
    message: str = ""
    exit_code: int | None = None
    started_at: str = ""
    last_reason: str = ""  # lastState.terminated.reason: OOMKilled, Error, Completed
    last_exit_code: int | None = None
    last_finished_at: str = ""

    @property
    def has_run(self) -> bool:
        """A container that ever started has logs to read."""
        return self.state in ("running", "terminated") or self.restart_count > 0 or bool(self.last_reason)


@dataclass(frozen=True)
class PodCondition:
    type: str
    status: str
    reason: str = ""
    message: str = ""
    since: str = ""  # lastTransitionTime


@dataclass(frozen=True)
class EnvVar:
    """One of the egress probe's variables (blinkcheck.probe.PROBE_ENV: proxy, trust store) in a pod spec."""

    container: str
    name: str  # "*": variables taken whole from a ConfigMap or Secret (envFrom)
    value: str = field(default="", repr=False)  # the literal value ("" when it comes from elsewhere)
    source: str = ""  # where a value that is not literal comes from: "configMap X key Y", ...


@dataclass(frozen=True)
class PodFacts:
    namespace: str
    name: str
    phase: str
    containers: tuple[ContainerStatus, ...] = ()
    init_containers: tuple[ContainerStatus, ...] = ()
    conditions: tuple[PodCondition, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    created: str = ""
    node: str = ""
    deleting: bool = False
    reason: str = ""  # status.reason: Evicted, NodeLost, ...
    message: str = ""
    probe_env: tuple[EnvVar, ...] = ()
    ip: str = ""  # status.podIP (Blink's view matches a runner by IP too)

    @property
    def label(self) -> str:
        return f"pod {self.namespace}/{self.name}"

    @property
    def restarts(self) -> int:
        return sum(c.restart_count for c in self.containers)

    @property
    def ready(self) -> bool:
        cond = self.condition("Ready")
        ready = cond.status == "True" if cond else all(c.ready for c in self.containers)
        return self.phase == "Running" and ready and bool(self.containers) and not self.deleting

    @property
    def alive(self) -> bool:
        """Some container is running right now (an operator that is alive, even if not Ready)."""
        return self.phase == "Running" and any(c.state == "running" for c in self.containers)

    @property
    def has_run(self) -> bool:
        return any(c.has_run for c in self.containers)

    def condition(self, type_: str) -> PodCondition | None:
        return next((c for c in self.conditions if c.type == type_), None)

    @property
    def status(self) -> str:
        """kubectl's STATUS column."""
        if self.deleting:
            return "Terminating"
        for c in self.init_containers:
            if c.state == "waiting" and c.reason and c.reason != "PodInitializing":
                return f"Init:{c.reason}"
            if c.state == "terminated" and c.exit_code:
                return f"Init:{c.reason or 'Error'}"
        status = self.reason or self.phase or "Unknown"
        for c in self.containers:
            if c.state == "waiting" and c.reason:
                status = c.reason
            elif c.state == "terminated":
                status = c.reason or f"ExitCode:{c.exit_code}"
        return status


@dataclass(frozen=True)
class DeploymentFacts:
    namespace: str
    name: str
    replicas: int = 1
    ready_replicas: int = 0
    available_replicas: int = 0
    updated_replicas: int = 0
    selector: tuple[tuple[str, str], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    created: str = ""
    images: tuple[str, ...] = ()
    conditions: tuple[PodCondition, ...] = ()
    # (secret name, key) the pod template reads; key "" for envFrom (the whole secret)
    secret_refs: tuple[tuple[str, str], ...] = ()
    selector_query: str = ""  # the whole selector (matchLabels and matchExpressions) as `kubectl get pods -l` takes it
    resources: tuple[ContainerResources, ...] = ()  # the pod template's containers' requests and limits

    @property
    def label(self) -> str:
        return f"deployment {self.namespace}/{self.name}"


@dataclass(frozen=True)
class HpaFacts:
    namespace: str
    name: str
    target_kind: str
    target_name: str
    min_replicas: int = 1
    max_replicas: int = 1
    current_replicas: int = 0

    def targets(self, deployment: DeploymentFacts) -> bool:
        return (
            self.namespace == deployment.namespace
            and self.target_kind == "Deployment"
            and self.target_name == deployment.name
        )

    def describe(self) -> str:
        return (
            f"HPA {self.namespace}/{self.name} targets deployment {self.target_name} "
            f"(min {self.min_replicas}, max {self.max_replicas}, current {self.current_replicas})"
        )


@dataclass(frozen=True)
class SecretFacts:
    """Existence and key names only. `empty_keys` says which keys hold no bytes; values never come here."""

    namespace: str
    name: str
    found: bool
    keys: tuple[str, ...] = ()
    empty_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventFacts:
    type: str
    reason: str
    message: str
    count: int = 1
    last_seen: str = ""
    object: str = ""


@dataclass(frozen=True)
class OperatorFacts:
    """One blink-operator: its deployment (if any) and the pods that belong to it."""

    name: str  # deployment name, or the pod name for a bare pod
    namespace: str
    deployment: DeploymentFacts | None
    pods: tuple[PodFacts, ...] = ()

    @property
    def version(self) -> str:
        suffix = self.name[len(OPERATOR_PREFIX) :].lstrip("-")
        if suffix and re.match(r"^v?\d", suffix):
            return suffix
        labels = dict(self.deployment.labels) if self.deployment else {}
        if labels.get("version"):
            return labels["version"]
        images = self.deployment.images if self.deployment else ()
        tag = images[0].rsplit(":", 1)[-1] if images and ":" in images[0].rsplit("/", 1)[-1] else ""
        return tag or suffix

    @property
    def alive(self) -> bool:
        return any(p.alive for p in self.pods)

    @property
    def running(self) -> bool:
        """The runbook's "operator is running": a pod Running and Ready."""
        return any(p.ready for p in self.pods)

    @property
    def created(self) -> str:
        if self.deployment and self.deployment.created:
            return self.deployment.created
        return min((p.created for p in self.pods if p.created), default="")

    @property
    def label(self) -> str:
        return f"deployment {self.namespace}/{self.name}" if self.deployment else f"pod {self.namespace}/{self.name}"

    def not_running_since(self) -> datetime | None:
        """Since when the API says it has not been running: the latest moment one of its pods stopped being
        Ready (or was created, never Ready), else the deployment's creation. None when unknown or running."""
        if self.running:
            return None
        times = []
        for p in self.pods:
            ready = p.condition("Ready")
            times.append(parse_time(ready.since if ready and ready.since else p.created))
        if not self.pods and self.deployment:
            times.append(parse_time(self.deployment.created))
        known = [t for t in times if t is not None]
        return max(known) if known and len(known) == len(times) else None

    def state(self) -> str:
        if not self.pods:
            d = self.deployment
            want = d.replicas if d else 0
            return f"no pods (replicas {want})" + (f": {_deploy_problem(d)}" if d and _deploy_problem(d) else "")
        return ", ".join(f"{p.name} {describe_state(p)}" for p in self.pods)


def _deploy_problem(d: DeploymentFacts) -> str:
    bad = [c for c in d.conditions if c.status == "False" or c.type == "ReplicaFailure"]
    return "; ".join(f"{c.type}={c.status} {c.reason}: {c.message}".strip() for c in bad)


def describe_state(p: PodFacts) -> str:
    """The one phrase a support engineer needs: Pending (Unschedulable: ...), CrashLoopBackOff (...), ..."""
    if p.deleting:
        return "Terminating"
    for c in p.init_containers:
        if c.state == "waiting" and c.reason in WAITING_FAILURES:
            return f"Init:{c.reason} (init container {c.name}{': ' + c.message if c.message else ''})"
        if c.state == "terminated" and c.exit_code:  # failed, until the kubelet runs it again
            return f"Init:{c.reason or 'Error'} (init container {c.name} exited with code {c.exit_code})"
    for c in p.containers:
        if c.state == "waiting" and c.reason in WAITING_FAILURES:
            text = f"{c.reason} ({WAITING_FAILURES[c.reason]}"
            if c.reason == "CrashLoopBackOff":
                text += f"; restarts {c.restart_count}, last exit code {c.last_exit_code}"
                if c.last_reason:
                    text += f" ({c.last_reason})"
            elif c.message:
                text += f": {c.message}"
            return text + ")"
    if p.phase == "Pending":
        sched = p.condition("PodScheduled")
        if sched and sched.status == "False":
            return f"Pending ({sched.reason or 'not scheduled'}: {sched.message})".replace(": )", ")")
        waiting = next((c for c in p.containers if c.state == "waiting" and c.reason), None)
        return f"Pending ({waiting.reason})" if waiting else "Pending"
    if p.phase in ("Failed", "Succeeded", "Unknown"):
        why = ": ".join(x for x in (p.reason, p.message) if x)
        return f"{p.phase} ({why})" if why else p.phase
    oom = next((c for c in p.containers if c.last_reason == "OOMKilled" or c.reason == "OOMKilled"), None)
    if oom:
        return f"OOMKilled (container {oom.name} ran out of memory; restarts {oom.restart_count})"
    for c in p.containers:
        if c.state == "terminated":
            return f"{c.reason or 'Terminated'} (container {c.name} exited with code {c.exit_code})"
    if not p.ready:
        return "Running but not Ready (its readiness probe fails)"
    if p.restarts:
        last = max((c for c in p.containers), key=lambda c: c.restart_count)
        return (
            f"Running and Ready, restarted {p.restarts} time{'s' if p.restarts != 1 else ''} "
            f"(last exit code {last.last_exit_code}"
            + (f", {last.last_reason}" if last.last_reason else "")
            + ")"
        )
    return "Running and Ready"


# ------------------------------------------------------------------ beyond the runbook: the cluster's causes


@dataclass(frozen=True)
class Selector:
    """A label selector (matchLabels and matchExpressions); empty selects everything."""

    labels: tuple[tuple[str, str], ...] = ()
    expressions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (key, operator, values)

    def matches(self, labels: tuple[tuple[str, str], ...]) -> bool:
        have = dict(labels)
        if any(have.get(k) != v for k, v in self.labels):
            return False
        for key, op, values in self.expressions:
            ok = {"In": key in have and have[key] in values, "NotIn": key not in have or have[key] not in values,
                  "Exists": key in have, "DoesNotExist": key not in have}.get(op, False)  # fmt: skip
            if not ok:
                return False
        return True

    @property
    def text(self) -> str:
        parts = [f"{k}={v}" for k, v in self.labels]
        parts += [f"{k} {op.lower()} ({','.join(v)})" if v else (k if op == "Exists" else f"!{k}")
                  for k, op, v in self.expressions]  # fmt: skip
        return ",".join(parts) or "(every pod)"


@dataclass(frozen=True)
class PolicyPeer:
    """One `to` entry of an egress rule: an ipBlock, or pods/namespaces of the cluster."""

    cidr: str = ""
    excepts: tuple[str, ...] = ()
    in_cluster: str = ""  # the podSelector / namespaceSelector, as text ("" for an ipBlock)


@dataclass(frozen=True)
class PolicyPort:
    protocol: str = "TCP"
    port: str = ""  # "" = every port of the protocol; a number or a named port
    end_port: int | None = None


@dataclass(frozen=True)
class EgressRule:
    to: tuple[PolicyPeer, ...] = ()  # () = every destination
    ports: tuple[PolicyPort, ...] = ()  # () = every port


@dataclass(frozen=True)
class NetworkPolicyFacts:
    namespace: str
    name: str
    pod_selector: Selector = Selector()
    policy_types: tuple[str, ...] = ()  # as effective: Ingress always, Egress when set or when egress rules exist
    egress: tuple[EgressRule, ...] = ()


@dataclass(frozen=True)
class NodeFacts:
    name: str
    found: bool = True
    conditions: tuple[PodCondition, ...] = ()
    unschedulable: bool = False


@dataclass(frozen=True)
class QuotaFacts:
    namespace: str
    name: str
    hard: tuple[tuple[str, str], ...] = ()
    used: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class LimitFacts:
    """One item of a LimitRange: its type (Container, Pod) and the max per resource."""

    namespace: str
    name: str
    type: str
    max: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ContainerResources:
    name: str
    requests: tuple[tuple[str, str], ...] = ()
    limits: tuple[tuple[str, str], ...] = ()


_SUFFIX = {"m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
           "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}  # fmt: skip
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")


def quantity(text: str) -> float | None:
    """A Kubernetes quantity (`100m`, `128Mi`, `2`, `1e3`) as a number; None when it is not one."""
    m = _QUANTITY.match(text.strip())
    if not m:
        return None
    try:
        return float(m[1]) * _SUFFIX.get(m[2] or "", 1.0)
    except ValueError:
        return None
