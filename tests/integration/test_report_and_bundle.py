"""What a support engineer and R&D get: the HTML report in a real browser, the escalation packet,
redaction with a leak search over every artifact byte, and report size at scale."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from blinkcheck.report.packet import archive_members
from lab.docker import scenarios as lab
from tests.harness import ROOT, run_checks
from tests.integration.browser import dump_dom, screenshot

pytestmark = pytest.mark.docker_lab

ARTIFACTS = ROOT / "reports" / "integration"
BASE = ["--target", "docker", "--blink-url", lab.BLINK_URL, "--probe-timeout", "4"]
# A second planted secret, printed by the runner itself into its logs.
LOGGED_SECRET = "logged-secret-77aa55cc33ee"


@pytest.fixture(scope="module", autouse=True)
def lab_down_after():
    yield
    lab.down()


def all_artifact_bytes(report_dir: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for path in report_dir.rglob("*"):
        if path.is_file():
            out[str(path)] = path.read_bytes()
            if path.name.endswith(".tar.gz"):
                out.update({f"{path}:{k}": v for k, v in archive_members(path).items()})
    return out


def test_secrets_never_reach_any_artifact_and_packet_is_complete(capfd):
    """Plant the API key in the runner's environment and in its own log lines; search every byte."""
    lab.up("upgrade-failed")
    dc = lab.client()
    # A leaky runner: its crash message quotes its key (runner env) — a real-world bad habit.
    dc.containers.run(
        lab.RUNNER_IMAGE, name="blink-runner-leaky", detach=True, labels=lab.LABEL, network=lab.NETWORK,
        environment={"BLINK_RUNNER_GROUP_API_KEY": LOGGED_SECRET,
                     "RUNNER_CRASH": f"registration refused for key {LOGGED_SECRET}: "
                                     f"Authorization: Bearer {LOGGED_SECRET}"},
    )  # fmt: skip
    lab.wait_until("the leaky runner exiting", lab.status_is(dc, "blink-runner-leaky", "exited"))
    report_dir = ARTIFACTS / "bundle"
    shutil.rmtree(report_dir, ignore_errors=True)
    run = run_checks(*BASE, "--bundle", "on", report_dir=report_dir)
    assert run.exit_code == 1, run.stdout[-3000:]
    blobs = all_artifact_bytes(report_dir)
    searched = 0
    for name, data in blobs.items():
        searched += 1
        for secret in (lab.LAB_API_KEY, LOGGED_SECRET):
            assert secret.encode() not in data, f"{secret[:8]}… leaked into {name}"
    assert lab.LAB_API_KEY not in run.stdout + run.stderr and LOGGED_SECRET not in run.stdout + run.stderr
    (ARTIFACTS / "leak-search.json").write_text(json.dumps({"artifacts_searched": searched, "hits": 0}) + "\n")
    # The redacted line is still there for R&D, with the key masked.
    assert b"registration refused for key [REDACTED]" in b"".join(blobs.values())

    bundles = list(report_dir.glob("escalation-*.tar.gz"))
    assert len(bundles) == 1
    members = {k.split("/", 1)[1]: v for k, v in archive_members(bundles[0]).items()}
    for expected in ("results.json", "report.html", "junit.xml", "steps.txt", "ticket.txt", "MANIFEST.txt",
                     "docker/versions.txt", "docker/blink-runner.log", "docker/blink-runner.inspect.json",
                     "docker/blink-runner-1.0.995.log", "docker/blink-runner-1.0.995.inspect.json"):  # fmt: skip
        assert expected in members, (expected, sorted(members))
    assert b"runner group not found" in members["docker/blink-runner-1.0.995.log"]
    assert b"BLINK_RUNNER_GROUP_API_KEY=[withheld]" in members["docker/blink-runner.inspect.json"]
    assert b"Runner Upgrade Failure / docker / step 3-4" in members["steps.txt"]
    assert b"docker.upgrade.new-container-healthy" in members["ticket.txt"]
    # The manifest lists exactly what is inside, and the terminal showed it before anything is sent.
    listed = {line.split()[-1] for line in members["MANIFEST.txt"].decode().splitlines()[1:] if line.strip()}
    assert listed == set(members) - {"MANIFEST.txt"}
    assert "Escalation packet contents" in run.stdout and "ticket.txt" in run.stdout


def test_bundle_on_failure_only_when_something_failed(tmp_path):
    lab.up("healthy")
    run = run_checks(*BASE, "--bundle", "on-failure", report_dir=tmp_path / "ok")
    assert run.exit_code == 0 and not list((tmp_path / "ok").glob("escalation-*"))
    lab.up("runner-exited")
    run = run_checks(*BASE, "--bundle", "on-failure", report_dir=tmp_path / "bad")
    assert run.exit_code == 1 and len(list((tmp_path / "bad").glob("escalation-*.tar.gz"))) == 1


def test_report_in_a_real_browser_offline():
    lab.up("egress-blocked")
    report_dir = ARTIFACTS / "browser"
    shutil.rmtree(report_dir, ignore_errors=True)
    run = run_checks(*BASE, report_dir=report_dir)
    assert run.exit_code == 1
    dom = dump_dom(report_dir / "report.html")
    # Rendered by the page's own script (pytest-html builds the table in the browser): it ran offline.
    assert "docker.disconnected.no-network-errors" in dom
    assert "Runbook remedy" in dom and "likely due to a firewall" in dom
    assert "Client.Timeout exceeded" in dom  # the evidence (matched log line)
    assert "Verdict" in dom and "Runner Disconnected: the runner cannot reach Blink" in dom
    shot = screenshot(report_dir / "report.html", ARTIFACTS / "report-screenshot.png")
    assert shot.exists() and shot.stat().st_size > 20_000


def test_report_stays_small_with_200_results_and_big_logs():
    lab.up("no-runner")
    dc = lab.client()
    line = "dial tcp 172.30.251.1:18080: i/o timeout " + "x" * 400
    for i in range(40):
        dc.containers.run(lab.RUNNER_IMAGE, ["sh", "-c", f"yes '{line}' | head -n 3000; sleep 3600"],
                          name=f"blink-runner-scale-{i:02d}", detach=True, labels=lab.LABEL)  # fmt: skip
    report_dir = ARTIFACTS / "scale"
    shutil.rmtree(report_dir, ignore_errors=True)
    run = run_checks(*BASE, "--probe", "off", report_dir=report_dir)
    results = run.results["checks"]
    assert len(results) >= 200, len(results)
    size = (report_dir / "report.html").stat().st_size
    (ARTIFACTS / "scale.json").write_text(json.dumps({"results": len(results), "report_bytes": size,
                                                      "wall_s": round(run.wall_s, 2)}) + "\n")  # fmt: skip
    assert size < 5_000_000, size
    capped = [e for r in results for e in r["evidence"] if e["truncated"]]
    assert capped and all("[truncated:" in e["text"] for e in capped)
