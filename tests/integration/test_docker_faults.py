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
from tests.harness import ROOT, CheckRun, probe_processes, run_checks, run_checks_as, temporary_user
from tests.reliability import Sees
from tests.scenario_table import DOCKER

pytestmark = pytest.mark.docker_lab

BASE = ["--target", "docker", "--blink-url", lab.BLINK_URL, "--probe-timeout", "4"]
P, F, W, B, S, N = "passed", "failed", "warning", "blocked", "skipped", "not-evaluable"
DAEMON = "docker.host.daemon-reachable"
EXISTS = "docker.disconnected.container-exists"
RUNNING = "docker.disconnected.container-running"
LOGS = "docker.disconnected.logs-readable"
NET = "docker.disconnected.no-network-errors"
REACH = "docker.disconnected.blink-reachable"
INDICATORS = "docker.upgrade.indicators"
UPGRADED = "docker.upgrade.new-container-healthy"
SOCKET = "docker.runner.socket-mounted"
# Blink's own view, without a key: Blink's readiness does not need the engine (asked from the suite's host), the
# runner group is not asked (a user's choice); the checks of this host's runners follow container-exists.
READY, SEEN, GROUP, VERSION = "docker.blink.ready", "docker.blink.sees-runner", "docker.blink.group-available", \
    "docker.blink.version"  # fmt: skip
BLINK_NO_KEY = {READY: "passed", GROUP: "skipped"}


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
    assert ids == set(DOCKER.columns), ids  # every Docker condition has a result, none silently missing


@pytest.mark.reliability(
    "Docker daemon absent: no socket at the address (`--docker-host unix:///…/no-such.sock`)",
    Sees(exit=1, within_s=20, outcomes={DAEMON: N}, says={DAEMON: "no Docker socket at"}, others=N, naming=DAEMON,
         report=True),
)
def test_daemon_absent_socket_missing(tmp_path, sees):
    run = run_checks(*BASE, "--docker-host", f"unix://{tmp_path}/no-such.sock", report_dir=tmp_path / "r")
    sees(run)
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


@pytest.mark.reliability(
    "`DOCKER_HOST=tcp://127.0.0.1:1` (pointing nowhere: nothing listens)",
    Sees(exit=1, within_s=20, outcomes={DAEMON: N}, says={DAEMON: "Could not reach the Docker engine at tcp://127.0.0.1:1"},
         others=N, naming=DAEMON, report=True),
)
def test_docker_host_env_pointing_nowhere(tmp_path, sees):
    run = run_checks(*BASE, report_dir=tmp_path, env={"DOCKER_HOST": "tcp://127.0.0.1:1"})
    sees(run)
    assert_report_written(run)


@pytest.mark.reliability(
    "the Docker API goes away in the middle of a run: when the logs are read, its socket stops accepting "
    "(connections refused, as from a stopped daemon)",
    Sees(exit=1, outcomes={DAEMON: P, EXISTS: P, RUNNING: P, SOCKET: P, **BLINK_NO_KEY, SEEN: S, VERSION: S},
         says={LOGS: "reading the logs of container blink-runner"}, others=N, report=True),
)
def test_daemon_stops_mid_run(tmp_path, proxy, sees):
    # The engine answers the first calls, then goes away when the logs are read.
    proxy.rules.append(Rule(r"GET /v[\d.]+/containers/\w+/logs", die=True))
    run = run_checks(*BASE, "--docker-host", proxy.url, report_dir=tmp_path)
    sees(run)
    assert_report_written(run)


@pytest.mark.reliability(
    "the Docker API goes away (connections refused) after the logs of one of two runner containers were read",
    Sees(exit=1, outcomes={LOGS: (P, N)}, says={LOGS: "after 1 object(s) were judged"}),
)
def test_check_that_could_not_look_at_every_object_is_not_passed(tmp_path, proxy, sees):
    lab.up("upgrade-healthy")  # two runner containers: blink-runner and blink-runner-1.0.995
    proxy.rules.append(Rule(r"GET /v[\d.]+/containers/\w+/logs", die=True, after=1))
    try:
        run = run_checks(*BASE, "--docker-host", proxy.url, report_dir=tmp_path)
    finally:
        lab.up("healthy")
    sees(run)


LIST = "the container list (`GET /containers/json`, answered 6 s late)"


