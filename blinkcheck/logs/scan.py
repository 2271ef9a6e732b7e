"""Log windows: read whole, streamed, matched while streaming, kept small. Shared by Docker and Kubernetes.

A runner can keep gigabytes of logs. The gatherers stream the window the user asked for
(--log-since / --log-tail) through a `LogScan`, which never holds the window: it counts lines,
runs one combined regular expression over each large chunk (RE2 when installed, so lines that
cannot match cost no Python work), and keeps only what the judges and the report need: per
pattern the count, first and last match and a few samples; the last successful connection; the
newest lines. Memory stays constant whatever the window's size. A window that could not be read
to its end (the --log-timeout deadline) says so in `cut`, and no judge passes it.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from blinkcheck.catalog import Catalog, PatternFamily

try:  # RE2 scans at hundreds of MB/s; Python's re is the fallback (and for patterns RE2 cannot take).
    import re2 as _re2
except ImportError:  # pragma: no cover - re2 is a declared dependency
    _re2 = None

MAX_LINE_CHARS = 4096  # a kept line is cut here
MAX_CARRY = 1024 * 1024  # a line longer than this (no newline yet) is matched in pieces
TAIL_LINES = 50  # the newest lines kept for evidence
TAIL_BYTES = 1024 * 1024  # ... from at most this many newest bytes
SAMPLE_HEAD = 10
SAMPLE_TAIL = 20
_NEWEST = 4096  # a block whose newest bytes hold a success takes the path for frequent successes

NET = "net:"  # hit keys: "net:<family>", "upgrade:<kind>", SUCCESS
UPGRADE = "upgrade:"
SUCCESS = "success"
UPGRADE_KINDS = ("creating", "found_existing", "operator_handoff")

# The engine's timestamp prefix (`docker logs -t`, `kubectl logs --timestamps`): RFC 3339, nanoseconds.
_STAMP = re.compile(rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d) ")


@dataclass(frozen=True)
class LogLine:
    """One kept line: its position in the window, the engine's time for it, and its (cut) text."""

    index: int
    at: datetime | None
    text: str

    def render(self) -> str:
        return f"{stamp(self.at)}  {self.text}" if self.at else self.text


@dataclass(frozen=True)
class Hits:
    """The lines one pattern matched: how many, the first and last, and samples (first and last few)."""

    count: int
    first: LogLine
    last: LogLine
    samples: tuple[LogLine, ...]

    @property
    def skipped(self) -> int:
        return self.count - len(self.samples)


@dataclass(frozen=True)
class LogWindow:
    """What was learned from one container's or pod's log window, and how it was bounded."""

    source: str  # "container blink-runner (3f2a...)" / "pod blink/blink-runner-abc"
    window: str  # human description: "last 2000 lines, since 1h"
    line_count: int = 0
    tail: tuple[LogLine, ...] = ()  # the newest lines, oldest first
    hits: Mapping[str, Hits] = field(default_factory=lambda: MappingProxyType({}))
    last_success: LogLine | None = None
    # The first successful connection after the last network error: "connected again since".
    recovered: LogLine | None = None
    first_at: datetime | None = None
    last_at: datetime | None = None
    cut: str = ""  # why the window was read only in part; empty when it was read whole
    error: str = ""  # why it could not be read at all; empty when it was
    # Kubernetes, after a restart: the previous container's lines come first (counted in line_count too).
    previous_lines: int = 0
    previous_tail: tuple[LogLine, ...] = ()
    gone: bool = False  # the object vanished between listing and reading: could not look, not a failure

    def __post_init__(self) -> None:
        object.__setattr__(self, "hits", MappingProxyType(dict(self.hits)))

    @property
    def complete(self) -> bool:
        return not self.cut and not self.error

    @property
    def lines(self) -> tuple[str, ...]:
        """The newest lines' text (evidence only: the window itself is never held)."""
        return tuple(line.text for line in self.tail)

    @property
    def current_lines(self) -> int:
        return self.line_count - self.previous_lines

    def hit(self, key: str) -> Hits | None:
        return self.hits.get(key)


