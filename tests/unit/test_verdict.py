"""The verdict never states a diagnosis for a check that could not look."""

from __future__ import annotations

from pathlib import Path

from blinkcheck.catalog import load_catalog
from blinkcheck.model import Finding, Outcome
from blinkcheck.redact import Redactor
from blinkcheck.report.verdict import verdict_html, verdict_lines
from blinkcheck.results import build_result
from blinkcheck.run import RunState


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


def test_verdict_lines_say_the_same_as_the_report_one_per_section():
    state = state_with(Finding("docker.disconnected.blink-reachable", Outcome.FAILED, "TCP connect timed out", "c"),
                       Finding("docker.host.daemon-reachable", Outcome.PASSED, "answers", "h"))  # fmt: skip
    lines = verdict_lines(state)
    assert lines == ["blink-checks verdict: Before the runbook: can the suite look?: healthy",
                     "blink-checks verdict: Runner Disconnected: egress to Blink is blocked - apply the outbound firewall rules"]  # fmt: skip
    page = "".join(verdict_html(state))
    assert all(line.split(": ", 1)[1].split(": ", 1)[1] in page for line in lines)
    could_not = verdict_lines(state_with(Finding("docker.disconnected.blink-reachable", Outcome.NOT_EVALUABLE, "x", "c")))
    assert could_not == ["blink-checks verdict: Runner Disconnected: could not look (Blink is reachable from the runner's "
                         "network namespace)"]  # fmt: skip


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
    from blinkcheck.report.html import target_html

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


def test_pytest_environment_moves_to_a_collapsed_section_at_the_end():
    from blinkcheck.report.html import arrange_html

    page = ('<body>\n    <h1 id="title">t</h1>\n    <div id="environment-header">\n      <h2>Environment</h2>\n'
            '    </div>\n    <table id="environment"></table>\n    <div class="summary">S</div>\n'
            '  <footer>\n  </footer>\n</body>')  # fmt: skip
    text = arrange_html(page)
    assert text.index('class="summary"') < text.index("<details") < text.index('id="environment"')
    assert text.count('id="environment"') == 1 and text.count('id="environment-header"') == 1


def test_a_section_verdict_exactly():
    """One failing pod of three (one judged per container), a check blocked by it, one blocked by a condition not
    run, a manual step and a note: every line of the verdict."""
    ready, reach, logs = "k8s.disconnected.pods-ready", "k8s.disconnected.blink-reachable", "k8s.disconnected.logs-readable"
    state = state_with(
        _pod(ready, Outcome.PASSED, "a"), _pod(ready, Outcome.FAILED, "c", "pod blink/c is CrashLoopBackOff."),
        Finding(ready, Outcome.PASSED, "pod blink/d is Running and Ready.", "pod blink/d container x",
                values={"pod": "d", "namespace": "blink", "state": "x"}),
        _pod(reach, Outcome.PASSED, "a", "reached"),
        _pod(reach, Outcome.BLOCKED, "c", f"Blocked by {ready} (failed): pod blink/c is CrashLoopBackOff.",
             because_of=ready),
        Finding(logs, Outcome.BLOCKED, "Blocked by k8s.cluster.permissions: x", "", because_of="k8s.cluster.permissions"),
        Finding("k8s.disconnected.blink-status", Outcome.MANUAL, "Manual step: check <#p1>", "Blink",
                values={"status_channel": "#p1-production-alert"}),
    )  # fmt: skip
    state.notes.append("note with <b>")
    out = verdict_html(state)
    assert out[0].startswith("\n<style>") and out[-1] == "</div>"
    assert out[1:] == [
        '<div class="blink-verdict">',
        "<h2>Verdict</h2>",
        '<p class="blink-meh"><b>Note:</b> note with &lt;b&gt;</p>',
        '<h3 class="blink-bad">Runner Disconnected: 1 of 3 runner pods is failing: a runner pod is not Running and '
        "Ready - read its events and logs</h3>",
        "<p>pod blink/c is CrashLoopBackOff.</p>",
        "<p><b>Next steps, in runbook order</b></p><ol>",
        "<li><code>k8s.disconnected.pods-ready</code> (step 1)<pre>Runner pod c in blink is CrashLoopBackOff.\n1. Check "
        "pod status: `kubectl get pods -n blink`\n2. Get runner logs: `kubectl logs c -n blink` (and `--previous` "
        "after a restart)\n3. `kubectl describe pod c -n blink` shows the events (below).</pre></li>",
        "</ol>",
        "<p><b>Each runner pod on its own</b></p><ul>",
        '<li><span class="blink-ok">pod blink/a</span> — passed: k8s.disconnected.blink-reachable, '
        "k8s.disconnected.pods-ready</li>",
        '<li><span class="blink-bad">pod blink/c</span> — failed: k8s.disconnected.pods-ready; blocked: '
        "k8s.disconnected.blink-reachable</li>",
        '<li><span class="blink-ok">pod blink/d</span> — passed: k8s.disconnected.pods-ready</li>',
        "</ul>",
        "<p>Blocked by <code>k8s.disconnected.pods-ready</code>: k8s.disconnected.blink-reachable (pod blink/c)</p>",
        "<p>Blocked by <code>k8s.cluster.permissions</code> (not selected in this run: the checks looked by "
        "themselves): k8s.disconnected.logs-readable</p>",
        "<p><b>Manual steps</b></p><ul>",
        "<li>&#9744; Verify Blink is up: Check #p1-production-alert for active production alerts.</li>",
        "</ul>",
        "</div>",
    ]


