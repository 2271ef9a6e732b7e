"""The API's own JSON (what `kubectl get -o json` prints) -> facts: the unit tests feed canned API objects,
the gatherer feeds what the API server answered. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from blinkcheck.kubernetes.facts import (
    OPERATOR_PREFIX,
    ContainerResources,
    ContainerStatus,
    DeploymentFacts,
    EgressRule,
    EnvVar,
    EventFacts,
    HpaFacts,
    LimitFacts,
    NetworkPolicyFacts,
    NodeFacts,
    OperatorFacts,
    PodCondition,
    PodFacts,
    PolicyPeer,
    PolicyPort,
    QuotaFacts,
    Selector,
)
from blinkcheck.probe.result import PROBE_ENV

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
    for c in spec.get("containers") or []:
        s = statuses.get(c.get("name"))
        name, image = str(c.get("name", "")), str(c.get("image", ""))
        containers.append(_container_status(s) if s else ContainerStatus(name, image))
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
        probe_env=probe_env(spec),
        ip=str(status.get("podIP") or ""),
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
        selector_query=label_selector(spec.get("selector")),
        resources=tuple(_resources(c) for c in tmpl.get("containers") or [] if c.get("resources")),
    )


def _resources(c: Mapping[str, Any]) -> ContainerResources:
    res = c.get("resources") or {}
    return ContainerResources(str(c.get("name", "")), _pairs(res.get("requests")), _pairs(res.get("limits")))


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


def label_selector(raw: Mapping[str, Any] | None) -> str:
    """A LabelSelector (matchLabels, matchExpressions) as the API's `labelSelector` parameter takes it (`kubectl get
    pods -l ...`): `app=x,tier in (a,b),!legacy`. "" for an empty selector or one the API would refuse (an unknown
    operator): then nothing is selected on the server rather than more than the deployment selects."""
    raw = raw or {}
    parts = [f"{k}={v}" for k, v in _pairs(raw.get("matchLabels"))]
    for e in raw.get("matchExpressions") or []:
        key, op = str(e.get("key") or ""), str(e.get("operator") or "")
        values = ",".join(sorted(str(v) for v in e.get("values") or []))
        if key and op in ("In", "NotIn") and values:
            parts.append(f"{key} {op.lower()} ({values})")
        elif key and op == "Exists":
            parts.append(key)
        elif key and op == "DoesNotExist":
            parts.append(f"!{key}")
        else:
            return ""
    return ",".join(parts)


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


# ------------------------------------------------------------------ beyond the runbook: the cluster's causes


def selector_of(raw: Mapping[str, Any] | None) -> Selector:
    raw = raw or {}
    exprs = tuple((str(e.get("key", "")), str(e.get("operator", "")), tuple(str(v) for v in e.get("values") or []))
                  for e in raw.get("matchExpressions") or [])  # fmt: skip
    return Selector(_pairs(raw.get("matchLabels")), exprs)


def _peer(raw: Mapping[str, Any]) -> PolicyPeer:
    block = raw.get("ipBlock")
    if block:
        return PolicyPeer(str(block.get("cidr", "")), tuple(str(x) for x in block.get("except") or []))
    parts = []
    if raw.get("namespaceSelector") is not None:
        parts.append(f"namespaces {selector_of(raw['namespaceSelector']).text.replace('(every pod)', '(every one)')}")
    if raw.get("podSelector") is not None:
        parts.append(f"pods {selector_of(raw['podSelector']).text}")
    return PolicyPeer(in_cluster=" and ".join(parts) or "pods of the policy's namespace")


def _port(raw: Mapping[str, Any]) -> PolicyPort:
    end = raw.get("endPort")
    port = raw.get("port")
    return PolicyPort(str(raw.get("protocol") or "TCP"), "" if port is None else str(port),
                      int(end) if end is not None else None)  # fmt: skip


def network_policy_facts(raw: Mapping[str, Any]) -> NetworkPolicyFacts:
    meta = raw.get("metadata") or {}
    spec = raw.get("spec") or {}
    egress = tuple(EgressRule(tuple(_peer(p) for p in r.get("to") or []), tuple(_port(p) for p in r.get("ports") or []))
                   for r in spec.get("egress") or [])  # fmt: skip
    types = spec.get("policyTypes") or (["Ingress"] + (["Egress"] if spec.get("egress") else []))
    return NetworkPolicyFacts(str(meta.get("namespace", "")), str(meta.get("name", "")),
                              selector_of(spec.get("podSelector")), tuple(str(t) for t in types), egress)  # fmt: skip


def node_facts(raw: Mapping[str, Any]) -> NodeFacts:
    meta = raw.get("metadata") or {}
    return NodeFacts(str(meta.get("name", "")), True, _conditions((raw.get("status") or {}).get("conditions")),
                     bool((raw.get("spec") or {}).get("unschedulable")))  # fmt: skip


def quota_facts(raw: Mapping[str, Any]) -> QuotaFacts:
    meta = raw.get("metadata") or {}
    status = raw.get("status") or {}
    hard = status.get("hard") or (raw.get("spec") or {}).get("hard")
    ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    return QuotaFacts(ns, name, _pairs(hard), _pairs(status.get("used")))


def limit_facts(raw: Mapping[str, Any]) -> list[LimitFacts]:
    meta = raw.get("metadata") or {}
    ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    return [LimitFacts(ns, name, str(item.get("type", "")), _pairs(item.get("max")))
            for item in (raw.get("spec") or {}).get("limits") or []]  # fmt: skip
