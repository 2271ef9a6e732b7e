"""The Kubernetes egress probe: an exec into a Ready runner pod (curl, else wget, else busybox nc), with the
runner container's proxy and trust-store variables from its pod spec; bounded by --probe-timeout. Needs
`create pods/exec` (rbac/role-probe-exec.yaml); without it, --probe auto skips and --probe on is not-evaluable.
The judging of what the tool said is shared with Docker (blinkcheck.probe)."""

from __future__ import annotations

import json
import shlex
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from blinkcheck.catalog import KUBERNETES_PERMISSIONS
from blinkcheck.kubernetes.client import ApiError
from blinkcheck.kubernetes.facts import PodFacts
from blinkcheck.kubernetes.gather import KubernetesFacts
from blinkcheck.kubernetes.preconditions import Access, subject_flag
from blinkcheck.kubernetes.reads import READ
from blinkcheck.model import CouldNotLook, human
from blinkcheck.probe.clock import DATE_COMMAND, runner_clock
from blinkcheck.probe.environment import proxy_for
from blinkcheck.probe.result import ProbeResult
from blinkcheck.probe.tools import (
    CERT_PROBLEMS,
    from_tool_output,
    issuer_command,
    options_rejected,
    tool_commands,
    with_issuer,
)


class KubernetesProbe:
    """The egress probe from inside the runner pods; one answer per pod and run."""

    def __init__(self, facts: KubernetesFacts) -> None:
        self.facts = facts
        self._probes: dict[tuple[str, ...], ProbeResult] = {}

    def probe(self, p: PodFacts) -> ProbeResult:
        """curl, else wget, else busybox nc, exec'd in the runner container; bounded by --probe-timeout.
        --probe on: no exec permission is not-evaluable (k8s.cluster.permissions); auto: the probe cannot run."""
        return self._once((p.namespace, p.name), p, self.facts.spec.blink_url)

    def probe_url(self, p: PodFacts, url: str) -> ProbeResult:
        """The same probe, to another URL on Blink (its readiness, as the runner would ask it): once per run."""
        return self._once((p.namespace, p.name, url), p, url)

    def _once(self, key: tuple[str, ...], p: PodFacts, url: str) -> ProbeResult:
        if key not in self._probes:
            if self.facts.spec.probe_strict:
                self.facts.require("exec", p.namespace)
            denied = next((a for a in self.facts.accesses if a.namespace == p.namespace and a.resource == "pods/exec"
                           and a.allowed is False), None)  # fmt: skip
            try:
                self._probes[key] = self._no_exec(p, url) if denied else self._probe(p, url)
            except CouldNotLook as exc:
                if self.facts.spec.probe_strict or exc.because_of != KUBERNETES_PERMISSIONS:
                    raise
                self._probes[key] = self._no_exec(p, url, exc.reason)
        return self._probes[key]

    def _no_exec(self, p: PodFacts, url: str, said: str = "") -> ProbeResult:
        r = READ["exec"]
        access = Access(r.verb, r.resource_text, p.namespace, self.facts.catalog.readers(r.key))
        grant = access.grant(subject_flag(self.facts.subject))
        enable = self.facts.catalog.advise("kubernetes-probe-exec", subject=self.facts.subject, namespace=p.namespace,
                                           grant=grant)  # fmt: skip
        why = f"{self.facts.subject} may not exec into pods in {p.namespace} (create pods/exec is not granted"
        why += f": {said})" if said else ")"
        return ProbeResult(p.label, url, unavailable=why, enable=enable)

    def _probe(self, p: PodFacts, url: str) -> ProbeResult:
        t = max(1, int(self.facts.spec.probe_timeout_s))
        container = self.facts.runner_container(p)
        deadline = time.monotonic() + t + 3 * max(5.0, self.facts.spec.api_timeout_s)
        env, notes = self._probe_env(p, container)
        proxy = proxy_for(url, env)
        missing: list[str] = []
        passed_over: dict[str, str] = {}  # tools whose answer would not be about the runner's path: why
        for tool, cmd in tool_commands(url, t, env):
            if tool in missing or tool in passed_over:
                continue
            shown = shlex.join(["kubectl", "exec", "-n", p.namespace, p.name, "-c", container, "--", *cmd])
            left = deadline - time.monotonic()
            if left <= 1:
                break
            outcome = self._exec(p, container, cmd, min(left, t + 5))
            answered_at = time.monotonic()
            if outcome.not_found:
                missing.append(tool)
                continue
            how = f"kubectl exec into {p.label}, container {container} ({tool})"
            if outcome.error and outcome.rc is None and not outcome.timed_out:
                if outcome.status == 403:
                    raise self.facts._could_not_look(ApiError("exec", 403, outcome.error), "exec", p.namespace)
                return from_tool_output(tool, p.label, url, None, "", "", error=f"exec failed: {outcome.error}",
                                        command=shown, method=how, proxy=proxy)  # fmt: skip
            if options_rejected(outcome.rc, outcome.stdout, outcome.stderr):
                notes.append(f"{tool} did not take `{shown}` (exit code {outcome.rc}): its other form was tried")
                continue
            rc, stderr = outcome.rc, outcome.stderr
            if outcome.timed_out:
                rc, stderr = 28, stderr + f"\n(the probe did not finish within {human(t + 5)}: Connection timed out)"
            r = from_tool_output(tool, p.label, url, rc, outcome.stdout, stderr, command=shown, method=how,
                                 proxy=proxy)  # fmt: skip
            if r.unavailable:  # e.g. busybox wget, which goes around the runner's proxy: ask the next tool
                passed_over[tool] = r.unavailable
                notes.append(f"not judged from {tool}: {r.unavailable}")
                continue
            if tool == "curl" and outcome.rc in CERT_PROBLEMS and deadline - time.monotonic() > 1:
                again = issuer_command(cmd)
                seen = self._exec(p, container, again, min(deadline - time.monotonic(), t + 5))
                command = shlex.join(["kubectl", "exec", "-n", p.namespace, p.name, "-c", container, "--", *again])
                r = with_issuer(r, seen.stderr, command)
            if r.server_date and url == self.facts.spec.blink_url:
                r = self._read_clock(p, container, r, answered_at, deadline)
            return replace(r, notes=(*notes, *r.notes))
        if passed_over:
            enable = self.facts.catalog.advise("kubernetes-probe-proxy-tool", namespace=p.namespace, blink_url=url)
            return ProbeResult(p.label, url, unavailable="; ".join(passed_over.values()), enable=enable,
                               proxy=proxy.shown if proxy else "", notes=tuple(notes))  # fmt: skip
        if len(missing) < 3:
            return ProbeResult(p.label, url, error="the exec probes took longer than the probe's deadline")
        why = f"the runner container {container} has none of curl, wget, nc"
        enable = self.facts.catalog.advise("kubernetes-probe-no-tool", namespace=p.namespace, blink_url=url)
        return ProbeResult(p.label, url, unavailable=why, enable=enable)

    def _read_clock(self, p: PodFacts, container: str, r: ProbeResult, answered_at: float, deadline: float
                    ) -> ProbeResult:  # fmt: skip
        """The runner's clock when Blink answered (k8s.runner.clock-skew): `date -u +%s` exec'd in the same container
        right after the tool's answer (a container's clock is its node's), less the time between the two answers."""
        left = deadline - time.monotonic()
        if left <= 1:
            return replace(r, clock_unread="no time was left within the probe's deadline to read the runner's clock")
        seen = self._exec(p, container, list(DATE_COMMAND), min(left, 10.0))
        read_at = time.monotonic()
        clock_at, why = runner_clock(seen.rc, seen.stdout, seen.stderr, answered_at, read_at, seen.error,
                                     seen.not_found)  # fmt: skip
        how = (f"`{shlex.join(['kubectl', 'exec', '-n', p.namespace, p.name, '-c', container, '--', *DATE_COMMAND])}`"
               f", {read_at - answered_at:.1f}s after the tool's answer (taken off)")  # fmt: skip
        return replace(r, clock_at=clock_at, clock_unread=why, clock_how=how if clock_at else "")

    def _probe_env(self, p: PodFacts, container: str) -> tuple[dict[str, str], list[str]]:
        """The runner container's proxy and trust-store variables from its pod spec (the exec'd tool inherits
        them; curl needs the trust store as an option, nc the proxy as its target), and notes on the ones whose
        value the suite does not know."""
        env: dict[str, str] = {}
        notes: list[str] = []
        for e in p.probe_env:
            if e.container != container:
                continue
            if e.name == "*":
                notes.append(f"the container takes variables from {e.source}: a proxy or trust store set there is "
                             "not known to the suite (curl reads the proxy variables itself; wget and nc may not)")
            elif e.source:
                env.pop(e.name, None)
                notes.append(f"{e.name} comes from {e.source}, not read by the suite: the tool reads it itself or "
                             "not at all")  # fmt: skip
            else:
                env[e.name] = e.value
        for name, value in env.items():
            if "PROXY" in name.upper() and value:
                self.facts.mask_proxy(value)
        return env, notes

    def _exec(self, p: PodFacts, container: str, cmd: list[str], budget: float) -> ExecOutcome:
        """One exec over the websocket, in a thread so that even a hanging connect is bounded."""
        result: list[ExecOutcome] = []
        opened = threading.Event()

        def run() -> None:
            result.append(self._exec_blocking(p, container, cmd, budget, opened))

        th = threading.Thread(target=run, name=f"blink-exec-{p.name}", daemon=True)
        th.start()
        th.join(budget + 2)
        if not result and not opened.is_set():
            # The API server never opened the exec stream: nothing ran, so nothing about egress is known.
            return ExecOutcome(None, "", "", error=f"the exec stream did not open within {human(budget + 2)}")
        if not result:
            return ExecOutcome(None, "", "", error="the exec did not finish", timed_out=True)
        return result[0]

    def _exec_blocking(
        self, p: PodFacts, container: str, cmd: list[str], budget: float, opened: threading.Event
    ) -> ExecOutcome:
        from kubernetes import client
        from kubernetes.stream import stream

        kube = self.facts.client
        core = client.CoreV1Api(kube.api_client)
        kube.count()  # the exec stream does not go through Kube.call
        try:
            ws = stream(
                core.connect_get_namespaced_pod_exec, p.name, p.namespace, container=container or None,
                command=cmd, stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False,
                _request_timeout=kube.request_timeout,
            )  # fmt: skip
        except Exception as exc:
            status = getattr(exc, "status", 0) or (403 if "403" in str(exc) or "Forbidden" in str(exc) else 0)
            return ExecOutcome(None, "", "", error=str(getattr(exc, "reason", exc))[:500], status=int(status))
        opened.set()
        try:
            ws.run_forever(timeout=budget)
            timed_out = ws.is_open()
            stdout = ws.read_channel(1) or ""
            stderr = ws.read_channel(2) or ""
            err = ws.read_channel(3) or ""
        finally:
            ws.close()
        if timed_out:
            return ExecOutcome(None, stdout, stderr, error="timed out", timed_out=True)
        return ExecOutcome.from_status(err, stdout, stderr)


