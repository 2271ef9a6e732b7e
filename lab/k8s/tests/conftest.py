"""Fixtures for the lab cluster's own tests (marker `k8s_lab`).

The `k8s_lab` session fixture brings the lab up (building the binaries on first use, reusing a
running lab) and leaves teardown to the caller: `python3 -m lab.k8s down` (CI does it always).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from lab.k8s.cluster import LabError, is_up, up
from lab.k8s.settings import Settings


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "k8s_lab: needs the real Kubernetes lab cluster (python3 -m lab.k8s up; root, containerd)")


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "the Kubernetes lab needs root"
    for tool in ("containerd", "runc", "ctr", "iptables"):
        if not shutil.which(tool):
            return f"{tool} is not installed (apt-get install containerd runc iptables containernetworking-plugins)"
    if not os.path.exists("/usr/lib/cni/bridge"):
        return "CNI plugins missing (apt-get install containernetworking-plugins)"
    return None


@pytest.fixture(scope="session")
def lab_settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def k8s_lab(lab_settings) -> Settings:
    """A running lab cluster (brought up if needed; never torn down here)."""
    reason = _missing()
    if reason and os.environ.get("BLINK_LAB_K8S_UP") == "1":
        pytest.fail(f"the lab cluster should be up (scripts/test.sh started it): {reason}")
    if reason:
        pytest.skip(reason)
    if not is_up(lab_settings):
        try:
            up(lab_settings)
        except LabError as e:
            pytest.fail(f"python3 -m lab.k8s up failed: {e}")
    return lab_settings


@pytest.fixture()
def kubectl(k8s_lab):
    def run(*args: str, check: bool = True, timeout: float = 60, as_json: bool = False):
        cmd = [str(k8s_lab.kubectl), f"--kubeconfig={k8s_lab.admin_kubeconfig}", *args]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check:
            assert r.returncode == 0, f"{' '.join(args)} failed: {r.stdout}{r.stderr}"
        return json.loads(r.stdout) if as_json else r
    return run
