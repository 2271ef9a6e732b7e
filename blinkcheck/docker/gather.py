"""Docker facts: a thin, lazy, memoizing layer over the docker SDK. Fetches once per session.

Every call is bounded by --api-timeout. Anything that stops us from looking raises CouldNotLook,
which the report turns into not-evaluable. Environment values never leave this module: they are
registered with the redactor, and only names go on into ContainerFacts.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import cached_property
from typing import Any

from blinkcheck.catalog import DOCKER_ENGINE as PRECONDITION
from blinkcheck.catalog import Catalog
from blinkcheck.config import TargetSpec
from blinkcheck.docker.facts import (
    ContainerFacts,
    ContainerFiles,
    EngineFacts,
    EngineInfo,
    HostFacts,
    container_facts,
    engine_info,
    is_runner,
)
from blinkcheck.docker.netns_probe import CA_FILES  # Go's trust stores, in its order
from blinkcheck.logs.scan import LogPatterns, LogScan, LogWindow, NewestBytes
from blinkcheck.model import CouldNotLook
from blinkcheck.packet_objects import docker_inspect_for_packet, packet_json
from blinkcheck.redact import Redactor
from blinkcheck.run import DeadlineExceeded
from blinkcheck.streaming import FrameDemux, read_whole

# Every Docker Engine API call the suite makes (README: "Read-only by default"). The reads:
READ_CALLS = (
    "GET /_ping",
    "GET /version",
    "GET /containers/json",
    "GET /containers/{id}/json",
    "GET /containers/{id}/logs",
    "GET /images/{name}/json",
    "GET /info",  # the data root, the host's memory, the daemon's proxy (section beyond)
    "GET /containers/{id}/archive",  # `docker cp`'s read: the runner's /etc/resolv.conf and trust store
)
FILE_CAP = 4 * 1024 * 1024  # a file read from a container: at most this much
# The egress probe (blinkcheck/docker/probe.py). On the engine's own host it reads only (the suite
# enters the runner's network namespace itself). Where it cannot (a remote engine, no permission):
# one short-lived container per tool tried and per URL asked (Blink's; its readiness), in the runner's
# network namespace, labelled blink-check=egress-probe, always removed (leftovers of the run found by
# label and removed too).
PROBE_CALLS = (
    "POST /containers/create",
    "POST /containers/{probe}/start",
    "POST /containers/{probe}/wait",
    "GET /containers/{probe}/json",
    "GET /containers/{probe}/logs",
    "DELETE /containers/{probe}",
)


def _why(exc: BaseException) -> str:
    from blinkcheck.docker.client import transport_error

    if line := transport_error(exc):  # ssh:// said why, in its own words
        return line
    text = str(exc) or type(exc).__name__
    if "Permission denied" in text or "PermissionError" in text:
        return f"permission denied on the Docker socket ({text})"
    if "Read timed out" in text or "timed out" in text.lower():
        return f"timed out ({text})"
    return text


class NotARunner(Exception):
    """An upgrade line named a container that is not a runner container: it is not looked at."""


class DockerFacts:
    def __init__(self, spec: TargetSpec, redactor: Redactor, catalog: Catalog) -> None:
        self.spec = spec
        self.redactor = redactor
        self.patterns = LogPatterns.from_catalog(catalog)
        self.catalog = catalog
        self._inspects: dict[str, ContainerFacts | None] = {}
        self._logs: dict[str, LogWindow | CouldNotLook] = {}
        self._runners: list[ContainerFacts] | CouldNotLook | None = None
        self._listed: dict[str, tuple[tuple[str, ...], str]] = {}  # id -> (names, image) of every container
        self._files: dict[str, ContainerFiles] = {}
        self._info: EngineInfo | CouldNotLook | None = None

    # -- the engine -------------------------------------------------------------------

    @cached_property
    def _client_or_error(self) -> tuple[Any, str]:
        from docker.errors import DockerException

        from blinkcheck.docker.client import docker_client

        if self.spec.docker_host.startswith("unix://"):
            path = self.spec.docker_host[len("unix://") :]
            if not os.path.exists(path):
                return None, f"no Docker socket at {path} (is the engine running?)"
            if not os.access(path, os.R_OK | os.W_OK):
                return None, f"permission denied on the Docker socket {path} (run as root or join the docker group)"
        try:  # negotiates the API version: one bounded call to /version (ssh://: see docker_transport)
            client = docker_client(self.spec.docker_host, self.spec.docker_tls, self.spec.api_timeout_s)
        except DockerException as exc:
            return None, _why(exc)
        except Exception as exc:  # requests/urllib3 errors surface raw from the version call
            return None, _why(exc)
        return client, ""

    @cached_property
    def engine(self) -> EngineFacts:
        client, error = self._client_or_error
        if client is None:
            return EngineFacts(False, self.spec.docker_host, error=error)
        try:
            client.ping()
            v = client.version()
        except Exception as exc:
            return EngineFacts(False, self.spec.docker_host, error=_why(exc))
        return EngineFacts(True, self.spec.docker_host, str(v.get("Version", "")), str(v.get("ApiVersion", "")))

    @property
    def client(self) -> Any:
        """The low-level client, or CouldNotLook naming the precondition."""
        if not self.engine.reachable:
            raise CouldNotLook(
                f"Docker engine at {self.spec.docker_host} unreachable: {self.engine.error}",
                because_of=PRECONDITION,
            )
        return self._client_or_error[0].api

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CouldNotLook:
            raise
        except Exception as exc:
            if type(exc).__name__ == "NotFound":
                raise
            raise CouldNotLook(f"Docker API call {what} failed: {_why(exc)}") from None

    @property
    def info(self) -> EngineInfo:
        """`docker info`: the data root, the host's memory, the daemon's proxy. Asked once; a failure is remembered
        too (a hanging engine costs one timeout, not one per check)."""
        if self._info is None:
            try:
                self._info = engine_info(self._call("GET /info", self.client.info))
            except CouldNotLook as exc:
                self._info = exc
        if isinstance(self._info, CouldNotLook):
            raise self._info
        return self._info

    @cached_property
    def host(self) -> HostFacts:
        """The engine's host itself, through testinfra (blinkcheck.docker.host); read once."""
        from blinkcheck.docker.host import read_host

        return read_host(self.spec.docker_host, self.info, self.spec.api_timeout_s)

    # -- containers ---------------------------------------------------------------------

    @property
    def runner_containers(self) -> list[ContainerFacts]:
        """`docker ps -a | grep <prefix>`, once per session; a failure is remembered too."""
        if self._runners is None:
            try:
                self._runners = self._list_runners()
            except CouldNotLook as exc:
                self._runners = exc
        if isinstance(self._runners, CouldNotLook):
            raise self._runners
        return self._runners

    def _list_runners(self) -> list[ContainerFacts]:
        """One sparse list, then inspect only the runners."""
        listed = self._call("GET /containers/json", self.client.containers, all=True)
        self._listed = {
            str(c["Id"]): (tuple(n.lstrip("/") for n in c.get("Names") or []), str(c.get("Image", ""))) for c in listed
        }
        ids = [cid for cid, (names, image) in self._listed.items() if is_runner(names, image, self.spec.runner_name)]
        found = [self.inspect(cid) for cid in ids]
        # A container removed between listing and inspecting is simply gone: not a runner any more.
        return sorted((c for c in found if c is not None), key=lambda c: c.name)

    def follow(self, ref: str, name: str) -> ContainerFacts | None:
        """The container an upgrade log line names (by id, else by name), or None when there is none. A log
        line can name any container: only one the listing shows as a runner is inspected; any other raises
        NotARunner (its name only), so nothing of an unrelated container reaches the reports."""
        self.runner_containers  # noqa: B018 - the listing
        for wanted in (ref, name):
            for cid, (names, image) in self._listed.items():
                if cid.startswith(wanted) or wanted in names:
                    if not is_runner(names, image, self.spec.runner_name):
                        raise NotARunner(names[0] if names else cid[:12])
                    return self.inspect(cid)
        return None

    def inspect(self, ref: str) -> ContainerFacts | None:
        if ref not in self._inspects:
            from docker.errors import NotFound

            try:
                raw = self._call(f"GET /containers/{ref}/json", self.client.inspect_container, ref)
            except NotFound:
                self._inspects[ref] = None
                return None
            self._register_secrets(raw)
            facts = container_facts(raw)
            self._inspects[ref] = facts
            self._inspects[facts.id] = facts
        return self._inspects[ref]

    def _register_secrets(self, raw: dict[str, Any]) -> None:
        """Everything secret an inspect shows is known to the redactor before any text is shown: environment
        values, values of secret-looking flags in the command line, secret-looking label values."""
        config = raw.get("Config") or {}
        self.redactor.add_env(config.get("Env") or [])
        self.redactor.add_args([*(config.get("Entrypoint") or []), *(config.get("Cmd") or []),
                                *(raw.get("Args") or [])])  # fmt: skip
        self.redactor.add_env(f"{k}={v}" for k, v in (config.get("Labels") or {}).items())

    def prime_secrets(self) -> list[str]:
        """At session start, before the first check shows anything: list and inspect the runner containers
        (remembered for the checks), so that every secret value they hold is known to the redactor."""
        try:
            _ = self.runner_containers
        except DeadlineExceeded:
            raise
        except CouldNotLook:
            pass  # the checks say why; nothing could be read, so nothing can leak from there
        return []

    # -- files of a runner container (read as `docker cp` reads; nothing runs in it) ------------

    def container_files(self, c: ContainerFacts) -> ContainerFiles:
        if c.id not in self._files:
            self._files[c.id] = self._read_files(c)
        return self._files[c.id]

    def _read_files(self, c: ContainerFacts) -> ContainerFiles:
        resolv, resolv_error = None, ""
        try:
            data = self._read_file(c, "/etc/resolv.conf")
            resolv = None if data is None else data.decode("utf-8", "replace")
        except CouldNotLook as exc:
            resolv_error = exc.reason
        tried = (c.cert_file,) if c.cert_file else CA_FILES
        for path in tried:
            try:
                data = self._read_file(c, path)
            except CouldNotLook as exc:
                return ContainerFiles(resolv, resolv_error, ca_tried=tried, ca_error=exc.reason)
            if data is not None:
                return ContainerFiles(resolv, resolv_error, path, data.count(b"-----BEGIN CERTIFICATE-----"), tried)
        return ContainerFiles(resolv, resolv_error, ca_tried=tried)

    def _read_file(self, c: ContainerFacts, path: str, hops: int = 5) -> bytes | None:
        """One file of the container (GET /containers/{id}/archive), a symlink followed; None when it is not
        there. Bounded: --api-timeout per read, at most FILE_CAP bytes."""
        import io
        import posixpath
        import tarfile

        from docker.errors import NotFound

        try:
            stream, stat = self.client.get_archive(c.id, path)
            body = b""
            for chunk in stream:
                body += chunk
                if len(body) > FILE_CAP + 65536:
                    raise CouldNotLook(f"{path} in {c.label} is larger than {FILE_CAP} bytes")
        except NotFound:
            return None
        except CouldNotLook:
            raise
        except Exception as exc:
            raise CouldNotLook(f"reading {path} of {c.label} failed: {_why(exc)}") from None
        link = str(stat.get("linkTarget") or "")
        if link and hops:
            return self._read_file(c, posixpath.join(posixpath.dirname(path), link), hops - 1)
        with tarfile.open(fileobj=io.BytesIO(body)) as tar:
            member = next((m for m in tar.getmembers() if m.isfile()), None)
            f = tar.extractfile(member) if member is not None else None
            return f.read() if f is not None else None

    # -- logs -----------------------------------------------------------------------------

    def log_window(self, c: ContainerFacts) -> LogWindow:
        """A bounded window (--log-since, --log-tail, a byte cap), streamed, read once per session."""
        if c.id not in self._logs:
            try:
                self._logs[c.id] = self._read_logs(c)
            except CouldNotLook as exc:
                self._logs[c.id] = exc  # remembered: a slow engine costs one timeout, not one per check
        found = self._logs[c.id]
        if isinstance(found, CouldNotLook):
            raise found
        return found

    def _read_logs(self, c: ContainerFacts) -> LogWindow:
        """`docker logs -t --since ... --tail ... <id>`, streamed whole through the pattern scan."""
        from docker.errors import APIError

        since = int(time.time() - self.spec.log_since_s)
        scan = LogScan(self.patterns, stamped=True, clean=self.redactor)
        try:
            cut = self._stream_logs(c, {"timestamps": 1, "since": since, "tail": self.spec.log_tail}, scan.feed)
        except APIError as exc:  # the engine answered: these logs cannot be read (driver, gone, ...)
            return LogWindow(c.label, self.spec.log_window, error=_why(exc))
        except Exception as exc:  # the engine did not answer, or stopped answering: we could not look
            raise CouldNotLook(f"reading the logs of {c.label} failed: {_why(exc)}") from None
        return scan.window(c.label, self.spec.log_window, cut=cut)

    def _stream_logs(self, c: ContainerFacts, params: dict[str, Any], feed: Callable[[bytes], None]) -> str:
        """GET /containers/{id}/logs, its body fed in large chunks, the whole call bounded by --log-timeout
        (the SDK's own log stream switches the socket timeout off). Returns why it stopped early, or ""."""
        api = self.client
        demux = None if c.tty else FrameDemux()

        def open_response() -> Any:
            resp = api._get(api._url("/containers/{0}/logs", c.id), params={"stdout": 1, "stderr": 1, **params},
                            stream=True)  # fmt: skip
            api._raise_for_status(resp)
            return resp

        return read_whole(open_response, (lambda b: feed(demux.feed(b))) if demux else feed, self.spec.log_timeout_s)

    # -- the escalation packet ---------------------------------------------------------

    BUNDLE_LOG_TAIL = 20_000
    BUNDLE_LOG_BYTES = 20 * 1024 * 1024

    def bundle_files(self, redact: Callable[[str], str]) -> dict[str, str]:
        """Full (bounded, redacted) logs and inspect output of every runner and upgrade container looked at."""
        files: dict[str, str] = {}
        if not self.engine.reachable:
            return {"docker/error.txt": redact(f"engine unreachable: {self.engine.error}\n")}
        v = self._client_or_error[0].version()
        files["docker/versions.txt"] = (
            f"Docker engine {v.get('Version')} (API {v.get('ApiVersion')}), {v.get('Os')}/{v.get('Arch')}, "
            f"kernel {v.get('KernelVersion')}\n"
        )
        seen = {c.id: c for c in self._inspects.values() if c is not None}
        for c in seen.values():
            raw = self.client.inspect_container(c.id)
            self._register_secrets(raw)
            # An allow-list: what diagnosis needs; env, command and label values withheld at the source.
            files[f"docker/{c.name}.inspect.json"] = redact(packet_json(docker_inspect_for_packet(raw)))
            newest = NewestBytes(self.BUNDLE_LOG_BYTES)
            try:
                cut = self._stream_logs(c, {"tail": self.BUNDLE_LOG_TAIL}, newest.feed)
            except Exception as exc:  # a logging driver that cannot be read: the rest of the packet stays
                files[f"docker/{c.name}.log"] = redact(f"(could not read: {_why(exc)})\n")
                continue
            text = newest.text()
            note = f"…[older lines dropped: the newest {self.BUNDLE_LOG_BYTES} bytes kept]\n" if newest.dropped else ""
            files[f"docker/{c.name}.log"] = redact(note + text + (f"…[{cut}]\n" if cut else ""))
        return files
