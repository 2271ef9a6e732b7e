"""Every benchmark, one command; the README's performance table is written from its results.

    .venv/bin/python -m bench [--runs 5] [--only docker_vs_cli,log_window,...] [--write]

Each benchmark module has `run(runs) -> list[Row]`. `--write` puts the table, with the machine it ran
on and the date, between the README's `<!-- bench:start -->` and `<!-- bench:end -->` markers; the rows
also go to reports/bench.json. Uses the Docker lab and the Kubernetes lab (as root); not part of the tests.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import time

from bench.common import ROOT, Row, machine

BENCHMARKS = ("docker_vs_cli", "log_window", "k8s_scale")
README = ROOT / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
HEADER = ("| figure | goal | measured (medians) | ratio | goal met | what limits it now |\n"
          "|---|---|---|---|---|---|")  # fmt: skip


def table(rows: list[Row], when: str) -> str:
    return "\n".join([f"Measured {when} on {machine()}:", "", HEADER, *(r.markdown() for r in rows)])


def write_readme(text: str) -> None:
    readme = README.read_text()
    if START not in readme or END not in readme:
        raise SystemExit(f"README.md has no {START} … {END} markers")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n{text}\n{END}{tail}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    present = [n for n in BENCHMARKS if importlib.util.find_spec(f"bench.{n}")]
    ap.add_argument("--only", default=",".join(present), help="comma-separated: " + ", ".join(present))
    ap.add_argument("--write", action="store_true", help="write the table into README.md")
    args = ap.parse_args()
    rows: list[Row] = []
    for name in [n.strip() for n in args.only.split(",") if n.strip()]:
        if name not in present:
            raise SystemExit(f"unknown benchmark {name!r} (one of {', '.join(present)})")
        module = importlib.import_module(f"bench.{name}")
        print(f"[bench] {name} …", flush=True)
        rows += module.run(args.runs)
    when = time.strftime("%Y-%m-%d")
    text = table(rows, when)
    print(text)
    out = ROOT / "reports" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"date": when, "machine": machine(), "rows": [r.__dict__ for r in rows]}, indent=2,
                              ensure_ascii=False) + "\n")  # fmt: skip
    if args.write:
        write_readme(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
