"""The probe tools exactly: what curl, wget (busybox and GNU) and nc print, mapped onto the layer steps a user
reads in the report (which layer, what it says, whether it timed out); the commands they are run with (bounded by
the probe's timeout, the runner's trust store and proxy); when a tool's other form is tried; the second look with
curl -k that names a certificate's issuer."""

from __future__ import annotations

import pytest

from blinkcheck.probe.environment import Proxy
from blinkcheck.probe.result import CertInfo, ProbeResult, Step
from blinkcheck.probe.tools import (
    CERT_PROBLEMS,
    cert_from_verbose,
    date_header,
    from_tool_output,
    issuer_command,
    options_rejected,
    tool_commands,
    with_issuer,
)

URL = "https://app.blinkops.com"
PAST = "got past it (the tool went on to the next step)"
PROXY = Proxy("http://proxy.corp:3128", "HTTPS_PROXY", "http", "proxy.corp", 3128)
SHOWN_PROXY = "http://proxy.corp:3128 (from HTTPS_PROXY)"


def steps(r: ProbeResult) -> list[str]:
    """The steps as a user reads them: `dns ok` for a layer the tool got past, else name, state and detail."""
    out = []
    for s in r.steps:
        if s.ok and s.detail == PAST and not s.timed_out and not s.or_step:
            out.append(f"{s.name} ok")
            continue
        state = ("ok" if s.ok else "FAILED") + (" timeout" if s.timed_out else "") + (f" or {s.or_step}" if s.or_step else "")
        out.append(f"{s.name} {state}: {s.detail}")
    return out


# ------------------------------------------------------------------ curl

CURL_PROXY = "* Uses proxy env variable HTTPS_PROXY == 'http://proxy.corp:3128'\n"
TUNNEL = "* Establish HTTP proxy tunnel to app.blinkops.com:443\n> CONNECT app.blinkops.com:443 HTTP/1.1\n"

# (id, url, exit code, stdout, stderr, proxied, the steps, the HTTP status)
CURL: list[tuple[str, str, int, str, str, bool, list[str], str]] = [
    ("answered", URL, 0, "200", "", False, ["dns ok", "tcp ok", "tls ok", "http ok: HTTP 200"], "200"),
    ("answered over http: no TLS", "http://blink.lab.test", 0, "\n301\n", "", False,
     ["dns ok", "tcp ok", "http ok: HTTP 301"], "301"),
    ("answered through a proxy", URL, 0, "204", CURL_PROXY, False,
     ["dns ok", "tcp ok", "proxy ok", "tls ok", "http ok: HTTP 204"], "204"),
    ("lookup timed out", URL, 28, "000", "curl: (28) Resolving timed out after 5000 milliseconds", False,
     ["dns FAILED timeout: curl: (28) Resolving timed out after 5000 milliseconds"], ""),
    ("connect timed out", URL, 28, "000", "* Connection timed out after 5001 milliseconds\n"
     "curl: (28) Connection timed out after 5001 milliseconds", False,
     ["dns ok", "tcp FAILED timeout: curl: (28) Connection timed out after 5001 milliseconds"], ""),
    ("connect timed out, curl 8", URL, 28, "000",
     "curl: (28) Failed to connect to app.blinkops.com port 443 after 5002 ms: Timeout was reached", False,
     ["dns ok", "tcp FAILED timeout: curl: (28) Failed to connect to app.blinkops.com port 443 after 5002 ms: "
      "Timeout was reached"], ""),
    ("connect timed out, old curl", URL, 28, "000", "curl: (28) connect() timed out!", False,
     ["dns ok", "tcp FAILED timeout: curl: (28) connect() timed out!"], ""),
    ("no answer in time", URL, 28, "000", "curl: (28) Operation timed out after 10000 milliseconds with 0 bytes received",
     False, ["dns ok", "tcp ok", "tls ok",
             "http FAILED timeout: curl: (28) Operation timed out after 10000 milliseconds with 0 bytes received"], ""),
    ("timed out, nothing said", "http://blink.lab.test", 28, "", "", False,
     ["dns ok", "tcp ok", "http FAILED timeout: curl exit code 28"], ""),
    # curl stopped at the exec's deadline (kubernetes/probe.py says so on stderr), before a word of its own
    ("stopped at the deadline", URL, 28, "", "*   Trying 1.2.3.4:443...\n(the probe did not finish within 15s: "
     "Connection timed out)", False, ["dns ok", "tcp FAILED timeout: curl exit code 28"], ""),
    ("only the last three characters are the status", URL, 0, "<html>moved</html>302", "", False,
     ["dns ok", "tcp ok", "tls ok", "http ok: HTTP 302"], "302"),
    # Through a proxy, curl resolves and connects to the proxy: its name and port are what failed.
    ("proxy: connect timed out", URL, 28, "000", CURL_PROXY + "curl: (28) Failed to connect to proxy.corp port 3128 "
     "after 5002 ms: Timeout was reached", False,
     ["dns ok", "tcp ok", "proxy FAILED timeout: curl: (28) Failed to connect to proxy.corp port 3128 after 5002 ms: "
      "Timeout was reached"], ""),
    ("proxy: lookup timed out", URL, 28, "000", "curl: (28) Resolving timed out after 5000 milliseconds", True,
     ["dns ok", "tcp ok", "proxy FAILED timeout: curl: (28) Resolving timed out after 5000 milliseconds"], ""),
    ("proxy: tunnel up, no answer in time", URL, 28, "000", TUNNEL + "< HTTP/1.1 200 Connection established\n"
     "curl: (28) Operation timed out after 9000 milliseconds with 0 bytes received", True,
     ["dns ok", "tcp ok", "proxy ok", "tls ok",
      "http FAILED timeout: curl: (28) Operation timed out after 9000 milliseconds with 0 bytes received"], ""),
    ("no such host", URL, 6, "000", "curl: (6) Could not resolve host: app.blinkops.com", False,
     ["dns FAILED: could not resolve the host: curl: (6) Could not resolve host: app.blinkops.com"], ""),
    ("refused", URL, 7, "000", "*   Trying 1.2.3.4:443...\ncurl: (7) Failed to connect to app.blinkops.com port 443: "
     "Connection refused", False,
     ["dns ok", "tcp FAILED: could not connect (refused or unreachable): curl: (7) Failed to connect to "
      "app.blinkops.com port 443: Connection refused"], ""),
    ("refused, nothing said", URL, 7, "", "", False,
     ["dns ok", "tcp FAILED: could not connect (refused or unreachable): curl exit code 7"], ""),
    ("the newest error line is the one", URL, 35, "000", "curl: (35) first\n  curl: (35) OpenSSL SSL_connect: "
     "SSL_ERROR_SYSCALL  \n* Closing connection", False,
     ["dns ok", "tcp ok", "tls FAILED: TLS handshake failed: curl: (35) OpenSSL SSL_connect: SSL_ERROR_SYSCALL"], ""),
    ("empty reply", URL, 52, "000", "curl: (52) Empty reply from server", False,
     ["dns ok", "tcp ok", "tls ok", "http FAILED: the server closed the connection without answering: curl: (52) "
      "Empty reply from server"], ""),
    ("reset while receiving", URL, 56, "000", "curl: (56) Recv failure: Connection reset by peer", False,
     ["dns ok", "tcp ok", "tls ok", "http FAILED: connection reset while receiving: curl: (56) Recv failure: "
      "Connection reset by peer"], ""),
    ("proxy refused the tunnel", URL, 56, "000", TUNNEL + "< HTTP/1.1 403 Forbidden\n"
     "curl: (56) CONNECT tunnel failed, response 403", False,
     ["dns ok", "tcp ok", "proxy FAILED: the proxy refused the tunnel: curl: (56) CONNECT tunnel failed, response 403"],
     ""),
    ("reset after the tunnel", URL, 56, "000", "curl: (56) Recv failure: Connection reset by peer", True,
     ["dns ok", "tcp ok", "proxy ok", "tls ok", "http FAILED: connection reset while receiving: curl: (56) Recv "
      "failure: Connection reset by peer"], ""),
    ("proxy refused the connection", URL, 7, "000", CURL_PROXY + "curl: (7) Failed to connect to proxy.corp port 3128: "
     "Connection refused", False,
     ["dns ok", "tcp ok", "proxy FAILED: could not connect to the proxy: curl: (7) Failed to connect to proxy.corp "
      "port 3128: Connection refused"], ""),
    ("proxied, but the host did not resolve", URL, 6, "000", "curl: (6) Could not resolve host: app.blinkops.com", True,
     ["dns FAILED: could not resolve the host: curl: (6) Could not resolve host: app.blinkops.com"], ""),
    ("proxy name did not resolve", URL, 5, "000", "curl: (5) Could not resolve proxy: proxy.corp", True,
     ["dns ok", "tcp ok", "proxy FAILED: could not resolve the proxy's name: curl: (5) Could not resolve proxy: "
      "proxy.corp"], ""),
    ("an exit code curl has no layer for", URL, 18, "000", "curl: (18) transfer closed with 10 bytes remaining to read",
     False, ["dns ok", "tcp ok", "tls ok", "http FAILED: curl exit code 18: curl: (18) transfer closed with 10 bytes "
             "remaining to read"], ""),
]  # fmt: skip


