"""What every benchmark shares: timing whole processes side by side, medians, the machine, a table row.

Benchmarks are not tests: tests assert correctness (the error found, the window whole, requests
bounded); a benchmark reports ratios, measured in one run, interleaved, medians of several.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Timing:
    wall_s: float
    peak_rss_kib: int
    exit_code: int


def run_timed(cmd: Sequence[str], cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 900) -> Timing:
    """Wall seconds and peak RSS of one process (its own, not the children's)."""
    started = time.perf_counter()
    proc = subprocess.Popen(list(cmd), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, **(env or {})})  # fmt: skip
    deadline = started + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            return Timing(time.perf_counter() - started, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
        if time.perf_counter() > deadline:
            proc.kill()
            raise TimeoutError(f"{cmd[0]} did not finish within {timeout:g}s")
        time.sleep(0.005)


def shell(script: str) -> list[str]:
    return ["bash", "-o", "pipefail", "-c", script]


def interleaved(sides: dict[str, Callable[[], Timing]], runs: int) -> dict[str, list[Timing]]:
    """One warm-up of each side, then `runs` rounds, every side once per round: drift hits all alike."""
    for fn in sides.values():
        fn()
    out: dict[str, list[Timing]] = {name: [] for name in sides}
    for _ in range(runs):
        for name, fn in sides.items():
            out[name].append(fn())
    return out


def median_s(timings: list[Timing]) -> float:
    return statistics.median(t.wall_s for t in timings)


_BARE = "def test_empty():\n    pass\n"


def bare_pytest() -> Callable[[], Timing]:
    """A bare pytest start: one empty test, the same installed plugins (pytest-html, metadata, testinfra)."""
    folder = Path(tempfile.mkdtemp(prefix="blink-bench-bare-"))
    (folder / "test_empty.py").write_text(_BARE)
    return lambda: run_timed([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_empty.py"],
                             cwd=folder)  # fmt: skip


def suite_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "checks/", "-q", *args]


@dataclass(frozen=True)
class Row:
    """One line of the README's performance table."""

    figure: str
    goal: str
    measured: str
    ratio: float | None
    met: bool
    limits: str  # what limits it now

    def markdown(self) -> str:
        ratio = f"{self.ratio:.2f}x" if self.ratio is not None else "-"
        met = "-" if self.goal == "-" else "yes" if self.met else "no"  # no goal: nothing to meet
        cells = (self.figure, self.goal, self.measured, ratio, met, self.limits)
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"  # a shell pipe is not a column


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")  # fmt: skip
