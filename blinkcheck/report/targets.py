"""The reports of a --targets run (README "Many targets"): one report.html, results.json and junit.xml with a group
per target, built from what each target's own run wrote (its results.json, already through its leak gate).

Plain data in: a `TargetRun` per target (what its run left: exit code, results.json, the tail of its output).
"""

from __future__ import annotations

import html
import os
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blinkcheck.model import Outcome
from blinkcheck.report.verdict import STYLE

# The exit codes of a run, the least bad first: the run's code is the worst of its targets' (README "Exit code");
# 5 (nothing selected, e.g. `-m kubernetes` on a Docker host) only when no target had anything selected.
EXIT_ORDER = (0, 1, 2, 4, 3)
HEALTHY, PROBLEM, COULD_NOT_LOOK = "healthy", "problem found", "could not look"
CSS = {HEALTHY: "blink-ok", PROBLEM: "blink-bad", COULD_NOT_LOOK: "blink-bad"}


@dataclass(frozen=True)
class TargetRun:
    """One target's run as the parent saw it end."""

    name: str
    target: str  # docker | kubernetes | auto
    where: str
    report_dir: Path
    exit_code: int | None  # None: it could not be started
    duration_s: float
    results: dict[str, Any] | None  # its results.json, when it wrote one
    tail: str = ""  # the last lines of its output (redacted), for a run that wrote no results
    timed_out: bool = False
    bound_s: float = 0.0


def worst_exit(codes: Iterable[int | None]) -> int:
    """The worst exit code: a leak, a usage error, an interruption, a failure, all well; nothing selected anywhere."""
    known = [1 if c is None else c for c in codes]
    selected = [c for c in known if c != 5]
    if not selected:
        return 5 if known else 0
    return max(selected, key=lambda c: EXIT_ORDER.index(c) if c in EXIT_ORDER else len(EXIT_ORDER))


def _lead(checks: list[dict[str, Any]], outcome: str) -> dict[str, Any] | None:
    """The first check of this outcome that is its own cause (not blocked by another condition)."""
    found = [c for c in checks if c["outcome"] == outcome]
    return next((c for c in found if not c.get("because_of")), found[0] if found else None)


def status_of(run: TargetRun) -> tuple[str, str]:
    """The group's status and one line saying why (the first problem, or why the suite could not look)."""
    res, code = run.results, run.exit_code
    if run.timed_out:
        why = f"its run did not end within {run.bound_s:g} s and was stopped"
        return COULD_NOT_LOOK, why + (" (partial results below)" if res else f": {run.tail}" if run.tail else "")
    if res is None:
        if code == 4:
            return "usage error", run.tail or "the run refused its options (exit 4)"
        if code == 3:
            return "leak gate", "a secret was found in a file its run wrote; the file was removed"
        started = "it could not be started" if code is None else f"it wrote no results.json (exit {code})"
        return COULD_NOT_LOOK, started + (f": {run.tail}" if run.tail else "")
    if code == 3:
        return "leak gate", "; ".join(res.get("leak_gate") or []) or "a secret was found in a file its run wrote"
    checks = res.get("checks", [])
    verdict = res.get("verdict", [])
    if code == 2:
        return "interrupted", "the run was interrupted; unfinished checks are not-evaluable"
    if code == 5:
        return "nothing selected", "no check of this target was selected (-k, -m, node ids)"
    if (failed := _lead(checks, str(Outcome.FAILED))) is not None:
        bad = next((v for v in verdict if v["outcome"] == str(Outcome.FAILED)), None)
        return PROBLEM, f"{bad['title']}: {bad['conclusion']}" if bad else f"{failed['id']}: {failed['summary']}"
    if (blind := _lead(checks, str(Outcome.NOT_EVALUABLE))) is not None:
        return COULD_NOT_LOOK, f"{blind['id']}: {blind['summary']}"
    if code not in (0, None):
        return COULD_NOT_LOOK, run.tail or f"its run ended with exit code {code}"
    return HEALTHY, ""


def _relative(path: Path, base: Path) -> str | None:
    return os.path.relpath(path, base) if path.is_file() else None


def group_of(run: TargetRun, base: Path, say: Callable[[str], str]) -> dict[str, Any]:
    """results.json's group for one target; `base` is the folder of the combined reports, `say` the redactor."""
    res = run.results or {}
    status, why = status_of(run)
    return {
        "name": run.name,
        "target": run.target,
        "where": say(run.where),
        "status": status,
        "why": say(why),
        "exit_code": run.exit_code,
        "duration_s": round(run.duration_s, 3),
        "timed_out": run.timed_out,
        "report_dir": str(run.report_dir),
        "report": _relative(run.report_dir / "report.html", base),
        "results": _relative(run.report_dir / "results.json", base) if run.results is not None else None,
        "platforms": list(res.get("target", {}).get("platforms", [])),
        "verdict": list(res.get("verdict", [])),
        "counts": dict(res.get("counts", {})),
        "checks": list(res.get("checks", [])),
    }


def combined_results(groups: list[dict[str, Any]], head: dict[str, Any]) -> dict[str, Any]:
    """The run's results.json: `head` (schema_version, tool, times, targets_file), the summed counts, the worst
    exit code, the groups."""
    total: Counter[str] = Counter()
    for g in groups:
        total.update(g["counts"])
    return {**head, "exit_code": worst_exit(g["exit_code"] for g in groups), "counts": dict(total),
            "notes": [], "targets": groups}  # fmt: skip


