"""A runner container as Blink's own view of it is judged (blinkcheck.blinkview): its names, addresses, image."""

from __future__ import annotations

from blinkcheck.blinkview import LocalRunner
from blinkcheck.docker.facts import ContainerFacts


def local_runner(c: ContainerFacts, runner_name: str) -> LocalRunner:
    """Matched to Blink's runners by container name or hostname (what the runner reports), or IP."""
    values = {"container_id": c.short_id, "container_name": c.name, "runner_name": runner_name}
    return LocalRunner(c.label, (c.name, c.hostname), c.ips, c.status == "running", c.image, values)
