"""Benchmark: a wide log window, the network-error check against `docker logs … | grep -cE` of the same window.

    .venv/bin/python -m bench.log_window [--runs 5] [--lines 1000000] [--line-bytes 400]

A lab container writes --lines lines (about 400 MB at the defaults) of ordinary runner output, then
one network error as its newest line. Interleaved, medians of --runs, in one run:
- CLI: `docker logs --since 24h --tail N <id> 2>&1 | grep -cE '<the catalog's network-error patterns>'`
- suite: `pytest checks/ --target docker --probe off --log-since 24h --log-tail N` (whole process, its
  reports included), and the same net of a bare pytest start (one empty test, same plugins);
- the suite's peak RSS (ru_maxrss of the process), and whether it found the newest error.
Loopback and the lab's own containers only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from blinkcheck.catalog import load_catalog
from lab.docker import scenarios as lab

ROOT = Path(__file__).resolve().parents[1]
NAME = "blink-runner-benchlogs"


def timed(cmd: list[str], cwd: Path = ROOT) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - started, usage.ru_maxrss


def ere(pattern: str) -> str:
    return pattern.replace(r"\d", "[0-9]")


def make_container(lines: int, line_bytes: int) -> str:
    dc = lab.client()
    try:
        dc.containers.get(NAME).remove(force=True)
    except Exception:
        pass
    body = "level=info msg=processing action run for plugin http 200 OK " + "p" * max(0, line_bytes - 62)
    script = (f"yes '{body}' | head -n {lines - 1}; echo 'dial tcp 10.0.0.1:443: i/o timeout'; "
              "sleep 7200")  # fmt: skip
    c = dc.containers.run(lab.RUNNER_IMAGE, ["sh", "-c", script], name=NAME, detach=True, labels=lab.LABEL,
                          network=lab.NETWORK)  # fmt: skip
    lab.wait_until("the logs written", lab.logs_contain(dc, c.id, "i/o timeout"), deadline_s=1200, every_s=2)
    return str(c.id)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--line-bytes", type=int, default=400)
    args = ap.parse_args()
    lab.up("no-runner")
    cid = make_container(args.lines, args.line_bytes)
    patterns = [ere(p.pattern) for f in load_catalog().network_error_families for p in f.patterns]
    grep = "|".join(f"({p})" for p in patterns)
    cli = ["bash", "-c", f"docker logs --since 24h --tail {args.lines} {cid} 2>&1 | grep -cE '{grep}'"]
    tmp = Path(tempfile.mkdtemp(prefix="blink-bench-"))
    (tmp / "test_empty.py").write_text("def test_empty():\n    pass\n")
    suite = [sys.executable, "-m", "pytest", "checks/", "-q", "--target", "docker", "--probe", "off",
             "--blink-url", lab.BLINK_URL, "--log-since", "24h", "--log-tail", str(args.lines),
             "--report-dir", str(tmp / "reports")]  # fmt: skip
    bare = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp / "test_empty.py")]
    try:
        timed(suite)  # warm-up: imports, page cache
        cli_s, suite_s, bare_s, rss = [], [], [], []
        for _ in range(args.runs):  # interleaved, so drift hits all sides alike
            cli_s.append(timed(cli)[0])
            wall, peak = timed(suite)
            suite_s.append(wall)
            rss.append(peak)
            bare_s.append(timed(bare, cwd=tmp)[0])
        results = json.loads((tmp / "reports" / "results.json").read_text())
        found = [c for c in results["checks"] if c["id"] == "docker.disconnected.no-network-errors"]
        log_bytes = int(subprocess.run(["bash", "-c", f"docker logs {cid} 2>&1 | wc -c"], capture_output=True,
                                       text=True, check=False).stdout.strip() or 0)  # fmt: skip
        out = {
            "lines": args.lines,
            "log_bytes": log_bytes,
            "runs": args.runs,
            "cli_median_s": round(statistics.median(cli_s), 3),
            "suite_median_s": round(statistics.median(suite_s), 3),
            "bare_pytest_median_s": round(statistics.median(bare_s), 3),
            "ratio_suite_to_cli": round(statistics.median(suite_s) / statistics.median(cli_s), 2),
            "ratio_suite_net_of_pytest_to_cli": round(
                (statistics.median(suite_s) - statistics.median(bare_s)) / statistics.median(cli_s), 2
            ),
            "suite_peak_rss_mb": round(max(rss) / 1024, 1),
            "error_found": bool(found) and found[0]["outcome"] == "failed",
            "lines_read": found[0].get("details", {}).get("lines_read") if found else None,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        lab.down()
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
