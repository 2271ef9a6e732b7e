"""Run `pytest checks/` the way a user does (a subprocess) and read back what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class CheckRun:
    exit_code: int
    stdout: str
    stderr: str
    report_dir: Path
    wall_s: float

    @property
    def results(self) -> dict[str, Any]:
        return json.loads((self.report_dir / "results.json").read_text())

    @property
    def html(self) -> str:
        return (self.report_dir / "report.html").read_text()

    @property
    def pytest_summary(self) -> str:
        """pytest's closing line ("1 failed, 9 skipped in 0.3s"): a check that could not look must never
        surface as a pytest error (a crash in the plugin would)."""
        lines = [line for line in self.stdout.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def entries(self, condition_id: str) -> list[dict[str, Any]]:
        return [c for c in self.results["checks"] if c["id"] == condition_id]

    def outcomes(self) -> dict[str, set[str]]:
        """condition id -> the set of outcomes it produced (one per judged object)."""
        out: dict[str, set[str]] = {}
        for c in self.results["checks"]:
            out.setdefault(c["id"], set()).add(c["outcome"])
        return out

    def outcome(self, condition_id: str) -> str:
        """The single outcome of a condition; fails loudly when it judged objects differently."""
        found = self.outcomes().get(condition_id, set())
        assert len(found) == 1, f"{condition_id}: outcomes {found}\n{self.stdout[-3000:]}"
        return next(iter(found))


def run_checks(
    *args: str,
    report_dir: Path,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    paths: tuple[str, ...] = ("checks/",),
    verbosity: str = "-q",
    prefix: Sequence[str] = (),
) -> CheckRun:
    """`pytest checks/ -q ...`; `paths` for node ids (`checks/docker/test_upgrade.py::...`), `verbosity` -q/-v/"";
    `prefix`: a command that runs pytest (e.g. in a namespace of its own)."""
    flags = [verbosity] if verbosity else []
    cmd = [*prefix, sys.executable, "-m", "pytest", *paths, *flags, "-p", "no:randomly", "--report-dir",
           str(report_dir), *args]  # fmt: skip
    full_env = {**os.environ, **(env or {})}
    full_env.pop("PYTEST_ADDOPTS", None)
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=full_env)
    return CheckRun(proc.returncode, proc.stdout, proc.stderr, report_dir, time.monotonic() - started)
