"""Runner scenarios on the real lab cluster, from the YAML manifests in lab/k8s/scenarios/.

Each scenario first clears the previous one (everything labelled blink-lab.io/scenario in the
namespace, the egress rule, the HPA claim dir), applies its manifests with kubectl, then polls
the API until its intended state is visible (deadline) and returns a one-line summary.
"""
from __future__ import annotations

import json
import shutil
import string
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

from .. import blink_api
from . import pki
from .cluster import Api, LabError, Procs, iptables, is_up, log, tail, tcp_open
from .settings import HERE, REPO, Settings

MANIFESTS = HERE / "scenarios"
LABEL = "blink-lab.io/scenario"
RUNNER_SEL = "app=blink-runner,release=blink-runner"
OPERATOR_SEL = "app=blink-operator"
EGRESS_CHAIN = "BLINKLAB-EGRESS"
KUBELET_CHAIN = "BLINKLAB-KUBELET"
INSPECT_CHAIN = "BLINKLAB-INSPECT"  # nat: the pods' HTTPS to the stand-in answered by the inspecting proxy's listener
SKEW_CHAIN = "BLINKLAB-SKEW"  # nat: the pods' HTTPS to the stand-in answered by a stand-in whose Date is ahead
SKEW_S = 300  # clock-skew: how far ahead the second stand-in's Date is
# A proxy on the lab network where nothing listens; the credentials are planted for the leak tests.
PROXY_SECRET = "lab-k8s-proxy-pw-7c4e2a9d"
PROXY_PORT = 3128
HANDOFF = "Operator has been deployed with version: 1.0.995"


@dataclass
class Scenario:
    description: str
    files: list[str]
    check: Callable[[Ctx], str | None] = field(repr=False)
    setup: Callable[[Settings], None] | None = None


class Ctx:
    """What a scenario's check sees: pods and logs through the API."""

    def __init__(self, s: Settings):
        self.s = s
        self.api = Api(s)
        self.ns = s.namespace

    def pods(self, selector: str) -> list[dict]:
        q = urllib.parse.urlencode({"labelSelector": selector})
        items = self.api.get(f"/api/v1/namespaces/{self.ns}/pods?{q}")["items"]
        return [p for p in items if not p["metadata"].get("deletionTimestamp")]

    def deployment(self, name: str) -> dict:
        return self.api.get(f"/apis/apps/v1/namespaces/{self.ns}/deployments/{name}")

    def logs(self, pod: str, previous: bool = False) -> str:
        q = "?tailLines=200" + ("&previous=true" if previous else "")
        try:
            return self.api.get(f"/api/v1/namespaces/{self.ns}/pods/{pod}/log{q}", raw=True)
        except Exception:
            return ""


def _cs(pod: dict) -> dict:
    statuses = pod.get("status", {}).get("containerStatuses") or []
    return statuses[0] if statuses else {}


def _ready(pod: dict) -> bool:
    return pod.get("status", {}).get("phase") == "Running" and bool(_cs(pod).get("ready"))


def _waiting(pod: dict) -> str:
    return (_cs(pod).get("state", {}).get("waiting") or {}).get("reason", "")


def _state(pod: dict) -> str:
    st = _cs(pod).get("state", {})
    for key in ("waiting", "terminated"):
        if st.get(key):
            return f"{key} {st[key].get('reason', '')}".strip()
    return "running" if st.get("running") else pod.get("status", {}).get("phase", "?")


def _one(pods: list[dict]) -> dict | None:
    return pods[0] if len(pods) == 1 else None


# ------------------------------------------------------------------------------ checks
def check_healthy(c: Ctx) -> str | None:
    p = _one(c.pods(RUNNER_SEL))
    if not p or not _ready(p):
        return None
    d = c.deployment("blink-runner")
    if d["status"].get("availableReplicas") != 1:
        return None
    logs = c.logs(p["metadata"]["name"])
    if "level=info" not in logs or "level=error" in logs.split("Starting blink-runner", 1)[-1][-400:]:
        return None
    return (f"deployment {c.ns}/blink-runner 1/1 available; pod {p['metadata']['name']} Running Ready; "
            f"runner reaches the stand-in {c.s.standin_url}")


def check_crashloop(c: Ctx) -> str | None:
    p = _one(c.pods(RUNNER_SEL))
    if not p:
        return None
    cs = _cs(p)
    if cs.get("restartCount", 0) >= 2 and _waiting(p) == "CrashLoopBackOff":
        return (f"pod {p['metadata']['name']} CrashLoopBackOff, restartCount {cs['restartCount']}, last exit "
                f"{(cs.get('lastState', {}).get('terminated') or {}).get('exitCode')}")
    return None


