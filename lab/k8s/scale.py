"""The scale scene: thousands of unrelated pods beside a runner deployment under an HPA, on kwok nodes.

`python3 -m lab.k8s scale up [--pods 5000] [--runners 50] [-n blink-scale]` builds it in its own
namespace (labelled blink-lab.io/scale=true) and returns once everything runs:

- kwok nodes: kwok-node-0 for the runner pods, kwok-node-1.. for the unrelated pods (1,000 each);
- the unrelated pods, created directly with their node set (no scheduler: bare pods, a few apps'
  labels, container `app`), Running through kwok's stages; they have no logs;
- deployment blink-runner (app=blink-runner,release=blink-runner, container blink-runner, the
  Secret blink-runner-secret) scaled from 1 to --runners by an HPA whose minReplicas is --runners
  (the HPA controller scales to minReplicas without any metrics, as the `hpa` scenario does);
- every runner pod's logs (`kubectl logs`, through the API server to kwok's server) come from one
  small file in CRI format (cluster.kwok_runner_log: kwok's ClusterLogs), written here with fresh
  timestamps: a runner that started a quarter of an hour ago and reaches Blink every 5 s;
- except one runner pod (the planted one, printed and kept in scale.json): its log ends in network
  errors (`dial tcp …: i/o timeout`) from a quarter of a minute ago to the end (kwok's Logs for that
  pod; kwok is restarted with it once the pods run).

`python3 -m lab.k8s scale down` deletes every scale namespace (its pods at once, grace period 0),
waits until they are gone, removes the kwok nodes (stops kwok) and the log files. Nothing of the
scene is in the `blink` namespace: the other scenarios see the normal lab.
"""
from __future__ import annotations

import http.client
import json
import math
import ssl
import threading
import time
import urllib.error
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .cluster import Api, LabError, Procs, is_up, kwok_config, kwok_runner_log, log, set_kwok_nodes, start_kwok
from .settings import Settings

NAMESPACE = "blink-scale"
LABEL = "blink-lab.io/scale"
PODS_PER_NODE = 1000
RUNNER_NODE = "kwok-node-0"
RUNNER_LABELS = {"app": "blink-runner", "release": "blink-runner"}
APPS = 20  # the unrelated pods carry app=other-0..19
LOG_LINES = 200
LOG_EVERY_S = 5
SCENE_KEY = "lab-scale-app-key-not-a-secret"  # the lab Secret's appKey (a lab value, known to the tests)
TOLERATION = {"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}
CREATORS = 8  # pods created at the same time
ERRORS = 4  # the planted pod's newest lines: network errors, to the end
PLANTED_ERROR = "dial tcp 10.244.0.1:18080: i/o timeout"


class _Conn:
    """One keep-alive HTTPS connection per thread to the API server (admin): creating thousands of pods
    over new connections would cost a TLS handshake each."""

    def __init__(self, s: Settings):
        self.s = s
        self.ctx = ssl.create_default_context(cafile=str(s.pki / "ca.crt"))
        self.ctx.load_cert_chain(str(s.pki / "admin.crt"), str(s.pki / "admin.key"))
        self.local = threading.local()

    def request(self, method: str, path: str, body: object = None, timeout: float = 30) -> tuple[int, dict]:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPSConnection("127.0.0.1", self.s.apiserver_port, context=self.ctx,
                                                                 timeout=timeout)
        data = json.dumps(body).encode() if body is not None else None
        try:
            conn.request(method, path, body=data, headers={"Content-Type": "application/json",
                                                            "Accept": "application/json"})
            resp = conn.getresponse()
            payload = resp.read()
        except (OSError, http.client.HTTPException):
            self.local.conn = None
            conn.close()
            raise
        return resp.status, json.loads(payload or b"{}")


def runner_log_text(now: datetime, errors: int = 0, version: str = "1.0.994",
                    url: str = "http://blink.lab.test") -> str:
    """The runner's log in the CRI format kwok serves (`<RFC3339Nano> stdout F <line>`), newest line at `now`;
    `errors`: the newest lines are that many network errors reaching Blink (the planted pod)."""
    start = now - timedelta(seconds=LOG_EVERY_S * LOG_LINES)

    def line(at: datetime, level: str, msg: str) -> str:
        stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return f'{stamp} stdout F time="{stamp}" level={level} msg="{msg}"'

    lines = [line(start, "info", f"Starting blink-runner version {version} (mode kubernetes)")]
    for i in range(1, LOG_LINES + 1):
        at = start + timedelta(seconds=LOG_EVERY_S * i)
        if i > LOG_LINES - errors:
            lines.append(line(at, "error", f"failed to reach Blink: Get {url}/api/v1/runner/ping: {PLANTED_ERROR}"))
        else:
            lines.append(line(at, "info", f"Connected to Blink controller at {url}"))
    return "\n".join(lines) + "\n"


def planted_log(s: Settings) -> Path:
    return kwok_runner_log(s).with_name("planted.log")


def _other_pod(i: int, node: str) -> dict:
    app = f"other-{i % APPS}"
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": f"{app}-{i:05d}", "labels": {"app": app, LABEL: "true"}},
        "spec": {"nodeName": node, "tolerations": [TOLERATION], "terminationGracePeriodSeconds": 0,
                 "containers": [{"name": "app", "image": "blink-lab/unrelated:1", "imagePullPolicy": "Never"}]},
    }


