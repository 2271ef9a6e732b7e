"""--remediate on the real Docker engine: a stopped runner container (the healthy lab runner, `docker stop`ped).
A dry run lists `docker container restart <id>` and changes nothing (the container's state compared before and
after, every Engine API call recorded: reads only); with --yes the suite restarts it (the one write:
POST /containers/{id}/restart), re-runs the affected checks on fresh facts, and they pass."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from blinkcheck.docker.gather import READ_CALLS
from blinkcheck.docker.remediate import WRITE_CALLS
from blinkcheck.report.packet import archive_members
from lab.docker import scenarios as lab
from tests.faultproxy import FaultProxy, Rule
from tests.harness import ROOT, CheckRun, run_checks
from tests.integration.test_docker_read_only import shape
from tests.integration.test_docker_scenarios import RESULTS_SCHEMA

pytestmark = pytest.mark.docker_lab

RUNNING = "docker.disconnected.container-running"
REACH = "docker.disconnected.blink-reachable"
BASE = ["--target", "docker", "--blink-url", lab.BLINK_URL, "--probe-timeout", "4"]


@pytest.fixture(scope="module", autouse=True)
def lab_down_after():
    yield
    lab.down()


def stopped_runner() -> str:
    """The healthy scenario, its runner then stopped (`docker stop`): a runner that starts fine again."""
    lab.up("healthy")
    c = lab.client().containers.get("blink-runner")
    c.stop(timeout=2)
    lab.wait_until("the runner stopped", lab.status_is(lab.client(), "blink-runner", "exited"))
    return str(c.id)


def state(ref: str) -> dict[str, Any]:
    attrs = lab.client().containers.get(ref).attrs
    s = attrs["State"]
    return {"status": s["Status"], "started": s["StartedAt"], "finished": s["FinishedAt"],
            "restarts": attrs["RestartCount"], "pid": s["Pid"]}  # fmt: skip


def recorded(tmp_path: Path, name: str, *args: str) -> tuple[CheckRun, list[str]]:
    """The run with every Engine API call recorded (its re-check's too: it inherits --docker-host)."""
    calls: list[str] = []
    report_dir = ROOT / "reports" / "integration" / f"docker-remediate-{name}"
    shutil.rmtree(report_dir, ignore_errors=True)  # this run's packet only
    proxy = FaultProxy(tmp_path / "docker.sock").start()
    proxy.rules.append(Rule(r"^[A-Z]+ \S+", before=lambda m: calls.append(m.group(0))))
    try:
        run = run_checks(*BASE, "--docker-host", proxy.url, *args, report_dir=report_dir)
    finally:
        proxy.stop()
    return run, calls


def test_a_dry_run_lists_the_restart_and_changes_nothing(tmp_path: Path):
    ref = stopped_runner()
    before = state(ref)
    run, calls = recorded(tmp_path, "dry-run", "--remediate")
    assert state(ref) == before
    assert all(c.startswith(("GET ", "HEAD ")) for c in calls), calls
    assert {shape(c, set()) for c in calls} <= set(READ_CALLS)
    assert run.exit_code == 1 and run.outcome(RUNNING) == "failed"
    jsonschema.validate(run.results, RESULTS_SCHEMA)
    rem = run.results["remediation"]
    assert rem["mode"] == "dry-run" and rem["recheck"] is None
    [step] = rem["steps"]
    assert step["text"] == f"docker container restart {ref[:12]}" and step["status"] == "planned"
    assert step["because_of"] == [RUNNING] and step["started_at"] is None
    assert f"`docker container restart {ref[:12]}`" in run.stdout and "dry run: nothing was changed" in run.stdout
    assert "Remediation (--remediate)" in run.html and "dry run: run with --yes to perform it" in run.html


def test_a_stopped_runner_is_restarted_and_rechecked_green(tmp_path: Path):
    ref = stopped_runner()
    run, calls = recorded(tmp_path, "yes", "--remediate", "--yes", "--bundle", "on")
    writes = [shape(c, set()) for c in calls if not c.startswith(("GET ", "HEAD "))]
    assert writes == ["POST /containers/{id}/restart"] and set(writes) <= set(WRITE_CALLS), writes
    now = state(ref)
    assert now["status"] == "running", now
    jsonschema.validate(run.results, RESULTS_SCHEMA)
    rem = run.results["remediation"]
    [step] = rem["steps"]
    assert rem["mode"] == "performed" and step["status"] == "done", step
    assert step["started_at"] and step["duration_s"] > 0 and "restarted (it was exited" in step["detail"]
    check = rem["recheck"]
    assert check["exit_code"] == 0 and not check["error"], check
    rows = {r["id"]: (r["before"], r["after"]) for r in check["conditions"]}
    assert rows[RUNNING] == (["failed"], ["passed"]), rows
    assert rows[REACH] == (["blocked"], ["passed"]), rows
    assert run.exit_code == 1  # the run's own checks found the runner stopped; the re-check says it is fixed
    assert f"{RUNNING}: F -> P" in run.stdout and f"{REACH}: B -> P" in run.stdout
    page = run.html
    assert "Re-checked on fresh facts" in page and f"<code>docker container restart {ref[:12]}</code>" in page
    [packet] = run.report_dir.glob("escalation-*.tar.gz")
    members = {k.split("/", 1)[1]: v.decode() for k, v in archive_members(packet).items()}
    assert f"{RUNNING}: F -> P" in members["steps.txt"] and "Recovery steps tried" in members["ticket.txt"]
    assert '"remediation"' in members["results.json"]


def test_a_failed_upgrade_restart_that_fails_stops_there_and_the_ui_upgrade_stays_manual(tmp_path: Path):
    """upgrade-failed: the upgraded container exits at start. The runbook's restart is tried on it (the container
    not running), fails again, and the manual upgrade through the UI is what is left."""
    lab.up("upgrade-failed")
    new = lab.client().containers.get("blink-runner-1.0.995")
    run, calls = recorded(tmp_path, "upgrade-failed", "--remediate", "--yes")
    writes = [shape(c, set()) for c in calls if not c.startswith(("GET ", "HEAD "))]
    assert writes == ["POST /containers/{id}/restart"], writes  # the upgraded container only; the old runner runs on
    restart, ui = run.results["remediation"]["steps"]
    assert restart["text"] == f"docker container restart {new.id[:12]}" and restart["status"] == "failed", restart
    assert "was restarted (it was exited with code 1" in restart["detail"] and "again" in restart["detail"]
    assert ui["kind"] == "manual" and ui["status"] == "manual" and "3-dot menu, and select Update" in ui["text"]
    rows = {r["id"]: (r["before"], r["after"]) for r in run.results["remediation"]["recheck"]["conditions"]}
    assert rows["docker.upgrade.new-container-healthy"] == (["failed"], ["failed"]), rows
    assert lab.client().containers.get("blink-runner").status == "running"