@pytest.mark.parametrize(("url", "rc", "stdout", "stderr", "proxied", "expected", "status"), [c[1:] for c in CURL],
                         ids=[c[0] for c in CURL])  # fmt: skip
def test_curl_output_gives_these_steps(url, rc, stdout, stderr, proxied, expected, status):
    r = from_tool_output("curl", "pod blink/p", url, rc, stdout, stderr, proxied=proxied)
    assert steps(r) == expected
    assert r.http_status == status
    assert (r.error, r.unavailable) == ("", "")


# Every exit code curl gives a layer: where a user is sent to look, and in what words.
CURL_CODES = {
    5: ("proxy", "could not resolve the proxy's name"),
    6: ("dns", "could not resolve the host"),
    7: ("tcp", "could not connect (refused or unreachable)"),
    35: ("tls", "TLS handshake failed"),
    51: ("tls", "the server certificate does not match the host"),
    52: ("http", "the server closed the connection without answering"),
    53: ("tls", "TLS engine not found"),
    56: ("http", "connection reset while receiving"),
    58: ("tls", "client certificate problem"),
    59: ("tls", "no usable TLS cipher"),
    60: ("tls", "certificate not trusted (a TLS-inspecting proxy re-signing traffic?)"),
    77: ("tls", "cannot read the CA bundle"),
    83: ("tls", "certificate issuer check failed"),
    90: ("tls", "pinned public key does not match"),
    91: ("tls", "certificate status (OCSP) invalid"),
    97: ("proxy", "proxy handshake failed"),
    1: ("http", "curl exit code 1"),
    3: ("http", "curl exit code 3"),
}
ORDER = ("dns", "tcp", "proxy", "tls", "http")


@pytest.mark.parametrize(("rc", "layer", "meaning"), [(rc, *v) for rc, v in CURL_CODES.items()])
def test_each_curl_exit_code_names_its_layer(rc, layer, meaning):
    r = from_tool_output("curl", "c", URL, rc, "000", f"curl: ({rc}) what curl said")
    before = [f"{name} ok" for name in ORDER[: ORDER.index(layer)] if name != "proxy"]  # no proxy configured
    assert steps(r) == [*before, f"{layer} FAILED: {meaning}: curl: ({rc}) what curl said"]


def test_the_result_keeps_what_ran_and_what_the_tool_said():
    r = from_tool_output("curl", "pod blink/p", URL, 60, "000", "  * Trying 1.2.3.4:443\ncurl: (60) SSL certificate "
                         "problem: self-signed certificate\n", command="kubectl exec ... curl", method="kubectl exec",
                         proxy=PROXY)  # fmt: skip
    assert (r.target, r.url, r.tool, r.command, r.reproduce, r.method, r.proxy) == (
        "pod blink/p", URL, "curl", "kubectl exec ... curl", "kubectl exec ... curl", "kubectl exec", SHOWN_PROXY)
    assert r.output == "[curl, exit code 60]\n  * Trying 1.2.3.4:443\ncurl: (60) SSL certificate problem: self-signed certificate"
    plain = from_tool_output("nc", "c", URL, 0, "", "")
    assert plain.output == "[nc, exit code 0]"
    assert (plain.command, plain.reproduce, plain.method, plain.proxy) == ("", "", "", "")  # nothing to show


