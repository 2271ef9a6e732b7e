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
    restart_policy: str = ""  # HostConfig.RestartPolicy.Name: "" / no / always / unless-stopped / on-failure
    memory_limit: int = 0  # HostConfig.Memory in bytes; 0 = no limit (the host's memory)
    dns: tuple[str, ...] = ()  # HostConfig.Dns: `docker run --dns`
    network_mode: str = ""
    # SSL_CERT_FILE of its environment: a trust store's path, the one environment value kept (never a secret).
    cert_file: str = ""
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
        restart_policy=str((host.get("RestartPolicy") or {}).get("Name") or ""),
        memory_limit=int(host.get("Memory") or 0),
        dns=tuple(str(d) for d in host.get("Dns") or []),
        network_mode=str(host.get("NetworkMode", "")),
        cert_file=next((e.partition("=")[2] for e in config.get("Env") or [] if e.startswith("SSL_CERT_FILE=")), ""),
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


@dataclass(frozen=True)
class EngineInfo:
    """From `docker info` (GET /info): what the engine says about its host."""

    name: str = ""  # the engine host's hostname
    data_root: str = ""  # DockerRootDir
    mem_total: int = 0  # bytes of memory of the engine's host
    http_proxy: str = ""  # the daemon's own proxy (the engine masks its password)
    https_proxy: str = ""
    no_proxy: str = ""
    operating_system: str = ""


def engine_info(info: Mapping[str, Any]) -> EngineInfo:
    return EngineInfo(
        name=str(info.get("Name", "")),
        data_root=str(info.get("DockerRootDir", "")),
        mem_total=int(info.get("MemTotal") or 0),
        http_proxy=str(info.get("HttpProxy") or ""),  # the Engine API's spelling (the CLI shows "HTTP Proxy")
        https_proxy=str(info.get("HttpsProxy") or ""),
        no_proxy=str(info.get("NoProxy") or ""),
        operating_system=str(info.get("OperatingSystem", "")),
    )


@dataclass(frozen=True)
class HostFacts:
    """The Docker host itself, read through testinfra (blinkcheck.docker.host). `unavailable`: why the suite cannot
    look at the host from here; then the rest is empty."""

    where: str  # "the local host", "ssh://ops@10.0.0.5"
    unavailable: str = ""  # the host cannot be looked at from here by its nature (tcp://, another machine)
    error: str = ""  # it should have answered and did not (timed out, ssh failed): could not look
    data_root: str = ""
    disk_total: int = 0  # bytes of the data root's filesystem
    disk_free: int = 0  # bytes available to unprivileged users (df's Avail)
    inodes_total: int = 0
    inodes_free: int = 0
    disk_error: str = ""  # the data root could not be measured (and why)
    systemd: bool = False  # systemd is the host's init (/run/systemd/system)
    service_enabled: str = ""  # `systemctl is-enabled docker.service`: enabled, disabled, masked, ...
    service_active: str = ""  # `systemctl is-active docker.service`: active, inactive, failed, ...
    init: str = ""  # PID 1's name when it is not systemd
    time_service: str = ""  # chronyd, systemd-timesyncd, ntpd, ... as found running; "" none found


@dataclass(frozen=True)
class ContainerFiles:
    """Files read from a runner container (GET /containers/{id}/archive, the way `docker cp` reads)."""

    resolv_conf: str | None = None  # /etc/resolv.conf, None when the container has none
    resolv_error: str = ""
    ca_path: str = ""  # the trust store found ("" none)
    ca_certs: int = 0  # certificates in it
    ca_tried: tuple[str, ...] = ()  # the paths looked at, in order
    ca_error: str = ""


def gb(n: float) -> str:
    """Bytes as a support engineer reads them: 66.3 GB (binary units, as df -h and free -h)."""
    return f"{n / 1024**3:.1f} GB" if n >= 1024**3 else f"{n / 1024**2:.0f} MB"
