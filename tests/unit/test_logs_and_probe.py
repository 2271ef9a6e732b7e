"""Network-error families, bounded log reading and the probe's layer mapping."""

from __future__ import annotations

import pytest

from blinkcheck.catalog import load_catalog
from blinkcheck.logs import LogWindow, judge_network_errors, match_network_errors, read_bounded
from blinkcheck.model import Outcome
from blinkcheck.probe import ProbeResult, judge_probe

CATALOG = load_catalog()

GO_ERRORS = {
    "timeout": 'Get "https://app.blinkops.com/api": dial tcp 1.2.3.4:443: i/o timeout',
    "refused": "dial tcp 10.0.0.1:443: connect: connection refused",
    "dns": "dial tcp: lookup app.blinkops.com on 127.0.0.11:53: no such host",
    "tls": "tls: failed to verify certificate: x509: certificate signed by unknown authority",
    "proxy": 'proxyconnect tcp: dial tcp 10.1.1.1:3128: connect: no route',
    "websocket": "websocket: bad handshake",
}


@pytest.mark.parametrize(("family", "line"), GO_ERRORS.items())
def test_each_family_matches_its_go_error(family, line):
    found = match_network_errors([line], CATALOG.network_error_families)
    assert list(found.by_family) == [family]


def test_healthy_lines_match_nothing():
    lines = ["Connected to Blink controller at https://app.blinkops.com", "Starting blink-runner 1.0.994"]
    assert match_network_errors(lines, CATALOG.network_error_families).count == 0


def test_judge_gives_one_hint_per_family_with_the_host():
    w = LogWindow("pod blink/x", "last 10 lines", (GO_ERRORS["timeout"], GO_ERRORS["dns"], "ok"))
    f = judge_network_errors("k8s.disconnected.no-network-errors", w, CATALOG, "https://eu1.blinkops.com", {})
    assert f.outcome is Outcome.FAILED
    assert len(f.hints) == 2 and all("eu1.blinkops.com" in h for h in f.hints)
    assert f.values["error_count"] == "2"


def test_read_bounded_handles_bad_utf8_huge_lines_and_the_cap():
    chunks = [b"ok\n", b"\xff\xfe bad\n", b"x" * 100_000, b"\nend\n"]
    lines, truncated = read_bounded(chunks, max_bytes=10_000_000)
    assert lines[0] == "ok" and "\ufffd" in lines[1]
    assert any(line.endswith("[line cut]") for line in lines)
    assert not truncated
    many = [b"line\n"] * 1000
    lines, truncated = read_bounded(many, max_bytes=500)
    assert truncated and len(lines) <= 101


@pytest.mark.parametrize(
    ("code", "stderr", "outcome", "layer"),
    [
        (0, "", Outcome.PASSED, "HTTP"),
        (6, "Could not resolve host: app.blinkops.com", Outcome.FAILED, "DNS"),
        (7, "Failed to connect to x port 443: Connection refused", Outcome.FAILED, "TCP connect"),
        (28, "Failed to connect to x port 443: Connection timed out", Outcome.FAILED, "TCP connect (timeout)"),
        (28, "Operation timed out after 10000 milliseconds with 0 bytes received", Outcome.FAILED, "HTTP (timeout)"),
        (35, "OpenSSL SSL_connect: SSL_ERROR_SYSCALL", Outcome.FAILED, "TLS"),
        (60, "SSL certificate problem: self-signed certificate in certificate chain", Outcome.FAILED, "TLS"),
        (None, "", Outcome.NOT_EVALUABLE, "probe"),
    ],
)
def test_probe_layers(code, stderr, outcome, layer):
    http_code = "200" if code == 0 else ""
    r = ProbeResult("container c", "https://app.blinkops.com", code, http_code, stderr, error="no image")
    f = judge_probe("docker.disconnected.blink-reachable", r, {})
    assert f.outcome is outcome
    assert f.values["layer"] == layer


def test_probe_server_error_is_a_warning():
    r = ProbeResult("c", "https://x", 0, "503")
    assert judge_probe("docker.disconnected.blink-reachable", r, {}).outcome is Outcome.WARNING


def test_unreadable_window_is_not_evaluable_never_passed():
    w = LogWindow("container c", "last 10 lines", error="connection reset by the engine")
    f = judge_network_errors("docker.disconnected.no-network-errors", w, CATALOG, "https://app.blinkops.com", {})
    assert f.outcome is Outcome.NOT_EVALUABLE


def test_killed_probe_is_not_a_network_verdict():
    r = ProbeResult("container c", "https://x", 137, "", "")
    f = judge_probe("docker.disconnected.blink-reachable", r, {})
    assert f.outcome is Outcome.NOT_EVALUABLE and "killed" in f.summary
