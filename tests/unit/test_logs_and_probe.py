"""Network-error families, the streaming log scan and the network timeline (the probe's layers: test_probe.py)."""

from __future__ import annotations

import tracemalloc

import pytest

from blinkcheck.catalog import load_catalog
from blinkcheck.logs.judge import judge_network_errors
from blinkcheck.logs.scan import NET, SUCCESS, LogPatterns, LogScan, LogWindow, NewestBytes, scan_lines
from blinkcheck.model import Outcome

CATALOG = load_catalog()
PATTERNS = LogPatterns.from_catalog(CATALOG)
URL = "https://app.blinkops.com"
CID = "docker.disconnected.no-network-errors"

GO_ERRORS = {
    "timeout": 'Get "https://app.blinkops.com/api": dial tcp 1.2.3.4:443: i/o timeout',
    "refused": "dial tcp 10.0.0.1:443: connect: connection refused",
    "dns": "dial tcp: lookup app.blinkops.com on 127.0.0.11:53: no such host",
    "tls": "tls: failed to verify certificate: x509: certificate signed by unknown authority",
    "proxy": 'proxyconnect tcp: dial tcp 10.1.1.1:3128: connect: no route',
    "websocket": "websocket: bad handshake",
}
OK = "Connected to Blink controller at https://app.blinkops.com"


def at(second: int, text: str) -> str:
    """A line as the engine gives it with timestamps (`docker logs -t`)."""
    return f"2026-12-02T06:{second // 60:02d}:{second % 60:02d}.123456789Z {text}"


def families(w: LogWindow) -> list[str]:
    return [k[len(NET) :] for k in w.hits if k.startswith(NET)]


@pytest.mark.parametrize(("family", "line"), GO_ERRORS.items())
def test_each_family_matches_its_go_error(family, line):
    assert families(scan_lines([line], PATTERNS)) == [family]


def test_healthy_lines_match_nothing():
    w = scan_lines([OK, "Starting blink-runner 1.0.994"], PATTERNS)
    assert families(w) == [] and w.last_success is not None and w.last_success.text == OK


def test_judge_gives_one_hint_per_family_with_the_host():
    w = scan_lines([GO_ERRORS["timeout"], GO_ERRORS["dns"], "ok"], PATTERNS, "pod blink/x", "last 10 lines")
    f = judge_network_errors("k8s.disconnected.no-network-errors", w, CATALOG, "https://eu1.blinkops.com", {})
    assert f.outcome is Outcome.FAILED
    assert len(f.hints) == 2 and all("eu1.blinkops.com" in h for h in f.hints)
    assert f.values["error_count"] == "2"


# ------------------------------------------------------------------ the streaming scan


def test_scan_handles_bad_utf8_huge_lines_and_any_chunking():
    scan = LogScan(PATTERNS)
    for chunk in (b"ok\n\xff\xfe bad\n", b"x" * 3_000_000, b" i/o timeout\nend", b"\n"):
        scan.feed(chunk)
    w = scan.window("c", "w")
    assert w.line_count == 4
    # the newest lines come from the newest 1 MB only: the giant line's end, cut, and the last line
    assert w.lines[-2].endswith("[line cut]") and len(w.lines[-2]) < 5000 and w.lines[-1] == "end"
    # the error at the end of a 3 MB line is still found (matched in pieces)
    assert families(w) == ["timeout"]
    small = scan_lines(["ok", "\udcff bad"], PATTERNS)
    assert (small.lines[0] == "ok" and "\ufffd" in small.lines[1]) or "?" in small.lines[1]
    # a line split across chunks is one line
    split = LogScan(PATTERNS)
    for piece in (b"dial tcp 1.2.3.4:443: i/o ti", b"meout\n", b"next\n"):
        split.feed(piece)
    assert families(split.window("c", "w")) == ["timeout"] and split.lines == 2


