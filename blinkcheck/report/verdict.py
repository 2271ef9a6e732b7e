"""The verdict at the top of report.html: per runbook section, what the suite concluded and what to do next."""

from __future__ import annotations

import html
from collections import defaultdict
from typing import TYPE_CHECKING

from blinkcheck.model import SEVERITY, Outcome, worst

if TYPE_CHECKING:
    from blinkcheck.results import CheckResult
    from blinkcheck.run import RunState

STYLE = """
<style>
.blink-verdict{border:1px solid #ccc;padding:8px 14px;margin:10px 0;border-radius:6px}
.blink-verdict h2{margin:4px 0}.blink-ok{color:#1a7f37}.blink-bad{color:#b42318}.blink-meh{color:#9a6700}
.blink-verdict pre,.blink-result pre{white-space:pre-wrap;background:#f6f8fa;padding:6px;border-radius:4px}
.blink-remedy{border-left:4px solid #b42318;padding-left:8px}
</style>
"""

HEADLINE = {
    Outcome.FAILED: ("blink-bad", "problem found"),
    Outcome.NOT_EVALUABLE: ("blink-bad", "could not look"),
    Outcome.BLOCKED: ("blink-meh", "blocked"),
    Outcome.WARNING: ("blink-meh", "warnings"),
    Outcome.MANUAL: ("blink-meh", "manual steps left"),
    Outcome.SKIPPED: ("blink-ok", "nothing to judge"),
    Outcome.PASSED: ("blink-ok", "healthy"),
}


def _section_outcome(results: list[CheckResult]) -> Outcome:
    judged = [r.outcome for r in results if r.outcome is not Outcome.MANUAL]
    return worst(judged) if judged else Outcome.MANUAL


def section_conclusion(results: list[CheckResult]) -> tuple[str, str, CheckResult | None]:
    """A runbook section's verdict: its css class, its conclusion, and the result it rests on (None: all well)."""
    css, word = HEADLINE[_section_outcome(results)]
    bad = [r for r in results if r.outcome in (Outcome.FAILED, Outcome.NOT_EVALUABLE)]
    # The first own failure (not one caused by another condition) is the section's conclusion.
    lead = next((r for r in bad if not r.because_of), bad[0] if bad else None)
    if lead is None:
        return css, word, None
    # a failure is a diagnosis; could not look is none, and says so
    failed = lead.outcome is Outcome.FAILED
    conclusion = (lead.verdict or lead.title) if failed else f"could not look ({lead.title})"
    return css, some_of(lead, results) + conclusion, lead


def _by_section(state: RunState) -> list[list[CheckResult]]:
    """The run's results per runbook section that has any, in the catalog's order."""
    by_section: dict[str, list[CheckResult]] = defaultdict(list)
    for r in state.results:
        by_section[r.section].append(r)
    return [by_section[s] for s in state.catalog.sections if by_section.get(s)]


def verdict_lines(state: RunState) -> list[str]:
    """The verdict as plain lines for the terminal (and a scheduled run's log): one per runbook section."""
    return [f"blink-checks verdict: {v['title']}: {v['conclusion']}" for v in verdict_data(state)]


def verdict_data(state: RunState) -> list[dict[str, str]]:
    """The verdict for results.json, per runbook section: its title, its worst outcome (manual steps aside) and the
    conclusion (what a --targets run shows for each target)."""
    return [{"section": results[0].section, "title": results[0].section_title,
             "outcome": str(_section_outcome(results)), "conclusion": state.redactor(section_conclusion(results)[1])}
            for results in _by_section(state)]  # fmt: skip


