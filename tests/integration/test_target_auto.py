"""`pytest checks/` with the default --target auto on an engineer's machine: the platforms where a runner is
are checked; one without a runner or that does not answer is noted and skipped; no runner anywhere fails
with each platform's first runbook step. The report opens with the verdict, then the target, then the checks.

The Kubernetes cases need the lab cluster besides the Docker lab (both under /work/labrun)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from lab.docker import scenarios as dlab
from tests.harness import ROOT, CheckRun, run_checks
from tests.integration.browser import dump_dom, screenshot
from tests.integration.k8s_lab import apply
from tests.reliability import Sees

ARTIFACTS = ROOT / "reports" / "integration"
ARGS = ("--blink-url", dlab.BLINK_URL, "--probe-timeout", "4")
EMPTY_NS = "blink-empty"  # a namespace of the lab cluster where no runner is


@pytest.fixture(scope="module")
def docker_lab() -> Any:
    yield dlab
    dlab.down()


def dead_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: nothing listens there


def stale_home(tmp: Path) -> tuple[Path, int]:
    """A HOME whose ~/.kube/config points at an API server that is gone (a dead loopback port)."""
    port = dead_loopback_port()
    (tmp / ".kube").mkdir(parents=True)
    (tmp / ".kube" / "config").write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "old-cluster",
        "clusters": [{"name": "old", "cluster": {"server": f"https://127.0.0.1:{port}"}}],
        "users": [{"name": "old", "user": {"token": "not-a-token"}}],
        "contexts": [{"name": "old-cluster", "context": {"cluster": "old", "user": "old", "namespace": "blink"}}],
    }))  # fmt: skip
    return tmp, port


def auto(tmp: Path, name: str, home: Path, kubeconfig: Path | None = None, *extra: str) -> CheckRun:
    env = {"HOME": str(home), "KUBECONFIG": str(kubeconfig or ""), "KUBERNETES_SERVICE_HOST": ""}
    return run_checks(*ARGS, *extra, report_dir=tmp / name, env=env)


def platforms(run: CheckRun) -> set[str]:
    return {c["runbook"]["platform"] for c in run.results["checks"]}


ONLY_DOCKER = "only Docker checked; results.json and report.html say \"kubernetes: not checked: API did not answer (…)\""


@pytest.mark.reliability(
    "a stale ~/.kube/config (its API server gone) beside a healthy Docker runner, default `--target auto`",
    Sees(exit=0, within_s=30, terminal=("blink-checks: kubernetes: not checked: API did not answer (https://127.0.0.1:",),
         facts=(ONLY_DOCKER,)),
)
@pytest.mark.docker_lab
def test_stale_kubeconfig_beside_a_healthy_docker_runner(docker_lab: Any, tmp_path: Path, sees):
    """The issue's run: exit 0, Kubernetes noted as not checked and why; the report starts with what matters."""
    dlab.up("healthy")
    home, port = stale_home(tmp_path / "home")
    report_dir = ARTIFACTS / "auto-stale-kubeconfig"
    run = run_checks(*ARGS, report_dir=report_dir,
                     env={"HOME": str(home), "KUBECONFIG": "", "KUBERNETES_SERVICE_HOST": ""})  # fmt: skip
    sees(run)
    target = run.results["target"]
    why = f"API did not answer (https://127.0.0.1:{port}: connection refused"
    sees.fact(ONLY_DOCKER, target["platforms"] == ["docker"] and platforms(run) == {"docker"}
              and [s["platform"] for s in target["skipped"]] == ["kubernetes"]
              and target["skipped"][0]["why"].startswith(why)
              and any(n.startswith(f"kubernetes: not checked: {why}") for n in target["notes"])
              and "<th>Not checked</th><td>kubernetes: API did not answer" in run.html, target)  # fmt: skip
    assert f"blink-checks: kubernetes: not checked: {why}" in run.stdout  # said in the terminal too
    # The report: verdict, then the target, then the checks; pytest's environment collapsed at the end.
    page = run.html
    order = [page.index(s) for s in ('<div class="blink-verdict">', '<div class="blink-target">', 'id="results-table"',
                                     '<details class="blink-pytest-env">', 'id="environment"')]  # fmt: skip
    assert order == sorted(order), order
    assert "<th>Not checked</th><td>kubernetes: API did not answer" in page
    assert "<th>Docker host</th><td>unix:///var/run/docker.sock</td>" in page
    dom = dump_dom(report_dir / "report.html", size="1400,900")
    assert dom.index("Verdict") < dom.index("Not checked") < dom.index("docker.host.daemon-reachable")
    assert "Packages" in dom  # pytest's own rows still there, at the end, collapsed
    shot = screenshot(report_dir / "report.html", ARTIFACTS / "report-first-screen-stale-kubeconfig.png", "1400,900")
    assert shot.stat().st_size > 20_000


