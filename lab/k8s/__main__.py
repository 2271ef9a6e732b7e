"""python3 -m lab.k8s up [--kwok-nodes N] | down | status | kwok N | scenario NAME|clear|list | scale up|down |
kubeconfig"""
from __future__ import annotations

import argparse
import fcntl
import sys
import time

from .cluster import down, set_kwok_nodes, status, up
from .settings import Settings


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m lab.k8s", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p_up = sub.add_parser("up", help="build if needed, start the cluster, wait for the node; prints the kubeconfig")
    p_up.add_argument("--kwok-nodes", type=int, default=0, help="also run kwok with N fake nodes")
    p_kw = sub.add_parser("kwok", help="set the number of kwok fake nodes on the running lab (0: remove)")
    p_kw.add_argument("nodes", type=int)
    sub.add_parser("down", help="stop everything and remove what the lab changed (idempotent)")
    sub.add_parser("status", help="what runs (exit 0 all up, 1 partial, 3 down)")
    sub.add_parser("kubeconfig", help="print the admin kubeconfig path")
    p_sc = sub.add_parser("scenario", help="apply a scenario (or 'clear', 'list') and wait for its state")
    p_sc.add_argument("name")
    p_sc.add_argument("-n", "--namespace", default=None, help="namespace (default: blink or $BLINK_LAB_NAMESPACE)")
    p_sc.add_argument("--timeout", type=float, default=120)
    p_scale = sub.add_parser("scale", help="the scale scene on kwok nodes (lab/k8s/scale.py): up or down")
    p_scale.add_argument("action", choices=("up", "down"))
    p_scale.add_argument("--pods", type=int, default=5000, help="unrelated pods (default 5000)")
    p_scale.add_argument("--runners", type=int, default=50, help="the HPA's minReplicas (default 50)")
    p_scale.add_argument("-n", "--namespace", default=None, help="namespace (default blink-scale; down: every one)")
    p_scale.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args(argv)
    s = Settings()
    if a.cmd in ("up", "down", "kwok", "scale"):
        # one up/down at a time on this machine (a second `up` waits, then finds the lab up)
        s.state_root.mkdir(parents=True, exist_ok=True)
        lock = open(s.state_root / "k8s.lock", "w")  # noqa: SIM115 - held until the process exits
        waited_until = time.monotonic() + 45 * 60  # a cold build under another `up` takes up to ~30 min
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > waited_until:
                    print("lab.k8s: another up/down still holds the lab lock after 45 min; giving up", file=sys.stderr)
                    return 1
                time.sleep(1)
    try:
        if a.cmd == "up":
            up(s, kwok_nodes=a.kwok_nodes)
        elif a.cmd == "kwok":
            set_kwok_nodes(s, a.nodes)
        elif a.cmd == "down":
            down(s)
        elif a.cmd == "status":
            return status(s)
        elif a.cmd == "scale":
            from . import scale
            if a.action == "up":
                print(scale.up(s, a.pods, a.runners, a.namespace or scale.NAMESPACE, a.timeout))
            else:
                print(scale.down(s, a.namespace, a.timeout))
        elif a.cmd == "kubeconfig":
            print(s.admin_kubeconfig)
        elif a.cmd == "scenario":
            from . import scenario as scenarios
            if a.namespace:
                s.namespace = a.namespace
            if a.name == "list":
                for name, sc in scenarios.SCENARIOS.items():
                    print(f"{name:<22} {sc.description}")
            elif a.name == "clear":
                scenarios.clear(s)
            else:
                print(scenarios.apply(s, a.name, timeout=a.timeout))
    except RuntimeError as e:  # LabError and image errors
        print(f"lab.k8s: ERROR: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
