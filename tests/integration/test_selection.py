"""pytest's own ways of choosing what runs, on the Docker lab and the lab cluster, as a user types them:
`-k` (function names and condition ids), `-m` (platform, section, step markers), node ids, `--lf`, `-x`,
`-q`/`-v`, `-p no:…`. Deselected checks are not run and not counted and never change the exit code;
the one-line summary is always printed; "the run was interrupted" only when it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from blinkcheck.catalog import load_catalog
from lab.docker import scenarios as lab
from tests.harness import CheckRun, run_checks
from tests.integration.k8s_lab import apply, check

BASE = ["--target", "docker", "--blink-url", lab.BLINK_URL, "--probe-timeout", "4"]
CATALOG = load_catalog()
DOCKER = [c.id for c in CATALOG.conditions if c.platform == "docker"]
K8S = [c.id for c in CATALOG.conditions if c.platform == "kubernetes"]
RUNNING, NET, REACH = (
    "docker.disconnected.container-running",
    "docker.disconnected.no-network-errors",
    "docker.disconnected.blink-reachable",
)


@pytest.fixture(scope="module")
def docker_lab() -> Any:
    yield lab
    lab.down()


def ran(run: CheckRun) -> list[str]:
    return [c["id"] for c in run.results["checks"]]


def assert_selected_only(run: CheckRun, selected: set[str], platform_ids: list[str]) -> None:
    """Only the selected conditions are in results and counts; the rest are listed as deselected."""
    assert set(ran(run)) == selected, run.stdout[-3000:]
    assert sum(run.results["counts"].values()) == len(run.results["checks"])
    assert sorted(run.results["deselected"]) == sorted(set(platform_ids) - selected)
    assert "interrupted" not in run.stdout + json.dumps(run.results)
    assert f"of {len(selected)} selected checks ({len(platform_ids) - len(selected)} not selected)" in run.stdout
    assert "not selected, not run and not counted" in run.html


# ------------------------------------------------------------------ Docker lab


@pytest.mark.docker_lab
def test_k_on_names_and_condition_ids_m_on_markers_and_node_ids(docker_lab: Any, tmp_path: Path):
    lab.up("healthy")
    for i, expr in enumerate(("container_running", RUNNING, "container-running")):
        run = run_checks(*BASE, "-k", expr, report_dir=tmp_path / f"k{i}")
        assert run.exit_code == 0, run.stdout[-3000:]
        assert_selected_only(run, {RUNNING}, DOCKER)
        assert run.results["counts"] == {"passed": 1}
        assert f"blink-checks: 1 passed of 1 selected checks ({len(DOCKER) - 1} not selected) (exit 0)" in run.stdout
    upgrade = {"docker.upgrade.indicators", "docker.upgrade.new-container-healthy", "docker.blink.version"}
    run = run_checks(*BASE, "-m", "docker and upgrade", report_dir=tmp_path / "m")
    assert run.exit_code == 0
    assert_selected_only(run, upgrade, DOCKER)
    run = run_checks(*BASE, "-m", "disconnected and step1", report_dir=tmp_path / "m1")
    assert_selected_only(run, {"docker.disconnected.container-exists", RUNNING}, DOCKER)
    node = "checks/docker/test_upgrade.py::test_upgrade_indicators"
    run = run_checks(*BASE, report_dir=tmp_path / "node", paths=(node,))
    assert run.exit_code == 0
    assert_selected_only(run, {"docker.upgrade.indicators"}, DOCKER)


@pytest.mark.docker_lab
def test_k_matching_nothing_is_pytests_exit_5_said_plainly(docker_lab: Any, tmp_path: Path):
    run = run_checks(*BASE, "-k", "no-such-check", report_dir=tmp_path)
    assert run.exit_code == 5, run.stdout[-2000:]
    assert "blink-checks: no check was selected (-k, -m or the node ids matched none): nothing was checked; " \
           "exit 5" in run.stdout  # fmt: skip
    assert run.results["exit_code"] == 5 and run.results["checks"] == [] and run.results["counts"] == {}


@pytest.mark.docker_lab
def test_a_subset_beside_a_real_failure_counts_only_itself(docker_lab: Any, tmp_path: Path):
    """The issue's run: `-k network_errors` on egress-blocked listed 9 deselected checks as not-evaluable."""
    lab.up("egress-blocked")
    run = run_checks(*BASE, "-k", "network_errors", report_dir=tmp_path)
    assert run.exit_code == 1
    assert_selected_only(run, {NET}, DOCKER)
    assert run.results["counts"] == {"failed": 1}