def check_pending(c: Ctx) -> str | None:
    p = _one(c.pods(RUNNER_SEL))
    if not p or p["status"].get("phase") != "Pending":
        return None
    for cond in p["status"].get("conditions", []):
        if cond["type"] == "PodScheduled" and cond["status"] == "False" and cond.get("reason") == "Unschedulable":
            return f"pod {p['metadata']['name']} Pending, PodScheduled=False Unschedulable: {cond.get('message', '')}"
    return None


def check_hpa(c: Ctx) -> str | None:
    hpa = c.api.get(f"/apis/autoscaling/v2/namespaces/{c.ns}/horizontalpodautoscalers/blink-runner")
    pods = c.pods(RUNNER_SEL)
    if len(pods) != 3 or c.deployment("blink-runner")["spec"].get("replicas") != 3:
        return None
    ready = [p for p in pods if _ready(p)]
    failing = [p for p in pods if not _ready(p) and _cs(p).get("restartCount", 0) >= 1]
    if len(ready) == 2 and len(failing) == 1:
        f = failing[0]
        return (f"HPA blink-runner minReplicas 3 (desired {hpa['status'].get('desiredReplicas')}); 3 pods: 2 Running "
                f"Ready, {f['metadata']['name']} failing ({_state(f)}, "
                f"restartCount {_cs(f).get('restartCount')})")
    return None


def check_egress(c: Ctx) -> str | None:
    p = _one(c.pods(RUNNER_SEL))
    if not p or not _ready(p):
        return None
    logs = c.logs(p["metadata"]["name"])
    for line in logs.splitlines():
        if "level=error" in line and ("Timeout" in line or "timeout" in line or "deadline exceeded" in line):
            return (f"pod {p['metadata']['name']} Running; egress to {c.s.standin_url} dropped; "
                    f"runner logs: {line[-160:]}")
    return None


def check_egress_recovered(c: Ctx) -> str | None:
    """Blocked until the runner logged two timeouts, then unblocked; ready once it has connected again."""
    p = _one(c.pods(RUNNER_SEL))
    if not p or not _ready(p):
        return None
    lines = c.logs(p["metadata"]["name"]).splitlines()
    errors = [i for i, line in enumerate(lines) if "level=error" in line]
    if len(errors) < 2:
        return None
    if egress_blocked():
        unblock_egress()
        return None
    again = [line for line in lines[errors[-1] + 1 :] if "Connected to Blink controller" in line]
    if again:
        return (f"pod {p['metadata']['name']} logged {len(errors)} errors while egress was dropped, then "
                f"connected again: {again[0][-120:]}")
    return None


def _failing_ping(c: Ctx, *needles: str) -> str | None:
    """The one runner pod, Running Ready, logging a failed ping that names one of `needles`."""
    p = _one(c.pods(RUNNER_SEL))
    if not p or not _ready(p):
        return None
    for line in c.logs(p["metadata"]["name"]).splitlines():
        if "level=error" in line and any(n in line for n in needles):
            return f"pod {p['metadata']['name']} Running; runner logs: {line[-200:]}"
    return None


def check_clock_skew(c: Ctx) -> str | None:
    """Healthy, and the pods' HTTPS to the stand-in answered by the skewed one (its Date SKEW_S ahead)."""
    import email.utils
    import urllib.request

    summary = check_healthy(c)
    if not summary:
        return None
    with urllib.request.urlopen(f"http://{c.s.gateway}:{c.s.standin_skewed_port + 1}/", timeout=5) as resp:
        date = resp.headers.get("Date", "")
    ahead = email.utils.parsedate_to_datetime(date).timestamp() - time.time()
    if abs(ahead - SKEW_S) > 5:
        return None
    return f"{summary}; the pods' HTTPS answered by a stand-in whose Date is {ahead:.0f} s ahead ({date})"


def check_dns_dead(c: Ctx) -> str | None:
    # The runner's HTTP client (5 s) may give up before the resolver does: either is the lookup hanging.
    found = _failing_ping(c, f"lookup {c.s.blink_host}", "Client.Timeout exceeded")
    return f"nameserver {c.s.dead_dns} never answers; {found}" if found else None


def check_tls_inspected(c: Ctx) -> str | None:
    found = _failing_ping(c, "x509: ", "tls: ")
    return f"HTTPS to the stand-in re-signed by the inspecting proxy's CA; {found}" if found else None


