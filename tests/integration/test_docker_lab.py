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


def test_target_auto_picks_what_answers(tmp_path):
    lab.up("healthy")
    empty_kubeconfig = tmp_path / "kubeconfig"
    empty_kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    try:
        run = run_checks("--target", "auto", "--blink-url", lab.BLINK_URL, "--probe-image", lab.PROBE_IMAGE,
                         "--kubeconfig", str(empty_kubeconfig), report_dir=tmp_path / "r")  # fmt: skip
    finally:
        lab.down()
    assert run.results["target"]["platforms"] == ["docker"], run.results["target"]
    assert {c["runbook"]["platform"] for c in run.results["checks"]} == {"docker"}
    assert run.exit_code == 0, run.stdout[-2000:]
