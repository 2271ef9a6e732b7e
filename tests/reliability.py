"""README's reliability table as assertions.

A row is a `@pytest.mark.reliability(fault, Sees(...))` marker on the test that produces the fault. `Sees`
holds what the user sees as data: the exit code, a time bound, each condition's outcome and words, a count
of calls, the peak memory, and named further claims. The test asserts its row through the `sees` fixture
(`sees(run)`, and `sees.fact(claim, ok)` for each further claim); tests/conftest.py fails a test that left
any part of its row unasserted. The row's text in README.md is built from the same data
(tests/reliability_table.py), so the table says exactly what its tests check.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from blinkcheck.model import Finding
from tests.harness import ROOT, CheckRun

MANUAL = "manual"


@dataclass(frozen=True)
class Sees:
    """What the user sees, as assertions (every field is checked; empty ones say nothing)."""

    exit: int | None = None
    within_s: float | None = None  # the whole run's wall time, at most
    # condition -> the outcome of every object it judged (a tuple: one outcome per object, in any order)
    outcomes: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    # condition -> words in its summary (one line); several words: each of them
    says: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    took: Mapping[str, float] = field(default_factory=dict)  # condition -> seconds its check took, at most
    others: str = ""  # every condition without an outcome above (manual ones aside) has this outcome...
    naming: str = ""  # ...and names this condition as the one that stood in the way
    terminal: tuple[str, ...] = ()  # words in the terminal (stdout and stderr)
    calls: Mapping[str, int] = field(default_factory=dict)  # a request -> exactly how often it was made
    calls_at_most: Mapping[str, int] = field(default_factory=dict)
    memory_mb: float | None = None  # the run's peak memory (RSS), at most
    report: bool = False  # results.json (valid against its schema), report.html and junit.xml; no traceback
    facts: tuple[str, ...] = ()  # further claims, each asserted by the test: sees.fact(claim, ok)
    case: str = ""  # which case of the test this row is: its parametrize id, or a name the test passes

    @property
    def about_a_run(self) -> bool:
        """Anything to assert on a run (or findings), beyond the named claims."""
        return bool(self.exit is not None or self.within_s or self.outcomes or self.says or self.took or self.others
                    or self.terminal or self.calls or self.calls_at_most or self.memory_mb or self.report)

    def text(self) -> str:
        """The row's "what the user sees", built from what is asserted."""
        parts = []
        for cid, outcome in self.outcomes.items():
            said = f" ({_words(self.says[cid])})" if cid in self.says else ""
            parts.append(f"`{cid}` {_outcome_text(outcome)}{said}")
        parts += [f"`{cid}` says {_words(words)}" for cid, words in self.says.items() if cid not in self.outcomes]
        parts += [f"`{cid}` answers within {s:g} s" for cid, s in self.took.items()]
        if self.others:
            parts.append(f"every other check {self.others}" + (f" naming `{self.naming}`" if self.naming else ""))
        parts += [f'the terminal shows "{words}"' for words in self.terminal]
        parts += [f"{what}: {_times(n)}" for what, n in self.calls.items()]
        parts += [f"{what}: at most {_times(n)}" for what, n in self.calls_at_most.items()]
        if self.memory_mb is not None:
            parts.append(f"peak memory under {self.memory_mb:g} MB")
        parts += list(self.facts)
        if self.exit is not None:
            parts.append(f"exit {self.exit}" + (f" within {self.within_s:g} s" if self.within_s else ""))
        elif self.within_s:
            parts.append(f"ends within {self.within_s:g} s")
        if self.report:
            parts.append("every report written")
        return "; ".join(parts)


def _outcome_text(outcome: str | tuple[str, ...]) -> str:
    if isinstance(outcome, str):
        return outcome
    counts = {o: outcome.count(o) for o in dict.fromkeys(outcome)}
    return " + ".join(f"{o} ×{n}" if n > 1 else o for o, n in counts.items()) + " (one per object)"


def _words(words: str | tuple[str, ...]) -> str:
    return " … ".join(f'"{w}"' for w in ((words,) if isinstance(words, str) else words))


def _times(n: int) -> str:
    return {0: "never", 1: "once", 2: "twice"}.get(n, f"{n} times")


def rows_of(fn: Any) -> list[tuple[str, Sees]]:
    """(fault, Sees) of every reliability marker on a test function, in source order."""
    marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "reliability"]
    return [(m.args[0], m.args[1]) for m in reversed(marks)]


RESULTS_SCHEMA = json.loads((ROOT / "blinkcheck" / "results.schema.json").read_text())


