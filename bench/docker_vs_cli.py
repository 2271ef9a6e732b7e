"""Benchmark: the Docker checks against the bare CLI commands a support engineer types for the same
runbook steps, in one run, interleaved, medians of several. On the Docker lab's healthy scenario
(loopback and the lab's own containers only).

    .venv/bin/python -m bench.docker_vs_cli [--runs 7]

CLI side (runbook Disconnected 1-3, Upgrade 2): `docker ps -a | grep blink-runner`, `docker inspect`,
`docker logs --since 1h --tail 2000 … | grep -cE '<network errors>'`, the same for the upgrade lines;
with the probe also `nsenter -t PID -n curl` in the runner's network namespace.
Suite side: `pytest checks/ --target docker` (its reports included), and a bare pytest start (one empty
test, the same plugins), so the suite's own cost is the difference. Also `pytest checks/ --collect-only`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from bench.common import Row, bare_pytest, interleaved, median_s, run_timed, shell, suite_cmd
from blinkcheck.catalog import load_catalog
from lab.docker import scenarios as lab


def ere(pattern: str) -> str:
    return pattern.replace(r"\d", "[0-9]")


def network_ere() -> str:
    return "|".join(f"({ere(p.pattern)})" for f in load_catalog().network_error_families for p in f.patterns)


def cli_script(probe: bool) -> str:
    logs = "docker logs --since 1h --tail 2000 blink-runner 2>&1"
    script = (
        "docker ps -a | grep blink-runner >/dev/null; docker inspect blink-runner >/dev/null; "
        f"{logs} | grep -cE '{network_ere()}' >/dev/null; "
        f"{logs} | grep -cE 'Creating new container with name|Found existing container with name' >/dev/null; "
    )
    if probe:
        script += (
            "pid=$(docker inspect -f '{{.State.Pid}}' blink-runner); "
            f"nsenter -t $pid -n curl -sS -o /dev/null --max-time 4 --cacert {lab.PKI_DIR / 'ca.pem'} "
            f"--resolve {lab.BLINK_HOST}:{lab.TLS_PORT}:{lab.GATEWAY} {lab.BLINK_URL} >/dev/null 2>&1; "
        )
    return script + "true"


def run(runs: int = 7) -> list[Row]:
    lab.up("healthy")
    tmp = Path(tempfile.mkdtemp(prefix="blink-bench-"))
    try:
        base = ["--target", "docker", "--blink-url", lab.BLINK_URL, "--report-dir", str(tmp)]
        sides = {
            "cli": lambda: run_timed(shell(cli_script(False))),
            "cli+probe": lambda: run_timed(shell(cli_script(True))),
            "suite": lambda: run_timed(suite_cmd(*base, "--probe", "off")),
            "suite+probe": lambda: run_timed(suite_cmd(*base, "--probe", "on")),
            "collect": lambda: run_timed(suite_cmd(*base, "--collect-only")),
            "bare": bare_pytest(),
        }
        t = {name: median_s(timings) for name, timings in interleaved(sides, runs).items()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        lab.down()
    net = t["suite"] - t["bare"]
    net_probe = t["suite+probe"] - t["bare"]
    collect = t["collect"] - t["bare"]
    limits = ("importing the docker SDK (requests, urllib3: about 0.12 s) before the first Engine API call; "
              "the calls themselves are one list, one inspect, one log read")  # fmt: skip
    return [
        Row("Docker suite net of a bare pytest start vs the runbook's CLI steps (healthy runner, no probe)",
            "≤ 1.0x", f"{net:.3f} s vs {t['cli']:.3f} s (suite {t['suite']:.3f} s, bare pytest {t['bare']:.3f} s)",
            net / t["cli"], net / t["cli"] <= 1.0, limits),
        Row("the same with the egress probe (namespace probe vs `nsenter … curl`)", "-",
            f"{net_probe:.3f} s vs {t['cli+probe']:.3f} s", net_probe / t["cli+probe"], True,
            "the probe's child process (a Python start, about 0.05 s) and the TLS handshake"),
        Row("`pytest checks/ --collect-only` over a bare pytest start", "< 0.3 s", f"{collect:.3f} s", None,
            collect < 0.3, "importing the plugin and the catalog; collection contacts no target"),
    ]  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    print(json.dumps([r.__dict__ for r in run(args.runs)], indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
