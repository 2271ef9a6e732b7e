"""--history DIR: each run's results.json kept in DIR (`results-<started>.json`, the newest --history-keep), and
this run compared with the earlier ones: what is new since the last run, what cleared, how long each failure has
lasted (runs in a row, and since when). --fail-after N: a run fails only when one condition has failed N runs in
a row; below that, exit 0 and a note says so.

A failure is what fails a run: `failed` or `not-evaluable` ("could not look"), per condition: a condition fails
when it fails for any of its objects. Objects are not compared across runs: a recreated container or a restarted
pod has a new id or name, and is still the same failure. Pure functions on plain data (the results.json of
earlier runs), plus reading and writing the folder."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FAILING = frozenset({"failed", "not-evaluable"})
NAME = re.compile(r"^results-(\d{8}T\d{6}(?:\.\d+)?Z)(?:-\d+)?\.json$")

Key = str  # a condition id


@dataclass(frozen=True)
class Past:
    """One earlier run, as its results.json says."""

    started_at: str
    failing: frozenset[Key]
    alerting: frozenset[Key]  # the failures that made it fail (after --fail-after)


@dataclass(frozen=True)
class Streak:
    key: Key
    runs: int  # runs in a row, this one included
    since: str  # started_at of the first of them


@dataclass
class Comparison:
    previous: str | None  # started_at of the last run kept, None on the first run
    new: list[Key] = field(default_factory=list)
    cleared: list[Key] = field(default_factory=list)
    failing: list[Streak] = field(default_factory=list)
    fail_after: int = 1
    unreadable: int = 0  # files of the folder that could not be read (skipped)

    @property
    def alerting(self) -> list[Key]:
        """The failures that fail this run: those that have lasted --fail-after runs."""
        return [s.key for s in self.failing if s.runs >= self.fail_after]

    @property
    def held_back(self) -> bool:
        """Failures, none of them long enough to fail the run."""
        return bool(self.failing) and not self.alerting


def failing_keys(checks: Iterable[dict[str, Any]]) -> list[Key]:
    """The conditions that fail a run, in report order, once each."""
    seen: dict[Key, None] = {}
    for c in checks:
        if c.get("outcome") in FAILING:
            seen.setdefault(str(c.get("id", "")), None)
    return list(seen)


def past_run(data: dict[str, Any]) -> Past:
    failing = frozenset(failing_keys(data.get("checks") or []))
    history = data.get("history") or {}
    alerting = history.get("alerting")
    if alerting is None:  # kept by a run without this field: what failed it
        alerting = sorted(failing) if data.get("exit_code") == 1 else []
    return Past(str(data.get("started_at", "")), failing, frozenset(str(a) for a in alerting))


def compare(now: Sequence[Key], started_at: str, checked: Iterable[Key], past: Sequence[Past],
            fail_after: int = 1) -> Comparison:  # fmt: skip
    """This run's failures against the earlier runs (newest first)."""
    checked = set(checked)
    last = past[0] if past else None
    found = Comparison(previous=last.started_at if last else None, fail_after=fail_after)
    for key in now:
        runs, since = 1, started_at
        for p in past:
            if key not in p.failing:
                break
            runs, since = runs + 1, p.started_at
        found.failing.append(Streak(key, runs, since))
        if last is None or key not in last.failing:
            found.new.append(key)
    if last is not None:
        found.cleared = sorted(k for k in last.failing if k in checked and k not in set(now))
    return found


def exit_code(code: int, found: Comparison) -> int:
    """--fail-after: a run whose failures have all lasted fewer runs than it takes does not fail."""
    return 0 if code == 1 and found.held_back else code


def note(found: Comparison, keep_dir: Path) -> list[str]:
    """What the terminal, report.html and results.json's notes say about the earlier runs."""
    if found.previous is None:
        head = f"History ({keep_dir}): the first run kept there, nothing to compare with"
        lines = [head + (f"; failing now: {', '.join(str(s.key) for s in found.failing)}" if found.failing else "")]
    else:
        new = ", ".join(found.new) or "none"
        cleared = ", ".join(found.cleared) or "none"
        lasting = ", ".join(f"{s.key} for {s.runs} runs since {s.since}" for s in found.failing if s.runs > 1)
        lines = [f"History ({keep_dir}): since the last run ({found.previous}): new failures: {new}; cleared: {cleared}"
                 + (f"; still failing: {lasting}" if lasting else "")]  # fmt: skip
    if found.unreadable:
        lines.append(f"History: {found.unreadable} file(s) in {keep_dir} could not be read and were left out")
    if found.held_back:
        longest = max(found.failing, key=lambda s: s.runs)
        lines.append(f"--fail-after {found.fail_after}: no failure has lasted {found.fail_after} runs in a row yet "
                     f"(longest: {longest.key}, {longest.runs}); this run does not fail (exit 0)")  # fmt: skip
    return lines


def results_part(found: Comparison, keep_dir: Path) -> dict[str, Any]:
    """results.json's `history`."""

    return {"history": {
        "dir": str(keep_dir), "previous_run": found.previous, "fail_after": found.fail_after,
        "new": found.new, "cleared": found.cleared,
        "failing": [{"id": s.key, "runs": s.runs, "since": s.since} for s in found.failing],
        "alerting": found.alerting, "held_back": found.held_back,
    }}  # fmt: skip


def load(keep_dir: Path) -> tuple[list[Past], int]:
    """The runs kept in the folder, newest first, and how many files could not be read."""
    runs, bad = [], 0
    for path in sorted((p for p in keep_dir.iterdir() if NAME.match(p.name)), key=lambda p: p.name, reverse=True):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            runs.append(past_run(data))
        except (OSError, ValueError, AttributeError, TypeError):
            bad += 1
    return runs, bad


def file_name(started_at: str) -> str:
    """`results-20261202T132001.123456Z.json` from an ISO time: names sort as the runs ran."""
    stamp = re.sub(r"[-:]", "", started_at.split("+")[0]).rstrip("Z")
    if "." not in stamp:
        stamp += ".000000"
    return f"results-{stamp}Z.json"


def prune(keep_dir: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` kept runs (only files of ours, by name); returns what was removed."""
    ours = sorted((p for p in keep_dir.iterdir() if NAME.match(p.name) and p.is_file() and not p.is_symlink()),
                  key=lambda p: p.name, reverse=True)  # fmt: skip
    gone = ours[keep:]
    for p in gone:
        p.unlink(missing_ok=True)
    return gone
