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
from tests.reliability import Sees

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


OWN_CA = "exec'd curl uses the runner's own trust store (`--cacert $SSL_CERT_FILE`)"
WGET_NO_CERT = "without curl: warning, busybox wget \"does not check certificates\""
NC_TCP_ONLY = "with only nc: warning, \"TLS and HTTP not verified\""


@pytest.mark.reliability(
    "Kubernetes: a healthy runner whose Blink URL is HTTPS with a private CA (`SSL_CERT_FILE`)",
    Sees(exit=0, outcomes={REACH: "passed"}, says={REACH: "answers (HTTP 200; certificate issued by CN=Blink Lab CA)"},
         facts=(OWN_CA, WGET_NO_CERT, NC_TCP_ONLY)),
)
def test_healthy_runner_over_https_with_the_runners_own_ca(lab: Any, sees) -> None:
    apply(lab, "healthy")
    r = run(lab, "healthy")
    sees(r)
    entry = reach(r)
    sees.fact(OWN_CA, "curl -sSv" in evidence(entry) and "--cacert /blink/ca.pem" in evidence(entry), evidence(entry))

    wget, nc = tiers(lab, "healthy")
    sees.fact(WGET_NO_CERT, "(wget)" in evidence(wget) and wget["outcome"] == "warning"
              and "but not verified: TLS: busybox wget does not check certificates" in wget["summary"], wget)
    sees.fact(NC_TCP_ONLY, nc["outcome"] == "warning" and "a TCP connection to https://blink.lab.test:18443 succeeds "
              "(nc; TLS and HTTP not verified" in nc["summary"], nc)


CLOCK = "k8s.runner.clock-skew"


def exec_commands(lab: Any, since: Any) -> list[list[str]]:
    """The commands exec'd into pods of the lab's namespace since `since`, in order, from the API server's audit log."""
    import datetime as dt
    from urllib.parse import parse_qs, urlsplit

    seen: dict[str, tuple[dt.datetime, list[str]]] = {}
    for line in (lab.state / "logs" / "audit.log").read_text(errors="replace").splitlines():
        ev = json.loads(line)
        ref = ev.get("objectRef") or {}
        if ref.get("subresource") != "exec" or ref.get("namespace") != NS:
            continue
        when = dt.datetime.fromisoformat(ev["requestReceivedTimestamp"].replace("Z", "+00:00"))
        if when >= since:
            seen[ev["auditID"]] = (when, parse_qs(urlsplit(ev["requestURI"]).query).get("command", []))
    return [cmd for _, cmd in sorted(seen.values())]


CURL_CLOCK = "with curl: Blink's Date from `curl -v`, the pod's clock from `date -u +%s` exec'd after it (audit log: two execs)"
WGET_CLOCK = "without curl: Blink's Date from busybox `wget -S`: passed"
NC_CLOCK = "with only nc: skipped (\"the probe ran nc, which only connects\"), no `date` exec'd"


@pytest.mark.reliability(
    "Kubernetes: a healthy runner pod's clock against Blink's Date, with each probe tool",
    Sees(exit=0, outcomes={CLOCK: "passed"}, says={CLOCK: "is within 1m of Blink's"},
         facts=(CURL_CLOCK, WGET_CLOCK, NC_CLOCK)),
)
def test_runner_clock_with_each_tool(lab: Any, sees) -> None:
    import datetime as dt
    import time

    apply(lab, "healthy")
    started = dt.datetime.now(dt.UTC)
    r = run(lab, "clock", "-k", "clock-skew")
    time.sleep(1)  # the audit backend flushes in batches of at most a second
    sees(r)
    [entry] = r.entries(CLOCK)
    execs = exec_commands(lab, started)
    sees.fact(CURL_CLOCK, "Blink's Date header: " in evidence(entry) and [c[0] for c in execs] == ["curl", "date"],
              (evidence(entry), execs))
    without(lab, "/usr/bin/curl")
    [wget] = run(lab, "clock-wget", "-k", "clock-skew").entries(CLOCK)
    sees.fact(WGET_CLOCK, wget["outcome"] == "passed" and "is within 1m of Blink's" in wget["summary"], wget)
    without(lab, "/bin/wget")
    started = dt.datetime.now(dt.UTC)
    [nc] = run(lab, "clock-nc", "-k", "clock-skew").entries(CLOCK)
    time.sleep(1)
    execs = exec_commands(lab, started)
    sees.fact(NC_CLOCK, nc["outcome"] == "skipped" and "the probe ran nc, which only connects" in nc["summary"]
              and "date" not in [c[0] for c in execs], (nc, execs))


NAMESERVER_HINT = "a hint names the pod's own nameservers"
WGET_DNS = "without curl: busybox wget fails at the DNS layer (\"bad address\")"
NC_EITHER = ("with only nc: failed at the DNS layer (\"bad address\") when the resolver gives up first, else at \"DNS or TCP "
             "connect (timeout)\" (nc cannot tell them apart), both causes advised")