def test_section_headlines_and_counts():
    ready = "k8s.disconnected.pods-ready"
    empty = verdict_html(state_with())
    assert empty[-1] == "<p>No checks ran.</p></div>"
    manual_only = "".join(verdict_html(state_with(Finding("k8s.disconnected.blink-status", Outcome.MANUAL, "check it",
                                                          "Blink", values={"status_channel": "#c"}))))  # fmt: skip
    assert '<h3 class="blink-meh">Runner Disconnected: manual steps left</h3>' in manual_only
    healthy = "".join(verdict_html(state_with(_pod(ready, Outcome.PASSED, "a"))))
    assert '<h3 class="blink-ok">Runner Disconnected: healthy</h3>' in healthy and "<ol>" not in healthy
    two_of_three = "".join(verdict_html(state_with(_pod(ready, Outcome.PASSED, "a"), _pod(ready, Outcome.FAILED, "b"),
                                                   _pod(ready, Outcome.FAILED, "c"))))  # fmt: skip
    assert "Runner Disconnected: 2 of 3 runner pods are failing: " in two_of_three
    looked_not = "".join(verdict_html(state_with(_pod(ready, Outcome.NOT_EVALUABLE, "a", "could not read"))))
    assert ('<h3 class="blink-bad">Runner Disconnected: could not look (Check pod status: every runner pod is Running '
            "and Ready)</h3>") in looked_not
    containers = "".join(verdict_html(state_with(
        Finding("docker.disconnected.container-running", Outcome.PASSED, "ok", "container a (1)"),
        Finding("docker.disconnected.container-running", Outcome.FAILED, "bad", "container b (2)"))))  # fmt: skip
    assert "1 of 2 runner containers is failing: " in containers and "Each runner container on its own" in containers


def test_blocked_lists_objects_only_where_the_condition_judged_others_too():
    from blinkcheck.report.verdict import blocked_text

    st = state_with(
        _pod("k8s.disconnected.pods-ready", Outcome.FAILED, "a"), _pod("k8s.disconnected.pods-ready", Outcome.FAILED, "b"),
        _pod("k8s.disconnected.blink-reachable", Outcome.BLOCKED, "a", because_of="k8s.disconnected.pods-ready"),
        _pod("k8s.disconnected.blink-reachable", Outcome.BLOCKED, "b", because_of="k8s.disconnected.pods-ready"),
        _pod("k8s.disconnected.logs-readable", Outcome.PASSED, "c"),
        _pod("k8s.disconnected.logs-readable", Outcome.BLOCKED, "a", because_of="k8s.disconnected.pods-ready"),
        _pod("k8s.disconnected.logs-readable", Outcome.BLOCKED, "b", because_of="k8s.disconnected.pods-ready"),
    )  # fmt: skip
    blocked = [r for r in st.results if r.because_of]
    assert blocked_text(blocked, st.results) == (
        "k8s.disconnected.blink-reachable, k8s.disconnected.logs-readable (pod blink/a, pod blink/b)")


