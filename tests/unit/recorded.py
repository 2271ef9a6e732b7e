"""The lab's scenarios as recorded API objects (tests/data/, written by `python -m tests.record_lab`), read the way
the suite's gatherers read them, and judged the way checks/ judge them (without the egress probe, which needs a
live target: its judge is tested on tool output in test_probe.py).

    .venv/bin/python -m tests.unit.recorded --write   # after a re-recording or a deliberate change of a judge's
                                                      # words: rewrites each scenario's findings.json (review the diff)

A unit test and a lab test see the same shapes: the same objects, the same log lines, the same volatile fields;
"now" is pinned to the moment of the recording (meta.json `recorded_at`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from blinkcheck.catalog import load_catalog
from blinkcheck.docker import (
    deployment as docker_deployment,
)
from blinkcheck.docker import (
    disconnected as docker_disconnected,
)
from blinkcheck.docker import (
    facts as docker_facts,
)
from blinkcheck.docker import (
    upgrade as docker_upgrade,
)
from blinkcheck.kubernetes import (
    beyond as kubernetes_beyond,
)
from blinkcheck.kubernetes import (
    deployment as kubernetes_deployment,
)
from blinkcheck.kubernetes import (
    disconnected as kubernetes_disconnected,
)
from blinkcheck.kubernetes import (
    facts as kubernetes_facts,
)
from blinkcheck.kubernetes import (
    parse as kubernetes_parse,
)
from blinkcheck.kubernetes import (
    upgrade as kubernetes_upgrade,
)
from blinkcheck.logs.judge import judge_network_errors, upgrade_lines
from blinkcheck.logs.scan import LogPatterns, LogScan, LogWindow
from blinkcheck.model import Finding

DATA = Path(__file__).resolve().parents[1] / "data"
CATALOG = load_catalog()
PATTERNS = LogPatterns.from_catalog(CATALOG)
WINDOW = "last 2000 lines, since 1h"
RUNNER = "blink-runner"
ROLLBACK_S = 300.0


def scenarios(platform: str) -> list[str]:
    where = DATA / platform
    return sorted(p.name for p in where.iterdir() if (p / "meta.json").exists()) if where.is_dir() else []


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _scan(raw: bytes, previous: bytes | None = None) -> LogScan:
    """The gatherers' scan: the engine's timestamped lines, the previous container's first (Kubernetes)."""
    scan = LogScan(PATTERNS, stamped=True)
    if previous is not None:
        scan.feed(previous)
        scan.start_current()
    scan.feed(raw)
    return scan


# ------------------------------------------------------------------ Docker


def recorded_at(meta: dict[str, Any]) -> datetime:
    """"now" of a recording: the moment it was made (meta.json), so ages are judged as they were then."""
    parsed = kubernetes_facts.parse_time(meta["recorded_at"])
    assert parsed is not None
    return parsed


@dataclass(frozen=True)
class DockerScenario:
    name: str
    meta: dict[str, Any]
    inspects: dict[str, dict[str, Any]]  # container name -> GET /containers/{id}/json
    listed: list[dict[str, Any]]  # GET /containers/json?all=1
    logs: dict[str, bytes] = field(repr=False)
    refused: dict[str, str] = field(default_factory=dict)  # container name -> why the engine would not read its logs

    @property
    def now(self) -> datetime:
        return recorded_at(self.meta)

    @property
    def runners(self) -> list[docker_facts.ContainerFacts]:
        """`docker ps -a | grep blink-runner`, as the gatherer lists them (sorted by name)."""
        found = [docker_facts.container_facts(self.inspects[n]) for n in self.inspects
                 if docker_facts.is_runner([n], self.inspects[n]["Config"]["Image"], RUNNER)]  # fmt: skip
        return sorted(found, key=lambda c: c.name)

    def container(self, name: str) -> docker_facts.ContainerFacts:
        return docker_facts.container_facts(self.inspects[name])

    def window(self, c: docker_facts.ContainerFacts) -> LogWindow:
        if c.name in self.refused:  # as the gatherer answers an engine that refuses (blinkcheck/docker/gather.py)
            return LogWindow(c.label, WINDOW, error=self.refused[c.name])
        return _scan(self.logs[c.name]).window(c.label, WINDOW)