def test_scan_keeps_the_newest_lines_and_counts_every_one():
    lines = [f"line {i}" for i in range(100_000)] + [GO_ERRORS["timeout"]]
    w = scan_lines(lines, PATTERNS)
    assert w.line_count == 100_001
    assert w.lines[-1] == GO_ERRORS["timeout"] and w.lines[0] == "line 99951"  # the newest 50
    hits = w.hit(NET + "timeout")
    assert hits is not None and hits.count == 1 and hits.last.index == 100_000


def test_scan_memory_stays_flat_whatever_the_window():
    """The whole window is read, never held: 200 MB through the scan, a few MB of memory."""
    block = (b"level=info msg=\"processing action run 8f3a: 200 OK in 12ms\"\n" * 16_000)  # ~1 MB
    scan = LogScan(PATTERNS)
    tracemalloc.start()
    for _ in range(200):
        scan.feed(block)
    scan.feed(b"dial tcp 1.2.3.4:443: i/o timeout\n")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    w = scan.window("c", "w")
    assert w.line_count == 200 * 16_000 + 1 and families(w) == ["timeout"]
    assert peak < 12 * 1024 * 1024, f"peak {peak} bytes"


def test_scan_samples_first_and_last_matches():
    lines = [GO_ERRORS["refused"] + f" #{i}" for i in range(1000)]
    hits = scan_lines(lines, PATTERNS).hit(NET + "refused")
    assert hits is not None and hits.count == 1000 and hits.skipped == 970
    assert hits.first.text.endswith("#0") and hits.last.text.endswith("#999")
    assert [s.text[-4:] for s in hits.samples[-2:]] == ["#998", "#999"]


def test_engine_timestamps_become_the_line_time():
    w = scan_lines([at(5, "hello"), "no stamp"], PATTERNS)
    assert w.tail[0].text == "hello" and w.tail[0].at is not None and w.tail[0].at.second == 5
    assert w.tail[1].at is None and w.first_at == w.tail[0].at


def test_clean_applies_to_every_kept_line():
    scan = LogScan(PATTERNS, clean=lambda t: t.replace("s3cr3t-key", "[REDACTED]"))
    scan.feed(b"key=s3cr3t-key dial tcp: i/o timeout\nConnected to Blink controller s3cr3t-key\n")
    w = scan.window("c", "w")
    kept = [*w.lines, *(s.text for h in w.hits.values() for s in h.samples), w.last_success.text if w.last_success else ""]
    assert kept and all("s3cr3t-key" not in t for t in kept)


def test_newest_bytes_keeps_the_end():
    keep = NewestBytes(100)
    for i in range(1000):
        keep.feed(f"line {i}\n".encode())
    text = keep.text()
    assert keep.dropped and text.endswith("line 999\n") and text.startswith("line ") and len(text) <= 100


# ------------------------------------------------------------------ the timeline: judge the present


def test_errors_then_connected_again_is_a_recovered_warning():
    lines = [at(0, OK), *(at(10 + i, GO_ERRORS["timeout"]) for i in range(10)), at(30, OK), at(90, OK)]
    w = scan_lines(lines, PATTERNS, "container c", "w")
    f = judge_network_errors(CID, w, CATALOG, URL, {"container_id": "abc", "container_name": "c"}, probe_passed=True)
    assert f.outcome is Outcome.WARNING and f.variant == "recovered"
    assert "between 2026-12-02T06:00:10Z and 2026-12-02T06:00:19Z" in f.summary
    assert "connected again since 2026-12-02T06:00:30Z (1m before its newest line)" in f.summary
    timeline = f.details["timeline"]
    assert timeline["errors"] == 10 and timeline["errors_continue"] is False
    assert timeline["connected_again_at"].startswith("2026-12-02T06:00:30")
    assert f.evidence[0].title == "Timeline" and "connected again since" in f.evidence[0].text
    remedy = CATALOG[CID].remedy_for(f.variant)
    assert "Nothing to do now" in remedy


def test_errors_to_the_end_fail_and_name_the_firewall():
    lines = [at(0, OK), at(10, GO_ERRORS["timeout"]), at(11, OK), at(20, GO_ERRORS["timeout"])]
    f = judge_network_errors(CID, scan_lines(lines, PATTERNS, "c", "w"), CATALOG, URL, {}, probe_passed=False)
    assert f.outcome is Outcome.FAILED and f.variant == ""
    assert f.details["timeline"]["errors_continue"] is True
    assert f.details["timeline"]["last_success_at"].startswith("2026-12-02T06:00:11")


