"""Outcomes and findings: the one status model every check, judge and report shares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))


class CouldNotLook(Exception):
    """Raised by fact gatherers when a target cannot be inspected (unreachable, forbidden, timeout).

    The report plugin turns it into a not-evaluable finding with `reason` and `how_to_fix`.
    """

    def __init__(self, reason: str, how_to_fix: str = "", because_of: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.how_to_fix = how_to_fix
        self.because_of = because_of
