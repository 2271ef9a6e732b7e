"""--metrics FILE: the run as Prometheus text exposition (format 0.0.4), for node_exporter's textfile collector
(`--collector.textfile.directory`; the file is replaced atomically, as the collector needs).

    blink_checks_outcome{condition, object, platform, outcome}   1 per condition and object: its outcome
    blink_checks_failing{condition, object, platform}            1 when it fails the run's exit code, else 0
    blink_checks_run_duration_seconds, blink_checks_run_exit_code, blink_checks_run_timestamp_seconds
    blink_checks_last_success_timestamp_seconds                  the last run that exited 0 (kept across runs)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

LAST_SUCCESS = "blink_checks_last_success_timestamp_seconds"
FAILING = frozenset({"failed", "not-evaluable"})


def label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def previous_success(path: Path) -> float | None:
    """The last success time the file held, if any (a run that fails keeps it)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    m = re.search(rf"^{LAST_SUCCESS} ([0-9.e+]+)$", text, re.M)
    return float(m[1]) if m else None


def exposition(checks: Iterable[tuple[str, str, str, str]], *, duration_s: float, exit_code: int,
               finished: float, last_success: float | None) -> str:  # fmt: skip
    """checks: (condition id, object, platform, outcome) of each result."""
    rows = list(checks)

    def family(name: str, help_text: str, samples: list[str]) -> list[str]:
        return [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", *samples]

    def labels(cid: str, obj: str, platform: str) -> str:
        return f'condition="{label(cid)}",object="{label(obj)}",platform="{label(platform)}"'

    out = family("blink_checks_outcome", "Outcome of each runbook condition per object (1: this outcome).",
                 [f'blink_checks_outcome{{{labels(c, o, p)},outcome="{label(r)}"}} 1' for c, o, p, r in rows])
    failing: dict[str, int] = {}
    for c, o, p, r in rows:
        key = labels(c, o, p)
        failing[key] = max(failing.get(key, 0), int(r in FAILING))
    out += family("blink_checks_failing", "1 when the condition failed or could not be evaluated for the object.",
                  [f"blink_checks_failing{{{k}}} {v}" for k, v in failing.items()])
    out += family("blink_checks_run_duration_seconds", "Wall time of the last run.", [
        f"blink_checks_run_duration_seconds {duration_s:.3f}"])
    out += family("blink_checks_run_exit_code", "Exit code of the last run (0 nothing failed).", [
        f"blink_checks_run_exit_code {exit_code}"])
    out += family("blink_checks_run_timestamp_seconds", "When the last run finished (Unix time).", [
        f"blink_checks_run_timestamp_seconds {finished:.3f}"])
    if last_success is not None:
        out += family(LAST_SUCCESS, "When the last run that exited 0 finished (Unix time).", [
            f"{LAST_SUCCESS} {last_success:.3f}"])
    return "\n".join(out) + "\n"
