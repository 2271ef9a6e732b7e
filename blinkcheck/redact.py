"""One redaction pass for every artifact the suite writes, and the leak gate behind it.

Secrets come two ways: values seen during the run (the runner's API key from its environment,
Secret data) are registered and replaced wherever they appear; known shapes (bearer tokens,
Authorization headers, password=..., URLs with credentials) are replaced by pattern.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterable
from pathlib import Path

MASK = "[REDACTED]"

# Environment variable names whose values are secrets.
SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSW|PASSWD|PWD|CREDENTIAL|AUTH|COOKIE|SESSION)", re.I)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)(authorization\s*[:=]\s*)(bearer|basic|token)?\s*[^\s\"',]+"), r"\1\2 " + MASK),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}"), "Bearer " + MASK),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s:@]+):([^/\s@]+)@"), r"\1\2:" + MASK + "@"),
    (
        re.compile(
            r"(?i)\b((?:api[_-]?key|app[_-]?key|apikey|token|secret|password|passwd|pwd)[\"']?\s*[:=]\s*[\"']?)"
            r"([^\s\"',;&]{4,})"
        ),
        r"\1" + MASK,
    ),
)


class Redactor:
    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, value: str | None) -> None:
        # Very short values would redact half the report ("1", "true"); they are not keys.
        if value and len(value) >= 6:
            self._values.add(value)

    def add_env(self, env: Iterable[str]) -> None:
        """Register the secret-looking values of a container's `NAME=value` environment."""
        for item in env:
            name, _, value = item.partition("=")
            if SECRET_NAME.search(name):
                self.add(value)

    @property
    def values(self) -> frozenset[str]:
        return frozenset(self._values)

    def __call__(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, MASK)
        for pattern, repl in _PATTERNS:
            text = pattern.sub(repl, text)
        return text


def env_names(env: Iterable[str]) -> list[str]:
    """Evidence shows which variables are set, never their values."""
    return sorted({item.partition("=")[0] for item in env})


def find_leaks(paths: Iterable[Path], secrets: Iterable[str]) -> list[tuple[Path, str]]:
    """Search every byte of every artifact for every secret value seen during the run."""
    needles = [s.encode() for s in secrets if s]
    hits = []
    for path in paths:
        try:
            blobs = _archive_blobs(path) if path.name.endswith(".tar.gz") else [path.read_bytes()]
        except (OSError, tarfile.TarError):
            continue
        for needle in needles:
            if any(needle in data for data in blobs):
                hits.append((path, needle.decode()[:3] + "…"))
    return hits


def _archive_blobs(path: Path) -> list[bytes]:
    """Compressed bytes hide nothing from the gate: search each member's content."""
    out = []
    with tarfile.open(path, "r:gz") as tar:
        for member in tar.getmembers():
            f = tar.extractfile(member)
            if f is not None:
                out.append(f.read())
    return out