@cache
def docker(name: str) -> DockerScenario:
    d = DATA / "docker" / name
    meta = _json(d / "meta.json")
    inspects = {n: _json(d / f"inspect-{n}.json") for n in meta["containers"]}
    logs = {n: (d / f"logs-{n}.txt").read_bytes() for n in meta["containers"] if (d / f"logs-{n}.txt").exists()}
    refused = {n: (d / f"logs-{n}.error.txt").read_text().strip() for n in meta["containers"]
               if (d / f"logs-{n}.error.txt").exists()}  # fmt: skip
    return DockerScenario(name, meta, inspects, _json(d / "containers.json"), logs, refused)


def docker_findings(s: DockerScenario, blink_url: str = "https://blink.lab.test:18443") -> list[Finding]:
    """checks/docker, condition by condition, on the recording (no engine facts, no probe)."""
    out: list[Finding] = []
    runners = s.runners
    out.append(docker_disconnected.judge_container_exists("docker.disconnected.container-exists", runners, RUNNER, "unix:///var/run/docker.sock"))
    any_running = any(c.status == "running" for c in runners)
    for c in runners:
        window = None if c.status == "running" else s.window(c)
        out.append(docker_disconnected.judge_container_running("docker.disconnected.container-running", c, window, others_running=any_running and c.status != "running"))
    for c in runners:
        out.append(docker_disconnected.judge_logs_readable("docker.disconnected.logs-readable", c, s.window(c)))
    for c in runners:
        values = {"container_id": c.short_id, "container_name": c.name}
        out.append(judge_network_errors("docker.disconnected.no-network-errors", s.window(c), CATALOG, blink_url,
                                        values))  # fmt: skip
    for c in runners:
        w = s.window(c)
        lines = upgrade_lines(w, CATALOG.upgrade_patterns)
        out.append(docker_upgrade.judge_upgrade_indicators("docker.upgrade.indicators", c, w, lines))
        if lines:
            line = lines[-1]
            ref = line.container_id if line.kind == "found_existing" else line.name  # as checks/docker follow it
            new = next((x for want in (ref, line.name) for x in runners if x.id.startswith(want) or x.name == want),
                       None)  # fmt: skip
            out.append(docker_upgrade.judge_new_container("docker.upgrade.new-container-healthy", c, line, new, s.window(new) if new and new.status != "running" else None))
    out += [docker_deployment.judge_socket_mounted("docker.runner.socket-mounted", c) for c in runners]
    return out


# ------------------------------------------------------------------ Kubernetes