@pytest.mark.reliability(
    "slow Docker API: the container list answers after `--api-timeout 2`",
    Sees(exit=1, within_s=30, outcomes={DAEMON: P, EXISTS: N, READY: P, GROUP: N}, says={EXISTS: "timed out"},
         took={EXISTS: 4},
         others=N, naming=EXISTS, calls={LIST: 1}, report=True),
)
def test_slow_api_times_out_bounded(tmp_path, proxy, sees):
    rule = Rule(r"GET /v[\d.]+/containers/json", delay_s=6)
    proxy.rules.append(rule)
    run = run_checks(*BASE, "--docker-host", proxy.url, "--api-timeout", "2", report_dir=tmp_path)
    sees(run, calls={LIST: rule.hits})  # asked once, not once per check
    assert_report_written(run)


@pytest.mark.reliability(
    "the runner container removed between listing and inspecting (the engine's inspect answers 404)",
    Sees(exit=1, outcomes={DAEMON: P, EXISTS: F, **BLINK_NO_KEY}, says={EXISTS: "No container named blink-runner*"},
         others=B,
         naming=EXISTS, report=True),
)
def test_runner_removed_between_listing_and_inspecting(tmp_path, proxy, sees):
    def remove_runner(_):
        lab.client().containers.get("blink-runner").remove(force=True)

    proxy.rules.append(Rule(r"GET /v[\d.]+/containers/\w+/json", before=remove_runner))
    try:
        run = run_checks(*BASE, "--docker-host", proxy.url, report_dir=tmp_path)
    finally:
        lab.up("healthy")
    # It is gone: the honest answer is "no runner container", from the engine's own 404.
    sees(run)
    assert_report_written(run)


@pytest.mark.reliability(
    "Docker socket permission denied: the suite run by a local user (made by the test) who is not root and not in the "
    "docker group",
    Sees(exit=1, outcomes={DAEMON: N},
         says={DAEMON: "permission denied on the Docker socket /var/run/docker.sock (run as root or join the docker group)"},
         others=N, naming=DAEMON, report=True),
)
def test_socket_permission_denied_for_a_user_without_docker_group(tmp_path, sees):
    with temporary_user() as user:
        groups = subprocess.run(["id", "-nG", user], capture_output=True, text=True, check=True).stdout.split()
        assert "docker" not in groups and "root" not in groups, groups
        run = run_checks_as(user, *BASE, "--docker-host", "unix:///var/run/docker.sock")
    sees(run)
    assert_report_written(run)


BAD_BYTES = "invalid UTF-8 shown as U+FFFD (`bad utf8: \ufffd\ufffd end`)"
LONG_LINE = "the 2 MB line shown cut at 4096 characters (`…[line cut]`)"
CAPPED = "every evidence item under 20 kB; report.html under 5 MB"


@pytest.mark.reliability(
    "1 GB of runner logs whose newest lines are network errors with invalid UTF-8 and a 2 MB line (default window: "
    "`--log-tail 2000`)",
    Sees(within_s=60, outcomes={LOGS: P, NET: F}, memory_mb=150, facts=(BAD_BYTES, LONG_LINE, CAPPED), report=True),
)
def test_huge_logs_invalid_utf8_and_long_lines_are_bounded(tmp_path, sees):
    """A runner with ~1 GB of logs, then invalid UTF-8 and a 2 MB line: read through the window, quickly."""
    lab.up("no-runner")
    dc = lab.client()
    script = (
        "yes 'dial tcp 172.30.251.1:18080: i/o timeout padding padding padding padding padding padding' "
        "| head -c 1073741824; echo; "
        "printf 'bad utf8: \\377\\376 end: dial tcp 172.30.251.1:18080: i/o timeout\\n'; "
        "printf 'dial tcp 172.30.251.1:18080: i/o timeout '; head -c 2097152 /dev/zero | tr '\\0' y; echo; "
        "echo done; sleep 3600"
    )
    c = dc.containers.run(lab.RUNNER_IMAGE, ["sh", "-c", script], name="blink-runner-biglogs", detach=True,
                          labels=lab.LABEL, network=lab.NETWORK)  # fmt: skip
    try:
        lab.wait_until("1 GB of logs written", lab.logs_contain(dc, c.id, "done"), deadline_s=600, every_s=2)
        run = run_checks(*BASE, "--probe", "off", report_dir=tmp_path)
    finally:
        lab.up("healthy")
    print(f"1 GB of logs: {run.wall_s:.1f} s, peak RSS {run.peak_rss_kb / 1024:.0f} MB")
    sees(run)
    [errors] = run.entries(NET)
    shown = "\n".join(ev["text"] for ev in errors["evidence"])
    sees.fact(BAD_BYTES, "bad utf8: \ufffd\ufffd end" in shown, shown[-3000:])
    cut = [line for line in shown.splitlines() if line.endswith("…[line cut]")]
    sees.fact(LONG_LINE, bool(cut) and all(len(line) < 4096 + 100 for line in cut), [len(x) for x in cut])
    sees.fact(CAPPED, all(len(ev["text"]) < 20_000 for e in run.results["checks"] for ev in e["evidence"])
              and (tmp_path / "report.html").stat().st_size < 5_000_000)
    assert_report_written(run)


