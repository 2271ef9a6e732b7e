"""`pytest checks/ --targets FILE` in whole runs that need no lab: engines that are not there (a socket path where
nothing is, a loopback port that refuses, one that accepts and never answers). What a user sees: a bad file or a
combination that makes no sense is one line and exit 4; targets run in parallel, each bounded; with --history and
--notify each target keeps its own history and sends its own message; the webhook's key reaches no report."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.harness import ROOT, run_checks
from tests.webhook import receiver, tcp_server

SCHEMA = json.loads((ROOT / "blinkcheck" / "results.schema.json").read_text())


def targets_file(tmp_path: Path, *entries: dict[str, object]) -> str:
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump({"targets": list(entries)}, sort_keys=False))
    return str(path)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


NO_SOCKET: dict[str, object] = {"name": "no-socket", "target": "docker", "docker-host": "unix:///nonexistent/docker.sock"}


@pytest.mark.parametrize(
    ("entries", "args", "message"),
    [
        ([{"name": "a", "target": "kubernetes", "namespace": ["x", "y"]}], [],
         "target 'a' (entry 1): namespace: must be a single value, not list"),
        ([NO_SOCKET, {"name": "b", "target": "docker", "runner-name": "bad name"}], [],
         "target 'b' (entry 2): runner-name: 'bad name' is not a container/deployment name"),
        ([NO_SOCKET], ["--remediate"], "--remediate acts on one target after looking at it"),
        ([NO_SOCKET], ["--metrics", "{tmp}/m.prom"], "--metrics: not with --targets"),
        ([NO_SOCKET], ["--from-packet", "{tmp}/p.tar.gz"], "--from-packet re-judges one recorded run"),
        ([NO_SOCKET], ["--targets-parallel", "0"], "--targets-parallel: '0' is out of range"),
        ([NO_SOCKET], ["--notify", "http://127.0.0.1:9/x"], "--notify: needs --history DIR"),
    ],
)  # fmt: skip
def test_a_bad_targets_file_or_combination_is_one_line_and_exit_4(tmp_path, entries, args, message):
    run = run_checks("--targets", targets_file(tmp_path, *entries), *[a.replace("{tmp}", str(tmp_path)) for a in args],
                     report_dir=tmp_path / "r")  # fmt: skip
    assert run.exit_code == 4, run.stdout + run.stderr
    errors = [line for line in (run.stdout + run.stderr).splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1 and message in errors[0], run.stdout + run.stderr
    assert not (tmp_path / "r" / "targets").exists() or not any((tmp_path / "r" / "targets").iterdir())


def test_targets_run_in_parallel_each_bounded_each_with_its_history_and_message(tmp_path: Path):
    """Three targets that cannot be looked at, three ways: a socket path where nothing is, a port that refuses, an
    engine that accepts and never answers (its run ends at its own deadline, with a partial report). Run in
    parallel: the run takes about as long as the slowest, not the sum."""
    with receiver() as rec, tcp_server("127.0.0.1", lambda conn: None) as silent:
        entries: list[dict[str, object]] = [
            NO_SOCKET,
            {"name": "refused", "target": "docker", "docker-host": f"tcp://127.0.0.1:{closed_port()}"},
            {"name": "silent", "target": "docker", "docker-host": f"tcp://127.0.0.1:{silent}", "api-timeout": 30,
             "deadline": "4s"},
        ]  # fmt: skip
        run = run_checks("--targets", targets_file(tmp_path, *entries), "--history", str(tmp_path / "h"),
                         "--notify", rec.url, report_dir=tmp_path / "r", timeout=120)  # fmt: skip
    out = run.stdout + run.stderr
    assert run.exit_code == 1, out[-3000:]
    data = run.results
    jsonschema.validate(data, SCHEMA)
    groups = {g["name"]: g for g in data["targets"]}
    assert [(n, g["status"], g["exit_code"]) for n, g in groups.items()] == [
        ("no-socket", "could not look", 1), ("refused", "could not look", 1), ("silent", "could not look", 1)], out
    assert "Connection refused" in groups["refused"]["why"], groups["refused"]["why"]
    assert "deadline" in json.dumps(groups["silent"]["checks"]), groups["silent"]  # ended by its own --deadline
    assert not groups["silent"]["timed_out"] and groups["silent"]["duration_s"] < 20
    # parallel: the wall time is near the slowest target's, well under the sum
    durations = [g["duration_s"] for g in groups.values()]
    assert run.wall_s < sum(durations), (run.wall_s, durations)
    # each target's own history folder and its own message; the webhook's key in no file of the run
    for name in groups:
        assert len(list((tmp_path / "h" / name).glob("results-*.json"))) == 1, name
    assert sorted(m["text"].count("new failure") > 0 for m in rec.messages) == [True, True, True], rec.messages
    assert {n for n in groups if any(f"targets/{n}/report.html" in m["text"] for m in rec.messages)} == set(groups)
    # each message names its target as the targets file does
    heads = sorted(m["text"].splitlines()[0] for m in rec.messages)
    assert heads[0] == f":red_circle: Blink runner checks on target no-socket: docker ({NO_SOCKET['docker-host']}): " \
        "new failure", heads  # fmt: skip
    assert [h.split(" on ", 1)[1].split(" (")[0] for h in heads[1:]] == ["target refused: docker",
                                                                         "target silent: docker"], heads
    key = rec.url.split("/services/", 1)[1].encode()
    for path in (tmp_path / "r").rglob("*"):
        if path.is_file():
            assert key not in path.read_bytes(), path
    assert key.decode() not in out
    print("verdict lines:", [line for line in run.stdout.splitlines() if line.startswith("blink-checks")])
    print(f"wall {run.wall_s:.1f} s; per target {durations}")


def test_sigterm_ends_every_targets_run_with_its_reports_and_then_the_combined_ones(tmp_path: Path):
    """A CI's SIGTERM to the parent: each target's run ends as one run would (exit 2, its partial report), then the
    combined reports are written, saying so; the run's exit code is 2."""
    import os
    import signal
    import subprocess
    import sys
    import time

    with tcp_server("127.0.0.1", lambda conn: None) as silent:
        entries: list[dict[str, object]] = [
            {"name": "silent", "target": "docker", "docker-host": f"tcp://127.0.0.1:{silent}", "api-timeout": 60},
            {"name": "refused", "target": "docker", "docker-host": f"tcp://127.0.0.1:{closed_port()}"},
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
        proc = subprocess.Popen([sys.executable, "-m", "pytest", "checks/", "-q", "-p", "no:randomly", "--targets",
                                 targets_file(tmp_path, *entries), "--report-dir", str(tmp_path / "r")], cwd=ROOT,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not (tmp_path / "r" / "targets" / "refused" / "results.json").exists():  # the quick one is done
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.2)
            time.sleep(1)
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=60)
        finally:
            proc.kill()
    assert proc.returncode == 2, out[-3000:]
    data = json.loads((tmp_path / "r" / "results.json").read_text())
    assert [(g["name"], g["status"], g["exit_code"]) for g in data["targets"]] == [
        ("silent", "interrupted", 2), ("refused", "could not look", 1)], out[-3000:]  # fmt: skip
    assert data["exit_code"] == 2 and "blink-checks: 2 targets: 1 interrupted, 1 could not look (exit 2)" in out
    assert (tmp_path / "r" / "targets" / "silent" / "report.html").is_file()
