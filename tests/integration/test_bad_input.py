"""Bad input: exit code 4 with one clear line; an unreachable engine: not-evaluable, fast, report written."""

from __future__ import annotations

import pytest

from tests.harness import ROOT, run_checks
from tests.reliability import Sees

BAD_OPTIONS = [
    (["--target", "dockr"], "--target: 'dockr' is not one of docker, kubernetes, auto"),
    (["--blink-url", "htp:/x"], "--blink-url: 'htp:/x' is not a valid URL"),
    (["--blink-url", "https://"], "--blink-url: 'https://' is not a valid URL"),
    (["--blink-url", "https://app.blinkops.com:99999"], "malformed port"),
    (["--docker-host", "ftp://x"], "--docker-host: 'ftp://x' is not a valid URL"),
    (["--docker-host", "ssh://me:pw@host"], "--docker-host: 'ssh://me:***@host': a password in an ssh:// address is not supported"),
    (["--docker-context", "nope"], "--docker-context: context 'nope' is not in"),
    (["--docker-host", "tcp://h:2375", "--docker-context", "x"], "--docker-context: give --docker-host or --docker-context, not both"),
    (["--log-since=-5m"], "--log-since: '-5m' is not a duration"),
    (["--log-since", "400d"], "--log-since: '400d' is out of range"),
    (["--log-tail", "lots"], "--log-tail: 'lots' is not a whole number"),
    (["--api-timeout", "0"], "--api-timeout: '0' is out of range"),
    (["--probe", "maybe"], "--probe: 'maybe' must be auto, on or off"),
    (["--catalog", "/nonexistent.yaml"], "--catalog: '/nonexistent.yaml' does not exist"),
    (["--kubeconfig", "/nonexistent.kubeconfig"], "--kubeconfig: '/nonexistent.kubeconfig' does not exist"),
    (["--report-dir", "/proc/blink-reports"], "--report-dir: cannot write to '/proc/blink-reports'"),
    (["--deadline", "soon"], "--deadline: 'soon' is not a duration"),
    (["--runner-name", "bad name"], "--runner-name: 'bad name' is not a container/deployment name"),
]


@pytest.mark.parametrize(("args", "message"), BAD_OPTIONS, ids=[a[0] for a, _ in BAD_OPTIONS])
def test_bad_option_is_a_usage_error(tmp_path, args, message):
    run = run_checks(*args, report_dir=tmp_path)
    assert run.exit_code == 4
    assert message in run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    error_lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(error_lines) == 1, run.stderr


def test_env_variable_is_validated_too(tmp_path):
    run = run_checks(report_dir=tmp_path, env={"BLINK_CHECK_TARGET": "podman"})
    assert run.exit_code == 4 and "--target: 'podman'" in run.stderr


@pytest.mark.reliability(
    "a catalog file with a bad schema (`kind: by-hand`)",
    Sees(exit=4, terminal=("--catalog: condition 'docker.disconnected.blink-status': field 'kind' must be one of",)),
)
def test_bad_catalog_schema_names_entry_and_field(tmp_path, sees):
    bad = tmp_path / "catalog.yaml"
    text = (ROOT / "blinkcheck" / "catalog.yaml").read_text()
    bad.write_text(text.replace("    kind: manual\n", "    kind: by-hand\n", 1))
    sees(run_checks("--catalog", str(bad), report_dir=tmp_path / "r"))


@pytest.mark.reliability(
    "`--docker-host tcp://127.0.0.1:1` (nothing listens)",
    Sees(exit=1, within_s=20, outcomes={"docker.host.daemon-reachable": "not-evaluable"},
         says={"docker.host.daemon-reachable": "Could not reach the Docker engine at tcp://127.0.0.1:1"},
         others="not-evaluable", naming="docker.host.daemon-reachable", report=True),
)
@pytest.mark.docker_lab
def test_unreachable_docker_host_is_not_evaluable_fast(tmp_path, sees):
    # Loopback port 1: nothing listens there. Never an outside address.
    run = run_checks("--target", "docker", "--docker-host", "tcp://127.0.0.1:1", report_dir=tmp_path)
    sees(run)
    [daemon] = run.entries("docker.host.daemon-reachable")
    assert daemon["summary"].startswith("Could not reach the Docker engine at tcp://127.0.0.1:1")
    for entry in run.results["checks"]:
        if entry["id"] not in ("docker.host.daemon-reachable", "docker.disconnected.blink-status"):
            # said once, down the whole chain (container-exists -> container-running -> ...)
            assert entry["summary"] == f"Not evaluable because of docker.host.daemon-reachable: {daemon['summary']}"
    # Grouped under the precondition: one failure, the rest skipped (not-evaluable in results.json).
    assert run.pytest_summary.startswith("1 failed, 13 skipped"), run.pytest_summary
    assert "tcp://127.0.0.1:1" in run.entries("docker.host.daemon-reachable")[0]["remediation"]