def check_proxy_dead(c: Ctx) -> str | None:
    found = _failing_ping(c, "proxyconnect")
    return f"HTTPS_PROXY at {c.s.gateway}:{PROXY_PORT}, where nothing listens; {found}" if found else None


def check_misconfigured(c: Ctx) -> str | None:
    p = _one(c.pods(RUNNER_SEL))
    if not p or not _ready(p):
        return None
    refused = [line for line in c.logs(p["metadata"]["name"]).splitlines() if "connection refused" in line]
    if len(refused) >= 2:
        return f"pod {p['metadata']['name']} Running; its own Blink URL is refused: {refused[-1][-140:]}"
    return None


def _runner_handoff(c: Ctx) -> dict | None:
    p = _one(c.pods(RUNNER_SEL))
    if not p or not _ready(p) or HANDOFF not in c.logs(p["metadata"]["name"]):
        return None
    return p


def check_upgrade(c: Ctx) -> str | None:
    r = _runner_handoff(c)
    op = _one(c.pods(OPERATOR_SEL))
    if r and op and _ready(op):
        return (f"deployment blink-operator-1.0.995 running (pod {op['metadata']['name']} Ready); runner "
                f"{r['metadata']['name']} logged the handoff to 1.0.995")
    return None


def check_operator_gone(c: Ctx) -> str | None:
    r = _runner_handoff(c)
    if r and not c.pods(OPERATOR_SEL):
        return f"runner {r['metadata']['name']} logged '{HANDOFF}...'; no blink-operator deployment or pod exists"
    return None


def check_operator_stuck(c: Ctx) -> str | None:
    r = _runner_handoff(c)
    op = _one(c.pods(OPERATOR_SEL))
    if r and op and _cs(op).get("restartCount", 0) >= 1 and _waiting(op) == "CrashLoopBackOff":
        return (f"deployment blink-operator-1.0.995 present, pod {op['metadata']['name']} CrashLoopBackOff "
                f"(restartCount {_cs(op)['restartCount']}); runner logged the handoff")
    return None


def check_operator_pending(c: Ctx) -> str | None:
    r = _runner_handoff(c)
    op = _one(c.pods(OPERATOR_SEL))
    conds = op["status"].get("conditions", []) if op else []
    if r and op and op["status"].get("phase") == "Pending" and any(
            x["type"] == "PodScheduled" and x.get("reason") == "Unschedulable" for x in conds):
        return f"deployment blink-operator-1.0.995 present, pod {op['metadata']['name']} Pending (Unschedulable)"
    return None


def check_operator_rollback(c: Ctx) -> str | None:
    op = _one(c.pods(OPERATOR_SEL))
    if not op:
        return None
    text = c.logs(op["metadata"]["name"]) + c.logs(op["metadata"]["name"], previous=True)
    if "rolling back" in text:
        return (f"operator pod {op['metadata']['name']} logged the rollback after ROLLBACK_AFTER=10 s "
                f"(restartCount {_cs(op).get('restartCount', 0)})")
    return None


def check_no_runner(c: Ctx) -> str | None:
    deployments = c.api.get(f"/apis/apps/v1/namespaces/{c.ns}/deployments")["items"]
    if c.pods(RUNNER_SEL) or any(d["metadata"]["name"] == "blink-runner" for d in deployments):
        return None
    c.api.get(f"/api/v1/namespaces/{c.ns}/secrets/blink-runner-secret")  # there: only the runner is missing
    return f"no deployment blink-runner and no runner pods in {c.ns}; ConfigMap and Secret present"


def check_logs_unreadable(c: Ctx) -> str | None:
    """The runner runs, and its logs cannot be read through the API server (which cannot reach the kubelet)."""
    p = _one(c.pods(RUNNER_SEL))
    if not p or not _ready(p):
        return None
    try:
        c.api.get(f"/api/v1/namespaces/{c.ns}/pods/{p['metadata']['name']}/log?tailLines=1", raw=True)
    except Exception as exc:
        return f"pod {p['metadata']['name']} Running, Ready; its log read fails: {str(exc)[-200:]}"
    return None


def check_secret_missing(c: Ctx) -> str | None:
    p = _one(c.pods(RUNNER_SEL))
    if not p:
        return None
    w = (_cs(p).get("state", {}).get("waiting") or {})
    if w.get("reason") == "CreateContainerConfigError":
        return f"pod {p['metadata']['name']} CreateContainerConfigError: {w.get('message', '')}"
    return None