def test_errors_to_the_end_while_the_probe_passes_point_at_the_runners_configuration():
    lines = [at(10, GO_ERRORS["refused"]), at(20, GO_ERRORS["refused"])]
    f = judge_network_errors(CID, scan_lines(lines, PATTERNS, "c", "w"), CATALOG, URL, {}, probe_passed=True)
    assert f.outcome is Outcome.FAILED and f.variant == "configuration"
    assert "the path is open" in f.summary and "configuration" in f.summary
    assert "HTTPS_PROXY" in CATALOG[CID].remedy_for("configuration")
    assert "proxy settings" in CATALOG[CID].verdict_for("configuration")


def test_errors_of_the_previous_container_then_connected_recover():
    w = scan_lines([at(30, OK)], PATTERNS, "pod p", "w", previous=[at(10, GO_ERRORS["dns"])])
    f = judge_network_errors("k8s.disconnected.no-network-errors", w, CATALOG, URL, {})
    assert f.outcome is Outcome.WARNING and w.previous_lines == 1 and w.current_lines == 1


def test_a_window_read_only_in_part_never_passes():
    w = scan_lines([OK], PATTERNS, "c", "w", cut="the read did not finish within 1s")
    f = judge_network_errors(CID, w, CATALOG, URL, {})
    assert f.outcome is Outcome.NOT_EVALUABLE and "read only in part" in f.summary


def test_success_patterns_come_from_the_catalog():
    assert SUCCESS not in families(scan_lines([OK], PATTERNS))
    assert scan_lines(["websocket connection established"], PATTERNS).last_success is not None


def test_unreadable_window_is_not_evaluable_never_passed():
    w = LogWindow("container c", "last 10 lines", error="connection reset by the engine")
    f = judge_network_errors("docker.disconnected.no-network-errors", w, CATALOG, "https://app.blinkops.com", {})
    assert f.outcome is Outcome.NOT_EVALUABLE


@pytest.mark.parametrize("filler", [0, 5000])
def test_timeline_order_with_few_or_many_successes(filler):
    """Blocks whose newest bytes hold a success and blocks where successes are rare take different paths:
    both give the same timeline and line numbers."""
    noise = [f"noise {i}" for i in range(filler)]
    ok_every_line = [OK] * 3 if not filler else []
    lines = [*noise, OK, *noise, GO_ERRORS["timeout"], *noise, OK, *noise, GO_ERRORS["refused"], *noise, *ok_every_line]
    w = scan_lines(lines, PATTERNS)
    refused = w.hit(NET + "refused")
    assert refused is not None and refused.last.index == lines.index(GO_ERRORS["refused"])
    if ok_every_line:
        assert w.recovered is not None and w.recovered.index == len(lines) - 3
        assert w.last_success is not None and w.last_success.index == len(lines) - 1
    else:
        assert w.recovered is None  # no success after the last error
        assert w.last_success is not None and w.last_success.index == 3 * filler + 2


def test_many_errors_keep_their_line_numbers():
    lines = [GO_ERRORS["timeout"] if i % 2 else f"line {i}" for i in range(40_000)]
    hits = scan_lines(lines, PATTERNS).hit(NET + "timeout")
    assert hits is not None and hits.count == 20_000
    assert hits.first.index == 1 and hits.last.index == 39_999
    assert [s.index for s in hits.samples[:3]] == [1, 3, 5]


def test_the_combined_scan_also_compiles_without_re2():
    """Python's re is the fallback (no RE2, or a site pattern RE2 cannot take): inline flags mid-alternation
    are scoped, named groups are plain."""
    import re

    from blinkcheck.logs import scan as logs

    patterns = [p.pattern for f in CATALOG.network_error_families for p in f.patterns]
    patterns += [p.pattern for p in CATALOG.success_patterns] + [p.pattern for p in CATALOG.upgrade_patterns.values()]
    fallback = logs._compile_fast(patterns, engine=re)
    assert isinstance(fallback, re.Pattern)
    assert fallback.search(b"x WebSocket Connection Established y") and fallback.search(b"dial tcp: i/o timeout")


