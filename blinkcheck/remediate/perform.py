"""Performing the plan (--remediate --yes): one step at a time, each recorded with its time and result; the
permission for every action asked first (nothing is done half-way when one is refused); the first step that fails
stops the rest. Manual steps are listed, never performed; a `hold` step leaves its object alone. Then the
before/after of the affected checks (the re-check: blinkcheck/remediating.py runs them again on fresh facts).

Core: the platforms' performers (blinkcheck/docker/remediate.py, blinkcheck/kubernetes/remediate.py) do the calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from blinkcheck.remediate.plan import Step

# What happened to a step.
PLANNED = "planned"  # a dry run: listed, not performed
DONE = "done"
FAILED = "failed"
SKIPPED = "skipped"  # its condition no longer holds (the container runs now, the operator is gone or runs)
REFUSED = "refused"  # not permitted (the remediation Role), or a value missing: never attempted
NOT_RUN = "not-run"  # a step before it failed, or another was refused
MANUAL = "manual"  # a person does it (the UI upgrade)
LEFT_ALONE = "left-alone"  # the runbook says do nothing (a running operator)
DECLINED = "declined"  # the confirmation was answered no


class Performer(Protocol):
    """One platform's way of performing its actions (the SDK calls, each bounded by a timeout)."""

    def refusals(self, steps: Sequence[Step]) -> dict[int, str]:
        """Before anything is done: the actions (by index in `steps`) the suite may not perform, and the grant."""
        ...

    def perform(self, step: Step) -> tuple[str, str]:
        """Do it, honouring the runbook's condition on a fresh look: (DONE | SKIPPED | FAILED, what happened)."""
        ...


@dataclass(frozen=True)
class StepRecord:
    step: Step
    status: str
    detail: str = ""
    started_at: str = ""  # ISO 8601, UTC; empty when it was not attempted
    duration_s: float = 0.0

    def as_json(self, red: Callable[[str], str] = str) -> dict[str, Any]:
        s = self.step
        return {
            "key": s.key, "platform": s.platform, "kind": s.kind, "runbook_step": s.runbook_step,
            "title": red(s.title), "text": red(s.text), "object": red(s.object), "because_of": list(s.because),
            "status": self.status, "detail": red(self.detail), "started_at": self.started_at or None,
            "duration_s": round(self.duration_s, 3),
        }  # fmt: skip


@dataclass(frozen=True)
class BeforeAfter:
    """One affected condition: its outcomes (one per object) in the run and in the re-check."""

    id: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    after_summary: str = ""

    def as_json(self, red: Callable[[str], str] = str) -> dict[str, Any]:
        return {"id": self.id, "before": list(self.before), "after": list(self.after),
                "after_summary": red(self.after_summary)}  # fmt: skip


@dataclass(frozen=True)
class Recheck:
    exit_code: int | None
    rows: tuple[BeforeAfter, ...] = ()
    error: str = ""  # the re-check could not run (it says why)

    def as_json(self, red: Callable[[str], str] = str) -> dict[str, Any]:
        rows = [r.as_json(red) for r in self.rows]
        return {"exit_code": self.exit_code, "error": red(self.error), "conditions": rows}


@dataclass
class Remediation:
    """--remediate's part of the run: what was planned, what was done, and the before/after."""

    mode: str  # "dry-run" | "performed" | "declined" | "no-actions"
    records: list[StepRecord] = field(default_factory=list)
    recheck: Recheck | None = None

    @property
    def performed_any(self) -> bool:
        return any(r.status == DONE for r in self.records)

    @property
    def attempted(self) -> list[Step]:
        """The actions the suite tried (done or failed): what may have changed, and is re-checked."""
        return [r.step for r in self.records if r.started_at]

    def as_json(self, red: Callable[[str], str] = str) -> dict[str, Any]:
        """results.json's `remediation`: texts through `red` (the run's redactor), names and statuses as they are."""
        return {
            "mode": self.mode,
            "steps": [r.as_json(red) for r in self.records],
            "recheck": self.recheck.as_json(red) if self.recheck else None,
        }


def _untouched(step: Step, status_for_action: str, why: str) -> StepRecord:
    if step.kind == "manual":
        return StepRecord(step, MANUAL, "a manual step: a person does it; the suite never does")
    if step.kind == "hold":
        return StepRecord(step, LEFT_ALONE, "the runbook says do nothing: left alone")
    return StepRecord(step, status_for_action, why)


def dry_run(steps: Sequence[Step], mode: str = "dry-run") -> Remediation:
    """Nothing performed: a dry run (the default), a plan not confirmed at the terminal ("declined"), or one with no
    action in it ("no-actions": manual steps, objects left alone)."""
    why = "dry run: run with --yes to perform it" if mode != "declined" else "not confirmed: nothing was done"
    status = DECLINED if mode == "declined" else PLANNED
    return Remediation(mode, [_untouched(s, status, why) for s in steps])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def perform_all(
    steps: Sequence[Step], performers: Mapping[str, Performer], clock: Callable[[], float] = time.monotonic,
    say: Callable[[str], None] = lambda _: None,
) -> Remediation:  # fmt: skip
    """Every action's permission first; then one step at a time, stopping at the first that fails."""
    refused: dict[int, str] = {}
    for platform, performer in performers.items():
        mine = [i for i, s in enumerate(steps) if s.kind == "action" and s.platform == platform]
        try:
            asked = performer.refusals([steps[i] for i in mine])
        except Exception as exc:  # could not even ask (the API went away): nothing is attempted
            asked = dict.fromkeys(range(len(mine)), f"could not ask whether it is permitted: {exc}")
        for j, why in asked.items():
            refused[mine[j]] = why
    for i, s in enumerate(steps):
        if s.kind == "action" and s.missing:
            names = ", ".join("{" + m + "}" for m in s.missing)
            refused[i] = f"a value it needs was not found or does not fit: {names}"
    records: list[StepRecord] = []
    stopped = ""
    for i, s in enumerate(steps):
        if s.kind != "action":
            records.append(_untouched(s, NOT_RUN, ""))
        elif i in refused:
            records.append(StepRecord(s, REFUSED, refused[i]))
        elif refused:
            records.append(StepRecord(s, NOT_RUN, "not performed: another step is refused (nothing is done half-way)"))
        elif stopped:
            records.append(StepRecord(s, NOT_RUN, f"not performed: {stopped}"))
        elif s.platform not in performers:
            records.append(StepRecord(s, REFUSED, f"no way to perform it on {s.platform} in this run"))
        else:
            say(f"remediate: {s.text} ({s.object}) ...")
            started, t0 = _now(), clock()
            try:
                status, detail = performers[s.platform].perform(s)
            except KeyboardInterrupt:
                status, detail = FAILED, "interrupted (Ctrl-C) while it was performed: look at its object by hand"
            except Exception as exc:  # a step that crashed failed: never "done"
                status, detail = FAILED, f"{type(exc).__name__}: {exc}"
            records.append(StepRecord(s, status, detail, started, clock() - t0))
            say(f"remediate: {status}: {detail}")
            if status == FAILED:
                stopped = f"the step before it failed (`{s.text}`): the runbook stops there"
    return Remediation("performed", records)


def before_after(
    before: Mapping[str, Sequence[str]], after: Mapping[str, Sequence[str]], summaries: Mapping[str, str]
) -> tuple[BeforeAfter, ...]:
    """The affected conditions, in the run's order: outcomes before and after (a condition not re-run: none)."""
    return tuple(BeforeAfter(cid, tuple(outs), tuple(after.get(cid, ())), summaries.get(cid, ""))
                 for cid, outs in before.items())  # fmt: skip
