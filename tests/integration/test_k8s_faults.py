"""Faults on the lab cluster: every one ends with a clear outcome per check and a written report.

Faults between the suite and the API server go through tests/faultproxy.py on a loopback port of
our own: raw bytes (TLS passes through) for a slow API, or plain HTTP behind `kubectl proxy` when a
fault needs to see the request (delete a pod just as its logs are read).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.faultproxy import FaultProxy, Rule
from tests.harness import CheckRun
from tests.integration.k8s_lab import (
    NS,
    RUNNERS,
    apply,
    audit_verbs,
    check,
    kubectl,
    kubectl_proxy,
    plain_kubeconfig,
    pods,
)
from tests.integration.test_k8s_scenarios import _sa_kubeconfig
from tests.reliability import Sees

pytestmark = pytest.mark.k8s_lab

API = "k8s.cluster.api-reachable"
PERMS = "k8s.cluster.permissions"
LOGS = "k8s.disconnected.logs-readable"
NET = "k8s.disconnected.no-network-errors"
REACH = "k8s.disconnected.blink-reachable"
CLOCK = "k8s.runner.clock-skew"


def api_row(fault: str, words: str, within_s: float = 30) -> pytest.MarkDecorator:
    """The API server cannot be used: it says why, every other check names it, within seconds."""
    return pytest.mark.reliability(fault, Sees(exit=1, within_s=within_s, outcomes={API: "not-evaluable"},
                                               says={API: words}, others="not-evaluable", naming=API, report=True))


def kubeconfig_with(lab: Any, tmp: Path, server: str | None = None, user: dict[str, Any] | None = None) -> Path:
    """A copy of the lab's admin kubeconfig with another server address and/or credentials."""
    cfg = yaml.safe_load(lab.admin_kubeconfig.read_text())
    if server:
        cfg["clusters"][0]["cluster"]["server"] = server
    if user is not None:
        cfg["users"][0]["user"] = user
    path = tmp / "kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    path.chmod(0o600)
    return path


@api_row("Kubernetes API server down: nothing listens at the kubeconfig's server (`https://127.0.0.1:1`)",
         "connection refused")
def test_api_server_down(lab: Any, tmp_path: Path, sees):
    kc = kubeconfig_with(lab, tmp_path, server="https://127.0.0.1:1")
    sees(check(lab, tmp_path / "r", kubeconfig=kc))


@api_row("wrong credentials in the kubeconfig (a bogus token)", "the API server rejected the credentials (HTTP 401)")
def test_wrong_token(lab: Any, tmp_path: Path, sees):
    kc = kubeconfig_with(lab, tmp_path, user={"token": "not-a-real-token-0123456789"})
    run = check(lab, tmp_path / "r", kubeconfig=kc)
    sees(run)
    assert "not-a-real-token-0123456789" not in (tmp_path / "r" / "results.json").read_text()
    assert "not-a-real-token-0123456789" not in (tmp_path / "r" / "report.html").read_text()


@api_row("an expired client certificate in the kubeconfig", "the API server rejected the credentials (HTTP 401)")
def test_expired_client_certificate(lab: Any, tmp_path: Path, sees):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    ca_cert = x509.load_pem_x509_certificate((lab.pki / "ca.crt").read_bytes())
    ca_key = serialization.load_pem_private_key((lab.pki / "ca.key").read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "expired-admin"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters")])  # fmt: skip
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=30)).not_valid_after(now - dt.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )  # fmt: skip
    crt, keyfile = tmp_path / "expired.crt", tmp_path / "expired.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))  # fmt: skip
    kc = kubeconfig_with(lab, tmp_path, user={"client-certificate": str(crt), "client-key": str(keyfile)})
    sees(check(lab, tmp_path / "r", kubeconfig=kc))


@api_row("a kubeconfig context that does not exist (`--kube-context nope`)", "context 'nope' is not in")
def test_context_that_does_not_exist(lab: Any, tmp_path: Path, sees):
    sees(check(lab, tmp_path / "r", "--kube-context", "nope"))