def verdict_html(state: RunState) -> list[str]:
    e = html.escape
    out = [STYLE, '<div class="blink-verdict">', "<h2>Verdict</h2>"]
    out += [f'<p class="blink-meh"><b>Note:</b> {e(state.redactor(n))}</p>' for n in state.notes]
    if not state.results:
        out.append("<p>No checks ran.</p></div>")
        return out
    for results in _by_section(state):
        css, conclusion, lead = section_conclusion(results)
        title = results[0].section_title
        bad = [r for r in results if r.outcome in (Outcome.FAILED, Outcome.NOT_EVALUABLE)]
        out.append(f'<h3 class="{css}">{e(title)}: {e(conclusion)}</h3>')
        if lead:
            out.append(f"<p>{e(lead.summary)}</p>")
        steps = [r for r in bad if r.remediation and not r.because_of]
        if steps:
            out.append("<p><b>Next steps, in runbook order</b></p><ol>")
            for r in steps:
                out.append(f"<li><code>{e(r.id)}</code> (step {e(r.step)})<pre>{e(r.remediation)}</pre></li>")
            out.append("</ol>")
        if lead is not None and some_of(lead, results):
            out += per_object_html(lead, results)
        blocked = [r for r in results if r.because_of]
        if blocked:
            groups: dict[str, list[CheckResult]] = defaultdict(list)
            for r in blocked:
                groups[r.because_of].append(r)
            ran = {x.id for x in state.results if not x.summary.startswith("Not run:")}
            for root, rs in groups.items():
                absent = "" if root in ran else " (not selected in this run: the checks looked by themselves)"
                out.append(f"<p>Blocked by <code>{e(root)}</code>{e(absent)}: {e(blocked_text(rs, results))}</p>")
        manual = [r for r in results if r.outcome is Outcome.MANUAL]
        if manual:
            out.append("<p><b>Manual steps</b></p><ul>")
            for r in manual:
                out.append(f"<li>&#9744; {e(r.remediation or r.summary)}</li>")
            out.append("</ul>")
    out.append("</div>")
    return out


def _kind(r: CheckResult) -> str:
    return r.object.split(" ", 1)[0] if r.object else ""


def _noun(kind: str, n: int) -> str:
    noun = {"pod": "runner pod", "container": "runner container"}.get(kind, kind)
    return noun if n == 1 else noun + "s"


def some_of(lead: CheckResult, results: list[CheckResult]) -> str:
    """ "1 of 3 runner pods is failing: " when the lead condition judged several objects and not all are bad."""
    mine = [r for r in results if r.id == lead.id and r.object]
    bad = [r for r in mine if r.outcome in (Outcome.FAILED, Outcome.NOT_EVALUABLE)]
    if len(mine) < 2 or not bad or len(bad) == len(mine):
        return ""
    verb = "is failing" if len(bad) == 1 else "are failing"
    return f"{len(bad)} of {len(mine)} {_noun(_kind(lead), len(mine))} {verb}: "


def per_object_html(lead: CheckResult, results: list[CheckResult]) -> list[str]:
    """Beside the failing object, what every other object of the same kind got: the healthy ones' results."""
    kind = _kind(lead)
    if not kind:
        return []
    by_object: dict[str, list[CheckResult]] = defaultdict(list)
    for r in results:
        if _kind(r) == kind:
            by_object[r.object.split(" container ", 1)[0]].append(r)
    if len(by_object) < 2:
        return []
    e = html.escape
    out = [f"<p><b>Each {e(_noun(kind, 1))} on its own</b></p><ul>"]
    for obj, rs in by_object.items():
        healthy = all(r.outcome.healthy for r in rs)
        parts = []
        for outcome in SEVERITY:  # the worst first
            ids = sorted({r.id for r in rs if r.outcome is outcome})
            if ids:
                parts.append(f"{outcome}: {', '.join(ids)}")
        css = "blink-ok" if healthy else "blink-bad"
        out.append(f'<li><span class="{css}">{e(obj)}</span> — {e("; ".join(parts))}</li>')
    out.append("</ul>")
    return out


def blocked_text(blocked: list[CheckResult], results: list[CheckResult]) -> str:
    """The blocked conditions; per object when the condition judged other objects as well."""
    out = []
    for cid in sorted({r.id for r in blocked}):
        objects = [r.object for r in blocked if r.id == cid and r.object]
        others = [r for r in results if r.id == cid and not r.because_of]
        out.append(f"{cid} ({', '.join(objects)})" if objects and others else cid)
    return ", ".join(out)
