"""Judging functions for the Kubernetes half of the runbook. Pure: facts in, findings out.

Facts are built here from the API's own JSON (what `kubectl get -o json` prints), so the unit
tests feed canned API objects and the gatherer feeds what the API server answered. Secret values
never reach this module: the gatherer hands over key names and which keys are empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from blinkcheck.logs import UPGRADE, LogWindow, last_lines, previous_last_lines
from blinkcheck.model import Evidence, Finding, Outcome, human
from blinkcheck.probe import PROBE_ENV

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
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _age(start: datetime | None, now: datetime) -> float | None:
    return None if start is None else (now - start).total_seconds()


# ------------------------------------------------------------------ facts


@dataclass(frozen=True)
class ContainerStatus:
    name: str
    image: str = ""
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
    owner: str = ""  # ReplicaSet/... name
    probe_env: tuple[EnvVar, ...] = ()

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
    desired_replicas: int = 0

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
        return ", ".join(f"{p.name} {describe_pod(p)}" for p in self.pods)


# ------------------------------------------------------------------ from the API's JSON


def _pairs(mapping: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in (mapping or {}).items()))


def _container_status(raw: Mapping[str, Any]) -> ContainerStatus:
    state = raw.get("state") or {}
    kind = next((k for k in ("running", "waiting", "terminated") if state.get(k) is not None), "")
    detail = state.get(kind) or {}
    last = (raw.get("lastState") or {}).get("terminated") or {}
    return ContainerStatus(
        name=str(raw.get("name", "")),
        image=str(raw.get("image", "")),
        ready=bool(raw.get("ready")),
        restart_count=int(raw.get("restartCount") or 0),
        state=kind,
        reason=str(detail.get("reason") or ""),
        message=str(detail.get("message") or ""),
        exit_code=detail.get("exitCode") if kind == "terminated" else None,
        started_at=str(detail.get("startedAt") or ""),
        last_reason=str(last.get("reason") or ""),
        last_exit_code=last.get("exitCode"),
        last_finished_at=str(last.get("finishedAt") or ""),
    )


def _conditions(raw: Iterable[Mapping[str, Any]] | None) -> tuple[PodCondition, ...]:
    return tuple(
        PodCondition(
            str(c.get("type", "")), str(c.get("status", "")), str(c.get("reason") or ""), str(c.get("message") or ""),
            str(c.get("lastTransitionTime") or ""),
        )
        for c in raw or []
    )


def pod_facts(raw: Mapping[str, Any]) -> PodFacts:
    meta = raw.get("metadata") or {}
    spec = raw.get("spec") or {}
    status = raw.get("status") or {}
    statuses = {c.get("name"): c for c in status.get("containerStatuses") or []}
    containers = []
    for c in spec.get("containers") or [{"name": n} for n in statuses]:
        s = statuses.get(c.get("name"))
        containers.append(
            _container_status(s) if s else ContainerStatus(str(c.get("name", "")), str(c.get("image", "")))
        )
    owners = meta.get("ownerReferences") or []
    return PodFacts(
        namespace=str(meta.get("namespace", "")),
        name=str(meta.get("name", "")),
        phase=str(status.get("phase") or "Unknown"),
        containers=tuple(containers),
        init_containers=tuple(_container_status(c) for c in status.get("initContainerStatuses") or []),
        conditions=_conditions(status.get("conditions")),
        labels=_pairs(meta.get("labels")),
        created=str(meta.get("creationTimestamp") or ""),
        node=str(spec.get("nodeName") or ""),
        deleting=bool(meta.get("deletionTimestamp")),
        reason=str(status.get("reason") or ""),
        message=str(status.get("message") or ""),
        owner=str(owners[0].get("name", "")) if owners else "",
        probe_env=probe_env(spec),
    )


def probe_env(pod_spec: Mapping[str, Any]) -> tuple[EnvVar, ...]:
    """The egress probe's variables of each container, in the order Kubernetes applies them (envFrom first,
    then env; a later one wins): literal values, or where a value comes from. Nothing else is kept."""
    out: list[EnvVar] = []
    for c in pod_spec.get("containers") or []:
        name = str(c.get("name", ""))
        for ref in c.get("envFrom") or []:
            kind = "configMap" if ref.get("configMapRef") else "secret"
            source = (ref.get("configMapRef") or ref.get("secretRef") or {}).get("name", "")
            out.append(EnvVar(name, "*", source=f"{kind} {source} (envFrom)"))
        for e in c.get("env") or []:
            var = str(e.get("name", ""))
            if var not in PROBE_ENV:
                continue
            if "valueFrom" not in e:
                out.append(EnvVar(name, var, str(e.get("value") or "")))
                continue
            vf = e.get("valueFrom") or {}
            kind = next((k for k in ("configMapKeyRef", "secretKeyRef", "fieldRef", "resourceFieldRef") if k in vf), "")
            ref = vf.get(kind) or {}
            where = f"{ref.get('name', '')} key {ref.get('key', '')}" if "KeyRef" in kind else str(ref)
            out.append(EnvVar(name, var, source=f"{kind.replace('KeyRef', '')} {where}".strip()))
    return tuple(out)


def _secret_refs(template_spec: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    refs: list[tuple[str, str]] = []
    for c in [*(template_spec.get("initContainers") or []), *(template_spec.get("containers") or [])]:
        for env in c.get("env") or []:
            ref = (env.get("valueFrom") or {}).get("secretKeyRef")
            if ref and ref.get("name"):
                refs.append((str(ref["name"]), str(ref.get("key", ""))))
        for env_from in c.get("envFrom") or []:
            ref = env_from.get("secretRef")
            if ref and ref.get("name"):
                refs.append((str(ref["name"]), ""))
    for vol in template_spec.get("volumes") or []:
        sec = vol.get("secret")
        if sec and sec.get("secretName"):
            refs.append((str(sec["secretName"]), ""))
    return tuple(dict.fromkeys(refs))


def deployment_facts(raw: Mapping[str, Any]) -> DeploymentFacts:
    meta = raw.get("metadata") or {}
    spec = raw.get("spec") or {}
    status = raw.get("status") or {}
    tmpl = (spec.get("template") or {}).get("spec") or {}
    replicas = spec.get("replicas")
    return DeploymentFacts(
        namespace=str(meta.get("namespace", "")),
        name=str(meta.get("name", "")),
        replicas=1 if replicas is None else int(replicas),
        ready_replicas=int(status.get("readyReplicas") or 0),
        available_replicas=int(status.get("availableReplicas") or 0),
        updated_replicas=int(status.get("updatedReplicas") or 0),
        selector=_pairs((spec.get("selector") or {}).get("matchLabels")),
        labels=_pairs(meta.get("labels")),
        created=str(meta.get("creationTimestamp") or ""),
        images=tuple(str(c.get("image", "")) for c in tmpl.get("containers") or []),
        conditions=_conditions(status.get("conditions")),
        secret_refs=_secret_refs(tmpl),
    )


def hpa_facts(raw: Mapping[str, Any]) -> HpaFacts:
    meta = raw.get("metadata") or {}
    spec = raw.get("spec") or {}
    status = raw.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    return HpaFacts(
        namespace=str(meta.get("namespace", "")),
        name=str(meta.get("name", "")),
        target_kind=str(ref.get("kind", "")),
        target_name=str(ref.get("name", "")),
        min_replicas=int(spec.get("minReplicas") or 1),
        max_replicas=int(spec.get("maxReplicas") or 1),
        current_replicas=int(status.get("currentReplicas") or 0),
        desired_replicas=int(status.get("desiredReplicas") or 0),
    )


def event_facts(raw: Mapping[str, Any]) -> EventFacts:
    obj = raw.get("involvedObject") or {}
    last = raw.get("lastTimestamp") or raw.get("eventTime") or (raw.get("metadata") or {}).get("creationTimestamp")
    return EventFacts(
        type=str(raw.get("type") or ""),
        reason=str(raw.get("reason") or ""),
        message=str(raw.get("message") or "").strip(),
        count=int(raw.get("count") or 1),
        last_seen=str(last or ""),
        object=f"{obj.get('kind', '')}/{obj.get('name', '')}",
    )


def selects(selector: Iterable[tuple[str, str]], labels: Iterable[tuple[str, str]]) -> bool:
    sel = dict(selector)
    return bool(sel) and sel.items() <= dict(labels).items()


def parse_selector(text: str) -> tuple[tuple[str, str], ...]:
    """`app=blink-runner,release=blink-runner` -> pairs (equality selectors only)."""
    pairs = []
    for part in text.split(","):
        key, sep, value = part.strip().partition("=")
        if sep and key:
            pairs.append((key.strip(), value.lstrip("=").strip()))
    return tuple(sorted(pairs))


def selector_text(pairs: Iterable[tuple[str, str]]) -> str:
    return ",".join(f"{k}={v}" for k, v in pairs)


def group_operators(deployments: Sequence[DeploymentFacts], pods: Sequence[PodFacts]) -> list[OperatorFacts]:
    """`kubectl get deployment | grep blink-operator` + `kubectl get pods | grep blink-operator`."""
    ops: list[OperatorFacts] = []
    claimed: set[tuple[str, str]] = set()
    for d in sorted(deployments, key=lambda d: (d.namespace, d.name)):
        if not d.name.startswith(OPERATOR_PREFIX):
            continue
        same_ns = [p for p in pods if p.namespace == d.namespace and (p.namespace, p.name) not in claimed]
        # Deployment pods are named <deployment>-<hash>-<hash>; the selector is the fallback.
        mine = tuple(p for p in same_ns if p.name.startswith(d.name + "-")) or tuple(
            p for p in same_ns if selects(d.selector, p.labels)
        )
        claimed.update((p.namespace, p.name) for p in mine)
        ops.append(OperatorFacts(d.name, d.namespace, d, mine))
    for p in pods:  # an operator pod without a deployment (a bare pod, or its deployment was just deleted)
        if p.name.startswith(OPERATOR_PREFIX) and (p.namespace, p.name) not in claimed:
            ops.append(OperatorFacts(p.name, p.namespace, None, (p,)))
    return ops


# ------------------------------------------------------------------ evidence


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def pod_table(pods: Sequence[PodFacts], now: datetime) -> str:
    """`kubectl get pods -o wide`, for the pods the check looked at."""
    rows: list[tuple[str, ...]] = [("NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE")]
    for p in pods:
        ready = f"{sum(c.ready for c in p.containers)}/{len(p.containers)}"
        age = _age(parse_time(p.created), now)
        rows.append(
            (
                p.namespace,
                p.name,
                ready,
                p.status,
                str(p.restarts),
                human(age) if age is not None else "?",
                p.node or "<none>",
            )
        )
    return _table(rows)


def deployment_table(deployments: Sequence[DeploymentFacts], now: datetime) -> str:
    rows: list[tuple[str, ...]] = [("NAMESPACE", "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE")]
    for d in deployments:
        age = _age(parse_time(d.created), now)
        rows.append(
            (
                d.namespace,
                d.name,
                f"{d.ready_replicas}/{d.replicas}",
                str(d.updated_replicas),
                str(d.available_replicas),
                human(age) if age is not None else "?",
            )
        )
    return _table(rows)


def events_text(events: Sequence[EventFacts] | None, limit: int = 20) -> str:
    if events is None:
        return "(events could not be read)"
    if not events:
        return "(no events)"
    recent = sorted(events, key=lambda e: e.last_seen)[-limit:]
    rows: list[tuple[str, ...]] = [("LAST SEEN", "TYPE", "REASON", "COUNT", "MESSAGE")]
    rows += [(e.last_seen, e.type, e.reason, str(e.count), e.message) for e in recent]
    return _table(rows)


def _deploy_problem(d: DeploymentFacts) -> str:
    bad = [c for c in d.conditions if c.status == "False" or c.type == "ReplicaFailure"]
    return "; ".join(f"{c.type}={c.status} {c.reason}: {c.message}".strip() for c in bad)


# ------------------------------------------------------------------ pod state


def describe_pod(p: PodFacts) -> str:
    """The one phrase a support engineer needs: Pending (Unschedulable: ...), CrashLoopBackOff (...), ..."""
    if p.deleting:
        return "Terminating"
    for c in p.init_containers:
        if c.state == "waiting" and c.reason in WAITING_FAILURES:
            return f"Init:{c.reason} (init container {c.name}{': ' + c.message if c.message else ''})"
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
        why = f" ({p.reason}: {p.message})" if p.reason or p.message else ""
        return f"{p.phase}{why}"
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


def _latest(times: Iterable[str]) -> datetime | None:
    parsed = [t for t in (parse_time(x) for x in times) if t is not None]
    return max(parsed) if parsed else None


def _pod_outcome(p: PodFacts, now: datetime) -> Outcome:
    if p.deleting:
        return Outcome.WARNING  # on its way out (a rollout); its replacement is judged on its own
    if not p.ready:
        started = _latest(c.started_at for c in p.containers if c.state == "running")
        if p.phase == "Running" and started and (_age(started, now) or 0) < STARTUP_GRACE_S and p.restarts == 0:
            return Outcome.WARNING  # just started: give it its readiness probe's time
        return Outcome.FAILED
    if any(c.last_reason == "OOMKilled" for c in p.containers):
        last = _latest(c.last_finished_at for c in p.containers if c.last_reason == "OOMKilled")
        age = _age(last, now)
        return Outcome.FAILED if age is None or age < RECENT_RESTART_S else Outcome.WARNING
    if p.restarts >= HIGH_RESTARTS:
        last = _latest(c.last_finished_at for c in p.containers)
        age = _age(last, now)
        return Outcome.FAILED if age is None or age < RECENT_RESTART_S else Outcome.WARNING
    return Outcome.PASSED


# ------------------------------------------------------------------ judges: preconditions


@dataclass(frozen=True)
class ApiFacts:
    reachable: bool
    server: str
    context: str
    namespace: str
    version: str = ""
    error: str = ""


def judge_api(api: ApiFacts) -> Finding:
    cid = "k8s.cluster.api-reachable"
    values = {"server": api.server or "no server configured", "context": api.context or "(none)",
              "namespace": api.namespace, "reason": api.error}  # fmt: skip
    if api.reachable:
        return Finding(
            cid,
            Outcome.PASSED,
            f"The API server {api.server} (Kubernetes {api.version}) answers; context {api.context}, "
            f"namespace {api.namespace}.",
            object=api.server,
            values=values,
        )
    return Finding(
        cid,
        Outcome.NOT_EVALUABLE,
        f"Could not reach the Kubernetes API server {api.server or '(unknown)'}: {api.error}",
        object=api.server or api.context,
        values=values,
    )


@dataclass(frozen=True)
class Access:
    """One read the checks need, and what SelfSubjectAccessReview said about it."""

    verb: str
    resource: str  # "pods", "pods/log", "deployments.apps", ...
    namespace: str  # "" = every namespace
    needed_by: tuple[str, ...]
    allowed: bool | None = None  # None: the review itself failed
    name: str = ""  # resourceName, when the check reads one object
    optional: bool = False  # only evidence depends on it
    detail: str = ""
    # A grant the user may withhold (create pods/exec with --probe auto): without it a check is skipped,
    # which is no problem of the suite's permissions.
    choice: bool = False

    @property
    def text(self) -> str:
        where = f"in namespace {self.namespace}" if self.namespace else "in all namespaces"
        name = f" ({self.name})" if self.name else ""
        return f"{self.verb} {self.resource}{name} {where}"

    def grant(self, subject_flag: str) -> str:
        res = self.resource
        name = f" --resource-name={self.name}" if self.name else ""
        if self.namespace:
            return f"kubectl create role blink-check-{self.verb}-{_slug(res)} --verb={self.verb} --resource={res}{name} -n {self.namespace} && kubectl create rolebinding blink-check-{self.verb}-{_slug(res)} --role=blink-check-{self.verb}-{_slug(res)} {subject_flag} -n {self.namespace}"  # noqa: E501
        return f"kubectl create clusterrole blink-check-{self.verb}-{_slug(res)} --verb={self.verb} --resource={res} && kubectl create clusterrolebinding blink-check-{self.verb}-{_slug(res)} --clusterrole=blink-check-{self.verb}-{_slug(res)} {subject_flag}"  # noqa: E501


def _slug(resource: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", resource.lower()).strip("-")


def subject_flag(subject: str) -> str:
    """`--user=...` or `--serviceaccount=ns:name` for kubectl create (cluster)rolebinding."""
    m = re.match(r"^system:serviceaccount:([^:]+):(.+)$", subject)
    return f"--serviceaccount={m[1]}:{m[2]}" if m else f"--user={subject}"


def judge_permissions(accesses: Sequence[Access], namespace: str, subject: str) -> Finding:
    cid = "k8s.cluster.permissions"
    withheld = [a for a in accesses if a.allowed is False and a.choice]
    missing = [a for a in accesses if a.allowed is False and not a.choice]
    unknown = [a for a in accesses if a.allowed is None and not a.choice]
    rows: list[tuple[str, ...]] = [("VERB", "RESOURCE", "NAMESPACE", "ALLOWED", "NEEDED BY")]
    for a in accesses:
        allowed = {True: "yes", False: "NO", None: "unknown"}[a.allowed]
        why = " (evidence only)" if a.optional else (" (optional: skipped without it)" if a.choice else "")
        rows.append((a.verb, a.resource + (f"/{a.name}" if a.name else ""), a.namespace or "*", allowed,
                     ", ".join(a.needed_by) + why))  # fmt: skip
    evidence = (Evidence("SelfSubjectAccessReview", _table(rows), source=subject),)
    flag = subject_flag(subject)
    values = {
        "namespace": namespace,
        "subject": subject,
        "missing": "; ".join(a.text for a in missing) or "nothing",
        "affected": ", ".join(sorted({c for a in missing for c in a.needed_by})) or "none",
        "grant": "\n".join(f"  {a.grant(flag)}" for a in missing),
        "subject_flag": flag,
    }
    if missing:
        required = [a for a in missing if not a.optional]
        return Finding(
            cid,
            Outcome.FAILED if required else Outcome.WARNING,
            f"{subject} lacks {len(missing)} read permission(s): {values['missing']}. "
            f"Only the checks that need them are not evaluable: {values['affected']}.",
            object=subject,
            evidence=evidence,
            values=values,
        )
    if unknown:
        return Finding(
            cid,
            Outcome.WARNING,
            f"Could not ask the API server what {subject} may read ({unknown[0].detail}); "
            "each check reports a refused read itself.",
            object=subject,
            evidence=evidence,
            values=values,
        )
    not_granted = ""
    if withheld:
        not_granted = (f" Not granted, by choice: {'; '.join(a.text for a in withheld)}: "
                       f"{', '.join(sorted({c for a in withheld for c in a.needed_by}))} is skipped.")  # fmt: skip
    granted = len(accesses) - len(withheld)
    return Finding(
        cid,
        Outcome.PASSED,
        f"{subject} may read everything the checks look at ({granted} permissions).{not_granted}",
        object=subject,
        evidence=evidence,
        values=values,
    )


# ------------------------------------------------------------------ judges: Disconnected


def judge_pods_exist(
    deployment: DeploymentFacts | None,
    pods: Sequence[PodFacts],
    runner_name: str,
    namespace: str,
    selector: str,
    now: datetime,
    hpa: HpaFacts | None = None,
) -> Finding:
    cid = "k8s.disconnected.pods-exist"
    values = {"deployment": runner_name, "namespace": namespace, "selector": selector}
    evidence: list[Evidence] = []
    if deployment is not None:
        evidence.append(Evidence("kubectl get deployment", deployment_table([deployment], now), source=namespace))
    if pods:
        evidence.append(Evidence("kubectl get pods", pod_table(pods, now), source=f"{namespace}, -l {selector}"))
    obj = deployment.label if deployment else f"deployment {namespace}/{runner_name}"
    if deployment is None and not pods:
        problem = f"No deployment {runner_name} and no pods labelled {selector} in namespace {namespace}."
        return Finding(cid, Outcome.FAILED, problem, obj, tuple(evidence), {**values, "problem": problem})
    if deployment is None:
        problem = (
            f"{len(pods)} pod(s) labelled {selector} run in {namespace}, but there is no deployment named "
            f"{runner_name} (installed under another name? pass --runner-name)."
        )
        return Finding(cid, Outcome.WARNING, problem, obj, tuple(evidence), {**values, "problem": problem,
                                                                              "pod": pods[0].name})  # fmt: skip
    if not pods:
        why = _deploy_problem(deployment)
        if deployment.replicas == 0:
            problem = f"Deployment {runner_name} in {namespace} is scaled to 0 replicas: no runner pod runs."
        else:
            problem = (
                f"Deployment {runner_name} in {namespace} wants {deployment.replicas} replica(s) but has no pods"
                + (f": {why}" if why else ".")
            )
        return Finding(cid, Outcome.FAILED, problem, obj, tuple(evidence), {**values, "problem": problem})
    hpa_note = f"; {hpa.describe()}" if hpa else ""
    return Finding(
        cid,
        Outcome.PASSED,
        f"Deployment {runner_name} in {namespace} has {len(pods)} pod(s) "
        f"({deployment.ready_replicas}/{deployment.replicas} ready){hpa_note}.",
        obj,
        tuple(evidence),
        {**values, "pod": pods[0].name},
    )


def judge_pod_ready(
    p: PodFacts,
    all_pods: Sequence[PodFacts],
    now: datetime,
    events: Sequence[EventFacts] | None = None,
    window: LogWindow | None = None,
) -> Finding:
    cid = "k8s.disconnected.pods-ready"
    state = describe_pod(p)
    outcome = _pod_outcome(p, now)
    values = {"pod": p.name, "namespace": p.namespace, "state": state}
    if outcome is Outcome.PASSED:
        return Finding(cid, outcome, f"{p.label} is {state}.", p.label, values=values)
    evidence = [Evidence("kubectl get pods", pod_table(all_pods, now), source=p.namespace)]
    evidence.append(Evidence(f"Events of {p.name}", events_text(events), source=f"kubectl describe pod {p.name}"))
    if window is not None:
        if window.previous_tail:
            evidence.append(Evidence("Last log lines of the previous container", previous_last_lines(window, 30),
                                     source=f"{window.source} --previous"))  # fmt: skip
        if window.tail:
            evidence.append(Evidence("Last log lines", last_lines(window), source=f"{window.source}, {window.window}"))
    note = {
        Outcome.WARNING: " Not yet a failure: " + ("it is terminating." if p.deleting else "judged again later."),
        Outcome.FAILED: "",
    }.get(outcome, "")
    if outcome is Outcome.WARNING and not p.deleting and p.ready:
        note = " The last restart is more than an hour old."
    elif outcome is Outcome.WARNING and not p.deleting:
        note = f" It started less than {human(STARTUP_GRACE_S)} ago: it may still become Ready."
    return Finding(cid, outcome, f"{p.label} is {state}.{note}", p.label, tuple(evidence), values)


def judge_logs_readable(
    p: PodFacts,
    window: LogWindow,
    deployment_name: str,
    hpa: HpaFacts | None,
    n_pods: int,
) -> Finding:
    cid = "k8s.disconnected.logs-readable"
    values = {"pod": p.name, "namespace": p.namespace, "deployment": deployment_name,
              "log_window": window.window, "reason": window.error}  # fmt: skip
    how = (
        f"each pod's logs individually ({hpa.describe()}: the runbook's HPA note)"
        if hpa
        else (f"each of {n_pods} pods' logs" if n_pods > 1 else f"`kubectl logs deployment/{deployment_name}`")
    )
    if not p.has_run and not window.line_count:
        return Finding(
            cid,
            Outcome.BLOCKED,
            f"{p.label} has no logs: its container never started ({describe_pod(p)}).",
            p.label,
            values=values,
            because_of="k8s.disconnected.pods-ready",
        )
    if window.gone:
        return Finding(cid, Outcome.NOT_EVALUABLE, f"Could not read the logs of {p.label}: {window.error}", p.label,
                       values=values)  # fmt: skip
    if window.error:
        return Finding(cid, Outcome.FAILED, f"Could not read the logs of {p.label}: {window.error}", p.label,
                       values=values)  # fmt: skip
    prev = ""
    if p.restarts:
        prev = (
            f"; previous container: {window.previous_lines} lines"
            if window.previous_lines
            else "; the previous container's logs are gone"
        )
    read = f"Read {window.current_lines} log lines of {p.label} ({window.window}){prev}; read as {how}"
    if window.cut:
        return Finding(cid, Outcome.WARNING, f"{read}, but not to the newest line: {window.cut}.", p.label,
                       values={**values, "reason": window.cut})  # fmt: skip
    return Finding(cid, Outcome.PASSED, f"{read}.", p.label, values=values)


def no_log_windows(condition_id: str, reason: str) -> Finding:
    return Finding(condition_id, Outcome.SKIPPED, f"Nothing to judge: {reason}")


# ------------------------------------------------------------------ judges: Upgrade


def judge_operator_state(operators: Sequence[OperatorFacts], namespace: str, now: datetime,
                         window_s: float, operator_logs: Mapping[str, LogWindow] | None = None) -> Finding:  # fmt: skip
    cid = "k8s.upgrade.operator-state"
    values: dict[str, str] = {"namespace": namespace}
    if not operators:
        return Finding(
            cid,
            Outcome.PASSED,
            f"No blink-operator deployment or pod in {namespace}: no upgrade is in progress.",
            f"namespace {namespace}",
            values=values,
        )
    deployments = [o.deployment for o in operators if o.deployment]
    pods = [p for o in operators for p in o.pods]
    evidence = []
    if deployments:
        evidence.append(Evidence("kubectl get deployment | grep blink-operator", deployment_table(deployments, now)))
    if pods:
        evidence.append(Evidence("kubectl get pods | grep blink-operator", pod_table(pods, now)))
    for name, w in (operator_logs or {}).items():
        if w.tail or w.previous_tail:
            evidence.append(Evidence(f"Operator logs ({name})", both_tails(w), source=f"{w.source}, {w.window}"))
    first = operators[0]
    values.update(operator=first.name, version=first.version)
    down = [o for o in operators if not o.running]
    if down:
        o = down[0]
        values.update(operator=o.name, version=o.version)
        problem = (
            f"Operator {o.label} exists but is not running: {o.state()}. The runbook waits one minute and "
            f"checks again (k8s.upgrade.operator-stuck does)."
        )
        return Finding(cid, Outcome.WARNING, problem, o.label, tuple(evidence), {**values, "problem": problem})
    o = first
    age = _age(parse_time(o.created), now)
    left = (
        f"; its {human(window_s)} rollback window ends in {human(window_s - age)}"
        if age is not None and age < window_s
        else ""
    )
    problem = (
        f"Operator {o.label} is running: an upgrade to {o.version} is in progress"
        f"{f' (for {human(age)})' if age is not None else ''}{left}. Do nothing, wait for it to complete."
    )
    return Finding(cid, Outcome.WARNING, problem, o.label, tuple(evidence), {**values, "problem": problem})


@dataclass(frozen=True)
class Handoff:
    version: str
    line: str


def find_handoff(window: LogWindow, pattern: re.Pattern[str]) -> Handoff | None:
    """The last `Operator has been deployed with version: ...` line, current or previous container."""
    hits = window.hit(UPGRADE + "operator_handoff")
    m = pattern.search(hits.last.text) if hits else None
    return Handoff(m["version"], hits.last.render()) if hits and m else None


def both_tails(w: LogWindow) -> str:
    """The newest lines of the previous container (after a restart), then of the current one."""
    if not w.previous_tail:
        return last_lines(w)
    return "\n".join(["--- previous container ---", previous_last_lines(w), "--- current ---", last_lines(w)])


def judge_operator_handoff(
    p: PodFacts,
    window: LogWindow,
    handoff: Handoff | None,
    operators: Sequence[OperatorFacts],
    deployment_name: str,
) -> Finding:
    cid = "k8s.upgrade.operator-handoff"
    values = {"pod": p.name, "namespace": p.namespace, "deployment": deployment_name}
    if handoff is None and window.error:
        return Finding(cid, Outcome.NOT_EVALUABLE, f"Could not read the logs of {p.label}: {window.error}", p.label,
                       values=values)  # fmt: skip
    if handoff is None:
        return Finding(cid, Outcome.PASSED, f"{p.label} logged no operator handoff ({window.window}).", p.label,
                       values=values)  # fmt: skip
    values["version"] = handoff.version
    values["operator"] = f"{OPERATOR_PREFIX}-{handoff.version}"
    line_ev = Evidence("Handoff line", handoff.line, source=f"{window.source}, {window.window}")
    alive = [o for o in operators if o.alive and o.namespace == p.namespace]
    if alive:
        return Finding(
            cid,
            Outcome.PASSED,
            f"{p.label} handed the upgrade to {handoff.version} to the operator, and {alive[0].label} is alive.",
            p.label,
            (line_ev,),
            values,
        )
    if not p.alive:
        return Finding(
            cid,
            Outcome.PASSED,
            f"{p.label} logged the handoff to {handoff.version} and is no longer running, as the handoff says.",
            p.label,
            (line_ev,),
            values,
        )
    others = [o for o in operators if o.namespace == p.namespace]
    state = "; ".join(f"{o.label}: {o.state()}" for o in others) or "no blink-operator deployment or pod exists"
    return Finding(
        cid,
        Outcome.FAILED,
        f"The upgrade to {handoff.version} has failed: {p.label} logged the operator handoff, still runs, and "
        f"no blink-operator is alive ({state}).",
        p.label,
        (line_ev, Evidence("blink-operator", state)),
        values,
    )


@dataclass(frozen=True)
class Wait:
    """What the suite did for the runbook's "wait one minute, then check again"."""

    allowed_s: float  # --operator-wait (0: the run may not wait)
    waited_s: float
    polls: int
    recovered: bool  # the operator ran (or was gone) before the deadline
    # How long the API already showed it not running at the first look: the runbook's wait counts it.
    already_s: float | None = None

    @property
    def down_for_s(self) -> float:
        """How long it has been seen not running in all (before the run and while waiting)."""
        return (self.already_s or 0) + self.waited_s

    def text(self) -> str:
        if self.allowed_s <= 0:
            return "did not wait (--operator-wait 0)"
        before = f"not running for {human(self.already_s)} at the first look" if self.already_s is not None else ""
        if self.polls == 0 and self.already_s is not None and self.already_s >= self.allowed_s:
            return f"{before}, already longer than the {human(self.allowed_s)} wait: no need to wait"
        how = "until it recovered" if self.recovered else "until the deadline"
        left = self.allowed_s - (self.already_s or 0)
        waited = f"waited {human(self.waited_s)} of the remaining {human(left)}" if before else (
            f"waited {human(self.waited_s)} of {human(self.allowed_s)}")  # fmt: skip
        return (f"{before}; " if before else "") + f"{waited} ({self.polls} checks, {how})"


