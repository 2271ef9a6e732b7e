"""The lab's pod network never flickers: the bridge keeps one MAC while pods come and go.

A Linux bridge without a MAC of its own takes the lowest MAC of its ports, so it changed whenever a pod's
veth joined or left, and pods that had resolved the gateway 10.244.0.1 (the Blink stand-in) kept the
old MAC in their ARP cache: their packets were lost for up to a minute. Here pods are created and
deleted in a loop in one namespace while new pods in another must reach the stand-in from their first
packet, and the bridge's MAC, sampled all along, must never change.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid

import pytest

from lab.k8s.cluster import bridge_mac_state

pytestmark = pytest.mark.k8s_lab

CHURN_PODS = 3  # per round, created then deleted
FRESH_PODS = 6  # created one after the other while the churn goes on
TRIES = 12  # each fresh pod's requests to the stand-in, 0.5 s apart; the first is its first packet


def test_bridge_has_a_fixed_mac(k8s_lab):
    mac, assign_type = bridge_mac_state(k8s_lab)
    assert (mac, assign_type) == (k8s_lab.bridge_mac, "3"), (
        f"bridge {k8s_lab.bridge}: MAC {mac}, addr_assign_type {assign_type} (1: follows its ports); "
        f"expected {k8s_lab.bridge_mac}, set (3). A bridge made before the fix: `python -m lab.k8s up` after "
        "`down` sets it (create_bridge)."
    )


def _pod(name: str, image: str, command: list[str]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"blink-lab.io/test": "network"}},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0,
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "containers": [{"name": "c", "image": image, "imagePullPolicy": "Never", "command": command}],
        },
    }


def _fresh_script(url: str) -> str:
    """Each try: the HTTP status, or 000 when the stand-in could not be reached (TCP connect timeout)."""
    return (
        f"i=0; while [ $i -lt {TRIES} ]; do "
        f"code=$(curl -s -o /dev/null -w '%{{http_code}}' --connect-timeout 2 -m 3 {url}); "
        'echo "try $i: $code"; i=$((i+1)); sleep 0.5; done'
    )


def test_new_pods_reach_the_standin_from_their_first_packet_while_other_pods_come_and_go(k8s_lab, tmp_path):
    s = k8s_lab
    suffix = uuid.uuid4().hex[:6]
    churn_ns, fresh_ns = f"blinklab-churn-{suffix}", f"blinklab-fresh-{suffix}"

    def kubectl(*args: str, check: bool = True, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        cmd = [str(s.kubectl), f"--kubeconfig={s.admin_kubeconfig}", *args]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        assert not check or r.returncode == 0, f"kubectl {' '.join(args)}: {r.stdout}{r.stderr}"
        return r

    def apply(ns: str, pods: list[dict]) -> None:
        path = tmp_path / f"{ns}-{time.monotonic_ns()}.json"
        path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": pods}))
        kubectl("-n", ns, "apply", "-f", str(path))

    for ns in (churn_ns, fresh_ns):
        kubectl("create", "namespace", ns)
    stop = threading.Event()
    macs: dict[str, int] = {}
    rounds = [0]
    errors: list[str] = []

    def sample_mac() -> None:
        while not stop.is_set():
            mac = bridge_mac_state(s)[0]
            macs[mac] = macs.get(mac, 0) + 1
            time.sleep(0.05)

    def churn() -> None:  # pods whose veths join and leave the bridge, again and again
        try:
            while not stop.is_set():
                names = [f"churn-{rounds[0]}-{i}" for i in range(CHURN_PODS)]
                apply(churn_ns, [_pod(n, s.pause_image, ["/pause"]) for n in names])
                kubectl("-n", churn_ns, "wait", "--for=condition=Ready", "pod", *names, "--timeout=60s", timeout=90)
                kubectl("-n", churn_ns, "delete", "pod", *names, "--grace-period=0", "--force", "--wait=true")
                rounds[0] += 1
        except Exception as exc:  # reported by the main thread
            errors.append(f"churn: {exc}")

    threads = [threading.Thread(target=sample_mac, daemon=True), threading.Thread(target=churn, daemon=True)]
    results: dict[str, list[str]] = {}
    try:
        for t in threads:
            t.start()
        for i in range(FRESH_PODS):
            name = f"fresh-{i}"
            apply(fresh_ns, [_pod(name, "blink-lab/runner:1.0.994", ["sh", "-c", _fresh_script(s.standin_http_url)])])
            done = kubectl("-n", fresh_ns, "wait", "--for=jsonpath={.status.phase}=Succeeded", f"pod/{name}",
                           "--timeout=90s", check=False, timeout=120)  # fmt: skip
            logs = kubectl("-n", fresh_ns, "logs", name, check=False).stdout.splitlines()
            results[name] = logs if done.returncode == 0 else [*logs, f"pod did not succeed: {done.stderr.strip()}"]
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)
        for ns in (churn_ns, fresh_ns):
            kubectl("delete", "namespace", ns, "--wait=true", "--timeout=120s", check=False, timeout=150)

    print(f"\nchurn rounds: {rounds[0]} ({rounds[0] * CHURN_PODS} pods created and deleted); bridge MACs seen: {macs}")
    for name, lines in results.items():
        print(f"{name}: {' | '.join(lines)}")
    assert not errors, errors
    assert rounds[0] >= 3, f"the churn did not really happen: {rounds[0]} rounds"
    ok = [f"try {i}: 200" for i in range(TRIES)]
    failed = {name: lines for name, lines in results.items() if lines != ok}
    url = s.standin_http_url
    assert not failed, f"new pods could not reach the stand-in at {url} while pods came and went: {failed}"
    assert set(macs) == {s.bridge_mac}, f"the bridge's MAC changed as pods came and went: {macs}"
