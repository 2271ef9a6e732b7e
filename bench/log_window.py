"""Benchmark: a wide log window, the network-error check against `… logs | grep -cE` of the same window,
on Docker and on the Kubernetes lab.

    .venv/bin/python -m bench.log_window [--runs 5] [--lines 1000000] [--platform docker|kubernetes|both]

A lab runner writes --lines lines of ordinary runner output (about 400 MB at the defaults), then one
network error as its newest line. On Kubernetes the kubelet keeps only the newest 10 MiB of a container's
log by default (containerLogMaxSize, also in the lab), so there the log is 20,000 lines (under 10 MiB on disk).
Interleaved, medians of --runs, in one run:
- CLI: `docker logs --since 24h --tail N <id> | grep -cE '<the catalog's patterns>'`
  (Kubernetes: `kubectl logs --since=24h --tail=N <pod> | grep -cE …`);
- suite: `pytest checks/ --target … --probe off --log-since 24h --log-tail N` (whole process, reports
  included), its peak RSS, and whether it found the newest error having read every line.
Loopback and the lab's own containers and pods only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import Row, Timing, bare_pytest, interleaved, median_s, run_timed, shell, suite_cmd
from bench.docker_vs_cli import network_ere
from lab.docker import scenarios as lab

NAME = "blink-runner"
BENCH_NS = "blink-bench"
ERROR = "dial tcp 10.0.0.1:443: i/o timeout"
# The kubelet rotates a container's log at containerLogMaxSize (10 MiB by default, the lab's too) and serves only
# the current file: a pod log longer than that is not there to read, by either side (a rotation while the
# benchmark runs leaves an empty file). 20,000 lines of about 440 bytes on disk (the CRI prefix included) stay
# under it.
KUBELET_KEEPS_LINES = 20_000
LIMITS = {
    "docker": "the engine producing the window (with timestamps) and the HTTP chunked stream; the scan itself "
    "runs at about 400 MB/s (RE2) while the next chunk is read",
    "kubernetes": "not the scan (a 9 MB window): the whole suite's other reads in the same run (access reviews, "
    "lists, the Secret) and importing the kubernetes client (about 0.2 s), against one `kubectl logs`",
}


def writer_script(lines: int) -> str:
    body = "level=info msg=processing action run for plugin http 200 OK " + "p" * 338
    return f"yes '{body}' | head -n {lines - 1}; echo '{ERROR}'; sleep 7200"


def docker_source(lines: int) -> tuple[list[str], list[str], Callable[[], None]]:
    """(CLI command, suite args, cleanup) for a Docker runner with a wide log."""
    lab.up("no-runner")
    dc = lab.client()
    c = dc.containers.run(lab.RUNNER_IMAGE, ["sh", "-c", writer_script(lines)], name=NAME, detach=True,
                          labels=lab.LABEL, network=lab.NETWORK)  # fmt: skip
    lab.wait_until("the logs written", lab.logs_contain(dc, c.id, "i/o timeout"), deadline_s=1200, every_s=2)
    cli = shell(f"docker logs --since 24h --tail {lines} {c.id} 2>&1 | grep -cE '{network_ere()}'")
    return cli, ["--target", "docker", "--blink-url", lab.BLINK_URL], lab.down


def kubernetes_source(lines: int) -> tuple[list[str], list[str], Callable[[], None]]:
    """The same log in a runner pod of the lab cluster (namespace blink-bench, deleted afterwards)."""
    from lab.k8s.settings import Settings

    s = Settings()
    kubectl = [str(s.kubectl), f"--kubeconfig={s.admin_kubeconfig}"]
    manifest = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": BENCH_NS, "labels": {"app": NAME}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": NAME}}, "template": {
            "metadata": {"labels": {"app": NAME}},
            "spec": {"terminationGracePeriodSeconds": 1, "enableServiceLinks": False, "containers": [{
                "name": NAME, "image": lab.RUNNER_IMAGE, "imagePullPolicy": "Never",
                "command": ["sh", "-c", writer_script(lines)]}]}}},
    }  # fmt: skip
    # A namespace left terminating by an earlier run would swallow the new deployment: wait until it is gone.
    subprocess.run([*kubectl, "delete", "namespace", BENCH_NS, "--ignore-not-found", "--wait=true", "--timeout=300s"],
                   capture_output=True, check=False)  # fmt: skip
    subprocess.run([*kubectl, "create", "namespace", BENCH_NS], capture_output=True, check=True)
    subprocess.run([*kubectl, "apply", "-f", "-"], input=json.dumps(manifest), text=True, capture_output=True,
                   check=True)  # fmt: skip
    deadline = time.monotonic() + 1200
    pod = ""
    while time.monotonic() < deadline:
        out = subprocess.run([*kubectl, "-n", BENCH_NS, "get", "pods", "-l", f"app={NAME}", "-o",
                              "jsonpath={.items[0].metadata.name}"], capture_output=True, text=True).stdout  # fmt: skip
        pod = out.strip()
        if pod and "i/o timeout" in subprocess.run([*kubectl, "-n", BENCH_NS, "logs", pod, "--tail=1"],
                                                   capture_output=True, text=True).stdout:  # fmt: skip
            break
        time.sleep(2)
    else:
        raise SystemExit(f"bench: the runner pod in {BENCH_NS} did not log its last line within 20 minutes")
    cli = shell(f"{' '.join(kubectl)} -n {BENCH_NS} logs --since=24h --tail={lines} {pod} | grep -cE '{network_ere()}'")

    def cleanup() -> None:
        subprocess.run([*kubectl, "delete", "namespace", BENCH_NS, "--wait=true", "--timeout=300s"],
                       capture_output=True, check=False)  # fmt: skip

    args = ["--target", "kubernetes", "--kubeconfig", str(s.admin_kubeconfig), "--namespace", BENCH_NS,
            "--blink-url", s.standin_url]  # fmt: skip
    return cli, args, cleanup


def run(runs: int = 5, lines: int = 1_000_000, platforms: tuple[str, ...] = ("docker", "kubernetes")) -> list[Row]:
    rows = []
    for platform in platforms:
        n = lines if platform == "docker" else min(lines, KUBELET_KEEPS_LINES)
        cli, args, cleanup = (docker_source if platform == "docker" else kubernetes_source)(n)
        tmp = Path(tempfile.mkdtemp(prefix="blink-bench-"))
        try:
            suite = suite_cmd(*args, "--probe", "off", "--log-since", "24h", "--log-tail", str(n),
                              "--report-dir", str(tmp))  # fmt: skip
            sides: dict[str, Callable[[], Timing]] = {
                "cli": lambda cli=cli: run_timed(cli),  # type: ignore[misc]
                "suite": lambda suite=suite: run_timed(suite),  # type: ignore[misc]
                "bare": bare_pytest(),
            }
            got = interleaved(sides, runs)
            results = json.loads((tmp / "results.json").read_text())
        finally:
            cleanup()
            shutil.rmtree(tmp, ignore_errors=True)
        t = {name: median_s(v) for name, v in got.items()}
        rss_mib = max(x.peak_rss_kib for x in got["suite"]) / 1024
        net = [c for c in results["checks"] if c["id"].endswith("no-network-errors")]
        found = bool(net) and net[0]["outcome"] == "failed"
        read = net[0].get("details", {}).get("lines_read") if net else None
        ratio = t["suite"] / t["cli"]
        where = "`docker logs … | grep -cE`" if platform == "docker" else "`kubectl logs … | grep -cE`"
        kept = "" if platform == "docker" else " (what the kubelet keeps: containerLogMaxSize, 10 MiB by default)"
        rows.append(Row(
            f"{n:,}-line log ({platform}){kept}, whole window: network-error check vs {where}",
            "≤ 1.1x, < 100 MB, error found",
            f"{t['suite']:.2f} s vs {t['cli']:.2f} s (net of pytest {t['suite'] - t['bare']:.2f} s); "
            f"peak {rss_mib:.0f} MiB; error {'found' if found else 'NOT found'}, {read} lines read",
            ratio, ratio <= 1.1 and rss_mib < 100 and found,
            LIMITS[platform],
        ))  # fmt: skip
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--platform", choices=("docker", "kubernetes", "both"), default="both")
    args = ap.parse_args()
    platforms = ("docker", "kubernetes") if args.platform == "both" else (args.platform,)
    print(json.dumps([r.__dict__ for r in run(args.runs, args.lines, platforms)], indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
