"""Findings -> results.json, pytest's own report (terminal, junit) and pytest-html rows.

Every string that leaves the run passes through the run's Redactor here, and evidence is capped.
"""

from __future__ import annotations

import html
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from blinkcheck.catalog import fill
from blinkcheck.model import SEVERITY, Finding, Outcome
from blinkcheck.redact import find_leaks

if TYPE_CHECKING:
    from blinkcheck.plugin import RunState

RESULTS_SCHEMA_VERSION = 1
EVIDENCE_CAP = 8 * 1024  # per evidence item, in the report and results.json
TRUNCATION_MARK = "\n…[truncated: {n} more characters]"

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


def tool_version() -> str:
    try:
        return version("blink-runner-checks")
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class EvidenceItem:
    title: str
    source: str
    text: str
    truncated: bool


@dataclass(frozen=True)
class CheckResult:
    id: str
    outcome: Outcome
    title: str
    section: str
    section_title: str
    platform: str
    step: str
    kind: str
    object: str
    summary: str
    remediation: str
    hints: tuple[str, ...]
    evidence: tuple[EvidenceItem, ...]
    because_of: str
    link: str
    test: str
    duration_s: float
    verdict: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "outcome": str(self.outcome),
            "title": self.title,
            "runbook": {
                "section": self.section,
                "section_title": self.section_title,
                "platform": self.platform,
                "step": self.step,
                "kind": self.kind,
            },
            "object": self.object,
            "summary": self.summary,
            "remediation": self.remediation,
            "hints": list(self.hints),
            "evidence": [e.__dict__ for e in self.evidence],
            "because_of": self.because_of,
            "link": self.link,
            "test": self.test,
            "duration_s": round(self.duration_s, 3),
            **({"details": self.details} if self.details else {}),
        }


def _cap(text: str) -> tuple[str, bool]:
    if len(text) <= EVIDENCE_CAP:
        return text, False
    return text[:EVIDENCE_CAP] + TRUNCATION_MARK.format(n=len(text) - EVIDENCE_CAP), True


def global_values(state: RunState) -> dict[str, str]:
    spec = state.spec
    return {
        "docker_host": spec.docker_host,
        "blink_url": spec.blink_url,
        "runner_name": spec.runner_name,
        "deployment": spec.runner_name,
        "log_window": spec.log_window,
        "probe_image": spec.probe_image,
        "namespace": spec.namespace or "",
        "status_channel": str(state.catalog.site.get("status_channel", "")),
        "window": f"{spec.rollback_window_s:g}s",
        "wait": f"{spec.operator_wait_s:g}s",
    }


def build_result(state: RunState, nodeid: str, finding: Finding, duration: float) -> CheckResult:
    red = state.redactor
    cond = state.catalog[finding.condition_id]
    values = {**global_values(state), **{k: v for k, v in finding.values.items() if v != ""}}
    # Remedies are shown where the check judged something to fix; blocked/not-evaluable say why instead.
    remediation = ""
    if finding.outcome in (Outcome.FAILED, Outcome.WARNING, Outcome.MANUAL) or (
        finding.outcome is Outcome.NOT_EVALUABLE and cond.kind == "precondition"
    ):
        remediation = fill(cond.remedy_for(finding.variant), values)
    evidence = []
    for ev in finding.evidence:
        text, cut = _cap(red(ev.text))
        evidence.append(EvidenceItem(red(ev.title), red(ev.source), text, cut))
    return CheckResult(
        id=cond.id,
        outcome=finding.outcome,
        title=cond.title,
        section=cond.section,
        section_title=state.catalog.sections.get(cond.section, cond.section),
        platform=cond.platform,
        step=cond.step,
        kind=cond.kind,
        object=red(finding.object),
        summary=red(finding.summary),
        remediation=red(remediation),
        hints=tuple(red(h) for h in finding.hints),
        evidence=tuple(evidence),
        because_of=finding.because_of,
        link=state.catalog.link_url(cond),
        test=nodeid,
        duration_s=duration,
        verdict=cond.verdict_for(finding.variant),
        details=json.loads(red(json.dumps(dict(finding.details), default=str))) if finding.details else {},
    )


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


def counts(state: RunState) -> Counter[str]:
    return Counter(str(r.outcome) for r in state.results)