@pytest.mark.docker_lab
def test_explicit_target_keeps_todays_strictness(docker_lab: Any, tmp_path: Path):
    home, _ = stale_home(tmp_path / "home")
    run = run_checks(*ARGS, "--target", "kubernetes", report_dir=tmp_path / "k",
                     env={"HOME": str(home), "KUBECONFIG": "", "KUBERNETES_SERVICE_HOST": ""})  # fmt: skip
    assert run.exit_code == 1
    assert run.outcome("k8s.cluster.api-reachable") == "not-evaluable"
    assert "<th>Docker host</th>" not in run.html  # a Kubernetes-only run shows no Docker rows


# ------------------------------------------------------------------ with the lab cluster


def lab_kubeconfig(lab: Any, tmp: Path, namespace: str) -> Path:
    """The lab's admin kubeconfig with its context's namespace set: "a kubeconfig to the lab cluster"."""
    cfg = yaml.safe_load(lab.admin_kubeconfig.read_text())
    for ctx in cfg["contexts"]:
        ctx["context"]["namespace"] = namespace
    path = tmp / f"kubeconfig-{namespace}"
    path.write_text(yaml.safe_dump(cfg))
    path.chmod(0o600)
    return path


@pytest.mark.docker_lab
@pytest.mark.k8s_lab
def test_a_cluster_without_a_runner_is_noted_and_skipped(docker_lab: Any, lab: Any, tmp_path: Path):
    dlab.up("healthy")
    run = auto(tmp_path, "a", tmp_path, lab_kubeconfig(lab, tmp_path, EMPTY_NS))
    assert run.exit_code == 0, run.stdout[-3000:]
    assert run.results["target"]["platforms"] == ["docker"] and platforms(run) == {"docker"}
    [skipped] = run.results["target"]["skipped"]
    assert skipped["platform"] == "kubernetes"
    assert skipped["why"].startswith(f"no runner found (looked for deployment blink-runner or pods labelled "
                                     f"app=blink-runner in namespace {EMPTY_NS} of context "), skipped  # fmt: skip


@pytest.mark.docker_lab
@pytest.mark.k8s_lab
def test_both_platforms_with_a_runner_are_both_checked(docker_lab: Any, lab: Any, tmp_path: Path):
    dlab.up("healthy")
    apply(lab, "healthy")
    # One --blink-url serves both labs' stand-ins only for the log checks: the probe is off here.
    run = auto(tmp_path, "b", tmp_path, lab_kubeconfig(lab, tmp_path, "blink"), "--probe", "off")
    assert run.results["target"]["platforms"] == ["docker", "kubernetes"], run.results["target"]
    assert platforms(run) == {"docker", "kubernetes"} and not run.results["target"]["skipped"]
    assert run.outcome("docker.disconnected.container-running") == "passed"
    assert run.outcome("k8s.disconnected.pods-ready") == "passed"
    assert run.exit_code == 0, run.stdout[-3000:]
    assert "<th>Docker host</th>" in run.html and "<th>Kubernetes</th>" in run.html


@pytest.mark.docker_lab
@pytest.mark.k8s_lab
def test_no_runner_anywhere_fails_with_both_first_steps(docker_lab: Any, lab: Any, tmp_path: Path):
    dlab.up("no-runner")
    run = auto(tmp_path, "n", tmp_path, lab_kubeconfig(lab, tmp_path, EMPTY_NS))
    assert run.exit_code == 1
    assert run.results["target"]["platforms"] == ["docker", "kubernetes"]
    [note] = run.results["target"]["notes"]
    assert note.startswith("no runner found on any platform (docker: looked for containers named blink-runner*")
    assert f"kubernetes: looked for deployment blink-runner or pods labelled app=blink-runner in namespace " \
           f"{EMPTY_NS}" in note  # fmt: skip
    [docker] = run.entries("docker.disconnected.container-exists")
    assert docker["outcome"] == "failed" and "`docker ps -a | grep blink-runner`" in docker["remediation"]
    [k8s] = run.entries("k8s.disconnected.pods-exist")
    assert k8s["outcome"] == "failed" and f"`kubectl get pods -n {EMPTY_NS}`" in k8s["remediation"]
