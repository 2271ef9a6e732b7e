"""The Docker egress probe: from where the runner sits, with nothing pulled.

Which way, for each running runner container:

1. The suite on the engine's own host (a local unix socket), as root or with CAP_SYS_ADMIN: the
   suite itself enters the container's network namespace (blinkcheck/docker/netns_probe.py). Nothing is
   created.
2. Otherwise (a remote engine: tcp://, ssh://; or no permission to enter): a short-lived probe
   container in the runner's network namespace, from an image already on that host: --probe-image
   when it is there, else the runner's own image, with the first tool it has (curl, wget, nc).
   Never pulled; labelled blink-check=egress-probe and with this run's id; always removed, and
   whatever this run created (a create answered after its timeout) is found by label and removed
   at the end of the run.
3. Neither possible: the result says why, and how to enable it (`unavailable`, `enable`).
"""

from __future__ import annotations

import shlex
import time
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from blinkcheck.docker import netns_probe
from blinkcheck.docker.facts import ContainerFacts
from blinkcheck.model import CouldNotLook
from blinkcheck.probe.environment import proxy_for
from blinkcheck.probe.result import PROBE_ENV, ProbeResult
from blinkcheck.probe.tools import (
    CERT_PROBLEMS,
    from_tool_output,
    issuer_command,
    options_rejected,
    tool_commands,
    with_issuer,
)

if TYPE_CHECKING:
    from blinkcheck.docker.gather import DockerFacts

PROBE_LABEL = {"blink-check": "egress-probe"}
RUN_LABEL = "blink-check.run"
_TOOL_MISSING = ("executable file not found", "no such file or directory", "not found in $path")


class ToolRun(NamedTuple):
    rc: int | None
    out: str
    err: str
    error: str  # "missing": the image lacks the tool
    exited_at: float = 0.0  # when the tool exited, by the engine host's clock (epoch seconds); 0: not known


def exited_at(finished: Any) -> float:
    """Docker's State.FinishedAt (RFC 3339, nanoseconds) -> epoch seconds; 0.0 when absent or the zero time."""
    try:
        at = datetime.fromisoformat(str(finished)).timestamp()
    except ValueError:
        return 0.0
    return at if at > 0 else 0.0