def check_secret_empty(c: Ctx) -> str | None:
    p = _one(c.pods(RUNNER_SEL))
    if not p or _cs(p).get("restartCount", 0) < 1:
        return None
    text = c.logs(p["metadata"]["name"]) + c.logs(p["metadata"]["name"], previous=True)
    if "BLINK_RUNNER_GROUP_API_KEY is not set" in text:
        return f"pod {p['metadata']['name']} exits 1 (restartCount {_cs(p)['restartCount']}): runner key is empty"
    return None


def check_network_policy(c: Ctx) -> str | None:
    healthy = check_healthy(c)
    pols = c.api.get(f"/apis/networking.k8s.io/v1/namespaces/{c.ns}/networkpolicies")["items"]
    if healthy and any(p["metadata"]["name"] == "blink-runner-egress" for p in pols):
        return f"NetworkPolicy blink-runner-egress (egress: DNS to kube-system only) selects the runner; {healthy}"
    return None


# The kubelet rewrites a node's conditions and a pod's status within seconds. To hold a state the lab sets (a node
# under DiskPressure, a pod the kubelet evicted), an admission policy refuses the kubelet's status updates of the
# objects labelled FROZEN; clear() removes it first, so the kubelet takes over again.
FROZEN = "blink-lab.io/frozen-status"
FREEZE_POLICY = f"""apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: blink-lab-frozen-status}}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {{apiGroups: [""], apiVersions: [v1], operations: [UPDATE], resources: [nodes/status, pods/status]}}
  matchConditions:
  - {{name: kubelet, expression: "request.userInfo.username.startsWith('system:node:')"}}
  - {{name: frozen, expression: "has(oldObject.metadata.labels) && '{FROZEN}' in oldObject.metadata.labels"}}
  validations:
  - {{expression: "false", message: "blink lab: this status is held by a lab scenario"}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: blink-lab-frozen-status}}
spec:
  policyName: blink-lab-frozen-status
  validationActions: [Deny]
"""
PRESSURE = {"type": "DiskPressure", "status": "True", "reason": "KubeletHasDiskPressure",
            "message": "kubelet has disk pressure (set by the blink lab's node-pressure scenario)"}
NO_PRESSURE = {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure",
               "message": "kubelet has no disk pressure"}
EVICTION = ("The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki. Container "
            "blink-runner was using 310Mi, request is 0, has larger consumption of request.")


def freeze(s: Settings) -> None:
    kubectl(s, "apply", "-f", "-", input_text=FREEZE_POLICY)


def unfreeze(s: Settings) -> None:
    """The kubelet writes statuses again; a node the lab put under pressure is relieved (and its taint gone)."""
    kubectl(s, "delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", "blink-lab-frozen-status",
            "--ignore-not-found", check=False)
    nodes = json.loads(kubectl(s, "get", "nodes", "-l", FROZEN, "-o", "json").stdout)["items"]
    for n in nodes:
        name = n["metadata"]["name"]
        kubectl(s, "patch", "node", name, "--subresource=status", "--type=strategic", "-p",
                json.dumps({"status": {"conditions": [{**NO_PRESSURE, "lastTransitionTime": _now()}]}}))
        kubectl(s, "label", "node", name, f"{FROZEN}-")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            taints = json.loads(kubectl(s, "get", "node", name, "-o", "json").stdout)["spec"].get("taints") or []
            if not any(t["key"] == "node.kubernetes.io/disk-pressure" for t in taints):
                break
            time.sleep(0.5)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def check_node_pressure(c: Ctx) -> str | None:
    """Once the runner runs, its node is put under DiskPressure (the kubelet kept from resetting it)."""
    p = _one(c.pods(RUNNER_SEL))
    if not p or not check_healthy(c):
        return None
    node = p["spec"]["nodeName"]
    cond: dict = next((x for x in c.api.get(f"/api/v1/nodes/{node}")["status"]["conditions"]
                 if x["type"] == "DiskPressure"), {})  # fmt: skip
    if cond.get("status") == "True":
        return f"node {node} DiskPressure=True ({cond.get('message')}); runner pod {p['metadata']['name']} Ready"
    freeze(c.s)
    kubectl(c.s, "label", "node", node, f"{FROZEN}=true", "--overwrite")
    kubectl(c.s, "patch", "node", node, "--subresource=status", "--type=strategic", "-p",
            json.dumps({"status": {"conditions": [{**PRESSURE, "lastTransitionTime": _now()}]}}))
    return None