def judge_operator_stuck(
    before: OperatorFacts,
    after: OperatorFacts | None,
    wait: Wait,
    runner_deployment: str,
    now: datetime,
    events: Sequence[EventFacts] | None = None,
    logs: LogWindow | None = None,
) -> Finding:
    """`before` was not running at the first look; `after` is what the last poll saw (None: gone)."""
    cid = "k8s.upgrade.operator-stuck"
    o = after or before
    values = {
        "operator": before.name,
        "namespace": before.namespace,
        "version": before.version,
        "deployment": runner_deployment,
        "state": o.state(),
        "waited": human(wait.down_for_s),
        "wait": wait.text(),
    }
    if after is None:
        return Finding(cid, Outcome.PASSED, f"{before.label} was not running and is gone now ({wait.text()}): "
                       "the operator finished or rolled back.", before.label, values=values)  # fmt: skip
    if after.running:
        return Finding(cid, Outcome.PASSED, f"{after.label} was not running at first and runs now ({wait.text()}).",
                       after.label, values=values)  # fmt: skip
    evidence = [Evidence("kubectl get pods | grep blink-operator", pod_table(after.pods, now))] if after.pods else []
    if after.deployment:
        evidence.insert(0, Evidence("kubectl get deployment | grep blink-operator",
                                    deployment_table([after.deployment], now)))  # fmt: skip
    if events is not None:
        evidence.append(Evidence(f"Events of {after.name}'s pods", events_text(events)))
    if logs is not None and (logs.tail or logs.previous_tail):
        evidence.append(Evidence("Operator logs", both_tails(logs), source=f"{logs.source}, {logs.window}"))
    if wait.allowed_s <= 0:
        return Finding(
            cid,
            Outcome.WARNING,
            f"{after.label} exists but is not running ({after.state()}); still pending: the runbook waits one "
            f"minute and checks again, and this run {wait.text()}. Re-run with --operator-wait 60s.",
            after.label,
            tuple(evidence),
            values,
        )
    return Finding(
        cid,
        Outcome.FAILED,
        f"{after.label} exists but is still not running after the runbook's wait ({after.state()}; {wait.text()}).",
        after.label,
        tuple(evidence),
        values,
    )


