"""The real node: `kubectl logs` and `kubectl exec` work, pods reach the stand-in, the audit log records."""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from lab.k8s import scenario

pytestmark = pytest.mark.k8s_lab


@pytest.fixture(scope="module")
def healthy(k8s_lab):
    print(scenario.apply(k8s_lab, "healthy", timeout=120))
    yield k8s_lab
    scenario.clear(k8s_lab)


def runner_pod(kubectl, ns):
    items = kubectl("-n", ns, "get", "pods", "-l", "app=blink-runner", "-o", "json", as_json=True)["items"]
    return next(p for p in items if not p["metadata"].get("deletionTimestamp"))


def test_node_is_real_and_ready(k8s_lab, kubectl):
    node = kubectl("get", "node", k8s_lab.node_name, "-o", "json", as_json=True)
    info = node["status"]["nodeInfo"]
    assert info["kubeletVersion"] == k8s_lab.k8s_version
    assert info["containerRuntimeVersion"].startswith("containerd://1.6")
    assert any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"])
    version = kubectl("version", "-o", "json", as_json=True)
    assert version["serverVersion"]["gitVersion"] == k8s_lab.k8s_version


def test_kubectl_logs_of_deployment_and_pod(healthy, kubectl):
    ns = healthy.namespace
    deadline = time.monotonic() + 30
    while True:
        out = kubectl("-n", ns, "logs", "deployment/blink-runner", "--tail=20").stdout
        if "Starting blink-runner" in out or "level=info" in out:
            break
        assert time.monotonic() < deadline, out
        time.sleep(1)
    pod = runner_pod(kubectl, ns)["metadata"]["name"]
    assert "level=" in kubectl("-n", ns, "logs", pod, "-c", "blink-runner").stdout


def test_kubectl_exec_and_pod_reaches_standin(healthy, kubectl):
    ns = healthy.namespace
    pod = runner_pod(kubectl, ns)["metadata"]["name"]
    r = kubectl("-n", ns, "exec", pod, "--", "sh", "-c", "echo exec-ok; id -u")
    assert r.stdout.splitlines()[0] == "exec-ok"
    # HTTPS with a name, like production: the lab DNS resolves it, the lab CA (the runner's SSL_CERT_FILE) signed it
    url = f"{healthy.standin_url}/api/v1/runner/ping"
    r = kubectl("-n", ns, "exec", pod, "--", "curl", "-sS", "-m", "5", "--cacert", "/blink/ca.pem", url)
    assert r.returncode == 0 and '"status": "ok"' in r.stdout
    r = kubectl("-n", ns, "exec", pod, "--", "curl", "-sS", "-m", "5", f"{healthy.standin_http_url}/api/v1/runner/ping")
    assert r.returncode == 0  # plain HTTP stays for callers that need no TLS


def test_pods_cannot_leave_the_machine(healthy, kubectl):
    """The guard drops pod traffic routed beyond the machine. The target is a network namespace of our
    own behind a veth (never an outside address): unguarded, its kernel would answer at once with a
    reset (curl exit 7); guarded, the packet is dropped and curl times out (exit 28)."""
    ns = healthy.namespace
    pod = runner_pod(kubectl, ns)["metadata"]["name"]
    netns, host_if, peer_if = "blinklab-guardtest", "blgt0", "blgt1"
    cmds = [
        ["ip", "netns", "add", netns],
        ["ip", "link", "add", host_if, "type", "veth", "peer", "name", peer_if],
        ["ip", "link", "set", peer_if, "netns", netns],
        ["ip", "addr", "add", "10.250.99.1/30", "dev", host_if],
        ["ip", "link", "set", host_if, "up"],
        ["ip", "-n", netns, "addr", "add", "10.250.99.2/30", "dev", peer_if],
        ["ip", "-n", netns, "link", "set", peer_if, "up"],
        ["ip", "-n", netns, "route", "add", "default", "via", "10.250.99.1"],
    ]
    try:
        for cmd in cmds:
            subprocess.run(cmd, check=True, capture_output=True, timeout=10)
        r = kubectl("-n", ns, "exec", pod, "--", "curl", "-sS", "-m", "3", "http://10.250.99.2:9/",
                    check=False, timeout=30)
        assert r.returncode != 0
        assert "timed out" in r.stderr.lower() or "timeout" in r.stderr.lower(), r.stderr
    finally:
        subprocess.run(["ip", "link", "del", host_if], capture_output=True, timeout=10)
        subprocess.run(["ip", "netns", "del", netns], capture_output=True, timeout=10)


def test_audit_log_records_verbs_and_resources(healthy, kubectl):
    kubectl("-n", healthy.namespace, "get", "pods")
    lines = healthy.audit_log.read_text().splitlines()
    events = [json.loads(x) for x in lines[-2000:]]
    mine = [e for e in events if e["user"]["username"] == "blink-lab-admin" and e["verb"] == "list"
            and e.get("objectRef", {}).get("resource") == "pods"]
    assert mine and mine[-1]["level"] == "Metadata"


def test_image_pulls_never_leave_the_machine(k8s_lab, kubectl):
    """containerd's registry traffic goes to a dead loopback proxy: a pull fails at once, locally."""
    ns = f"blink-lab-pull-test-{os.getpid()}"
    kubectl("create", "namespace", ns)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pull"},
           "spec": {"containers": [{"name": "c", "image": "registry.invalid/blink-lab/none:1",
                                    "imagePullPolicy": "IfNotPresent"}]}}
    try:
        deadline = time.monotonic() + 30
        while True:  # a new namespace's default ServiceAccount appears a moment after the namespace
            r = subprocess.run([str(k8s_lab.kubectl), f"--kubeconfig={k8s_lab.admin_kubeconfig}", "-n", ns, "apply",
                                "-f", "-"], input=json.dumps(pod), text=True, capture_output=True)
            if r.returncode == 0:
                break
            assert time.monotonic() < deadline, r.stderr
            time.sleep(0.5)
        deadline = time.monotonic() + 60
        while True:
            p = kubectl("-n", ns, "get", "pod", "pull", "-o", "json", as_json=True)
            w = ((p["status"].get("containerStatuses") or [{}])[0].get("state", {}).get("waiting") or {})
            if w.get("reason") in ("ErrImagePull", "ImagePullBackOff") and w.get("message"):
                break
            assert time.monotonic() < deadline, p["status"]
            time.sleep(1)
        assert "127.0.0.1:9" in w["message"], w["message"]
    finally:
        kubectl("delete", "namespace", ns, "--wait=false", check=False)