class DockerProbe:
    def __init__(self, facts: DockerFacts) -> None:
        self.facts = facts
        self.spec = facts.spec
        self.run_id = uuid.uuid4().hex[:12]
        self.created_any = False
        self.create_unanswered_at = 0.0  # when a create went unanswered: it may still happen, late
        self._results: dict[str, ProbeResult] = {}

    # -- one runner container -------------------------------------------------------------

    def probe(self, c: ContainerFacts) -> ProbeResult:
        """Once per container and run (the network-errors check asks too)."""
        if c.id not in self._results:
            self._results[c.id] = self._probe(c, self.spec.blink_url)
        return self._results[c.id]

    def probe_url(self, c: ContainerFacts, url: str) -> ProbeResult:
        """The same probe, to another URL on Blink (its readiness, as the runner would ask it): once per run."""
        key = f"{c.id} {url}"
        if key not in self._results:
            self._results[key] = self._probe(c, url)
        return self._results[key]

    def _probe(self, c: ContainerFacts, url: str) -> ProbeResult:
        try:
            api = self.facts.client
            raw = self.facts._call(f"GET /containers/{c.id}/json", api.inspect_container, c.id)
        except CouldNotLook as exc:
            return ProbeResult(c.label, url, error=exc.reason)
        except Exception as exc:  # NotFound: removed since it was listed
            return ProbeResult(c.label, url, error=f"{c.label} is gone ({type(exc).__name__})")
        env = self._env(raw)
        local = self.spec.docker_host.startswith("unix://")
        why_not = "" if local else f"the engine is remote ({self.spec.docker_host.split('://', 1)[0]}://)"
        pid = int((raw.get("State") or {}).get("Pid") or 0)
        why_not = why_not or netns_probe.may_enter_namespaces() or netns_probe.identity_problem(pid, raw)
        if not why_not:
            dns = tuple((raw.get("HostConfig") or {}).get("Dns") or ())
            result = netns_probe.run_in_netns(pid, c.label, url, env, self.spec.probe_timeout_s, dns)
            if not result.unavailable:
                return result
            why_not = result.unavailable
        result = self._container_probe(c, raw, env, url)
        note = f"not from inside the namespace: {why_not}"
        return replace(result, notes=(note, *result.notes))

    def _env(self, raw: Mapping[str, Any]) -> dict[str, str]:
        """The proxy and trust-store variables of the runner; proxy URLs (credentials) go to the redactor."""
        items = (raw.get("Config") or {}).get("Env") or []
        env = {k: v for k, _, v in (item.partition("=") for item in items) if k in PROBE_ENV}
        for k, v in env.items():
            if "PROXY" in k.upper():
                self.facts.redactor.add(v)
                p = proxy_for("https://x", {"HTTPS_PROXY": v})
                if p is not None:
                    self.facts.redactor.add(p.password)
        return env

    # -- a probe container ---------------------------------------------------------------

    def _image(self, raw: Mapping[str, Any]) -> tuple[str, str, str]:
        """(image to create from, its name as shown, a note): --probe-image when on the host, else the runner's."""
        api = self.facts.client
        own_id = str(raw.get("Image") or "")
        own_name = str((raw.get("Config") or {}).get("Image") or own_id[:19])
        note = ""
        if self.spec.probe_image:
            try:
                api.inspect_image(self.spec.probe_image)
                return self.spec.probe_image, self.spec.probe_image, ""
            except Exception as exc:
                note = f"--probe-image {self.spec.probe_image} is not on the host ({type(exc).__name__}); "
        return own_id, own_name, note + f"using the runner's own image {own_name}"

    def _container_probe(self, c: ContainerFacts, raw: Mapping[str, Any], env: dict[str, str], url: str
                         ) -> ProbeResult:  # fmt: skip
        image, shown_image, note = self._image(raw)
        proxy = proxy_for(url, env)
        deadline = time.monotonic() + self.spec.probe_timeout_s + 3 * max(5.0, self.spec.api_timeout_s)
        method = f"a probe container in the network namespace of {c.label} ({note or 'image ' + shown_image})"
        base = ProbeResult(c.label, url, method=method + "; removed after", notes=(note,) if note else ())
        tried: list[str] = []
        passed_over: dict[str, str] = {}  # tools whose answer would not be about the runner's path: why
        notes = list(base.notes)
        for tool, cmd in tool_commands(url, self.spec.probe_timeout_s, env):
            if tool in tried or tool in passed_over:
                continue
            if time.monotonic() >= deadline:
                return replace(base, error="the probe containers took longer than the probe's deadline")
            shown = self._shown(c, shown_image, env, cmd)
            rc, out, err, error, exited_at = self._run_one(c, image, env, cmd)
            if error == "missing":
                tried.append(tool)
                continue
            if error:
                return replace(base, command=shown, reproduce=shown, tool=tool, error=error)
            if options_rejected(rc, out, err):  # the other form of the same tool (busybox)
                continue
            r = from_tool_output(tool, c.label, url, rc, out, err, command=shown, method=base.method, proxy=proxy)
            if r.unavailable:  # busybox wget around the runner's proxy: not the runner's path
                passed_over[tool] = r.unavailable
                notes.append(f"not judged from {tool}: {r.unavailable}")
                continue
            if tool == "curl" and rc in CERT_PROBLEMS:
                again = issuer_command(cmd)
                r = with_issuer(r, self._run_one(c, image, env, again).err, self._shown(c, shown_image, env, again))
            # The probe container shares the runner's host, so its clock: the engine's own record of when the tool
            # exited, just after Blink's answer, is the runner's clock then (the clock-skew check).
            return replace(r, notes=(*notes, *r.notes), clock_at=r.clock_at or exited_at)
        enable = self.facts.catalog.advise("docker-probe-no-tool", docker_host=self.spec.docker_host)
        why = f"the image {shown_image} has none of curl, wget, nc (tried: {', '.join(tried) or 'none'})"
        if passed_over:
            why = "; ".join(passed_over.values())
        return replace(base, unavailable=why, enable=enable, notes=tuple(notes))

    def _shown(self, c: ContainerFacts, image: str, env: Mapping[str, str], cmd: list[str]) -> str:
        flags = [arg for k in sorted(env) for arg in ("-e", k)]  # names only: values come from the runner's own
        mounts = ["--volumes-from", f"{c.short_id}:ro"] if self._needs_mounts(env) else []
        return shlex.join(["docker", "run", "--rm", "--network", f"container:{c.short_id}", *mounts, *flags,
                           "--entrypoint", cmd[0], image, *cmd[1:]])  # fmt: skip

    @staticmethod
    def _needs_mounts(env: Mapping[str, str]) -> bool:
        return bool(env.get("SSL_CERT_FILE") or env.get("SSL_CERT_DIR"))

    def _run_one(self, c: ContainerFacts, image: str, env: dict[str, str], cmd: list[str]) -> ToolRun:
        """The tool run once in a probe container; error "missing" when the image lacks the tool."""
        api = self.facts.client
        from docker.errors import APIError

        timeout = self.spec.probe_timeout_s
        container_id = None
        self.created_any = True
        try:
            host_config = api.create_host_config(
                network_mode=f"container:{c.id}",
                volumes_from=[f"{c.id}:ro"] if self._needs_mounts(env) else None,
            )
            created = api.create_container(
                image, entrypoint=[cmd[0]], command=cmd[1:], environment=env, host_config=host_config,
                labels={**PROBE_LABEL, RUN_LABEL: self.run_id},
            )  # fmt: skip
            container_id = created["Id"]
            try:
                api.start(container_id)
            except APIError as exc:
                if any(m in str(exc).lower() for m in _TOOL_MISSING):
                    return ToolRun(None, "", "", "missing")
                raise
            status = api.wait(container_id, timeout=timeout + 10)
            out = api.logs(container_id, stdout=True, stderr=False).decode("utf-8", "replace")
            err = api.logs(container_id, stdout=False, stderr=True).decode("utf-8", "replace")
            state = (api.inspect_container(container_id) or {}).get("State") or {}
            return ToolRun(int(status.get("StatusCode", -1)), out, err, "", exited_at(state.get("FinishedAt")))
        except Exception as exc:
            from blinkcheck.docker.gather import _why

            if container_id is None:  # a create that timed out may still happen: look for it by label
                self.create_unanswered_at = time.monotonic()
                self.remove_leftovers()
            return ToolRun(None, "", "", f"the probe container failed to run: {_why(exc)}")
        finally:
            if container_id:
                try:
                    api.remove_container(container_id, force=True)
                except Exception:
                    pass  # the end of the run removes leftovers by label

    # -- the end of the run ----------------------------------------------------------------

    def remove_leftovers(self, final: bool = False) -> list[str]:
        """Remove every container this run created that still exists. At the end of the run, after a create
        that went unanswered, keep looking for a while (twice --api-timeout): the engine may still make it."""
        if not self.created_any or not self.facts.engine.reachable:
            return []
        api = self.facts.client
        removed: list[str] = []
        until = self.create_unanswered_at + 2 * self.spec.api_timeout_s if final and self.create_unanswered_at else 0
        while True:
            try:
                for item in api.containers(all=True, filters={"label": f"{RUN_LABEL}={self.run_id}"}):
                    try:
                        api.remove_container(item["Id"], force=True)
                        removed.append(str(item["Id"])[:12])
                    except Exception:
                        continue
            except Exception:
                pass
            if time.monotonic() >= until:
                return removed
            time.sleep(0.5)
