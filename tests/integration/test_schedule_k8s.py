"""The in-cluster CronJob (deploy/kubernetes) in the lab cluster: the image built by scripts/build-image.sh and
imported into the lab's containerd, the kustomize base applied through a lab overlay, a Job made from the CronJob
(`kubectl create job --from=cronjob/...`) runs the suite inside a pod with in-cluster config against a planted
broken runner; the Job is failed, its log holds the verdict and the one-line summary, the reports are on the
volume, and the audit log shows only reads by its ServiceAccount.

The lab has no kube-proxy and its API server listens on 127.0.0.1 only, so the `kubernetes` Service address a pod
gets (10.96.0.1) leads nowhere. Standing in for kube-proxy, the test relays the API server (TLS passes through
untouched) to the pod network's gateway, and the lab overlay points the pod's in-cluster config at it
(KUBERNETES_SERVICE_HOST/PORT, which the kubelet sets in a real cluster). Nothing else of the base is changed
but the Blink URL (the lab's stand-in), the reports volume (a hostPath PersistentVolume of the test) and
`suspend: true` (no scheduled run fires during the test)."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy_files import DEPLOY, build_image
from tests.integration.k8s_lab import NS, apply, audit_verbs, kubectl
from tests.webhook import receiver, tcp_server

pytestmark = pytest.mark.k8s_lab

NAME = "blink-health-check"
SA_USER = f"system:serviceaccount:{NS}:{NAME}"
QUESTIONS = {("create", "selfsubjectaccessreviews"), ("create", "selfsubjectreviews")}  # store nothing


@contextmanager
def api_relay(host: str, target: tuple[str, int]) -> Iterator[int]:
    """A TCP relay from host:<free port> to the API server (bytes copied as they are: TLS end to end)."""

    def pump(a: socket.socket, b: socket.socket) -> None:
        with suppress(OSError):
            while data := a.recv(65536):
                b.sendall(data)
        with suppress(OSError):
            b.shutdown(socket.SHUT_WR)

    def relay(client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(target, timeout=10)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        client.settimeout(None)
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()

    with tcp_server(host, relay) as port:
        yield port


def load_image(lab: Any, image: str, tmp_path: Path) -> None:
    """`docker save` into the lab's containerd (namespace k8s.io), as the lab loads its own images. The previous
    build's image is removed first: containerd 1.6 can garbage-collect its snapshots in the middle of an import
    ("parent snapshot ... does not exist"), so a failed import is tried once more."""
    from lab.k8s.images import ctr, import_archive

    archive = tmp_path / "image.tar"
    with open(archive, "wb") as f:
        subprocess.run(["docker", "save", image], stdout=f, check=True, timeout=300)
    ctr(lab, "images", "rm", f"docker.io/library/{image}")
    try:
        import_archive(lab, archive)
    except RuntimeError as exc:
        print(f"retrying the import once: {exc}")
        import_archive(lab, archive)


def overlay(lab: Any, tmp_path: Path, reports: Path, relay_port: int, notify_url: str) -> Path:
    """The lab's kustomize overlay of deploy/kubernetes (see the module's docstring for what it changes)."""
    d = tmp_path / "overlay"
    d.mkdir()
    pv_name = f"{NAME}-reports-lab"
    pv: dict[str, Any] = {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": pv_name, "labels": {"app.kubernetes.io/name": NAME}},
        "spec": {"capacity": {"storage": "256Mi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "",
                 "persistentVolumeReclaimPolicy": "Retain", "hostPath": {"path": str(reports), "type": "Directory"},
                 "claimRef": {"namespace": NS, "name": f"{NAME}-reports"}},
    }  # fmt: skip
    (d / "pv.yaml").write_text(yaml.safe_dump(pv))
    env = [
        {"name": "BLINK_URL", "value": lab.standin_url},
        # Blink's readiness, asked by the suite itself: the stand-in's plain port (the suite's image does not trust
        # the lab's CA, as it trusts a real Blink's public certificate)
        {"name": "BLINK_API_URL", "value": lab.standin_http_url},
        {"name": "KUBERNETES_SERVICE_HOST", "value": lab.gateway},
        {"name": "KUBERNETES_SERVICE_PORT", "value": str(relay_port)},
        {"name": "BLINK_NOTIFY_URL", "value": notify_url},  # a receiver of the test, on the gateway
    ]
    cronjob_patch = [{"op": "add", "path": "/spec/suspend", "value": True}] + [
        {"op": "add", "path": "/spec/jobTemplate/spec/template/spec/containers/0/env/-", "value": e} for e in env
    ]
    pvc_patch = [{"op": "add", "path": "/spec/storageClassName", "value": ""},
                 {"op": "add", "path": "/spec/volumeName", "value": pv_name}]  # fmt: skip
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "resources": [os.path.relpath(DEPLOY / "kubernetes", d), "pv.yaml"],
        "patches": [
            {"target": {"kind": "CronJob", "name": NAME}, "patch": json.dumps(cronjob_patch)},
            {"target": {"kind": "PersistentVolumeClaim", "name": f"{NAME}-reports"}, "patch": json.dumps(pvc_patch)},
        ],
    }  # fmt: skip
    (d / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    return d


def wait_for_job(lab: Any, job: str, timeout_s: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        obj = json.loads(kubectl(lab, "-n", NS, "get", "job", job, "-o", "json"))
        done = [c for c in obj["status"].get("conditions", []) if c["type"] in ("Complete", "Failed")]
        if any(c["status"] == "True" for c in done):
            return obj
        time.sleep(2)
    pods = kubectl(lab, "-n", NS, "get", "pods", "-l", f"job-name={job}", "-o", "wide", check=False)
    raise AssertionError(f"job {job} did not finish within {timeout_s:.0f} s; its pods:\n{pods}")


def remove_everything(lab: Any, overlay_dir: Path) -> None:
    kubectl(lab, "delete", "-k", str(overlay_dir), "--ignore-not-found", "--wait=true", "--timeout=120s", check=False)
    kubectl(lab, "-n", NS, "delete", "jobs", "-l", f"app.kubernetes.io/name={NAME}", "--cascade=foreground",
            "--ignore-not-found", "--wait=true", "--timeout=120s", check=False)  # fmt: skip
    kubectl(lab, "-n", NS, "delete", "pods", "-l", f"app.kubernetes.io/name={NAME}", "--ignore-not-found",
            "--wait=true", "--timeout=60s", check=False)  # fmt: skip


def run_job(lab: Any) -> tuple[dict[str, str], str]:
    """A Job from the CronJob, as `kubectl create job --from=cronjob/...`: its conditions and its pod's log, once it
    finished; the Job is then deleted with its pod (the lab's scenarios need the namespace free of pods)."""
    job = f"{NAME}-lab-{secrets.token_hex(3)}"
    kubectl(lab, "-n", NS, "create", "job", f"--from=cronjob/{NAME}", job)
    try:
        obj = wait_for_job(lab, job)
        log = kubectl(lab, "-n", NS, "logs", f"job/{job}", check=False)
    finally:
        kubectl(lab, "-n", NS, "delete", "job", job, "--cascade=foreground", "--wait=true", "--timeout=120s",
                check=False)  # fmt: skip
    conditions = {c["type"]: c["status"] for c in obj["status"].get("conditions", [])}
    print(f"job {job}: {conditions}; pod log:\n{log}")
    return conditions, log


def test_cronjob_job_fails_on_a_crashlooping_runner_in_cluster_only_reading_then_completes(lab: Any, tmp_path: Path):
    build = build_image()
    print(f"scripts/build-image.sh: {build.wall_s:.1f} s")
    load_image(lab, build.image, tmp_path)
    reports = tmp_path / "reports"
    reports.mkdir()
    os.chown(reports, 10001, 10001)  # the image's user (a hostPath volume gets no fsGroup)
    apply(lab, "crashloop")  # the planted failure: the runner exits 1 at start
    with api_relay(lab.gateway, ("127.0.0.1", lab.apiserver_port)) as port, receiver(host=lab.gateway) as rec:
        d = overlay(lab, tmp_path, reports, port, rec.url)
        try:
            kubectl(lab, "apply", "-k", str(d))
            cronjob = json.loads(kubectl(lab, "-n", NS, "get", "cronjob", NAME, "-o", "json"))
            assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
            started = dt.datetime.now(dt.UTC)
            conditions, log = run_job(lab)
            time.sleep(1)  # the audit backend flushes in batches of at most a second
            verbs = audit_verbs(lab, SA_USER, started)
            results = json.loads((reports / "results.json").read_text())
            html = (reports / "report.html").read_text()
            apply(lab, "healthy")  # the failure fixed
            fixed_conditions, fixed_log = run_job(lab)
        finally:
            remove_everything(lab, d)
    assert conditions.get("Failed") == "True" and conditions.get("Complete") != "True", (conditions, log[-3000:])
    verdict = [line for line in log.splitlines() if line.startswith("blink-checks verdict: Runner Disconnected: ")]
    assert verdict, log[-3000:]
    assert "(exit 1) — report: /reports/report.html" in log, log[-3000:]
    # README's words; skipped: k8s.beyond.node-pressure (the base grants no nodes: rbac/clusterrole-nodes.yaml) and
    # Blink's view beyond its readiness (no user's API key); blocked behind the failing pod: its probe and clock check
    assert "blink-checks: 14 passed, 1 failed, 1 manual, 2 blocked, 4 skipped (exit 1)" in log, log[-3000:]
    outcome = {c["id"]: c["outcome"] for c in results["checks"]}
    assert outcome["k8s.cluster.api-reachable"] == "passed", outcome
    assert outcome["k8s.cluster.permissions"] == "passed", outcome
    assert outcome["k8s.disconnected.pods-ready"] == "failed", outcome
    assert outcome["k8s.beyond.node-pressure"] == "skipped", outcome
    assert results["exit_code"] == 1 and results["target"]["platforms"] == ["kubernetes"], results["target"]
    assert "in-cluster" in html  # the in-cluster config, not a kubeconfig
    # between two restarts the kubelet shows the pod as Error, in the back-off as CrashLoopBackOff: both are the failure
    assert "CrashLoopBackOff" in html or "Error (container blink-runner exited with code 1)" in html
    assert "History (/reports/history): the first run kept there" in log, log[-3000:]
    # the audit log: the suite's ServiceAccount made requests, and every one was a read (or an access question)
    writes = {v for v in verbs if v[0] not in ("get", "list", "watch")} - QUESTIONS
    assert verbs and not writes, verbs
    # fixed: the Job completes, and the run says what cleared since the last one
    assert fixed_conditions.get("Complete") == "True" and fixed_conditions.get("Failed") != "True", fixed_log[-3000:]
    assert "(exit 0) — report: /reports/report.html" in fixed_log, fixed_log[-3000:]
    assert "cleared: k8s.disconnected.pods-ready" in fixed_log, fixed_log[-3000:]
    # one message for the planted failure, then exactly one for its recovery, at the test's receiver
    assert [m["text"].splitlines()[0].rsplit(": ", 1)[-1] for m in rec.messages] == ["new failure", "recovered"], (
        rec.messages, log[-1500:], fixed_log[-1500:])  # fmt: skip
    failure, recovery = (m["text"] for m in rec.messages)
    assert "k8s.disconnected.pods-ready" in failure
    assert "Cleared: k8s.disconnected.pods-ready" in recovery
    assert "blink-checks notify: recovery message sent to http://" in fixed_log, fixed_log[-3000:]
    assert "hook-key" not in log + fixed_log and "hook-key" not in html  # the webhook's key: never shown
    print("audit:", sorted(verbs), "| verdict:", verdict[0])
