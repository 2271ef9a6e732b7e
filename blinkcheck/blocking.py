"""Which judgements a failed precondition stands in the way of: per object, and said once.

A check that `requires` another condition is judged on top of it. When that condition failed for
*every* object it looked at (or could not look at all: an unreachable API, a missing permission,
nothing to judge), the dependent check is blocked as a whole and does not run. When it failed only
for some objects (one crashing pod of three), the dependent check runs and only its judgements of
those objects are blocked; the others stand. A blocked judgement names the condition that actually
failed (the root of a chain of blocked ones) and that condition's own summary, once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from blinkcheck.model import Finding, Outcome, worst

_INSTANCE_KINDS = ("pod", "container")  # objects that are one runner instance (not a namespace-wide thing)


@dataclass(frozen=True)
class Judged:
    """One object's outcome of a condition that ran, as its dependents need it."""

    object: str
    namespace: str
    outcome: Outcome
    root: str  # the condition that decided it: its own id, or the one it was blocked by
    root_outcome: Outcome
    reason: str  # the root's own summary for this object, never a "Blocked by …" of a "Blocked by …"


@dataclass(frozen=True)
class Record:
    """What a condition concluded, per object (results of a check that ran)."""

    outcome: Outcome
    judged: tuple[Judged, ...]

    @property
    def bad(self) -> list[Judged]:
        return [j for j in self.judged if not j.outcome.healthy]

    @property
    def everything(self) -> bool:
        """The failure concerns every object: nothing healthy, or one without an object (could not look)."""
        bad = self.bad
        return bool(bad) and (len(bad) == len(self.judged) or any(not j.object for j in bad))


def namespace_of(f: Finding) -> str:
    ns = f.values.get("namespace", "")
    if ns:
        return ns
    kind, _, rest = f.object.partition(" ")
    return rest.split("/", 1)[0] if kind in ("pod", "deployment") and "/" in rest else ""


def record_of(
    cid: str, findings: Sequence[Finding], runs: Mapping[str, Record], say: Callable[[str], str] = str
) -> Record:
    """The record of condition `cid` from its findings; blocked ones point at their root and its reason.
    `say` cleans a summary before it is kept (the run's redactor)."""
    judged = []
    for f in findings:
        root, root_outcome, reason = cid, f.outcome, say(f.summary)
        if f.because_of and f.because_of != cid:
            root, root_outcome = f.because_of, f.outcome
            upstream = runs.get(f.because_of)
            cause = _cause_for(upstream, f) if upstream else None
            if cause is not None:
                root, root_outcome, reason = cause.root, cause.root_outcome, cause.reason
        judged.append(Judged(f.object, namespace_of(f), f.outcome, root, root_outcome, reason))
    return Record(worst([f.outcome for f in findings]), tuple(judged))


def _cause_for(upstream: Record, f: Finding) -> Judged | None:
    """The upstream judgement that stands in the way of `f`: the same object's, else the first bad one."""
    bad = upstream.bad
    return next((b for b in bad if covers(b, f)), bad[0] if bad else None)


def covers(b: Judged, f: Finding) -> bool:
    """Is finding `f` about the object upstream judgement `b` is about (or inside it)?"""
    if not b.object:
        return True
    if f.object == b.object or f.object.startswith(b.object + " "):
        return True
    # A namespace-wide object (the runner deployment of a namespace) covers every pod in that namespace.
    kind = b.object.split(" ", 1)[0]
    return kind not in _INSTANCE_KINDS and bool(b.namespace) and b.namespace == namespace_of(f)


def _blocked(cid: str, b: Judged, obj: str = "", values: Mapping[str, str] | None = None) -> Finding:
    if b.root_outcome is Outcome.NOT_EVALUABLE or b.outcome is Outcome.NOT_EVALUABLE:
        return Finding(cid, Outcome.NOT_EVALUABLE, f"Not evaluable because of {b.root}: {b.reason}", obj,
                       values=values or {}, because_of=b.root)  # fmt: skip
    return Finding(cid, Outcome.BLOCKED, f"Blocked by {b.root} ({b.root_outcome}): {b.reason}", obj,
                   values=values or {}, because_of=b.root)  # fmt: skip


def whole_blocker(cid: str, requires: Sequence[str], runs: Mapping[str, Record]) -> Finding | None:
    """A finding that blocks the whole check (it does not run), or None: it runs (maybe blocked per object).

    A required condition that did not run in this session (not selected) blocks nothing: the check
    gathers the facts it needs itself, and says so when it cannot."""
    for req in requires:
        rec = runs.get(req)
        if rec is None or rec.outcome.healthy or not rec.everything:
            continue
        bad = rec.bad
        # The outcome that decides (the worst one), and among those an object-less "could not look" first.
        lead = [b for b in bad if b.outcome is rec.outcome] or bad
        b = next((x for x in lead if not x.object), lead[0])
        return _blocked(cid, b)
    return None


def per_object(
    cid: str, requires: Sequence[str], findings: Sequence[Finding], runs: Mapping[str, Record]
) -> list[Finding]:
    """The check's findings with every judgement of an object whose required condition failed blocked.

    The check's own blocked / not-evaluable finding for such an object stays (it says more); an object the
    check did not judge at all gets a blocked finding of its own, so no object is silently left out."""
    out = list(findings)
    if not any(f.object for f in out):
        return out  # skipped or crashed as a whole: nothing was judged per object
    for req in requires:
        rec = runs.get(req)
        if rec is None or rec.outcome.healthy or rec.everything:
            continue
        for b in rec.bad:
            hits = [i for i, f in enumerate(out) if f.object and covers(b, f)]
            for i in hits:
                f = out[i]
                if f.because_of and f.outcome in (Outcome.BLOCKED, Outcome.NOT_EVALUABLE):
                    continue
                out[i] = _blocked(cid, b, f.object, f.values)
            if not hits:
                out.append(_blocked(cid, b, b.object, {"namespace": b.namespace} if b.namespace else None))
    return out