def test_a_probe_that_did_not_finish_or_was_killed_says_so_and_judges_no_layer():
    unfinished = from_tool_output("curl", "c", URL, None, "", "", error="exec failed: stream closed")
    assert (unfinished.error, unfinished.steps, unfinished.output) == ("exec failed: stream closed", (),
                                                                       "[curl, exit code None]")  # fmt: skip
    assert from_tool_output("wget", "c", URL, None, "", "").error == "the probe did not finish"
    killed = from_tool_output("wget", "c", URL, 137, "", "")
    assert (killed.error, killed.steps) == ("wget was killed by signal 9 before it could answer (the container "
                                            "restarting, or a memory limit?)", ())  # fmt: skip
    assert from_tool_output("curl", "c", URL, 129, " \n", "").error.startswith("curl was killed by signal 1 before")
    # 128 is not a signal; a tool that printed its answer before the signal is judged by the answer.
    assert steps(from_tool_output("curl", "c", URL, 128, "", "")) == [
        "dns ok", "tcp ok", "tls ok", "http FAILED: curl exit code 128: curl exit code 128"]
    answered = from_tool_output("curl", "c", URL, 143, "200", "")
    assert answered.error == "" and answered.http_status == ""


def test_curl_verbose_certificate_lines():
    err = "* Server certificate:\n*  subject: CN=app.blinkops.com\n*  start date: x\n*  issuer:  C=US; O=Corp; CN=Inspect \n"
    assert cert_from_verbose(err) == CertInfo("CN=app.blinkops.com", "C=US; O=Corp; CN=Inspect")
    assert cert_from_verbose("*  subject: CN=a\n") is None and cert_from_verbose("*  issuer: CN=b\n") is None
    assert cert_from_verbose(">  subject: CN=a\n>  issuer: CN=b") is None  # only curl's own lines
    r = from_tool_output("curl", "c", URL, 0, "200", err)
    assert r.cert == CertInfo("CN=app.blinkops.com", "C=US; O=Corp; CN=Inspect")


# ------------------------------------------------------------------ wget (busybox and GNU)

BB_TLS = "wget: note: TLS certificate validation not implemented\n"
UNVERIFIED = "TLS: busybox wget does not check certificates, so a TLS-inspecting proxy would not show here"
GNU_CONNECTED = "Connecting to app.blinkops.com (app.blinkops.com)|1.2.3.4|:443... connected.\n"

