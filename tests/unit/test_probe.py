"""The egress probe's layers: tool output -> steps, the judge, the container's own configuration
(resolv.conf, hosts, proxies, trust store), DNS on the wire, certificates; and the namespace probe's
child process for real, in this process's own network namespace against loopback servers."""

from __future__ import annotations

import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from blinkcheck.catalog import fill, load_catalog
from blinkcheck.docker import netns_probe
from blinkcheck.model import Outcome
from blinkcheck.probe.environment import (
    Proxy,
    bypasses,
    cert_info,
    dns_answer,
    dns_query,
    hosts_lookup,
    parse_resolv_conf,
    proxy_for,
)
from blinkcheck.probe.judge import judge_probe
from blinkcheck.probe.result import CertInfo, ProbeResult, Step
from blinkcheck.probe.tools import from_tool_output, tool_commands
from lab import standin
from lab.k8s import pki

CATALOG = load_catalog()
URL = "https://app.blinkops.com"
DOCKER = "docker.disconnected.blink-reachable"
K8S = "k8s.disconnected.blink-reachable"


def judge(r: ProbeResult, strict: bool = True, cid: str = DOCKER):
    return judge_probe(cid, r, {"container_name": "blink-runner", "container_id": "abc", "pod": "p",
                                "namespace": "blink"}, strict, CATALOG.probe_layers)  # fmt: skip


def remedy(f) -> str:
    return CATALOG[f.condition_id].remediation(f.variant, f.values)


# ------------------------------------------------------------------ tools -> layers


@pytest.mark.parametrize(
    ("tool", "rc", "stdout", "stderr", "outcome", "layer"),
    [
        ("curl", 0, "200", "", Outcome.PASSED, "HTTP"),
        ("curl", 6, "000", "curl: (6) Could not resolve host: app.blinkops.com", Outcome.FAILED, "DNS"),
        ("curl", 7, "000", "curl: (7) Failed to connect to x port 443: Connection refused", Outcome.FAILED,
         "TCP connect"),
        ("curl", 28, "000", "curl: (28) Failed to connect to x port 443: Connection timed out", Outcome.FAILED,
         "TCP connect (timeout)"),
        ("curl", 28, "000", "curl: (28) Operation timed out after 10000 milliseconds with 0 bytes received",
         Outcome.FAILED, "HTTP (timeout)"),
        ("curl", 35, "000", "curl: (35) OpenSSL SSL_connect: SSL_ERROR_SYSCALL", Outcome.FAILED, "TLS"),
        ("curl", 60, "000", "curl: (60) SSL certificate problem: self-signed certificate in certificate chain",
         Outcome.FAILED, "TLS"),
        ("curl", 7, "000", "* Uses proxy env variable HTTPS_PROXY == 'http://10.0.0.9:3128'\n"
         "curl: (7) Failed to connect to 10.0.0.9 port 3128: Connection refused", Outcome.FAILED, "proxy"),
        ("curl", 56, "000", "* Establish HTTP proxy tunnel to app.blinkops.com:443\n"
         "< HTTP/1.1 403 Forbidden\ncurl: (56) CONNECT tunnel failed, response 403", Outcome.FAILED, "proxy"),
        ("curl", 0, "503", "", Outcome.WARNING, "HTTP"),
        ("wget", 1, "", "wget: bad address 'app.blinkops.com'", Outcome.FAILED, "DNS"),
        ("wget", 1, "", "wget: can't connect to remote host (10.0.0.1): Connection refused", Outcome.FAILED,
         "TCP connect"),
        ("wget", 1, "", "wget: download timed out", Outcome.FAILED, "TCP connect (timeout)"),
        ("wget", 1, "", "  HTTP/1.1 503 Service Unavailable\nwget: server returned error: HTTP/1.1 503 Service "
         "Unavailable", Outcome.WARNING, "HTTP"),
        ("wget", 0, "", "  HTTP/1.1 200 OK", Outcome.PASSED, "HTTP"),
        ("nc", 0, "", "", Outcome.WARNING, "TCP connect"),  # https: a bare TCP connect does not verify TLS
        ("nc", 1, "", "nc: bad address 'app.blinkops.com'", Outcome.FAILED, "DNS"),
        ("nc", 1, "", "", Outcome.FAILED, "TCP connect"),
    ],
)  # fmt: skip
def test_tool_output_names_the_layer(tool, rc, stdout, stderr, outcome, layer):
    cmd = f"kubectl exec -n blink p -c blink-runner -- {tool} {URL}"
    r = from_tool_output(tool, "pod blink/p", URL, rc, stdout, stderr, command=cmd)
    f = judge(r, cid=K8S)
    assert f.outcome is outcome, f.summary
    assert f.values["layer"] == layer
    if outcome is Outcome.FAILED:
        text = remedy(f)
        assert f"at the {layer} layer" in text
        assert f"`{cmd}`" in text  # the reproduce line is the command that ran


