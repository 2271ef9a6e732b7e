"""Network-error families and bounded log reading (the probe's layers: test_probe.py)."""

from __future__ import annotations

import pytest

from blinkcheck.catalog import load_catalog
from blinkcheck.logs import LogWindow, judge_network_errors, match_network_errors, read_bounded
from blinkcheck.model import Outcome

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


def test_unreadable_window_is_not_evaluable_never_passed():
    w = LogWindow("container c", "last 10 lines", error="connection reset by the engine")
    f = judge_network_errors("docker.disconnected.no-network-errors", w, CATALOG, "https://app.blinkops.com", {})
    assert f.outcome is Outcome.NOT_EVALUABLE
