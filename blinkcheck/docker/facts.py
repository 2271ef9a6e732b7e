"""Docker API objects -> facts: the engine, runner containers (from `docker inspect`), their state in words
and as a `docker ps`-style table. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from blinkcheck.model import table
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
    ips: tuple[str, ...] = ()  # its addresses on its networks (Blink's view matches a runner by IP too)
    hostname: str = ""

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
        ips=_addresses(inspect),
        hostname=str(config.get("Hostname") or ""),
    )


def _addresses(inspect: Mapping[str, Any]) -> tuple[str, ...]:
    networks = (inspect.get("NetworkSettings") or {}).get("Networks") or {}
    return tuple(str(n["IPAddress"]) for n in networks.values() if isinstance(n, dict) and n.get("IPAddress"))


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
    return table(rows, pad_last=True)


def describe_state(c: ContainerFacts) -> str:
    if c.status == "exited":
        text = f"exited with code {c.exit_code}"
        if c.oom_killed:
            text += " (OOM-killed)"
        return text + (f" at {c.finished_at}" if c.finished_at else "")
    if c.status == "restarting":
        return f"restarting (restart count {c.restart_count}, last exit code {c.exit_code})"
    return c.status