# (id, url, exit code, stderr, proxy, the steps, the HTTP status, unverified)
WGET: list[tuple[str, str, int, str, Proxy | None, list[str], str, str]] = [
    ("busybox answered", URL, 0, "Connecting to app.blinkops.com (1.2.3.4:443)\n" + BB_TLS + "  HTTP/1.1 200 OK\n",
     None, ["dns ok", "tcp ok", "tls ok", "http ok: HTTP 200"], "200", UNVERIFIED),
    ("busybox answered over http: TLS not in question", "http://blink.lab.test", 0,
     "Connecting to blink.lab.test (10.0.0.1:80)\n" + BB_TLS + "  HTTP/1.1 200 OK\n", None,
     ["dns ok", "tcp ok", "http ok: HTTP 200"], "200", ""),
    ("GNU answered after a redirect: the last status", URL, 0, GNU_CONNECTED + "  HTTP/1.1 301 Moved Permanently\n"
     "  HTTP/1.1 200 OK\n", None, ["dns ok", "tcp ok", "tls ok", "http ok: HTTP 200"], "200", ""),
    ("answered, no status shown", URL, 0, "", None, ["dns ok", "tcp ok", "tls ok", "http ok: HTTP 2xx"], "2xx", ""),
    ("busybox server error", URL, 1, "  HTTP/1.1 503 Service Unavailable\nwget: server returned error: HTTP/1.1 503 "
     "Service Unavailable", None, ["dns ok", "tcp ok", "tls ok", "http ok: HTTP 503"], "503", ""),
    ("GNU server error", URL, 8, GNU_CONNECTED + "HTTP request sent, awaiting response... 404 Not Found\n"
     "2026-12-02 10:00:00 ERROR 404: Not Found.", None, ["dns ok", "tcp ok", "tls ok", "http ok: HTTP 404"], "404", ""),
    ("busybox no such host", URL, 1, "wget: bad address 'app.blinkops.com'", None,
     ["dns FAILED: could not resolve the host: wget: bad address 'app.blinkops.com'"], "", ""),
    ("GNU no such host", URL, 4, "Resolving app.blinkops.com (app.blinkops.com)... failed: Name or service not known.\n"
     "wget: unable to resolve host address 'app.blinkops.com'", None,
     ["dns FAILED: could not resolve the host: wget: unable to resolve host address 'app.blinkops.com'"], "", ""),
    ("refused", URL, 1, "Connecting to app.blinkops.com (1.2.3.4:443)\nwget: can't connect to remote host (1.2.3.4): "
     "Connection refused", None, ["dns ok", "tcp FAILED: could not connect (refused or unreachable): wget: can't connect "
                                  "to remote host (1.2.3.4): Connection refused"], "", ""),
    ("its own timeout", URL, 1, "wget: download timed out", None,
     ["dns ok", "tcp FAILED timeout: wget: download timed out"], "", ""),
    ("reset", URL, 1, "wget: error getting response: Connection reset by peer", None,
     ["dns ok", "tcp ok", "tls ok", "http FAILED: connection reset while receiving: wget: error getting response: "
      "Connection reset by peer"], "", ""),
    ("GNU untrusted certificate: its last line", URL, 5, GNU_CONNECTED + "ERROR: cannot verify app.blinkops.com's "
     "certificate, issued by 'CN=Corp CA':\n  Unable to locally verify the issuer's authority.\n", None,
     ["dns ok", "tcp ok", "tls FAILED: TLS handshake failed: Unable to locally verify the issuer's authority."], "", ""),
    ("a message wget has no layer for", URL, 1, "wget: something odd", None,
     ["dns ok", "tcp ok", "tls ok", "http FAILED: wget exit code 1: wget: something odd"], "", ""),
    ("nothing said", "http://blink.lab.test", 3, "", None,
     ["dns ok", "tcp ok", "http FAILED: wget exit code 3: wget exit code 3"], "", ""),
    # The exec's deadline (exit code 28): where wget stopped talking says where it hung.
    ("deadline before any connection", URL, 28, "(the probe did not finish within 10s: Connection timed out)", None,
     ["dns FAILED timeout: the name lookup did not finish ((the probe did not finish within 10s: Connection timed out))"],
     "", ""),
    ("deadline while connecting", URL, 28, "Connecting to app.blinkops.com (1.2.3.4:443)\n", None,
     ["dns ok", "tcp FAILED timeout: no connection after 'Connecting to app.blinkops.com' (Connecting to "
      "app.blinkops.com (1.2.3.4:443))"], "", ""),
    ("busybox deadline after the TLS note: connected", URL, 28, "Connecting to app.blinkops.com (1.2.3.4:443)\n" + BB_TLS,
     None, ["dns ok", "tcp ok", "tls ok", "http FAILED timeout: connected, no answer (Connecting to app.blinkops.com "
            "(1.2.3.4:443))"], "", ""),
    ("GNU deadline after connected", URL, 28, GNU_CONNECTED + "HTTP request sent, awaiting response... ", None,
     ["dns ok", "tcp ok", "tls ok", "http FAILED timeout: connected, no answer (HTTP request sent, awaiting "
      "response...)"], "", ""),
    ("http: deadline while connecting", "http://blink.lab.test", 28, "Connecting to blink.lab.test (10.0.0.1:80)", None,
     ["dns ok", "tcp FAILED timeout: no connection after 'Connecting to blink.lab.test' (Connecting to blink.lab.test "
      "(10.0.0.1:80))"], "", ""),
    ("http: deadline after headers began", "http://blink.lab.test", 28, "Connecting to blink.lab.test (10.0.0.1:80)\n"
     "  HTTP/1.1 200 OK", None, ["dns ok", "tcp ok", "http FAILED timeout: connected, no answer (HTTP/1.1 200 OK)"], "",
     ""),
    ("http: deadline after connected", "http://blink.lab.test", 28, "Connecting to blink.lab.test (blink.lab.test)|"
     "10.0.0.1|:80... connected.\nHTTP request sent, awaiting response... ", None,
     ["dns ok", "tcp ok", "http FAILED timeout: connected, no answer (HTTP request sent, awaiting response...)"], "",
     ""),
    # Through the runner's proxy: the proxy's name and port are what failed.
    ("GNU through a named proxy: answered", URL, 0, "Connecting to proxy.corp (proxy.corp)|10.0.0.9|:3128... connected.\n"
     "Proxy request sent, awaiting response... \n  HTTP/1.1 200 OK\n", PROXY,
     ["dns ok", "tcp ok", "proxy ok", "tls ok", "http ok: HTTP 200"], "200", ""),
    ("busybox through the proxy: refused", URL, 1, "Connecting to proxy.corp:3128 (10.0.0.9:3128)\nwget: can't connect "
     "to remote host (10.0.0.9): Connection refused", PROXY,
     ["dns ok", "tcp ok", "proxy FAILED: could not connect to the proxy: wget: can't connect to remote host (10.0.0.9): "
      "Connection refused"], "", ""),
    ("the proxy's name did not resolve", URL, 1, "wget: bad address 'proxy.corp:3128'", PROXY,
     ["dns ok", "tcp ok", "proxy FAILED: could not resolve the proxy's name: wget: bad address 'proxy.corp:3128'"], "",
     ""),
    ("deadline before reaching the proxy", URL, 28, "", PROXY,
     ["dns ok", "tcp ok", "proxy FAILED timeout: the name lookup did not finish (wget exit code 28)"], "", ""),
    ("deadline while connecting to the proxy", URL, 28, "Connecting to proxy.corp:3128 (10.0.0.9:3128)", PROXY,
     ["dns ok", "tcp ok", "proxy FAILED timeout: no connection after 'Connecting to proxy.corp:3128' (Connecting to "
      "proxy.corp:3128 (10.0.0.9:3128))"], "", ""),
    ("deadline, through the proxy, no answer", URL, 28, "Connecting to proxy.corp (proxy.corp)|10.0.0.9|:3128... "
     "connected.\nProxy request sent, awaiting response... ", PROXY,
     ["dns ok", "tcp ok", "proxy ok", "tls ok", "http FAILED timeout: connected, no answer (Proxy request sent, "
      "awaiting response...)"], "", ""),
    ("its own timeout through the proxy", URL, 1, "wget: download timed out", PROXY,
     ["dns ok", "tcp ok", "proxy FAILED timeout: wget: download timed out"], "", ""),
    ("untrusted certificate through the proxy", URL, 5, "Connecting to proxy.corp (proxy.corp)|10.0.0.9|:3128... "
     "connected.\nERROR: cannot verify app.blinkops.com's certificate, issued by 'CN=Corp Inspect CA':\n"
     "  Unable to locally verify the issuer's authority.", PROXY,
     ["dns ok", "tcp ok", "proxy ok", "tls FAILED: TLS handshake failed: Unable to locally verify the issuer's "
      "authority."], "", ""),
    # kubectl exec adds its own line after the tool's: the tool's error line is the one shown
    ("the tool's line, not kubectl's after it", URL, 1, "wget: bad address 'app.blinkops.com'\ncommand terminated "
     "with exit code 1", None, ["dns FAILED: could not resolve the host: wget: bad address 'app.blinkops.com'"], "",
     ""),
]  # fmt: skip


@pytest.mark.parametrize(("url", "rc", "stderr", "proxy", "expected", "status", "unverified"), [w[1:] for w in WGET],
                         ids=[w[0] for w in WGET])  # fmt: skip
def test_wget_output_gives_these_steps(url, rc, stderr, proxy, expected, status, unverified):
    r = from_tool_output("wget", "pod blink/p", url, rc, "", stderr, proxy=proxy)
    assert (steps(r), r.http_status, r.unverified, r.unavailable) == (expected, status, unverified, "")


