"""Beyond the runbook on Kubernetes: the cluster's causes behind a disconnected runner or a stuck upgrade (a
NetworkPolicy without egress to Blink, a node under pressure, an evicted runner pod, a ResourceQuota or LimitRange
that refuses the upgrade's new pods, a runner pod's clock off from Blink's). Pure: facts in, findings out."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from blinkcheck.catalog import KUBERNETES_BLINK_REACHABLE
from blinkcheck.kubernetes.facts import (
    DeploymentFacts,
    EgressRule,
    LimitFacts,
    NetworkPolicyFacts,
    NodeFacts,
    PodCondition,
    PodFacts,
    PolicyPeer,
    QuotaFacts,
    quantity,
)
from blinkcheck.model import Evidence, Finding, Outcome, blocked_by, table
from blinkcheck.probe.clock import judge_clock_of
from blinkcheck.probe.result import ProbeResult, reached

YES, MAYBE, NO = "yes", "maybe", "no"

# ------------------------------------------------------------------ a permission the user chose not to grant


def not_granted(cid: str, why: str, obj: str) -> Finding:
    """Skipped, by the user's choice: the read this check needs is not granted; `why` names the grant."""
    return Finding(cid, Outcome.SKIPPED, why, obj, hints=(why.split("To enable this check: ", 1)[-1],))


# ------------------------------------------------------------------ NetworkPolicy: egress to Blink


def _peer_reaches(peer: PolicyPeer, host: str) -> str:
    """Whether a `to` peer holds Blink's address: yes, no (pods of the cluster), maybe (a CIDR, a name not resolved)."""
    if peer.in_cluster:
        return NO
    try:
        net = ipaddress.ip_network(peer.cidr, strict=False)
    except ValueError:
        return MAYBE
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return YES if net.prefixlen == 0 and not peer.excepts else MAYBE
    if ip.version != net.version or ip not in net:
        return NO
    for ex in peer.excepts:
        try:
            if ip in ipaddress.ip_network(ex, strict=False):
                return NO
        except ValueError:
            return MAYBE
    return YES


def _rule_allows(rule: EgressRule, host: str, port: int, protocols: tuple[str, ...] = ("TCP",)) -> str:
    port_ok = NO if rule.ports else YES
    for p in rule.ports:
        if p.protocol.upper() not in protocols:
            continue
        if not p.port:
            port_ok = YES
        elif p.port.isdigit():
            last = p.end_port or int(p.port)
            if int(p.port) <= port <= last:
                port_ok = YES
        elif port_ok == NO:
            port_ok = MAYBE  # a named port: the destination's, unknown here
    if port_ok == NO:
        return NO
    if not host:  # DNS: any destination will do (the cluster DNS is a pod of the cluster)
        return port_ok
    if not rule.to:
        return port_ok
    seen = {_peer_reaches(peer, host) for peer in rule.to}
    dest = YES if YES in seen else (MAYBE if MAYBE in seen else NO)
    return NO if dest == NO else (YES if dest == YES and port_ok == YES else MAYBE)


def _rule_text(policy: str, rule: EgressRule) -> str:
    ports = ", ".join(f"{p.protocol} {p.port or 'any'}" + (f"-{p.end_port}" if p.end_port else "") for p in rule.ports)
    to = "; ".join(p.in_cluster or (p.cidr + (f" except {', '.join(p.excepts)}" if p.excepts else "")) for p in rule.to)
    return f"{policy}: to {to or 'anywhere'}, ports {ports or 'all'}"


def _policy_table(policies: Sequence[NetworkPolicyFacts], pod: PodFacts) -> str:
    rows: list[tuple[str, ...]] = [("NAME", "POD-SELECTOR", "POLICY-TYPES", "SELECTS POD", "EGRESS RULES")]
    for np in policies:
        rows.append((np.name, np.pod_selector.text, ",".join(np.policy_types),
                     "yes" if np.pod_selector.matches(pod.labels) else "no", str(len(np.egress))))  # fmt: skip
    return table(rows)


