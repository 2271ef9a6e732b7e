"""The Kubernetes egress probe names each broken layer, on the lab cluster, with default probe options.

The lab's runners talk to the Blink stand-in at https://blink.lab.test:18443, like production: HTTPS
with a name that only the lab's DNS (the pods' nameserver) resolves, a certificate from the lab CA
the runners trust (SSL_CERT_FILE). Each scenario breaks one layer for real: the pod's nameserver is
dead (dns-dead), a TLS-inspecting proxy re-signs the stand-in's HTTPS with a CA nobody trusts
(tls-inspected, iptables REDIRECT), HTTPS_PROXY points at a dead port (proxy-dead). `pytest checks/`
runs as a user runs it; the probe is an exec into the runner pod with the first tool it has.

Then the same pod without curl (busybox wget), and without wget either (busybox nc): what each tool
can tell apart, and what it cannot (busybox wget checks no certificate and goes around the proxy for
https; nc only connects, and its timeout is the same for a lookup and a connect), said in the finding.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from lab.k8s import scenario
from tests.harness import ROOT, CheckRun
from tests.integration.k8s_lab import NS, RUNNERS, apply, check, kubectl, pods

pytestmark = pytest.mark.k8s_lab

REACH = "k8s.disconnected.blink-reachable"
ERRORS = "k8s.disconnected.no-network-errors"
OUT = ROOT / "reports" / "integration" / "k8s-probe"
INSPECTOR = "CN=Blink Lab TLS-Inspecting Proxy CA"


def run(lab: Any, name: str, *extra: str) -> CheckRun:
    r = check(lab, OUT / name, *extra)
    (OUT / name / "stdout.txt").write_text(r.stdout)
    print(f"{name}: exit {r.exit_code} in {r.wall_s:.1f} s; {REACH}: "
          f"{[(e['outcome'], e['summary']) for e in r.entries(REACH)]}")  # fmt: skip
    return r


def reach(r: CheckRun) -> dict[str, Any]:
    [entry] = r.entries(REACH)
    return entry


def evidence(entry: dict[str, Any]) -> str:
    return "\n".join(e["text"] for e in entry["evidence"])


def without(lab: Any, *tools: str) -> None:
    """The runner container loses tools, as many real runner images never had them."""
    [p] = pods(lab, RUNNERS)
    kubectl(lab, "-n", NS, "exec", p["metadata"]["name"], "-c", "blink-runner", "--", "rm", "-f", *tools)


def tiers(lab: Any, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The probe's answer with busybox wget (no curl), then with busybox nc (no curl, no wget)."""
    without(lab, "/usr/bin/curl")
    wget = reach(run(lab, f"{name}-wget", "-k", "blink-reachable"))
    assert "kubectl exec" in evidence(wget) and "curl" not in evidence(wget).split("\n", 1)[0], evidence(wget)
    without(lab, "/bin/wget")
    nc = reach(run(lab, f"{name}-nc", "-k", "blink-reachable"))
    assert "(nc)" in evidence(nc), evidence(nc)
    return wget, nc


@pytest.mark.reliability(
    fault="Kubernetes: a healthy runner whose Blink URL is HTTPS with a private CA (`SSL_CERT_FILE`)",
    sees="blink-reachable passed (exec, curl with the runner's own trust store: `--cacert $SSL_CERT_FILE`), issuer shown; without curl: warning, busybox wget \"does not check certificates\"; nc: warning, TCP only",
)
def test_healthy_runner_over_https_with_the_runners_own_ca(lab: Any) -> None:
    apply(lab, "healthy")
    r = run(lab, "healthy")
    assert r.exit_code == 0, r.stdout[-3000:]
    entry = reach(r)
    assert entry["outcome"] == "passed", entry
    assert "resolves, connects and answers (HTTP 200; certificate issued by CN=Blink Lab CA)" in entry["summary"]
    assert "curl -sSv" in evidence(entry) and "--cacert /blink/ca.pem" in evidence(entry)

    wget, nc = tiers(lab, "healthy")
    assert "(wget)" in evidence(wget)
    assert wget["outcome"] == "warning", wget
    assert "but not verified: TLS: busybox wget does not check certificates" in wget["summary"], wget
    assert nc["outcome"] == "warning", nc
    assert "a TCP connection to https://blink.lab.test:18443 succeeds (nc; TLS and HTTP not verified" in nc["summary"]


