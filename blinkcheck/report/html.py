"""report.html (pytest-html): the verdict and the target first, a column per check's condition, step,
target and outcome, and pytest's own environment rows moved to a collapsed section at the end."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from blinkcheck.report.remediation import remediation_html
from blinkcheck.report.verdict import verdict_html
from blinkcheck.results import CheckResult, deselected_ids, run_platforms, tool_version
from blinkcheck.run import RunState


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
        state = self._state()
        prefix.extend(verdict_html(state))
        prefix.extend(remediation_html(state.remediation, state.redactor))
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


def arrange_html(page: str) -> str:
    """pytest-html puts its environment table (Python, Platform, Packages, Plugins) first; it moves to a
    collapsed section at the end, so the report opens with the verdict. The page's script still fills it.
    Applied to the page as it is written (blinkcheck.plugin), never by rewriting the file."""
    moved, n = _ENV.subn("", page, count=1)
    if n != 1 or "<footer>" not in moved:
        return page  # another pytest-html layout: leave the page as it is
    return moved.replace("<footer>", _ENV_AT_END + "  <footer>", 1)
