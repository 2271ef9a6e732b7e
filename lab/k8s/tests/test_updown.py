"""`up` then `down`, twice: the machine is left as it was (processes, bridge, iptables, mounts)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab.k8s import cluster
from lab.k8s.settings import REPO

pytestmark = pytest.mark.k8s_lab
HOST_PATHS: set[str] = set()  # the kubelet host paths that existed before the first `up` of the test


def lab(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lab.k8s", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def leftovers(s) -> list[str]:
    found = []
    procs = cluster.Procs(s)
    found += [f"process {c}" for c in cluster.COMPONENTS if procs.pid(c)]
    found += [f"shim {p}" for p in cluster.our_shims(s)]
    found += [f"pod process {p}" for p in cluster.pod_processes()]
    if cluster.bridge_exists(s):
        found.append(f"bridge {s.bridge}")
    found += [f"iptables {x}" for x in cluster.leftover_iptables()]
    found += [f"mount {m}" for m in cluster.our_mounts(s, set())]
    found += [f"netns {n}" for n in cluster.cni_netns()]
    if s.cni_ipam_dir.exists():
        found.append(str(s.cni_ipam_dir))
    if s.state.exists():
        found.append(str(s.state))
    found += [f"cgroup {c}" for c in cluster.kubepods_cgroups()]
    found += [f"host path {p}" for p in cluster.KUBELET_HOST_PATHS if os.path.lexists(p) and p not in HOST_PATHS]
    logs = Path("/var/log/containers")
    if logs.is_dir():
        found += [f"log link {x}" for x in logs.iterdir() if x.is_symlink() and str(s.state) in os.readlink(x)]
    for port in (s.apiserver_port, s.etcd_port, s.kubelet_port):
        if cluster.tcp_open("127.0.0.1", port):
            found.append(f"port {port} open")
    return found


def test_up_down_twice_leaves_machine_clean(lab_settings, k8s_lab):
    s = lab_settings
    assert lab("down").returncode == 0
    HOST_PATHS.update(p for p in cluster.KUBELET_HOST_PATHS if os.path.lexists(p))
    assert leftovers(s) == []
    for i in range(2):
        t0 = time.monotonic()
        r = lab("up")
        took = time.monotonic() - t0
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.strip().splitlines()[-1] == str(s.admin_kubeconfig)
        print(f"round {i + 1}: warm up {took:.1f} s")
        assert took < 60, f"warm up took {took:.0f} s (budget 60 s)"
        assert lab("status").returncode == 0
        # a pod runs, so down has sandboxes, a netns, veths and CNI chains to clean
        from lab.k8s import scenario
        scenario.apply(s, "healthy", timeout=120)
        r = lab("down")
        assert r.returncode == 0, r.stdout + r.stderr
        assert leftovers(s) == [], f"round {i + 1}"
        assert lab("status").returncode == 3
    # down again when nothing is up: fine
    assert lab("down").returncode == 0
    # leave the lab up for the other tests, as the session fixture promised
    assert lab("up").returncode == 0
