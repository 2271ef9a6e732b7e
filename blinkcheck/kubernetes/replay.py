"""Kubernetes facts taped for the escalation packet, and answered from a packet (blinkcheck.replay).

The tape is kept at the client boundary: every `Kube.json` answer (version, access reviews, lists page by page,
the Secret, events, HPAs) with its Date header, keyed by the call and its arguments; each log window as streamed;
the egress probe's result per pod; the operator wait's outcome (and the last poll's answers); the clock the judges
read (`now()`, in order). Pods and deployments go on the tape by the packet's allow-list (env values, command, args,
annotations withheld); of the Secret only its key names and which are empty, never a value. A replay answers from
the tape with a client that has no connection.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from functools import cached_property
from typing import Any

from blinkcheck.kubernetes.client import ApiError, Kube, KubeTarget
from blinkcheck.kubernetes.facts import OperatorFacts, PodFacts
from blinkcheck.kubernetes.gather import KubernetesFacts
from blinkcheck.kubernetes.probe import KubernetesProbe
from blinkcheck.kubernetes.upgrade import Wait
from blinkcheck.logs.scan import NewestBytes
from blinkcheck.model import CouldNotLook
from blinkcheck.packet_objects import k8s_object_for_packet
from blinkcheck.probe.result import ProbeResult
from blinkcheck.redact import WITHHELD, Redactor
from blinkcheck.replay import LOG_BYTES, Json, OnTape, Tape, probe_from_json, probe_json, redact_tree
from blinkcheck.run import RunState

CLIENT, NOW = "client", "now"
_NOT_KEY = ("timeout_s", "_request_timeout", "_preload_content", "limit")  # a newer suite's page size still matches
_OBJECT_LISTS = ("list_namespaced_pod", "list_namespaced_deployment", "list_deployment_for_all_namespaces",
                 "list_pod_for_all_namespaces")  # fmt: skip
_POLICY_LISTS = ("list_namespaced_network_policy", "list_namespaced_resource_quota", "list_namespaced_limit_range")


def _plain(value: Any) -> Json:
    return value.to_dict() if hasattr(value, "to_dict") else value


def call_key(fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """One API question: the API method and its arguments (not its timeouts, not the gatherer's words for it)."""
    plain = {k: _plain(v) for k, v in kwargs.items() if k not in _NOT_KEY}
    return json.dumps([getattr(fn, "__name__", ""), [_plain(a) for a in args], plain], sort_keys=True, default=str)


def shape(method: str, data: Json, redactor: Redactor) -> Json:
    """What of an answer goes on the tape: objects by the packet's allow-list, the Secret's key names only."""
    if method in _OBJECT_LISTS:
        return {"metadata": {"continue": (data.get("metadata") or {}).get("continue")},
                "items": [k8s_object_for_packet(i) for i in data.get("items") or []]}  # fmt: skip
    if method == "read_namespaced_secret":  # never a value: "*" (too short to be a secret) or "" (empty)
        values = {**(data.get("data") or {}), **(data.get("stringData") or {})}
        return {"data": {k: "*" if v else "" for k, v in values.items()}}
    if method == "create_self_subject_review":
        user = ((data.get("status") or {}).get("userInfo") or {}).get("username")
        return {"status": {"userInfo": {"username": user}}}
    if method == "create_self_subject_access_review":
        status = data.get("status") or {}
        return {"status": {k: status[k] for k in ("allowed", "denied", "reason") if k in status}}
    if method == "read_node":  # what the node-pressure check reads: its name, conditions, whether cordoned
        return {"metadata": {"name": (data.get("metadata") or {}).get("name")},
                "spec": {"unschedulable": (data.get("spec") or {}).get("unschedulable")},
                "status": {"conditions": (data.get("status") or {}).get("conditions")}}  # fmt: skip
    if method in _POLICY_LISTS:  # NetworkPolicies, quotas, LimitRanges: their spec and status, no annotations
        return {"metadata": {"continue": (data.get("metadata") or {}).get("continue")},
                "items": [{"metadata": {k: (i.get("metadata") or {}).get(k) for k in ("name", "namespace")},
                           "spec": i.get("spec"), "status": i.get("status")} for i in data.get("items") or []]}
    if method == "list_namespaced_event":
        return redact_tree(data, redactor)  # free text from the cluster
    return data


class RecordingKube(Kube):
    """The live client, keeping every JSON answer on the tape."""

    def __init__(self, live: Kube, tape: Tape, redactor: Redactor) -> None:
        super().__init__(live.api_client, live.target, live.timeout_s)
        self.tape = tape
        self.redactor = redactor

    def json(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> tuple[dict[str, Any], str]:
        method = getattr(fn, "__name__", "")
        return self.tape.taped(call_key(fn, args, kwargs),
                               lambda: super(RecordingKube, self).json(what, fn, *args, **kwargs),
                               lambda answer: [shape(method, answer[0], self.redactor), answer[1]])  # fmt: skip


class _Named:
    """An API class in a replay: its methods only give their names to the tape's keys."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def offline(*args: Any, **kwargs: Any) -> Any:
            raise CouldNotLook(f"not in the packet: a replay does not reach the API server ({name})")

        offline.__name__ = name
        return offline


def _api_error(raised: Json) -> BaseException:
    return ApiError(str(raised.get("what", "")), int(raised.get("status") or 0), str(raised.get("reason", "")))


class ReplayKube(Kube):
    """A client without a connection: every JSON answer comes from the tape."""

    def __init__(self, target: KubeTarget, timeout_s: float, tape: Tape) -> None:
        super().__init__(None, target, timeout_s)
        self.tape = tape

    def api(self, name: str) -> Any:
        return _Named()

    def call(self, what: str, fn: Any, *args: Any, timeout_s: float | None = None, **kwargs: Any) -> Any:
        raise CouldNotLook(f"not in the packet: a replay does not reach the API server ({what})")

    def json(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> tuple[dict[str, Any], str]:
        data, date = self.tape.replayed(call_key(fn, args, kwargs), lambda v: v, _api_error)
        return data, date

    def close(self) -> None:
        pass


def _log_key(p: PodFacts, container: str, previous: bool) -> str:
    return f"GET pods/{p.namespace}/{p.name}/log container={container} previous={previous} (the window)"


class RecordingKubernetesFacts(OnTape, KubernetesFacts):
    """The live gatherer, keeping what it got on a tape for the packet."""

    @cached_property
    def _client_or_error(self) -> tuple[Kube | None, str]:
        kube, error = super()._client_or_error
        if kube is None:
            self.tape.keep(CLIENT, {"value": {"error": error}})
            return None, error
        self.tape.keep(CLIENT, {"value": {"target": asdict(kube.target), "timeout_s": kube.timeout_s}})
        return RecordingKube(kube, self.tape, self.redactor), ""

    def now(self) -> datetime:
        return self.tape.taped(NOW, super().now, datetime.isoformat)

    def wait_for_operator(self, before: OperatorFacts) -> tuple[OperatorFacts | None, Wait]:
        key = f"wait {before.namespace}/{before.name}"

        def waited() -> tuple[OperatorFacts | None, Wait]:
            with self.tape.scope(key):  # the polls: only the last answers are kept
                return super(RecordingKubernetesFacts, self).wait_for_operator(before)

        return self.tape.taped(key, waited, lambda answer: asdict(answer[1]))

    def _read_log(self, p: PodFacts, container: str, previous: bool, feed: Callable[[bytes], None],
                  tail: int | None = None) -> tuple[str, str]:  # fmt: skip
        if tail:  # the packet's own fuller read (only ever made while recording), not a window a check judged:
            self.require("logs", p.namespace)  # a read the access review denied is not tried for the packet either
            return super()._read_log(p, container, previous, feed, tail)
        kept = NewestBytes(LOG_BYTES)

        def tee(chunk: bytes) -> None:
            kept.feed(chunk)
            feed(chunk)

        def encode(answer: tuple[str, str]) -> Json:
            cut, error = answer
            text = kept.text()
            if kept.dropped:
                cut = cut or f"the packet keeps only the newest {LOG_BYTES} bytes of this window"
            return {"text": self.redactor(text), "cut": cut, "error": error}

        return self.tape.taped(_log_key(p, container, previous),
                               lambda: super(RecordingKubernetesFacts, self)._read_log(p, container, previous, tee),
                               encode)  # fmt: skip



class ReplayKubernetesFacts(OnTape, KubernetesFacts):
    """The gatherer answering from a packet's tape: the same code above the client, no connection below it."""

    @cached_property
    def _client_or_error(self) -> tuple[Kube | None, str]:
        answer = self.tape.replayed(CLIENT, lambda v: v)
        if "error" in answer:
            return None, str(answer["error"])
        return ReplayKube(KubeTarget(**answer["target"]), float(answer["timeout_s"]), self.tape), ""

    def now(self) -> datetime:
        return self.tape.replayed(NOW, datetime.fromisoformat)

    def mask_proxy(self, value: str) -> None:
        if value != WITHHELD:  # a proxy's value is withheld in the packet: nothing to learn, and not a URL
            super().mask_proxy(value)

    def wait_for_operator(self, before: OperatorFacts) -> tuple[OperatorFacts | None, Wait]:
        """The recorded wait, not waited again; after polls, the operator as the last poll saw it."""
        key = f"wait {before.namespace}/{before.name}"
        wait = self.tape.replayed(key, lambda v: Wait(**v))
        if not wait.polls:
            return before, wait
        with self.tape.scope(key):
            current = next((o for o in self.operators_now(before.namespace) if o.name == before.name), None)
        return current, wait

    def _read_log(self, p: PodFacts, container: str, previous: bool, feed: Callable[[bytes], None],
                  tail: int | None = None) -> tuple[str, str]:  # fmt: skip
        answer = self.tape.replayed(_log_key(p, container, previous), lambda v: v)
        feed(str(answer.get("text", "")).encode("utf-8"))
        return str(answer.get("cut", "")), str(answer.get("error", ""))

    def bundle_files(self, redact: Callable[[str], str]) -> dict[str, str]:
        return {}


class RecordingKubernetesProbe(OnTape, KubernetesProbe):
    """The live probe, its result (or why it could not run) per pod kept on the tape."""

    def probe(self, p: PodFacts) -> ProbeResult:
        if (p.namespace, p.name) in self._probes:
            return self._probes[(p.namespace, p.name)]
        return self.tape.taped(f"probe {p.namespace}/{p.name}", lambda: super(RecordingKubernetesProbe, self).probe(p),
                               lambda r: redact_tree(probe_json(r), self.facts.redactor))  # fmt: skip

    def probe_url(self, p: PodFacts, url: str) -> ProbeResult:
        if (p.namespace, p.name, url) in self._probes:
            return self._probes[(p.namespace, p.name, url)]
        return self.tape.taped(f"probe {p.namespace}/{p.name} {url}",
                               lambda: super(RecordingKubernetesProbe, self).probe_url(p, url),
                               lambda r: redact_tree(probe_json(r), self.facts.redactor))  # fmt: skip


class ReplayKubernetesProbe(OnTape, KubernetesProbe):
    """The probe's recorded result: a replay execs nothing."""

    def probe(self, p: PodFacts) -> ProbeResult:
        key = (p.namespace, p.name)
        if key not in self._probes:
            self._probes[key] = self.tape.replayed(f"probe {p.namespace}/{p.name}", probe_from_json)
        return self._probes[key]

    def probe_url(self, p: PodFacts, url: str) -> ProbeResult:
        key = (p.namespace, p.name, url)
        if key not in self._probes:
            self._probes[key] = self.tape.replayed(f"probe {p.namespace}/{p.name} {url}", probe_from_json)
        return self._probes[key]


def kubernetes_gatherer(state: RunState, notify: Callable[[str], None]) -> KubernetesFacts:
    """The session's Kubernetes gatherer: answering from the packet being replayed, keeping a tape when this run
    writes a packet, else the plain live one."""
    args = (state.spec, state.redactor, state.catalog)
    if state.replay is not None:
        return ReplayKubernetesFacts(*args, notify=notify, tape=state.replay.tape("kubernetes"))
    if state.spec.bundle != "off":
        tape = Tape("kubernetes", redactor=state.redactor)
        state.bundle_sources.append(tape)  # facts/kubernetes.json in the packet
        return RecordingKubernetesFacts(*args, notify=notify, tape=tape)
    return KubernetesFacts(*args, notify=notify)


def kubernetes_prober(facts: KubernetesFacts) -> KubernetesProbe:
    if isinstance(facts, ReplayKubernetesFacts):
        return ReplayKubernetesProbe(facts, tape=facts.tape)
    if isinstance(facts, RecordingKubernetesFacts):
        return RecordingKubernetesProbe(facts, tape=facts.tape)
    return KubernetesProbe(facts)
