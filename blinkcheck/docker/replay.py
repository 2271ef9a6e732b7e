"""Docker facts taped for the escalation packet, and answered from a packet (blinkcheck.replay).

The tape is kept at the gatherer's API boundary: the engine's answer (ping, version), every `DockerFacts._call`
(the container list, each inspect), each log window as streamed (after the frame demux), the egress probe's result
per runner container. Objects go on the tape by the packet's allow-list (environment values, command, labels
withheld), logs through the run's redactor. A replay answers the same questions from the tape and never makes a
client: nothing is connected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from functools import cached_property
from typing import Any

from blinkcheck.docker.facts import ContainerFacts, ContainerFiles, EngineFacts, HostFacts
from blinkcheck.docker.gather import DockerFacts, _why
from blinkcheck.docker.probe import DockerProbe
from blinkcheck.logs.scan import NewestBytes
from blinkcheck.model import CouldNotLook
from blinkcheck.packet_objects import docker_inspect_for_packet
from blinkcheck.probe.result import ProbeResult
from blinkcheck.replay import LOG_BYTES, Json, OnTape, Tape, probe_from_json, probe_json, redact_tree
from blinkcheck.run import RunState

ENGINE = "engine"
LISTED = ("Id", "Names", "Image", "State", "Status")  # of `docker ps -a`: labels and command are left out
# of `docker info`: what the beyond checks read
INFO = ("Name", "DockerRootDir", "MemTotal", "HttpProxy", "HttpsProxy", "NoProxy", "OperatingSystem")
HOST = "host (testinfra)"


def _shape(what: str, answer: Any) -> Json:
    if what == "GET /containers/json":
        return [{k: c.get(k) for k in LISTED if k in c} for c in answer]
    if what == "GET /info":
        return {k: answer.get(k) for k in INFO if k in answer}
    return docker_inspect_for_packet(answer)


def _log_key(c: ContainerFacts) -> str:
    return f"GET /containers/{c.id}/logs (the window)"


def _files_key(c: ContainerFacts) -> str:
    return f"GET /containers/{c.id}/archive (resolv.conf, trust store)"


def _files(v: Json) -> ContainerFiles:
    return ContainerFiles(**{**v, "ca_tried": tuple(v.get("ca_tried") or ())})


class RecordingDockerFacts(OnTape, DockerFacts):
    """The live gatherer, keeping what it got on a tape for the packet."""

    @cached_property
    def engine(self) -> EngineFacts:
        return self.tape.taped(ENGINE, lambda: super(RecordingDockerFacts, self).engine, asdict)

    @cached_property
    def host(self) -> HostFacts:
        return self.tape.taped(HOST, lambda: super(RecordingDockerFacts, self).host, asdict)

    def _read_files(self, c: ContainerFacts) -> ContainerFiles:
        return self.tape.taped(_files_key(c), lambda: super(RecordingDockerFacts, self)._read_files(c), asdict)

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return self.tape.taped(what, lambda: super(RecordingDockerFacts, self)._call(what, fn, *args, **kwargs),
                               lambda answer: _shape(what, answer))  # fmt: skip

    def _stream_logs(self, c: ContainerFacts, params: dict[str, Any], feed: Callable[[bytes], None]) -> str:
        if "since" not in params:  # the packet's own fuller read, not a window a check judged
            return super()._stream_logs(c, params, feed)
        kept = NewestBytes(LOG_BYTES)

        def tee(chunk: bytes) -> None:
            kept.feed(chunk)
            feed(chunk)

        from docker.errors import APIError

        try:
            cut = super()._stream_logs(c, params, tee)
        except APIError as exc:  # the engine answered: these logs cannot be read
            self.tape.keep(_log_key(c), {"raised": {"kind": "APIError", "text": str(exc)}})
            raise
        except Exception as exc:
            self.tape.keep(_log_key(c), {"raised": {"kind": "no answer", "text": _why(exc)}})
            raise
        text = kept.text()
        if kept.dropped:
            cut = cut or f"the packet keeps only the newest {LOG_BYTES} bytes of this window"
        self.tape.keep(_log_key(c), {"value": {"text": self.redactor(text), "cut": cut}})
        return cut



class _Offline:
    """Stands for the SDK client in a replay: its methods are only named, never called."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def offline(*args: Any, **kwargs: Any) -> Any:
            raise CouldNotLook(f"not in the packet: a replay does not reach the engine ({name})")

        return offline