def _runner_objects(runners: int) -> list[tuple[str, dict]]:
    labels = {**RUNNER_LABELS, LABEL: "true"}
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "blink-runner-secret", "labels": labels},
              "stringData": {"appKey": SCENE_KEY}}
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "blink-runner", "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": RUNNER_LABELS},
            "template": {
                "metadata": {"labels": RUNNER_LABELS},
                "spec": {
                    "nodeSelector": {"type": "kwok", "kubernetes.io/hostname": RUNNER_NODE},
                    "tolerations": [TOLERATION],
                    "terminationGracePeriodSeconds": 0,
                    "containers": [{
                        "name": "blink-runner", "image": "blinkops/blink-runner:1.0.994", "imagePullPolicy": "Never",
                        "env": [
                            {"name": "BLINK_RUNNER_GROUP_API_KEY",
                             "valueFrom": {"secretKeyRef": {"name": "blink-runner-secret", "key": "appKey"}}},
                            {"name": "RUNNER_MODE", "value": "kubernetes"},
                        ],
                    }],
                },
            },
        },
    }
    hpa = {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "blink-runner", "labels": labels},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "blink-runner"},
                 "minReplicas": runners, "maxReplicas": runners + 10,
                 "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                     "type": "Utilization", "averageUtilization": 80}}}]},
    }
    return [("/api/v1/namespaces/{ns}/secrets", secret), ("/apis/apps/v1/namespaces/{ns}/deployments", deployment),
            ("/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers", hpa)]


def _ensure_kwok(s: Settings, nodes: int) -> None:
    """kwok with the lab's current configuration (ClusterLogs, debugging handlers) and exactly `nodes` nodes."""
    current = s.state / "kwok.yaml"
    if Procs(s).pid("kwok") and (not current.is_file() or current.read_text() != kwok_config(s)):
        log("kwok runs with an older configuration: restarting it")
        set_kwok_nodes(s, 0)
    set_kwok_nodes(s, nodes)