def verdict_line(group: dict[str, Any]) -> str:
    """One line per target for the terminal: its status and why."""
    why = f": {group['why']}" if group["why"] else ""
    return f"blink-checks verdict: {group['name']} ({group['target']}): {group['status']}{why}"


def summary_line(data: dict[str, Any], report: Path | None) -> str:
    statuses = Counter(g["status"] for g in data["targets"])
    parts = ", ".join(f"{n} {s}" for s, n in statuses.items())
    where = f" — report: {report}" if report else ""
    return f"blink-checks: {len(data['targets'])} targets: {parts} (exit {data['exit_code']}){where}"


_TABLE_STYLE = """
<style>
body{font-family:Helvetica,Arial,sans-serif;font-size:14px;margin:16px}
table.blink-rows{border-collapse:collapse;width:100%}
.blink-rows td,.blink-rows th{border:1px solid #ddd;padding:4px 6px;vertical-align:top;text-align:left}
.blink-rows pre{margin:4px 0}
</style>
"""


def _row_html(check: dict[str, Any]) -> str:
    e = html.escape
    outcome = check["outcome"]
    css = "blink-bad" if outcome in ("failed", "not-evaluable") else "blink-ok" if outcome == "passed" else "blink-meh"
    remedy = check["remediation"] if outcome == "failed" and not check.get("because_of") else ""
    more = f"<pre>{e(remedy)}</pre>" if remedy else ""
    return (f"<tr><td><code>{e(check['id'])}</code></td><td>{e(check['runbook']['step'])}</td><td>{e(check['object'])}"
            f'</td><td class="{css}">{e(outcome)}</td><td>{e(check["summary"])}{more}</td></tr>')  # fmt: skip


def _group_html(g: dict[str, Any]) -> list[str]:
    e = html.escape
    css = CSS.get(g["status"], "blink-bad")
    anchor = "target-" + g["name"]
    out = [f'<div class="blink-verdict" id="{e(anchor)}">',
           f'<h2 class="{css}">{e(g["name"])} ({e(g["target"])}: {e(g["where"])}): {e(g["status"])}</h2>']  # fmt: skip
    links = [f'<a href="{e(g[k])}">its {label}</a>'
             for k, label in (("report", "full report"), ("results", "results.json")) if g[k]]  # fmt: skip
    shown = " · ".join(links) or "no report of its own"
    out.append(f"<p>exit code {e(str(g['exit_code']))}, {g['duration_s']:.1f} s; {shown}</p>")
    if g["why"]:
        out.append(f"<p><b>{e(g['why'])}</b></p>")
    if g["verdict"]:
        out.append("<ul>")
        for v in g["verdict"]:
            vcss = "blink-bad" if v["outcome"] in ("failed", "not-evaluable") else "blink-ok"
            out.append(f'<li class="{vcss}">{e(v["title"])}: {e(v["conclusion"])}</li>')
        out.append("</ul>")
    if g["checks"]:
        out.append('<table class="blink-rows"><tr><th>condition</th><th>step</th><th>object</th><th>outcome</th>'
                   "<th>what was found</th></tr>")  # fmt: skip
        out += [_row_html(c) for c in g["checks"]]
        out.append("</table>")
    out.append("</div>")
    return out


def combined_html(data: dict[str, Any]) -> str:
    """report.html of a --targets run: the verdict per target first, then a section per target with its verdict
    lines and rows, linking to the target's own report."""
    e = html.escape
    n = len(data["targets"])
    out = ["<!DOCTYPE html>", '<html><head><meta charset="utf-8">',
           f"<title>Blink runner health checks: {n} targets</title>", STYLE, _TABLE_STYLE, "</head><body>",
           f"<h1>Blink runner health checks: {n} targets</h1>",
           f"<p>Targets file {e(data['targets_file'])}; started {e(data['started_at'])}, {data['duration_s']:.1f} s; "
           f"exit code {data['exit_code']} (the worst of the targets').</p>",
           '<div class="blink-verdict"><h2>Verdict per target</h2><ul>']  # fmt: skip
    for g in data["targets"]:
        why = f": {g['why']}" if g["why"] else ""
        out.append(f'<li class="{CSS.get(g["status"], "blink-bad")}"><a href="#target-{e(g["name"])}">{e(g["name"])}'
                   f"</a> ({e(g['target'])}): {e(g['status'])}{e(why)}</li>")  # fmt: skip
    out.append("</ul></div>")
    for g in data["targets"]:
        out += _group_html(g)
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def combined_junit(runs: list[TargetRun]) -> bytes | None:
    """junit.xml with one testsuite per target (its own junit.xml, the suite named after the target)."""
    root = ET.Element("testsuites")
    for run in runs:
        path = run.report_dir / "junit.xml"
        try:
            tree = ET.parse(path)
        except (OSError, ET.ParseError):
            continue
        found = tree.getroot()
        for suite in found.iter("testsuite") if found.tag == "testsuites" else [found]:
            suite.set("name", run.name)
            for case in suite.iter("testcase"):
                case.set("classname", f"{run.name}.{case.get('classname', '')}")
            root.append(suite)
    if not len(root):
        return None
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
