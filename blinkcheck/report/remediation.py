"""--remediate in the reports: the recovery steps (planned or performed, each with its time and result) and the
before/after of the affected checks, as terminal lines, report.html's section and the packet's text."""

from __future__ import annotations

import html
from collections.abc import Callable

from blinkcheck.remediate.perform import DONE, FAILED, PLANNED, REFUSED, Remediation, StepRecord

MARK = {DONE: "done", FAILED: "FAILED", REFUSED: "REFUSED", PLANNED: "planned"}
LETTER = {"passed": "P", "failed": "F", "warning": "W", "manual": "M", "blocked": "B", "not-evaluable": "N",
          "skipped": "S"}  # fmt: skip


def headline(rem: Remediation) -> str:
    if rem.mode == "dry-run":
        return ("Recovery steps for what failed, in runbook order (dry run: nothing was changed; "
                "--remediate --yes performs the actions)")  # fmt: skip
    if rem.mode == "declined":
        return "Recovery steps for what failed (not confirmed: nothing was changed)"
    if rem.mode == "no-actions":
        return "Recovery steps for what was found: none the suite performs (nothing was changed)"
    return "Recovery steps performed, one at a time, in runbook order"


def outcomes_text(outcomes: tuple[str, ...]) -> str:
    """One letter per judged object, as the scenario tables write them ("P+W"); "-" when not judged."""
    return "+".join(LETTER.get(o, o) for o in outcomes) or "-"


def step_line(n: int, r: StepRecord) -> str:
    s = r.step
    when = f" at {r.started_at} ({r.duration_s:.1f}s)" if r.started_at else ""
    what = f"`{s.text}`" if s.kind == "action" else s.text
    line = f"{n}. [{s.runbook_step}] {s.title}: {what} — {s.object}"
    return f"{line}\n   {MARK.get(r.status, r.status)}{when}" + (f": {r.detail}" if r.detail else "")


def text_lines(rem: Remediation | None, red: Callable[[str], str] = str) -> list[str]:
    """For the terminal and the packet."""
    if rem is None:
        return []
    if not rem.records:
        return ["remediate: nothing to do: no failed check has a recovery step in the runbook"]
    out = [f"remediate: {headline(rem)}"]
    out += [red(step_line(n, r)) for n, r in enumerate(rem.records, 1)]
    if rem.recheck is not None and rem.recheck.error:
        out.append(f"remediate: re-check could not run: {red(rem.recheck.error)}")
    elif rem.recheck is not None:
        out.append(f"remediate: re-checked on fresh facts (exit {rem.recheck.exit_code}); before -> after:")
        out += [f"   {cid}: {was} -> {now}" + (f" ({why})" if why else "") for cid, was, now, why in rows(rem, red)]
    return out


def rows(rem: Remediation, red: Callable[[str], str]) -> list[tuple[str, str, str, str]]:
    """The re-check's before/after: condition, outcomes before, after, and what the re-check says now."""
    checked = rem.recheck.rows if rem.recheck else ()
    return [(r.id, outcomes_text(r.before), outcomes_text(r.after), red(r.after_summary)) for r in checked]


def remediation_html(rem: Remediation | None, red: Callable[[str], str] = str) -> list[str]:
    """report.html's section, under the verdict."""
    if rem is None:
        return []
    e = html.escape
    out = ['<div class="blink-verdict blink-remediation"><h2>Remediation (--remediate)</h2>']
    if not rem.records:
        out.append("<p>Nothing to do: no failed check has a recovery step in the runbook.</p></div>")
        return out
    out.append(f"<p>{e(headline(rem))}</p><ol>")
    for r in rem.records:
        s = r.step
        what = f"<code>{e(red(s.text))}</code>" if s.kind == "action" else e(red(s.text))
        when = f" at {e(r.started_at)} ({r.duration_s:.1f}s)" if r.started_at else ""
        out.append(f'<li class="blink-step" data-status="{e(r.status)}">[{e(s.runbook_step)}] {e(s.title)}: {what} — '
                   f"{e(red(s.object))}<br><b>{e(MARK.get(r.status, r.status))}</b>{when}"
                   f"{': ' + e(red(r.detail)) if r.detail else ''}</li>")  # fmt: skip
    out.append("</ol>")
    if rem.recheck is not None and rem.recheck.error:
        out.append(f"<p><b>Re-check could not run:</b> {e(red(rem.recheck.error))}</p>")
    elif rem.recheck is not None:
        out.append(f"<p><b>Re-checked on fresh facts</b> (exit {rem.recheck.exit_code}): before and after</p>")
        out.append('<table class="blink-before-after"><tr><th>condition</th><th>before</th><th>after</th>'
                   "<th>now</th></tr>")  # fmt: skip
        out += ["<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in row) + "</tr>" for row in rows(rem, red)]
        out.append("</table>")
    out.append("</div>")
    return out