@pytest.mark.parametrize(
    ("stderr", "went"),
    [
        ("Connecting to app.blinkops.com (1.2.3.4:443)\n" + BB_TLS + "  HTTP/1.1 200 OK", "app.blinkops.com"),
        (GNU_CONNECTED + "  HTTP/1.1 200 OK", "app.blinkops.com"),
        ("Connecting to proxy.corp:3129 (10.0.0.9:3129)\n  HTTP/1.1 200 OK", "proxy.corp:3129"),  # another port
        ("Connecting to proxy.corp.evil:3128 (10.6.6.6:3128)\n  HTTP/1.1 200 OK", "proxy.corp.evil:3128"),
        ("Connecting to app.blinkops.com|1.2.3.4|:443... connected.\n  HTTP/1.1 200 OK", "app.blinkops.com"),  # older GNU
        ("Connecting to proxy.corp:31280 (10.0.0.9:31280)\n  HTTP/1.1 200 OK", "proxy.corp:31280"),
    ],
)
def test_wget_that_went_around_the_runners_proxy_is_not_judged(stderr, went):
    r = from_tool_output("wget", "pod blink/p", URL, 0, "", stderr, proxy=PROXY)
    assert r.unavailable == (f"wget went straight to {went}, not through the runner's proxy {SHOWN_PROXY} (busybox wget "
                             "uses no proxy for https): its answer is not about the runner's path")  # fmt: skip
    assert (r.steps, r.http_status, r.proxy) == ((), "", SHOWN_PROXY)


@pytest.mark.parametrize(
    ("connecting", "proxy"),
    [
        ("Connecting to proxy.corp:3128 (10.0.0.9:3128)", PROXY),  # busybox
        ("Connecting to proxy.corp (proxy.corp)|10.0.0.9|:3128... connected.", PROXY),  # GNU, by name
        ("Connecting to 10.0.0.9:3128... connected.", Proxy("http://10.0.0.9:3128", "HTTPS_PROXY", "http", "10.0.0.9",
                                                            3128)),  # GNU, by address
        ("Connecting to proxy.corp|10.0.0.9|:3128... connected.", PROXY),  # older GNU
        ("Connecting to Proxy.Corp:3128 (10.0.0.9:3128)", PROXY),  # as written in HTTPS_PROXY: names ignore case
        ("Connecting to proxy.corp.:3128 (10.0.0.9:3128)", Proxy("http://proxy.corp.:3128", "HTTPS_PROXY", "http",
                                                                 "proxy.corp.", 3128)),  # a name with its root dot
        ("Connecting to proxy.corp.:3128 (10.0.0.9:3128)", PROXY),
    ],
)  # fmt: skip
def test_wget_through_the_runners_proxy_is_judged(connecting, proxy):
    r = from_tool_output("wget", "pod blink/p", URL, 0, "", connecting + "\n  HTTP/1.1 200 OK", proxy=proxy)
    assert r.unavailable == "" and steps(r) == ["dns ok", "tcp ok", "proxy ok", "tls ok", "http ok: HTTP 200"]


# ------------------------------------------------------------------ nc

NC_PROXY = Proxy("http://10.0.0.9:3128", "HTTPS_PROXY", "http", "10.0.0.9", 3128)

# (id, url, exit code, stderr, proxy, the steps)
NC: list[tuple[str, str, int, str, Proxy | None, list[str]]] = [
    ("connected", URL, 0, "", None, ["dns ok: resolved", "tcp ok: TCP connect succeeded (nc)"]),
    ("connected to an address: no lookup", "https://10.0.0.1:8443", 0, "", None, ["tcp ok: TCP connect succeeded (nc)"]),
    ("no such host", URL, 1, "nc: bad address 'app.blinkops.com'", None,
     ["dns FAILED: could not resolve the host: nc: bad address 'app.blinkops.com'"]),
    ("GNU: no such host", URL, 1, "nc: getaddrinfo for host \"app.blinkops.com\" port 443: Name or service not known",
     None, ["dns FAILED: could not resolve the host: nc: getaddrinfo for host \"app.blinkops.com\" port 443: Name or "
            "service not known"]),
    ("OpenBSD nc on musl: no such host", URL, 1, "nc: getaddrinfo for host \"app.blinkops.com\" port 443: Name does "
     "not resolve", None, ["dns FAILED: could not resolve the host: nc: getaddrinfo for host \"app.blinkops.com\" port "
                           "443: Name does not resolve"]),
    ("temporary failure", URL, 1, "Temporary failure in name resolution", None,
     ["dns FAILED: could not resolve the host: Temporary failure in name resolution"]),
    ("unable to resolve", URL, 1, "nc: unable to resolve app.blinkops.com", None,
     ["dns FAILED: could not resolve the host: nc: unable to resolve app.blinkops.com"]),
    ("timed out: lookup or connect", URL, 1, "nc: connect to app.blinkops.com port 443 (tcp) timed out", None,
     ["tcp FAILED timeout or dns: nc: connect to app.blinkops.com port 443 (tcp) timed out: nc does not say whether "
      "the name lookup of app.blinkops.com or the connect hung"]),
    ("timed out connecting to an address", "https://10.0.0.1", 1, "nc: TIMEOUT", None,
     ["tcp FAILED timeout: nc: TIMEOUT"]),
    ("refused", URL, 1, "nc: can't connect to remote host (1.2.3.4): Connection refused", None,
     ["dns ok: resolved", "tcp FAILED: could not connect (refused or unreachable): nc: can't connect to remote host "
      "(1.2.3.4): Connection refused"]),
    ("failed, its last line", URL, 1, "first\n  something failed  \n", None,
     ["dns ok: resolved", "tcp FAILED: could not connect (refused or unreachable): something failed"]),
    ("the tool's line, not kubectl's after it", URL, 1, "nc: bad address 'app.blinkops.com'\ncommand terminated with "
     "exit code 1", None, ["dns FAILED: could not resolve the host: nc: bad address 'app.blinkops.com'"]),
    ("failed, nothing said", URL, 1, "", None,
     ["dns ok: resolved", "tcp FAILED: could not connect (refused or unreachable): nc exit code 1"]),
    # Pointed at the runner's proxy (tool_commands): the proxy layer.
    ("proxy connected", URL, 0, "", NC_PROXY, ["proxy ok: TCP connect to the proxy 10.0.0.9:3128 succeeded (nc)"]),
    ("proxy refused", URL, 1, "nc: can't connect to remote host (10.0.0.9): Connection refused", NC_PROXY,
     ["proxy FAILED: could not connect to the proxy 10.0.0.9:3128: nc: can't connect to remote host (10.0.0.9): "
      "Connection refused"]),
    ("proxy timed out", URL, 1, "nc: connect to 10.0.0.9 port 3128 (tcp) Timed Out", NC_PROXY,
     ["proxy FAILED timeout: no connection to the proxy 10.0.0.9:3128: nc: connect to 10.0.0.9 port 3128 (tcp) Timed Out"]),
    ("proxy name", URL, 1, "nc: Bad Address 'proxy.corp'", PROXY,
     ["proxy FAILED: could not resolve the proxy's name: nc: Bad Address 'proxy.corp'"]),
]  # fmt: skip


