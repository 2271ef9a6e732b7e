"""The Docker lab itself, seen from the host with testinfra: what `up` makes, `down` removes."""

from __future__ import annotations

import pytest
import testinfra

from lab.docker import scenarios as lab
from tests.harness import run_checks

pytestmark = pytest.mark.docker_lab


@pytest.fixture(scope="module")
def host():
    return testinfra.get_host("local://")


def test_egress_blocked_is_a_real_firewall_rule_and_down_removes_everything(host):
    lab.up("egress-blocked")
    runner_ip = lab.container_ip(lab.client(), "blink-runner")
    rules = host.iptables.rules("filter", "INPUT")
    assert any(runner_ip in r and "blink-lab" in r and "DROP" in r for r in rules), rules
    assert host.socket(f"tcp://{lab.GATEWAY}:{lab.STANDIN_PORT}").is_listening
    lab.down()
    assert not any("blink-lab" in r for r in host.iptables.rules("filter", "INPUT"))
    assert not host.socket(f"tcp://{lab.GATEWAY}:{lab.STANDIN_PORT}").is_listening
    assert not lab.client().containers.list(all=True, filters={"label": "blink-lab=1"})
    assert not lab.client().networks.list(filters={"label": "blink-lab=1"})


def test_target_auto_picks_what_is_there(tmp_path):
    lab.up("healthy")
    no_kube = {"KUBECONFIG": "", "HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": ""}
    broken = tmp_path / "kubeconfig"
    broken.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    args = ("--target", "auto", "--blink-url", lab.BLINK_URL)
    try:
        docker_only = run_checks(*args, report_dir=tmp_path / "a", env=no_kube)
        both = run_checks(*args, "--kubeconfig", str(broken), report_dir=tmp_path / "b", env=no_kube)
    finally:
        lab.down()
    assert docker_only.results["target"]["platforms"] == ["docker"], docker_only.results["target"]
    assert {c["runbook"]["platform"] for c in docker_only.results["checks"]} == {"docker"}
    assert docker_only.exit_code == 0, docker_only.stdout[-2000:]
    # A kubeconfig that is there but broken is not checked beside a Docker runner: it is noted, with why.
    assert both.results["target"]["platforms"] == ["docker"]
    [skipped] = both.results["target"]["skipped"]
    assert skipped["platform"] == "kubernetes" and skipped["why"].startswith("no usable kubeconfig ("), skipped
    assert both.exit_code == 0, both.stdout[-2000:]
