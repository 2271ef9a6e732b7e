"""The streaming log scan at its limits, exactly: lines cut at 4096 characters, a giant line matched in pieces only
past MAX_CARRY, the first and last samples of a pattern, the newest lines kept, the window's first and last times,
the previous container's lines, and the combined expression on both engines."""

from __future__ import annotations

import re

import pytest

from blinkcheck.catalog import load_catalog
from blinkcheck.logs import scan as logs
from blinkcheck.logs.scan import (
    MAX_CARRY,
    NET,
    SAMPLE_HEAD,
    SAMPLE_TAIL,
    TAIL_LINES,
    UPGRADE,
    LogPatterns,
    LogScan,
    scan_lines,
)

CATALOG = load_catalog()
PATTERNS = LogPatterns.from_catalog(CATALOG)
TIMEOUT = "dial tcp 1.2.3.4:443: i/o timeout"
OK = "Connected to Blink controller at https://app.blinkops.com"


def at(second: int, text: str) -> str:
    return f"2026-12-02T06:{second // 60:02d}:{second % 60:02d}.5Z {text}"


# ------------------------------------------------------------------ one line's text


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("😀".encode() * 4096, "😀" * 4096),  # 16384 bytes, 4096 characters: whole
        ("😀".encode() * 4097, "😀" * 4096 + " …[line cut]"),  # more bytes than 4 per kept character: cut
        ("😀".encode() * 5000, "😀" * 4096 + " …[line cut]"),
        (b"a" * 4097, "a" * 4096 + " …[line cut]"),
        (b"ok\r", "ok"),
    ],
    ids=["4096 four-byte characters", "4097", "5000", "4097 ASCII", "a carriage return"],
)
def test_a_kept_line_is_cut_at_4096_characters(raw: bytes, text: str):
    assert logs._decode(raw) == text


# ------------------------------------------------------------------ a giant line


def test_a_line_of_exactly_max_carry_bytes_is_still_matched_whole():
    head = b"y" * (MAX_CARRY - len(b" dial tcp 1.2.3.4:443: i/o ti")) + b" dial tcp 1.2.3.4:443: i/o ti"
    assert len(head) == MAX_CARRY
    scan = LogScan(PATTERNS)
    scan.feed(head)  # no newline yet: kept, not matched
    scan.feed(b"meout\n")
    w = scan.window("c", "w")
    assert (w.line_count, list(w.hits)) == (1, [NET + "timeout"])


def test_a_line_past_max_carry_is_matched_in_pieces_and_counted_once():
    scan = LogScan(PATTERNS)
    scan.feed(b"y" * (MAX_CARRY + 1))  # matched so far, then let go
    scan.feed(b" " + TIMEOUT.encode() + b"\nnext\n")
    w = scan.window("c", "w")
    assert w.line_count == 2 and list(w.hits) == [NET + "timeout"]
    assert w.lines[-1] == "next"


def test_an_error_past_the_kept_4096_characters_of_a_line_counts():
    """Go loggers put the error after a long message (a JSON payload, a stack): the line is kept cut, but judged whole."""
    long = 'level=error msg="' + "x" * 4500 + f'" err="{TIMEOUT}"'
    w = scan_lines(["start", long], PATTERNS)
    hits = w.hit(NET + "timeout")
    assert hits is not None and (hits.count, hits.first.index) == (1, 1)
    assert hits.first.text.endswith(" …[line cut]") and len(hits.first.text) == 4096 + len(" …[line cut]")
    success = scan_lines([TIMEOUT, "level=info msg=\"" + "y" * 5000 + f'" note="{OK}"'], PATTERNS)
    assert success.recovered is not None and success.recovered.index == 1


def test_an_error_in_the_middle_of_a_giant_line_counts():
    scan = LogScan(PATTERNS)
    for _ in range(3):
        scan.feed(b"y" * (512 * 1024))
    scan.feed(b"w" * 8000 + f" {TIMEOUT} ".encode())  # inside the second piece, past its first 4096 characters
    for _ in range(4):
        scan.feed(b"z" * (512 * 1024))
    scan.feed(b"\nnext\n")
    w = scan.window("c", "w")
    assert list(w.hits) == [NET + "timeout"] and w.line_count == 2


# ------------------------------------------------------------------ samples of a pattern