# ------------------------------------------------------------------ every catalog pattern is needed

# Lines as Go's net/http, net, crypto/tls, gorilla/websocket (and glibc, curl) print them, each with the family it
# belongs to. Each catalog pattern has a line here that only it catches within its family (removing the pattern
# from catalog.yaml changes that line's family: test_every_catalog_pattern_is_needed).
SAMPLES = [
    ('Post "https://app.blinkops.com/api/v1/ping": proxyconnect tcp: dial tcp 10.1.1.1:3128: connect: connection refused', "proxy"),
    ('Get "https://app.blinkops.com/api": Proxy Authentication Required', "proxy"),
    ('invalid HTTP_PROXY value "http//proxy.corp": parse error', "proxy"),
    ('invalid proxy address in HTTPS_PROXY: "proxy.corp:abc"', "proxy"),
    ("dial tcp 1.2.3.4:443: i/o timeout", "timeout"),
    ('Get "https://app.blinkops.com/api": context deadline exceeded', "timeout"),
    ("net/http: request canceled (Client.Timeout exceeded while awaiting headers)", "timeout"),
    ("dial tcp 1.2.3.4:443: connect: connection timed out", "timeout"),
    ("net/http: TLS handshake timeout", "timeout"),
    ("dial tcp 10.0.0.1:443: connect: connection refused", "refused"),
    ("read tcp 10.0.0.5:51234->1.2.3.4:443: read: connection reset by peer", "refused"),
    ("write tcp 10.0.0.5:51234->1.2.3.4:443: write: broken pipe", "refused"),
    ("dial tcp 1.2.3.4:443: connect: no route to host", "refused"),
    ("dial tcp [2606:4700::1]:443: connect: network is unreachable", "refused"),
    ("lookup app.blinkops.com on 10.96.0.10:53: no such host", "dns"),
    ("lookup app.blinkops.com on 127.0.0.11:53: server misbehaving", "dns"),
    ("curl: (6) getaddrinfo: Temporary failure in name resolution", "dns"),
    ("dial tcp: lookup app.blinkops.com: operation was canceled", "dns"),
    # A dead nameserver: the lookup times out, and the timeout family (earlier in the catalog) takes the line.
    ("dial tcp: lookup app.blinkops.com on 10.96.0.10:53: read udp 10.244.0.5:39745->10.96.0.10:53: i/o timeout", "timeout"),
    ("x509: certificate has expired or is not yet valid", "tls"),
    ("tls: first record does not look like a TLS handshake", "tls"),
    ("SSL certificate problem: certificate signed by unknown authority", "tls"),
    ("websocket: bad handshake", "websocket"),
    ("websocket: close 1006 (abnormal closure)", "websocket"),
    ("read message: unexpected EOF", "websocket"),
    ("Blink controller answered 401 Unauthorized", "blink-http"),
    ("Blink controller answered 503 Service Unavailable", "blink-http"),
    ("Blink controller answered 200 OK", None),
    ("level=info msg=\"Connected to Blink controller at https://app.blinkops.com\"", None),
    ("level=info msg=\"processing action run 8f3a: 200 OK in 12ms\"", None),
]
# Patterns no line can need, with the reason (the test fails on any other unneeded pattern).
SUBSUMED = {
    "remote error: tls": "Go writes it as 'remote error: tls: <alert>', which 'tls: ' matches",
}


def _family_of(patterns: LogPatterns, line: str) -> str | None:
    keys = [k for k in patterns.classify(line) if k.startswith(NET)]
    return keys[0][len(NET) :] if keys else None


@pytest.mark.parametrize(("line", "family"), SAMPLES)
def test_each_go_error_line_lands_in_its_family(line, family):
    assert _family_of(PATTERNS, line) == family
    assert families(scan_lines([line], PATTERNS)) == ([family] if family else [])


