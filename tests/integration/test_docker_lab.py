"""The Docker lab itself, seen from the host with testinfra: what `up` makes, `down` removes."""

from __future__ import annotations

import pytest
import testinfra

from lab.docker import scenarios as lab
from tests.harness import ROOT, run_checks

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


def test_shared_standin_is_restarted_when_started_with_another_configuration(host):
    """An older caller's stand-in (plain HTTP only, no recorded configuration) is replaced by one with the
    current configuration (HTTPS with the lab CA, the inspecting listener, the lab DNS); a current one is kept."""
    import subprocess
    import sys

    lab.up("no-runner")
    lab.stop_standin()
    older = subprocess.Popen([sys.executable, "-m", "lab.standin", "--listen", f"{lab.GATEWAY}:{lab.STANDIN_PORT}"],
                             cwd=ROOT, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        lab._standin_pidfile().write_text(str(older.pid))  # what older code records: the pid only
        lab.wait_until("the older stand-in answering", lab._standin_answers, 15)
        assert lab.standin_running() and not lab.standin_running(lab.standin_args())
        lab.start_standin()
        older.wait(timeout=15)  # it was stopped
        pid = int(lab._standin_pidfile().read_text())
        assert pid != older.pid and lab.standin_running(lab.standin_args())
        for port in (lab.STANDIN_PORT, lab.TLS_PORT, lab.INSPECT_PORT):
            assert host.socket(f"tcp://{lab.GATEWAY}:{port}").is_listening, port
        assert host.socket(f"udp://{lab.GATEWAY}:53").is_listening
        lab.start_standin()  # same configuration: kept
        assert int(lab._standin_pidfile().read_text()) == pid
    finally:
        if older.poll() is None:
            older.kill()
        lab.down()