@pytest.mark.parametrize(
    ("count", "samples", "last"),
    [(1, [0], 0), (SAMPLE_HEAD, list(range(10)), 9), (SAMPLE_HEAD + 1, list(range(11)), 10),
     (SAMPLE_HEAD + SAMPLE_TAIL, list(range(30)), 29), (SAMPLE_HEAD + SAMPLE_TAIL + 1, [*range(10), *range(11, 31)], 30)],
)  # fmt: skip
def test_the_first_ten_and_last_twenty_matches_are_kept(count: int, samples: list[int], last: int):
    hits = scan_lines([f"{TIMEOUT} #{i}" for i in range(count)], PATTERNS).hit(NET + "timeout")
    assert hits is not None
    assert (hits.count, hits.first.index, hits.last.index) == (count, 0, last)
    assert [s.index for s in hits.samples] == samples and hits.skipped == count - len(samples)
    assert [s.text for s in hits.samples] == [f"{TIMEOUT} #{i}" for i in samples]


def test_a_line_counts_for_its_first_family_and_every_upgrade_kind():
    line = ("Creating new container with name: blink-runner-1.0.995 and configuration from container with id: "
            "3f2a9c1b7d4e dial tcp: lookup app.blinkops.com on 10.96.0.10:53: i/o timeout")  # fmt: skip
    assert PATTERNS.classify(line) == [NET + "timeout", UPGRADE + "creating"]  # timeout before dns (catalog order)
    w = scan_lines(["x", line], PATTERNS)
    assert {k: (h.count, h.first.index) for k, h in w.hits.items()} == {NET + "timeout": (1, 1),
                                                                        UPGRADE + "creating": (1, 1)}  # fmt: skip
    assert PATTERNS.is_success(OK) and not PATTERNS.is_success(TIMEOUT)


# ------------------------------------------------------------------ the newest lines, times, the previous container


def test_the_newest_fifty_lines_with_their_numbers():
    w = scan_lines([f"line {i}" for i in range(120)], PATTERNS)
    assert len(w.tail) == TAIL_LINES == 50
    assert [(t.index, t.text) for t in (w.tail[0], w.tail[-1])] == [(70, "line 70"), (119, "line 119")]
    few = scan_lines(["a", "b"], PATTERNS)
    assert [(t.index, t.text) for t in few.tail] == [(0, "a"), (1, "b")]
    last_without_newline = LogScan(PATTERNS)
    last_without_newline.feed(b"a\nb")
    w2 = last_without_newline.window("c", "w")
    assert (w2.line_count, w2.lines) == (2, ("a", "b"))


def test_the_newest_lines_come_from_the_newest_megabyte_only():
    scan = LogScan(PATTERNS)
    scan.feed(b"old line\n" * 10)
    scan.feed(b"z" * (2 * 1024 * 1024) + b"\n")
    scan.feed(b"new line\n")
    w = scan.window("c", "w")
    assert w.line_count == 12 and w.lines[-1] == "new line" and "old line" not in w.lines
    assert w.tail[-1].index == 11


def test_the_window_knows_its_first_and_last_times():
    w = scan_lines([at(1, "a"), at(2, "b"), "no stamp", at(3, "c")], PATTERNS)
    assert (w.first_at.second, w.last_at.second) == (1, 3)  # type: ignore[union-attr]
    trailing = scan_lines([at(1, "a"), at(4, "b"), "no stamp at the end"], PATTERNS)
    assert trailing.last_at is not None and trailing.last_at.second == 4  # the last stamped line's
    scan = LogScan(PATTERNS, stamped=True)
    scan.feed(at(5, "first block\n").encode())
    scan.feed(at(9, "second block\n").encode())
    w2 = scan.window("c", "w")
    assert (w2.first_at.second, w2.last_at.second) == (5, 9)  # type: ignore[union-attr]
    plain = LogScan(PATTERNS)  # not stamped: no times, the text kept whole
    plain.feed(at(5, "x\n").encode())
    w3 = plain.window("c", "w")
    assert (w3.first_at, w3.last_at, w3.lines) == (None, None, (at(5, "x"),))


def test_the_previous_containers_lines_come_first_and_apart():
    w = scan_lines(["c1", TIMEOUT, "c3"], PATTERNS, previous=[f"p{i}" for i in range(60)])
    assert (w.previous_lines, w.line_count, w.current_lines) == (60, 63, 3)
    assert [t.text for t in w.tail] == ["c1", TIMEOUT, "c3"] and w.tail[0].index == 60
    assert len(w.previous_tail) == 50 and w.previous_tail[-1].text == "p59" and w.previous_tail[0].index == 10
    hits = w.hit(NET + "timeout")
    assert hits is not None and hits.first.index == 61