def one_line_summary(state: RunState) -> str:
    c = counts(state)
    order = [str(o) for o in Outcome]
    parts = ", ".join(f"{c[o]} {o}" for o in order if c[o])
    where = f"report: {state.spec.report_dir / 'report.html'}"
    if not state.collected:
        return (f"blink-checks: no check was selected (-k, -m or the node ids matched none): nothing was checked; "
                f"exit {state.exit_code} (pytest's 'no tests ran') — {where}")  # fmt: skip
    left_out = deselected_ids(state)
    chosen = f" of {len(state.collected)} selected checks ({len(left_out)} not selected)" if left_out else ""
    return f"blink-checks: {parts}{chosen} (exit {state.exit_code}) — {where}"


def run_platforms(state: RunState) -> tuple[str, ...]:
    """The platforms of this run: those chosen at collection, else the requested one(s)."""
    if state.selected_platforms:
        return state.selected_platforms
    return (state.spec.target,) if state.spec.target != "auto" else ("docker", "kubernetes")


def deselected_ids(state: RunState) -> list[str]:
    """Conditions of the run's platforms that the user did not select (-k, -m, --lf, node ids)."""
    ran = {cid for _, cid in state.collected}
    platforms = run_platforms(state)
    return [c.id for c in state.catalog.conditions if c.platform in platforms and c.id not in ran]


def write_results_json(state: RunState, session: pytest.Session) -> None:
    spec = state.spec
    data = {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "tool": {"name": "blink-runner-checks", "version": tool_version()},
        "started_at": datetime.fromtimestamp(state.started, UTC).isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "duration_s": round(time.time() - state.started, 3),
        "exit_code": state.exit_code,
        "target": {
            "requested": spec.target,
            "platforms": list(state.selected_platforms),
            "notes": state.platform_notes,
            "skipped": [{"platform": p, "why": state.redactor(why)} for p, why in state.skipped_platforms],
            "docker_host": state.redactor(spec.docker_host),
            "blink_url": state.redactor(spec.blink_url),
            "runner_name": spec.runner_name,
            "namespace": spec.namespace,
            "log_window": spec.log_window,
        },
        "catalog": str(spec.catalog_path),
        "counts": dict(counts(state)),
        "checks": [r.as_json() for r in state.results],
        "deselected": deselected_ids(state),
    }
    path = spec.report_dir / "results.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def leak_gate(state: RunState, extra: list[Path] | None = None) -> list[str]:
    """Search every artifact for every secret value seen; remove any artifact that holds one."""
    files = [p for p in state.spec.report_dir.glob("*") if p.is_file()]
    files += [p for p in extra or [] if p.is_file() and p not in files]
    hits = find_leaks(files, state.redactor.values)
    for path, _ in hits:
        path.unlink(missing_ok=True)
    messages = [f"LEAK GATE: a secret value was found in {p}; the file was removed" for p, _ in hits]
    for m in messages:
        print(m, file=sys.stderr, flush=True)
    return messages


class HtmlHooks:
    """pytest-html hooks, registered only when pytest-html is active."""

    def __init__(self, state: Callable[[], RunState]) -> None:
        self._state = state

    def pytest_html_report_title(self, report: Any) -> None:
        # pytest-html's environment table (Python, Platform, Packages, Plugins) is pytest's, not the
        # target's: it moves to a collapsed section at the end (arrange_html); the target is shown
        # under the verdict (target_html), only with the rows that apply to the run's platforms.
        report.title = "Blink runner health check"

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(1, '<th class="sortable" data-column-type="condition">Condition</th>')
        cells.insert(2, '<th class="sortable" data-column-type="step">Runbook step</th>')
        cells.insert(3, '<th class="sortable" data-column-type="platform">Target</th>')
        cells.insert(4, '<th class="sortable" data-column-type="verdict">Outcome</th>')

    def pytest_html_results_table_row(self, report: Any, cells: list[str]) -> None:
        results: list[CheckResult] = getattr(report, "blink_results", [])
        e = html.escape
        first = results[0] if results else None
        cond = first.id if first else ""
        step = f"{first.section_title} · {first.step}" if first else ""
        cells.insert(1, f'<td class="col-condition">{e(cond)}</td>')
        cells.insert(2, f'<td class="col-step">{e(step)}</td>')
        cells.insert(3, f'<td class="col-platform">{e(first.platform if first else "")}</td>')
        cells.insert(4, f'<td class="col-verdict">{e(getattr(report, "blink_outcome", report.outcome))}</td>')

    def pytest_html_results_table_html(self, report: Any, data: list[str]) -> None:
        # The findings (extras) say it all; the raw log would repeat it, unredacted by design of pytest.
        if getattr(report, "blink_results", None):
            data.clear()

    def pytest_html_results_summary(
        self, prefix: list[str], summary: list[str], postfix: list[str], session: Any
    ) -> None:
        from blinkcheck.verdict import verdict_html

        state = self._state()
        prefix.extend(verdict_html(state))
        prefix.extend(target_html(state))


