"""Runbook: Runner Disconnected on Kubernetes, steps 1-2 (the runner pods exist, are Ready, their logs are
readable). Pure: facts in, findings out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from blinkcheck.catalog import KUBERNETES_PODS_READY
from blinkcheck.kubernetes.facts import (
    STARTUP_GRACE_S,
    DeploymentFacts,
    EventFacts,
    HpaFacts,
    PodFacts,
    _deploy_problem,
    describe_state,
)
from blinkcheck.kubernetes.pods import (
    _pod_outcome,
    deployment_table,
    events_text,
    pod_table,
)
from blinkcheck.logs.judge import last_lines, previous_last_lines
from blinkcheck.logs.scan import LogWindow
from blinkcheck.model import Evidence, Finding, Outcome, human

# ------------------------------------------------------------------ judges: Disconnected


def judge_pods_exist(
    cid: str,
    deployment: DeploymentFacts | None,
    pods: Sequence[PodFacts],
    runner_name: str,
    namespace: str,
    selector: str,
    now: datetime,
    hpa: HpaFacts | None = None,
) -> Finding:
    values = {"deployment": runner_name, "namespace": namespace, "selector": selector}
    evidence: list[Evidence] = []
    if deployment is not None:
        evidence.append(Evidence("kubectl get deployment", deployment_table([deployment], now), source=namespace))
    if pods:
        evidence.append(Evidence("kubectl get pods", pod_table(pods, now), source=f"{namespace}, -l {selector}"))
    obj = deployment.label if deployment else f"deployment {namespace}/{runner_name}"
    if deployment is None and not pods:
        summary = f"No deployment {runner_name} and no pods labelled {selector} in namespace {namespace}."
        return Finding(cid, Outcome.FAILED, summary, obj, tuple(evidence), values, variant="missing")
    if deployment is None:
        summary = (
            f"{len(pods)} pod(s) labelled {selector} run in {namespace}, but there is no deployment named "
            f"{runner_name} (installed under another name? pass --runner-name)."
        )
        return Finding(cid, Outcome.WARNING, summary, obj, tuple(evidence),
                       {**values, "pod": pods[0].name, "pod_count": str(len(pods))}, variant="other-name")  # fmt: skip
    if not pods:
        why = _deploy_problem(deployment)
        values.update(replicas=str(deployment.replicas), why=why)
        if deployment.replicas == 0:
            summary = f"Deployment {runner_name} in {namespace} is scaled to 0 replicas: no runner pod runs."
            return Finding(cid, Outcome.FAILED, summary, obj, tuple(evidence), values, variant="scaled-to-zero")
        summary = (f"Deployment {runner_name} in {namespace} wants {deployment.replicas} replica(s) but has no pods"
                   + (f": {why}" if why else "."))  # fmt: skip
        variant = "no-pods-because" if why else "no-pods"
        return Finding(cid, Outcome.FAILED, summary, obj, tuple(evidence), values, variant=variant)
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
    cid: str,
    p: PodFacts,
    all_pods: Sequence[PodFacts],
    now: datetime,
    events: Sequence[EventFacts] | None = None,
    window: LogWindow | None = None,
) -> Finding:
    state = describe_state(p)
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
    note = ""  # a warning says why it is not (yet) a failure: on its way out, an old restart, or just started
    if outcome is Outcome.WARNING and p.deleting:
        note = " Not yet a failure: it is terminating."
    elif outcome is Outcome.WARNING and p.ready:
        note = " The last restart is more than an hour old."
    elif outcome is Outcome.WARNING:
        note = f" It started less than {human(STARTUP_GRACE_S)} ago: it may still become Ready."
    return Finding(cid, outcome, f"{p.label} is {state}.{note}", p.label, tuple(evidence), values)


def judge_logs_readable(
    cid: str,
    p: PodFacts,
    window: LogWindow,
    deployment_name: str,
    hpa: HpaFacts | None,
    n_pods: int,
) -> Finding:
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
            f"{p.label} has no logs: its container never started ({describe_state(p)}).",
            p.label,
            values=values,
            because_of=KUBERNETES_PODS_READY,
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