def judge_network_policy(cid: str, pod: PodFacts, policies: Sequence[NetworkPolicyFacts], blink_host: str,
                         port: int) -> Finding:  # fmt: skip
    """NetworkPolicies are additive: a pod selected by any policy of type Egress may only send what one of those
    policies' egress rules allows. Blink needs TCP to its port, and DNS (53) to resolve its name."""
    values = {"pod": pod.name, "namespace": pod.namespace, "blink_host": blink_host, "port": str(port)}
    isolating = [np for np in policies if "Egress" in np.policy_types and np.pod_selector.matches(pod.labels)]
    if not isolating:
        selecting = sum(np.pod_selector.matches(pod.labels) for np in policies)
        summary = (f"No NetworkPolicy restricts the egress of {pod.label} ({len(policies)} in {pod.namespace}, "
                   f"{selecting} selecting it, none of type Egress).")  # fmt: skip
        table_of = Evidence("kubectl get networkpolicy", _policy_table(policies, pod), source=pod.namespace)
        return Finding(cid, Outcome.PASSED, summary, pod.label, (table_of,) if policies else (), values)
    rules = [(np.name, r) for np in isolating for r in np.egress]
    listed = "\n".join(_rule_text(n, r) for n, r in rules) or "(no egress rule: every egress is denied)"
    evidence = (Evidence("kubectl get networkpolicy", _policy_table(policies, pod), source=pod.namespace),
                Evidence(f"Egress rules that apply to {pod.name}", listed, source=pod.namespace))  # fmt: skip
    names = ", ".join(np.name for np in isolating)
    values.update(policy=isolating[0].name, allowed="; ".join(_rule_text(n, r) for n, r in rules) or "no egress rule")
    blink = {_rule_allows(r, blink_host, port) for _, r in rules}
    dns = {_rule_allows(r, "", 53, ("UDP", "TCP")) for _, r in rules}
    if YES not in blink and MAYBE not in blink:
        summary = (f"NetworkPolicy {names} selects {pod.label} and restricts its egress; no rule allows TCP {port} to "
                   f"{blink_host}: the runner cannot reach Blink.")  # fmt: skip
        return Finding(cid, Outcome.FAILED, summary, pod.label, evidence, values, variant="blocked")
    if YES not in dns and MAYBE not in dns:
        summary = (f"NetworkPolicy {names} selects {pod.label} and allows no DNS (port 53): the runner cannot "
                   f"resolve {blink_host}.")  # fmt: skip
        return Finding(cid, Outcome.FAILED, summary, pod.label, evidence, values, variant="no-dns")
    if YES not in blink:
        unsure = [_rule_text(n, r) for n, r in rules if _rule_allows(r, blink_host, port) == MAYBE]
        values["allowed"] = "; ".join(unsure)
        summary = (f"NetworkPolicy {names} allows {pod.label} TCP {port} only to {values['allowed']}: whether "
                   f"{blink_host} is in there cannot be told from the policies.")  # fmt: skip
        return Finding(cid, Outcome.WARNING, summary, pod.label, evidence, values, variant="unsure")
    summary = f"NetworkPolicy {names} restricts the egress of {pod.label}; it allows TCP {port} to {blink_host}, DNS."
    return Finding(cid, Outcome.PASSED, summary, pod.label, evidence, values)


# ------------------------------------------------------------------ the runner pods' nodes

PRESSURES = ("DiskPressure", "MemoryPressure", "PIDPressure")


def node_problems(node: NodeFacts) -> list[str]:
    """What is wrong with a node, one line each: not Ready (False, Unknown, absent), under a pressure."""
    if not node.found:
        return ["NotFound: the node no longer exists"]
    out = []
    def said(c: PodCondition | None) -> str:  # the kubelet's reason and message, those it gave
        words = ": ".join(w for w in (c.reason, c.message) if w) if c else ""
        return f" ({words})" if words else ""

    ready = next((c for c in node.conditions if c.type == "Ready"), None)
    if ready is None or ready.status != "True":
        out.append(f"Ready={ready.status if ready else 'absent'}{said(ready)}")
    out += [f"{c.type}=True{said(c)}" for c in node.conditions if c.type in PRESSURES and c.status == "True"]
    return out


def _node_table(node: NodeFacts) -> str:
    rows: list[tuple[str, ...]] = [("TYPE", "STATUS", "SINCE", "REASON", "MESSAGE")]
    rows += [(c.type, c.status, c.since, c.reason, c.message) for c in node.conditions]
    return table(rows)


def judge_node(cid: str, node: NodeFacts, pods: Sequence[PodFacts], deployment: str) -> Finding:
    label = f"node {node.name}"
    on_it = ", ".join(p.name for p in pods)
    values = {"node": node.name, "pod": pods[0].name if pods else "", "namespace": pods[0].namespace if pods else "",
              "deployment": deployment}  # fmt: skip
    evidence = (Evidence(f"kubectl describe node {node.name}: Conditions", _node_table(node), source=label),)
    problems = node_problems(node)
    if not problems:
        cordoned = " It is cordoned (unschedulable): no new pod goes there." if node.unschedulable else ""
        outcome = Outcome.WARNING if node.unschedulable else Outcome.PASSED
        values.update(condition="SchedulingDisabled", message="the node is cordoned (spec.unschedulable)")
        return Finding(cid, outcome, f"Node {node.name} (runner pods {on_it}) is Ready, under no pressure.{cordoned}",
                       label, evidence, values)  # fmt: skip
    bad = [c for c in node.conditions if (c.type in PRESSURES and c.status == "True")
           or (c.type == "Ready" and c.status != "True")]  # fmt: skip
    first = bad[0] if bad else None
    values.update(condition=f"{first.type}={first.status}" if first else problems[0].split(" ", 1)[0],
                  message=(first.message or first.reason) if first else problems[0])  # fmt: skip
    summary = f"Node {node.name}, where runner pod(s) {on_it} run, reports {'; '.join(problems)}."
    return Finding(cid, Outcome.FAILED, summary, label, evidence, values)