# ------------------------------------------------------------------ recovery: the first success after the last error


@pytest.mark.parametrize("filler", [0, 3000])
def test_connected_again_is_the_first_success_after_the_last_error(filler: int):
    noise = [f"noise {i}" for i in range(filler)]
    lines = [OK, *noise, TIMEOUT, *noise, OK + " #a", *noise, OK + " #b", *noise, TIMEOUT, *noise, OK + " #c",
             *noise, OK + " #d"]  # fmt: skip
    w = scan_lines(lines, PATTERNS)
    assert w.recovered is not None and w.recovered.text == OK + " #c"
    assert w.last_success is not None and w.last_success.text == OK + " #d"
    assert w.recovered.index == lines.index(OK + " #c") and w.last_success.index == len(lines) - 1


def test_no_recovery_without_an_error_or_after_the_last_one():
    assert scan_lines([OK, OK], PATTERNS).recovered is None
    assert scan_lines([OK, TIMEOUT], PATTERNS).recovered is None


def test_recovery_in_a_later_block():
    scan = LogScan(PATTERNS)
    scan.feed((TIMEOUT + "\n").encode())
    scan.feed(b"noise\n" * 10 + (OK + " #1\n").encode() + (OK + " #2\n").encode())
    w = scan.window("c", "w")
    assert w.recovered is not None and (w.recovered.index, w.recovered.text) == (11, OK + " #1")
    assert w.last_success is not None and w.last_success.index == 12


