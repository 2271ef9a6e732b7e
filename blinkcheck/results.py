"""One result per check and object: a finding with its catalog entry, remedy filled, text redacted and
evidence capped. Built once per finding; the reports (blinkcheck.report) only read these.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from blinkcheck.catalog import Condition
from blinkcheck.model import Evidence, Finding, Outcome

if TYPE_CHECKING:
    from blinkcheck.config import TargetSpec
    from blinkcheck.run import RunState


RESULTS_SCHEMA_VERSION = 1
EVIDENCE_CAP = 8 * 1024  # per evidence item, in the report and results.json
TRUNCATION_MARK = "\n…[truncated: {n} more characters]"


def tool_version() -> str:
    try:
        return version("blink-runner-checks")
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class CheckResult:
    """A finding as the reports show it: its condition (the catalog entry, not a copy of its fields), the remedy
    filled, every text redacted, evidence capped."""

    condition: Condition
    outcome: Outcome
    section_title: str
    object: str
    summary: str
    remediation: str
    hints: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    because_of: str
    link: str
    test: str
    duration_s: float
    verdict: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    # What --remediate plans from (blinkcheck.remediate.plan): the judge's chosen variant and the values it filled.
    variant: str = ""
    values: Mapping[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.condition.id

    @property
    def title(self) -> str:
        return self.condition.title

    @property
    def section(self) -> str:
        return self.condition.section

    @property
    def platform(self) -> str:
        return self.condition.platform

    @property
    def step(self) -> str:
        return self.condition.step

    @property
    def kind(self) -> str:
        return self.condition.kind

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
            "evidence": [e.as_json() for e in self.evidence],
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
        **blink_values(spec),
    }


def blink_values(spec: TargetSpec) -> dict[str, str]:
    """The values of Blink's own view (a stand-in spec of a test may not have them: defaults)."""
    return {
        "blink_api_url": getattr(spec, "blink_api_url", "") or spec.blink_url,
        "workspace_id": getattr(spec, "workspace_id", "") or "{ws_id}",
        "stale": f"{getattr(spec, 'blink_stale_s', 300.0):g}s",
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
        remediation = cond.remediation(finding.variant, values)
    evidence = []
    for ev in finding.evidence:
        text, cut = _cap(red(ev.text))
        evidence.append(Evidence(red(ev.title), text, red(ev.source), truncated=cut))
    return CheckResult(
        condition=cond,
        outcome=finding.outcome,
        section_title=state.catalog.sections.get(cond.section, cond.section),
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
        variant=finding.variant,
        values=values,
    )


def counts(state: RunState) -> Counter[str]:
    return Counter(str(r.outcome) for r in state.results)


def one_line_summary(state: RunState) -> str:
    c = counts(state)
    order = [str(o) for o in Outcome]
    parts = ", ".join(f"{c[o]} {o}" for o in order if c[o])
    where = f"report: {state.reports.get('report.html', state.spec.report_dir / 'report.html')}"
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
