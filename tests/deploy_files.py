"""The deploy/ files as their tools read them: a systemd unit's settings and command, a cron line, and the image
built by scripts/build-image.sh (timed)."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.harness import ROOT

DEPLOY = ROOT / "deploy"
IMAGE = "blink-runner-checks:0.1.0"
# where the README's install steps put deploy/docker/blink-checks-docker
INSTALLED = {"/usr/local/bin/blink-checks-docker": DEPLOY / "docker" / "blink-checks-docker"}


@dataclass
class Unit:
    """A systemd unit file: each section's settings in order (a key may repeat, as Environment= does)."""

    sections: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def get(self, section: str, key: str) -> list[str]:
        return [v for k, v in self.sections.get(section, []) if k == key]

    def environment(self) -> dict[str, str]:
        """Environment= assignments as systemd makes them (each value may hold several quoted NAME=value words)."""
        env: dict[str, str] = {}
        for value in self.get("Service", "Environment"):
            for word in shlex.split(value):
                name, _, val = word.partition("=")
                env[name] = val
        return env

    def exec_start(self) -> list[str]:
        """ExecStart= as argv: systemd's quoting, its prefixes (-@:+!) stripped, $$ and %% unescaped; no
        ${VAR} substitution is supported here (the command reads its settings from its environment)."""
        [line] = self.get("Service", "ExecStart")
        argv = shlex.split(line.lstrip("-@:+!"))
        assert not any("${" in a or "%" in a.replace("%%", "") for a in argv), f"${{VAR}} or a specifier: {argv}"
        return [a.replace("$$", "$").replace("%%", "%") for a in argv]


def parse_unit(path: Path) -> Unit:
    unit = Unit()
    section = ""
    pending = ""
    for raw in path.read_text().splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            unit.sections.setdefault(section, [])
            continue
        key, sep, value = line.partition("=")
        assert sep and section, f"{path}: not a unit file line: {raw!r}"
        unit.sections[section].append((key.strip(), value.strip()))
    return unit


def cron_entries(path: Path) -> list[tuple[str, str, str]]:
    """/etc/cron.d lines: (schedule, user, command); variable assignments and comments left out."""
    out = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#") or "=" in line.split()[0]:
            continue
        parts = line.split(None, 6)
        out.append((" ".join(parts[:5]), parts[5], parts[6]))
    return out


def installed(argv: list[str]) -> list[str]:
    """The command with the installed program replaced by the repository's file it is installed from."""
    return [str(INSTALLED.get(argv[0], argv[0])), *argv[1:]]


@dataclass(frozen=True)
class Build:
    image: str
    wall_s: float
    output: str


def build_image(timeout: float = 1200) -> Build:
    """`bash scripts/build-image.sh`, the README's one command (cached: seconds when nothing changed)."""
    started = time.monotonic()
    r = subprocess.run(["bash", str(ROOT / "scripts" / "build-image.sh")], cwd=ROOT, capture_output=True, text=True,
                       timeout=timeout, env={**os.environ, "BLINK_IMAGE": IMAGE})  # fmt: skip
    assert r.returncode == 0, f"scripts/build-image.sh failed:\n{r.stdout[-3000:]}{r.stderr[-3000:]}"
    return Build(IMAGE, time.monotonic() - started, r.stdout + r.stderr)
