"""Which Docker engine to talk to, decided the way the docker CLI decides it, without connecting.

`--docker-context` (flag), else `--docker-host` / `DOCKER_HOST`, else `DOCKER_CONTEXT`, else the
`currentContext` of the user's docker config (`$DOCKER_CONFIG/config.json`, default
`~/.docker/config.json`), else the local socket. The context named `default` is DOCKER_HOST or
the local socket. A context is `contexts/meta/<sha256 of its name>/meta.json` (its docker
endpoint: Host, SkipTLSVerify) with TLS material, when it has some, in
`contexts/tls/<sha256>/docker/{ca,cert,key}.pem`. A tcp:// DOCKER_HOST takes TLS from
`DOCKER_TLS_VERIFY` / `DOCKER_CERT_PATH` as the CLI does.

Only the standard library here: this runs at start-up, for every run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from blinkcheck.config import DockerTLS

LOCAL_SOCKET = "unix:///var/run/docker.sock"
DEFAULT_CONTEXT = "default"
PEMS = ("ca", "cert", "key")


class ContextError(ValueError):
    """A context that cannot be used, in one line (a usage error)."""


@dataclass(frozen=True)
class DockerEndpoint:
    host: str
    context: str | None = None  # the docker context the host came from; None: --docker-host/DOCKER_HOST/local
    tls: DockerTLS | None = None
    chosen_by: str = "default"  # what chose it, for messages


@dataclass(frozen=True)
class SSHTarget:
    """ssh://[user@]host[:port][/socket path], as the docker CLI takes it."""

    host: str
    user: str | None = None
    port: int | None = None
    socket_path: str | None = None  # the remote engine's socket, when not the remote CLI's default

    @property
    def shown(self) -> str:
        who = f"{self.user}@" if self.user else ""
        return f"{who}{self.host}" + (f":{self.port}" if self.port else "")

    @property
    def login(self) -> str:
        """The ssh command a person types to reach it."""
        port = f"-p {self.port} " if self.port else ""
        return f"ssh {port}{self.user + '@' if self.user else ''}{self.host}"


def parse_ssh(url: str) -> SSHTarget:
    parts = urlsplit(url)
    if parts.scheme != "ssh" or not parts.hostname:
        raise ContextError(f"'{url}' is not an ssh://[user@]host[:port] address")
    if parts.password is not None:
        shown = url.replace(f":{parts.password}@", ":***@", 1)  # never echoed
        raise ContextError(f"'{shown}': a password in an ssh:// address is not supported (use key authentication)")
    if parts.query or parts.fragment:
        raise ContextError(f"'{url}': an ssh:// address takes no query or fragment")
    try:
        port = parts.port
    except ValueError:
        raise ContextError(f"'{url}' has a malformed port") from None
    user = unquote(parts.username) if parts.username else None
    return SSHTarget(parts.hostname, user, port, parts.path if parts.path not in ("", "/") else None)


def config_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get("DOCKER_CONFIG") or Path(env.get("HOME") or Path.home()) / ".docker")


def _context_id(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def context_names(cfg: Path) -> list[str]:
    names = []
    for meta in sorted((cfg / "contexts" / "meta").glob("*/meta.json")):
        try:
            names.append(str(json.loads(meta.read_text())["Name"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(names)


def load_context(name: str, cfg: Path, chosen_by: str) -> DockerEndpoint:
    """A stored context's docker endpoint and TLS material; ContextError naming what is wrong."""
    meta = cfg / "contexts" / "meta" / _context_id(name) / "meta.json"
    if not meta.is_file():
        known = ", ".join([DEFAULT_CONTEXT, *context_names(cfg)])
        how = "" if chosen_by == "--docker-context" else f" ({chosen_by})"
        raise ContextError(f"context '{name}'{how} is not in {cfg / 'contexts'} (contexts: {known})")
    try:
        doc = json.loads(meta.read_text())
        endpoint = doc["Endpoints"]["docker"]
        host = str(endpoint["Host"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ContextError(f"context '{name}': {meta} has no docker endpoint Host ({type(exc).__name__})") from None
    tls: DockerTLS | None = _tls_in(
        cfg / "contexts" / "tls" / _context_id(name) / "docker", verify=not endpoint.get("SkipTLSVerify")
    )
    if not host.startswith("tcp://") or (tls and tls.verify and not (tls.ca or tls.cert or tls.key)):
        tls = None  # no TLS material, verification not skipped: plain tcp://, as the CLI
    return DockerEndpoint(host, name, tls, chosen_by)


def _tls_in(folder: Path, verify: bool) -> DockerTLS:
    """ca.pem, cert.pem, key.pem in `folder`, those that are there."""
    ca, cert, key = (str(folder / f"{part}.pem") if (folder / f"{part}.pem").is_file() else None for part in PEMS)
    return DockerTLS(ca, cert, key, verify)


def _default_endpoint(env: Mapping[str, str], chosen_by: str) -> DockerEndpoint:
    host = env.get("DOCKER_HOST") or LOCAL_SOCKET
    tls = None
    if host.startswith("tcp://") and env.get("DOCKER_TLS_VERIFY"):
        tls = _tls_in(Path(env.get("DOCKER_CERT_PATH") or config_dir(env)), verify=True)
    return DockerEndpoint(host, None, tls, chosen_by)


def resolve(host_flag: str | None, context_flag: str | None, env: Mapping[str, str]) -> DockerEndpoint:
    """The docker CLI's order. `host_flag`/`context_flag`: given on the command line (not from env)."""
    if host_flag and context_flag:
        raise ContextError("give --docker-host or --docker-context, not both (as the docker CLI: --host or --context)")
    cfg = config_dir(env)
    if context_flag:
        name, chosen_by = context_flag, "--docker-context"
    elif host_flag:
        return _default_endpoint({**env, "DOCKER_HOST": host_flag}, "--docker-host")
    elif env.get("DOCKER_HOST"):
        return _default_endpoint(env, "DOCKER_HOST")
    elif env.get("DOCKER_CONTEXT"):
        name, chosen_by = env["DOCKER_CONTEXT"], "DOCKER_CONTEXT"
    else:
        name, chosen_by = _current_context(cfg), f"currentContext in {cfg / 'config.json'}"
    if name == DEFAULT_CONTEXT:
        return _default_endpoint(env, chosen_by)
    return load_context(name, cfg, chosen_by)


def _current_context(cfg: Path) -> str:
    path = cfg / "config.json"
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        return DEFAULT_CONTEXT
    except (OSError, ValueError) as exc:
        raise ContextError(f"cannot read the docker config {path}: {exc}") from None
    name = doc.get("currentContext") if isinstance(doc, dict) else None
    return str(name) if name else DEFAULT_CONTEXT