def check_evicted(c: Ctx) -> str | None:
    """The standalone runner pod, once it ran, is marked Failed/Evicted; the deployment's runner stays Ready."""
    pods = {p["metadata"]["name"]: p for p in c.pods(RUNNER_SEL)}
    ev = pods.pop("blink-runner-evicted", None)
    runner = _one(list(pods.values()))
    if not ev or not runner or not _ready(runner):
        return None
    st = ev["status"]
    if st.get("phase") == "Failed" and st.get("reason") == "Evicted":
        return (f"pod blink-runner-evicted Failed, Evicted ({st.get('message', '')[:60]}...); "
                f"{runner['metadata']['name']} Ready")
    if not _ready(ev) or "Connected to Blink controller" not in c.logs("blink-runner-evicted"):
        return None
    freeze(c.s)
    cs = dict(_cs(ev))
    started = (cs.get("state", {}).get("running") or {}).get("startedAt", _now())
    cs.update(ready=False, started=False, state={"terminated": {"exitCode": 137, "reason": "Error",
                                                               "startedAt": started, "finishedAt": _now()}})
    conds = [{**x, "status": "False"} if x["type"] in ("Ready", "ContainersReady") else x for x in st["conditions"]]
    kubectl(c.s, "-n", c.ns, "patch", "pod", "blink-runner-evicted", "--subresource=status", "--type=merge", "-p",
            json.dumps({"status": {"phase": "Failed", "reason": "Evicted", "message": EVICTION,
                                   "conditions": conds, "containerStatuses": [cs]}}))  # fmt: skip
    return None


def check_quota_exhausted(c: Ctx) -> str | None:
    r = _runner_handoff(c)
    op = c.deployment("blink-operator-1.0.995")
    failed = next((x for x in op["status"].get("conditions", []) if x["type"] == "ReplicaFailure"
                   and x["status"] == "True" and "exceeded quota" in x.get("message", "")), None)  # fmt: skip
    if r and failed and not c.pods(OPERATOR_SEL):
        return f"deployment blink-operator-1.0.995 has no pod: {failed['message'][:160]}"
    return None


# ------------------------------------------------------------------------------ setups
def block_egress(s: Settings) -> None:
    iptables("-N", EGRESS_CHAIN, check=False)
    iptables("-F", EGRESS_CHAIN)
    # Pods only (in through the bridge): the suite's host asks the stand-in from the gateway's own address, which is
    # in the pod CIDR too, and its way to Blink (Blink's readiness) is not the runner's.
    for port in (s.standin_port, s.standin_tls_port):
        iptables("-A", EGRESS_CHAIN, "-i", s.bridge, "-s", s.pod_cidr, "-d", s.gateway, "-p", "tcp",
                 "--dport", str(port), "-m", "comment", "--comment", "blink-lab k8s scenario egress-blocked",
                 "-j", "DROP")
    if iptables("-C", "INPUT", "-j", EGRESS_CHAIN, check=False).returncode != 0:
        iptables("-I", "INPUT", "1", "-j", EGRESS_CHAIN)


def block_kubelet(s: Settings) -> None:
    """The API server cannot reach the node's kubelet (as behind a control-plane firewall): connections to its
    port are refused, so `kubectl logs` / `kubectl exec` fail while the node and its pods stay Ready."""
    iptables("-N", KUBELET_CHAIN, check=False)
    iptables("-F", KUBELET_CHAIN)
    iptables("-A", KUBELET_CHAIN, "-d", s.gateway, "-p", "tcp", "--dport", str(s.kubelet_port), "-m", "comment",
             "--comment", "blink-lab k8s scenario logs-unreadable", "-j", "REJECT", "--reject-with", "tcp-reset")
    if iptables("-C", "OUTPUT", "-j", KUBELET_CHAIN, check=False).returncode != 0:
        iptables("-I", "OUTPUT", "1", "-j", KUBELET_CHAIN)


def unblock_kubelet() -> None:
    while iptables("-D", "OUTPUT", "-j", KUBELET_CHAIN, check=False).returncode == 0:
        pass
    iptables("-F", KUBELET_CHAIN, check=False)
    iptables("-X", KUBELET_CHAIN, check=False)


def _redirect_pods_https(s: Settings, chain: str, to_port: int, scenario: str) -> None:
    """The pods' connections to the stand-in's HTTPS port answered on `to_port` of the gateway instead (nat
    PREROUTING REDIRECT, in a chain of its own); the suite's host still reaches the stand-in itself."""
    iptables("-N", chain, table="nat", check=False)
    iptables("-F", chain, table="nat")
    iptables("-A", chain, "-s", s.pod_cidr, "-d", s.gateway, "-p", "tcp", "--dport", str(s.standin_tls_port),
             "-m", "comment", "--comment", f"blink-lab k8s scenario {scenario}", "-j", "REDIRECT", "--to-ports",
             str(to_port), table="nat")  # fmt: skip
    if iptables("-C", "PREROUTING", "-j", chain, table="nat", check=False).returncode != 0:
        iptables("-I", "PREROUTING", "1", "-j", chain, table="nat")


