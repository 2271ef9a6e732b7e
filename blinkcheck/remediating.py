"""--remediate's glue, after the checks (blinkcheck.plugin's sessionfinish, before the reports are built): plan the
runbook's recovery steps for what failed, print them (a dry run changes nothing), perform them on --yes or a
confirmation at a terminal (through the platform rooms), then re-check: the affected checks run again as a user runs
them (`pytest checks/<platform> -k ...`, a child process with the same options) on fresh facts, and their outcomes
before and after go into every report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from blinkcheck.model import Outcome
from blinkcheck.options import OPTIONS, _raw
from blinkcheck.remediate.perform import (
    Performer,
    Recheck,
    Remediation,
    before_after,
    dry_run,
    perform_all,
)
from blinkcheck.remediate.plan import Step, actions, plan
from blinkcheck.report.remediation import text_lines
from blinkcheck.run import RunState

CHECKS_DIR = Path(__file__).resolve().parent.parent / "checks"
RECHECK_TIMEOUT_S = 300.0  # plus --operator-wait: the re-check's whole run
# The outcomes a recovery step can change: what is re-checked (passed, manual and skipped ones stay as they were).
CHANGEABLE = (Outcome.FAILED, Outcome.WARNING, Outcome.BLOCKED, Outcome.NOT_EVALUABLE)


def remediate(config: pytest.Config, state: RunState, say_raw: Callable[[str], None]) -> None:
    def say(text: str) -> None:  # every line through the run's redactor
        say_raw(state.redactor(text))

    steps = plan(state.catalog, state.results)
    todo = actions(steps)
    if not todo:
        state.remediation = dry_run(steps, "no-actions")
    elif not (state.spec.assume_yes or _confirmed(config, steps, say)):
        state.remediation = dry_run(steps, "declined" if _at_a_terminal() else "dry-run")
    else:
        state.remediation = perform_all(steps, _performers(state, {s.platform for s in todo}), say=say)
        if state.remediation.attempted:
            try:
                state.remediation.recheck = recheck(config, state, state.remediation)
            except Exception as exc:  # the reports are written whatever happens here
                state.remediation.recheck = Recheck(None, error=f"{type(exc).__name__}: {exc}")
    for line in text_lines(state.remediation):
        say(line)


def _at_a_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False


def _confirmed(config: pytest.Config, steps: list[Step], say: Callable[[str], None]) -> bool:
    """At a terminal: the plan, then one question. Elsewhere (CI, a pipe): no question, a dry run."""
    if not _at_a_terminal():
        return False
    capman = config.pluginmanager.getplugin("capturemanager")
    for line in text_lines(dry_run(steps)):
        say(line)
    try:
        if capman is not None:
            with capman.global_and_fixture_disabled():
                answer = input(f"Perform the {len(actions(steps))} action(s) above, one at a time? [y/N] ")
        else:
            answer = input("Perform the actions above? [y/N] ")
    except (EOFError, KeyboardInterrupt, OSError):
        return False
    return answer.strip().lower() in ("y", "yes")


def _performers(state: RunState, platforms: set[str]) -> dict[str, Performer]:
    """Each platform's performer, on the run's own fact gatherer (or a fresh one when its checks did not run)."""
    out: dict[str, Performer] = {}
    if "docker" in platforms:
        from blinkcheck.docker.gather import DockerFacts
        from blinkcheck.docker.remediate import DockerRemedies

        docker = next((s for s in state.bundle_sources if isinstance(s, DockerFacts)), None)
        out["docker"] = DockerRemedies(docker or DockerFacts(state.spec, state.redactor, state.catalog))
    if "kubernetes" in platforms:
        from blinkcheck.kubernetes.gather import KubernetesFacts
        from blinkcheck.kubernetes.remediate import KubernetesRemedies

        kube = next((s for s in state.bundle_sources if isinstance(s, KubernetesFacts)), None)
        out["kubernetes"] = KubernetesRemedies(kube or KubernetesFacts(state.spec, state.redactor, state.catalog))
    return out


def affected(state: RunState, rem: Remediation) -> dict[str, list[str]]:
    """The conditions to re-check, in run order, with their outcomes before: on each platform where a step was tried,
    those that asked for a step and every one whose outcome a step can change."""
    tried = rem.attempted
    platforms = {s.platform for s in tried}
    asked = {cid for s in tried for cid in s.because}
    mine = [r for r in state.results if r.platform in platforms]
    keep = {r.id for r in mine if r.id in asked or r.outcome in CHANGEABLE}
    return outcomes_by_condition([{"id": r.id, "outcome": str(r.outcome)} for r in mine if r.id in keep])


def recheck_env(config: pytest.Config, platforms: set[str]) -> dict[str, str]:
    """The run's own options, as environment variables (every option is one), for the re-check; never remediating."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    env.update({opt.env: raw for opt in OPTIONS if (raw := _raw(config, opt)) is not None})
    env.update(BLINK_REMEDIATE="off", BLINK_YES="off", BLINK_BUNDLE="off", BLINK_DEADLINE="off")
    if len(platforms) == 1:
        env["BLINK_CHECK_TARGET"] = next(iter(platforms))
    return env


def recheck(config: pytest.Config, state: RunState, rem: Remediation) -> Recheck:
    before = affected(state, rem)
    if not before:
        return Recheck(None, error="no check to re-run")
    platforms = {s.platform for s in rem.attempted}
    folder = Path(tempfile.mkdtemp(prefix="blinkcheck-recheck-"))
    cmd = [sys.executable, "-m", "pytest", *(str(CHECKS_DIR / p) for p in sorted(platforms)), "-q",
           "-p", "no:cacheprovider", "--report-dir", str(folder), "-k", " or ".join(before)]  # fmt: skip
    try:
        proc = subprocess.run(cmd, env=recheck_env(config, platforms), cwd=config.invocation_params.dir,
                              capture_output=True, text=True,
                              timeout=RECHECK_TIMEOUT_S + state.spec.operator_wait_s)  # fmt: skip
        data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    except subprocess.TimeoutExpired:
        return Recheck(None, error=f"the re-check did not finish within {RECHECK_TIMEOUT_S:g}s")
    except (OSError, ValueError) as exc:
        return Recheck(None, error=f"the re-check wrote no results ({exc})")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    checks = data.get("checks") or []
    summaries: dict[str, str] = {}
    for c in checks:  # the worst object's summary says what is left
        if c["outcome"] != "passed" or c["id"] not in summaries:
            summaries[c["id"]] = state.redactor(str(c.get("summary", "")))
    return Recheck(proc.returncode, before_after(before, outcomes_by_condition(checks), summaries))


def outcomes_by_condition(checks: list[Mapping[str, str]]) -> dict[str, list[str]]:
    """results.json's checks -> condition id: its outcomes, one per judged object, in order."""
    out: dict[str, list[str]] = {}
    for c in checks:
        out.setdefault(c["id"], []).append(c["outcome"])
    return out