@pytest.mark.reliability(
    fault="Kubernetes: the runner pod's nameserver never answers (`dnsPolicy: None`)",
    sees="blink-reachable failed at the DNS (timeout) layer (curl; busybox wget: DNS, \"bad address\"); with only nc: \"DNS or TCP connect (timeout)\", nc cannot tell them apart, both causes advised",
)
def test_dead_nameserver_is_the_dns_layer(lab: Any) -> None:
    apply(lab, "dns-dead")
    r = run(lab, "dns-dead")
    assert r.exit_code == 1
    assert r.outcome(ERRORS) == "failed"
    entry = reach(r)
    assert entry["outcome"] == "failed", entry
    assert "https://blink.lab.test:18443 failed at the DNS (timeout) layer: curl: (28) Resolving timed out" in (
        entry["summary"])
    assert "its own nameservers" in " ".join(entry["hints"])

    wget, nc = tiers(lab, "dns-dead")
    assert "(wget)" in evidence(wget)
    assert wget["outcome"] == "failed" and "failed at the DNS layer" in wget["summary"], wget
    assert "bad address 'blink.lab.test:18443'" in wget["summary"]
    assert nc["outcome"] == "failed", nc
    assert "failed at the DNS or TCP connect (timeout) layer" in nc["summary"], nc
    assert "nc does not say whether the name lookup of blink.lab.test or the connect hung" in nc["summary"]
    assert "resolving blink.lab.test or connecting to it hung" in " ".join(nc["hints"])


@pytest.mark.reliability(
    fault="Kubernetes: a TLS-inspecting proxy re-signs Blink's certificate with a CA the runner does not trust",
    sees="blink-reachable failed at the TLS layer naming the issuer (CN=Blink Lab TLS-Inspecting Proxy CA; seen with a second `curl -k`); busybox wget cannot see it (warning: \"does not check certificates\")",
)
def test_inspecting_proxy_is_the_tls_layer_and_names_its_issuer(lab: Any) -> None:
    apply(lab, "tls-inspected")
    r = run(lab, "tls-inspected")
    assert r.exit_code == 1
    assert r.outcome(ERRORS) == "failed"
    entry = reach(r)
    assert entry["outcome"] == "failed", entry
    assert (f"failed at the TLS layer: certificate issued by {INSPECTOR} is not trusted "
            "(self-signed certificate in certificate chain)") in entry["summary"], entry  # fmt: skip
    assert f"is issued by {INSPECTOR}, which the runner does not trust" in " ".join(entry["hints"])
    text = evidence(entry)
    assert f"issuer {INSPECTOR}" in text and "certificate seen with curl -k" in text, text

    wget, nc = tiers(lab, "tls-inspected")
    assert "(wget)" in evidence(wget)
    assert wget["outcome"] == "warning" and "does not check certificates" in wget["summary"], wget
    assert nc["outcome"] == "warning" and "TLS and HTTP not verified" in nc["summary"], nc


@pytest.mark.reliability(
    fault="Kubernetes: `HTTPS_PROXY` (with a password) in the runner pod points at a dead port",
    sees="blink-reachable failed at the proxy layer (curl; without curl, nc is pointed at the proxy: busybox wget, which goes around it for https, is not judged, and says why); the password is in no report",
)
def test_dead_proxy_is_the_proxy_layer(lab: Any) -> None:
    apply(lab, "proxy-dead")
    r = run(lab, "proxy-dead")
    assert r.exit_code == 1
    assert r.outcome(ERRORS) == "failed"
    entry = reach(r)
    assert entry["outcome"] == "failed", entry
    assert "failed at the proxy layer: could not connect to the proxy: curl: (7)" in entry["summary"], entry
    assert "Failed to connect to 10.244.0.1 port 3128" in entry["summary"]

    wget, nc = tiers(lab, "proxy-dead")
    assert "(nc)" in evidence(wget)  # wget went straight to Blink, not through the proxy: nc was asked instead
    for found in (wget, nc):
        assert found["outcome"] == "failed", found
        assert "failed at the proxy layer: could not connect to the proxy 10.244.0.1:3128" in found["summary"]
    assert "not judged from wget: wget went straight to blink.lab.test:18443, not through the runner's proxy" in (
        evidence(wget))

    written = "".join(p.read_text(errors="replace") for p in OUT.rglob("*") if p.is_file())
    assert scenario.PROXY_SECRET not in written
    assert "blink-proxy:[REDACTED]@10.244.0.1:3128" in json.dumps(entry)
