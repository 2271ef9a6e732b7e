"""The escalation packet on Kubernetes: what R&D gets, and that the runner's secret is in none of it."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from blinkcheck.report.packet import archive_members
from tests.harness import ROOT
from tests.integration.k8s_lab import apply, check, names

pytestmark = pytest.mark.k8s_lab

LAB_SECRET = "lab-runner-group-key-not-a-secret"  # the lab's appKey (lab/k8s/scenarios/secret.yaml)


def test_k8s_packet_has_objects_events_logs_and_no_secret(lab: Any):
    apply(lab, "crashloop")
    pod = names(lab)["pod"]
    report_dir = ROOT / "reports" / "integration" / "k8s-bundle"
    shutil.rmtree(report_dir, ignore_errors=True)
    run = check(lab, report_dir, "--bundle", "on")
    assert run.exit_code == 1, run.stdout[-3000:]
    [bundle] = list(report_dir.glob("escalation-*.tar.gz"))
    members = {k.split("/", 1)[1]: v for k, v in archive_members(bundle).items()}
    assert "kubernetes/versions.txt" in members and b"v1.34" in members["kubernetes/versions.txt"]
    assert f"kubernetes/pod_blink_{pod}.json" in members, sorted(members)
    assert "kubernetes/deployment_blink_blink-runner.json" in members, sorted(members)
    logs = [k for k in members if k.startswith(f"kubernetes/pod_blink_{pod}_") and k.endswith(".log")]
    assert any(k.endswith(".previous.log") for k in logs), logs  # it restarted: the previous container too
    assert f"kubernetes/pod_blink_{pod}.events.txt" in members and b"BackOff" in members[
        f"kubernetes/pod_blink_{pod}.events.txt"]
    assert b"Runner Disconnected / kubernetes / step 1" in members["steps.txt"]
    for name, data in {**members, **{p.name: p.read_bytes() for p in report_dir.iterdir() if p.is_file()}}.items():
        assert LAB_SECRET.encode() not in data, f"the runner's secret leaked into {name}"
