"""The runner's clock against Blink's: the Date header of Blink's answer to the egress probe (both platforms). Pure."""

from __future__ import annotations

from collections.abc import Mapping

from blinkcheck.model import Evidence, Finding, Outcome, human
from blinkcheck.probe.result import ProbeResult, clock_offset


def time_service_advice(time_service: str, where: str) -> str:
    if time_service:
        return f"Its time service is {time_service}: check that it synchronises (e.g. `chronyc sources`, " \
               f"`timedatectl timesync-status`) and restart it."
    if where:
        return f"No time service (chronyd, systemd-timesyncd, ntpd) runs on {where}: install and enable one."
    return "Check the host's time service (chronyd, systemd-timesyncd or ntpd)."


def judge_clock_of(cid: str, label: str, values: Mapping[str, str], result: ProbeResult, max_skew_s: float,
                   blink_host: str, advice: str) -> Finding:  # fmt: skip
    """The runner's clock against the Date of Blink's answer to the egress probe; `advice`: what to do about the
    host's time service (time_service_advice), for the remedy."""
    values = {**values, "blink_host": blink_host, "max_skew": human(max_skew_s)}
    offset = clock_offset(result)
    if offset is None:
        return Finding(cid, Outcome.SKIPPED, f"Not checked: {_why_no_offset(result)}.", label, values=values)
    values.update(offset=human(round(abs(offset))), direction="ahead of" if offset > 0 else "behind",
                  server_date=result.server_date, time_service=advice)  # fmt: skip
    evidence = (Evidence("Clocks", f"Blink's Date header: {result.server_date}\nthe runner's clock then: "
                         f"{_http_date(result.clock_at)}\noffset: {offset:+.1f}s", label),)  # fmt: skip
    if abs(offset) > max_skew_s:
        return Finding(cid, Outcome.FAILED, f"The clock of {label}'s host is {values['offset']} "
                       f"{values['direction']} Blink's.", label, evidence, values)  # fmt: skip
    return Finding(cid, Outcome.PASSED, f"The clock of {label}'s host is within {human(max_skew_s)} of Blink's "
                   f"({offset:+.0f}s).", label, evidence, values)  # fmt: skip


def _why_no_offset(result: ProbeResult) -> str:
    if result.tool and result.tool != "python":
        return (f"the probe ran {result.tool}, which shows neither Blink's Date nor the runner's clock; the suite "
                "reads both when it probes from inside the runner's network namespace itself (on the engine's host, "
                "as root)")
    if not result.server_date:
        return "Blink's answer carried no Date header"
    if not result.clock_at:
        return "the runner's clock was not read"
    return f"Blink's Date header is not a date: {result.server_date!r}"


def _http_date(ts: float) -> str:
    from email.utils import formatdate

    return formatdate(ts, usegmt=True)

