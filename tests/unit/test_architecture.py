"""The rooms of the code and the one way imports flow between them (README: "Architecture").

checks -> fixtures -> the platform rooms (gatherers, judges) -> core (model, catalog, run state). The reports take
plain data and never import the plugin; Docker and Kubernetes never import each other; a Docker run never loads the
Kubernetes client. Every import counts: module level, inside functions, and under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("blinkcheck", "fixtures", "checks")

# room -> the rooms it may import (itself included).
ALLOWED = {
    "core": {"core"},
    "docker": {"core", "docker"},
    "kubernetes": {"core", "kubernetes"},
    "report": {"core", "report"},
    "plugin": {"core", "docker", "kubernetes", "report", "plugin"},
    "fixtures": {"core", "docker", "kubernetes", "fixtures"},
    "checks": {"core", "docker", "kubernetes", "fixtures"},
}
# The pytest glue: hooks, the options, the choice of platforms (which looks at both).
PLUGIN = {"blinkcheck.plugin", "blinkcheck.options", "blinkcheck.platforms", "blinkcheck.remediating", "blinkcheck.many"}
MAX_CORE_LINES = 440  # the core, the reports and the glue: no file of k8s_judges' old size comes back


def module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def room_of(module: str) -> str | None:
    top, _, rest = module.partition(".")
    if top in ("checks", "fixtures"):
        return top
    if top != "blinkcheck":
        return None
    if module in PLUGIN:
        return "plugin"
    sub = rest.split(".", 1)[0]
    return sub if sub in ("docker", "kubernetes", "report") else "core"


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)  # `from blinkcheck import report`
    return {m for m in found if m.split(".", 1)[0] in PACKAGES}


def sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def graph() -> dict[str, set[str]]:
    """module -> the project modules it imports (a name imported from a package counts as the package)."""
    known = {module_of(p) for p in sources()}
    out: dict[str, set[str]] = {}
    for p in sources():
        targets = set()
        for m in imports_of(p):
            while m not in known and "." in m:  # `from blinkcheck.docker.facts import X` names X, not a module
                m = m.rsplit(".", 1)[0]
            if m in known:
                targets.add(m)
        out[module_of(p)] = targets
    return out


def test_every_module_has_a_room():
    assert all(room_of(m) for m in graph()), [m for m in graph() if not room_of(m)]


def test_imports_flow_one_way_between_rooms():
    wrong = [
        f"{m} ({room_of(m)}) imports {t} ({room_of(t)})"
        for m, targets in graph().items()
        for t in sorted(targets)
        if room_of(t) not in ALLOWED[room_of(m) or ""]
    ]
    assert not wrong, "\n".join(wrong)


def test_no_cycle_between_rooms():
    edges = {(room_of(m) or "", room_of(t) or "") for m, ts in graph().items() for t in ts if room_of(m) != room_of(t)}
    rooms = {r for e in edges for r in e}

    def reaches(a: str, b: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(x == a and (y == b or (y not in seen and reaches(y, b, seen | {y}))) for x, y in edges)

    assert not [r for r in rooms if reaches(r, r)]


def test_the_reports_never_import_the_plugin():
    for m, targets in graph().items():
        if room_of(m) == "report":
            assert not {t for t in targets if room_of(t) == "plugin"}, m


@pytest.mark.parametrize(("platform", "other"), [("docker", "kubernetes"), ("kubernetes", "docker")])
def test_a_platforms_checks_never_import_the_other_platform(platform, other):
    for m, targets in graph().items():
        if m.startswith(f"checks.{platform}") or room_of(m) == platform:
            assert not {t for t in targets if room_of(t) == other}, m


def test_no_core_file_is_k8s_judges_sized():
    big = {
        str(p.relative_to(ROOT)): n
        for p in sources()
        if room_of(module_of(p)) in ("core", "report", "plugin")
        and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_CORE_LINES
    }
    assert not big, big


def test_a_docker_run_never_loads_the_kubernetes_client():
    """The plugin, every fixture and the Docker checks load without the kubernetes package (it is imported when a
    Kubernetes API is first called)."""
    code = (
        "import sys, blinkcheck.plugin, fixtures.common, fixtures.docker, fixtures.kubernetes, checks.docker.test_preconditions, "
        "checks.docker.test_disconnected, checks.docker.test_upgrade, checks.docker.test_deployment; "
        "print(sorted(m for m in sys.modules if m == 'kubernetes' or m.startswith('kubernetes.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def _strings_outside_markers_and_docstrings(tree: ast.AST) -> list[tuple[int, str]]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "condition":
            skip.update(id(c) for c in ast.walk(node))  # @pytest.mark.condition("...")
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skip.add(id(first.value))  # docstrings explain, and may name a condition
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip]  # fmt: skip


def test_condition_ids_live_in_the_catalog_and_the_markers_only():
    """A condition is named in catalog.yaml, in its check's marker, and (for the few the code itself refers to)
    once in the catalog loader: judges get the id from the check, the reads come from the catalog."""
    from blinkcheck.catalog import load_catalog

    ids = set(load_catalog().ids)
    pattern = re.compile(r"\b(?:docker|k8s)\.[a-z0-9-]+\.[a-z0-9-]+\b")
    found = []
    for path in sources():
        if path == ROOT / "blinkcheck" / "catalog.py":
            continue
        for line, text in _strings_outside_markers_and_docstrings(ast.parse(path.read_text(encoding="utf-8"))):
            found += [f"{path.relative_to(ROOT)}:{line}: {m}" for m in pattern.findall(text) if m in ids]
    assert not found, "condition ids outside the catalog and the markers:\n" + "\n".join(found)
