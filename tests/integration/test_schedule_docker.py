"""The suite's image on a Docker host, run the way deploy/docker runs it: blink-checks.service's ExecStart (the
unit file parsed, its Environment= applied) against the Docker lab, as the image's non-root user with the socket
mounted read-only. The image is built by the README's one command, scripts/build-image.sh."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from lab.docker import scenarios as lab
from tests.deploy_files import DEPLOY, build_image, cron_entries, installed, parse_unit

pytestmark = pytest.mark.docker_lab

UNIT = DEPLOY / "docker" / "blink-checks.service"


@pytest.fixture(scope="module")
def image() -> str:
    build = build_image()
    print(f"scripts/build-image.sh: {build.wall_s:.1f} s")
    return build.image


@pytest.fixture(scope="module", autouse=True)
def lab_down_after():
    yield
    lab.down()


def run_unit(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The unit's ExecStart with its Environment= (as systemd runs it), the reports in a folder of the test."""
    unit = parse_unit(UNIT)
    command = installed(unit.exec_start())
    full_env = {**{k: v for k, v in os.environ.items() if not k.startswith("BLINK_")}, **unit.environment(),
                "BLINK_CHECKS_REPORTS": str(tmp_path / "reports"), "BLINK_URL": lab.BLINK_URL,
                # Blink's readiness, asked by the suite itself from its container: the stand-in's plain port (the
                # image does not trust the lab's CA; a real Blink has a public certificate)
                "BLINK_API_URL": lab.HTTP_URL,
                "BLINK_CHECKS_NAME": "blink-checks-test", **env}  # fmt: skip
    return subprocess.run(command, env=full_env, capture_output=True, text=True, timeout=300)


def test_the_image_is_non_root_and_runs_pytest_checks(image: str):
    cfg = json.loads(subprocess.run(["docker", "image", "inspect", image], capture_output=True, text=True,
                                    check=True, timeout=30).stdout)[0]["Config"]  # fmt: skip
    assert cfg["User"] == "10001:10001"
    assert cfg["Entrypoint"] == ["/opt/blinkcheck/entrypoint.sh"]
    # the entrypoint is `pytest checks/`: --collect-only lists the checks, nothing contacted
    r = subprocess.run(["docker", "run", "--rm", "--network", "none", image, "--collect-only"],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert "checks/docker/test_disconnected.py::test_runner_container_running" in r.stdout


def test_unit_command_finds_a_broken_runner_then_a_healthy_one(image: str, tmp_path: Path):
    unit = parse_unit(UNIT)
    assert unit.get("Service", "Type") == ["oneshot"]
    # the cron line runs the same command
    [(schedule, user, command)] = cron_entries(DEPLOY / "docker" / "blink-checks.cron")
    assert unit.exec_start()[0] in command and user == "root" and schedule == "*/15 * * * *", command

    lab.up("runner-exited")
    broken = run_unit(tmp_path / "broken")
    out = broken.stdout + broken.stderr
    assert broken.returncode == 1, out[-3000:]  # the unit fails exactly when the run fails
    assert "blink-checks verdict: Runner Disconnected: " in out, out[-3000:]
    assert "(exit 1) — report: /reports/report.html" in out, out[-3000:]
    reports = tmp_path / "broken" / "reports"
    results = json.loads((reports / "results.json").read_text())
    outcome = {c["id"]: c["outcome"] for c in results["checks"]}
    assert outcome["docker.disconnected.container-running"] == "failed", outcome
    assert outcome["docker.host.daemon-reachable"] == "passed", outcome
    assert {p.name for p in reports.iterdir()} >= {"report.html", "results.json", "junit.xml"}
    assert (reports / "results.json").stat().st_uid == 10001  # written by the image's user, not root
    assert "History (/reports/history): the first run kept there" in out, out[-3000:]
    assert len(list((reports / "history").glob("results-*.json"))) == 1

    lab.up("healthy")
    healthy = run_unit(tmp_path / "healthy")
    assert healthy.returncode == 0, (healthy.stdout + healthy.stderr)[-3000:]
    assert "blink-checks verdict: Runner Disconnected: " in healthy.stdout, healthy.stdout[-3000:]


def test_history_notify_and_metrics_see_a_failure_then_its_recovery(tmp_path: Path):
    """The issue's "done when" on the Docker lab: a failure, the same failure again, then fixed: one message for
    the new failure, none for the repeat, one for the recovery, which names what cleared."""
    from prometheus_client.parser import text_string_to_metric_families

    from tests.harness import run_checks
    from tests.webhook import receiver

    opts = ("--target", "docker", "--blink-url", lab.BLINK_URL, "--probe", "off",
            "--history", str(tmp_path / "history"), "--metrics", str(tmp_path / "blink.prom"))  # fmt: skip
    runs = []
    with receiver() as rec:
        for n, scenario in enumerate(["runner-exited", "runner-exited", "healthy"]):
            lab.up(scenario)
            runs.append(run_checks(*opts, "--notify", rec.url, report_dir=tmp_path / f"r{n}"))
    broken, again, fixed = runs
    assert [r.exit_code for r in runs] == [1, 1, 0], [r.stdout[-1500:] for r in runs]
    assert len(rec.messages) == 2, rec.messages
    failure, recovery = (m["text"] for m in rec.messages)
    assert "new failure" in failure and "docker.disconnected.container-running" in failure
    assert "docker container restart" in failure  # the top remedy
    assert lab.LAB_API_KEY not in failure + recovery
    assert "recovered" in recovery and "Cleared: docker.disconnected.container-running" in recovery
    assert fixed.results["history"]["cleared"] == ["docker.disconnected.container-running"]
    assert "cleared: docker.disconnected.container-running" in fixed.stdout
    assert broken.results["history"]["previous_run"] is None and again.results["history"]["failing"][0]["runs"] == 2
    families = {f.name: f for f in text_string_to_metric_families((tmp_path / "blink.prom").read_text())}
    assert families["blink_checks_run_exit_code"].samples[0].value == 0
    assert families["blink_checks_last_success_timestamp_seconds"].samples[0].value > 0
    print("verdict lines:", [line for r in runs for line in r.stdout.splitlines() if line.startswith("blink-checks")])