@pytest.mark.parametrize(("url", "rc", "stderr", "proxy", "expected"), [n[1:] for n in NC], ids=[n[0] for n in NC])
def test_nc_output_gives_these_steps(url, rc, stderr, proxy, expected):
    r = from_tool_output("nc", "pod blink/p", url, rc, "", stderr, proxy=proxy)
    assert steps(r) == expected and r.http_status == ""


# ------------------------------------------------------------------ the commands


def test_curl_verifies_against_the_runners_trust_store():
    file_ = tool_commands(URL, 10, {"SSL_CERT_FILE": "/etc/corp/ca.pem", "SSL_CERT_DIR": "/etc/corp/certs"})
    assert file_[0][1] == ["curl", "-sSv", "-o", "/dev/null", "-w", "%{http_code}", "--connect-timeout", "5",
                           "--max-time", "10", "--cacert", "/etc/corp/ca.pem", URL]  # fmt: skip
    assert file_[1][1] == ["wget", "-S", "-T", "10", "-t", "1", "--ca-certificate=/etc/corp/ca.pem", "-O", "/dev/null",
                           URL]  # fmt: skip
    assert file_[2][1] == ["wget", "-S", "-O", "/dev/null", URL]  # busybox takes no CA option
    directory = tool_commands(URL, 10, {"SSL_CERT_DIR": "/etc/corp/certs:/etc/ssl/certs"})
    assert directory[0][1][10:] == ["--capath", "/etc/corp/certs", URL]
    assert "--ca-certificate" not in " ".join(directory[1][1])
    for env in (None, {}, {"SSL_CERT_FILE": "", "SSL_CERT_DIR": ""}):
        plain = tool_commands(URL, 10, env)
        assert plain[0][1][-3:] == ["--max-time", "10", URL] and plain[1][1][6] == "-O"


def test_nc_connects_to_the_runners_proxy_when_it_has_one():
    cmds = tool_commands(URL, 4, {"HTTPS_PROXY": "http://proxy.corp:3128"})
    assert cmds[3] == ("nc", ["nc", "-z", "-w", "4", "proxy.corp", "3128"])
    assert cmds[4] == ("nc", ["nc", "-w", "4", "proxy.corp", "3128"])
    bypassed = tool_commands(URL, 4, {"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": "blinkops.com"})
    assert bypassed[3][1][-2:] == ["app.blinkops.com", "443"]


@pytest.mark.parametrize(
    ("timeout_s", "connect", "total"),
    [(0.2, "1", "1"), (1, "1", "1"), (2.9, "1", "2"), (3, "1", "3"), (4, "2", "4"), (30, "15", "30")],
)
def test_curl_gives_the_connect_half_the_time_and_never_less_than_a_second(timeout_s, connect, total):
    curl = tool_commands(URL, timeout_s)[0][1]
    assert curl[curl.index("--connect-timeout") + 1] == connect and curl[curl.index("--max-time") + 1] == total


# (id, exit code, stdout, stderr, the other form is tried)
REJECTED = [
    ("answered", 0, "", "", False),
    ("did not finish", None, "", "", False),
    ("busybox wget: unrecognized option", 1, "", "wget: unrecognized option '-T'\nBusyBox v1.36.1 multi-call binary.", True),
    ("invalid option", 1, "", "nc: invalid option -- 'z'", True),
    ("unknown option, exit 2", 2, "", "wget: unknown option -- t", True),
    ("illegal option, exit 64", 64, "", "nc: illegal option -- z", True),
    ("usage line", 1, "", "Usage: nc [OPTIONS] HOST PORT", True),
    ("usage further down", 1, "", "nc: bad\nusage: nc [-46] host port", True),
    ("'usage:' not at a line's start", 1, "", "wget: see usage: wget --help", False),
    ("a network error", 1, "", "wget: bad address 'app.blinkops.com'", False),
    ("a usage word with another exit code", 4, "", "wget: unrecognized option '-T'", False),
    ("exit 3 is not a usage error", 3, "", "invalid option", False),
    ("it printed an answer", 1, "200", "invalid option", False),
    ("crashed before a word: SIGILL", 132, "", "", True),
    ("SIGABRT", 134, "", " \n", True),
    ("SIGSEGV", 139, "", "", True),
    ("killed (SIGKILL) is not a crash", 137, "", "", False),
    ("crashed after saying something", 139, "", "Segmentation fault", False),
]


@pytest.mark.parametrize(("rc", "stdout", "stderr", "rejected"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED])
def test_when_the_tools_other_form_is_tried(rc, stdout, stderr, rejected):
    assert options_rejected(rc, stdout, stderr) is rejected


# ------------------------------------------------------------------ the second look with curl -k


def test_the_issuer_look_is_curl_without_verification_and_without_the_trust_options():
    cmd = tool_commands(URL, 10, {"SSL_CERT_FILE": "/etc/corp/ca.pem"})[0][1]
    assert issuer_command(cmd) == ["curl", "-k", "-sSv", "-o", "/dev/null", "-w", "%{http_code}", "--connect-timeout",
                                   "5", "--max-time", "10", URL]  # fmt: skip
    assert issuer_command(["curl", "--capath", "/d", "-v", "--cacert", "/f", URL]) == ["curl", "-k", "-v", URL]
    assert issuer_command(["curl", URL]) == ["curl", "-k", URL]
    assert CERT_PROBLEMS == (51, 60, 83)