def target_html(state: RunState) -> list[str]:
    """What was checked and where, which platforms were not and why, which checks were selected.
    Only the rows that apply to the run's platforms (a Kubernetes-only run shows no Docker host)."""
    e, red, spec = html.escape, state.redactor, state.spec
    platforms = run_platforms(state)
    rows: list[tuple[str, str]] = []
    checked = [n.split(": checked: ", 1) for n in state.platform_notes if ": checked: " in n]
    for platform, what in checked:
        rows.append(("Checked", f"{platform}: {what}"))
    if not checked:
        how = f"--target {spec.target}" if spec.target != "auto" else "--target auto"
        rows.append(("Checked", f"{', '.join(platforms)} ({how})"))
    rows += [("Looked for a runner", n) for n in state.platform_notes if n.startswith("no runner found")]
    rows += [("Not checked", f"{p}: {why}") for p, why in state.skipped_platforms]
    if "docker" in platforms:
        rows.append(("Docker host", spec.docker_host))
    if "kubernetes" in platforms:
        where = "every namespace you may list" if spec.all_namespaces and not spec.namespace else (
            f"namespace {spec.namespace or '(the context’s)'}")  # fmt: skip
        rows.append(("Kubernetes", f"context {spec.kube_context or '(current)'}, {where}"))
    rows += [("Blink URL", spec.blink_url), ("Runner name", spec.runner_name), ("Log window", spec.log_window)]
    left_out = deselected_ids(state)
    if left_out:
        rows.append(("Checks", f"{len(state.collected)} selected (-k, -m, --lf or node ids); not selected, not run "
                               f"and not counted: {', '.join(left_out)}"))  # fmt: skip
    else:
        rows.append(("Checks", f"all {len(state.collected)} of {', '.join(platforms)}"))
    rows += [("Catalog", str(spec.catalog_path)), ("Suite version", tool_version())]
    body = "".join(f"<tr><th>{e(k)}</th><td>{e(red(v))}</td></tr>" for k, v in rows)
    return [TARGET_STYLE, f'<div class="blink-target"><h2>Target</h2><table>{body}</table></div>']


TARGET_STYLE = (
    "<style>.blink-target{border:1px solid #ccc;padding:8px 14px;margin:10px 0;border-radius:6px}"
    ".blink-target h2{margin:4px 0}.blink-target th{text-align:left;padding-right:16px;vertical-align:top}"
    "</style>"
)
_ENV = re.compile(
    r'\s*<div id="environment-header">\s*<h2>Environment</h2>\s*</div>\s*<table id="environment"></table>'
)
_ENV_AT_END = (
    '<details class="blink-pytest-env"><summary>pytest environment (Python, platform, packages, plugins)</summary>'
    '<div id="environment-header"><h2>Environment</h2></div><table id="environment"></table></details>\n'
)


def arrange_html(path: Path) -> None:
    """pytest-html puts its environment table (Python, Platform, Packages, Plugins) first; it moves to a
    collapsed section at the end, so the report opens with the verdict. The page's script still fills it."""
    try:
        page = path.read_text(encoding="utf-8")
    except OSError:
        return
    moved, n = _ENV.subn("", page, count=1)
    if n != 1 or "<footer>" not in moved:
        return  # another pytest-html layout: leave the page as it is
    path.write_text(moved.replace("<footer>", _ENV_AT_END + "  <footer>", 1), encoding="utf-8")
