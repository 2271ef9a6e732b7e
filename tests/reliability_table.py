"""The README's reliability table, generated from the tests so it cannot drift.

Rows come from tests marked `@pytest.mark.reliability(fault, Sees(...))`: the row's "what the user sees" is
built from the Sees data, which the test asserts on its run through the `sees` fixture (tests/reliability.py);
and from the bad-input cases of tests/integration/test_bad_input.py (each asserted: exit 4 and its line).

    .venv/bin/python -m tests.reliability_table          # print the table
    .venv/bin/python -m tests.reliability_table --write  # rewrite it in README.md
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

import tests.integration
import tests.unit
from tests.reliability import rows_of

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- reliability:start -->", "<!-- reliability:end -->"


def rows() -> list[tuple[str, str, str]]:
    out = []
    found = [("tests.integration", m.name) for m in pkgutil.iter_modules(tests.integration.__path__)]
    found += [("tests.unit", m.name) for m in pkgutil.iter_modules(tests.unit.__path__)]
    for package, name in sorted(found, key=lambda x: x[1]):
        module = importlib.import_module(f"{package}.{name}")
        for fn_name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__:
                continue
            for fault, sees in rows_of(fn):
                case = f"[{sees.case}]" if sees.case else ""
                out.append((fault, sees.text(), f"{name}::{fn_name}{case}"))
    from tests.integration.test_bad_input import BAD_OPTIONS

    for args, message in BAD_OPTIONS:
        out.append((f"bad input: `{' '.join(args)}`", f"exit 4: `{message}…`", "test_bad_input::test_bad_option_is_a_usage_error"))
    return out


def table() -> str:
    lines = ["| fault or bad input | what the user sees | test |", "|---|---|---|"]
    lines += [f"| {_cell(f)} | {_cell(s)} | `{t}` |" for f, s, t in rows()]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\\\\|", "\\|")  # a pipe inside a table cell, escaped once


def readme_with_table(readme: str) -> str:
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table()}\n{END}{tail}"


if __name__ == "__main__":
    if "--write" in sys.argv:
        path = ROOT / "README.md"
        path.write_text(readme_with_table(path.read_text()))
    else:
        print(table())