def _unredirect(chain: str) -> None:
    while iptables("-D", "PREROUTING", "-j", chain, table="nat", check=False).returncode == 0:
        pass
    iptables("-F", chain, table="nat", check=False)
    iptables("-X", chain, table="nat", check=False)


def inspect_tls(s: Settings) -> None:
    """A TLS-inspecting proxy, as the runner meets it: the pods' connections to the stand-in's HTTPS port
    are answered by a listener that re-signs with the proxy's own CA."""
    _redirect_pods_https(s, INSPECT_CHAIN, s.standin_inspect_port, "tls-inspected")


def skew_clock(s: Settings) -> None:
    """A Blink whose clock is SKEW_S ahead of the runner's, as the runner meets it: a second stand-in with the same
    certificate and `--date-offset`, answering the pods' HTTPS to the stand-in (nat PREROUTING REDIRECT). The suite's
    host still asks the first one (its way to Blink is not the runner's)."""
    procs = Procs(s)
    procs.stop("standin-skewed", 5)
    d = pki.standin_certs(s.standin_pki, s.blink_host, s.gateway)
    procs.spawn("standin-skewed", [sys.executable, "-m", "lab.standin", "--listen",
                                   f"{s.gateway}:{s.standin_skewed_port + 1}", "--tls",
                                   f"{s.gateway}:{s.standin_skewed_port},{d / 'standin.pem'},{d / 'standin.key'}",
                                   "--date-offset", str(SKEW_S)], cwd=REPO, env={"PYTHONPATH": str(REPO)})  # fmt: skip
    deadline = time.monotonic() + 20
    while not all(tcp_open(s.gateway, port) for port in (s.standin_skewed_port, s.standin_skewed_port + 1)):
        if time.monotonic() > deadline or procs.exited("standin-skewed"):
            raise LabError(f"the skewed Blink stand-in did not start:\n{tail(s.logs / 'standin-skewed.log')}")
        time.sleep(0.2)
    _redirect_pods_https(s, SKEW_CHAIN, s.standin_skewed_port, "clock-skew")


def unskew_clock(s: Settings) -> None:
    _unredirect(SKEW_CHAIN)
    Procs(s).stop("standin-skewed", 5)


def uninspect_tls() -> None:
    _unredirect(INSPECT_CHAIN)


def egress_blocked() -> bool:
    return iptables("-C", "INPUT", "-j", EGRESS_CHAIN, check=False).returncode == 0


def unblock_egress() -> None:
    while iptables("-D", "INPUT", "-j", EGRESS_CHAIN, check=False).returncode == 0:
        pass
    iptables("-F", EGRESS_CHAIN, check=False)
    iptables("-X", EGRESS_CHAIN, check=False)


def _blink(version: str = "1.0.994", readiness: int = 200, seen_ago: int = 0,
           **extra: object) -> Callable[[Ctx], str | None]:  # fmt: skip
    """Blink's own view (lab/blink_api.py): once the runner pod is healthy, what its registration tells Blink (its
    name, group, `version`) is told to the stand-in; its pings make last_seen (unless `heartbeats=False`)."""

    def check(c: Ctx) -> str | None:
        summary = check_healthy(c)
        p = _one(c.pods(RUNNER_SEL))
        if not summary or not p or not p["status"].get("podIP"):
            return None
        entry = {"ip_address": p["status"]["podIP"], "name": p["metadata"]["name"], "group_name": "lab-runners",
                 "version": version, **extra}  # fmt: skip
        if seen_ago:
            entry["last_seen"] = int(time.time()) - seen_ago
        blink_api.control(c.s.standin_http_url, "PUT", "/_lab/runners", [entry])
        blink_api.control(c.s.standin_http_url, "PUT", "/_lab/readiness", {"status": readiness})
        return f"{summary}; Blink's view: {json.dumps(entry)}, readiness {readiness}"

    return check