def stamp(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ") if at else "-"


def parse_stamp(raw: bytes) -> tuple[datetime | None, bytes]:
    """Split the engine's timestamp prefix off a line; (None, line) when there is none."""
    m = _STAMP.match(raw)
    if not m:
        return None, raw
    try:  # Python 3.11 reads 'Z' and any number of fraction digits (nanoseconds: cut to microseconds)
        at = datetime.fromisoformat((m[1] + (m[2] or b"") + m[3]).decode())
    except ValueError:
        return None, raw
    return at, raw[m.end() :]


def _decode(raw: bytes) -> str:
    text = raw[: MAX_LINE_CHARS * 4].decode("utf-8", "replace").rstrip("\r")
    if len(text) > MAX_LINE_CHARS or len(raw) > MAX_LINE_CHARS * 4:
        text = text[:MAX_LINE_CHARS] + " …[line cut]"
    return text


def _compile_fast(patterns: Sequence[str], engine: Any = None) -> Any:
    """One alternation over all patterns, on bytes: RE2 when it takes them, else Python's re."""
    joined = b"|".join(b"(?:" + _plain_groups(p).encode() + b")" for p in patterns) or b"(?!x)x"
    engine = _re2 if engine is None else engine
    if engine is not None and engine is not re:
        try:
            return engine.compile(joined)
        except Exception:  # a site pattern RE2 cannot take (look-around, back-reference)
            pass
    return re.compile(joined)


def _plain_groups(pattern: str) -> str:
    """One branch of the combined alternation: named groups would clash (the scan only needs where lines
    match), and a leading inline flag such as `(?i)` becomes a scoped one, which both engines take mid-pattern."""
    pattern = re.sub(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>", "(?:", pattern)
    m = re.match(r"\(\?([aiLmsux]+)\)", pattern)
    return f"(?{m[1]}:{pattern[m.end():]})" if m else pattern


@dataclass(frozen=True)
class LogPatterns:
    """The catalog's log patterns, compiled once per run for the streaming scan."""

    families: tuple[PatternFamily, ...]
    upgrade: Mapping[str, re.Pattern[str]]
    success: tuple[re.Pattern[str], ...]
    rare: Any  # combined: network errors and upgrade lines (few; each one is classified)
    ok: Any  # combined: successful connections (often many; only the ones that matter are located)
    any: Any  # rare and ok in one search, for blocks where successes are few

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> LogPatterns:
        families = catalog.network_error_families
        upgrade = {k: catalog.upgrade_patterns[k] for k in UPGRADE_KINDS if k in catalog.upgrade_patterns}
        rare = [p.pattern for f in families for p in f.patterns] + [p.pattern for p in upgrade.values()]
        success = tuple(catalog.success_patterns)
        ok = [p.pattern for p in success]
        return cls(families, upgrade, success, _compile_fast(rare), _compile_fast(ok), _compile_fast(rare + ok))

    def is_success(self, text: str) -> bool:
        return any(p.search(text) for p in self.success)

    def classify(self, text: str) -> list[str]:
        """The hit keys of one line: the first network-error family (catalog order), and upgrade kinds."""
        keys = []
        for fam in self.families:
            if any(p.search(text) for p in fam.patterns):
                keys.append(NET + fam.family)
                break
        keys += [UPGRADE + kind for kind, p in self.upgrade.items() if p.search(text)]
        return keys


class _HitsBuilder:
    def __init__(self) -> None:
        self.count = 0
        self.first: LogLine | None = None
        self.head: list[LogLine] = []
        self.tail: deque[LogLine] = deque(maxlen=SAMPLE_TAIL)

    def add(self, line: LogLine) -> None:
        self.count += 1
        if self.first is None:
            self.first = line
        if len(self.head) < SAMPLE_HEAD:
            self.head.append(line)
        else:
            self.tail.append(line)

    def build(self) -> Hits:
        assert self.first is not None
        last = self.tail[-1] if self.tail else self.head[-1]
        return Hits(self.count, self.first, last, (*self.head, *self.tail))


class _Cursor:
    """Finds whole lines in a block and their numbers, counting newlines only once over the block."""

    def __init__(self, block: bytes, base: int) -> None:
        self.block = block
        self.pos = 0
        self.index = base

    def line_at(self, start: int, end: int) -> tuple[int, bytes, int]:
        """The number and bytes of the line around [start, end), and where the next line begins. Calls go forward
        through the block."""
        block = self.block
        s = block.rfind(b"\n", 0, start) + 1
        e = block.find(b"\n", end)
        e = len(block) if e < 0 else e
        self.index += block.count(b"\n", self.pos, s)
        self.pos = s
        return self.index, block[s:e], e + 1


class LogScan:
    """Feed it the raw bytes of a log window in any chunking; `window()` gives what was learned.

    `stamped`: every line starts with the engine's timestamp (the gatherers ask for it), which is
    split off and kept as the line's time. `clean` is applied to every kept line (the run's redactor).
    """

    def __init__(self, patterns: LogPatterns, stamped: bool = False, clean: Callable[[str], str] = str) -> None:
        self.patterns = patterns
        self.stamped = stamped
        self.clean = clean
        self.lines = 0
        self._carry = b""
        self._tail: deque[bytes] = deque()
        self._tail_size = 0
        self._hits: dict[str, _HitsBuilder] = {}
        self._last_error: LogLine | None = None
        self._last_success: LogLine | None = None
        self._recovered: LogLine | None = None
        self._first_at: datetime | None = None
        self._last_at: datetime | None = None
        self._previous_lines = 0
        self._previous_tail: tuple[LogLine, ...] = ()

    # -- feeding ------------------------------------------------------------------------------

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        data = self._carry + chunk if self._carry else chunk
        end = data.rfind(b"\n")
        if end < 0:
            self._carry = data
            if len(self._carry) > MAX_CARRY:  # a giant line: match what came so far, keep going
                self._block(self._carry, complete=False)
                self._carry = b""
            return
        self._carry = data[end + 1 :]
        self._block(data[: end + 1], complete=True)

    def feed_lines(self, lines: Iterable[str]) -> LogScan:
        """For canned data (tests, replays): the same scan over text lines."""
        for line in lines:
            self.feed(line.encode("utf-8", "replace") + b"\n")
        return self

    def start_current(self) -> None:
        """What was fed so far was the previous container's log; the current container's follows."""
        self._flush()
        self._previous_tail = self._tail_lines()
        self._previous_lines = self.lines
        self._tail.clear()
        self._tail_size = 0

    def window(self, source: str, window: str, cut: str = "") -> LogWindow:
        self._flush()
        return LogWindow(
            source=source,
            window=window,
            line_count=self.lines,
            tail=self._tail_lines(),
            hits={k: b.build() for k, b in self._hits.items()},
            last_success=self._last_success,
            recovered=self._recovered,
            first_at=self._first_at,
            last_at=self._last_at,
            cut=cut,
            previous_lines=self._previous_lines,
            previous_tail=self._previous_tail,
        )

    def _flush(self) -> None:
        if self._carry:  # the last line had no newline
            self._block(self._carry + b"\n", complete=True)
            self._carry = b""

    def _tail_lines(self) -> tuple[LogLine, ...]:
        raw = b"".join(self._tail).split(b"\n")
        if raw and raw[-1] == b"":
            raw.pop()
        raw = raw[-TAIL_LINES:]
        first_index = self.lines - len(raw)
        return tuple(self._line(first_index + i, line) for i, line in enumerate(raw))

    # -- one block of whole lines --------------------------------------------------------------

    def _line(self, index: int, raw: bytes) -> LogLine:
        at, body = parse_stamp(raw) if self.stamped else (None, raw)
        return LogLine(index, at, self.clean(_decode(body)))

    def _block(self, block: bytes, complete: bool) -> None:
        """One pass over a block of whole lines. Successful connections are usually on many lines: when the
        newest bytes hold one, errors are searched alone and only the successes that matter are located;
        otherwise one combined search finds errors and the few successes together."""
        if self._first_at is None and self.stamped:
            self._first_at = parse_stamp(block[:64])[0]
        pats = self.patterns
        frequent_ok = bool(pats.success) and pats.ok.search(block, max(0, len(block) - _NEWEST)) is not None
        finder = pats.rare if frequent_ok or not pats.success else pats.any
        cursor = _Cursor(block, self.lines)
        pos = 0
        error_end = -1
        while pos < len(block):
            m = finder.search(block, pos)
            if m is None:
                break
            index, raw, pos = cursor.line_at(m.start(), m.end())
            line = self._line(index, raw)
            # Judged on the whole line: the kept text is cut at MAX_LINE_CHARS, an error further on counts too.
            whole = (parse_stamp(raw)[1] if self.stamped else raw).decode("utf-8", "replace")
            keys = pats.classify(whole)
            for key in keys:
                self._hits.setdefault(key, _HitsBuilder()).add(line)
            if any(key.startswith(NET) for key in keys):
                self._last_error, error_end = line, pos
                self._recovered = None
            elif finder is pats.any and pats.is_success(whole):
                self._last_success = line
                if self._last_error is not None and self._recovered is None:
                    self._recovered = line
        if frequent_ok:
            self._frequent_successes(block, error_end)
        self.lines += block.count(b"\n") if complete else 0
        self._keep_tail(block)
        if self.stamped:
            last = block.rstrip(b"\n")
            last = last[last.rfind(b"\n") + 1 :]
            self._last_at = parse_stamp(last[:64])[0] or self._last_at

    def _frequent_successes(self, block: bytes, error_end: int) -> None:
        ok = self.patterns.ok
        # The first success after the last error (only while errors were seen and none followed yet).
        if self._last_error is not None and self._recovered is None:
            m = ok.search(block, max(error_end, 0))
            if m is not None:
                self._recovered = self._line(*_Cursor(block, self.lines).line_at(m.start(), m.end())[:2])
        # The last success of the block: in its newest 4 KiB, where _block saw one (why it came here).
        last = None
        for last in ok.finditer(block, max(0, len(block) - _NEWEST)):  # noqa: B007 - the last one is wanted
            pass
        if last is not None:
            self._last_success = self._line(*_Cursor(block, self.lines).line_at(last.start(), last.end())[:2])

    def _keep_tail(self, block: bytes) -> None:
        self._tail.append(block[-TAIL_BYTES:])
        self._tail_size += min(len(block), TAIL_BYTES)
        while self._tail_size - len(self._tail[0]) >= TAIL_BYTES:
            self._tail_size -= len(self._tail.popleft())


def scan_lines(
    lines: Iterable[str],
    patterns: LogPatterns,
    source: str = "",
    window: str = "",
    previous: Iterable[str] = (),
    cut: str = "",
) -> LogWindow:
    """A LogWindow from text lines (canned data and tests); a `2026-...Z ` prefix is read as the line's time."""
    scan = LogScan(patterns, stamped=True)
    previous = list(previous)
    if previous:
        scan.feed_lines(previous)
        scan.start_current()
    return scan.feed_lines(lines).window(source, window, cut=cut)


class NewestBytes:
    """Keeps the newest max_bytes of a stream (the escalation packet's fuller logs), in bounded memory."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._kept: deque[bytes] = deque()
        self._size = 0
        self.dropped = False

    def feed(self, chunk: bytes) -> None:
        self._kept.append(chunk)
        self._size += len(chunk)
        while self._size - len(self._kept[0]) >= self.max_bytes:
            self._size -= len(self._kept.popleft())
            self.dropped = True

    def text(self) -> str:
        data = b"".join(self._kept)
        if len(data) > self.max_bytes:
            data, self.dropped = data[-self.max_bytes :], True
        if self.dropped:  # start at a whole line
            data = data[data.find(b"\n") + 1 :]
        return data.decode("utf-8", "replace")
