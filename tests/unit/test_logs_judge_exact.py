"""The log judge's helpers, exactly: whether a window holds network errors at all (the probe runs only then), the
Docker upgrade lines in the order they were logged, and the last lines shown as evidence."""

from __future__ import annotations

from blinkcheck.catalog import load_catalog
from blinkcheck.logs.judge import blink_host, has_network_errors, upgrade_lines
from blinkcheck.logs.scan import LogPatterns, scan_lines

CATALOG = load_catalog()
PATTERNS = LogPatterns.from_catalog(CATALOG)
CREATING = ("Creating new container with name: blink-runner-{v} and configuration from container with id: "
            "3f2a9c1b7d4e")  # fmt: skip
FOUND = "Found existing container with name: blink-runner-{v} already running with id: 9e8d7c6b5a4f"


def test_network_errors_are_net_hits_only():
    assert has_network_errors(scan_lines(["dial tcp 1.2.3.4:443: i/o timeout"], PATTERNS))
    assert not has_network_errors(scan_lines([CREATING.format(v="1.0.995"), "Connected to Blink controller"], PATTERNS))
    assert not has_network_errors(scan_lines([], PATTERNS))


def test_blink_host():
    assert blink_host("https://eu1.blinkops.com:8443/x") == "eu1.blinkops.com"
    assert blink_host("app.blinkops.com") == "app.blinkops.com"  # no scheme: the text itself


def test_upgrade_lines_oldest_first_with_their_fields():
    lines = [FOUND.format(v="1.0.994"), "noise", CREATING.format(v="1.0.995"), FOUND.format(v="1.0.996"),
             CREATING.format(v="1.0.997")]  # fmt: skip
    found = upgrade_lines(scan_lines(lines, PATTERNS), CATALOG.upgrade_patterns)
    assert [(u.kind, u.name, u.version, u.container_id, u.index) for u in found] == [
        ("found_existing", "blink-runner-1.0.994", "1.0.994", "9e8d7c6b5a4f", 0),
        ("creating", "blink-runner-1.0.995", "1.0.995", "3f2a9c1b7d4e", 2),
        ("found_existing", "blink-runner-1.0.996", "1.0.996", "9e8d7c6b5a4f", 3),
        ("creating", "blink-runner-1.0.997", "1.0.997", "3f2a9c1b7d4e", 4),
    ]
    assert found[1].line == lines[2]
    stamped = upgrade_lines(scan_lines([f"2026-12-02T06:00:01.5Z {lines[2]}"], PATTERNS), CATALOG.upgrade_patterns)
    assert stamped[0].line == f"2026-12-02T06:00:01Z  {lines[2]}"  # as rendered, with the engine's time
    assert upgrade_lines(scan_lines(["noise"], PATTERNS), CATALOG.upgrade_patterns) == []


def test_last_lines_shown_by_default():
    from blinkcheck.logs.judge import last_lines, previous_last_lines

    w = scan_lines([f"c{i}" for i in range(40)], PATTERNS, previous=[f"p{i}" for i in range(40)])
    assert last_lines(w).splitlines() == [f"c{i}" for i in range(10, 40)]  # the newest 30
    assert previous_last_lines(w).splitlines() == [f"p{i}" for i in range(20, 40)]  # the previous container's newest 20


URL = "https://app.blinkops.com"
CID = "docker.disconnected.no-network-errors"
TIMEOUT = "dial tcp 1.2.3.4:443: i/o timeout"
OK = "Connected to Blink controller at https://app.blinkops.com"


def test_recovered_without_a_time_for_the_recovery():
    from blinkcheck.logs.judge import judge_network_errors

    w = scan_lines(["2026-12-02T06:00:10.5Z " + TIMEOUT, OK], PATTERNS, "container c", "w")
    f = judge_network_errors(CID, w, CATALOG, URL, {})
    assert f.summary == ("container c logged 1 network error(s) reaching app.blinkops.com between 2026-12-02T06:00:10Z "
                         "and 2026-12-02T06:00:10Z (timeouts: 1) and has connected again since -: recovered.")


def test_every_failure_carries_its_evidence_hints_and_details():
    from blinkcheck.logs.judge import judge_network_errors

    w = scan_lines([TIMEOUT, TIMEOUT], PATTERNS, "container c", "w")
    plain = judge_network_errors(CID, w, CATALOG, URL, {"container_id": "abc"})
    cfg = judge_network_errors(CID, w, CATALOG, URL, {"container_id": "abc"}, probe_passed=True)
    assert (cfg.condition_id, cfg.object, cfg.evidence, cfg.values, cfg.hints, cfg.details) == (
        CID, "container c", plain.evidence, plain.values, plain.hints, plain.details)
    assert cfg.hints and [e.title for e in cfg.evidence] == ["Timeline", "timeouts (2 lines)"]
    cut = judge_network_errors(CID, scan_lines([TIMEOUT], PATTERNS, "container c", "w", cut="1s"), CATALOG, URL,
                               {"container_id": "abc"})  # fmt: skip
    assert (cut.condition_id, cut.object, dict(cut.values)) == (
        CID, "container c", {"container_id": "abc", "blink_host": "app.blinkops.com", "log_window": "w"})
    assert cut.details["lines_read"] == 1
