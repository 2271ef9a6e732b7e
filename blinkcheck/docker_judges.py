"""Judging functions for the Docker half of the runbook. Pure: facts in, findings out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from blinkcheck.logs import LogWindow, UpgradeLine, last_lines
from blinkcheck.model import Evidence, Finding, Outcome
from blinkcheck.redact import env_names

RUNNER_IMAGE_REPO = "blinkops/blink-runner"
DOCKER_SOCKET = "/var/run/docker.sock"


@dataclass(frozen=True)
class EngineFacts:
    reachable: bool
    docker_host: str
    version: str = ""
    api_version: str = ""
    error: str = ""


@dataclass(frozen=True)
class ContainerFacts:
    id: str
    name: str
    image: str
    status: str  # created | running | paused | restarting | removing | exited | dead
    exit_code: int = 0
    oom_killed: bool = False
    restart_count: int = 0
    started_at: str = ""
    finished_at: str = ""
    error: str = ""
    env_names: tuple[str, ...] = ()
    mounts: tuple[tuple[str, str], ...] = ()  # (source, destination)
    log_driver: str = ""
    tty: bool = False  # the engine's log stream is raw, not multiplexed

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def label(self) -> str:
        return f"container {self.name} ({self.short_id})"


def container_facts(inspect: Mapping[str, Any]) -> ContainerFacts:
    """From `docker inspect` output. Environment values are dropped here: only names go on."""
    state = inspect.get("State") or {}
    config = inspect.get("Config") or {}
    host = inspect.get("HostConfig") or {}
    mounts = tuple(
        (str(m.get("Source", "")), str(m.get("Destination", ""))) for m in inspect.get("Mounts") or []
    )
    status = str(state.get("Status") or ("running" if state.get("Running") else "unknown"))
    return ContainerFacts(
        id=str(inspect.get("Id", "")),
        name=str(inspect.get("Name", "")).lstrip("/"),
        image=str(config.get("Image", "")),
        status=status,
        exit_code=int(state.get("ExitCode") or 0),
        oom_killed=bool(state.get("OOMKilled")),
        restart_count=int(inspect.get("RestartCount") or 0),
        started_at=str(state.get("StartedAt", "")),
        finished_at=str(state.get("FinishedAt", "")),
        error=str(state.get("Error", "")),
        env_names=tuple(env_names(config.get("Env") or [])),
        mounts=mounts,
        log_driver=str((host.get("LogConfig") or {}).get("Type", "")),
        tty=bool(config.get("Tty")),
    )


def is_runner(names: Sequence[str], image: str, prefix: str) -> bool:
    """`docker ps -a | grep blink-runner`: a name starting with the prefix, or the runner image."""
    if any(n.lstrip("/").startswith(prefix) for n in names):
        return True
    repo = image.split("@", 1)[0]
    repo = repo.rsplit(":", 1)[0] if ":" in repo.rsplit("/", 1)[-1] else repo
    return repo in (RUNNER_IMAGE_REPO, "docker.io/" + RUNNER_IMAGE_REPO)


def state_table(containers: Sequence[ContainerFacts]) -> str:
    rows = [("CONTAINER ID", "NAME", "IMAGE", "STATUS", "EXIT", "OOM", "RESTARTS", "FINISHED")]
    rows += [
        (
            c.short_id,
            c.name,
            c.image,
            c.status,
            str(c.exit_code),
            "yes" if c.oom_killed else "no",
            str(c.restart_count),
            c.finished_at if c.status != "running" else "",
        )
        for c in containers
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows)


# ------------------------------------------------------------------ judges


def judge_daemon(engine: EngineFacts) -> Finding:
    cid = "docker.host.daemon-reachable"
    values = {"docker_host": engine.docker_host, "reason": engine.error}
    if engine.reachable:
        return Finding(
            cid,
            Outcome.PASSED,
            f"Docker engine {engine.version} (API {engine.api_version}) answers at {engine.docker_host}.",
            object=engine.docker_host,
            values=values,
        )
    return Finding(
        cid,
        Outcome.NOT_EVALUABLE,
        f"Could not reach the Docker engine at {engine.docker_host}: {engine.error}",
        object=engine.docker_host,
        values=values,
    )


def judge_container_exists(containers: Sequence[ContainerFacts], prefix: str, docker_host: str) -> Finding:
    cid = "docker.disconnected.container-exists"
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


def describe_state(c: ContainerFacts) -> str:
    if c.status == "exited":
        text = f"exited with code {c.exit_code}"
        if c.oom_killed:
            text += " (OOM-killed)"
        return text + (f" at {c.finished_at}" if c.finished_at else "")
    if c.status == "restarting":
        return f"restarting (restart count {c.restart_count}, last exit code {c.exit_code})"
    return c.status


def judge_container_running(
    c: ContainerFacts, window: LogWindow | None, others_running: bool = False
) -> Finding:
    """Running is healthy; anything else fails, unless another runner runs (then a stale one only warns)."""
    cid = "docker.disconnected.container-running"
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


def judge_logs_readable(c: ContainerFacts, window: LogWindow) -> Finding:
    cid = "docker.disconnected.logs-readable"
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


def judge_socket_mounted(c: ContainerFacts) -> Finding:
    cid = "docker.runner.socket-mounted"
    values = {"container_id": c.short_id, "container_name": c.name}
    if any(dest == DOCKER_SOCKET for _, dest in c.mounts):
        return Finding(cid, Outcome.PASSED, f"{c.label} mounts {DOCKER_SOCKET}.", c.label, values=values)
    mounts = "\n".join(f"{src} -> {dest}" for src, dest in c.mounts) or "(no mounts)"
    return Finding(
        cid,
        Outcome.FAILED,
        f"{c.label} does not mount {DOCKER_SOCKET}.",
        c.label,
        evidence=(Evidence("Mounts", mounts, source=c.label),),
        values=values,
    )


def judge_upgrade_indicators(c: ContainerFacts, window: LogWindow, lines: Sequence[UpgradeLine]) -> Finding:
    """No upgrade lines: nothing to judge, so it passes. Lines found: report version and ids."""
    cid = "docker.upgrade.indicators"
    values = {"container_id": c.short_id, "container_name": c.name}
    if window.error:
        return Finding(cid, Outcome.NOT_EVALUABLE, f"Could not read the logs of {c.label}: {window.error}",
                       c.label, values=values)  # fmt: skip
    if window.cut:
        found = f"; {len(lines)} upgrade line(s) in the part read" if lines else ""
        return Finding(cid, Outcome.NOT_EVALUABLE, f"The log window of {c.label} was read only in part "
                       f"({window.cut}){found}: the newest upgrade attempt may be in the part not read.",
                       c.label, values=values)  # fmt: skip
    if not lines:
        return Finding(
            cid,
            Outcome.PASSED,
            f"No upgrade in {c.label}'s logs ({window.window}): nothing to judge.",
            c.label,
            values=values,
        )
    last = lines[-1]
    what = "creating a new container" if last.kind == "creating" else "found the new container running"
    return Finding(
        cid,
        Outcome.PASSED,
        f"{c.label} logged an upgrade to {last.version} ({what}; container id {last.container_id[:12]}).",
        c.label,
        evidence=(
            Evidence("Upgrade lines", "\n".join(x.line for x in lines), source=f"{window.source}, {window.window}"),
        ),
        values={**values, "version": last.version},
    )


def judge_new_container(
    runner: ContainerFacts,
    line: UpgradeLine,
    new: ContainerFacts | None,
    new_window: LogWindow | None,
) -> Finding:
    cid = "docker.upgrade.new-container-healthy"
    values = {
        "container_id": runner.short_id,
        "container_name": runner.name,
        "version": line.version,
        "new_container_name": line.name,
        "new_container_id": new.short_id if new else (line.container_id[:12] if line.kind == "found_existing" else ""),
    }
    if new is None:
        values["new_state"] = "missing"
        return Finding(
            cid,
            Outcome.FAILED,
            f"The upgrade to {line.version} names {line.name}, but no such container exists.",
            f"container {line.name}",
            evidence=(Evidence("Upgrade line", line.line, source=runner.label),),
            values={**values, "new_container_id": values["new_container_id"] or line.name},
        )
    values["new_state"] = describe_state(new)
    if new.status == "running":
        return Finding(
            cid,
            Outcome.PASSED,
            f"Upgraded runner {new.label} runs version {line.version}.",
            new.label,
            values=values,
        )
    evidence = [Evidence("State", state_table([new]), source=new.label)]
    if new_window is not None:
        evidence.append(
            Evidence("Last log lines of the upgraded container", last_lines(new_window), source=new_window.source)
        )
    evidence.append(Evidence("Upgrade line", line.line, source=runner.label))
    return Finding(
        cid,
        Outcome.FAILED,
        f"The upgrade to {line.version} failed: {new.label} is {describe_state(new)}.",
        new.label,
        evidence=tuple(evidence),
        values=values,
    )


def judge_not_a_runner(runner: ContainerFacts, line: UpgradeLine, other: str) -> Finding:
    """An upgrade line that names a container which is not a runner: not followed, not trusted."""
    return Finding(
        "docker.upgrade.new-container-healthy",
        Outcome.NOT_EVALUABLE,
        f"The upgrade line in {runner.label} names container {other}, which is not a runner container (its name "
        f"and image are not the runner's): the suite does not look at it. Check the line by hand.",
        runner.label,
        evidence=(Evidence("Upgrade line", line.line, source=runner.label),),
        values={"container_id": runner.short_id, "container_name": runner.name, "version": line.version},
    )


def manual_blink_status(condition_id: str, status_channel: str) -> Finding:
    return Finding(
        condition_id,
        Outcome.MANUAL,
        f"Manual step: check {status_channel} for active production alerts (needs Blink-internal access).",
        object="Blink",
        values={"status_channel": status_channel},
    )
