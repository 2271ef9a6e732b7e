"""Benchmark: Kubernetes at scale, the suite against the kubectl commands of the same runbook steps.

    /work/labrun .venv/bin/python -m bench.k8s_scale [--runs 5] [--pods 5000] [--runners 50]

Builds the lab's scale scene (`python3 -m lab.k8s scale up`: --pods unrelated pods and deployment
blink-runner scaled to --runners pods by its HPA, on kwok nodes; kwok serves every runner pod's log, one
of them ending in network errors), then, interleaved, medians of --runs, in one run:
- CLI: `kubectl get pods -l app=blink-runner,release=blink-runner -o name`, then `kubectl logs --timestamps
  --since 1h --tail 2000 <pod>` for each runner pod, one after the other (the runbook's step 2 with an
  HPA: "each pod's logs individually");
- suite: `pytest checks/ --target kubernetes --namespace blink-scale --probe off` (whole process, its
  reports included), and a bare pytest start;
- API requests: the suite's own count (results.json target.api_requests) and, for one more run of each
  side, what the API server's audit log saw.
The scene is removed at the end (`scale down`), also after a failure.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import ROOT, Row, Timing, bare_pytest, interleaved, median_s, run_timed, suite_cmd

NS = "blink-scale"
SELECTOR = "app=blink-runner,release=blink-runner"
LIMITS = ("the suite's fixed cost (a Python and pytest start, importing the kubernetes client, the access reviews, "
          "writing three reports) against kubectl's start per command; the log reads run 8 at a time, and what the "
          "suite asks does not grow with the unrelated pods (pods are listed by the runner's selector)")  # fmt: skip


def lab(*args: str, timeout: float = 900) -> str:
    r = subprocess.run([sys.executable, "-m", "lab.k8s", *args], cwd=ROOT, capture_output=True, text=True,
                       timeout=timeout, check=False)  # fmt: skip
    if r.returncode != 0:
        raise SystemExit(f"python3 -m lab.k8s {' '.join(args)} failed:\n{r.stdout}{r.stderr}")
    return r.stdout.strip().splitlines()[-1]


def cli_script(kubectl: str) -> list[str]:
    """What an engineer types: the runner's pods by label, then each pod's logs, one after the other."""
    k = f"{kubectl} -n {NS}"
    return ["bash", "-c", f"for p in $({k} get pods -l {SELECTOR} -o name); do "
                          f"{k} logs --timestamps --since 1h --tail 2000 $p >/dev/null; done"]  # fmt: skip


def audited(s: Any, user_agent: str, cmd: list[str]) -> int:
    """How many requests one run of `cmd` made, as the API server's audit log saw them (by user agent)."""
    from lab.k8s import audit

    since = datetime.now(UTC)
    run_timed(cmd)
    time.sleep(2)  # the audit backend writes in batches
    return sum(1 for _ in audit.events(s, since, user_agent))


def run(runs: int = 5, pods: int = 5000, runners: int = 50) -> list[Row]:
    from lab.k8s import audit
    from lab.k8s.settings import Settings

    s = Settings()
    tmp = Path(tempfile.mkdtemp(prefix="blink-bench-scale-"))
    suite = suite_cmd("--target", "kubernetes", "--kubeconfig", str(s.admin_kubeconfig), "--namespace", NS,
                      "--probe", "off", "--blink-url", s.standin_url, "--report-dir", str(tmp))  # fmt: skip
    cli = cli_script(f"{s.kubectl} --kubeconfig={s.admin_kubeconfig}")
    try:
        started = time.monotonic()
        print(f"[bench] {lab('scale', 'up', '--pods', str(pods), '--runners', str(runners))}", flush=True)
        built_s = time.monotonic() - started
        sides: dict[str, Callable[[], Timing]] = {
            "cli": lambda: run_timed(cli),
            "suite": lambda: run_timed(suite),
            "bare": bare_pytest(),
        }
        got = interleaved(sides, runs)
        results = json.loads((tmp / "results.json").read_text())
        suite_seen = audited(s, audit.PYTHON_CLIENT, suite)
        cli_seen = audited(s, "kubectl/", cli)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"[bench] {lab('scale', 'down')}", flush=True)
    t = {name: median_s(v) for name, v in got.items()}
    counted = results["target"].get("api_requests", {}).get("kubernetes")
    pods_judged = len({c["object"] for c in results["checks"] if c["id"] == "k8s.disconnected.logs-readable"})
    found = [c["object"] for c in results["checks"]
             if c["id"] == "k8s.disconnected.no-network-errors" and c["outcome"] == "failed"]  # fmt: skip
    ratio = t["suite"] / t["cli"]
    rss_mib = max(x.peak_rss_kib for x in got["suite"]) / 1024
    measured = (f"{t['suite']:.2f} s vs {t['cli']:.2f} s (net of pytest {t['suite'] - t['bare']:.2f} s); "
                f"API requests: suite {counted} (audit log: {suite_seen}), kubectl {cli_seen}; {pods_judged} of "
                f"{runners} runner pods judged; planted error found in {len(found)} pod; peak {rss_mib:.0f} MiB; "
                f"scene built in {built_s:.0f} s")  # fmt: skip
    met = ratio <= 1.0 and counted is not None and counted == suite_seen and pods_judged == runners and len(found) == 1
    return [Row(f"{pods:,} pods + {runners}-pod HPA runner: suite vs `kubectl get pods -l …` + `kubectl logs` per "
                "runner pod", "≤ 1.0x, requests counted", measured, ratio, met, LIMITS)]  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pods", type=int, default=5000)
    ap.add_argument("--runners", type=int, default=50)
    args = ap.parse_args()
    print(json.dumps([r.__dict__ for r in run(args.runs, args.pods, args.runners)], indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