# ------------------------------------------------------------------ evicted runner pods


def evicted(pods: Sequence[PodFacts]) -> list[PodFacts]:
    return [p for p in pods if p.phase == "Failed" and p.reason == "Evicted"]


def judge_evictions(cid: str, pods: Sequence[PodFacts], namespace: str) -> list[Finding]:
    gone = evicted(pods)
    if not gone:
        summary = f"No runner pod in {namespace} was evicted ({len(pods)} runner pod(s))."
        return [Finding(cid, Outcome.PASSED, summary, f"namespace {namespace}", values={"namespace": namespace})]
    out = []
    for p in gone:
        values = {"pod": p.name, "namespace": p.namespace, "node": p.node, "message": p.message or p.reason}
        summary = f"{p.label} was evicted from node {p.node or '(unknown)'}: {p.message or p.reason}"
        rows = [("NAME", "STATUS", "NODE", "REASON", "MESSAGE"), (p.name, p.phase, p.node, p.reason, p.message)]
        evidence = (Evidence("kubectl get pod (evicted)", table(rows), source=p.namespace),)
        out.append(Finding(cid, Outcome.FAILED, summary, p.label, evidence, values))
    return out


# ------------------------------------------------------------------ ResourceQuota / LimitRange and the upgrade

# quota resource -> (what of a pod template it counts, requests or limits)
_QUOTA_NEEDS = {
    "pods": ("pods", ""), "count/pods": ("pods", ""),
    "cpu": ("cpu", "requests"), "requests.cpu": ("cpu", "requests"), "limits.cpu": ("cpu", "limits"),
    "memory": ("memory", "requests"), "requests.memory": ("memory", "requests"), "limits.memory": ("memory", "limits"),
    "ephemeral-storage": ("ephemeral-storage", "requests"),
    "requests.ephemeral-storage": ("ephemeral-storage", "requests"),
    "limits.ephemeral-storage": ("ephemeral-storage", "limits"),
}  # fmt: skip
_EXCEEDED = re.compile(r"exceeded quota: ([a-z0-9]([-a-z0-9.]*[a-z0-9])?)")


def _pod_need(d: DeploymentFacts, resource: str, kind: str) -> float:
    if not kind:
        return 1.0
    total = 0.0
    for c in d.resources:
        value = dict(c.requests if kind == "requests" else c.limits).get(resource)
        if value is None and kind == "requests":  # a limit without a request: the request is the limit
            value = dict(c.limits).get(resource)
        total += quantity(value or "0") or 0.0
    return total


def _amount(resource: str, value: float) -> str:
    """A quantity as kubectl writes it: CPU in cores or millicores, memory and storage in Mi / Gi, counts as is."""
    if resource == "cpu":
        return f"{value * 1000:g}m" if value < 1 else f"{value:g}"
    if "memory" in resource or "storage" in resource:
        return f"{value / 2**30:g}Gi" if value >= 2**30 else f"{value / 2**20:g}Mi"
    return f"{value:g}"


def _quota_table(quotas: Sequence[QuotaFacts]) -> str:
    rows: list[tuple[str, ...]] = [("NAME", "RESOURCE", "USED", "HARD")]
    for q in quotas:
        used = dict(q.used)
        rows += [(q.name, res, used.get(res, "0"), hard) for res, hard in q.hard]
    return table(rows)


def _quota_block(q: QuotaFacts, deployments: Sequence[DeploymentFacts]) -> str:
    used = dict(q.used)
    for res, hard_text in q.hard:
        if res not in _QUOTA_NEEDS:
            continue
        hard, now = quantity(hard_text), quantity(used.get(res, "0"))
        if hard is None or now is None:
            continue
        if now >= hard:
            return f"{res} used {used.get(res, '0')} of hard {hard_text}: exhausted"
        what, kind = _QUOTA_NEEDS[res]
        for d in deployments:
            need = _pod_need(d, what, kind)
            if now + need > hard:
                return (f"{res} used {used.get(res, '0')} of hard {hard_text}: one more pod of deployment {d.name} "
                        f"needs {_amount(what, need)} more")  # fmt: skip
    return ""