@dataclass(frozen=True)
class K8sScenario:
    name: str
    meta: dict[str, Any]
    raw: dict[str, Any]  # pods, deployments, events, hpas, secrets: the API's lists
    logs: dict[str, bytes] = field(repr=False)  # "<pod>" / "<pod>.previous"
    refused: dict[str, str] = field(default_factory=dict)  # pod name -> why the API would not read its log

    @property
    def now(self) -> datetime:
        return recorded_at(self.meta)

    @property
    def namespace(self) -> str:
        return str(self.meta["namespace"])

    def items(self, kind: str) -> list[dict[str, Any]]:
        return list(self.raw[kind].get("items") or [])

    @property
    def pods(self) -> list[kubernetes_facts.PodFacts]:
        return sorted((kubernetes_parse.pod_facts(p) for p in self.items("pods")), key=lambda p: (p.namespace, p.name))

    @property
    def deployments(self) -> list[kubernetes_facts.DeploymentFacts]:
        return [kubernetes_parse.deployment_facts(d) for d in self.items("deployments")]

    @property
    def hpas(self) -> list[kubernetes_facts.HpaFacts]:
        return [kubernetes_parse.hpa_facts(h) for h in self.items("hpas")]

    @property
    def deployment(self) -> kubernetes_facts.DeploymentFacts | None:
        return next((d for d in self.deployments if d.name == RUNNER), None)

    @property
    def selector(self) -> tuple[tuple[str, str], ...]:
        d = self.deployment
        return d.selector if d and d.selector else (("app", RUNNER),)

    @property
    def runner_pods(self) -> list[kubernetes_facts.PodFacts]:
        return [p for p in self.pods if kubernetes_parse.selects(self.selector, p.labels) and not p.name.startswith(kubernetes_facts.OPERATOR_PREFIX)]

    @property
    def hpa(self) -> kubernetes_facts.HpaFacts | None:
        d = self.deployment
        return next((h for h in self.hpas if d and h.targets(d)), None)

    @property
    def operators(self) -> list[kubernetes_facts.OperatorFacts]:
        return kubernetes_parse.group_operators(self.deployments, self.pods)

    def events(self, name: str) -> list[kubernetes_facts.EventFacts]:
        """`kubectl describe`'s events of one object (the gatherer asks with involvedObject.name=<name>)."""
        return [kubernetes_parse.event_facts(e) for e in self.items("events") if (e.get("involvedObject") or {}).get("name") == name]

    def secret(self, name: str) -> kubernetes_facts.SecretFacts:
        raw = next((s for s in self.items("secrets") if s["metadata"]["name"] == name), None)
        if raw is None:
            return kubernetes_facts.SecretFacts(self.namespace, name, False)
        data = raw.get("data") or {}
        return kubernetes_facts.SecretFacts(self.namespace, name, True, tuple(sorted(data)), tuple(sorted(k for k, v in data.items() if not v)))

    def window(self, p: kubernetes_facts.PodFacts) -> LogWindow:
        previous = self.logs.get(f"{p.name}.previous")
        restarted = any(c.restart_count > 0 for c in p.containers)
        window = _scan(self.logs.get(p.name, b""), previous if restarted else None).window(p.label, WINDOW)
        if p.name in self.refused:  # as the gatherer answers a log read the API refuses (blinkcheck/kubernetes/gather.py)
            return replace(window, error=self.refused[p.name])
        return window


@cache
def kubernetes(name: str) -> K8sScenario:
    d = DATA / "kubernetes" / name
    raw = {k: _json(d / f"{k}.json") for k in ("pods", "deployments", "events", "hpas", "secrets")}
    # Recorded since the checks past the runbook (older recordings have none: nothing of the kind, nodes not looked at)
    raw |= {k: _json(d / f"{k}.json") if (d / f"{k}.json").exists() else {"items": []}
            for k in ("networkpolicies", "resourcequotas", "limitranges", "nodes")}
    logs = {p.name.removesuffix(".log"): p.read_bytes() for p in sorted((d / "logs").glob("*.log"))}
    refused = {p.name.removesuffix(".error.txt"): p.read_text().strip() for p in sorted((d / "logs").glob("*.error.txt"))}
    return K8sScenario(name, _json(d / "meta.json"), raw, logs, refused)