def _wait(what: str, done: Callable[[], bool | str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        state = done()
        if state is True:
            return
        last = str(state)
        if time.monotonic() > deadline:
            raise LabError(f"scale scene: {what} not reached within {timeout:g}s ({last})")
        time.sleep(1)


def up(s: Settings, pods: int = 5000, runners: int = 50, namespace: str = NAMESPACE, timeout: float = 300) -> str:
    if not is_up(s):
        raise LabError("the lab cluster is not up: run `python3 -m lab.k8s up` first")
    if not 1 <= runners <= 100:
        raise LabError("--runners: 1 to 100 (they share one kwok node of 110 pods)")
    t0 = time.monotonic()
    times: dict[str, float] = {}
    api, conn = Api(s), _Conn(s)
    try:
        api.get(f"/api/v1/namespaces/{namespace}")
        log(f"namespace {namespace} exists: removing the previous scene first")
        down(s, namespace)
    except urllib.error.HTTPError as e:
        if e.code != 404:
            raise
    nodes = 1 + math.ceil(pods / PODS_PER_NODE)
    _ensure_kwok(s, nodes)
    times["kwok nodes"] = time.monotonic() - t0
    path = kwok_runner_log(s)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(runner_log_text(datetime.now(UTC)))
    api.request("POST", "/api/v1/namespaces", {"metadata": {"name": namespace, "labels": {LABEL: "true"}}})

    t = time.monotonic()

    def create(i: int) -> int:
        status, body = conn.request("POST", f"/api/v1/namespaces/{namespace}/pods",
                                    _other_pod(i, f"kwok-node-{1 + i // PODS_PER_NODE}"))
        if status not in (201, 409):
            raise LabError(f"creating pod {i}: HTTP {status}: {body.get('message', '')}")
        return status

    with ThreadPoolExecutor(CREATORS) as ex:
        list(ex.map(create, range(pods)))
    times[f"{pods} pods created"] = time.monotonic() - t
    for url, obj in _runner_objects(runners):
        status, body = conn.request("POST", url.format(ns=namespace), obj)
        if status != 201:
            raise LabError(f"creating {obj['kind']}: HTTP {status}: {body.get('message', '')}")

    q = urllib.parse.urlencode
    t = time.monotonic()

    def all_running() -> bool | str:
        status, body = conn.request("GET", f"/api/v1/namespaces/{namespace}/pods?"
                                    + q({"fieldSelector": "status.phase!=Running", "limit": 1}))
        left = len(body.get("items") or []) + int((body.get("metadata") or {}).get("remainingItemCount") or 0)
        return True if status == 200 and left == 0 and not body["metadata"].get("continue") else f"{left}+ not Running"

    def runners_ready() -> bool | str:
        _, body = conn.request("GET", f"/api/v1/namespaces/{namespace}/pods?"
                                    + q({"labelSelector": "app=blink-runner,release=blink-runner"}))
        ready = [p for p in body.get("items") or [] if any(
            c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions") or [])]
        return True if len(ready) == runners else f"{len(ready)}/{runners} runner pods Ready"

    _wait(f"{runners} runner pods Ready", runners_ready, timeout)
    _wait(f"all {pods + runners} pods Running", all_running, timeout)
    times["all Running"] = time.monotonic() - t
    t = time.monotonic()
    planted = _plant(s, conn, namespace, nodes)
    times["error planted"] = time.monotonic() - t
    total = time.monotonic() - t0
    spent = ", ".join(f"{k} {v:.1f}s" for k, v in times.items())
    summary = (f"scale scene in {namespace}: {pods} unrelated pods + deployment blink-runner scaled to {runners} by "
               f"its HPA, on {nodes} kwok nodes; built in {total:.1f}s ({spent}); runner logs: {path}; network "
               f"errors planted in pod {planted}")
    (s.state / "scale.json").write_text(json.dumps({"namespace": namespace, "pods": pods, "runners": runners,
                                                    "nodes": nodes, "planted": planted, "build_s": round(total, 1),
                                                    "phases_s": {k: round(v, 1) for k, v in times.items()}}))
    return summary


def _plant(s: Settings, conn: _Conn, namespace: str, nodes: int) -> str:
    """One runner pod (the first by name) logs network errors to the end: kwok restarted with a Logs for it."""
    q = urllib.parse.urlencode({"labelSelector": ",".join(f"{k}={v}" for k, v in RUNNER_LABELS.items())})
    _, body = conn.request("GET", f"/api/v1/namespaces/{namespace}/pods?{q}")
    pod = sorted(p["metadata"]["name"] for p in body.get("items") or [])[0]
    planted_log(s).write_text(runner_log_text(datetime.now(UTC), errors=ERRORS))
    procs = Procs(s)
    procs.stop("kwok", 5)
    start_kwok(s, procs, nodes, kwok_config(s, [(namespace, pod, planted_log(s))]))
    return pod


def down(s: Settings, namespace: str | None = None, timeout: float = 180) -> str:
    """Every scale namespace (or the one given) deleted, its pods at once; kwok nodes removed. Idempotent."""
    if not is_up(s):
        raise LabError("the lab cluster is not up")
    t0 = time.monotonic()
    api = Api(s)
    if namespace:
        names = [namespace]
    else:
        sel = urllib.parse.urlencode({"labelSelector": f"{LABEL}=true"})
        names = [n["metadata"]["name"] for n in api.get(f"/api/v1/namespaces?{sel}")["items"]]
    conn = _Conn(s)
    for ns in names:
        # terminating first (no new pods), then its pods without a grace period, a collection per app label
        # at the same time (the API server deletes one collection's objects one by one)
        conn.request("DELETE", f"/api/v1/namespaces/{ns}")
        sels = [f"app={app}" for app in [*(f"other-{i}" for i in range(APPS)), RUNNER_LABELS["app"]]]
        sels.append(f"{LABEL}!=true,app!=blink-runner")  # anything else

        def purge(sel: str, ns: str = ns) -> None:
            query = urllib.parse.urlencode({"gracePeriodSeconds": 0, "labelSelector": sel})
            status, body = conn.request("DELETE", f"/api/v1/namespaces/{ns}/pods?{query}", timeout=120)
            if status not in (200, 404):
                raise LabError(f"deleting the pods of {ns} ({sel}): HTTP {status}: {body.get('message', '')}")

        with ThreadPoolExecutor(CREATORS) as ex:
            list(ex.map(purge, sels))
    for ns in names:
        def gone(ns: str = ns) -> bool | str:
            try:
                api.get(f"/api/v1/namespaces/{ns}")
                return f"namespace {ns} still there"
            except urllib.error.HTTPError as e:
                if e.code == 404:
                    return True
                raise
        _wait(f"namespace {ns} gone", gone, timeout)
    set_kwok_nodes(s, 0)
    kwok_runner_log(s).unlink(missing_ok=True)
    planted_log(s).unlink(missing_ok=True)
    (s.state / "scale.json").unlink(missing_ok=True)
    return f"scale scene removed ({', '.join(names) or 'no namespace'}; kwok nodes 0) in {time.monotonic() - t0:.1f}s"