SEEN = "*  subject: CN=app.blinkops.com\n*  issuer: CN=Corp Inspect CA\n"


def _untrusted(output_line: str) -> ProbeResult:
    return from_tool_output("curl", "c", URL, 60, "000", output_line)


def test_the_issuer_seen_is_named_in_the_failed_tls_step():
    r = with_issuer(_untrusted("curl: (60) SSL certificate problem: unable to get local issuer certificate"), SEEN,
                    "curl -k -v https://app.blinkops.com")  # fmt: skip
    assert steps(r) == ["dns ok", "tcp ok", "tls FAILED: certificate issued by CN=Corp Inspect CA is not trusted "
                        "(unable to get local issuer certificate)"]  # fmt: skip
    assert r.cert == CertInfo("CN=app.blinkops.com", "CN=Corp Inspect CA")
    assert r.cert_problem == "unable to get local issuer certificate"
    assert r.notes == ("certificate seen with curl -k (verification off, only to name its issuer): $ curl -k -v "
                       "https://app.blinkops.com",)  # fmt: skip
    # curl's line without the usual prefix: the whole line is the problem; no curl line at all: the step's words
    other = with_issuer(_untrusted("curl: (60) certificate expired"), SEEN, "x")
    assert other.cert_problem == "curl: (60) certificate expired"
    silent = with_issuer(ProbeResult("c", URL, (Step("tls", False, "not trusted"),)), SEEN, "x")
    assert silent.cert_problem == "not trusted" and silent.steps[0].detail == (
        "certificate issued by CN=Corp Inspect CA is not trusted (not trusted)")
    kept = ProbeResult("c", URL, (Step("dns", True, "ok"), Step("tls", False, "x")), notes=("earlier",))
    assert with_issuer(kept, SEEN, "y").notes[0] == "earlier" and with_issuer(kept, SEEN, "y").steps[0] == kept.steps[0]


def test_without_a_certificate_seen_or_a_tls_failure_the_result_stays():
    untrusted = _untrusted("curl: (60) SSL certificate problem: self-signed certificate")
    assert with_issuer(untrusted, "curl: (7) Failed to connect", "x") is untrusted
    refused = from_tool_output("curl", "c", URL, 7, "000", "curl: (7) refused")
    assert with_issuer(refused, SEEN, "x") is refused
    answered = from_tool_output("curl", "c", URL, 0, "200", "")
    assert with_issuer(answered, SEEN, "x") is answered


# ------------------------------------------------------------------ Blink's Date (the clock-skew checks)

# Captured from curl 7.88.1, GNU wget 1.21 and busybox 1.35 wget -S against the lab's stand-in (lab/standin.py
# --date-offset 300, on loopback), as tool_commands runs them.
CURL_ANSWER = """*   Trying 127.0.0.1:18099...
* Connected to 127.0.0.1 (127.0.0.1) port 18099 (#0)
> GET /api/v1/runner/ping HTTP/1.1
> Host: 127.0.0.1:18099
> User-Agent: curl/7.88.1
> Accept: */*
>\x20
* HTTP 1.0, assume close after body
< HTTP/1.0 200 OK
< Server: BaseHTTP/0.6 Python/3.11.7
< Date: Thu, 03 Dec 2026 07:03:24 GMT
< Content-Type: application/json
< Content-Length: 47
<\x20
{ [47 bytes data]
* Closing connection 0
"""
GNU_WGET_ANSWER = """--2026-12-03 06:58:24--  http://127.0.0.1:18099/api/v1/runner/ping
Connecting to 127.0.0.1:18099... connected.
HTTP request sent, awaiting response...\x20
  HTTP/1.0 200 OK
  Server: BaseHTTP/0.6 Python/3.11.7
  Date: Thu, 03 Dec 2026 07:03:24 GMT
  Content-Type: application/json
  Content-Length: 47
Length: 47 [application/json]
Saving to: '/dev/null'

     0K                                                       100% 14.8M=0s

2026-12-03 06:58:24 (14.8 MB/s) - '/dev/null' saved [47/47]
"""
BUSYBOX_WGET_ANSWER = """Connecting to 127.0.0.1:18099 (127.0.0.1:18099)
  HTTP/1.0 200 OK
  Server: BaseHTTP/0.6 Python/3.11.7
  Date: Thu, 03 Dec 2026 07:03:24 GMT
  Content-Type: application/json
  Content-Length: 47
\x20\x20
saving to '/dev/null'
null                 100% |********************************|    47  0:00:00 ETA
'/dev/null' saved
"""
# GNU wget on a 503 prints the headers; busybox wget only the status line
GNU_WGET_503 = """--2026-12-03 06:58:29--  http://127.0.0.1:18099/x
Connecting to 127.0.0.1:18099... connected.
HTTP request sent, awaiting response...\x20
  HTTP/1.0 503 Service Unavailable
  Server: BaseHTTP/0.6 Python/3.11.7
  Date: Thu, 03 Dec 2026 06:58:29 GMT
  Content-Type: application/json
  Content-Length: 33
2026-12-03 06:58:29 ERROR 503: Service Unavailable.
"""
BUSYBOX_WGET_503 = """Connecting to 127.0.0.1:18099 (127.0.0.1:18099)
  HTTP/1.0 503 Service Unavailable
wget: server returned error: HTTP/1.0 503 Service Unavailable
"""
DATE = "Thu, 03 Dec 2026 07:03:24 GMT"