def test_every_catalog_pattern_is_needed():
    """Take each pattern out of the catalog in turn: some sample line must change family (else the pattern is not
    pinned by any test, and losing it from catalog.yaml would go unnoticed)."""
    from dataclasses import replace

    unpinned = []
    for fi, fam in enumerate(CATALOG.network_error_families):
        for pi, pat in enumerate(fam.patterns):
            if pat.pattern in SUBSUMED:
                continue
            fewer = replace(fam, patterns=fam.patterns[:pi] + fam.patterns[pi + 1 :])
            families_ = (*CATALOG.network_error_families[:fi], fewer, *CATALOG.network_error_families[fi + 1 :])
            without = LogPatterns.from_catalog(replace(CATALOG, network_error_families=families_))
            if all(_family_of(without, line) == family for line, family in SAMPLES):
                unpinned.append(f"{fam.family}: {pat.pattern!r}")
    assert not unpinned, f"no sample line needs these patterns: {unpinned}"


def test_a_giant_line_without_newline_is_matched_in_pieces_in_bounded_memory():
    """A runner writing 20 MB without a newline: the scan keeps at most MAX_CARRY of it and still finds the error."""
    from blinkcheck.logs.scan import MAX_CARRY

    scan = LogScan(PATTERNS)
    piece = b"y" * (256 * 1024)
    tracemalloc.start()
    for _ in range(80):
        scan.feed(piece)
    scan.feed(b" dial tcp 1.2.3.4:443: i/o timeout")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4 * MAX_CARRY, f"peak {peak} bytes"
    scan.feed(b"\nnext\n")
    w = scan.window("c", "w")
    assert families(w) == ["timeout"] and w.lines[-1] == "next"


# ------------------------------------------------------------------ the judge's words and the timeline, exactly


def test_recovered_errors_exactly():
    from tests.unit.docker_objects import shown

    lines = [at(0, OK), *(at(10 + i, GO_ERRORS["timeout"]) for i in range(12)), at(25, GO_ERRORS["dns"]), at(30, OK),
             at(90, OK)]  # fmt: skip
    f = judge_network_errors(CID, scan_lines(lines, PATTERNS, "container c", "w"), CATALOG, URL, {"container_id": "abc"})
    got = shown(f)
    assert got["summary"] == (
        "container c logged 13 network error(s) reaching app.blinkops.com between 2026-12-02T06:00:10Z and "
        "2026-12-02T06:00:25Z (timeouts: 12, DNS failures: 1) and has connected again since 2026-12-02T06:00:30Z "
        "(1m before its newest line): recovered.")
    assert (got["outcome"], got["object"], got["variant"]) == ("warning", "container c", "recovered")
    assert got["values"] == {"container_id": "abc", "blink_host": "app.blinkops.com", "log_window": "w",
                             "error_count": "13", "families": "timeouts: 12, DNS failures: 1",
                             "first_error": "2026-12-02T06:00:10Z", "last_error": "2026-12-02T06:00:25Z",
                             "connected_since": "2026-12-02T06:00:30Z"}  # fmt: skip
    assert got["hints"] == [CATALOG.network_error_families[1].hint.replace("{blink_host}", "app.blinkops.com"),
                            CATALOG.network_error_families[3].hint.replace("{blink_host}", "app.blinkops.com")]  # fmt: skip
    assert [(t, s) for t, s, _ in got["evidence"]] == [("Timeline", "container c, w"),
                                                       ("timeouts (12 lines)", "container c, w"),
                                                       ("DNS failures (1 lines)", "container c, w")]  # fmt: skip
    assert got["evidence"][0][2].splitlines() == [
        "network errors              13 (timeouts: 12, DNS failures: 1)",
        f"first error                 2026-12-02T06:00:10Z  {GO_ERRORS['timeout']}",
        f"last error                  2026-12-02T06:00:25Z  {GO_ERRORS['dns']}",
        f"last successful connection  2026-12-02T06:01:30Z  {OK}",
        f"connected again since       2026-12-02T06:00:30Z  {OK}",
        "window ends                 2026-12-02T06:01:30Z",
    ]
    assert got["evidence"][2][2] == f"2026-12-02T06:00:25Z  {GO_ERRORS['dns']}"
    assert dict(f.details) == {"lines_read": 16, "window_read_whole": True, "timeline": {
        "errors": 13, "by_family": {"timeout": 12, "dns": 1},
        "first_error_at": "2026-12-02T06:00:10.123456+00:00", "last_error_at": "2026-12-02T06:00:25.123456+00:00",
        "last_success_at": "2026-12-02T06:01:30.123456+00:00", "connected_again_at": "2026-12-02T06:00:30.123456+00:00",
        "window_end_at": "2026-12-02T06:01:30.123456+00:00", "errors_continue": False}}  # fmt: skip
    # The probe failing now: said beside the recovery.
    now_failing = judge_network_errors(CID, scan_lines(lines, PATTERNS, "c", "w"), CATALOG, URL, {}, probe_passed=False)
    assert now_failing.summary.endswith("recovered. The egress probe fails now, though: see blink-reachable.")


