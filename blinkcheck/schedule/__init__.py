"""Scheduled runs (README "Running on a schedule"): the memory of earlier runs (--history, --history-keep,
--fail-after), the message on a new failure or a recovery (--notify), the Prometheus textfile (--metrics).

The plugin calls two functions of blinkcheck.schedule.session: `before_reports` once the outcomes are known
(before results.json and report.html are built: it adds the comparison with the last run and may hold back
exit 1 under --fail-after) and `after_reports` once every report is written (keeps this run's results.json,
posts the message, writes the metrics)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class ScheduleSpec:
    history_dir: Path | None = None
    history_keep: int = 50
    fail_after: int = 1
    notify_url: str | None = None
    notify_timeout_s: float = 5.0
    metrics_file: Path | None = None

    @property
    def active(self) -> bool:
        return bool(self.history_dir or self.notify_url or self.metrics_file)


@dataclass
class ScheduleRun:
    """The spec and what before_reports found, for after_reports."""

    spec: ScheduleSpec
    found: Any = None  # blinkcheck.schedule.history.Comparison when --history is given
    last: Any = None  # blinkcheck.schedule.history.Past: the last run kept, if any
    results_part: dict[str, Any] = field(default_factory=dict)


SCHEDULE = pytest.StashKey[ScheduleRun]()
