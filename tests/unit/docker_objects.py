"""Helpers of the Docker unit tests: log windows scanned with the catalog's patterns, upgrade lines, a finding as
the report shows it. Hand-made `docker inspect` data is in tests/unit/canned.py."""

from __future__ import annotations

from blinkcheck.catalog import load_catalog
from blinkcheck.logs.judge import upgrade_lines
from blinkcheck.logs.scan import LogPatterns, LogWindow, scan_lines

CATALOG = load_catalog()


PATTERNS = LogPatterns.from_catalog(CATALOG)


def window(*lines: str) -> LogWindow:
    return scan_lines(lines, PATTERNS, "container blink-runner (3f2a9c1b7d4e)", "last 2000 lines, since 1h")


def parse_upgrade_lines(lines: list[str]):
    return upgrade_lines(window(*lines), CATALOG.upgrade_patterns)


CREATING = (
    'time="x" level=info msg="Creating new container with name: blink-runner-1.0.995 and configuration '
    'from container with id: 3f2a9c1b7d4e5f60718293a4b5c6d7e8f9012345678901234567890abcdef12"'
)


FOUND = (
    "Found existing container with name: blink-runner-1.0.995 already running with id: "
    "8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b"
)


def shown(f) -> dict:
    """Everything a finding carries into the report, for exact comparison."""
    return {
        "id": f.condition_id,
        "outcome": str(f.outcome),
        "summary": f.summary,
        "object": f.object,
        "values": dict(f.values),
        "evidence": [(e.title, e.source, e.text) for e in f.evidence],
        "hints": list(f.hints),
        "because_of": f.because_of,
        "variant": f.variant,
    }


RUNNER = "container blink-runner (3f2a9c1b7d4e)"
