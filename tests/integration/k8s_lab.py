"""The lab cluster as the Kubernetes integration tests use it: its own command, kubectl, the suite."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harness import ROOT, CheckRun, missing, run_checks

NS = "blink"
RUNNERS = "app=blink-runner,release=blink-runner"


def lab_command(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """The lab's own command (`python3 -m lab.k8s ...`): the tests never reach into its code."""
    return subprocess.run(
        [sys.executable, "-m", "lab.k8s", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def lab() -> Any:
    from lab.k8s.settings import Settings

    s = Settings()
    if not s.admin_kubeconfig.is_file():
        _skip_or_fail(f"the lab cluster's kubeconfig {s.admin_kubeconfig} is absent: python3 -m lab.k8s up")
    if os.geteuid() != 0:
        _skip_or_fail("the Kubernetes lab's scenarios need root (iptables, hostPath)")
    status = lab_command("status", timeout=60)
    if status.returncode != 0:
        _skip_or_fail(f"the lab cluster is not (fully) up: python3 -m lab.k8s status says\n{status.stdout}")
    yield s
    lab_command("scenario", "clear")


def _skip_or_fail(reason: str) -> None:
    """Skip on a developer's machine without the lab; fail when the test script brought it up, or under CI=true."""
    if os.environ.get("BLINK_LAB_K8S_UP") == "1":
        pytest.fail(f"the lab cluster should be up (scripts/test.sh started it): {reason}")
    missing(reason)


def apply(lab: Any, name: str) -> None:
    r = lab_command("scenario", name, "--timeout", "180")
    assert r.returncode == 0, f"python3 -m lab.k8s scenario {name} failed:\n{r.stdout}{r.stderr}"
    print(r.stdout.strip())


def kubectl(lab: Any, *args: str, input_text: str | None = None, check: bool = True) -> str:
    r = subprocess.run(
        [str(lab.kubectl), f"--kubeconfig={lab.admin_kubeconfig}", *args],
        input=input_text,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if check:
        assert r.returncode == 0, f"kubectl {' '.join(args)}: {r.stdout}{r.stderr}"
    return r.stdout


def pods(lab: Any, selector: str) -> list[dict[str, Any]]:
    items = json.loads(kubectl(lab, "-n", NS, "get", "pods", "-l", selector, "-o", "json"))["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def names(lab: Any) -> dict[str, str]:
    runners = pods(lab, RUNNERS)
    ready = [p for p in runners if all(c.get("ready") for c in p["status"].get("containerStatuses") or [{}])]
    failing = [p for p in runners if p not in ready]
    return {
        "pod": runners[0]["metadata"]["name"] if runners else "?",
        "failing_pod": failing[0]["metadata"]["name"] if failing else "?",
    }


def check(lab: Any, report_dir: Path, *extra: str, kubeconfig: Path | None = None) -> CheckRun:
    return run_checks(
        "--target",
        "kubernetes",
        "--kubeconfig",
        str(kubeconfig or lab.admin_kubeconfig),
        "--namespace",
        NS,
        "--blink-url",
        lab.standin_url,
        "--operator-wait",
        "10s",
        "--probe-timeout",
        "4",
        *extra,
        report_dir=report_dir,
        timeout=240,
    )




@contextmanager
def kubectl_proxy(lab: Any, port: int) -> Iterator[str]:
    """`kubectl proxy` on a loopback port (plain HTTP to the lab's API server), answering when entered."""
    proc = subprocess.Popen([str(lab.kubectl), f"--kubeconfig={lab.admin_kubeconfig}", "proxy",
                             "--address=127.0.0.1", f"--port={port}"], stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                kubectl(lab, f"--server=http://127.0.0.1:{port}", "version")
                break
            except AssertionError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def plain_kubeconfig(tmp: Path, server: str, user: dict[str, Any] | None = None) -> Path:
    """A kubeconfig for a plain-HTTP server (a proxy of ours), namespace blink."""
    path = tmp / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "p",
        "clusters": [{"name": "p", "cluster": {"server": server}}],
        "users": [{"name": "p", "user": user or {}}],
        "contexts": [{"name": "p", "context": {"cluster": "p", "user": "p", "namespace": NS}}],
    }))  # fmt: skip
    path.chmod(0o600)
    return path


def audit_verbs(lab: Any, user: str, since: dt.datetime) -> set[tuple[str, str]]:
    """(verb, resource[/subresource]) of every request `user` made since `since`, from the lab's audit log."""
    out = set()
    for line in (lab.state / "logs" / "audit.log").read_text(errors="replace").splitlines():
        if user not in line:
            continue
        ev = json.loads(line)
        when = dt.datetime.fromisoformat(ev["requestReceivedTimestamp"].replace("Z", "+00:00"))
        if ev["user"]["username"] != user or when < since:
            continue
        ref = ev.get("objectRef") or {}
        out.add((ev["verb"], ref.get("resource", "") + (f"/{ref['subresource']}" if ref.get("subresource") else "")))
    return out
