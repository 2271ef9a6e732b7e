"""Kubernetes at scale, on the lab's kwok nodes (`python3 -m lab.k8s scale up`): a namespace of unrelated pods
beside a 50-pod runner deployment under an HPA, one runner pod logging network errors to the end.

Correctness, not speed (the speed is `python -m bench --only k8s_scale`): every runner pod judged, the planted
error found in its pod and nowhere else, the API requests counted and bounded (one list per kind, runner pods
by label selector on the API server, one log read per pod: nothing per unrelated pod, nothing per check), the
count in results.json the same the API server's audit log saw.

    /work/labrun .venv/bin/pytest tests/integration/test_k8s_scale.py               # 200 unrelated pods (CI)
    BLINK_SCALE_PODS=5000 /work/labrun .venv/bin/pytest tests/integration/test_k8s_scale.py   # the full scale
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.harness import run_checks
from tests.integration.k8s_lab import lab_command

pytestmark = pytest.mark.k8s_lab

PODS = int(os.environ.get("BLINK_SCALE_PODS", "200"))
RUNNERS = 50
NS = "blink-scale"
# What a run may ask, whatever the number of unrelated pods: one log read per runner pod, and a fixed few more
# (the version, who am I, the access reviews, one list per kind, the Secret).
FIXED_REQUESTS = 25


@pytest.fixture(scope="module")
def scene(lab: Any) -> Iterator[dict[str, Any]]:
    r = lab_command("scale", "up", "--pods", str(PODS), "--runners", str(RUNNERS), timeout=600)
    try:
        assert r.returncode == 0, f"python3 -m lab.k8s scale up failed:\n{r.stdout}{r.stderr}"
        print(r.stdout.strip().splitlines()[-1])
        yield json.loads((lab.state / "scale.json").read_text())
    finally:
        down = lab_command("scale", "down", timeout=600)
        assert down.returncode == 0, f"python3 -m lab.k8s scale down failed:\n{down.stdout}{down.stderr}"


def _audited(lab: Any, since: datetime) -> list[dict[str, Any]]:
    """The suite's requests as the API server's audit log saw them (the Python client's user agent)."""
    from lab.k8s import audit

    time.sleep(2)  # the audit backend writes in batches
    return list(audit.events(lab, since, audit.PYTHON_CLIENT))


def test_every_runner_pod_judged_with_bounded_requests_and_the_planted_error_found(lab, scene, tmp_path):
    since = datetime.now(UTC)
    run = run_checks("--target", "kubernetes", "--kubeconfig", str(lab.admin_kubeconfig), "--namespace", NS,
                     "--blink-url", lab.standin_url, "--probe", "off", report_dir=tmp_path, timeout=300)  # fmt: skip
    events = _audited(lab, since)
    planted = f"{NS}/{scene['planted']}"

    def objects(condition: str, outcome: str | None = None) -> list[str]:
        return sorted(c["object"] for c in run.entries(condition) if outcome in (None, c["outcome"]))

    # every one of the runner pods judged, each once, by every per-pod check
    runner_pods = objects("k8s.disconnected.pods-ready")
    assert len(runner_pods) == RUNNERS == len(set(runner_pods)), run.stdout[-3000:]
    assert objects("k8s.disconnected.pods-ready", "passed") == runner_pods
    assert objects("k8s.disconnected.logs-readable", "passed") == runner_pods
    assert objects("k8s.disconnected.no-network-errors") == runner_pods
    # the one planted network error found, in its pod, and in no other
    failed = run.entries("k8s.disconnected.no-network-errors")
    failed = [c for c in failed if c["outcome"] == "failed"]
    assert [c["object"] for c in failed] == [f"pod {planted}"], [c["object"] for c in failed]
    assert "i/o timeout" in json.dumps(failed[0]["evidence"])
    assert len(objects("k8s.disconnected.no-network-errors", "passed")) == RUNNERS - 1
    assert run.exit_code == 1

    # requests: counted, the count the API server saw, bounded whatever the number of unrelated pods
    counted = run.results["target"]["api_requests"]["kubernetes"]
    assert counted == len(events), sorted(e["requestURI"] for e in events)
    assert counted <= RUNNERS + FIXED_REQUESTS, sorted(e["requestURI"] for e in events)
    logs = [e for e in events if (e.get("objectRef") or {}).get("subresource") == "log"]
    assert len(logs) == RUNNERS  # one read per runner pod, not one per check
    pod_lists = [e["requestURI"] for e in events if e["verb"] == "list"
                 and (e.get("objectRef") or {}).get("resource") == "pods"]  # fmt: skip
    assert len(pod_lists) == 1 and "labelSelector=" in pod_lists[0], pod_lists  # the runner's, filtered on the server
    for resource in ("deployments", "horizontalpodautoscalers"):  # one list per kind
        assert sum(e["verb"] == "list" and (e.get("objectRef") or {}).get("resource") == resource
                   for e in events) == 1, resource  # fmt: skip
