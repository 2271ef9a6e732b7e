"""Log windows judged: the network-error timeline (`no-network-errors`), the upgrade lines, the last lines shown
as evidence. Pure: a scanned LogWindow in, findings out."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from blinkcheck.catalog import Catalog, PatternFamily
from blinkcheck.logs.scan import NET, SAMPLE_HEAD, UPGRADE, Hits, LogLine, LogWindow, stamp
from blinkcheck.model import Evidence, Finding, Outcome, human


def blink_host(blink_url: str) -> str:
    return urlsplit(blink_url).hostname or blink_url


@dataclass(frozen=True)
class Timeline:
    """Network errors over a window (the previous container's lines first): when, how many, and whether they
    stopped because the runner connected again."""

    by_family: Mapping[str, Hits]  # catalog family -> hits, in catalog order
    first_error: LogLine | None
    last_error: LogLine | None
    last_success: LogLine | None
    recovered: LogLine | None  # the first successful connection after the last error
    window_end: datetime | None

    @property
    def count(self) -> int:
        return sum(h.count for h in self.by_family.values())

    @property
    def errors_continue(self) -> bool:
        """No successful connection after the last error: the errors go on to the end of the window."""
        return self.count > 0 and self.recovered is None

    def as_dict(self) -> dict[str, object]:
        def at(line: LogLine | None) -> str | None:
            return line.at.isoformat() if line and line.at else None

        return {
            "errors": self.count,
            "by_family": {k: h.count for k, h in self.by_family.items()},
            "first_error_at": at(self.first_error),
            "last_error_at": at(self.last_error),
            "last_success_at": at(self.last_success),
            "connected_again_at": at(self.recovered),
            "window_end_at": self.window_end.isoformat() if self.window_end else None,
            "errors_continue": self.errors_continue,
        }


def has_network_errors(window: LogWindow) -> bool:
    return any(key.startswith(NET) for key in window.hits)


def network_timeline(window: LogWindow, families: Sequence[PatternFamily]) -> Timeline:
    by_family = {f.family: h for f in families if (h := window.hit(NET + f.family))}
    hits = list(by_family.values())
    first = min((h.first for h in hits), key=lambda line: line.index, default=None)
    last = max((h.last for h in hits), key=lambda line: line.index, default=None)
    return Timeline(by_family, first, last, window.last_success, window.recovered, window.last_at)


def timeline_text(t: Timeline, labels: Mapping[str, str]) -> str:
    rows = [
        ("network errors", f"{t.count} (" + ", ".join(f"{labels[k]}: {h.count}" for k, h in t.by_family.items()) + ")"),
        ("first error", t.first_error.render() if t.first_error else "-"),
        ("last error", t.last_error.render() if t.last_error else "-"),
        ("last successful connection", t.last_success.render() if t.last_success else "none in the window"),
        ("connected again since", t.recovered.render() if t.recovered else "no: the errors go on to the end"),
        ("window ends", stamp(t.window_end)),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def _samples(h: Hits) -> str:
    lines = [s.render() for s in h.samples]
    if h.skipped:
        lines.insert(SAMPLE_HEAD, f"… {h.skipped} more matching lines …")
    return "\n".join(lines)


def judge_network_errors(
    condition_id: str,
    window: LogWindow,
    catalog: Catalog,
    blink_url: str,
    values: Mapping[str, str],
    probe_passed: bool | None = None,
) -> Finding:
    """The runbook's "diagnose the error", judged on the present: errors that stopped because the runner
    connected again only warn; errors that go on fail; errors that go on while the egress probe from the
    runner's own namespace passes point at the runner's configuration, not the firewall.

    probe_passed: the egress probe's answer in this run (None: it did not run or could not)."""
    host = blink_host(blink_url)
    base = {**values, "blink_host": host, "log_window": window.window}
    if window.error:
        why = f"Could not read the logs of {window.source}: {window.error}"
        return Finding(condition_id, Outcome.NOT_EVALUABLE, why, object=window.source, values=base)
    t = network_timeline(window, catalog.network_error_families)
    fams = {f.family: f for f in catalog.network_error_families}
    labels = {k: f.label for k, f in fams.items()}
    details = {"timeline": t.as_dict(), "lines_read": window.line_count, "window_read_whole": not window.cut}
    evidence = tuple(
        Evidence(f"{labels[k]} ({h.count} lines)", _samples(h), source=f"{window.source}, {window.window}")
        for k, h in t.by_family.items()
    )
    if t.count:
        evidence = (Evidence("Timeline", timeline_text(t, labels), source=f"{window.source}, {window.window}"),
                    *evidence)  # fmt: skip
    if window.cut:
        found = f"; {t.count} network error(s) in the part that was read" if t.count else ""
        return Finding(
            condition_id, Outcome.NOT_EVALUABLE,
            f"The log window of {window.source} was read only in part ({window.cut}){found}: "
            "a window not read to its newest line is never judged healthy.",
            object=window.source, evidence=evidence, values=base, details=details,
        )  # fmt: skip
    if not t.count:
        return Finding(
            condition_id, Outcome.PASSED,
            f"No network errors reaching Blink in {window.source} ({window.window}, {window.line_count} lines).",
            object=window.source, values=base, details=details,
        )  # fmt: skip
    family_text = ", ".join(f"{labels[k]}: {h.count}" for k, h in t.by_family.items())
    hints = tuple(fams[k].hint.replace("{blink_host}", host) for k in t.by_family)
    assert t.first_error is not None and t.last_error is not None
    span = f"between {stamp(t.first_error.at)} and {stamp(t.last_error.at)}" if t.first_error.at else ""
    vals = {
        **base,
        "error_count": str(t.count),
        "families": family_text,
        "first_error": stamp(t.first_error.at),
        "last_error": stamp(t.last_error.at),
        "connected_since": stamp(t.recovered.at) if t.recovered else "",
    }
    said = f"{window.source} logged {t.count} network error(s) reaching {host}" + (f" {span}" if span else "")
    if not t.errors_continue:
        assert t.recovered is not None
        since = ""
        if t.recovered.at and t.window_end:
            since = f" ({human((t.window_end - t.recovered.at).total_seconds())} before its newest line)"
        summary = f"{said} ({family_text}) and has connected again since {stamp(t.recovered.at)}{since}: recovered."
        if probe_passed is False:
            summary += " The egress probe fails now, though: see blink-reachable."
        return Finding(condition_id, Outcome.WARNING, summary, object=window.source, evidence=evidence,
                       values=vals, hints=hints, variant="recovered", details=details)  # fmt: skip
    if probe_passed:
        summary = (
            f"{said} ({family_text}), with no successful connection since, while the egress probe from its own "
            f"network namespace reaches {host}: the path is open, so the cause is likely the runner's own "
            "configuration (proxy settings, credentials, clock) rather than a firewall."
        )
        return Finding(condition_id, Outcome.FAILED, summary, object=window.source, evidence=evidence,
                       values=vals, hints=hints, variant="configuration", details=details)  # fmt: skip
    return Finding(
        condition_id, Outcome.FAILED,
        f"{said} ({family_text}), with no successful connection since the last one.",
        object=window.source, evidence=evidence, values=vals, hints=hints, details=details,
    )  # fmt: skip


@dataclass(frozen=True)
class UpgradeLine:
    kind: str  # "creating" | "found_existing"
    name: str  # blink-runner-{version}
    version: str
    container_id: str  # for "creating": the container the configuration came from
    line: str
    index: int = 0


def upgrade_lines(window: LogWindow, patterns: Mapping[str, re.Pattern[str]]) -> list[UpgradeLine]:
    """The Docker upgrade lines the runbook greps for, oldest first (samples: the first and last few)."""
    found = []
    for kind in ("creating", "found_existing"):
        h = window.hit(UPGRADE + kind)
        for line in h.samples if h else ():
            m = patterns[kind].search(line.text)
            if m:
                found.append(UpgradeLine(kind, m["name"], m["version"], m["container_id"], line.render(), line.index))
    return sorted(found, key=lambda u: u.index)


def last_lines(window: LogWindow, n: int = 30) -> str:
    return "\n".join(line.render() for line in window.tail[-n:]) if window.tail else "(no log lines in the window)"


def previous_last_lines(window: LogWindow, n: int = 20) -> str:
    return "\n".join(line.render() for line in window.previous_tail[-n:])