def judge_rollback(o: OperatorFacts, now: datetime, window_s: float, runner_deployment: str) -> Finding:
    """An operator alive for longer than its rollback window did not roll back. Exactly the window is on time."""
    cid = "k8s.upgrade.rollback-overdue"
    age = _age(parse_time(o.created), now)
    values = {
        "operator": o.name,
        "namespace": o.namespace,
        "version": o.version,
        "deployment": runner_deployment,
        "window": human(window_s),
        "age": human(age) if age is not None else "unknown",
    }
    if age is None:
        return Finding(cid, Outcome.NOT_EVALUABLE, f"{o.label} has no creation time: its age is unknown.",
                       o.label, values=values)  # fmt: skip
    if not o.alive:
        return Finding(cid, Outcome.PASSED, f"{o.label} ({human(age)} old) is not alive, so it cannot be overdue "
                       "(k8s.upgrade.operator-stuck judges an operator that does not run).", o.label,
                       values=values)  # fmt: skip
    if age <= window_s:
        return Finding(cid, Outcome.PASSED, f"{o.label} is {human(age)} old, within its {human(window_s)} rollback "
                       f"window ({human(window_s - age)} left).", o.label, values=values)  # fmt: skip
    return Finding(
        cid,
        Outcome.FAILED,
        f"{o.label} has been alive for {human(age)}, past its {human(window_s)} rollback window: the automatic "
        "rollback did not happen.",
        o.label,
        values=values,
    )


