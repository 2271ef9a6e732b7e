"""Each scenario reaches its intended state, checked independently with `kubectl get -o json`."""
from __future__ import annotations

import subprocess
import time

import pytest

from lab.k8s import scenario

pytestmark = pytest.mark.k8s_lab

RUNNERS = "app=blink-runner,release=blink-runner"
OPERATORS = "app=blink-operator"


def pods(kubectl, ns, selector):
    items = kubectl("-n", ns, "get", "pods", "-l", selector, "-o", "json", as_json=True)["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def cs(pod):
    return (pod["status"].get("containerStatuses") or [{}])[0]


def ready(pod):
    return pod["status"].get("phase") == "Running" and cs(pod).get("ready") is True


def waiting(pod):
    return (cs(pod).get("state", {}).get("waiting") or {}).get("reason")


def scheduled_false(pod):
    return any(c["type"] == "PodScheduled" and c["status"] == "False" and c.get("reason") == "Unschedulable"
               for c in pod["status"].get("conditions", []))


def eventually(check, timeout: float = 30):
    """Re-run a block of assertions until it passes: pods that crash flip state for a moment at restarts."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


@pytest.fixture(scope="module", autouse=True)
def _clear_after(k8s_lab):
    yield
    scenario.clear(k8s_lab)


def apply(k8s_lab, name):
    summary = scenario.apply(k8s_lab, name, timeout=150)
    print(summary)
    assert summary.startswith(f"scenario {name}")
    return k8s_lab.namespace


def test_healthy(k8s_lab, kubectl):
    ns = apply(k8s_lab, "healthy")
    [p] = pods(kubectl, ns, RUNNERS)
    assert ready(p)
    assert p["metadata"]["labels"]["release"] == "blink-runner"
    assert p["spec"]["containers"][0]["imagePullPolicy"] == "Never"
    d = kubectl("-n", ns, "get", "deployment", "blink-runner", "-o", "json", as_json=True)
    assert d["status"]["availableReplicas"] == 1
    secret = kubectl("-n", ns, "get", "secret", "blink-runner-secret", "-o", "json", as_json=True)
    assert "appKey" in secret["data"]
    cm = kubectl("-n", ns, "get", "configmap", "blink-runner-config", "-o", "json", as_json=True)
    assert cm["data"]["ctrl_url"] == k8s_lab.standin_url


def test_crashloop(k8s_lab, kubectl):
    ns = apply(k8s_lab, "crashloop")

    def check():
        [p] = pods(kubectl, ns, RUNNERS)
        assert cs(p)["restartCount"] >= 2
        assert waiting(p) == "CrashLoopBackOff"
        assert cs(p)["lastState"]["terminated"]["exitCode"] == 1
    eventually(check)


def test_pending(k8s_lab, kubectl):
    ns = apply(k8s_lab, "pending")
    [p] = pods(kubectl, ns, RUNNERS)
    assert p["status"]["phase"] == "Pending"
    assert scheduled_false(p)


def test_hpa(k8s_lab, kubectl):
    ns = apply(k8s_lab, "hpa")
    hpa = kubectl("-n", ns, "get", "hpa", "blink-runner", "-o", "json", as_json=True)
    assert hpa["spec"]["minReplicas"] == 3

    def check():
        ps = pods(kubectl, ns, RUNNERS)
        assert len(ps) == 3
        assert sum(ready(p) for p in ps) == 2
        failing = [p for p in ps if not ready(p)]
        assert len(failing) == 1 and cs(failing[0])["restartCount"] >= 1
    eventually(check)


def test_no_runner(k8s_lab, kubectl):
    ns = apply(k8s_lab, "no-runner")
    assert pods(kubectl, ns, RUNNERS) == []
    assert kubectl("-n", ns, "get", "deployments", "-o", "json", as_json=True)["items"] == []
    kubectl("-n", ns, "get", "secret", "blink-runner-secret")
    kubectl("-n", ns, "get", "configmap", "blink-runner-config")


def test_logs_unreadable(k8s_lab, kubectl):
    ns = apply(k8s_lab, "logs-unreadable")
    [p] = pods(kubectl, ns, RUNNERS)
    assert ready(p)
    r = kubectl("-n", ns, "logs", p["metadata"]["name"], "--tail=1", check=False)
    assert r.returncode != 0 and "10250" in r.stderr, r.stderr
    scenario.clear(k8s_lab)
    rules = subprocess.run(["iptables", "-S", "OUTPUT"], capture_output=True, text=True, check=False).stdout
    assert "BLINKLAB-KUBELET" not in rules  # cleared with the scenario


def test_egress_blocked(k8s_lab, kubectl):
    ns = apply(k8s_lab, "egress-blocked")
    [p] = pods(kubectl, ns, RUNNERS)
    assert ready(p)
    logs = kubectl("-n", ns, "logs", p["metadata"]["name"], "--tail=50").stdout
    assert "Client.Timeout exceeded" in logs or "i/o timeout" in logs, logs


def test_egress_recovered(k8s_lab, kubectl):
    ns = apply(k8s_lab, "egress-recovered")
    [p] = pods(kubectl, ns, RUNNERS)
    lines = kubectl("-n", ns, "logs", p["metadata"]["name"], "--tail=200").stdout.splitlines()
    errors = [i for i, line in enumerate(lines) if "level=error" in line]
    assert len(errors) >= 2, lines
    assert any("Connected to Blink controller" in line for line in lines[errors[-1] + 1 :]), lines
    rules = subprocess.run(["iptables", "-S", "INPUT"], capture_output=True, text=True, check=False).stdout
    assert "BLINKLAB-EGRESS" not in rules  # the block was lifted


def test_runner_misconfigured(k8s_lab, kubectl):
    ns = apply(k8s_lab, "runner-misconfigured")
    [p] = pods(kubectl, ns, RUNNERS)
    assert ready(p)
    logs = kubectl("-n", ns, "logs", p["metadata"]["name"], "--tail=50").stdout
    assert logs.count("connection refused") >= 2, logs


def test_upgrade_in_progress(k8s_lab, kubectl):
    ns = apply(k8s_lab, "upgrade-in-progress")
    d = kubectl("-n", ns, "get", "deployment", "blink-operator-1.0.995", "-o", "json", as_json=True)
    assert d["metadata"]["labels"]["app"] == "blink-operator"
    [op] = pods(kubectl, ns, OPERATORS)
    assert ready(op)


def test_operator_gone(k8s_lab, kubectl):
    ns = apply(k8s_lab, "operator-gone")
    assert pods(kubectl, ns, OPERATORS) == []
    out = kubectl("-n", ns, "get", "deployments", "-o", "json", as_json=True)
    assert [d["metadata"]["name"] for d in out["items"]] == ["blink-runner"]
    logs = kubectl("-n", ns, "logs", "deployment/blink-runner").stdout
    assert ("Operator has been deployed with version: 1.0.995, Current Runner will shutdown once new runner "
            "is up and ready.") in logs


def test_operator_stuck(k8s_lab, kubectl):
    ns = apply(k8s_lab, "operator-stuck")

    def check():
        [op] = pods(kubectl, ns, OPERATORS)
        assert not ready(op) and waiting(op) == "CrashLoopBackOff"
    eventually(check)


def test_operator_pending(k8s_lab, kubectl):
    ns = apply(k8s_lab, "operator-pending")
    [op] = pods(kubectl, ns, OPERATORS)
    assert op["status"]["phase"] == "Pending" and scheduled_false(op)


def test_operator_rollback(k8s_lab, kubectl):
    ns = apply(k8s_lab, "operator-rollback")
    [op] = pods(kubectl, ns, OPERATORS)
    name = op["metadata"]["name"]
    logs = kubectl("-n", ns, "logs", name).stdout + kubectl("-n", ns, "logs", name, "--previous", check=False).stdout
    assert "rolling back" in logs


def test_secret_missing(k8s_lab, kubectl):
    ns = apply(k8s_lab, "secret-missing")
    r = kubectl("-n", ns, "get", "secret", "blink-runner-secret", check=False)
    assert r.returncode != 0 and "NotFound" in r.stderr
    [p] = pods(kubectl, ns, RUNNERS)
    assert waiting(p) == "CreateContainerConfigError"


def test_secret_empty(k8s_lab, kubectl):
    ns = apply(k8s_lab, "secret-empty")
    [p] = pods(kubectl, ns, RUNNERS)
    assert cs(p)["restartCount"] >= 1


def _ready_runner_logs(kubectl, ns, *needles):
    """The one runner pod is Ready, and its pings fail with one of `needles` in the error."""
    [p] = pods(kubectl, ns, RUNNERS)
    assert ready(p)
    logs = kubectl("-n", ns, "logs", p["metadata"]["name"], "--tail=50").stdout
    assert any("level=error" in line and any(n in line for n in needles) for line in logs.splitlines()), logs
    return p


def test_dns_dead(k8s_lab, kubectl):
    ns = apply(k8s_lab, "dns-dead")
    # The runner's HTTP client (5 s) gives up before its resolver does when the nameserver never answers.
    p = _ready_runner_logs(kubectl, ns, f"lookup {k8s_lab.blink_host}", "Client.Timeout exceeded")
    assert p["spec"]["dnsPolicy"] == "None"
    assert p["spec"]["dnsConfig"]["nameservers"] == [k8s_lab.dead_dns]
    resolv = kubectl("-n", ns, "exec", p["metadata"]["name"], "--", "cat", "/etc/resolv.conf").stdout
    assert f"nameserver {k8s_lab.dead_dns}" in resolv and k8s_lab.gateway not in resolv


def test_tls_inspected(k8s_lab, kubectl):
    ns = apply(k8s_lab, "tls-inspected")
    p = _ready_runner_logs(kubectl, ns, "x509: certificate signed by unknown authority")
    nat = subprocess.run(["iptables", "-t", "nat", "-S", scenario.INSPECT_CHAIN], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    assert f"--to-ports {k8s_lab.standin_inspect_port}" in nat
    # what the runner is shown: a certificate for the Blink name, issued by the inspecting proxy's CA
    r = kubectl("-n", ns, "exec", p["metadata"]["name"], "--", "curl", "-sSvk", "-o", "/dev/null",
                k8s_lab.standin_url)  # fmt: skip
    assert "issuer: CN=Blink Lab TLS-Inspecting Proxy CA" in r.stderr, r.stderr
    scenario.clear(k8s_lab)
    assert scenario.INSPECT_CHAIN not in subprocess.run(["iptables-save", "-t", "nat"], capture_output=True,
                                                        text=True, check=True).stdout  # fmt: skip


def test_clock_skew(k8s_lab, kubectl):
    """The pods' HTTPS to the stand-in answered by the second stand-in, its Date SKEW_S ahead of the pod's clock;
    clearing the scenario removes the redirect and stops that stand-in."""
    import email.utils

    from lab.k8s.cluster import Procs, tcp_open

    ns = apply(k8s_lab, "clock-skew")
    [p] = pods(kubectl, ns, RUNNERS)
    assert ready(p)
    name = p["metadata"]["name"]
    said = kubectl("-n", ns, "exec", name, "--", "curl", "-sSv", "-o", "/dev/null", "--cacert", "/blink/ca.pem",
                   k8s_lab.standin_url).stderr  # fmt: skip
    now = int(kubectl("-n", ns, "exec", name, "--", "date", "-u", "+%s").stdout)
    [date] = [line.split(":", 1)[1].strip() for line in said.splitlines() if line.lower().startswith("< date:")]
    assert abs(email.utils.parsedate_to_datetime(date).timestamp() - now - scenario.SKEW_S) <= 3, (date, now)
    scenario.clear(k8s_lab)
    assert scenario.SKEW_CHAIN not in subprocess.run(["iptables-save", "-t", "nat"], capture_output=True,
                                                     text=True, check=True).stdout  # fmt: skip
    assert Procs(k8s_lab).pid("standin-skewed") is None
    assert not tcp_open(k8s_lab.gateway, k8s_lab.standin_skewed_port)


def test_proxy_dead(k8s_lab, kubectl):
    ns = apply(k8s_lab, "proxy-dead")
    _ready_runner_logs(kubectl, ns, f"proxyconnect tcp: dial tcp {k8s_lab.gateway}:{scenario.PROXY_PORT}")
    logs = kubectl("-n", ns, "logs", "deployment/blink-runner").stdout
    assert scenario.PROXY_SECRET not in logs  # the runner does not print its proxy's password


def test_every_scenario_is_tested():
    tested = {n[len("test_"):].replace("_", "-") for n in globals() if n.startswith("test_")}
    assert set(scenario.SCENARIOS) <= tested | {"every-scenario-is-tested"}


# Blink's own view: what the stand-in's public API answers once the scenario is applied (lab/blink_api.py)
def _blink_says(k8s_lab, path):
    import json
    import urllib.error
    import urllib.request

    from lab import blink_api

    key_file, _ = blink_api.ensure_user_key(k8s_lab.state)
    key = key_file.read_text().strip()
    req = urllib.request.Request(k8s_lab.standin_http_url + path, headers={"BLINK-API-KEY": key})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


def _blink_runner(k8s_lab, kubectl, ns):
    from lab import blink_api

    [p] = [p for p in pods(kubectl, ns, RUNNERS) if ready(p)]
    status, page = _blink_says(k8s_lab, f"/api/v1/workspace/{blink_api.WORKSPACE}/runners")
    assert status == 200, status
    items = page.get("results") if isinstance(page, dict) else page
    [r] = [r for r in items or [] if r.get("ip_address") == p["status"]["podIP"]]
    return p, r


def test_blink_sees(k8s_lab, kubectl):
    ns = apply(k8s_lab, "blink-sees")
    p, r = _blink_runner(k8s_lab, kubectl, ns)
    assert r["name"] == p["metadata"]["name"] and r["version"] == "1.0.994"
    assert _blink_says(k8s_lab, "/api/readiness")[0] == 200


def test_blink_stale(k8s_lab, kubectl):
    ns = apply(k8s_lab, "blink-stale")
    _, r = _blink_runner(k8s_lab, kubectl, ns)
    assert time.time() - int(r["last_seen"]) >= 590, r


def test_blink_old_version(k8s_lab, kubectl):
    ns = apply(k8s_lab, "blink-old-version")
    p, r = _blink_runner(k8s_lab, kubectl, ns)
    assert p["spec"]["containers"][0]["image"].endswith(":1.0.995") and r["version"] == "1.0.994"


def test_blink_not_ready(k8s_lab, kubectl):
    apply(k8s_lab, "blink-not-ready")
    assert _blink_says(k8s_lab, "/api/readiness")[0] == 503
    assert _blink_says(k8s_lab, "/api/v1/api/readiness")[0] == 503


# Past the runbook (issue 15): each state checked with kubectl, independently of the scenario's own check
def test_network_policy(k8s_lab, kubectl):
    ns = apply(k8s_lab, "network-policy")
    pol = kubectl("-n", ns, "get", "networkpolicy", "blink-runner-egress", "-o", "json", as_json=True)
    assert pol["spec"]["policyTypes"] == ["Egress"] or "Egress" in pol["spec"]["policyTypes"]
    assert all(p.get("port") == 53 for r in pol["spec"].get("egress", []) for p in r.get("ports", [])), pol["spec"]
    [p] = pods(kubectl, ns, RUNNERS)
    assert ready(p)


def test_node_pressure(k8s_lab, kubectl):
    ns = apply(k8s_lab, "node-pressure")
    [p] = pods(kubectl, ns, RUNNERS)
    node = kubectl("get", "node", p["spec"]["nodeName"], "-o", "json", as_json=True)
    [disk] = [c for c in node["status"]["conditions"] if c["type"] == "DiskPressure"]
    assert disk["status"] == "True", disk


def test_evicted_pod(k8s_lab, kubectl):
    ns = apply(k8s_lab, "evicted-pod")
    ev = kubectl("-n", ns, "get", "pod", "blink-runner-evicted", "-o", "json", as_json=True)
    assert (ev["status"]["phase"], ev["status"].get("reason")) == ("Failed", "Evicted"), ev["status"]
    assert any(ready(p) for p in pods(kubectl, ns, RUNNERS) if p["metadata"]["name"] != "blink-runner-evicted")


def test_quota_exhausted(k8s_lab, kubectl):
    ns = apply(k8s_lab, "quota-exhausted")
    assert kubectl("-n", ns, "get", "resourcequota", "-o", "json", as_json=True)["items"]
    op = kubectl("-n", ns, "get", "deployment", "blink-operator-1.0.995", "-o", "json", as_json=True)
    assert any(c["type"] == "ReplicaFailure" and "exceeded quota" in c.get("message", "")
               for c in op["status"].get("conditions", [])), op["status"]
    assert not pods(kubectl, ns, OPERATORS)