def test_errors_that_go_on_exactly():
    lines = [at(10, GO_ERRORS["refused"]), at(20, GO_ERRORS["refused"])]
    w = scan_lines(lines, PATTERNS, "container c", "w")
    f = judge_network_errors(CID, w, CATALOG, URL, {})
    assert f.summary == ("container c logged 2 network error(s) reaching app.blinkops.com between 2026-12-02T06:00:10Z "
                         "and 2026-12-02T06:00:20Z (connection refused / reset: 2), with no successful connection "
                         "since the last one.")
    assert f.values["connected_since"] == "" and f.variant == ""
    assert f.evidence[0].text.splitlines()[3:5] == ["last successful connection  none in the window",
                                                    "connected again since       no: the errors go on to the end"]
    cfg = judge_network_errors(CID, w, CATALOG, URL, {}, probe_passed=True)
    assert cfg.summary == (
        "container c logged 2 network error(s) reaching app.blinkops.com between 2026-12-02T06:00:10Z and "
        "2026-12-02T06:00:20Z (connection refused / reset: 2), with no successful connection since, while the "
        "egress probe from its own network namespace reaches app.blinkops.com: the path is open, so the cause is "
        "likely the runner's own configuration (proxy settings, credentials, clock) rather than a firewall.")
    unstamped = judge_network_errors(CID, scan_lines([GO_ERRORS["refused"]], PATTERNS, "c", "w"), CATALOG, URL, {})
    assert unstamped.summary == ("c logged 1 network error(s) reaching app.blinkops.com (connection refused / reset: "
                                 "1), with no successful connection since the last one.")
    assert (unstamped.values["first_error"], unstamped.details["timeline"]["first_error_at"]) == ("-", None)


def test_no_errors_cut_and_unreadable_exactly():
    ok = judge_network_errors(CID, scan_lines([OK, "x"], PATTERNS, "container c", "w"), CATALOG, "http://10.0.0.1:8080", {})
    assert (ok.outcome, ok.summary, ok.evidence) == (
        Outcome.PASSED, "No network errors reaching Blink in container c (w, 2 lines).", ())
    assert ok.values["blink_host"] == "10.0.0.1" and ok.details["timeline"]["errors"] == 0
    cut = scan_lines([GO_ERRORS["timeout"]], PATTERNS, "container c", "w", cut="the read did not finish within 1s")
    part = judge_network_errors(CID, cut, CATALOG, URL, {})
    assert part.summary == ("The log window of container c was read only in part (the read did not finish within 1s); "
                            "1 network error(s) in the part that was read: a window not read to its newest line is "
                            "never judged healthy.")
    assert part.details["window_read_whole"] is False and [e.title for e in part.evidence] == [
        "Timeline", "timeouts (1 lines)"]
    clean_cut = judge_network_errors(CID, scan_lines([OK], PATTERNS, "c", "w", cut="x"), CATALOG, URL, {})
    assert clean_cut.summary.startswith("The log window of c was read only in part (x): a window")
    bad = judge_network_errors(CID, LogWindow("container c", "w", error="gone"), CATALOG, URL, {"pod": "p"})
    assert (bad.summary, bad.object, dict(bad.values)) == (
        "Could not read the logs of container c: gone", "container c",
        {"pod": "p", "blink_host": "app.blinkops.com", "log_window": "w"})


