"""The run's state, shared by the pytest plugin, the fixtures and the reports: the frozen configuration
(blinkcheck.config), the catalog, the redactor, and what the checks concluded so far.

Core: imports nothing of the plugin, the platforms or the reports; every side reads the run through here.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pytest

from blinkcheck.artifacts import Artifacts
from blinkcheck.blocking import Record
from blinkcheck.catalog import Catalog
from blinkcheck.config import TargetSpec
from blinkcheck.model import CouldNotLook
from blinkcheck.redact import Redactor
from blinkcheck.replay import Replay
from blinkcheck.results import CheckResult

if TYPE_CHECKING:
    from blinkcheck.remediate.perform import Remediation


class BundleSource(Protocol):
    """A fact gatherer that adds files to the escalation packet (Docker or Kubernetes)."""

    def bundle_files(self, redact: Callable[[str], str]) -> dict[str, str]: ...


@dataclass
class RunState:
    spec: TargetSpec
    catalog: Catalog
    redactor: Redactor
    enabled: bool  # the run collects checks: write reports and own the exit code
    started: float = field(default_factory=time.time)
    # condition id -> what it concluded per object, for the checks that depend on it (blinkcheck.blocking)
    by_condition: dict[str, Record] = field(default_factory=dict)
    results: list[CheckResult] = field(default_factory=list)
    selected_platforms: tuple[str, ...] = ()
    platform_notes: list[str] = field(default_factory=list)
    skipped_platforms: list[tuple[str, str]] = field(default_factory=list)  # (platform, why), --target auto
    exit_code: int | None = None
    collected: list[tuple[str, str]] = field(default_factory=list)  # (nodeid, condition id) in run order
    stopped: str = ""  # pytest ended the run early at the user's request (-x, --maxfail, --sw)
    finished: set[str] = field(default_factory=set)  # nodeids with results
    deadline_hit: bool = False
    in_check: bool = False
    interrupted: str = ""
    bundle_sources: list[BundleSource] = field(default_factory=list)  # gatherers that add files to the packet
    # platform -> how many API requests its gatherer made so far (results.json's target.api_requests)
    api_requests: dict[str, Callable[[], int]] = field(default_factory=dict)
    bundle_path: Path | None = None
    # Every file this run wrote (written without following links); the leak gate judges only these.
    artifacts: Artifacts = field(default_factory=Artifacts)
    reports: dict[str, Path] = field(default_factory=dict)  # results.json / report.html / junit.xml -> path
    private_dir: Path | None = None  # where junitxml writes before its file is moved into place
    finishing: bool = False  # the reports are being written: a late SIGTERM must not interrupt them
    # Notes about the run itself (e.g. a Secret the redactor could not learn); shown in every report.
    notes: list[str] = field(default_factory=list)
    replay: Replay | None = None  # --from-packet: the packet whose recorded facts this run re-judges
    remediation: Remediation | None = None  # --remediate: the steps planned or performed, and the before/after


class DeadlineExceeded(CouldNotLook):
    """Raised inside a running check when --deadline passes."""


STATE = pytest.StashKey[RunState]()


def state_of(config: pytest.Config) -> RunState:
    return config.stash[STATE]


def say_now(config: pytest.Config, text: str) -> None:
    """A progress line on the terminal in the middle of a check (captured output is switched off for it)."""
    state = config.stash.get(STATE, None)
    if state is not None:
        text = state.redactor(text)  # secrets masked, control characters shown escaped
    capman = config.pluginmanager.getplugin("capturemanager")
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    with capman.global_and_fixture_disabled() if capman is not None else contextlib.nullcontext():
        if terminal is not None:
            terminal.ensure_newline()
            terminal.write_line(f"blink-checks: {text}")
        else:
            print(f"blink-checks: {text}", file=sys.stderr, flush=True)