def _rebuild(raised: Json) -> BaseException:
    from docker.errors import APIError, NotFound

    from blinkcheck.docker.client import TransportError

    kinds: dict[str, Callable[[str], BaseException]] = {"NotFound": NotFound, "APIError": APIError}
    return kinds.get(str(raised.get("kind")), TransportError)(str(raised.get("text", "")))


class ReplayDockerFacts(OnTape, DockerFacts):
    """The gatherer answering from a packet's tape: the same code above the API boundary, no client below it."""

    @cached_property
    def engine(self) -> EngineFacts:
        return self.tape.replayed(ENGINE, lambda v: EngineFacts(**v))

    @cached_property
    def host(self) -> HostFacts:
        return self.tape.replayed(HOST, lambda v: HostFacts(**v))

    def _read_files(self, c: ContainerFacts) -> ContainerFiles:
        return self.tape.replayed(_files_key(c), _files)

    @property
    def client(self) -> Any:
        if not self.engine.reachable:
            return super().client  # raises CouldNotLook naming the precondition, as the live run did
        return _Offline()

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return self.tape.replayed(what, lambda v: v, _rebuild)

    def _stream_logs(self, c: ContainerFacts, params: dict[str, Any], feed: Callable[[bytes], None]) -> str:
        answer = self.tape.replayed(_log_key(c), lambda v: v, _rebuild)
        feed(str(answer.get("text", "")).encode("utf-8"))
        return str(answer.get("cut", ""))

    def bundle_files(self, redact: Callable[[str], str]) -> dict[str, str]:
        return {}


class RecordingDockerProbe(OnTape, DockerProbe):
    """The live probe, its result per runner container kept on the tape (through the whole redactor)."""

    def probe(self, c: ContainerFacts) -> ProbeResult:
        if c.id in self._results:
            return self._results[c.id]
        return self.tape.taped(f"probe {c.id}", lambda: super(RecordingDockerProbe, self).probe(c),
                               lambda r: redact_tree(probe_json(r), self.facts.redactor))  # fmt: skip

    def probe_url(self, c: ContainerFacts, url: str) -> ProbeResult:
        if f"{c.id} {url}" in self._results:
            return self._results[f"{c.id} {url}"]
        return self.tape.taped(f"probe {c.id} {url}", lambda: super(RecordingDockerProbe, self).probe_url(c, url),
                               lambda r: redact_tree(probe_json(r), self.facts.redactor))  # fmt: skip


class ReplayDockerProbe(OnTape, DockerProbe):
    """The probe's recorded result: a replay probes nothing."""

    def probe(self, c: ContainerFacts) -> ProbeResult:
        if c.id not in self._results:
            self._results[c.id] = self.tape.replayed(f"probe {c.id}", probe_from_json)
        return self._results[c.id]

    def probe_url(self, c: ContainerFacts, url: str) -> ProbeResult:
        key = f"{c.id} {url}"
        if key not in self._results:
            self._results[key] = self.tape.replayed(f"probe {key}", probe_from_json)
        return self._results[key]


def docker_gatherer(state: RunState) -> DockerFacts:
    """The session's Docker gatherer: answering from the packet being replayed, keeping a tape when this run writes
    a packet, else the plain live one."""
    args = (state.spec, state.redactor, state.catalog)
    if state.replay is not None:
        return ReplayDockerFacts(*args, tape=state.replay.tape("docker"))
    if state.spec.bundle != "off":
        tape = Tape("docker", redactor=state.redactor)
        state.bundle_sources.append(tape)  # facts/docker.json in the packet
        return RecordingDockerFacts(*args, tape=tape)
    return DockerFacts(*args)


def docker_prober(facts: DockerFacts) -> DockerProbe:
    if isinstance(facts, ReplayDockerFacts):
        return ReplayDockerProbe(facts, tape=facts.tape)
    if isinstance(facts, RecordingDockerFacts):
        return RecordingDockerProbe(facts, tape=facts.tape)
    return DockerProbe(facts)
