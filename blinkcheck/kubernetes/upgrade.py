"""Runbook: Upgrade Failure on Kubernetes, steps 3-4 (the operator: its state, the handoff, stuck, the rollback
window). Pure: facts in, findings out."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from blinkcheck.kubernetes.facts import OPERATOR_PREFIX, EventFacts, OperatorFacts, PodFacts, _age, parse_time
from blinkcheck.kubernetes.pods import deployment_table, events_text, pod_table
from blinkcheck.logs.judge import last_lines, previous_last_lines
from blinkcheck.logs.scan import UPGRADE, LogWindow
from blinkcheck.model import Evidence, Finding, Outcome, human

# ------------------------------------------------------------------ judges: Upgrade


def judge_operator_state(cid: str, operators: Sequence[OperatorFacts], namespace: str, now: datetime,
                         window_s: float, operator_logs: Mapping[str, LogWindow] | None = None) -> Finding:  # fmt: skip
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
        summary = (
            f"Operator {o.label} exists but is not running: {o.state()}. The runbook waits one minute and "
            f"checks again (the operator-stuck check does)."
        )
        return Finding(cid, Outcome.WARNING, summary, o.label, tuple(evidence), {**values, "state": o.state()},
                       variant="not-running")  # fmt: skip
    o = first
    age = _age(parse_time(o.created), now)
    left = (
        f"; its {human(window_s)} rollback window ends in {human(window_s - age)}"
        if age is not None and age < window_s
        else ""
    )
    summary = (
        f"Operator {o.label} is running: an upgrade to {o.version} is in progress"
        f"{f' (for {human(age)})' if age is not None else ''}{left}. Do nothing, wait for it to complete."
    )
    values.update(age=human(age) if age is not None else "?", window=human(window_s))
    return Finding(cid, Outcome.WARNING, summary, o.label, tuple(evidence), values, variant="in-progress")


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
    cid: str,
    p: PodFacts,
    window: LogWindow,
    handoff: Handoff | None,
    operators: Sequence[OperatorFacts],
    deployment_name: str,
) -> Finding:
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
    cid: str,
    before: OperatorFacts,
    after: OperatorFacts | None,
    wait: Wait,
    runner_deployment: str,
    now: datetime,
    events: Sequence[EventFacts] | None = None,
    logs: LogWindow | None = None,
) -> Finding:
    """`before` was not running at the first look; `after` is what the last poll saw (None: gone)."""
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


def judge_rollback(cid: str, o: OperatorFacts, now: datetime, window_s: float, runner_deployment: str) -> Finding:
    """An operator alive for longer than its rollback window did not roll back. Exactly the window is on time."""
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
                       "(the operator-stuck check judges an operator that does not run).", o.label,
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