def k8s_findings(s: K8sScenario, blink_url: str = "http://10.244.0.1:18080") -> list[Finding]:
    """checks/kubernetes, condition by condition, on the recording (no API or permission facts, no probe, no wait)."""
    out: list[Finding] = []
    ns, now, pods, d = s.namespace, s.now, s.runner_pods, s.deployment
    out.append(kubernetes_disconnected.judge_pods_exist("k8s.disconnected.pods-exist", d, pods, RUNNER, ns, kubernetes_parse.selector_text(s.selector), now, s.hpa))
    for p in pods:
        f = kubernetes_disconnected.judge_pod_ready("k8s.disconnected.pods-ready", p, pods, now)
        out.append(f if f.outcome.value == "passed" else kubernetes_disconnected.judge_pod_ready("k8s.disconnected.pods-ready", p, pods, now, s.events(p.name),
                                                                           s.window(p) if p.has_run else None))
    for p in pods:
        out.append(kubernetes_disconnected.judge_logs_readable("k8s.disconnected.logs-readable", p, s.window(p) if p.has_run else LogWindow(p.label, WINDOW), RUNNER, s.hpa,
                                          len(pods)))  # fmt: skip
    for p in pods:
        if p.has_run:
            out.append(judge_network_errors("k8s.disconnected.no-network-errors", s.window(p), CATALOG, blink_url,
                                            {"pod": p.name, "namespace": p.namespace}))  # fmt: skip
    ops = s.operators
    op_logs = {p.name: s.window(p) for o in ops for p in o.pods if p.has_run}
    out.append(kubernetes_upgrade.judge_operator_state("k8s.upgrade.operator-state", ops, ns, now, ROLLBACK_S, op_logs))
    pattern = CATALOG.upgrade_patterns["operator_handoff"]
    for p in pods:
        if p.has_run:
            w = s.window(p)
            out.append(kubernetes_upgrade.judge_operator_handoff("k8s.upgrade.operator-handoff", p, w, kubernetes_upgrade.find_handoff(w, pattern), ops, RUNNER))
    out += [kubernetes_upgrade.judge_rollback("k8s.upgrade.rollback-overdue", o, now, ROLLBACK_S, RUNNER) for o in ops]
    for name, key in kubernetes_deployment.secret_refs_to_check(d):
        out.append(kubernetes_deployment.judge_secret("k8s.runner.secret-present", s.secret(name), key, d))
    out += k8s_beyond_findings(s, blink_url)
    return out


def k8s_beyond_findings(s: K8sScenario, blink_url: str) -> list[Finding]:
    """checks/kubernetes/test_beyond.py on the recording (nodes only when the recording has them)."""
    out: list[Finding] = []
    pods, url = s.runner_pods, urlsplit(blink_url)
    policies = [kubernetes_parse.network_policy_facts(x) for x in s.items("networkpolicies")]
    port = url.port or (80 if url.scheme == "http" else 443)
    out += [kubernetes_beyond.judge_network_policy("k8s.beyond.network-policy", p, policies, url.hostname or "", port)
            for p in pods]  # fmt: skip
    nodes = {n.name: n for n in (kubernetes_parse.node_facts(x) for x in s.items("nodes"))}
    for name in sorted({p.node for p in pods if p.node and p.phase not in ("Failed", "Succeeded")} & nodes.keys()):
        on_it = [p for p in pods if p.node == name and p.phase not in ("Failed", "Succeeded")]
        out.append(kubernetes_beyond.judge_node("k8s.beyond.node-pressure", nodes[name], on_it, RUNNER))
    out += kubernetes_beyond.judge_evictions("k8s.beyond.evicted-pods", pods, s.namespace)
    deployments = [x for x in [s.deployment, *(o.deployment for o in s.operators)] if x]
    out.append(kubernetes_beyond.judge_quota(
        "k8s.beyond.quota-blocks-upgrade", s.namespace, [kubernetes_parse.quota_facts(x) for x in s.items("resourcequotas")],
        [y for x in s.items("limitranges") for y in kubernetes_parse.limit_facts(x)], deployments))  # fmt: skip
    return out


# ------------------------------------------------------------------ the expected findings, as files


def as_data(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    return [
        {"id": f.condition_id, "outcome": str(f.outcome), "object": f.object, "summary": f.summary,
         "values": dict(f.values), "evidence": [[e.title, e.source, e.text] for e in f.evidence],
         "hints": list(f.hints), "because_of": f.because_of, "variant": f.variant,
         "details": json.loads(json.dumps(dict(f.details)))}
        for f in findings
    ]


def findings_of(platform: str, name: str) -> list[Finding]:
    return docker_findings(docker(name)) if platform == "docker" else k8s_findings(kubernetes(name))


def expected_path(platform: str, name: str) -> Path:
    return DATA / platform / name / "findings.json"


def main(argv: list[str]) -> int:
    if argv != ["--write"]:
        print(__doc__)
        return 2
    for platform in ("docker", "kubernetes"):
        for name in scenarios(platform):
            path = expected_path(platform, name)
            path.write_text(json.dumps(as_data(findings_of(platform, name)), indent=1, ensure_ascii=False) + "\n")
            print(f"wrote {path.relative_to(DATA.parent.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