@dataclass(frozen=True)
class ExecOutcome:
    rc: int | None
    stdout: str
    stderr: str
    error: str = ""
    not_found: bool = False
    timed_out: bool = False
    status: int = 0

    @classmethod
    def from_status(cls, err: str, stdout: str, stderr: str) -> ExecOutcome:
        """The exec's status channel: Success, NonZeroExitCode (with ExitCode), or the runtime's failure."""
        try:
            status: dict[str, Any] = json.loads(err) if err.strip() else {"status": "Success"}
        except ValueError:
            status = {"status": "Failure", "message": err}
        if status.get("status") == "Success":
            return cls(0, stdout, stderr)
        causes = (status.get("details") or {}).get("causes") or []
        code = next((c.get("message") for c in causes if c.get("reason") == "ExitCode"), None)
        message = str(status.get("message", ""))
        if code is not None and str(code).isdigit():
            # a shell-less image: exit code 127/126 from the runtime means "no such tool"
            return cls(int(code), stdout, stderr, not_found=int(code) in (126, 127) and not stdout)
        low = message.lower()
        # Only the runtime's "no such executable" means "try the next tool" (not e.g. `pods "x" not found`).
        not_found = "executable file not found" in low or "no such file or directory" in low
        return cls(None, stdout, stderr, error=message[:500], not_found=not_found)