def test_many_matches_show_samples_and_how_many_were_left_out():
    lines = [at(i, GO_ERRORS["timeout"] + f" #{i}") for i in range(40)]
    f = judge_network_errors(CID, scan_lines(lines, PATTERNS, "c", "w"), CATALOG, URL, {})
    text = f.evidence[1].text.splitlines()
    assert f.evidence[1].title == "timeouts (40 lines)" and len(text) == 31
    assert text[9].endswith("#9") and text[10] == "… 10 more matching lines …" and text[11].endswith("#20")
    assert text[-1].endswith("#39")


def test_stamps_and_decoding():
    from datetime import UTC, datetime, timedelta, timezone

    from blinkcheck.logs import scan as logs

    at_, rest = logs.parse_stamp(b"2026-12-02T06:00:01.123456789+02:00 hi")
    assert at_ == datetime(2026, 12, 2, 6, 0, 1, 123456, tzinfo=timezone(timedelta(hours=2))) and rest == b"hi"
    assert logs.parse_stamp(b"2026-12-02T06:00:01Z hi") == (datetime(2026, 12, 2, 6, 0, 1, tzinfo=UTC), b"hi")
    assert logs.parse_stamp(b"2026-12-02T06:00:01.5Z x")[0] == datetime(2026, 12, 2, 6, 0, 1, 500000, tzinfo=UTC)
    assert logs.parse_stamp(b"2026-13-02T06:00:01Z hi") == (None, b"2026-13-02T06:00:01Z hi")
    assert logs.parse_stamp(b"no stamp") == (None, b"no stamp")
    assert logs.stamp(None) == "-" and logs.stamp(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
    assert logs._decode(b"abc\r") == "abc" and logs._decode(b"\xffx") == "\ufffdx"
    long = logs._decode(b"a" * 5000)
    assert long == "a" * 4096 + " …[line cut]"
    assert logs._decode(b"a" * 4096) == "a" * 4096
    multi = logs._decode("é".encode() * 5000)  # 10000 bytes, 5000 characters: cut at 4096 characters
    assert multi == "é" * 4096 + " …[line cut]"
    assert logs._plain_groups("(?i)(?P<x>a)b") == "(?i:(?:a)b)" and logs._plain_groups("a(?P<n>b)") == "a(?:b)"


def test_window_properties_and_line_rendering():
    from blinkcheck.logs.judge import last_lines, previous_last_lines

    w = scan_lines([at(1, "a"), "b"], PATTERNS, "s", "w", previous=[at(0, "p1"), "p2"])
    assert (w.line_count, w.previous_lines, w.current_lines, w.complete) == (4, 2, 2, True)
    assert w.lines == ("a", "b") and w.tail[0].index == 2 and w.previous_tail[1].index == 1
    assert last_lines(w) == "2026-12-02T06:00:01Z  a\nb" and last_lines(w, 1) == "b"
    assert previous_last_lines(w) == "2026-12-02T06:00:00Z  p1\np2" and previous_last_lines(w, 1) == "p2"
    assert last_lines(LogWindow("s", "w")) == "(no log lines in the window)"
    assert not scan_lines(["x"], PATTERNS, cut="c").complete and not LogWindow("s", "w", error="e").complete
    assert w.hit("net:timeout") is None


def test_newest_bytes_whole_lines_only_after_dropping():
    keep = NewestBytes(10)
    keep.feed(b"abc\n")
    assert (keep.text(), keep.dropped) == ("abc\n", False)
    keep.feed(b"defgh\nij\n")
    assert keep.text() == "defgh\nij\n" and keep.dropped  # the newest 10 bytes, from the first whole line
    one = NewestBytes(5)
    one.feed(b"123\n456789\n")
    assert one.text() == "" and one.dropped
