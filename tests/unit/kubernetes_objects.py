"""Canned Kubernetes API objects for the unit tests: builders for what the lab cannot produce (exact ages and
restart counts at the edges, image pull errors, OOM kills, evictions, several namespaces, operators of any age).
The lab's own API objects, as recorded, are in tests/data/kubernetes (tests/unit/recorded.py reads them)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from blinkcheck.catalog import load_catalog
from blinkcheck.kubernetes.facts import OperatorFacts
from blinkcheck.kubernetes.parse import (
    deployment_facts,
    pod_facts,
)
from blinkcheck.kubernetes.preconditions import Access
from blinkcheck.logs.scan import LogPatterns, LogWindow, scan_lines

CATALOG = load_catalog()
PATTERNS = LogPatterns.from_catalog(CATALOG)
NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
NS = "blink"


def ts(seconds_ago: float) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def container(
    state: str = "running",
    reason: str = "",
    message: str = "",
    ready: bool = True,
    restarts: int = 0,
    exit_code: int = 0,
    started_ago: float = 3600,
    last_reason: str = "",
    last_exit: int | None = None,
    last_finished_ago: float | None = None,
    name: str = "blink-runner",
) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    if state == "running":
        detail = {"startedAt": ts(started_ago)}
    elif state == "waiting":
        detail = {"reason": reason, "message": message}
    elif state == "terminated":
        detail = {"reason": reason, "exitCode": exit_code, "finishedAt": ts(10)}
    cs: dict[str, Any] = {
        "name": name,
        "image": "blinkops/blink-runner:1.0.994",
        "ready": ready,
        "restartCount": restarts,
        "state": {state: detail},
        "lastState": {},
    }
    if last_reason:
        cs["lastState"] = {
            "terminated": {"reason": last_reason, "exitCode": last_exit, "finishedAt": ts(last_finished_ago or 30)}
        }
    return cs


def pod(
    name: str = "blink-runner-7d9f8-abcde",
    phase: str = "Running",
    containers: list[dict[str, Any]] | None = None,
    conditions: list[dict[str, Any]] | None = None,
    labels: dict[str, str] | None = None,
    age: float = 7200,
    deleting: bool = False,
    reason: str = "",
    no_status: bool = False,
) -> dict[str, Any]:
    cstat = containers if containers is not None else [container()]
    ready = phase == "Running" and all(c.get("ready") for c in cstat) and bool(cstat)
    conds = conditions if conditions is not None else [{"type": "Ready", "status": "True" if ready else "False"}]
    meta: dict[str, Any] = {
        "name": name,
        "namespace": NS,
        "creationTimestamp": ts(age),
        "labels": labels or {"app": "blink-runner", "release": "blink-runner"},
        "ownerReferences": [{"kind": "ReplicaSet", "name": name.rsplit("-", 1)[0]}],
    }
    if deleting:
        meta["deletionTimestamp"] = ts(1)
    status: dict[str, Any] = {"phase": phase, "conditions": conds}
    if not no_status:
        status["containerStatuses"] = cstat
    if reason:
        status["reason"] = reason
        status["message"] = "The node was low on resource: memory."
    return {
        "metadata": meta,
        "spec": {"nodeName": "node0", "containers": [{"name": c["name"]} for c in cstat] or [{"name": "blink-runner"}]},
        "status": status,
    }


def deployment(
    name: str = "blink-runner",
    replicas: int = 1,
    ready: int = 1,
    age: float = 7200,
    labels: dict[str, str] | None = None,
    selector: dict[str, str] | None = None,
    secret: tuple[str, str] | None = ("blink-runner-secret", "appKey"),
    conditions: list[dict[str, Any]] | None = None,
    image: str = "blinkops/blink-runner:1.0.994",
) -> dict[str, Any]:
    env = (
        [{"name": "BLINK_RUNNER_GROUP_API_KEY", "valueFrom": {"secretKeyRef": {"name": secret[0], "key": secret[1]}}}]
        if secret
        else []
    )
    return {
        "metadata": {"name": name, "namespace": NS, "creationTimestamp": ts(age), "labels": labels or {}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector or {"app": "blink-runner", "release": "blink-runner"}},
            "template": {"spec": {"containers": [{"name": name, "image": image, "env": env}]}},
        },
        "status": {
            "readyReplicas": ready,
            "availableReplicas": ready,
            "updatedReplicas": replicas,
            "conditions": conditions or [],
        },
    }


def operator(
    ready: bool = True,
    age: float = 60,
    state: str = "running",
    reason: str = "",
    restarts: int = 0,
    with_pod: bool = True,
    version: str = "1.0.995",
) -> OperatorFacts:
    name = f"blink-operator-{version}"
    d = deployment_facts(
        deployment(
            name,
            ready=1 if ready else 0,
            age=age,
            selector={"app": "blink-operator"},
            labels={"app": "blink-operator", "version": version},
            secret=None,
            image=f"blink-lab/operator:{version}",
        )
    )
    pods = []
    if with_pod:
        c = container(
            state=state, reason=reason, ready=ready, restarts=restarts, started_ago=age, name="blink-operator"
        )
        pods.append(pod_facts(pod(f"{name}-5c7b9-xyz12", containers=[c], labels={"app": "blink-operator"}, age=age)))
    return OperatorFacts(name, NS, d, tuple(pods))


def window(*lines: str, previous: tuple[str, ...] = (), error: str = "") -> LogWindow:
    w = scan_lines(lines, PATTERNS, f"pod {NS}/blink-runner-7d9f8-abcde", "last 2000 lines, since 1h", previous)
    return replace(w, error=error)


def remedy(finding) -> str:
    return CATALOG[finding.condition_id].remediation(finding.variant, finding.values)


def access(verb: str, resource: str, allowed: bool | None, needed: tuple[str, ...], optional: bool = False):
    return Access(verb, resource, NS, needed, allowed=allowed, optional=optional)