# ------------------------------------------------------------------ judges: deployment


def secret_refs_to_check(deployment: DeploymentFacts | None) -> list[tuple[str, str]]:
    """The secret/key the runner reads (from its pod template), else Blink's documented default."""
    refs = [r for r in (deployment.secret_refs if deployment else ()) if r[0] == DEFAULT_SECRET or r[1]]
    keyed = [(n, k) for n, k in refs if k]
    if keyed:
        return list(dict.fromkeys(keyed))
    return [(DEFAULT_SECRET, DEFAULT_SECRET_KEY)]


def judge_secret(secret: SecretFacts, key: str, deployment: DeploymentFacts | None) -> Finding:
    cid = "k8s.runner.secret-present"
    label = f"secret {secret.namespace}/{secret.name}"
    values = {"secret": secret.name, "secret_key": key, "namespace": secret.namespace,
              "deployment": deployment.name if deployment else ""}  # fmt: skip
    keys = ", ".join(secret.keys) or "(none)"
    used_by = f" (read by deployment {deployment.name})" if deployment and any(
        r[0] == secret.name for r in deployment.secret_refs) else ""  # fmt: skip
    if not secret.found:
        problem = f"Secret {secret.name} does not exist in {secret.namespace}{used_by}."
        return Finding(cid, Outcome.FAILED, problem, label, values={**values, "problem": problem})
    evidence = (Evidence("Secret keys (values never read into results)", keys, source=label),)
    if key not in secret.keys:
        problem = f"Secret {secret.name} in {secret.namespace} has no key {key} (keys: {keys})."
        return Finding(cid, Outcome.FAILED, problem, label, evidence, {**values, "problem": problem})
    if key in secret.empty_keys:
        problem = f"Secret {secret.name} in {secret.namespace} has key {key}, but it is empty."
        return Finding(cid, Outcome.FAILED, problem, label, evidence, {**values, "problem": problem})
    return Finding(cid, Outcome.PASSED, f"Secret {secret.name} in {secret.namespace} has key {key}{used_by}.",
                   label, evidence, values)  # fmt: skip
