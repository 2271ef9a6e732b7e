"""Outcomes and findings: the one status model every check, judge and report shares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    WARNING = "warning"
    MANUAL = "manual"
    BLOCKED = "blocked"
    NOT_EVALUABLE = "not-evaluable"
    SKIPPED = "skipped"

    @property
    def fails_run(self) -> bool:
        """Exit code 1 when a check failed or could not be evaluated; the rest never fail a run."""
        return self in (Outcome.FAILED, Outcome.NOT_EVALUABLE)

    @property
    def healthy(self) -> bool:
        """A dependent check may run on top of this one."""
        return self in (Outcome.PASSED, Outcome.WARNING)


# Worst first: the outcome a check shows when it judged several objects.
SEVERITY: tuple[Outcome, ...] = (
    Outcome.FAILED,
    Outcome.NOT_EVALUABLE,
    Outcome.BLOCKED,
    Outcome.WARNING,
    Outcome.MANUAL,
    Outcome.SKIPPED,
    Outcome.PASSED,
)


def worst(outcomes: Sequence[Outcome]) -> Outcome:
    return min(outcomes, key=SEVERITY.index) if outcomes else Outcome.PASSED


@dataclass(frozen=True)
class Evidence:
    """One piece of what the check looked at: log lines, a state table, an inspect excerpt."""

    title: str
    text: str
    # Where it came from (container/pod, time window), shown above the text.
    source: str = ""
    # Cut to the report's cap (blinkcheck.results): the text ends with a note of how much was cut.
    truncated: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"title": self.title, "source": self.source, "text": self.text, "truncated": self.truncated}


@dataclass(frozen=True)
class Finding:
    """What one check concluded about one object."""

    condition_id: str
    outcome: Outcome
    summary: str
    object: str = ""
    evidence: tuple[Evidence, ...] = ()
    # Values for the remedy's {placeholders}: container_id, version, namespace, ...
    values: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # Extra, specific advice under the runbook remedy (e.g. one per matched error family).
    hints: tuple[str, ...] = ()
    # For blocked / not-evaluable: the condition or access that stood in the way.
    because_of: str = ""
    # Which of the condition's remedy variants in the catalog applies ("" = its main remedy).
    variant: str = ""
    # Structured facts for results.json (e.g. the log timeline's timestamps); plain JSON values.
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))


def nothing_to_judge(condition_id: str, reason: str) -> Finding:
    """Skipped: there was no object to judge (no runner pod, no log window)."""
    return Finding(condition_id, Outcome.SKIPPED, f"Nothing to judge: {reason}")


def not_applicable(condition_id: str, reason: str) -> Finding:
    """Skipped: the runbook step does not apply here (e.g. no upgrade happened)."""
    return Finding(condition_id, Outcome.SKIPPED, f"Not applicable: {reason}")


def blocked_by(
    condition_id: str, because_of: str, summary: str, object: str = "", values: Mapping[str, str] | None = None
) -> Finding:
    """Blocked for this object: the condition it depends on failed for it (named, and said why in `summary`)."""
    return Finding(condition_id, Outcome.BLOCKED, summary, object, values=values or {}, because_of=because_of)


class Recorder:
    """What a check records, one finding per object it judged, for the condition of its marker: the check names
    its condition once (`@pytest.mark.condition`), and the helpers below fill it in."""

    def __init__(self, condition_id: str, findings: list[Finding]) -> None:
        self.condition_id = condition_id
        self.findings = findings

    def __call__(self, finding: Finding) -> None:
        if finding.condition_id != self.condition_id:
            raise ValueError(f"check for {self.condition_id} recorded a finding for {finding.condition_id}")
        self.findings.append(finding)

    def passed(self, summary: str, object: str = "", values: Mapping[str, str] | None = None) -> None:
        self(Finding(self.condition_id, Outcome.PASSED, summary, object, values=values or {}))

    def nothing_to_judge(self, reason: str) -> None:
        self(nothing_to_judge(self.condition_id, reason))

    def not_applicable(self, reason: str) -> None:
        self(not_applicable(self.condition_id, reason))

    def blocked_by(
        self, because_of: str, summary: str, object: str = "", values: Mapping[str, str] | None = None
    ) -> None:
        self(blocked_by(self.condition_id, because_of, summary, object, values))

    def manual_blink_status(self, status_channel: str, measured: str = "") -> None:
        self(manual_blink_status(self.condition_id, status_channel, measured))


class CouldNotLook(Exception):
    """Raised by fact gatherers when a target cannot be inspected (unreachable, forbidden, timeout).

    The report plugin turns it into a not-evaluable finding with `reason` and `how_to_fix`.
    """

    def __init__(self, reason: str, how_to_fix: str = "", because_of: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.how_to_fix = how_to_fix
        self.because_of = because_of


def table(rows: Sequence[tuple[str, ...]], pad_last: bool = False) -> str:
    """Rows as a plain-text table, columns padded like `kubectl get` prints them (`docker ps` pads its last column
    too: pad_last)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows)
    return "\n".join(line if pad_last else line.rstrip() for line in lines)


def human(seconds: float) -> str:
    """4s, 59s, 1m, 4m 59s, 1h 2m, 3d 4h: what a support engineer reads aloud."""
    s = int(max(0, seconds))
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m {s}s" if s else f"{m}m"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h {m}m" if m else f"{h}h"
    d, h = divmod(h, 24)
    return f"{d}d {h}h" if h else f"{d}d"


def manual_blink_status(condition_id: str, status_channel: str, measured: str = "") -> Finding:
    """The runbook's Slack step stays a person's (Blink-internal); `measured`: what the suite itself got from Blink's
    readiness, shown beside it."""
    beside = f" Measured: {measured}." if measured else ""
    evidence = (Evidence("Blink's readiness, measured", measured, source="from the suite's host"),) if measured else ()
    return Finding(
        condition_id,
        Outcome.MANUAL,
        f"Manual step: check {status_channel} for active production alerts (needs Blink-internal access).{beside}",
        object="Blink",
        evidence=evidence,
        values={"status_channel": status_channel},
    )
