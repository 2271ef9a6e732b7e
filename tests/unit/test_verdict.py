"""The verdict never states a diagnosis for a check that could not look."""

from __future__ import annotations

from pathlib import Path

from blinkcheck.catalog import load_catalog
from blinkcheck.model import Finding, Outcome
from blinkcheck.plugin import RunState
from blinkcheck.redact import Redactor
from blinkcheck.report import build_result
from blinkcheck.verdict import verdict_html


class _Spec:
    docker_host = "unix:///var/run/docker.sock"
    blink_url = "https://app.blinkops.com"
    runner_name = "blink-runner"
    log_window = "last 2000 lines, since 1h"
    probe_image = "curlimages/curl:8.11.1"
    namespace = None
    rollback_window_s = 300.0
    operator_wait_s = 60.0
    report_dir = Path("/nonexistent")


def state_with(*findings: Finding) -> RunState:
    state = RunState(spec=_Spec(), catalog=load_catalog(), redactor=Redactor(), enabled=True)  # type: ignore[arg-type]
    state.results = [build_result(state, "t", f, 0.0) for f in findings]
    return state


def test_failed_check_gives_the_catalog_verdict():
    page = "".join(verdict_html(state_with(
        Finding("docker.disconnected.blink-reachable", Outcome.FAILED, "TCP connect timed out", "c"))))
    assert "Runner Disconnected: egress to Blink is blocked" in page


def test_not_evaluable_check_says_could_not_look():
    page = "".join(verdict_html(state_with(
        Finding("docker.disconnected.blink-reachable", Outcome.NOT_EVALUABLE, "probe image not on the host", "c"))))
    assert "egress to Blink is blocked" not in page
    assert "could not look" in page and "probe image not on the host" in page