@api_row("slow Kubernetes API: every answer 8 s late, `--api-timeout 2`", "timed out", within_s=60)
def test_slow_api(lab: Any, tmp_path: Path, sees):
    proxy = FaultProxy(None, upstream=("127.0.0.1", 6443)).start()
    proxy.rules.append(Rule("", delay_s=8))  # every chunk from the client waits: TLS passes through, late
    try:
        kc = kubeconfig_with(lab, tmp_path, server=proxy.url.replace("tcp://", "https://"))
        run = check(lab, tmp_path / "r", "--api-timeout", "2", kubeconfig=kc)
    finally:
        proxy.stop()
    sees(run)


@contextlib.contextmanager
def api_behind_fault_proxy(lab: Any, tmp_path: Path, rule: Rule, port: int = 18441) -> Iterator[Path]:
    """A kubeconfig whose API server is plain HTTP through `kubectl proxy` and the fault proxy, so a rule
    sees each request line."""
    with kubectl_proxy(lab, port):
        proxy = FaultProxy(None, upstream=("127.0.0.1", port)).start()
        proxy.rules.append(rule)
        try:
            yield plain_kubeconfig(tmp_path, proxy.url.replace("tcp://", "http://"))
        finally:
            proxy.stop()


NEVER_PASSED = "no-network-errors never passed for that pod"


@pytest.mark.reliability(
    "a runner pod deleted in the middle of a run (just before its logs are read)",
    Sees(exit=1, outcomes={LOGS: "not-evaluable"}, says={LOGS: "gone during the run"}, facts=(NEVER_PASSED,),
         report=True),
)
def test_pod_deleted_mid_run(lab: Any, tmp_path: Path, sees):
    apply(lab, "healthy")
    pod = pods(lab, RUNNERS)[0]["metadata"]["name"]

    def delete_pod(_: Any) -> None:
        kubectl(lab, "-n", NS, "delete", "pod", pod, "--grace-period=0", "--force", "--wait=true")

    rule = Rule(rf"GET /api/v1/namespaces/{NS}/pods/{pod}/log", before=delete_pod)
    try:
        with api_behind_fault_proxy(lab, tmp_path, rule) as kc:
            run = check(lab, tmp_path / "r", kubeconfig=kc)
    finally:
        apply(lab, "healthy")
    assert rule.hits >= 1, "the log read never happened"
    sees(run)
    nets = [e for e in run.entries(NET) if pod in e["object"]]
    sees.fact(NEVER_PASSED, all(e["outcome"] != "passed" for e in nets), nets)


@pytest.mark.reliability(
    "a pod log stream that drips one byte every 2 s (each read answers within `--api-timeout`), `--log-timeout 5s`",
    Sees(exit=1, within_s=60, outcomes={LOGS: "warning", NET: "not-evaluable"},
         says={LOGS: "not to the newest line", NET: ("read only in part", "within 5s (--log-timeout)")}),
)
def test_dripping_pod_log_is_bounded_by_the_log_timeout(lab: Any, tmp_path: Path, sees):
    apply(lab, "healthy")
    rule = Rule(rf"GET /api/v1/namespaces/{NS}/pods/[^/]+/log", drip_s=2)
    with api_behind_fault_proxy(lab, tmp_path, rule, port=18442) as kc:
        run = check(lab, tmp_path / "r", "--probe", "off", "--log-timeout", "5s", kubeconfig=kc)
    assert rule.hits >= 1
    sees(run)


NO_WRITES = "the audit log shows only get and list (and the access reviews, which store nothing): no write verb"


@pytest.mark.reliability(
    "the whole Kubernetes suite as a ServiceAccount bound only to rbac/role.yaml, on the operator-stuck scenario, `--probe off`",
    Sees(exit=1, outcomes={PERMS: "passed", "k8s.upgrade.operator-stuck": "failed", REACH: "skipped"},
         facts=(NO_WRITES,)),
)
def test_read_only_role_is_enough_and_writes_nothing(lab: Any, tmp_path: Path, sees):
    # a scenario that exercises operators, logs, events and the secret
    run, verbs = run_as_read_only_role(lab, tmp_path, "operator-stuck", "--probe", "off")
    sees(run)
    writes = {v for v in verbs if v[0] not in ("get", "list", "watch")}
    # SelfSubjectAccessReview ("may I?") and SelfSubjectReview ("who am I?") are questions: they store nothing.
    sees.fact(NO_WRITES, bool(verbs) and writes <= {("create", "selfsubjectaccessreviews"),
                                                    ("create", "selfsubjectreviews")}, (verbs, writes))  # fmt: skip
    (Path(__file__).resolve().parents[2] / "reports" / "integration" / "k8s-audit-verbs.txt").write_text(
        "\n".join(f"{v} {r}" for v, r in sorted(verbs)) + "\n"
    )