def test_curl_verbose_certificate_is_shown():
    err = "*  subject: CN=app.blinkops.com\n*  issuer: C=US; O=Let's Encrypt; CN=R11\n"
    r = from_tool_output("curl", "c", URL, 0, "200", err)
    f = judge(r)
    assert f.outcome is Outcome.PASSED and "issued by C=US; O=Let's Encrypt; CN=R11" in f.summary


def test_killed_tool_is_not_a_network_verdict():
    f = judge(from_tool_output("curl", "pod blink/x", URL, 137, "", ""))
    assert f.outcome is Outcome.NOT_EVALUABLE and "killed by signal 9" in f.summary


def test_probe_that_did_not_finish_is_not_evaluable_in_every_mode():
    r = from_tool_output("curl", "pod blink/x", URL, None, "", "", error="exec failed: boom")
    for strict in (True, False):
        f = judge(r, strict)
        assert f.outcome is Outcome.NOT_EVALUABLE and "boom" in f.summary


def test_probe_that_cannot_run_here_is_skipped_in_auto_and_not_evaluable_when_on():
    r = ProbeResult("pod blink/x", URL, unavailable="u may not exec into pods in blink",
                    enable="kubectl apply -f rbac/role-probe-exec.yaml")  # fmt: skip
    auto = judge(r, strict=False, cid=K8S)
    assert auto.outcome is Outcome.SKIPPED
    assert "may not exec" in auto.summary and "kubectl apply -f rbac/role-probe-exec.yaml" in auto.hints[0]
    on = judge(r, strict=True, cid=K8S)
    assert on.outcome is Outcome.NOT_EVALUABLE and "kubectl apply -f rbac/role-probe-exec.yaml" in on.summary


def test_untrusted_certificate_names_the_issuer_and_says_inspection():
    r = ProbeResult(
        "container blink-runner (abc)", URL,
        steps=(Step("dns", True, "ok"), Step("tcp", True, "ok"), Step("tls", False, "certificate not trusted: x")),
        cert=cert_info(_leaf("Corp Proxy CA")[1]), cert_problem="unable to get local issuer certificate",
        reproduce="nsenter -t 42 -n curl -v https://app.blinkops.com",
    )  # fmt: skip
    f = judge(r)
    assert f.outcome is Outcome.FAILED and f.values["layer"] == "TLS"
    assert "CN=Corp Proxy CA" in f.hints[0] and "TLS-inspecting proxy" in f.hints[0]
    assert "`nsenter -t 42 -n curl -v https://app.blinkops.com`" in remedy(f)
    assert "issuer CN=Corp Proxy CA" in f.evidence[0].text


def test_each_layer_has_its_advice_in_the_catalog():
    assert set(CATALOG.probe_layers) == {"dns", "tcp", "dns-or-tcp", "proxy", "tls", "tls-untrusted", "http"}
    for name in ("dns", "tcp", "proxy", "http"):
        r = ProbeResult("c", URL, steps=(Step(name, False, "broken"),))
        assert judge(r).hints, name