class Seen:
    """The `sees` fixture: asserts the rows of the running test and remembers which parts were asserted."""

    def __init__(self, rows: Sequence[Sees], case: str) -> None:
        self.rows = list(rows)
        self.case = case  # the parametrize id of the running test ("" when not parametrized)
        self.asserted: set[tuple[int, str]] = set()  # (row index, "run" or a fact)

    def required(self) -> list[int]:
        """The rows this test item must assert: all of a plain test's, the matching case's of a parametrized one."""
        return [i for i, r in enumerate(self.rows) if not self.case or r.case in ("", self.case)]

    def missing(self) -> list[str]:
        out = []
        for i in self.required():
            r = self.rows[i]
            label = f"row {r.case or i}"
            if r.about_a_run and (i, "run") not in self.asserted:
                out.append(f"{label}: sees(run) was never called")
            out += [f"{label}: fact not asserted: {f}" for f in r.facts if (i, f) not in self.asserted]
        return out

    def _row(self, case: str | None) -> tuple[int, Sees]:
        want = self.case if case is None else case
        found = [(i, r) for i, r in enumerate(self.rows) if r.case == want]
        found = found or [(i, r) for i, r in enumerate(self.rows) if not r.case]
        assert len(found) == 1, f"no single reliability row for case {want!r}: {[r.case for r in self.rows]}"
        return found[0]

    def fact(self, claim: str, ok: bool, detail: Any = "", case: str | None = None) -> None:
        i, row = self._row(case)
        assert claim in row.facts, f"{claim!r} is not a claim of this test's reliability row: {row.facts}"
        assert ok, f"reliability row: {claim}: {detail}"
        self.asserted.add((i, claim))

    def __call__(self, got: CheckRun | Finding | Sequence[Finding], case: str | None = None,
                 calls: Mapping[str, int] | None = None) -> None:  # fmt: skip
        i, row = self._row(case)
        calls = calls or {}
        assert set(calls) == set(row.calls) | set(row.calls_at_most), f"count these calls: {list(row.calls)}"
        for what, n in row.calls.items():
            assert calls[what] == n, f"{what}: made {calls[what]} times, the row says {_times(n)}"
        for what, n in row.calls_at_most.items():
            assert calls[what] <= n, f"{what}: made {calls[what]} times, the row says at most {_times(n)}"
        if isinstance(got, CheckRun):
            _assert_run(row, got)
        else:
            findings = [got] if isinstance(got, Finding) else list(got)
            entries = [{"id": f.condition_id, "outcome": str(f.outcome), "summary": f.summary,
                        "because_of": f.because_of, "duration_s": 0.0} for f in findings]  # fmt: skip
            assert row.exit is None and not row.report and row.memory_mb is None and not row.terminal, \
                "a row about findings (canned data) cannot claim an exit code, reports, memory or terminal text"
            _assert_entries(row, entries)
        self.asserted.add((i, "run"))


def _assert_run(row: Sees, run: CheckRun) -> None:
    tail = run.stdout[-3000:] + run.stderr[-2000:]
    if row.exit is not None:
        assert run.exit_code == row.exit, f"exit {run.exit_code}, the row says {row.exit}\n{tail}"
    if row.within_s is not None:
        assert run.wall_s < row.within_s, f"took {run.wall_s:.1f} s, the row says within {row.within_s:g} s"
    if row.memory_mb is not None:
        assert run.peak_rss_kb, "the run's peak memory was not measured"
        assert run.peak_rss_kb / 1024 < row.memory_mb, f"peak RSS {run.peak_rss_kb / 1024:.0f} MB"
    for words in row.terminal:
        assert words in run.stdout + run.stderr, f"{words!r} not in the terminal\n{tail}"
    if row.report:
        for name in ("results.json", "report.html", "junit.xml"):
            assert (run.report_dir / name).is_file(), f"{name} was not written"
        import jsonschema

        jsonschema.validate(run.results, RESULTS_SCHEMA)
        assert run.results["exit_code"] == run.exit_code
        assert "Traceback" not in run.stdout + run.stderr, tail
    if row.outcomes or row.says or row.took or row.others:
        _assert_entries(row, run.results["checks"])


def _assert_entries(row: Sees, entries: Sequence[Mapping[str, Any]]) -> None:
    by_id: dict[str, list[Mapping[str, Any]]] = {}
    for e in entries:
        by_id.setdefault(e["id"], []).append(e)
    for cid, want in row.outcomes.items():
        got = sorted(e["outcome"] for e in by_id.get(cid, []))
        expected = sorted([want] * max(1, len(got)) if isinstance(want, str) else want)
        assert got == expected, f"{cid}: {got}, the row says {_outcome_text(want)}"
    for cid, words in row.says.items():
        summaries = [e["summary"] for e in by_id.get(cid, [])]
        every = (words,) if isinstance(words, str) else words
        assert any(all(w in s for w in every) and "\n" not in s for s in summaries), f"{cid}: {every} not in {summaries}"
    for cid, seconds in row.took.items():
        took = [e["duration_s"] for e in by_id.get(cid, [])]
        assert took and max(took) <= seconds, f"{cid} took {took} s, the row says within {seconds:g} s"
    if row.others:
        named = set(row.outcomes) | ({row.naming} if row.naming else set())
        for cid, found in by_id.items():
            if cid in named or all(e["outcome"] == MANUAL for e in found):
                continue
            for e in found:
                assert e["outcome"] == row.others, f"{cid}: {e['outcome']}, the row says {row.others}: {e['summary']}"
                if row.naming:
                    assert e["because_of"] == row.naming, f"{cid} names {e['because_of']!r}, not {row.naming}"


# ------------------------------------------------------------------ the pytest side (tests/conftest.py)

SEEN = pytest.StashKey[Seen]()


def seen_for(item: pytest.Item) -> Seen | None:
    fn = getattr(item, "function", None)
    rows = rows_of(fn) if fn is not None else []
    if not rows:
        return None
    callspec = getattr(item, "callspec", None)
    return Seen([s for _, s in rows], callspec.id if callspec else "")


def check_cases(items: Sequence[pytest.Item]) -> None:
    """A row of a parametrized test must name one of its cases, or it would never be asserted."""
    ids: dict[Any, set[str]] = {}
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None:
            ids.setdefault(getattr(item, "function", None), set()).add(callspec.id)
    for fn, cases in ids.items():
        for _, row in rows_of(fn):
            if row.case and row.case not in cases:
                raise pytest.UsageError(f"{fn.__name__}: reliability row case {row.case!r} is none of {sorted(cases)}")