BASE = ["config.yaml", "secret.yaml"]
SCENARIOS: dict[str, Scenario] = {
    "blink-sees": Scenario("a healthy runner, registered with the stand-in (Blink's view)", BASE + ["healthy.yaml"],
                           _blink()),
    "blink-stale": Scenario("a healthy runner Blink last saw 10 minutes ago", BASE + ["healthy.yaml"],
                            _blink(heartbeats=False, seen_ago=600)),
    "blink-old-version": Scenario("the runner upgraded to 1.0.995; Blink still reports 1.0.994",
                                  BASE + ["blink-upgraded.yaml"], _blink()),
    "blink-not-ready": Scenario("a healthy runner; Blink's readiness answers 503", BASE + ["healthy.yaml"],
                                _blink(readiness=503)),
    "healthy": Scenario("runner deployment Running and Ready, pinging the stand-in", BASE + ["healthy.yaml"],
                        check_healthy),
    "crashloop": Scenario("runner exits 1 at start: CrashLoopBackOff, restartCount >= 2",
                          BASE + ["crashloop.yaml"], check_crashloop),
    "pending": Scenario("runner pod unschedulable (nodeSelector matches no node)", BASE + ["pending.yaml"],
                        check_pending),
    "hpa": Scenario("HPA minReplicas 3 on blink-runner; one of the 3 pods crash-loops", BASE + ["hpa.yaml"],
                    check_hpa),
    "no-runner": Scenario("no runner deployment or pods; its ConfigMap and Secret are there", BASE, check_no_runner),
    "logs-unreadable": Scenario("the API server cannot reach the kubelet (port refused): logs and exec fail",
                                BASE + ["healthy.yaml"], check_logs_unreadable, setup=block_kubelet),
    "egress-blocked": Scenario("iptables drops pod traffic to the stand-in; runner logs timeouts",
                               BASE + ["egress-blocked.yaml"], check_egress, setup=block_egress),
    "egress-recovered": Scenario("egress dropped until the runner logged timeouts, then allowed: it reconnected",
                                 BASE + ["egress-blocked.yaml"], check_egress_recovered, setup=block_egress),
    "runner-misconfigured": Scenario("the runner's own Blink URL is refused while the path to the stand-in is open",
                                     BASE + ["runner-misconfigured.yaml"], check_misconfigured),
    "upgrade-in-progress": Scenario("deployment blink-operator-1.0.995 running, runner logged the handoff",
                                    BASE + ["upgrade-in-progress.yaml"], check_upgrade),
    "operator-gone": Scenario("runner logged the operator handoff line; no operator exists",
                              BASE + ["operator-gone.yaml"], check_operator_gone),
    "operator-stuck": Scenario("operator deployment present, its pod in CrashLoopBackOff",
                               BASE + ["operator-stuck.yaml"], check_operator_stuck),
    "operator-pending": Scenario("operator deployment present, its pod Pending (unschedulable)",
                                 BASE + ["operator-pending.yaml"], check_operator_pending),
    "operator-rollback": Scenario("operator fails the upgrade and logs a rollback after 10 s",
                                  BASE + ["operator-rollback.yaml"], check_operator_rollback),
    "secret-missing": Scenario("secret blink-runner-secret missing: CreateContainerConfigError",
                               ["config.yaml", "secret-missing.yaml"], check_secret_missing),
    "secret-empty": Scenario("secret present but appKey empty: the runner exits 1",
                             ["config.yaml", "secret-empty.yaml", "healthy.yaml"], check_secret_empty),
    "dns-dead": Scenario("the runner pod's only nameserver (dnsPolicy None) never answers: Blink's name does "
                         "not resolve", BASE + ["dns-dead.yaml"], check_dns_dead),
    "tls-inspected": Scenario("a TLS-inspecting proxy re-signs the stand-in's HTTPS with a CA the runner does "
                              "not trust", BASE + ["healthy.yaml"], check_tls_inspected, setup=inspect_tls),
    "proxy-dead": Scenario("HTTPS_PROXY in the runner pod points at a port of the lab network where nothing "
                           "listens", BASE + ["proxy-dead.yaml"], check_proxy_dead),
    "network-policy": Scenario("a NetworkPolicy selects the runner pods and allows egress to the cluster DNS only",
                               BASE + ["healthy.yaml", "network-policy.yaml"], check_network_policy),
    "clock-skew": Scenario("the pods' HTTPS to the stand-in is answered by a second stand-in whose Date is 5 minutes "
                           "ahead", BASE + ["healthy.yaml"], check_clock_skew, setup=skew_clock),
    "node-pressure": Scenario("the runner's node reports DiskPressure (the kubelet kept from resetting it)",
                              BASE + ["healthy.yaml"], check_node_pressure),
    "evicted-pod": Scenario("a runner pod Failed with reason Evicted beside the running one",
                            BASE + ["healthy.yaml", "evicted-pod.yaml"], check_evicted),
    "quota-exhausted": Scenario("a ResourceQuota (requests.cpu 100m) refuses the operator's pod: exceeded quota",
                                BASE + ["quota-exhausted.yaml"], check_quota_exhausted),
}