# ------------------------------------------------------------------ the container's configuration


def test_resolv_conf_and_search_list():
    rc = parse_resolv_conf("# generated\nnameserver 127.0.0.11\nnameserver fe80::1%eth0\nsearch a.svc b\n"
                           "options ndots:5 timeout:2 attempts:3\n")  # fmt: skip
    assert rc.nameservers == ("127.0.0.11", "fe80::1") and rc.timeout_s == 2 and rc.attempts == 3
    assert rc.candidates("blink.lab.test") == ["blink.lab.test.a.svc", "blink.lab.test.b", "blink.lab.test"]
    assert parse_resolv_conf("options ndots:0").candidates("x") == ["x"]
    assert parse_resolv_conf("").nameservers == ("127.0.0.1",)


def test_hosts_file_wins():
    text = "127.0.0.1 localhost\n10.1.2.3 blink.lab.test blink # lab\n"
    assert hosts_lookup(text, "BLINK.lab.test") == "10.1.2.3" and hosts_lookup(text, "other") == ""


@pytest.mark.parametrize(
    ("env", "url", "expected"),
    [
        ({"HTTPS_PROXY": "http://u:secret@10.0.0.9:3128"}, URL, "http://u:[REDACTED]@10.0.0.9:3128 (from HTTPS_PROXY)"),
        ({"https_proxy": "10.0.0.9:8080"}, URL, "http://10.0.0.9:8080 (from https_proxy)"),
        ({"HTTP_PROXY": "http://10.0.0.9:3128"}, URL, None),  # an https URL takes HTTPS_PROXY only
        ({"HTTPS_PROXY": "http://p:3128", "NO_PROXY": ".blinkops.com"}, URL, None),
        ({"HTTPS_PROXY": "http://p:3128", "no_proxy": "*"}, URL, None),
        ({"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "blinkops.com:80"}, URL, "http://p:3128 (from HTTPS_PROXY)"),
        ({"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "10.0.0.0/8"}, "https://10.1.1.1", None),
        ({"HTTPS_PROXY": "http://p:3128"}, "https://127.0.0.1:8443", None),
    ],
)
def test_proxy_choice_as_go_makes_it(env, url, expected):
    p = proxy_for(url, env)
    assert (p.shown if p else None) == expected


def test_no_proxy_matching():
    assert bypasses("eu1.blinkops.com", 443, "blinkops.com")
    assert not bypasses("notblinkops.com", 443, "blinkops.com")


def test_trust_store_is_the_containers_and_symlinks_stay_inside(tmp_path: Path):
    root = tmp_path / "root"
    (root / "etc/pki/ca-trust/extracted/pem").mkdir(parents=True)
    (root / "etc/pki/tls/certs").mkdir(parents=True)
    (root / "etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem").write_text("container CA")
    # RHEL: an absolute link, which must resolve inside the container's root, not the host's
    (root / "etc/pki/tls/certs/ca-bundle.crt").symlink_to("/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem")
    found = netns_probe.in_root(str(root), "/etc/pki/tls/certs/ca-bundle.crt")
    assert Path(found).read_text() == "container CA"
    (root / "escape").symlink_to("../../../../../../etc/hostname")
    assert netns_probe.in_root(str(root), "/escape").startswith(str(root))


# ------------------------------------------------------------------ DNS on the wire, certificates


def test_dns_question_and_answer_against_the_lab_dns():
    records = {"blink.lab.test": "172.30.251.1"}
    ans = dns_answer(standin.dns_reply(dns_query("blink.lab.test", 1, 4242), records) or b"", 4242)
    assert ans.rcode == 0 and ans.addresses == ("172.30.251.1",)
    nx = dns_answer(standin.dns_reply(dns_query("app.blinkops.com", 1, 7), records) or b"", 7)
    assert nx.rcode_name == "NXDOMAIN" and nx.addresses == ()
    with pytest.raises(ValueError):
        dns_answer(standin.dns_reply(dns_query("blink.lab.test", 1, 1), records) or b"", 2)  # not our question


def _leaf(ca_name: str) -> tuple[object, bytes]:
    from cryptography.hazmat.primitives import serialization

    ca_key, ca_cert = pki.new_ca(ca_name)
    _, cert = pki._issue(ca_key, ca_cert, "app.blinkops.com", dns=("app.blinkops.com",), server=True, client=False)
    return ca_cert, cert.public_bytes(serialization.Encoding.DER)


def test_certificate_subject_issuer_and_names():
    info = cert_info(_leaf("Corp Proxy CA")[1])
    assert (info.subject, info.issuer, info.names) == ("CN=app.blinkops.com", "CN=Corp Proxy CA", ("app.blinkops.com",))


# ------------------------------------------------------------------ the namespace probe's child, for real

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="entering a network namespace needs root")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[dict[str, object]]:
    """Loopback only: an HTTPS stand-in with a trusted CA, one whose CA is not trusted, and a dead port."""
    from cryptography.hazmat.primitives import serialization

    out: dict[str, object] = {}
    started = []
    for name, ca_name in (("good", "Test Lab CA"), ("inspected", "Test Inspecting Proxy CA")):
        ca_key, ca_cert = pki.new_ca(ca_name)
        key, cert = pki._issue(ca_key, ca_cert, "localhost", dns=("localhost",), ips=("127.0.0.1",), server=True,
                               client=False)  # fmt: skip
        pki._write_cert(tmp_path / f"{name}-ca.pem", ca_cert)
        (tmp_path / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        pki._write_key(tmp_path / f"{name}.key", key)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tmp_path / f"{name}.pem", tmp_path / f"{name}.key")
        srv: ThreadingHTTPServer = standin.TLSServer(("127.0.0.1", 0), standin.make_handler(200), ctx)
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        started.append(srv)
        out[name] = f"https://localhost:{srv.server_address[1]}/api/v1/runner/ping"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        out["dead_port"] = s.getsockname()[1]  # closed again: nothing listens there
    out["ca"] = str(tmp_path / "good-ca.pem")
    yield out
    for srv in started:
        srv.shutdown()


@needs_root
def test_namespace_probe_passes_with_the_trusted_ca(servers):
    r = netns_probe.run_in_netns(os.getpid(), "this process", str(servers["good"]),
                                 {"SSL_CERT_FILE": str(servers["ca"])}, 5)  # fmt: skip
    f = judge(r)
    assert f.outcome is Outcome.PASSED, f.evidence[0].text
    assert [s.name for s in r.steps] == ["dns", "tcp", "tls", "http"] and r.http_status == "200"
    assert r.cert is not None and r.cert.issuer == "CN=Test Lab CA"
    assert r.reproduce.startswith(f"nsenter -t {os.getpid()} -n curl -v --cacert ")


@needs_root
def test_namespace_probe_names_the_inspecting_issuer(servers):
    r = netns_probe.run_in_netns(os.getpid(), "this process", str(servers["inspected"]),
                                 {"SSL_CERT_FILE": str(servers["ca"])}, 5)  # fmt: skip
    f = judge(r)
    assert f.outcome is Outcome.FAILED and f.values["layer"] == "TLS", f.evidence[0].text
    assert "CN=Test Inspecting Proxy CA" in f.hints[0]


@needs_root
def test_namespace_probe_dead_proxy_is_the_proxy_layer_and_its_password_is_masked(servers):
    proxy = f"http://user:hunter2-proxy-pw@127.0.0.1:{servers['dead_port']}"
    r = netns_probe.run_in_netns(os.getpid(), "this process", "https://app.blinkops.com",
                                 {"HTTPS_PROXY": proxy}, 5)  # fmt: skip
    f = judge(r)
    assert f.outcome is Outcome.FAILED and f.values["layer"] == "proxy", f.evidence[0].text
    assert "Connection refused" in f.summary
    text = f.summary + f.evidence[0].text + remedy(f)
    assert "hunter2-proxy-pw" not in text and "[REDACTED]" in text


@needs_root
def test_namespace_probe_a_proxy_value_that_is_no_url_is_the_proxy_layer():
    """HTTPS_PROXY=http://[user:pw@fe80::1 (a bracket left open): Go's client refuses it, so the runner reaches nothing;
    the probe says so at the proxy layer, without the value (it may carry a password)."""
    proxy = "http://user:hunter2-proxy-pw@[fe80::1"
    r = netns_probe.run_in_netns(os.getpid(), "this process", "https://app.blinkops.com", {"HTTPS_PROXY": proxy}, 5)
    f = judge(r)
    assert (f.outcome, f.values["layer"]) == (Outcome.FAILED, "proxy"), f.evidence[0].text
    assert f.summary == ("From this process, https://app.blinkops.com failed at the proxy layer: the container's proxy "
                         "variable names no proxy host (not a URL a client can use; Go's client refuses it: invalid "
                         "proxy address)")  # fmt: skip
    assert "hunter2-proxy-pw" not in f.summary + f.evidence[0].text + remedy(f)


@needs_root
def test_namespace_probe_is_bounded_by_the_probe_timeout(monkeypatch):
    # A nameserver that swallows every question, with a resolv.conf timeout longer than the probe's.
    # Port 53 is fixed (resolv.conf has no port): a loopback address of this process's own, so parallel runs
    # (mutmut's children, another checkout) never share it.
    address = f"127.3.{os.getpid() >> 8 & 255}.{os.getpid() & 255 or 1}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
        quiet.bind((address, 53))
        monkeypatch.setattr(netns_probe, "_read", lambda path: f"nameserver {address}\noptions timeout:30\n"
                            if path.endswith("resolv.conf") else "")  # fmt: skip
        started = time.monotonic()
        r = netns_probe.run_in_netns(os.getpid(), "this process", "https://blink.lab.test", {}, 1.5)
        took = time.monotonic() - started
    f = judge(r)
    assert f.outcome is Outcome.FAILED and f.values["layer"] == "DNS (timeout)", f.evidence[0].text
    assert took < 3.5, took


# ------------------------------------------------------------------ edges the mutation tests found


def _answered(status: str, **kw) -> ProbeResult:
    steps = (Step("dns", True, "10.0.0.1"), Step("tcp", True, "connected"), Step("tls", True, "TLSv1.3"),
             Step("http", True, f"HTTP {status}"))  # fmt: skip
    return ProbeResult("container blink-runner (abc)", URL, steps, http_status=status, tool="curl", **kw)


@pytest.mark.parametrize("status", ["500", "502", "503", "504", "599"])
def test_every_server_error_is_a_warning_naming_the_status(status):
    f = judge(_answered(status))
    assert f.outcome is Outcome.WARNING
    assert f.summary == (f"From container blink-runner (abc), {URL} connects but answers HTTP {status} (a server error: "
                         "Blink or a proxy in between).")
    assert (f.values["layer"], f.values["detail"]) == ("HTTP", f"HTTP {status}")


@pytest.mark.parametrize("status", ["200", "204", "301", "401", "404", "499"])
def test_any_other_answer_means_the_path_is_open(status):
    f = judge(_answered(status))
    assert f.outcome is Outcome.PASSED
    assert f.summary == f"From container blink-runner (abc), {URL} resolves, connects and answers (HTTP {status})."
    assert (f.values["layer"], f.values["detail"]) == ("HTTP", f"HTTP {status}")


def _tls_untrusted(**kw) -> ProbeResult:
    steps = (Step("dns", True, "10.0.0.1", ms=3), Step("tcp", True, "connected", ms=12), Step("proxy", True, "CONNECT 200"),
             Step("tls", False, "certificate not trusted", ms=40))  # fmt: skip
    base = dict(method="from inside the network namespace of container blink-runner", tool="python",
                command="nsenter -t 42 -n python probe", reproduce="docker exec blink-runner curl -v " + URL,
                output="  some output \n", proxy="http://proxy.corp:3128 (from HTTPS_PROXY)",
                cert=CertInfo("CN=app.blinkops.com", "CN=Corp Inspect CA", ("app.blinkops.com",), "2027-01-01"),
                cert_problem="self-signed", ca_bundle="/etc/ssl/certs/ca-certificates.crt",
                notes=("nameservers: 10.96.0.10",))  # fmt: skip
    return ProbeResult("container blink-runner (abc)", URL, steps, **{**base, **kw})


def test_a_failed_layer_is_the_finding_with_all_the_probe_saw_as_evidence():
    f = judge(_tls_untrusted())
    assert f.outcome is Outcome.FAILED
    assert f.summary == f"From container blink-runner (abc), {URL} failed at the TLS layer: certificate not trusted"
    assert f.object == "container blink-runner (abc)"
    assert dict(f.values) == {"container_name": "blink-runner", "container_id": "abc", "pod": "p", "namespace": "blink",
                              "blink_url": URL, "blink_host": "app.blinkops.com", "layer": "TLS",
                              "detail": "certificate not trusted", "issuer": "CN=Corp Inspect CA",
                              "reproduce": "docker exec blink-runner curl -v " + URL}  # fmt: skip
    assert [(e.title, e.source) for e in f.evidence] == [("Egress probe", "container blink-runner (abc)")]
    assert f.evidence[0].text.splitlines() == [
        "$ nsenter -t 42 -n python probe",
        "probe: from inside the network namespace of container blink-runner",
        "proxy: http://proxy.corp:3128 (from HTTPS_PROXY)",
        "CA bundle: /etc/ssl/certs/ca-certificates.crt",
        "nameservers: 10.96.0.10",
        "dns    ok     10.0.0.1 (3 ms)",
        "tcp    ok     connected (12 ms)",
        "proxy  ok     CONNECT 200",
        "tls    FAILED certificate not trusted (40 ms)",
        "http   -      not tried",
        "server certificate: subject CN=app.blinkops.com; issuer CN=Corp Inspect CA; names app.blinkops.com; "
        "valid until 2027-01-01",
        "",
        "some output",
        "",
        f"reproduce: docker exec blink-runner curl -v {URL}",
    ]
    # Untrusted certificate: the advice names the issuer; a TLS failure without one gets the plain TLS advice.
    assert f.hints == (fill(CATALOG.probe_layers["tls-untrusted"], f.values),)
    assert "CN=Corp Inspect CA" in f.hints[0]
    plain = judge(_tls_untrusted(cert=None))
    assert plain.hints == (fill(CATALOG.probe_layers["tls"], plain.values),) and plain.values["issuer"] == ""
    assert judge(_tls_untrusted(cert_problem="")).hints == plain.hints
    assert judge_probe(DOCKER, _tls_untrusted(), {}, True, None).hints == ()


def test_evidence_leaves_out_what_the_probe_did_not_have():
    r = ProbeResult("pod blink/p", "http://blink.lab.test", (Step("dns", True, "ok"), Step("tcp", False, "refused")))
    f = judge(r)
    # No proxy: the proxy step is not listed as "not tried"; plain HTTP: no TLS either way.
    assert f.evidence[0].text.splitlines() == ["dns    ok     ok", "tcp    FAILED refused", "tls    -      not tried",
                                               "http   -      not tried"]  # fmt: skip
    assert f.values["reproduce"] == "" and f.values["blink_host"] == "blink.lab.test"
    same = judge(replace(r, command="curl x", reproduce="curl x", http_status="000"))
    assert same.evidence[0].text.splitlines()[0] == "$ curl x" and "reproduce:" not in same.evidence[0].text
    assert "HTTP status: 000" in same.evidence[0].text
    assert judge(ProbeResult("t", URL, error="x")).evidence[0].text == "(no output)"


def test_probe_that_cannot_run_or_did_not_finish_exactly():
    r = ProbeResult("pod blink/p", URL, unavailable="no permission to create pods/exec",
                    enable="grant rbac/role-probe-exec.yaml")  # fmt: skip
    strict = judge(r)
    assert (strict.outcome, strict.summary) == (Outcome.NOT_EVALUABLE, "The egress probe cannot run for pod blink/p: no "
                                                "permission to create pods/exec. To enable it: grant rbac/role-probe-exec.yaml")
    assert (strict.values["layer"], strict.values["detail"]) == ("probe", "no permission to create pods/exec")
    auto = judge(r, strict=False)
    assert (auto.outcome, auto.summary, auto.hints) == (
        Outcome.SKIPPED, "The egress probe cannot run for pod blink/p: no permission to create pods/exec. (--probe auto: "
        "skipped; --probe on makes this a failure of the run)", ("To enable it: grant rbac/role-probe-exec.yaml",))
    assert "layer" not in auto.values
    bare = judge(replace(r, enable=""), strict=False)
    assert bare.hints == () and bare.summary.startswith("The egress probe cannot run for pod blink/p: no permission "
                                                        "to create pods/exec. (--probe auto")
    unfinished = judge(ProbeResult("pod blink/p", URL, error="the exec stream never opened"))
    assert (unfinished.outcome, unfinished.summary) == (Outcome.NOT_EVALUABLE, "The egress probe could not finish for "
                                                        "pod blink/p: the exec stream never opened")
    assert (unfinished.values["layer"], unfinished.values["detail"]) == ("probe", "the exec stream never opened")


@pytest.mark.parametrize(
    ("url", "tool", "outcome", "words"),
    [
        (URL, "nc", Outcome.WARNING, "(nc; TLS and HTTP not verified: no curl or wget there)."),
        ("http://blink.lab.test", "nc", Outcome.PASSED, "(nc; HTTP not tried: no curl or wget there)."),
        (URL, "", Outcome.WARNING, "(connect only; TLS and HTTP not verified: nothing more was tried)."),
    ],
)
def test_a_bare_connect_proves_only_the_firewall(url, tool, outcome, words):
    r = ProbeResult("pod blink/p", url, (Step("dns", True, "ok"), Step("tcp", True, "ok")), tool=tool)
    f = judge(r)
    assert f.outcome is outcome
    assert f.summary == f"From pod blink/p, a TCP connection to {url} succeeds {words}"
    assert (f.values["layer"], f.values["detail"]) == ("TCP connect", "connected; nothing more tried")


def test_a_pass_through_a_proxy_with_a_certificate_names_both():
    f = judge(_answered("200", proxy="http://proxy.corp:3128 (from HTTPS_PROXY)", cert=CertInfo("CN=a", "CN=Issuer")))
    assert f.summary == (f"From container blink-runner (abc), {URL} resolves, connects through the proxy "
                         "http://proxy.corp:3128 (from HTTPS_PROXY) and answers (HTTP 200; certificate issued by CN=Issuer).")
    assert judge(_answered("")).summary.endswith("answers (HTTP ?).")


def test_step_layer_names_and_timeouts():
    assert Step("tcp", False, "x", timed_out=True).layer == "TCP connect (timeout)"
    assert Step("tcp", True, "x", timed_out=True).layer == "TCP connect"
    assert Step("weird", False, "x").layer == "weird"
    assert CertInfo("CN=a", "CN=b").text == "subject CN=a; issuer CN=b"


def test_tool_commands_are_bounded_by_the_probe_timeout():
    assert tool_commands("https://app.blinkops.com:8443/x", 9.7) == [
        ("curl", ["curl", "-sSv", "-o", "/dev/null", "-w", "%{http_code}", "--connect-timeout", "4", "--max-time", "9",
                  "https://app.blinkops.com:8443/x"]),
        ("wget", ["wget", "-S", "-T", "9", "-t", "1", "-O", "/dev/null", "https://app.blinkops.com:8443/x"]),
        ("wget", ["wget", "-S", "-O", "/dev/null", "https://app.blinkops.com:8443/x"]),
        ("nc", ["nc", "-z", "-w", "9", "app.blinkops.com", "8443"]),
        ("nc", ["nc", "-w", "9", "app.blinkops.com", "8443"]),
    ]  # fmt: skip
    assert tool_commands("https://a.b", 0.2)[0][1][7:10] == ["1", "--max-time", "1"]
    assert tool_commands("https://a.b", 0.2)[3][1][-1] == "443" and tool_commands("http://a.b", 3)[3][1][-1] == "80"


def test_proxy_for_reads_the_variables_as_go_does():
    env = {"https_proxy": "user:pw@proxy.corp:3128", "NO_PROXY": "internal.corp"}
    p = proxy_for(URL, env)
    assert p == Proxy("user:pw@proxy.corp:3128", "https_proxy", "http", "proxy.corp", 3128, "user", "pw")
    assert p is not None and p.shown == "http://user:[REDACTED]@proxy.corp:3128 (from https_proxy)"
    upper = proxy_for(URL, {"HTTPS_PROXY": "https://proxy.corp", "https_proxy": "http://other:1"})
    assert upper is not None and (upper.source, upper.port, upper.shown) == (
        "HTTPS_PROXY", 443, "https://proxy.corp:443 (from HTTPS_PROXY)")
    assert proxy_for("http://blink.lab.test", {"HTTPS_PROXY": "http://p:1"}) is None  # http uses HTTP_PROXY
    plain = proxy_for("http://blink.lab.test", {"http_proxy": "http://p"})
    assert plain is not None and (plain.source, plain.port) == ("http_proxy", 80)
    socks = proxy_for(URL, {"HTTPS_PROXY": "socks5://u@p"})
    assert socks is not None and (socks.port, socks.shown) == (1080, "socks5://u@p:1080 (from HTTPS_PROXY)")
    assert proxy_for(URL, {"HTTPS_PROXY": "http://p:notaport"}) == Proxy("http://p:notaport", "HTTPS_PROXY", "http", "p", 0)
    for local in ("https://localhost", "https://127.0.0.1", "https://[::1]"):
        assert proxy_for(local, {"HTTPS_PROXY": "http://p:1"}) is None
    assert proxy_for("https://10.0.0.5", {"HTTPS_PROXY": "http://p:1"}) is not None
    assert proxy_for(URL, {"HTTPS_PROXY": "http://p:1", "no_proxy": ".blinkops.com"}) is None
    assert proxy_for(URL, {"HTTPS_PROXY": ""}) is None


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "bypass"),
    [
        ("app.blinkops.com", 443, "*", True),
        ("app.blinkops.com", 443, " , blinkops.com", True),
        ("app.blinkops.com", 443, ".blinkops.com", True),
        ("app.blinkops.com", 443, "*.blinkops.com", True),
        ("blinkops.com", 443, ".blinkops.com", True),
        ("notblinkops.com", 443, "blinkops.com", False),
        ("app.blinkops.com", 443, "blinkops.com:443", True),
        ("app.blinkops.com", 443, "blinkops.com:8443", False),
        ("10.1.2.3", 443, "10.0.0.0/8", True),
        ("11.1.2.3", 443, "10.0.0.0/8", False),
        ("10.1.2.3", 443, "10.0.0.0/33", False),
        ("app.blinkops.com", 443, "10.0.0.0/8", False),
        ("10.1.2.3", 443, "10.1.2.3", True),
        ("app.blinkops.com", 443, "", False),
    ],
)
def test_no_proxy_as_go_reads_it(host, port, no_proxy, bypass):
    assert bypasses(host, port, no_proxy) is bypass
