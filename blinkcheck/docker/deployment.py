"""Deployment docs on Docker: the runner container mounts the Docker socket. Pure."""

from __future__ import annotations

from blinkcheck.docker.facts import DOCKER_SOCKET, ContainerFacts
from blinkcheck.model import Evidence, Finding, Outcome


def judge_socket_mounted(cid: str, c: ContainerFacts) -> Finding:
    values = {"container_id": c.short_id, "container_name": c.name}
    if any(dest == DOCKER_SOCKET for _, dest in c.mounts):
        return Finding(cid, Outcome.PASSED, f"{c.label} mounts {DOCKER_SOCKET}.", c.label, values=values)
    mounts = "\n".join(f"{src} -> {dest}" for src, dest in c.mounts) or "(no mounts)"
    return Finding(
        cid,
        Outcome.FAILED,
        f"{c.label} does not mount {DOCKER_SOCKET}.",
        c.label,
        evidence=(Evidence("Mounts", mounts, source=c.label),),
        values=values,
    )