@pytest.mark.docker_lab
def test_x_stops_at_the_first_failure_and_the_rest_is_skipped_not_failed(docker_lab: Any, tmp_path: Path):
    lab.up("egress-blocked")
    run = run_checks(*BASE, "-x", report_dir=tmp_path)
    assert run.exit_code == 1
    outcomes = run.outcomes()
    assert outcomes[NET] == {"failed"} and outcomes[RUNNING] == {"passed"}
    assert outcomes[REACH] == {"skipped"}  # after the first failure: not run, at the user's request
    [entry] = run.entries(REACH)
    assert entry["summary"] == "Not run: pytest ended the run early at your request (stopping after 1 failures)."
    assert "not-evaluable" not in run.results["counts"], run.results["counts"]
    assert "interrupted" not in json.dumps(run.results)
    assert "blink-checks: " in run.stdout


@pytest.mark.docker_lab
def test_lf_reruns_what_failed_then_passes_once_fixed(docker_lab: Any, tmp_path: Path):
    cache = ["-o", f"cache_dir={tmp_path / 'cache'}"]  # the default is the repository's .pytest_cache
    lab.up("egress-blocked")
    first = run_checks(*BASE, *cache, report_dir=tmp_path / "1")
    assert first.exit_code == 1
    failed = {c["id"] for c in first.results["checks"] if c["outcome"] == "failed"}
    assert failed == {NET, REACH}, first.results["counts"]
    lab.up("healthy")
    again = run_checks(*BASE, *cache, "--lf", report_dir=tmp_path / "2", verbosity="")
    assert again.exit_code == 0, again.stdout[-3000:]
    assert "rerun previous 2 failures" in again.stdout
    assert_selected_only(again, failed, DOCKER)


@pytest.mark.docker_lab
def test_q_v_and_p_no_plugins(docker_lab: Any, tmp_path: Path):
    lab.up("healthy")
    verbose = run_checks(*BASE, report_dir=tmp_path / "v", verbosity="-v")
    assert "test_runner_container_running PASSED" in verbose.stdout
    quiet = run_checks(*BASE, report_dir=tmp_path / "q", verbosity="-qq")
    for run in (verbose, quiet):
        assert run.exit_code == 0
        assert "blink-checks: 9 passed, 1 manual, 4 skipped (exit 0)" in run.stdout, run.stdout[-2000:]
    bare = run_checks(*BASE, "-p", "no:html", "-p", "no:junitxml", report_dir=tmp_path / "p")
    assert bare.exit_code == 0, bare.stdout[-2000:] + bare.stderr[-2000:]
    assert (tmp_path / "p" / "results.json").exists()
    assert not (tmp_path / "p" / "report.html").exists() and not (tmp_path / "p" / "junit.xml").exists()


@pytest.mark.docker_lab
def test_a_selected_check_whose_precondition_was_not_selected_looks_by_itself(docker_lab: Any, tmp_path: Path):
    lab.up("runner-exited")
    run = run_checks(*BASE, "-k", "blink-reachable", report_dir=tmp_path / "exited")
    [entry] = run.entries(REACH)
    assert entry["outcome"] == "blocked" and entry["because_of"] == RUNNING
    assert "is exited" in entry["summary"]
    assert "(not selected in this run: the checks looked by themselves)" in run.html
    # The engine's precondition not selected and the engine gone: said once, never "interrupted".
    run = run_checks(*BASE, "-k", "container-running", "--docker-host", "tcp://127.0.0.1:1", report_dir=tmp_path / "x")
    [entry] = run.entries(RUNNING)
    assert entry["outcome"] == "not-evaluable" and entry["because_of"] == "docker.host.daemon-reachable"
    assert entry["summary"].startswith("Docker engine at tcp://127.0.0.1:1 unreachable: "), entry["summary"]
    assert run.exit_code == 1 and "interrupted" not in json.dumps(run.results)


# ------------------------------------------------------------------ the lab cluster


@pytest.mark.k8s_lab
def test_kubernetes_markers_k_and_x_on_the_lab_cluster(lab: Any, tmp_path: Path):
    apply(lab, "healthy")
    upgrade = {c for c in K8S if c.startswith("k8s.upgrade.")} | {"k8s.blink.version"}
    run = check(lab, tmp_path / "m", "-m", "kubernetes and upgrade")
    assert run.exit_code == 0, run.stdout[-3000:]
    assert_selected_only(run, upgrade, K8S)
    run = check(lab, tmp_path / "k", "-k", "k8s.disconnected.pods-exist or secret-present")
    assert run.exit_code == 0
    assert_selected_only(run, {"k8s.disconnected.pods-exist", "k8s.runner.secret-present"}, K8S)
    run = check(lab, tmp_path / "none", "-k", "no-such-check")
    assert run.exit_code == 5 and "no check was selected" in run.stdout
    apply(lab, "crashloop")
    run = check(lab, tmp_path / "x", "-x", "--probe", "off")
    assert run.exit_code == 1
    outcomes = run.outcomes()
    assert outcomes["k8s.disconnected.pods-ready"] == {"failed"}
    assert outcomes["k8s.upgrade.operator-state"] == {"skipped"}
    assert "not-evaluable" not in run.results["counts"] and "interrupted" not in json.dumps(run.results)