NEWEST_ERROR = "the newest line's error is found: a timeline of 1 error, going on to the end of the window"


@pytest.mark.reliability(
    "a log window of 1,000,000 lines (400 MB) whose newest line is a network error, `--log-since 24h --log-tail 1000000`",
    Sees(outcomes={LOGS: P, NET: F}, says={LOGS: "Read 1000000 log lines"}, memory_mb=150, facts=(NEWEST_ERROR,),
         report=True),
)
def test_wide_log_window_is_read_whole_and_the_newest_error_found(tmp_path, sees):
    lab.up("no-runner")
    dc = lab.client()
    beat = "Connected to Blink controller at http://blink.example.invalid heartbeat " + "p" * 330
    script = f"yes '{beat}' | head -n 999999; echo 'dial tcp 10.0.0.1:443: i/o timeout'; sleep 3600"
    c = dc.containers.run(lab.RUNNER_IMAGE, ["sh", "-c", script], name="blink-runner-widelogs", detach=True,
                          labels=lab.LABEL, network=lab.NETWORK)  # fmt: skip
    try:
        # its newest line is the marker (a line on stderr after it can lag behind 400 MB of stdout)
        lab.wait_until("400 MB of logs written", lab.logs_contain(dc, c.id, "i/o timeout"), deadline_s=600, every_s=2)
        run = run_checks(*BASE, "--probe", "off", "--log-since", "24h", "--log-tail", "1000000", report_dir=tmp_path,
                         timeout=600)  # fmt: skip
    finally:
        lab.up("healthy")
    print(f"1,000,000 lines: {run.wall_s:.1f} s, peak RSS {run.peak_rss_kb / 1024:.0f} MB")
    sees(run)
    [errors] = run.entries(NET)
    timeline = errors["details"]["timeline"]
    sees.fact(NEWEST_ERROR, timeline["errors"] == 1 and timeline["errors_continue"] is True
              and bool(timeline["last_success_at"]) and errors["details"]["lines_read"] == 1_000_000
              and errors["details"]["window_read_whole"] is True, errors["details"])  # fmt: skip
    assert_report_written(run)


@pytest.mark.reliability(
    "a log stream that drips one byte every 2 s (each read answers within `--api-timeout`), `--log-timeout 5s`",
    Sees(exit=1, within_s=30, outcomes={LOGS: W, NET: N, INDICATORS: N},
         says={LOGS: "not to the newest line", NET: ("read only in part", "within 5s (--log-timeout)")}, report=True),
)
def test_dripping_log_stream_is_bounded_by_the_log_timeout(tmp_path, proxy, sees):
    proxy.rules.append(Rule(r"GET /v[\d.]+/containers/\w+/logs", drip_s=2))
    run = run_checks(*BASE, "--docker-host", proxy.url, "--probe", "off", "--log-timeout", "5s", report_dir=tmp_path)
    sees(run)
    assert_report_written(run)


NOTHING_LEFT = "no probe container and no probe process left"


@pytest.mark.reliability(
    "`--deadline 2s` passes while the egress probe waits on dropped packets (egress-blocked, `--probe-timeout 8`)",
    Sees(exit=1, within_s=20, outcomes={DAEMON: P, EXISTS: P, RUNNING: P, LOGS: P},
         says={NET: "deadline", SOCKET: "--deadline (2s) passed"}, others=N, facts=(NOTHING_LEFT,), report=True),
)
def test_deadline_ends_the_run_with_a_partial_report(tmp_path, sees):
    lab.up("egress-blocked")  # the probe waits for a dropped connection: a check that takes a while
    try:
        run = run_checks(*BASE, "--probe-timeout", "8", "--deadline", "2s", report_dir=tmp_path)
        sees.fact(NOTHING_LEFT, not lab.client().containers.list(all=True, filters={"label": "blink-check=egress-probe"})
                  and not probe_processes())  # fmt: skip
    finally:
        lab.up("healthy")
    sees(run)
    assert_report_written(run)


@pytest.mark.reliability(
    "SIGTERM from a CI runner (or Ctrl-C) while the egress probe runs",
    Sees(exit=2, outcomes={DAEMON: P, SOCKET: N}, says={SOCKET: "the run was terminated"}, facts=(NOTHING_LEFT,),
         report=True),
)
def test_sigterm_still_writes_reports(tmp_path, sees):
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
    sees(run)
    sees.fact(NOTHING_LEFT, not lab.client().containers.list(all=True, filters={"label": "blink-check=egress-probe"})
              and not probe_processes())  # fmt: skip

