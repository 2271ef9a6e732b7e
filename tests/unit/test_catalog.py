"""The catalog guards: schema, and two-way traceability between the runbook catalog and the checks."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import checks
from blinkcheck.catalog import CatalogError, fill, load_catalog, placeholders

CATALOG = load_catalog()


def check_functions() -> dict[str, list[str]]:
    """condition id -> the check functions (module::name) that carry its marker."""
    found: dict[str, list[str]] = {}
    for mod in pkgutil.walk_packages(checks.__path__, "checks."):
        module = importlib.import_module(mod.name)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("test_") or fn.__module__ != module.__name__:
                continue
            marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "condition"]
            assert len(marks) == 1, f"{mod.name}::{name} must name exactly one condition"
            found.setdefault(marks[0].args[0], []).append(f"{mod.name}::{name}")
    return found


def test_every_condition_has_exactly_one_check():
    found = check_functions()
    missing = [cid for cid in CATALOG.ids if cid not in found]
    doubled = {cid: fns for cid, fns in found.items() if len(fns) > 1}
    assert not missing, f"conditions without a check: {missing}"
    assert not doubled, f"conditions with more than one check: {doubled}"


def test_every_check_names_a_catalog_condition():
    unknown = {cid: fns for cid, fns in check_functions().items() if cid not in CATALOG.ids}
    assert not unknown, f"checks naming conditions not in the catalog: {unknown}"


def test_check_files_follow_platform_folders():
    for cid, fns in check_functions().items():
        platform = CATALOG[cid].platform
        assert all(fn.startswith(f"checks.{platform}.") for fn in fns), (cid, fns)


def test_runbook_commands_kept_exact():
    text = "\n".join(c.remedy + c.checks for c in CATALOG.conditions)
    for command in (
        "docker ps -a | grep {runner_name}",
        "docker logs {container_id}",
        "docker container restart {container_id}",
        "kubectl rollout restart deployment {deployment}",
        "kubectl delete deployment {operator}",
        "kubectl get deployment -n {namespace} | grep blink-operator",
    ):
        assert command in text, command


def test_fill_keeps_unknown_placeholders_visible():
    assert fill("restart {container_id} on {host}", {"container_id": "abc"}) == "restart abc on {host}"
    assert placeholders("a {x} b {y}") == {"x", "y"}


def test_ids_are_unique_and_requires_resolve():
    assert len(set(CATALOG.ids)) == len(CATALOG.ids)
    for c in CATALOG.conditions:
        assert set(c.requires) <= set(CATALOG.ids)


BAD = [
    ("schema_version: 2\nconditions: []\n", "schema_version"),
    ("schema_version: 1\n", "missing field 'conditions'"),
    ("schema_version: 1\nconditions:\n  - id: docker.x.y\n", "condition 'docker.x.y': missing field 'section'"),
    ("schema_version: 1\nconditions:\n  - {id: Bad Id}\n", "field 'id'"),
    ("schema_version: 1\nconditions: [1]\n", "conditions[0]: must be a mapping"),
    (": : :\n", "not valid YAML"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_catalog_names_entry_and_field(tmp_path: Path, text: str, message: str):
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    with pytest.raises(CatalogError, match=re.escape(message)):
        load_catalog(path)


def test_bad_section_value(tmp_path: Path):
    text = Path(CATALOG.path).read_text().replace("section: disconnected", "section: disconected", 1)
    path = tmp_path / "c.yaml"
    path.write_text(text)
    expected = "condition 'docker.disconnected.container-exists': field 'section'"
    with pytest.raises(CatalogError, match=re.escape(expected)):
        load_catalog(path)