# ------------------------------------------------------------------------------ driver
def kubectl(s: Settings, *args: str, input_text: str | None = None, check: bool = True,
            timeout: float = 60) -> subprocess.CompletedProcess:
    cmd = [str(s.kubectl), f"--kubeconfig={s.admin_kubeconfig}", *args]
    r = subprocess.run(cmd, input=input_text, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise LabError(f"kubectl {' '.join(args)} failed: {(r.stdout + r.stderr).strip()[-2000:]}")
    return r


def render(s: Settings, files: list[str]) -> str:
    if not s.lab_ca.exists():
        raise LabError(f"the stand-in serves no HTTPS ({s.lab_ca} is missing: the cluster was started by older "
                       "code); restart the lab: python3 -m lab.k8s down && python3 -m lab.k8s up")
    ca = s.lab_ca.read_text()
    values = {"BLINK_URL": s.standin_url, "HOSTPATH": str(s.hostpath_dir / s.namespace),
              "DEAD_URL": f"http://{s.gateway}:1", "LAB_CA": json.dumps(ca), "DEAD_DNS": s.dead_dns,
              "DEAD_PROXY": f"http://blink-proxy:{PROXY_SECRET}@{s.gateway}:{PROXY_PORT}"}  # fmt: skip
    docs = [string.Template((MANIFESTS / f).read_text()).safe_substitute(values) for f in files]
    return "\n---\n".join(docs)


def _require_up(s: Settings) -> None:
    if not is_up(s):
        raise LabError("the lab cluster is not up: run `python3 -m lab.k8s up` first")


def clear(s: Settings, timeout: float = 60, quiet: bool = False) -> None:
    _require_up(s)
    unblock_egress()
    unblock_kubelet()
    uninspect_tls()
    unskew_clock(s)
    unfreeze(s)  # first: the kubelet must write the statuses of the pods it stops
    ns = s.namespace
    if kubectl(s, "get", "namespace", ns, check=False).returncode == 0:
        kubectl(s, "-n", ns, "delete", "deployments,horizontalpodautoscalers,configmaps,secrets,serviceaccounts,pods,"
                "networkpolicies,resourcequotas,limitranges", "-l", LABEL, "--wait=false", "--ignore-not-found")
        c = Ctx(s)
        deadline = time.monotonic() + timeout
        while True:
            left = c.api.get(f"/api/v1/namespaces/{ns}/pods")["items"]
            if not left:
                break
            if time.monotonic() > deadline:
                names = ", ".join(p["metadata"]["name"] for p in left)
                raise LabError(f"pods in {ns} still present after {timeout:.0f} s: {names}; kubelet log tail:\n"
                               f"{tail(s.logs / 'kubelet.log')}")
            time.sleep(0.3)
    shutil.rmtree(s.hostpath_dir / ns / "hpa-claims", ignore_errors=True)
    if not quiet:
        log(f"scenario objects cleared from namespace {ns}")


def apply(s: Settings, name: str, timeout: float = 120) -> str:
    if name not in SCENARIOS:
        raise LabError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    sc = SCENARIOS[name]
    t0 = time.monotonic()
    clear(s, quiet=True)
    try:  # Blink's view starts empty and ready (a stand-in started by older code has no such control: nothing to do)
        blink_api.reset(s.standin_http_url)
    except OSError:
        pass
    ns = s.namespace
    if kubectl(s, "get", "namespace", ns, check=False).returncode != 0:
        kubectl(s, "create", "namespace", ns)
    if sc.setup:
        sc.setup(s)
    text = render(s, sc.files).replace(f'{LABEL}: "true"', f'{LABEL}: "{name}"')
    kubectl(s, "-n", ns, "apply", "-f", "-", input_text=text)
    c = Ctx(s)
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            summary = sc.check(c)
            if summary:
                return f"scenario {name} ({time.monotonic() - t0:.0f} s): {summary}"
        except Exception as exc:
            last_exc = exc
        time.sleep(1)
    pods = kubectl(s, "-n", ns, "get", "pods", "-o", "wide", check=False).stdout
    raise LabError(f"scenario {name}: intended state not reached within {timeout:.0f} s"
                   f"{f' (last error: {last_exc})' if last_exc else ''}\n{pods}")


def state_json(s: Settings) -> dict:
    """The namespace's pods as JSON (for tests)."""
    return json.loads(kubectl(s, "-n", s.namespace, "get", "pods", "-o", "json").stdout)
