"""Debian's chromium, headless and offline, for the tests that look at report.html as a user's browser shows it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.harness import missing


def chromium() -> str:
    path = shutil.which("chromium")
    if not path:
        missing("Debian's chromium is not installed (scripts/setup.sh installs it)")
    return path


def _flags(profile: Path, size: str) -> list[str]:
    # No network for the browser: every host resolves nowhere and the proxy is a dead loopback port.
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=http://127.0.0.1:9", f"--window-size={size}"]  # fmt: skip


def dump_dom(page: Path, size: str = "1400,2600") -> str:
    """The DOM after the page's own script ran (pytest-html builds its tables in the browser)."""
    profile = page.parent / "chromium-profile"
    try:
        return subprocess.run([chromium(), *_flags(profile, size), "--virtual-time-budget=5000", "--dump-dom",
                               page.resolve().as_uri()], capture_output=True, text=True, timeout=120).stdout  # fmt: skip
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(page: Path, shot: Path, size: str = "1400,2600") -> Path:
    profile = page.parent / "chromium-profile"
    try:
        subprocess.run([chromium(), *_flags(profile, size), "--virtual-time-budget=5000", f"--screenshot={shot}",
                        page.resolve().as_uri()], capture_output=True, timeout=120)  # fmt: skip
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return shot
