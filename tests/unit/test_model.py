"""The model's helpers for what a check records besides a judge's finding, and the recorder that takes the condition
from the check's marker."""

from __future__ import annotations

import pytest

from blinkcheck.model import Finding, Outcome, Recorder, blocked_by, not_applicable, nothing_to_judge, table


def test_recorder_fills_in_the_markers_condition():
    found: list[Finding] = []
    record = Recorder("k8s.disconnected.blink-reachable", found)
    record.nothing_to_judge("no runner pod to probe from")
    record.blocked_by("k8s.disconnected.pods-ready", "pod blink/p is Pending: not Ready.", "pod blink/p", {"pod": "p"})
    record.passed("No blink-operator exists.", "blink", {"namespace": "blink"})
    record.not_applicable("no runner logged an upgrade in the log window.")
    record.manual_blink_status("#prod-alerts")
    assert [f.condition_id for f in found] == ["k8s.disconnected.blink-reachable"] * 5
    assert [f.outcome for f in found] == [Outcome.SKIPPED, Outcome.BLOCKED, Outcome.PASSED, Outcome.SKIPPED,
                                          Outcome.MANUAL]  # fmt: skip
    assert found[0].summary == "Nothing to judge: no runner pod to probe from"
    assert (found[1].because_of, found[1].object, dict(found[1].values)) == (
        "k8s.disconnected.pods-ready", "pod blink/p", {"pod": "p"})  # fmt: skip
    assert (found[2].object, dict(found[2].values)) == ("blink", {"namespace": "blink"})
    assert found[3].summary == "Not applicable: no runner logged an upgrade in the log window."
    assert "#prod-alerts" in found[4].summary and found[4].values["status_channel"] == "#prod-alerts"


def test_recorder_refuses_a_finding_for_another_condition():
    record = Recorder("docker.upgrade.indicators", [])
    with pytest.raises(ValueError, match=r"check for docker\.upgrade\.indicators recorded a finding for docker\.x\.y"):
        record(Finding("docker.x.y", Outcome.PASSED, "ok"))


def test_helpers_are_the_findings_the_checks_built_inline():
    assert nothing_to_judge("c.a.b", "none") == Finding("c.a.b", Outcome.SKIPPED, "Nothing to judge: none")
    assert not_applicable("c.a.b", "no") == Finding("c.a.b", Outcome.SKIPPED, "Not applicable: no")
    assert blocked_by("c.a.b", "c.a.x", "why", "obj") == Finding("c.a.b", Outcome.BLOCKED, "why", "obj", because_of="c.a.x")


def test_one_table_renderer_for_both_platforms():
    rows = [("NAME", "STATUS", "AGE"), ("blink-runner-1", "Running", ""), ("x", "CrashLoopBackOff", "5m")]
    assert table(rows).splitlines() == ["NAME            STATUS            AGE", "blink-runner-1  Running",
                                        "x               CrashLoopBackOff  5m"]  # fmt: skip
    assert table(rows, pad_last=True).splitlines()[1] == "blink-runner-1  Running           " + " " * 3
