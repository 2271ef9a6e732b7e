"""A runner pod as Blink's own view of it is judged (blinkcheck.blinkview): its name, IP, the runner's image."""

from __future__ import annotations

from blinkcheck.blinkview import LocalRunner
from blinkcheck.kubernetes.facts import PodFacts


def local_runner(pod: PodFacts, deployment: str) -> LocalRunner:
    """Matched to Blink's runners by pod name (the runner's hostname) or pod IP; its version is the image tag of the
    runner container (the one whose image names blink-runner, else the first)."""
    images = [c.image for c in pod.containers if c.image]
    image = next((i for i in images if "blink-runner" in i), images[0] if images else "")
    values = {"pod": pod.name, "namespace": pod.namespace, "deployment": deployment}
    running = pod.phase == "Running" and not pod.deleting
    return LocalRunner(pod.label, (pod.name,), (pod.ip,) if pod.ip else (), running, image, values)
