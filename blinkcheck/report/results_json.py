"""results.json (schema: blinkcheck/results.schema.json): written once per run, after the leak gate (so it says
how the run ended), through the run's writer (no link followed). The one JSON writer of the reports."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import Any

from blinkcheck.artifacts import json_text
from blinkcheck.redact import secret_in
from blinkcheck.report.verdict import verdict_data
from blinkcheck.results import RESULTS_SCHEMA_VERSION, counts, deselected_ids, tool_version
from blinkcheck.run import RunState


def results_data(state: RunState) -> dict[str, Any]:
    """results.json's content, built once when the checks are done (the leak gate may add its verdict later)."""
    spec = state.spec
    return {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "tool": {"name": "blink-runner-checks", "version": tool_version()},
        "started_at": datetime.fromtimestamp(state.started, UTC).isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "duration_s": round(time.time() - state.started, 3),
        "exit_code": state.exit_code,
        "target": {
            "requested": spec.target,
            "platforms": list(state.selected_platforms),
            "notes": [state.redactor(n) for n in state.platform_notes],
            "skipped": [{"platform": p, "why": state.redactor(why)} for p, why in state.skipped_platforms],
            "docker_host": state.redactor(spec.docker_host),
            "blink_url": state.redactor(spec.blink_url),
            "runner_name": spec.runner_name,
            "namespace": spec.namespace,
            "log_window": spec.log_window,
            "api_requests": {platform: count() for platform, count in state.api_requests.items()},
        },
        "catalog": str(spec.catalog_path),
        "notes": [state.redactor(n) for n in state.notes],
        "counts": dict(counts(state)),
        "verdict": verdict_data(state),
        "checks": [r.as_json() for r in state.results],
        "deselected": deselected_ids(state),
        **({"replayed_from": state.replay.as_json()} if state.replay is not None else {}),
        **({"remediation": state.remediation.as_json(state.redactor)} if state.remediation is not None else {}),
    }


def write_results_json(state: RunState, data: dict[str, Any]) -> bool:
    """Write results.json unless its own text holds a secret (the gate for a file not yet written): False then."""
    spec = state.spec
    path = state.reports.get("results.json", spec.report_dir / "results.json")
    text = json_text(data)
    held = secret_in(text.encode("utf-8"), state.redactor.values)
    if held:
        print(f"LEAK GATE: a secret value ({held}) was found in results.json; it was not written", file=sys.stderr,
              flush=True)  # fmt: skip
        return False
    try:
        state.artifacts.write(path, text)
    except OSError as exc:
        print(f"results.json: could not write {path}: {exc.strerror or exc}", file=sys.stderr, flush=True)
    return True
