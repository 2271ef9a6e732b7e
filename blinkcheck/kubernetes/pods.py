"""Pods and deployments as kubectl-style tables, a pod's outcome (its state in words is facts.describe_state), the
evidence tables and events. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from blinkcheck.kubernetes.facts import (
    HIGH_RESTARTS,
    RECENT_RESTART_S,
    STARTUP_GRACE_S,
    DeploymentFacts,
    EventFacts,
    PodFacts,
    _age,
    parse_time,
)
from blinkcheck.model import Outcome, human, table

# ------------------------------------------------------------------ evidence


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
    return table(rows)


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
    return table(rows)


def events_text(events: Sequence[EventFacts] | None, limit: int = 20) -> str:
    if events is None:
        return "(events could not be read)"
    if not events:
        return "(no events)"
    recent = sorted(events, key=lambda e: e.last_seen)[-limit:]
    rows: list[tuple[str, ...]] = [("LAST SEEN", "TYPE", "REASON", "COUNT", "MESSAGE")]
    rows += [(e.last_seen, e.type, e.reason, str(e.count), e.message) for e in recent]
    return table(rows)


# ------------------------------------------------------------------ pod state


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