def test_the_last_success_far_from_the_end_of_a_block():
    """A success line more than 4 KiB (and more than 64 KiB) before the block's end is still found."""
    for gap in (5_000, 100_000):
        lines = [OK + " #old", *(f"noise {i:06d}" for i in range(gap // 12)), OK + " #new"]
        lines += [f"filler {i:06d}" for i in range(gap // 13)]
        block = ("\n".join(lines) + "\n").encode()
        scan = LogScan(PATTERNS)
        scan.feed(block)
        w = scan.window("c", "w")
        assert w.last_success is not None and w.last_success.text == OK + " #new", gap


# ------------------------------------------------------------------ the combined expression


def test_the_combined_expression_on_both_engines():
    fast = logs._compile_fast(["a+b", "(?i)XyZ"])
    assert not isinstance(fast, re.Pattern)  # RE2 takes these
    assert fast.search(b"..aab..") and fast.search(b"xyz") and not fast.search(b"b")
    fallback = logs._compile_fast(["(?<=a)b"])  # look-behind: RE2 refuses it, Python's re takes it
    assert isinstance(fallback, re.Pattern) and fallback.search(b"ab") and not fallback.search(b"cb")
    nothing = logs._compile_fast([])
    assert not nothing.search(b"") and not nothing.search(b"x")
    assert isinstance(logs._compile_fast(["a"], engine=re), re.Pattern)


def test_newest_bytes_hold_at_most_their_limit_in_memory():
    """The escalation packet's fuller logs: 20 MB through a 64 KiB keeper stay a few times 64 KiB in memory."""
    import tracemalloc

    from blinkcheck.logs.scan import NewestBytes

    keep = NewestBytes(64 * 1024)
    chunk = b"".join(f"line {i:05d} of the runner log\n".encode() for i in range(1000))  # ~30 KB
    tracemalloc.start()
    for i in range(700):
        keep.feed(chunk[:-6] + f"{i % 1000:05d}".encode() + b"\n")  # a new chunk each time, as a stream gives
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * 64 * 1024, peak
    text = keep.text()
    assert keep.dropped and text.startswith("line ") and text.endswith("00699\n")
    assert 60 * 1024 < len(text) <= 64 * 1024


def test_patterns_read_from_the_catalog():
    p = LogPatterns.from_catalog(CATALOG)
    assert list(p.upgrade) == ["creating", "found_existing", "operator_handoff"]
    creating = ("Creating new container with name: blink-runner-1.0.995 and configuration from container with id: "
                "3f2a9c1b7d4e")  # fmt: skip
    w = scan_lines([creating, TIMEOUT, OK, *(f"noise {i}" for i in range(500))], p)
    assert set(w.hits) == {NET + "timeout", UPGRADE + "creating"}
    assert w.recovered is not None and w.recovered.text == OK and w.last_success == w.recovered


@pytest.mark.parametrize(
    ("lines", "recovered"),
    [
        ([OK, TIMEOUT], None),
        ([OK, "x"], None),  # a success without an error before it is no recovery
        ([TIMEOUT, OK + " #1", OK + " #2"], OK + " #1"),
        ([TIMEOUT, OK + " #1", TIMEOUT, OK + " #2", OK + " #3"], OK + " #2"),  # after the last error
    ],
)
def test_recovery_when_successes_are_rare(lines: list[str], recovered: str | None):
    """Successes far from a block's end (more than 4 KiB of other lines after them) take the combined search."""
    scan = LogScan(PATTERNS)
    scan.feed("".join(f"{x}\n" for x in [*lines, *(f"noise line {i:04d}" for i in range(500))]).encode())  # one block
    w = scan.window("c", "w")
    assert (w.recovered.text if w.recovered else None) == recovered
    assert w.last_success is not None and w.last_success.text == [x for x in lines if x.startswith(OK)][-1]


def test_several_lines_of_one_block_keep_their_numbers():
    scan = LogScan(PATTERNS)
    scan.feed(f"\n{TIMEOUT} #1\nnoise\n\n{TIMEOUT} #2\nnoise\n".encode())
    scan.feed(f"{TIMEOUT} #3\n".encode())
    hits = scan.window("c", "w").hit(NET + "timeout")
    assert hits is not None and [(s.index, s.text) for s in hits.samples] == [
        (1, f"{TIMEOUT} #1"), (4, f"{TIMEOUT} #2"), (6, f"{TIMEOUT} #3")]


def test_a_matched_line_that_is_not_utf8_counts_and_is_kept_readable():
    scan = LogScan(PATTERNS)
    scan.feed(b"\xff\xfe " + TIMEOUT.encode() + b"\n")
    hits = scan.window("c", "w").hit(NET + "timeout")
    assert hits is not None and hits.first.text == "\ufffd\ufffd " + TIMEOUT


def test_after_a_giant_line_the_rest_of_it_is_its_own_text():
    scan = LogScan(PATTERNS)
    scan.feed(b"y" * (MAX_CARRY + 1))
    scan.feed(f" {TIMEOUT}\n".encode())
    hits = scan.window("c", "w").hit(NET + "timeout")
    assert hits is not None and hits.first.text == f" {TIMEOUT}"


def test_kept_text_loses_only_a_carriage_return():
    assert logs._decode(b"exit code 0  ") == "exit code 0  " and logs._decode(b"BACKUP-XX\r") == "BACKUP-XX"


def test_a_window_without_previous_lines_or_successes():
    from blinkcheck.logs.judge import previous_last_lines

    w = scan_lines(["a"], PATTERNS)
    assert (w.source, w.window, w.last_success, w.recovered, w.previous_tail) == ("", "", None, None, ())
    assert previous_last_lines(w) == ""


def test_a_windows_hits_are_read_only():
    from blinkcheck.logs.scan import LogWindow

    w = LogWindow("s", "w", hits={})
    with pytest.raises(TypeError):
        w.hits["x"] = None  # type: ignore[index]


def test_newest_bytes_limits_exactly():
    from blinkcheck.logs.scan import NewestBytes

    exact = NewestBytes(8)
    exact.feed(b"abc\ndef\n")  # exactly the limit: nothing dropped
    assert (exact.text(), exact.dropped) == ("abc\ndef\n", False)
    partial = NewestBytes(10)
    partial.feed(b"0123456789")
    partial.feed(b"ab\ncdefgh\n")  # the first chunk goes; "ab" ends a line that is no longer whole
    assert (partial.text(), partial.dropped) == ("cdefgh\n", True)
    bad = NewestBytes(100)
    bad.feed(b"\xff ok\n")
    assert bad.text() == "\ufffd ok\n"


def test_an_error_at_the_very_start_of_the_next_line_of_a_block():
    scan = LogScan(PATTERNS)
    scan.feed(b"websocket: bad handshake\nwebsocket: bad handshake\nx\n")
    hits = scan.window("c", "w").hit(NET + "websocket")
    assert hits is not None and [s.index for s in hits.samples] == [0, 1]
