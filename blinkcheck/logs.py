"""Log windows and log-pattern judging, shared by the Docker and Kubernetes checks."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from blinkcheck.catalog import Catalog, PatternFamily
from blinkcheck.model import Evidence, Finding, Outcome

# Real runners keep gigabytes of logs: the window is bounded in lines and bytes, and
# a single line is cut (Docker splits at 16 KiB anyway, but a stream may not).
MAX_LINE_CHARS = 4096
DEFAULT_MAX_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class LogWindow:
    """The lines read from one container or pod, and how they were bounded."""

    source: str  # "container blink-runner (3f2a...)" / "pod blink/blink-runner-abc"
    window: str  # human description: "last 2000 lines, since 1h"
    lines: tuple[str, ...] = ()
    truncated: bool = False  # stopped at the byte cap
    error: str = ""  # why it could not be read; empty when it was
    previous: tuple[str, ...] = field(default=())  # previous container's lines (Kubernetes restarts)
    gone: bool = False  # the object vanished between listing and reading: could not look, not a failure


def read_bounded(chunks: Iterable[bytes], max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[str], bool]:
    """Decode a log stream into lines (invalid UTF-8 replaced, huge lines cut), stopping at max_bytes."""
    lines: list[str] = []
    buf = b""
    seen = 0
    truncated = False
    for chunk in chunks:
        if isinstance(chunk, str):  # some clients already decode
            chunk = chunk.encode("utf-8", "replace")
        seen += len(chunk)
        buf += chunk
        while b"\n" in buf:
            raw, buf = buf.split(b"\n", 1)
            lines.append(_decode(raw))
        if len(buf) > MAX_LINE_CHARS * 4:  # a giant line without newline: keep its head only
            lines.append(_decode(buf[:MAX_LINE_CHARS]) + " …[line cut]")
            buf = b""
        if seen >= max_bytes:
            truncated = True
            break
    if buf and not truncated:
        lines.append(_decode(buf))
    return lines, truncated


def _decode(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").rstrip("\r")
    if len(text) > MAX_LINE_CHARS:
        text = text[:MAX_LINE_CHARS] + " …[line cut]"
    return text


def blink_host(blink_url: str) -> str:
    return urlsplit(blink_url).hostname or blink_url


@dataclass(frozen=True)
class NetworkErrors:
    by_family: dict[str, list[str]]

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.by_family.values())


def match_network_errors(lines: Iterable[str], families: Iterable[PatternFamily]) -> NetworkErrors:
    """Each line counts once, for the first family (catalog order) that matches it."""
    fams = list(families)
    found: dict[str, list[str]] = {}
    for line in lines:
        for fam in fams:
            if any(p.search(line) for p in fam.patterns):
                found.setdefault(fam.family, []).append(line)
                break
    return NetworkErrors(found)


def _sample(lines: list[str], head: int = 10, tail: int = 20) -> str:
    if len(lines) <= head + tail:
        return "\n".join(lines)
    skipped = len(lines) - head - tail
    return "\n".join([*lines[:head], f"… {skipped} more matching lines …", *lines[-tail:]])


def judge_network_errors(
    condition_id: str,
    window: LogWindow,
    catalog: Catalog,
    blink_url: str,
    values: dict[str, str],
) -> Finding:
    host = blink_host(blink_url)
    if window.error:
        return Finding(
            condition_id,
            Outcome.NOT_EVALUABLE,
            f"Could not read the logs of {window.source}: {window.error}",
            object=window.source,
            values={**values, "blink_host": host, "log_window": window.window},
        )
    errors = match_network_errors([*window.previous, *window.lines], catalog.network_error_families)
    base = {**values, "blink_host": host, "log_window": window.window}
    if not errors.count:
        return Finding(
            condition_id,
            Outcome.PASSED,
            f"No network errors reaching Blink in {window.source} ({window.window}, {len(window.lines)} lines).",
            object=window.source,
            values=base,
        )
    fams = {f.family: f for f in catalog.network_error_families}
    labels = ", ".join(f"{fams[k].label}: {len(v)}" for k, v in errors.by_family.items())
    hints = tuple(fams[k].hint.replace("{blink_host}", host) for k in errors.by_family)
    evidence = tuple(
        Evidence(f"{fams[k].label} ({len(v)} lines)", _sample(v), source=f"{window.source}, {window.window}")
        for k, v in errors.by_family.items()
    )
    return Finding(
        condition_id,
        Outcome.FAILED,
        f"{window.source} logged {errors.count} network error(s) reaching {host}: {labels}.",
        object=window.source,
        evidence=evidence,
        values={**base, "error_count": str(errors.count), "families": labels},
        hints=hints,
    )


@dataclass(frozen=True)
class UpgradeLine:
    kind: str  # "creating" | "found_existing"
    name: str  # blink-runner-{version}
    version: str
    container_id: str  # for "creating": the container the configuration came from
    line: str


def parse_upgrade_lines(lines: Iterable[str], patterns: dict[str, re.Pattern[str]]) -> list[UpgradeLine]:
    out = []
    for line in lines:
        for kind in ("creating", "found_existing"):
            m = patterns[kind].search(line)
            if m:
                out.append(UpgradeLine(kind, m["name"], m["version"], m["container_id"], line))
    return out


def last_lines(window: LogWindow, n: int = 30) -> str:
    return "\n".join(window.lines[-n:]) if window.lines else "(no log lines in the window)"