def test_a_root_shown_only_as_not_run_counts_as_not_selected():
    ready = "k8s.disconnected.pods-ready"
    st = state_with(
        Finding(ready, Outcome.SKIPPED, "Not run: pytest ended the run early at your request"),
        _pod("k8s.disconnected.blink-reachable", Outcome.BLOCKED, "a", because_of=ready),
    )
    page = "".join(verdict_html(st))
    assert f"Blocked by <code>{ready}</code> (not selected in this run: the checks looked by themselves)" in page


def test_the_lead_is_the_first_own_failure_and_steps_need_a_remedy():
    ready, logs = "k8s.disconnected.pods-ready", "k8s.disconnected.logs-readable"
    st = state_with(
        _pod(logs, Outcome.NOT_EVALUABLE, "a", "Not evaluable because of x: y", because_of="k8s.cluster.permissions"),
        _pod(ready, Outcome.FAILED, "b", "pod blink/b is Pending."),
        _pod(logs, Outcome.NOT_EVALUABLE, "c", "the API stopped answering"),  # a check, not-evaluable: no remedy shown
    )
    out = verdict_html(st)
    assert "<p>pod blink/b is Pending.</p>" in out
    page = "".join(out)
    assert page.count("<li><code>") == 1 and "<li><code>k8s.disconnected.pods-ready</code>" in page
    only_blocked = "".join(verdict_html(state_with(
        _pod(logs, Outcome.NOT_EVALUABLE, "a", "Not evaluable because of x: y", because_of="k8s.cluster.permissions"))))
    assert "could not look (" in only_blocked and "<p>Not evaluable because of x: y</p>" in only_blocked


def test_an_objectless_lead_counts_no_objects():
    exist = "k8s.disconnected.pods-exist"
    st = state_with(
        Finding(exist, Outcome.PASSED, "ok", "deployment a/blink-runner", values={"namespace": "a"}),
        Finding(exist, Outcome.PASSED, "ok", "deployment b/blink-runner", values={"namespace": "b"}),
        Finding(exist, Outcome.NOT_EVALUABLE, "the API did not answer"),
    )
    page = "".join(verdict_html(st))
    assert "Runner Disconnected: could not look (" in page and " of 2 " not in page


def test_objects_of_other_kinds_keep_their_own_noun():
    exist = "k8s.disconnected.pods-exist"
    st = state_with(
        Finding(exist, Outcome.PASSED, "ok", "deployment a/blink-runner", values={"namespace": "a"}),
        Finding(exist, Outcome.FAILED, "no pods", "deployment b/blink-runner", values={"namespace": "b"}),
    )
    assert "1 of 2 deployments is failing: " in "".join(verdict_html(st))


def test_a_check_that_did_not_apply_leaves_the_sections_verdict_to_the_rest():
    """Beyond the runbook on a host without systemd: eight checks passed and the service check was skipped; the
    section is healthy, not "nothing to judge". Only a section where nothing applied says that."""
    passed = [Finding(cid, Outcome.PASSED, "ok", "h") for cid in ("docker.host.disk-space", "docker.host.memory")]
    skipped = Finding("docker.host.service-enabled", Outcome.SKIPPED, "Not checked: no systemd", "h")
    beyond = "blink-checks verdict: Beyond the runbook: the host and cluster causes behind it: "
    assert verdict_lines(state_with(*passed, skipped)) == [beyond + "healthy"]
    assert verdict_lines(state_with(skipped)) == [beyond + "nothing to judge"]


def test_verdict_data_is_each_sections_title_outcome_and_conclusion():
    from blinkcheck.report.verdict import verdict_data

    state = state_with(Finding("docker.disconnected.container-running", Outcome.FAILED, "down", "container c"),
                       Finding("docker.host.daemon-reachable", Outcome.PASSED, "up", "engine"))  # fmt: skip
    data = verdict_data(state)
    assert [d["section"] for d in data] == ["precondition", "disconnected"]
    assert data[0] == {"section": "precondition", "title": "Before the runbook: can the suite look?",
                       "outcome": "passed", "conclusion": "healthy"}  # fmt: skip
    assert data[1]["title"] == "Runner Disconnected" and data[1]["outcome"] == "failed"
    assert [f"{d['title']}: {d['conclusion']}" for d in data] == [
        line.removeprefix("blink-checks verdict: ") for line in verdict_lines(state)]
