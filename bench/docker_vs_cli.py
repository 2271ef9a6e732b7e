"""Benchmark: the Docker checks against the bare CLI commands a support engineer types for the same
runbook steps, in one run, medians of several. Runs on the Docker lab (loopback and lab containers only).

    .venv/bin/python -m bench.docker_vs_cli [--runs 7] [--scenario healthy]

CLI side (runbook Disconnected 1-3, Upgrade 2): `docker ps -a | grep blink-runner`, `docker logs`
(the same window), `docker inspect`, two greps for the upgrade lines, and the probe's
`nsenter -t PID -n curl` in the runner's network namespace (with its CA bundle and its DNS answer).
Suite side: `pytest checks/ --target docker` (its own reports included).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lab.docker import scenarios as lab

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd: str | list[str], shell: bool = False) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, shell=shell, cwd=ROOT, capture_output=True, timeout=300, check=False)
    return time.perf_counter() - started


def cli_steps(probe: bool) -> float:
    script = (
        "docker ps -a | grep blink-runner >/dev/null; "
        "docker logs --since 1h --tail 2000 blink-runner >/dev/null 2>&1; "
        "docker inspect blink-runner >/dev/null; "
        "docker logs --since 1h --tail 2000 blink-runner 2>&1 | grep 'Creating new container with name' >/dev/null; "
        "docker logs --since 1h --tail 2000 blink-runner 2>&1 | grep 'Found existing container with name' >/dev/null; "
    )
    if probe:
        script += (
            "pid=$(docker inspect -f '{{.State.Pid}}' blink-runner); "
            f"nsenter -t $pid -n curl -sS -o /dev/null --max-time 4 --cacert {lab.PKI_DIR / 'ca.pem'} "
            f"--resolve {lab.BLINK_HOST}:{lab.TLS_PORT}:{lab.GATEWAY} {lab.BLINK_URL} >/dev/null 2>&1; "
        )
    return timed(["bash", "-c", script])


def suite(probe: bool, report_dir: Path) -> float:
    return timed([sys.executable, "-m", "pytest", "checks/", "-q", "--target", "docker", "--blink-url", lab.BLINK_URL,
                  "--probe", "on" if probe else "off",
                  "--report-dir", str(report_dir)])  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--scenario", default="healthy")
    args = ap.parse_args()
    lab.up(args.scenario)
    out = {}
    tmp = Path(tempfile.mkdtemp(prefix="blink-bench-"))
    try:
        for probe in (False, True):
            cli, ours = [], []
            suite(probe, tmp)  # warm-up: imports, page cache
            for _ in range(args.runs):  # interleaved, so drift hits both sides alike
                cli.append(cli_steps(probe))
                ours.append(suite(probe, tmp))
            key = "with probe" if probe else "without probe"
            out[key] = {
                "runs": args.runs,
                "cli_median_s": round(statistics.median(cli), 3),
                "suite_median_s": round(statistics.median(ours), 3),
                "ratio_suite_to_cli": round(statistics.median(ours) / statistics.median(cli), 2),
            }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        lab.down()
    print(json.dumps({"scenario": args.scenario, **out}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
