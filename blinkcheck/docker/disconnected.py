"""Runbook: Runner Disconnected on Docker, steps 1-2 (the container exists, runs, its logs are readable). Pure."""

from __future__ import annotations

from collections.abc import Sequence

from blinkcheck.docker.facts import RUNNER_IMAGE_REPO, ContainerFacts, describe_state, state_table
from blinkcheck.logs.judge import last_lines
from blinkcheck.logs.scan import LogWindow
from blinkcheck.model import Evidence, Finding, Outcome


def judge_container_exists(cid: str, containers: Sequence[ContainerFacts], prefix: str, docker_host: str) -> Finding:
    values = {"runner_name": prefix, "docker_host": docker_host}
    if not containers:
        return Finding(
            cid,
            Outcome.FAILED,
            f"No container named {prefix}* or from image {RUNNER_IMAGE_REPO} on {docker_host} (docker ps -a).",
            object=docker_host,
            values=values,
        )
    names = ", ".join(c.name for c in containers)
    return Finding(
        cid,
        Outcome.PASSED,
        f"Found {len(containers)} runner container(s): {names}.",
        object=docker_host,
        evidence=(Evidence("docker ps -a (runner containers)", state_table(containers)),),
        values={**values, "container_id": containers[0].short_id, "container_name": containers[0].name},
    )


def judge_container_running(
    cid: str,
    c: ContainerFacts, window: LogWindow | None, others_running: bool = False
) -> Finding:
    """Running is healthy; anything else fails, unless another runner runs (then a stale one only warns)."""
    values = {"container_id": c.short_id, "container_name": c.name, "state": describe_state(c)}
    if c.status == "running":
        return Finding(
            cid, Outcome.PASSED, f"{c.label} is running (restarts: {c.restart_count}).", c.label, values=values
        )
    evidence = [Evidence("State", state_table([c]), source=c.label)]
    if c.error:
        evidence.append(Evidence("Engine error", c.error, source=c.label))
    if window is not None:
        evidence.append(Evidence("Last log lines", last_lines(window), source=f"{window.source}, {window.window}"))
    evidence.append(Evidence("Environment variable names (values withheld)", ", ".join(c.env_names)))
    stale = others_running and c.status in ("exited", "created", "dead")
    return Finding(
        cid,
        Outcome.WARNING if stale else Outcome.FAILED,
        f"{c.label} is {describe_state(c)}"
        + ("; another runner container is running, so this one is probably left over." if stale else "."),
        c.label,
        evidence=tuple(evidence),
        values=values,
    )


def judge_logs_readable(cid: str, c: ContainerFacts, window: LogWindow) -> Finding:
    values = {
        "container_id": c.short_id,
        "container_name": c.name,
        "log_window": window.window,
        "reason": window.error,
    }
    if window.error:
        return Finding(
            cid,
            Outcome.FAILED,
            f"Could not read the logs of {c.label}: {window.error}",
            c.label,
            values=values,
        )
    read = f"Read {window.line_count} log lines of {c.label} ({window.window})"
    if window.cut:
        return Finding(cid, Outcome.WARNING, f"{read}, but not to the newest line: {window.cut}.", c.label,
                       values={**values, "reason": window.cut})  # fmt: skip
    return Finding(cid, Outcome.PASSED, f"{read}.", c.label, values=values)