def _limit_block(lim: LimitFacts, deployments: Sequence[DeploymentFacts]) -> str:
    for d in deployments:
        for res, top_text in lim.max:
            top = quantity(top_text)
            if top is None:
                continue
            if lim.type == "Container":
                for c in d.resources:
                    for kind, pairs in (("request", c.requests), ("limit", c.limits)):
                        value = dict(pairs).get(res)
                        if value is not None and (quantity(value) or 0) > top:
                            return (f"maximum {res} per Container is {top_text}, but container {c.name} of deployment "
                                    f"{d.name} has {kind} {value}")  # fmt: skip
            elif lim.type == "Pod":
                need = _pod_need(d, res, "limits") or _pod_need(d, res, "requests")
                if need > top:
                    return (f"maximum {res} per Pod is {top_text}, but a pod of deployment {d.name} asks "
                            f"{_amount(res, need)}")  # fmt: skip
    return ""


def judge_quota(cid: str, namespace: str, quotas: Sequence[QuotaFacts], limits: Sequence[LimitFacts],
                deployments: Sequence[DeploymentFacts]) -> Finding:  # fmt: skip
    """`deployments`: the runner's and the operators' (their pod templates are what an upgrade creates pods from)."""
    label = f"namespace {namespace}"
    values = {"namespace": namespace, "deployment": deployments[0].name if deployments else ""}
    evidence = []
    if quotas:
        evidence.append(Evidence("kubectl describe resourcequota", _quota_table(quotas), source=namespace))
    if limits:
        rows = [("NAME", "TYPE", "MAX")] + [(x.name, x.type, ", ".join(f"{k}={v}" for k, v in x.max)) for x in limits]
        evidence.append(Evidence("kubectl describe limitrange", table(rows), source=namespace))
    for d in deployments:
        refused = next((c for c in d.conditions if c.type == "ReplicaFailure" and c.status == "True"), None)
        if refused and ("quota" in refused.message or "forbidden" in refused.message):
            m = _EXCEEDED.search(refused.message)
            named = m[1] if m else next((x.name for x in limits if x.name in refused.message), "")
            values.update(deployment=d.name, message=refused.message, quota=named or (quotas[0].name if quotas else ""))
            summary = f"Deployment {d.name} in {namespace} cannot create its pods: {refused.message}"
            return Finding(cid, Outcome.FAILED, summary, label, tuple(evidence), values, variant="failed-create")
    for q in quotas:
        why = _quota_block(q, deployments)
        if why:
            values.update(quota=q.name, message=why)
            summary = f"ResourceQuota {q.name} in {namespace} leaves no room for a new runner or operator pod: {why}."
            return Finding(cid, Outcome.FAILED, summary, label, tuple(evidence), values, variant="quota")
    for lim in limits:
        why = _limit_block(lim, deployments)
        if why:
            values.update(quota=lim.name, message=why)
            summary = f"LimitRange {lim.name} in {namespace} forbids the runner's or operator's pods: {why}."
            return Finding(cid, Outcome.FAILED, summary, label, tuple(evidence), values, variant="limit-range")
    if not quotas and not limits:
        return Finding(cid, Outcome.PASSED, f"No ResourceQuota or LimitRange in {namespace}.", label, values=values)
    names = ", ".join(sorted({q.name for q in quotas} | {x.name for x in limits}))
    summary = f"{names} in {namespace} leave(s) room for one more runner or operator pod."
    return Finding(cid, Outcome.PASSED, summary, label, tuple(evidence), values)


# ------------------------------------------------------------------ the runner pod's clock against Blink's


def judge_clock(cid: str, pod: PodFacts, result: ProbeResult, max_skew_s: float, blink_host: str) -> Finding:
    """The Date of Blink's answer to the egress probe against the pod's clock (its node's); the node in the remedy.
    A probe Blink did not answer blocks it (k8s.disconnected.blink-reachable failed for this pod); a probe that
    cannot run here (no exec granted) skips it, with the grant."""
    values = {"pod": pod.name, "namespace": pod.namespace, "node": pod.node or "(not known)"}
    failed = result.failed_step
    if reached(result) is False and failed is not None and not result.server_date:
        why = f"Blink did not answer the egress probe from {pod.label} (it failed at the {failed.layer} layer)"
        return blocked_by(cid, KUBERNETES_BLINK_REACHABLE, f"{why}: no Date to compare.", pod.label, values)
    return judge_clock_of(cid, pod.label, values, result, max_skew_s, blink_host, "",
                          f"{pod.label} (node {values['node']})")  # fmt: skip
