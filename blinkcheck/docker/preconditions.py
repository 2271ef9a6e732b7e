"""Runbook preconditions on Docker: the engine answers. Pure: facts in, findings out."""

from __future__ import annotations

from blinkcheck.docker.facts import EngineFacts
from blinkcheck.model import Finding, Outcome


def judge_daemon(cid: str, engine: EngineFacts) -> Finding:
    values = {"docker_host": engine.docker_host, "reason": engine.error}
    if engine.reachable:
        return Finding(
            cid,
            Outcome.PASSED,
            f"Docker engine {engine.version} (API {engine.api_version}) answers at {engine.docker_host}.",
            object=engine.docker_host,
            values=values,
        )
    return Finding(
        cid,
        Outcome.NOT_EVALUABLE,
        f"Could not reach the Docker engine at {engine.docker_host}: {engine.error}",
        object=engine.docker_host,
        values=values,
    )