# curl 7.88.1 in the Kubernetes lab's runner pod (kubectl exec, the suite's own command) against the clock-skew
# scenario's stand-in over TLS: header lines end in CR; the certificate's "start date" is curl's own line.
CURL_TLS_LAB = (
    "*   Trying 10.244.0.1:18443...\n"
    "* Connected to blink.lab.test (10.244.0.1) port 18443 (#0)\n"
    "* ALPN: offers h2,http/1.1\n"
    "} [5 bytes data]\n"
    "* TLSv1.3 (OUT), TLS handshake, Client hello (1):\n"
    "} [512 bytes data]\n"
    "*  CAfile: /blink/ca.pem\n"
    "*  CApath: /etc/ssl/certs\n"
    "{ [5 bytes data]\n"
    "* TLSv1.3 (IN), TLS handshake, Server hello (2):\n"
    "{ [122 bytes data]\n"
    "* TLSv1.3 (IN), TLS handshake, Encrypted Extensions (8):\n"
    "{ [6 bytes data]\n"
    "* TLSv1.3 (IN), TLS handshake, Certificate (11):\n"
    "{ [787 bytes data]\n"
    "* TLSv1.3 (IN), TLS handshake, CERT verify (15):\n"
    "{ [80 bytes data]\n"
    "* TLSv1.3 (IN), TLS handshake, Finished (20):\n"
    "{ [52 bytes data]\n"
    "* TLSv1.3 (OUT), TLS change cipher, Change cipher spec (1):\n"
    "} [1 bytes data]\n"
    "* TLSv1.3 (OUT), TLS handshake, Finished (20):\n"
    "} [52 bytes data]\n"
    "* SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384\n"
    "* ALPN: server did not agree on a protocol. Uses default.\n"
    "* Server certificate:\n"
    "*  subject: CN=blink.lab.test\n"
    "*  start date: Dec  3 06:28:25 2026 GMT\n"
    "*  expire date: Dec  3 06:28:25 2027 GMT\n"
    "*  subjectAltName: host \"blink.lab.test\" matched cert\'s \"blink.lab.test\"\n"
    "*  issuer: CN=Blink Lab CA\n"
    "*  SSL certificate verify ok.\n"
    "* using HTTP/1.x\n"
    "} [5 bytes data]\n"
    "> GET / HTTP/1.1\r\n"
    "> Host: blink.lab.test:18443\r\n"
    "> User-Agent: curl/7.88.1\r\n"
    "> Accept: */*\r\n"
    "> \r\n"
    "{ [5 bytes data]\n"
    "* TLSv1.3 (IN), TLS handshake, Newsession Ticket (4):\n"
    "{ [233 bytes data]\n"
    "* TLSv1.3 (IN), TLS handshake, Newsession Ticket (4):\n"
    "{ [233 bytes data]\n"
    "* old SSL session ID is stale, removing\n"
    "{ [5 bytes data]\n"
    "* HTTP 1.0, assume close after body\n"
    "< HTTP/1.0 200 OK\r\n"
    "< Server: BaseHTTP/0.6 Python/3.11.7\r\n"
    "< Date: Thu, 03 Dec 2026 07:18:04 GMT\r\n"
    "< Content-Type: application/json\r\n"
    "< Content-Length: 29\r\n"
    "< \r\n"
    "{ [5 bytes data]\n"
    "* Closing connection 0\n"
    "} [5 bytes data]\n"
    "* TLSv1.3 (OUT), TLS alert, close notify (256):\n"
    "} [2 bytes data]"
)


@pytest.mark.parametrize(
    ("tool", "rc", "stdout", "stderr", "date", "status"),
    [
        ("curl", 0, "200", CURL_ANSWER, DATE, "200"),
        ("curl", 0, "200", CURL_TLS_LAB, "Thu, 03 Dec 2026 07:18:04 GMT", "200"),
        ("wget", 0, "", GNU_WGET_ANSWER, DATE, "200"),
        ("wget", 0, "", BUSYBOX_WGET_ANSWER, DATE, "200"),
        ("wget", 8, "", GNU_WGET_503, "Thu, 03 Dec 2026 06:58:29 GMT", "503"),
        ("wget", 1, "", BUSYBOX_WGET_503, "", "503"),
        # nc reads no answer: whatever it printed, there is no Date
        ("nc", 0, "", "  Date: " + DATE, "", ""),
    ],
    ids=["curl", "curl over TLS in the lab", "GNU wget", "busybox wget", "GNU wget 503", "busybox wget 503", "nc"],
)
def test_blinks_date_from_what_the_tool_printed(tool, rc, stdout, stderr, date, status):
    r = from_tool_output(tool, "pod blink/p", "http://127.0.0.1:18099/api/v1/runner/ping", rc, stdout, stderr)
    assert (r.server_date, r.http_status, r.clock_at, r.clock_unread) == (date, status, 0.0, "")


@pytest.mark.parametrize(
    ("said", "date"),
    [
        # HTTP/2: curl prints the header names in lower case
        ("< HTTP/2 200\n< date: Thu, 03 Dec 2026 07:03:24 GMT\r\n< content-type: text/plain\n", DATE),
        # through a proxy: its answer to CONNECT comes first, with its own clock; Blink's answer has none
        ("< HTTP/1.1 200 Connection established\n< Date: Thu, 03 Dec 2026 09:00:00 GMT\n< \n"
         "< HTTP/1.1 200 OK\n< Content-Length: 2\n", ""),
        ("< HTTP/1.1 200 Connection established\n< Date: Thu, 03 Dec 2026 09:00:00 GMT\n< \n"
         "< HTTP/1.1 200 OK\n< Date: Thu, 03 Dec 2026 07:03:24 GMT\n", DATE),
        # a redirect followed by wget: the last answer's
        ("  HTTP/1.1 301 Moved\n  Date: Thu, 03 Dec 2026 07:03:20 GMT\n  Location: /x\n"
         "  HTTP/1.1 200 OK\n  Date: Thu, 03 Dec 2026 07:03:24 GMT\n", DATE),
        # the certificate's dates in curl's own lines are no Date header
        ("*  start date: Dec  1 00:00:00 2026 GMT\n*  expire date: Dec  1 00:00:00 2027 GMT\n< HTTP/1.1 200 OK\n", ""),
        ("curl: (7) Failed to connect to blink.lab.test port 18443 after 1 ms: Couldn't connect to server", ""),
        ("", ""),
    ],
    ids=["http2", "proxy's date only", "proxy's and Blink's", "redirect", "certificate dates", "no answer", "nothing"],
)
def test_the_date_is_the_last_answers(said, date):
    assert date_header(said) == date