@pytest.mark.reliability(
    "Kubernetes: the runner pod's nameserver never answers (`dnsPolicy: None`)",
    Sees(exit=1, outcomes={ERRORS: "failed", REACH: "failed"},
         says={REACH: "failed at the DNS (timeout) layer: curl: (28) Resolving timed out"},
         facts=(NAMESERVER_HINT, WGET_DNS, NC_EITHER)),
)
def test_dead_nameserver_is_the_dns_layer(lab: Any, sees) -> None:
    apply(lab, "dns-dead")
    r = run(lab, "dns-dead")
    sees(r)
    entry = reach(r)
    sees.fact(NAMESERVER_HINT, "its own nameservers" in " ".join(entry["hints"]), entry["hints"])

    wget, nc = tiers(lab, "dns-dead")
    sees.fact(WGET_DNS, "(wget)" in evidence(wget) and wget["outcome"] == "failed"
              and "failed at the DNS layer" in wget["summary"]
              and "bad address 'blink.lab.test:18443'" in wget["summary"], wget)
    # Which ends first, busybox's resolver or nc's own -w, is a race: both answers name the cause honestly.
    either = ("failed at the DNS or TCP connect (timeout) layer" in nc["summary"]
              and "nc does not say whether the name lookup of blink.lab.test or the connect hung" in nc["summary"]
              and "resolving blink.lab.test or connecting to it hung" in " ".join(nc["hints"]))
    dns = "failed at the DNS layer" in nc["summary"] and "nc: bad address 'blink.lab.test'" in nc["summary"]
    sees.fact(NC_EITHER, nc["outcome"] == "failed" and (either or dns), nc)


ISSUER_SEEN = "the hint and the evidence name the issuer, seen with a second `curl -k`"
WGET_BLIND = "without curl: busybox wget cannot see it (warning: \"does not check certificates\"); nc: warning"


@pytest.mark.reliability(
    "Kubernetes: a TLS-inspecting proxy re-signs Blink's certificate with a CA the runner does not trust",
    Sees(exit=1, outcomes={ERRORS: "failed", REACH: "failed"},
         says={REACH: f"failed at the TLS layer: certificate issued by {INSPECTOR} is not trusted"},
         facts=(ISSUER_SEEN, WGET_BLIND)),
)
def test_inspecting_proxy_is_the_tls_layer_and_names_its_issuer(lab: Any, sees) -> None:
    apply(lab, "tls-inspected")
    r = run(lab, "tls-inspected")
    sees(r)
    entry = reach(r)
    text = evidence(entry)
    sees.fact(ISSUER_SEEN, f"is issued by {INSPECTOR}, which the runner does not trust" in " ".join(entry["hints"])
              and f"issuer {INSPECTOR}" in text and "certificate seen with curl -k" in text, (entry["hints"], text))

    wget, nc = tiers(lab, "tls-inspected")
    sees.fact(WGET_BLIND, "(wget)" in evidence(wget) and wget["outcome"] == "warning"
              and "does not check certificates" in wget["summary"]
              and nc["outcome"] == "warning" and "TLS and HTTP not verified" in nc["summary"], (wget, nc))


NC_AT_PROXY = ("without curl, nc is pointed at the proxy (busybox wget, which goes around it for https, is not "
               "judged, and says why): failed at the proxy layer")
NO_PASSWORD = "the proxy's password is in no report"


@pytest.mark.reliability(
    "Kubernetes: `HTTPS_PROXY` (with a password) in the runner pod points at a dead port",
    Sees(exit=1, outcomes={ERRORS: "failed", REACH: "failed"},
         says={REACH: ("failed at the proxy layer: could not connect to the proxy: curl: (7)",
                       "Failed to connect to 10.244.0.1 port 3128")},
         facts=(NC_AT_PROXY, NO_PASSWORD)),
)
def test_dead_proxy_is_the_proxy_layer(lab: Any, sees) -> None:
    apply(lab, "proxy-dead")
    r = run(lab, "proxy-dead")
    sees(r)
    entry = reach(r)

    wget, nc = tiers(lab, "proxy-dead")
    sees.fact(NC_AT_PROXY, "(nc)" in evidence(wget)  # wget went straight to Blink: nc was asked instead
              and all(f["outcome"] == "failed" and "failed at the proxy layer: could not connect to the proxy "
                      "10.244.0.1:3128" in f["summary"] for f in (wget, nc))
              and "not judged from wget: wget went straight to blink.lab.test:18443, not through the runner's proxy"
              in evidence(wget), (wget, nc))

    written = "".join(p.read_text(errors="replace") for p in OUT.rglob("*") if p.is_file())
    sees.fact(NO_PASSWORD, scenario.PROXY_SECRET not in written)
    assert "blink-proxy:[REDACTED]@10.244.0.1:3128" in json.dumps(entry)
