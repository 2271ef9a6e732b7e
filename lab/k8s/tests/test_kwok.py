"""kwok mode: fake nodes join the real control plane and "run" many runner pods without containers."""
from __future__ import annotations

import json
import subprocess
import time

import pytest

from lab.k8s.cluster import set_kwok_nodes

pytestmark = pytest.mark.k8s_lab

NS = "blink-lab-kwok-test"
DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "blink-runner", "labels": {"app": "blink-runner", "release": "blink-runner"}},
    "spec": {
        "replicas": 60,
        "selector": {"matchLabels": {"app": "blink-runner", "release": "blink-runner"}},
        "template": {
            "metadata": {"labels": {"app": "blink-runner", "release": "blink-runner"}},
            "spec": {
                "nodeSelector": {"type": "kwok"},
                "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}],
                "containers": [{"name": "blink-runner", "image": "blinkops/blink-runner:1.0.994",
                                "imagePullPolicy": "Never"}],
            },
        },
    },
}


def test_kwok_nodes_run_many_pods(k8s_lab, kubectl):
    set_kwok_nodes(k8s_lab, 3)
    try:
        nodes = kubectl("get", "nodes", "-l", "type=kwok", "-o", "json", as_json=True)["items"]
        assert len(nodes) == 3
        kubectl("create", "namespace", NS)
        subprocess.run([str(k8s_lab.kubectl), f"--kubeconfig={k8s_lab.admin_kubeconfig}", "-n", NS, "apply",
                        "-f", "-"], input=json.dumps(DEPLOYMENT), text=True, check=True, capture_output=True)
        deadline = time.monotonic() + 90
        while True:
            pods = kubectl("-n", NS, "get", "pods", "-o", "json", as_json=True)["items"]
            running = [p for p in pods if p["status"].get("phase") == "Running"]
            if len(running) == 60:
                break
            assert time.monotonic() < deadline, f"{len(running)}/60 Running"
            time.sleep(1)
        assert {p["spec"]["nodeName"] for p in running} <= {n["metadata"]["name"] for n in nodes}
        # kwok's pod IPs are loopback addresses: nothing can ever connect out through them
        assert all(p["status"]["podIP"].startswith("127.") for p in running)
    finally:
        kubectl("delete", "namespace", NS, "--wait=false", "--ignore-not-found", check=False)
        set_kwok_nodes(k8s_lab, 0)
    assert kubectl("get", "nodes", "-l", "type=kwok", "-o", "json", as_json=True)["items"] == []
