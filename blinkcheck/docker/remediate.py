"""--remediate on Docker: the runbook's `docker container restart {container_id}`, through the SDK, for a runner
container that is not running (looked at again just before: one that runs now is left alone). Every call is
bounded: the restart by --api-timeout plus the stop grace period, the look afterwards by SETTLE_S."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from blinkcheck.docker.facts import ContainerFacts, container_facts, describe_state, is_runner
from blinkcheck.docker.gather import DockerFacts, _why
from blinkcheck.remediate.perform import DONE, FAILED, SKIPPED
from blinkcheck.remediate.plan import Step

RESTART = "docker-restart-container"  # the catalog's recovery key this performer does
ACTIONS = (RESTART,)
# The Docker Engine API calls --remediate --yes adds to the reads (README: "Read-only by default").
WRITE_CALLS = ("POST /containers/{id}/restart",)
STOP_GRACE_S = 10  # `docker container restart`'s default -t (a container that is not running stops at once)
SETTLE_S = 5.0  # after the restart: it must still run this long to count as restarted
POLL_S = 0.5


class DockerRemedies:
    def __init__(self, facts: DockerFacts, sleep: Callable[[float], None] = time.sleep) -> None:
        self.facts = facts
        self.sleep = sleep

    def refusals(self, steps: Sequence[Step]) -> dict[int, str]:
        """The engine grants all or nothing: whoever may read through its socket may restart (the checks read)."""
        return {i: f"no Docker action '{s.key}'" for i, s in enumerate(steps) if s.key not in ACTIONS}

    def _look(self, ref: str) -> ContainerFacts | None:
        """A fresh inspect (not the run's memo): the state now."""
        from docker.errors import NotFound

        try:
            raw = self.facts.client.inspect_container(ref)
        except NotFound:
            return None
        self.facts._register_secrets(raw)
        return container_facts(raw)

    def perform(self, step: Step) -> tuple[str, str]:
        if step.key != RESTART:
            return FAILED, f"no Docker action '{step.key}'"
        ref = step.values["container_id"]
        c = self._look(ref)
        verdict = restart_verdict(c, self.facts.spec.runner_name)
        if verdict is not None:
            return verdict
        assert c is not None
        before = describe_state(c)
        api: Any = self.facts.client
        try:
            api.restart(c.id, timeout=STOP_GRACE_S)  # POST /containers/{id}/restart: the SDK adds t to its timeout
        except Exception as exc:
            return FAILED, f"the engine refused or did not answer the restart of {c.label}: {_why(exc)}"
        return self._settled(c, before)

    def _settled(self, c: ContainerFacts, before: str) -> tuple[str, str]:
        """Running for SETTLE_S after the restart: restarted; exited again: failed, with its exit code."""
        deadline = time.monotonic() + SETTLE_S
        now = c
        while True:
            now = self._look(c.id) or now
            if now.status not in ("running", "restarting", "created"):
                return FAILED, f"{c.label} was restarted (it was {before}) but is {describe_state(now)} again"
            if time.monotonic() >= deadline:
                break
            self.sleep(POLL_S)
        if now.status != "running":
            return FAILED, f"{c.label} was restarted (it was {before}) but is {describe_state(now)} after {SETTLE_S:g}s"
        return DONE, f"{c.label} restarted (it was {before}); running since {now.started_at}"


def restart_verdict(c: ContainerFacts | None, prefix: str) -> tuple[str, str] | None:
    """The runbook's condition, on the fresh look: only a runner container that is not running is restarted.
    None: go ahead."""
    if c is None:
        return SKIPPED, "the container is gone (removed since the checks looked): nothing to restart"
    if not is_runner((c.name,), c.image, prefix):
        return FAILED, f"{c.label} is not a runner container: the suite restarts only runner containers"
    if c.status == "running":
        return SKIPPED, (f"{c.label} is running now: only a runner container that is not running is restarted; "
                         "left alone")
    return None
