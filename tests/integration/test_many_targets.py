"""`pytest checks/ --targets FILE` as a user runs it (README "Many targets"): the Docker lab with a broken runner, the
lab cluster and a Docker host where nothing listens, in one run: one report grouped by target, each target's own
outcomes, the unreachable one "could not look" while the others finish, the exit code the worst of the three."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from lab.docker import scenarios as docker_lab
from tests.harness import ROOT, run_checks
from tests.integration.k8s_lab import NS, apply

pytestmark = [pytest.mark.docker_lab, pytest.mark.k8s_lab]

SCHEMA = ROOT / "blinkcheck" / "results.schema.json"


@pytest.fixture(scope="module", autouse=True)
def docker_lab_down_after():
    yield
    docker_lab.down()


def closed_port() -> int:
    """A loopback port where nothing listens (bound, then closed: connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def targets_file(tmp_path: Path, cluster: Any, dead_port: int) -> Path:
    entries = [
        {"name": "lab-docker", "target": "docker", "blink-url": docker_lab.BLINK_URL, "probe-timeout": 4},
        {"name": "lab-k8s", "target": "kubernetes", "kubeconfig": str(cluster.admin_kubeconfig), "namespace": NS,
         "blink-url": cluster.standin_url, "operator-wait": "10s", "probe-timeout": 4},
        {"name": "gone", "target": "docker", "docker-host": f"tcp://127.0.0.1:{dead_port}", "api-timeout": 3},
    ]  # fmt: skip
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump({"targets": entries}, sort_keys=False))
    return path


def test_three_targets_one_report_grouped_by_target(lab: Any, tmp_path: Path):
    docker_lab.up("runner-exited")
    apply(lab, "crashloop")
    report_dir = tmp_path / "reports"
    run = run_checks("--targets", str(targets_file(tmp_path, lab, closed_port())), report_dir=report_dir, timeout=240)
    out = run.stdout
    assert run.exit_code == 1, out[-3000:]
    data = run.results
    jsonschema.validate(data, yaml.safe_load(SCHEMA.read_text()))
    groups = {g["name"]: g for g in data["targets"]}
    assert list(groups) == ["lab-docker", "lab-k8s", "gone"]  # the file's order

    def outcome(target: str, cid: str) -> set[str]:
        return {c["outcome"] for c in groups[target]["checks"] if c["id"] == cid}

    # the Docker lab: its exited runner container, with the runbook's restart remedy
    docker = groups["lab-docker"]
    assert docker["status"] == "problem found" and docker["exit_code"] == 1, docker["why"]
    assert outcome("lab-docker", "docker.disconnected.container-running") == {"failed"}
    assert docker["why"].startswith("Runner Disconnected: "), docker["why"]
    assert {c["runbook"]["platform"] for c in docker["checks"]} == {"docker"}
    # the lab cluster: its crash-looping runner pod
    k8s = groups["lab-k8s"]
    assert k8s["status"] == "problem found" and k8s["exit_code"] == 1, k8s["why"]
    assert outcome("lab-k8s", "k8s.cluster.api-reachable") == {"passed"}
    assert outcome("lab-k8s", "k8s.disconnected.pods-ready") == {"failed"}
    assert {c["runbook"]["platform"] for c in k8s["checks"]} == {"kubernetes"}
    # the host where nothing listens: could not look, and says why; the others finished all the same
    gone = groups["gone"]
    assert gone["status"] == "could not look" and gone["exit_code"] == 1, gone
    assert outcome("gone", "docker.host.daemon-reachable") == {"not-evaluable"}
    assert "Could not reach the Docker engine" in gone["why"] and "Connection refused" in gone["why"], gone["why"]
    assert "passed" not in {c["outcome"] for c in gone["checks"]}
    # each target's own reports, linked from the one report
    for name, g in groups.items():
        assert (report_dir / "targets" / name / "report.html").is_file()
        assert g["report"] == f"targets/{name}/report.html"
    html = run.html
    for name in groups:
        assert f'id="target-{name}"' in html and f'href="targets/{name}/report.html"' in html
    assert "docker container restart" in html  # the Docker group's remedy, filled
    assert re.search(r"gone</a> \(docker\): could not look: docker\.host\.daemon-reachable: Could not reach", html)
    # the counts are the groups' sum; the exit code the worst of theirs
    assert sum(data["counts"].values()) == sum(len(g["checks"]) for g in groups.values())
    # the terminal: progress per target as each finishes, then one verdict line per target
    assert len(re.findall(r"^blink-checks target (lab-docker|lab-k8s|gone): ", out, re.M)) == 3, out
    verdicts = re.findall(r"^blink-checks verdict: (\S+) \((\w+)\): ([a-z ]+)", out, re.M)
    assert verdicts == [("lab-docker", "docker", "problem found"), ("lab-k8s", "kubernetes", "problem found"),
                        ("gone", "docker", "could not look")], out  # fmt: skip
    assert "blink-checks: 3 targets: 2 problem found, 1 could not look (exit 1)" in out, out
    # junit.xml: one suite per target
    junit = (report_dir / "junit.xml").read_text()
    assert all(f'<testsuite name="{name}"' in junit for name in groups), junit[:500]
    # secrets: the Docker runner's API key is in no file of the run
    for path in report_dir.rglob("*"):
        if path.is_file():
            assert docker_lab.LAB_API_KEY.encode() not in path.read_bytes(), path
    print("verdict lines:", [line for line in out.splitlines() if line.startswith("blink-checks")])
    print(f"wall {run.wall_s:.1f} s; per target:", {n: g["duration_s"] for n, g in groups.items()})
