"""The runner's clock against Blink's: the Date header of Blink's answer to the egress probe (both platforms). Pure."""

from __future__ import annotations

import re
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
                   blink_host: str, advice: str, clock_of: str = "") -> Finding:  # fmt: skip
    """The runner's clock against the Date of Blink's answer to the egress probe; `advice`: what to do about the
    host's time service (time_service_advice), for the remedy; `clock_of`: whose clock it is, in words (default:
    the label's host)."""
    values = {**values, "blink_host": blink_host, "max_skew": human(max_skew_s)}
    offset = clock_offset(result)
    clock_of = clock_of or f"{label}'s host"
    if offset is None:
        if result.error:  # the probe was possible and did not finish: could not look
            return Finding(cid, Outcome.NOT_EVALUABLE, f"Could not compare: {_why_no_offset(result)}.", label,
                           values=values)  # fmt: skip
        hints = (f"To enable it: {result.enable}",) if result.unavailable and result.enable else ()
        return Finding(cid, Outcome.SKIPPED, f"Not checked: {_why_no_offset(result)}.", label, values=values,
                       hints=hints)  # fmt: skip
    values.update(offset=human(round(abs(offset))), direction="ahead of" if offset > 0 else "behind",
                  server_date=result.server_date, time_service=advice)  # fmt: skip
    how = f"\nthe runner's clock read by: {result.clock_how}" if result.clock_how else ""
    evidence = (Evidence("Clocks", f"Blink's Date header: {result.server_date}\nthe runner's clock then: "
                         f"{_http_date(result.clock_at)}{how}\noffset: {offset:+.1f}s", label),)  # fmt: skip
    if abs(offset) > max_skew_s:
        return Finding(cid, Outcome.FAILED, f"The clock of {clock_of} is {values['offset']} "
                       f"{values['direction']} Blink's.", label, evidence, values)  # fmt: skip
    return Finding(cid, Outcome.PASSED, f"The clock of {clock_of} is within {human(max_skew_s)} of Blink's "
                   f"({round(offset):+d}s).", label, evidence, values)  # fmt: skip


def _why_no_offset(result: ProbeResult) -> str:
    if result.unavailable:
        return (f"the egress probe cannot run for {result.target} ({result.unavailable}): Blink's Date is read from "
                "its answer")
    if result.error:
        return f"the egress probe did not finish ({result.error}): Blink's Date is read from its answer"
    failed = result.failed_step
    if failed is not None and failed.name != "http":
        return f"Blink did not answer the egress probe (it failed at the {failed.layer} layer): no Date to read"
    if not result.server_date:
        if result.tool == "nc":
            return ("the probe ran nc, which only connects and reads no answer, so Blink's Date is not known (curl or "
                    "wget in the runner's image shows it)")
        return "Blink's answer carried no Date header"
    if not result.clock_at:
        return result.clock_unread or "the runner's clock was not read"
    return f"Blink's Date header is not a date: {result.server_date!r}"


DATE_COMMAND = ("date", "-u", "+%s")


def runner_clock(rc: int | None, stdout: str, stderr: str, answered_at: float, read_at: float, error: str = "",
                 missing: bool = False) -> tuple[float, str]:  # fmt: skip
    """The runner's clock when Blink answered, from `date -u +%s` run where the runner runs right after the probe
    tool's answer (at `answered_at`; date's answer at `read_at`, both by the suite's monotonic clock): date's
    seconds less the time between the two answers. -> (epoch seconds, "") or (0.0, why it could not be read)."""
    shown = f"`{' '.join(DATE_COMMAND)}`"
    if missing:
        return 0.0, f"the runner's container has no `date` to read its clock with ({shown})"
    if rc is None:
        return 0.0, f"{shown} in the runner's container did not answer ({error or 'no answer'})"
    said = (stderr.strip().splitlines() or [""])[-1].strip()
    if rc != 0:
        return 0.0, f"{shown} in the runner's container failed (exit code {rc}{': ' + said if said else ''})"
    if not re.fullmatch(r"\d+", stdout.strip()):
        return 0.0, f"{shown} in the runner's container printed {stdout.strip()[:60]!r}, not seconds since the epoch"
    return int(stdout.strip()) - max(0.0, read_at - answered_at), ""


def _http_date(ts: float) -> str:
    from email.utils import formatdate

    return formatdate(ts, usegmt=True)

