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


def _pod(cid: str, outcome: Outcome, name: str, summary: str = "", because_of: str = "") -> Finding:
    return Finding(cid, outcome, summary or f"pod blink/{name} is Running and Ready.", f"pod blink/{name}",
                   values={"pod": name, "namespace": "blink", "state": "CrashLoopBackOff"},
                   because_of=because_of)  # fmt: skip


def test_one_crashing_pod_of_three_with_the_healthy_pods_beside_it():
    ready, reach = "k8s.disconnected.pods-ready", "k8s.disconnected.blink-reachable"
    page = "".join(verdict_html(state_with(
        _pod(ready, Outcome.PASSED, "a"), _pod(ready, Outcome.PASSED, "b"),
        _pod(ready, Outcome.FAILED, "c", "pod blink/c is CrashLoopBackOff."),
        _pod(reach, Outcome.PASSED, "a", "reached"), _pod(reach, Outcome.PASSED, "b", "reached"),
        _pod(reach, Outcome.BLOCKED, "c", f"Blocked by {ready} (failed): pod blink/c is CrashLoopBackOff.",
             because_of=ready),
    )))  # fmt: skip
    assert "Runner Disconnected: 1 of 3 runner pods is failing: a runner pod is not Running and Ready" in page
    assert "`kubectl describe pod c -n blink`" in page  # its remedy
    assert "Each runner pod on its own" in page
    assert "pod blink/a</span> — passed: k8s.disconnected.blink-reachable, k8s.disconnected.pods-ready" in page
    assert "pod blink/c</span> — failed: k8s.disconnected.pods-ready; blocked: k8s.disconnected.blink-reachable" in page
    assert "pod blink/a</span> — passed: k8s.disconnected.blink-reachable, k8s.disconnected.pods-ready</li>" in page
    assert f"Blocked by <code>{ready}</code>: {reach} (pod blink/c)" in page


def test_every_pod_failing_is_not_counted_out():
    ready = "k8s.disconnected.pods-ready"
    page = "".join(verdict_html(state_with(_pod(ready, Outcome.FAILED, "a"), _pod(ready, Outcome.FAILED, "b"))))
    assert "Runner Disconnected: a runner pod is not Running and Ready" in page
    assert " of 2 " not in page and "on its own" not in page


def test_target_rows_only_for_the_runs_platforms():
    from blinkcheck.report import target_html

    state = state_with(Finding("k8s.cluster.api-reachable", Outcome.PASSED, "answers", "https://10.0.0.1:6443"))
    state.spec.target, state.spec.all_namespaces, state.spec.kube_context = "auto", False, None  # type: ignore[misc]
    state.spec.catalog_path = Path("catalog.yaml")  # type: ignore[misc]
    state.selected_platforms = ("kubernetes",)
    state.collected = [("t", "k8s.cluster.api-reachable")]
    state.platform_notes = ["kubernetes: checked: deployment blink/blink-runner (namespace blink)",
                            "docker: not checked: no runner found (containers named blink-runner*)"]  # fmt: skip
    state.skipped_platforms = [("docker", "no runner found (containers named blink-runner*)")]
    page = "".join(target_html(state))
    assert "Docker host" not in page and "unix:///var/run/docker.sock" not in page
    assert "<th>Checked</th><td>kubernetes: deployment blink/blink-runner (namespace blink)</td>" in page
    assert "<th>Not checked</th><td>docker: no runner found (containers named blink-runner*)</td>" in page
    assert "not selected, not run and not counted: k8s.cluster.permissions" in page


def test_pytest_environment_moves_to_a_collapsed_section_at_the_end(tmp_path):
    from blinkcheck.report import arrange_html

    page = tmp_path / "report.html"
    page.write_text('<body>\n    <h1 id="title">t</h1>\n    <div id="environment-header">\n      <h2>Environment</h2>\n'
                    '    </div>\n    <table id="environment"></table>\n    <div class="summary">S</div>\n'
                    '  <footer>\n  </footer>\n</body>')  # fmt: skip
    arrange_html(page)
    text = page.read_text()
    assert text.index('class="summary"') < text.index("<details") < text.index('id="environment"')
    assert text.count('id="environment"') == 1 and text.count('id="environment-header"') == 1
