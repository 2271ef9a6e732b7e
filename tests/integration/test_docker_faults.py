"""Faults on the real Docker engine: every one ends with a clear outcome per check and a written
report, never a traceback in place of a result, never a hang.

Faults between the suite and the engine are injected by tests/faultproxy.py, a proxy on a unix
socket of our own in front of the real /var/run/docker.sock.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from lab.docker import scenarios as lab
from tests.faultproxy import FaultProxy, Rule
from tests.harness import ROOT, CheckRun, probe_processes, run_checks, run_checks_as

pytestmark = pytest.mark.docker_lab

BASE = ["--target", "docker", "--blink-url", lab.BLINK_URL, "--probe-timeout", "4"]


@pytest.fixture(scope="module", autouse=True)
def healthy_lab():
    lab.up("healthy")
    yield
    lab.down()


@pytest.fixture
def proxy(tmp_path_factory):
    p = FaultProxy(Path(tmp_path_factory.mktemp("proxy")) / "docker.sock").start()
    yield p
    p.stop()


def assert_report_written(run: CheckRun) -> None:
    assert (run.report_dir / "results.json").exists()
    assert (run.report_dir / "report.html").exists()
    assert "Traceback" not in run.stdout + run.stderr, run.stdout[-3000:]
    jsonschema.validate(run.results, json.loads((ROOT / "blinkcheck" / "results.schema.json").read_text()))
    ids = {c["id"] for c in run.results["checks"]}
    assert len(ids) == 10, ids  # every Docker condition has a result, none silently missing


@pytest.mark.reliability(fault='Docker daemon absent (no socket)', sees='`docker.host.daemon-reachable` not-evaluable ("no Docker socket at …"); every other Docker check not-evaluable naming it; exit 1; report written')
def test_daemon_absent_socket_missing(tmp_path):
    run = run_checks(*BASE, "--docker-host", f"unix://{tmp_path}/no-such.sock", report_dir=tmp_path / "r")
    assert run.exit_code == 1
    assert run.outcome("docker.host.daemon-reachable") == "not-evaluable"
    assert run.outcome("docker.disconnected.container-exists") == "not-evaluable"
    assert_report_written(run)


def test_tcp_docker_host_works(tmp_path):
    """`--docker-host tcp://`: the same healthy verdict through a loopback TCP endpoint of the engine."""
    proxy = FaultProxy(None).start()
    try:
        run = run_checks(*BASE, "--docker-host", proxy.url, report_dir=tmp_path)
    finally:
        proxy.stop()
    assert run.exit_code == 0, run.stdout[-3000:]
    assert proxy.url in run.entries("docker.host.daemon-reachable")[0]["summary"]
    assert run.outcome("docker.disconnected.blink-reachable") == "passed"


@pytest.mark.reliability(fault='`DOCKER_HOST` pointing nowhere', sees='not-evaluable naming the address; exit 1 within seconds; report written')
def test_docker_host_env_pointing_nowhere(tmp_path):
    run = run_checks(*BASE, report_dir=tmp_path, env={"DOCKER_HOST": "tcp://127.0.0.1:1"})
    assert run.exit_code == 1
    assert "tcp://127.0.0.1:1" in run.entries("docker.host.daemon-reachable")[0]["summary"]
    assert_report_written(run)


@pytest.mark.reliability(fault='Docker daemon stopped in the middle of a run', sees='checks done before stay passed; the rest not-evaluable ("reading the logs … failed"); exit 1; report written')
def test_daemon_stops_mid_run(tmp_path, proxy):
    # The engine answers the first calls, then goes away when the logs are read.
    proxy.rules.append(Rule(r"GET /v[\d.]+/containers/\w+/logs", die=True))
    run = run_checks(*BASE, "--docker-host", proxy.url, report_dir=tmp_path)
    assert run.exit_code == 1
    assert run.outcome("docker.host.daemon-reachable") == "passed"
    assert run.outcome("docker.disconnected.container-exists") == "passed"
    assert run.outcome("docker.disconnected.logs-readable") == "not-evaluable"
    assert run.outcome("docker.disconnected.no-network-errors") == "not-evaluable"
    assert run.outcome("docker.disconnected.blink-reachable") == "not-evaluable"
    assert_report_written(run)


@pytest.mark.reliability(fault='slow Docker API (answers after the timeout)', sees='not-evaluable "timed out" after `--api-timeout`, once, not once per check; exit 1; report written')
@pytest.mark.reliability(
    fault="the engine goes away after one of two runner containers was judged",
    sees="that check is not-evaluable (\"… after 1 object(s) were judged\"), never passed on half the facts; exit 1",
)
def test_check_that_could_not_look_at_every_object_is_not_passed(tmp_path, proxy):
    lab.up("upgrade-healthy")  # two runner containers: blink-runner and blink-runner-1.0.995
    proxy.rules.append(Rule(r"GET /v[\d.]+/containers/\w+/logs", die=True, after=1))
    try:
        run = run_checks(*BASE, "--docker-host", proxy.url, report_dir=tmp_path)
    finally:
        lab.up("healthy")
    logs = run.entries("docker.disconnected.logs-readable")
    assert {e["outcome"] for e in logs} == {"passed", "not-evaluable"}, logs
    assert any("after 1 object(s) were judged" in e["summary"] for e in logs)
    assert run.exit_code == 1


def test_slow_api_times_out_bounded(tmp_path, proxy):
    proxy.rules.append(Rule(r"GET /v[\d.]+/containers/json", delay_s=6))
    run = run_checks(*BASE, "--docker-host", proxy.url, "--api-timeout", "2", report_dir=tmp_path)
    assert run.wall_s < 30, run.wall_s
    assert run.exit_code == 1
    entry = run.entries("docker.disconnected.container-exists")[0]
    assert entry["outcome"] == "not-evaluable" and "timed out" in entry["summary"], entry
    assert run.outcome("docker.runner.socket-mounted") == "not-evaluable"
    assert_report_written(run)


@pytest.mark.reliability(fault='runner container removed between listing and inspecting', sees="the engine's 404 means gone: `container-exists` failed, dependents blocked; exit 1")
def test_runner_removed_between_listing_and_inspecting(tmp_path, proxy):
    def remove_runner(_):
        lab.client().containers.get("blink-runner").remove(force=True)

    proxy.rules.append(Rule(r"GET /v[\d.]+/containers/\w+/json", before=remove_runner))
    try:
        run = run_checks(*BASE, "--docker-host", proxy.url, report_dir=tmp_path)
    finally:
        lab.up("healthy")
    # It is gone: the honest answer is "no runner container", from the engine's own 404.
    assert run.outcome("docker.disconnected.container-exists") == "failed"
    assert run.exit_code == 1
    assert_report_written(run)


@pytest.mark.reliability(fault='Docker socket permission denied (user without the docker group)', sees='not-evaluable "permission denied on the Docker socket … (run as root or join the docker group)"; exit 1; report written')
def test_socket_permission_denied_for_a_user_without_docker_group(tmp_path):
    run = run_checks_as("nobody", *BASE, "--docker-host", "unix:///var/run/docker.sock")
    assert run.exit_code == 1, run.stdout[-2000:] + run.stderr[-2000:]
    entry = run.entries("docker.host.daemon-reachable")[0]
    assert entry["outcome"] == "not-evaluable"
    assert "permission denied" in entry["summary"].lower()
    assert_report_written(run)


@pytest.mark.reliability(fault='1 GB of runner logs, invalid UTF-8, 2 MB lines', sees='read through the window (`--log-since`/`--log-tail`) in seconds, streamed in flat memory; bad bytes replaced, long lines cut; evidence capped; report < 5 MB')
def test_huge_logs_invalid_utf8_and_long_lines_are_bounded(tmp_path):
    """A runner with ~1 GB of logs, invalid UTF-8 and 2 MB lines: read through the window, quickly."""
    dc = lab.client()
    script = (
        "printf 'bad utf8: \\377\\376 end\\n'; "
        "head -c 2097152 /dev/zero | tr '\\0' y; echo; "
        "yes 'dial tcp 172.30.251.1:18080: i/o timeout padding padding padding padding padding padding' "
        "| head -c 1073741824; echo done; sleep 3600"
    )
    c = dc.containers.run(lab.RUNNER_IMAGE, ["sh", "-c", script], name="blink-runner-biglogs", detach=True,
                          labels=lab.LABEL, network=lab.NETWORK)  # fmt: skip
    lab.wait_until("1 GB of logs written", lab.logs_contain(dc, c.id, "done"), deadline_s=600, every_s=2)
    run = run_checks(*BASE, "--probe", "off", report_dir=tmp_path)
    assert run.wall_s < 60, run.wall_s
    big = [e for e in run.entries("docker.disconnected.logs-readable") if "biglogs" in e["object"]]
    assert big and big[0]["outcome"] == "passed", big
    errors = [e for e in run.entries("docker.disconnected.no-network-errors") if "biglogs" in e["object"]]
    assert errors[0]["outcome"] == "failed"
    assert all(len(ev["text"]) < 20_000 for ev in errors[0]["evidence"])  # capped per check
    assert (tmp_path / "report.html").stat().st_size < 5_000_000
    assert_report_written(run)


@pytest.mark.reliability(
    fault="a log window of 1,000,000 lines (400 MB) whose newest line is a network error, `--log-since 24h --log-tail 1000000`",
    sees="the whole window is read (\"Read 1000000 log lines\"), the newest error is found: `no-network-errors` failed with its timeline; memory stays flat",
)
def test_wide_log_window_is_read_whole_and_the_newest_error_found(tmp_path):
    dc = lab.client()
    beat = "Connected to Blink controller at http://blink.example.invalid heartbeat " + "p" * 330
    script = f"yes '{beat}' | head -n 999999; echo 'dial tcp 10.0.0.1:443: i/o timeout'; sleep 3600"
    c = dc.containers.run(lab.RUNNER_IMAGE, ["sh", "-c", script], name="blink-runner-widelogs", detach=True,
                          labels=lab.LABEL, network=lab.NETWORK)  # fmt: skip
    # its newest line is the marker (a line on stderr after it can lag behind 400 MB of stdout)
    lab.wait_until("400 MB of logs written", lab.logs_contain(dc, c.id, "i/o timeout"), deadline_s=600, every_s=2)
    run = run_checks(*BASE, "--probe", "off", "--log-since", "24h", "--log-tail", "1000000", report_dir=tmp_path,
                     timeout=600)  # fmt: skip
    [readable] = [e for e in run.entries("docker.disconnected.logs-readable") if "widelogs" in e["object"]]
    assert readable["outcome"] == "passed" and "Read 1000000 log lines" in readable["summary"], readable
    [errors] = [e for e in run.entries("docker.disconnected.no-network-errors") if "widelogs" in e["object"]]
    assert errors["outcome"] == "failed", errors["summary"]
    timeline = errors["details"]["timeline"]
    assert timeline["errors"] == 1 and timeline["errors_continue"] is True and timeline["last_success_at"]
    assert errors["details"]["lines_read"] == 1_000_000 and errors["details"]["window_read_whole"] is True
    assert_report_written(run)


@pytest.mark.reliability(
    fault="a log stream that drips one byte every 2 s (each read answers within `--api-timeout`)",
    sees="the read ends at `--log-timeout`: logs-readable warning, no-network-errors not-evaluable (\"read only in part\"), never passed; the run stays bounded",
)
def test_dripping_log_stream_is_bounded_by_the_log_timeout(tmp_path, proxy):
    proxy.rules.append(Rule(r"GET /v[\d.]+/containers/\w+/logs", drip_s=2))
    run = run_checks(*BASE, "--docker-host", proxy.url, "--probe", "off", "--log-timeout", "5s", report_dir=tmp_path)
    assert run.wall_s < 30, run.wall_s
    assert run.exit_code == 1
    assert run.outcome("docker.disconnected.logs-readable") == "warning"
    net = run.entries("docker.disconnected.no-network-errors")[0]
    assert net["outcome"] == "not-evaluable" and "read only in part" in net["summary"], net["summary"]
    assert "within 5s (--log-timeout)" in net["summary"]
    assert_report_written(run)


@pytest.mark.reliability(
    fault="`--deadline` passes mid-run",
    sees="the running check and every later one not-evaluable (\"--deadline (2s) passed\"); exit 1; partial report written",
)
def test_deadline_ends_the_run_with_a_partial_report(tmp_path):
    lab.up("egress-blocked")  # the probe waits for a dropped connection: a check that takes a while
    try:
        run = run_checks(*BASE, "--probe-timeout", "8", "--deadline", "2s", report_dir=tmp_path)
    finally:
        lab.up("healthy")
    assert run.wall_s < 20, run.wall_s
    assert run.exit_code == 1
    assert run.outcome("docker.host.daemon-reachable") == "passed"
    late = run.entries("docker.runner.socket-mounted")[0]
    assert late["outcome"] == "not-evaluable" and "--deadline (2s) passed" in late["summary"]
    probe = run.entries("docker.disconnected.blink-reachable")[0]
    assert probe["outcome"] == "not-evaluable" and "deadline" in probe["summary"]
    assert not lab.client().containers.list(all=True, filters={"label": "blink-check=egress-probe"})
    assert not probe_processes(), "the namespace probe's child outlived the run"
    assert_report_written(run)


@pytest.mark.reliability(
    fault="SIGTERM from a CI runner (or Ctrl-C) mid-run",
    sees="pytest stops (exit 2); unfinished checks not-evaluable (\"the run was terminated\"); reports written; the probe's child process ended",
)
def test_sigterm_still_writes_reports(tmp_path):
    lab.up("egress-blocked")
    cmd = [sys.executable, "-m", "pytest", "checks/", "-q", "--report-dir", str(tmp_path), *BASE, "--probe-timeout", "8"]
    try:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Wait until the namespace probe runs (its child process): the run is inside its slowest check.
        lab.wait_until("the probe running", lambda: bool(probe_processes(proc.pid)), deadline_s=30, every_s=0.1)
        proc.terminate()
        out, err = proc.communicate(timeout=60)
    finally:
        lab.up("healthy")
    run = CheckRun(proc.returncode, out, err, tmp_path, 0.0)
    assert run.exit_code == 2, out[-2000:] + err[-2000:]
    assert run.results["exit_code"] == 2
    entry = run.entries("docker.runner.socket-mounted")[0]
    assert entry["outcome"] == "not-evaluable" and "terminated" in entry["summary"]
    assert (tmp_path / "report.html").exists() and (tmp_path / "junit.xml").exists()
    assert not lab.client().containers.list(all=True, filters={"label": "blink-check=egress-probe"})
    assert not probe_processes(), "the namespace probe's child outlived the run"


def test_logs_unreadable_with_logging_driver_none_fails_with_remedy(tmp_path):
    """Runbook step 2 failing for real: the engine refuses `docker logs` for a container with driver none."""
    from docker.types import LogConfig

    dc = lab.client()
    c = dc.containers.create(lab.RUNNER_IMAGE, name="blink-runner-nolog", log_config=LogConfig(type="none"),
                             **lab.runner_kwargs())  # fmt: skip
    c.start()
    try:
        run = run_checks(*BASE, "--probe", "off", report_dir=tmp_path)
    finally:
        c.remove(force=True)
    entry = next(e for e in run.entries("docker.disconnected.logs-readable") if "nolog" in e["object"])
    assert entry["outcome"] == "failed", entry
    assert "logging driver" in entry["remediation"] and f"docker logs {c.id[:12]}" in entry["remediation"]
    assert "docker logs" in run.html
    assert run.exit_code == 1
