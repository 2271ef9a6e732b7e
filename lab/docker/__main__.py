"""python -m lab.docker up SCENARIO | down | status | list"""

from __future__ import annotations

import argparse

from lab.docker import scenarios


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m lab.docker", description="Docker lab for the Blink runner checks")
    sub = ap.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="set up one scenario (replacing the previous one)")
    up.add_argument("scenario", choices=sorted(scenarios.SCENARIOS))
    sub.add_parser("down", help="remove everything the lab made")
    sub.add_parser("status", help="what the lab has running")
    sub.add_parser("list", help="the scenarios")
    args = ap.parse_args()
    if args.cmd == "up":
        scenarios.up(args.scenario)
        print(f"Blink URL for the checks: --blink-url {scenarios.BLINK_URL}")
    elif args.cmd == "down":
        scenarios.down()
    elif args.cmd == "status":
        print(scenarios.status())
    else:
        for s in scenarios.SCENARIOS.values():
            print(f"{s.name:16} {s.description}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
