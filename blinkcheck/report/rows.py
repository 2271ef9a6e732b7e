"""Results -> pytest's own report of a check (terminal, junit.xml) and its pytest-html row."""

from __future__ import annotations

import html

import pytest

from blinkcheck.model import SEVERITY, Outcome
from blinkcheck.results import CheckResult

# Outcome -> what pytest shows (the precise outcome is in results.json and the report's columns).
PYTEST_OUTCOME = {
    Outcome.PASSED: "passed",
    Outcome.WARNING: "passed",
    Outcome.FAILED: "failed",
    Outcome.NOT_EVALUABLE: "failed",
    Outcome.MANUAL: "skipped",
    Outcome.BLOCKED: "skipped",
    Outcome.SKIPPED: "skipped",
}


def result_text(r: CheckResult) -> str:
    lines = [f"[{r.outcome}] {r.id} — {r.summary}"]
    if r.remediation:
        lines += ["", "Runbook remedy:", r.remediation]
    lines += [f"  hint: {h}" for h in r.hints]
    for ev in r.evidence:
        lines += ["", f"--- {ev.title}" + (f" ({ev.source})" if ev.source else ""), ev.text]
    return "\n".join(lines)


def shape_pytest_report(rep: pytest.TestReport, outcome: Outcome, results: list[CheckResult]) -> None:
    """Make pytest's report carry our outcome and text instead of a traceback."""
    ordered = sorted(results, key=lambda r: SEVERITY.index(r.outcome))
    text = "\n\n".join(result_text(r) for r in ordered)
    rep.outcome = PYTEST_OUTCOME[outcome]  # type: ignore[assignment]
    if outcome is Outcome.NOT_EVALUABLE and results and all(r.because_of for r in results):
        # Could not look only because another condition could not: grouped under that one (which shows
        # as the failure), not listed as a failure of its own. results.json and the exit code still count it.
        rep.outcome = "skipped"
    if rep.outcome == "skipped":
        path, lineno, _ = rep.location
        rep.longrepr = (str(path), (lineno or 0) + 1, f"{outcome}: {results[0].summary if results else ''}")
    elif rep.outcome == "failed":
        rep.longrepr = text
    else:
        rep.longrepr = None
    rep.sections = []  # captured output may hold secrets; findings carry everything needed
    rep.blink_outcome = str(outcome)  # type: ignore[attr-defined]
    rep.blink_results = results  # type: ignore[attr-defined]
    try:
        from pytest_html import extras

        rep.extras = [extras.html(result_html(r)) for r in results]  # type: ignore[attr-defined]
    except ImportError:
        pass


def result_html(r: CheckResult) -> str:
    e = html.escape
    parts = [
        f'<div class="blink-result blink-{e(str(r.outcome))}">',
        f"<p><b>{e(str(r.outcome).upper())}</b> · <code>{e(r.id)}</code> · {e(r.section_title)}, "
        f"{e(r.platform)}, step {e(r.step)}: {e(r.title)}</p>",
        f"<p>{e(r.summary)}</p>",
    ]
    if r.remediation:
        parts.append(f'<div class="blink-remedy"><b>Runbook remedy</b><pre>{e(r.remediation)}</pre></div>')
    if r.hints:
        parts.append("<ul>" + "".join(f"<li>{e(h)}</li>" for h in r.hints) + "</ul>")
    for ev in r.evidence:
        src = f" <i>({e(ev.source)})</i>" if ev.source else ""
        parts.append(f"<details open><summary>{e(ev.title)}{src}</summary><pre>{e(ev.text)}</pre></details>")
    parts.append(f'<p><a href="{e(r.link)}">{e(r.link)}</a></p></div>')
    return "".join(parts)
