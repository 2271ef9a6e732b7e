"""--remediate on the lab cluster. operator-stuck: a dry run changes nothing; with --yes the operator, not running
past the runbook's wait, is deleted and the runner deployment restarted until Ready, then re-checked.
upgrade-in-progress: the running operator is left alone. As the read-only ServiceAccount (rbac/role.yaml only): each
step is refused, naming the grant (rbac/role-remediate.yaml), and the audit log shows no write. Each test applies
its scenario and re-applies the healthy one at the end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.harness import ROOT, CheckRun
from tests.integration.k8s_lab import NS, RUNNERS, apply, check, kubectl, pods
from tests.integration.test_docker_scenarios import RESULTS_SCHEMA
from tests.integration.test_k8s_faults import run_as_read_only_role

pytestmark = pytest.mark.k8s_lab

OPERATOR = "blink-operator-1.0.995"
STUCK = "k8s.upgrade.operator-stuck"
STATE = "k8s.upgrade.operator-state"
DELETE = f"kubectl delete deployment {OPERATOR} -n {NS}"
RESTART = f"kubectl rollout restart deployment blink-runner -n {NS}"


def deployments(lab: Any) -> dict[str, dict[str, Any]]:
    """What a step would change: each deployment's uid, generation and pod-template annotations."""
    items = json.loads(kubectl(lab, "-n", NS, "get", "deployments", "-o", "json"))["items"]
    return {d["metadata"]["name"]: {"uid": d["metadata"]["uid"], "generation": d["metadata"]["generation"],
                                    "annotations": d["spec"]["template"]["metadata"].get("annotations") or {}}
            for d in items}  # fmt: skip


def steps(run: CheckRun) -> dict[str, dict[str, Any]]:
    return {s["text"].split("\n")[0]: s for s in run.results["remediation"]["steps"]}


@pytest.fixture
def healthy_after(lab: Any):
    yield
    apply(lab, "healthy")


def test_stuck_operator_deleted_after_the_wait_and_the_runner_restarted_until_ready(lab: Any, healthy_after):
    apply(lab, "operator-stuck")
    before = deployments(lab)
    dry = check(lab, ROOT / "reports" / "integration" / "k8s-remediate-dry", "--remediate", "--probe", "off")
    assert deployments(lab) == before  # a dry run changes nothing
    assert dry.results["remediation"]["mode"] == "dry-run"
    planned = {t: s["status"] for t, s in steps(dry).items() if s["kind"] == "action"}
    assert planned == {DELETE: "planned", RESTART: "planned"}
    run = check(lab, ROOT / "reports" / "integration" / "k8s-remediate-yes", "--remediate", "--yes", "--probe", "off")
    jsonschema.validate(run.results, RESULTS_SCHEMA)
    assert run.outcome(STUCK) == "failed"  # past the wait: the runbook's condition for the delete
    done = steps(run)
    assert done[DELETE]["status"] == "done" and f"deleted deployment {NS}/{OPERATOR}" in done[DELETE]["detail"]
    assert done[RESTART]["status"] == "done" and "rolled out, 1/1 Ready" in done[RESTART]["detail"], done[RESTART]
    keys = [s["key"] for s in run.results["remediation"]["steps"]]
    assert keys == ["k8s-delete-operator", "k8s-restart-runner", "k8s-manual-upgrade", "k8s-rerun"]  # runbook order
    assert done[DELETE]["started_at"] < done[RESTART]["started_at"]  # one at a time
    manual = [s for s in run.results["remediation"]["steps"] if s["kind"] == "manual"]
    assert [s["status"] for s in manual] == ["manual", "manual"] and "3-dot menu" in manual[0]["text"]
    after = deployments(lab)
    assert OPERATOR not in after
    assert "kubectl.kubernetes.io/restartedAt" in after["blink-runner"]["annotations"]
    runners = pods(lab, RUNNERS)
    assert runners and all(all(c.get("ready") for c in p["status"]["containerStatuses"]) for p in runners)
    rows = {r["id"]: (r["before"], r["after"]) for r in run.results["remediation"]["recheck"]["conditions"]}
    assert rows[STUCK] == (["failed"], ["passed"]), rows
    assert rows[STATE] == (["warning"], ["passed"]), rows
    assert f"{STUCK}: F -> P" in run.stdout and "Re-checked on fresh facts" in run.html


def test_a_running_operator_is_left_alone(lab: Any, healthy_after):
    apply(lab, "upgrade-in-progress")
    before = deployments(lab)
    run = check(lab, ROOT / "reports" / "integration" / "k8s-remediate-running", "--remediate", "--yes",
                "--probe", "off")  # fmt: skip
    assert deployments(lab) == before
    assert run.exit_code == 0
    rem = run.results["remediation"]
    assert rem["mode"] == "no-actions" and rem["recheck"] is None
    [hold] = rem["steps"]
    assert hold["kind"] == "hold" and hold["status"] == "left-alone"
    assert hold["object"] == f"deployment {NS}/{OPERATOR}" and "do nothing, wait for it to complete" in hold["text"]
    assert "Left alone" in run.stdout or "left alone" in run.stdout


def test_without_the_remediation_role_each_step_is_refused_with_the_grant(lab: Any, tmp_path: Path, healthy_after):
    run, verbs = run_as_read_only_role(lab, tmp_path, "operator-stuck", "--probe", "off", "--remediate", "--yes")
    now = deployments(lab)
    assert OPERATOR in now and not now["blink-runner"]["annotations"]  # nothing deleted, nothing restarted
    writes = {v for v in verbs if v[0] not in ("get", "list", "watch")}
    assert writes <= {("create", "selfsubjectaccessreviews"), ("create", "selfsubjectreviews")}, writes
    done = steps(run)
    for text, verb, name in ((DELETE, "delete", OPERATOR), (RESTART, "patch", "blink-runner")):
        s = done[text]
        assert s["status"] == "refused", s
        assert "the remediation Role is not granted" in s["detail"]
        assert "kubectl apply -f rbac/role-remediate.yaml" in s["detail"]
        assert f"--verb={verb} --resource=deployments.apps --resource-name={name} -n {NS}" in s["detail"]
        assert "--serviceaccount=blink:blink-health-check" in s["detail"]
    assert run.results["remediation"]["recheck"] is None
    assert "REFUSED" in run.stdout and "rbac/role-remediate.yaml" in run.html