ROLE_HINT = "a hint of each names the Role to apply (`kubectl apply -f rbac/role-probe-exec.yaml`)"
NO_EXEC = "no exec tried (audit log)"
NODES = "k8s.beyond.node-pressure"
NODES_HINT = "a hint names the ClusterRole to apply (`kubectl apply -f rbac/clusterrole-nodes.yaml`)"
NO_NODES = "no node read tried; NetworkPolicies, ResourceQuotas and LimitRanges listed once each (audit log)"
BEYOND_PASSED = "k8s.beyond.network-policy, evicted-pods and quota-blocks-upgrade passed"


@pytest.mark.reliability(
    "only rbac/role.yaml granted (no `create pods/exec`, no rbac/clusterrole-nodes.yaml), healthy runner, default "
    "options",
    Sees(exit=0, outcomes={PERMS: "passed", REACH: "skipped", CLOCK: "skipped", NODES: "skipped"},
         says={PERMS: ("Not granted, by choice: create pods/exec", "get nodes"), REACH: "may not exec into pods in blink",
               CLOCK: "may not exec into pods in blink", NODES: "may not get nodes"},
         facts=(ROLE_HINT, NO_EXEC, NODES_HINT, NO_NODES, BEYOND_PASSED)),
)
def test_read_only_role_healthy_runner_passes_with_the_probe_skipped(lab: Any, tmp_path: Path, sees):
    run, verbs = run_as_read_only_role(lab, tmp_path, "healthy")  # default --probe (auto)
    sees(run)
    hints = {cid: run.entries(cid)[0]["hints"] for cid in (REACH, CLOCK)}
    sees.fact(ROLE_HINT, all(any("kubectl apply -f rbac/role-probe-exec.yaml" in h for h in hs)
                             for hs in hints.values()), hints)  # fmt: skip
    sees.fact(NO_EXEC, ("create", "pods/exec") not in verbs and ("get", "pods/exec") not in verbs, verbs)
    node_hints = run.entries(NODES)[0]["hints"]
    sees.fact(NODES_HINT, any("kubectl apply -f rbac/clusterrole-nodes.yaml" in h for h in node_hints), node_hints)
    listed = {("list", k) for k in ("networkpolicies", "resourcequotas", "limitranges")}
    sees.fact(NO_NODES, not any(r == "nodes" for _, r in verbs) and listed <= verbs, verbs)
    others = [e["outcome"] for c in ("network-policy", "evicted-pods", "quota-blocks-upgrade")
              for e in run.entries(f"k8s.beyond.{c}")]  # fmt: skip
    sees.fact(BEYOND_PASSED, others == ["passed"] * 3, others)


def run_as_read_only_role(lab: Any, tmp_path: Path, scenario: str, *extra: str) -> tuple[CheckRun, set[tuple[str, str]]]:
    """The suite as a ServiceAccount bound only to rbac/role.yaml, on `scenario`; its run and its audited verbs."""
    apply(lab, scenario)
    docs = list(yaml.safe_load_all((Path(__file__).resolve().parents[2] / "rbac" / "role.yaml").read_text()))
    for d in docs:
        d["metadata"].setdefault("labels", {})["blink-lab.io/scenario"] = scenario
    kubectl(lab, "apply", "-f", "-", input_text=yaml.safe_dump_all(docs))
    try:
        kc = _sa_kubeconfig(lab, tmp_path, "blink-health-check")
        started = dt.datetime.now(dt.UTC)
        run = check(lab, tmp_path / "r", *extra, kubeconfig=kc)
        time.sleep(1)  # the audit backend flushes in batches of at most a second
        return run, audit_verbs(lab, "system:serviceaccount:blink:blink-health-check", started)
    finally:
        kubectl(lab, "-n", NS, "delete", "serviceaccount,role,rolebinding", "-l",
                "app.kubernetes.io/name=blink-health-check", "--ignore-not-found", check=False)  # fmt: skip
