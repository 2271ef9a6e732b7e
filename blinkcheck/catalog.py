"""Load and validate the runbook catalog; fill remedy placeholders."""

from __future__ import annotations

import re
import shlex
import string
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

# libyaml's loader when PyYAML has it: the catalog is read at every start (40 ms in pure Python, 2 ms in C).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DEFAULT_CATALOG = Path(__file__).with_name("catalog.yaml")

SECTIONS = ("precondition", "disconnected", "upgrade", "deployment", "beyond")
PLATFORMS = ("docker", "kubernetes")
KINDS = ("precondition", "check", "manual")
# The named groups each upgrade pattern must capture (the checks read them).
UPGRADE_GROUPS = {
    "creating": ("name", "version", "container_id"),
    "found_existing": ("name", "version", "container_id"),
    "operator_handoff": ("version",),
}
_ID = re.compile(r"^(docker|k8s)\.[a-z0-9-]+\.[a-z0-9-]+$")

# The only conditions the code names, besides the checks' markers: the preconditions a fact gatherer names
# when it cannot look, and the conditions a check names when one of its objects is not judged because of them.
# A unit test proves each is in catalog.yaml; renaming an id means changing it here and in its marker.
DOCKER_ENGINE = "docker.host.daemon-reachable"
DOCKER_CONTAINER_RUNNING = "docker.disconnected.container-running"
KUBERNETES_API = "k8s.cluster.api-reachable"
KUBERNETES_PERMISSIONS = "k8s.cluster.permissions"
KUBERNETES_PODS_READY = "k8s.disconnected.pods-ready"
KUBERNETES_BLINK_REACHABLE = "k8s.disconnected.blink-reachable"
NAMED_CONDITIONS = (DOCKER_ENGINE, DOCKER_CONTAINER_RUNNING, KUBERNETES_API, KUBERNETES_PERMISSIONS,
                    KUBERNETES_PODS_READY)  # fmt: skip


class CatalogError(ValueError):
    """A catalog file that does not follow the schema; the message names the entry and field."""


@dataclass(frozen=True)
class Condition:
    id: str
    section: str
    platform: str
    step: str
    kind: str
    title: str
    checks: str
    remedy: str
    link: str
    requires: tuple[str, ...]
    # One line for the report's verdict when this condition fails ("egress to Blink is blocked - ...").
    verdict: str = ""
    # Other remedies a judge may choose by name (a Finding's `variant`), each with its own verdict line.
    variants: Mapping[str, Variant] = dataclass_field(default_factory=dict)
    # The problem line a judge chooses by name (a Finding's `variant`), filled into the remedy's {problem}.
    problems: Mapping[str, str] = dataclass_field(default_factory=dict)
    # What the check reads through the Kubernetes API (keys of blinkcheck.kubernetes.reads.READS): the
    # permission check names this condition as the one a missing read stops.
    reads: tuple[str, ...] = ()
    # The runbook's recovery steps that answer it (--remediate): {"failed" | variant: keys of Catalog.recovery}.
    recovery: Mapping[str, tuple[str, ...]] = dataclass_field(default_factory=dict)

    def remedy_for(self, variant: str) -> str:
        return self.variants[variant].remedy if variant in self.variants else self.remedy

    def remediation(self, variant: str, values: Mapping[str, object]) -> str:
        """The remedy the judge chose, its {problem} line chosen too, with the values filled in."""
        if variant in self.problems:
            values = {**values, "problem": fill(self.problems[variant], values)}
        return fill(self.remedy_for(variant), values)

    @property
    def choices(self) -> frozenset[str]:
        """The names a judge may give a finding of this condition as its `variant` ("" is the main remedy)."""
        return frozenset({"", *self.variants, *self.problems} - ({""} if self.problems else set()))

    def verdict_for(self, variant: str) -> str:
        chosen = self.variants.get(variant)
        return (chosen.verdict or self.verdict) if chosen else self.verdict

    @property
    def markers(self) -> tuple[str, ...]:
        """pytest markers of its check: platform, section, step (`step3`; a range "3-4" gives step3 and step4)."""
        return (self.platform, self.section, *(f"step{n}" for n in step_numbers(self.step)))


@dataclass(frozen=True)
class Variant:
    remedy: str
    verdict: str = ""


def step_numbers(step: str) -> tuple[int, ...]:
    """The runbook step numbers of a step field: "3" -> (3,), "3-4" -> (3, 4), "-" -> ()."""
    m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+))?\s*", step)
    if not m:
        return ()
    first, last = int(m[1]), int(m[2] or m[1])
    return tuple(range(first, max(first, last) + 1))


@dataclass(frozen=True)
class PatternFamily:
    family: str
    label: str
    patterns: tuple[re.Pattern[str], ...]
    hint: str


@dataclass(frozen=True)
class Catalog:
    path: Path
    conditions: tuple[Condition, ...]
    sections: Mapping[str, str]
    links: Mapping[str, str]
    site: Mapping[str, str]
    network_error_families: tuple[PatternFamily, ...]
    upgrade_patterns: Mapping[str, re.Pattern[str]]
    # Lines that say the runner is connected to Blink: a timeline's "connected again since".
    success_patterns: tuple[re.Pattern[str], ...] = ()
    # The egress probe's advice per failed layer (dns, tcp, proxy, tls, tls-untrusted, http).
    probe_layers: Mapping[str, str] = dataclass_field(default_factory=dict)
    # How to let the suite look where it could not (a grant, an image with curl), by key.
    advice: Mapping[str, str] = dataclass_field(default_factory=dict)
    recovery: Mapping[str, Any] = dataclass_field(default_factory=dict)  # key -> remediate.catalog.RecoveryStep

    def __getitem__(self, condition_id: str) -> Condition:
        for c in self.conditions:
            if c.id == condition_id:
                return c
        raise KeyError(condition_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.conditions)

    def advise(self, key: str, **values: str) -> str:
        """Keyed advice (how to let the suite look), filled: a key the catalog lacks is a bug, so it raises."""
        return fill(self.advice[key], values)

    def readers(self, read: str) -> tuple[str, ...]:
        """The conditions whose checks make this read (what a missing permission stops)."""
        return tuple(c.id for c in self.conditions if read in c.reads)

    def order(self, condition_id: str) -> int:
        return self.ids.index(condition_id) if condition_id in self.ids else len(self.ids)

    def link_url(self, condition: Condition) -> str:
        return self.links.get(condition.link, condition.link)


# What a value must look like to be filled into a remedy (inside a command or not): the shape of the
# runbook object it names. A value that does not fit is never put into the text; it is shown apart.
SHAPES: Mapping[str, tuple[str, re.Pattern[str]]] = {
    "container_id": ("container id", re.compile(r"[0-9a-f]{12,64}")),
    "new_container_id": ("container id or name", re.compile(r"[0-9a-f]{12,64}|[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}")),
    "container_name": ("container name", re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}")),
    "new_container_name": ("container name", re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}")),
    "runner_name": ("container/deployment name", re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,252}")),
    "version": ("version", re.compile(r"[0-9][0-9A-Za-z.+-]{0,63}")),
    "namespace": ("namespace", re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")),
    "pod": ("pod name", re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")),
    "deployment": ("deployment name", re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")),
    "operator": ("deployment name", re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")),
    "secret": ("secret name", re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")),
    "secret_key": ("secret key", re.compile(r"[-._a-zA-Z0-9]{1,253}")),
    "probe_image": ("image reference", re.compile(r"[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?")),
    "window": ("duration", re.compile(r"[0-9][0-9a-z. ]*")),
    "wait": ("duration", re.compile(r"[0-9][0-9a-z. ]*")),
}
_SHELL_SAFE = re.compile(r"[A-Za-z0-9_./:@%+=,-]+")
# Whole command lines the suite builds (the probe's "reproduce by hand"): filled only in shlex's canonical
# form, every word quoted on its own, so nothing in them is something a shell would act on.
COMMANDS = frozenset({"reproduce", "probe_command"})


def is_quoted_command(value: str) -> bool:
    try:
        return bool(value.strip()) and shlex.join(shlex.split(value)) == value
    except ValueError:
        return False


def _shown(value: str) -> str:
    """A value shown apart: quoted, control characters escaped, long ones cut."""
    text = value if len(value) <= 200 else value[:200] + "…"
    return repr(text)


def fill(template: str, values: Mapping[str, object]) -> str:
    """Fill plain {placeholders}. A value with a known shape (container id, version, namespace, ...) is
    filled only when it fits that shape; other values inside a `command` are shell-quoted. A value that
    does not fit is never put into the text: its placeholder stays visible and the value is listed apart
    under the remedy. Unknown placeholders stay visible so a reader sees what was not found."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:  # stray braces in site-supplied text: show it unfilled
        return template
    out: list[str] = []
    apart: dict[str, str] = {}
    in_command = False
    for literal, name, spec, conversion in parts:
        out.append(literal)
        in_command ^= literal.count("`") % 2 == 1
        if name is None:
            continue
        raw = values.get(name)
        if raw is None or str(raw) == "" or spec or conversion or not name.isidentifier():
            out.append("{" + name + ("!" + conversion if conversion else "") + (":" + spec if spec else "") + "}")
            continue
        value = str(raw)
        shape = SHAPES.get(name)
        if name in COMMANDS:
            if is_quoted_command(value):
                out.append(value)
            else:
                apart[name] = f"{name} = {_shown(value)} (not a command line the suite built)"
                out.append("{" + name + "}")
        elif shape is not None and not shape[1].fullmatch(value):
            apart[name] = f"{name} = {_shown(value)} (does not look like a {shape[0]})"
            out.append("{" + name + "}")
        elif in_command and shape is None and not _SHELL_SAFE.fullmatch(value):
            out.append(shlex.quote(value))
        else:
            out.append(value)
    text = "".join(out)
    if apart:
        text += "\nNot filled in above (shown apart, never inside a command):\n" + "\n".join(
            f"  {line}" for line in apart.values()
        )
    return text


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _check_placeholders(text: str, where: str, field: str) -> None:
    """Only plain `{name}`: no format spec (`{x:>500000000}`), conversion, index or attribute."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise CatalogError(f"{where}: field '{field}' has a malformed placeholder: {exc}") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            shown = "{" + name + ("!" + conversion if conversion else "") + (":" + spec if spec else "") + "}"
            raise CatalogError(
                f"{where}: field '{field}' has placeholder '{shown}': only plain {{name}} placeholders are allowed"
            )


def _check_url(url: object, where: str, field: str, schemes: tuple[str, ...] = ("http", "https")) -> None:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in schemes or not parts.netloc or any(ch.isspace() for ch in str(url)):
        allowed = " or ".join(f"{s}://" for s in schemes)
        raise CatalogError(f"{where}: field '{field}' must be an {allowed} URL, got {url!r}")


def _need(entry: Mapping[str, Any], field: str, where: str, kind: type = str) -> Any:
    if field not in entry:
        raise CatalogError(f"{where}: missing field '{field}'")
    value = entry[field]
    if not isinstance(value, kind):
        raise CatalogError(f"{where}: field '{field}' must be a {kind.__name__}, got {type(value).__name__}")
    return value


def _condition(entry: Any, index: int, links: Mapping[str, str]) -> Condition:
    from blinkcheck.remediate.catalog import condition_recovery  # it reads this module's checks
    where = f"conditions[{index}]"
    if not isinstance(entry, dict):
        raise CatalogError(f"{where}: must be a mapping")
    cid = _need(entry, "id", where)
    where = f"condition '{cid}'"
    if not _ID.match(cid):
        raise CatalogError(f"{where}: field 'id' must look like docker.<group>.<name> or k8s.<group>.<name>")
    choices = {"section": SECTIONS, "platform": PLATFORMS, "kind": KINDS}
    for field, allowed in choices.items():
        if _need(entry, field, where) not in allowed:
            raise CatalogError(f"{where}: field '{field}' must be one of {', '.join(allowed)}")
    requires = entry.get("requires", [])
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise CatalogError(f"{where}: field 'requires' must be a list of condition ids")
    link = _need(entry, "link", where)
    if link not in links:
        if not link.startswith("https://"):
            raise CatalogError(f"{where}: field 'link' must name an entry of 'links' or be an https:// URL")
        _check_url(link, where, "link", ("https",))
    remedy = _need(entry, "remedy", where)
    for field in ("remedy", "checks", "title", "verdict"):
        if isinstance(entry.get(field), str):
            _check_placeholders(entry[field], where, field)
    variants = {}
    raw_variants = entry.get("variants") or {}
    if not isinstance(raw_variants, dict):
        raise CatalogError(f"{where}: field 'variants' must be a mapping of name to {{remedy, verdict}}")
    for name, v in raw_variants.items():
        vwhere = f"{where}: variant '{name}'"
        if not isinstance(v, dict):
            raise CatalogError(f"{vwhere}: must be a mapping with 'remedy'")
        for field in ("remedy", "verdict"):
            if field == "remedy" or isinstance(v.get(field), str):
                _check_placeholders(_need(v, field, vwhere), vwhere, field)
        variants[str(name)] = Variant(v["remedy"], str(v.get("verdict") or ""))
    problems = entry.get("problems") or {}
    if not isinstance(problems, dict) or not all(isinstance(v, str) for v in problems.values()):
        raise CatalogError(f"{where}: field 'problems' must be a mapping of name to a problem line")
    for name, text in problems.items():
        _check_placeholders(text, f"{where}: problem '{name}'", "problems")
    says_problem = any("{problem}" in r for r in (remedy, *(v.remedy for v in variants.values())))
    if says_problem != bool(problems):
        raise CatalogError(f"{where}: a remedy with {{problem}} needs field 'problems' (and 'problems' a remedy "
                           "with {problem})")  # fmt: skip
    reads = entry.get("reads", [])
    if not isinstance(reads, list) or not all(isinstance(r, str) for r in reads):
        raise CatalogError(f"{where}: field 'reads' must be a list of read names")
    return Condition(
        id=cid,
        section=entry["section"],
        platform=entry["platform"],
        step=str(_need(entry, "step", where)),
        kind=entry["kind"],
        title=_need(entry, "title", where),
        checks=_need(entry, "checks", where),
        remedy=remedy,
        link=link,
        requires=tuple(requires),
        verdict=str(entry.get("verdict") or ""),
        variants=variants,
        problems={str(k): v for k, v in problems.items()},
        reads=tuple(reads),
        recovery=condition_recovery(entry, where, {*variants, *problems}),
    )


def _families(raw: Any) -> tuple[PatternFamily, ...]:
    if not isinstance(raw, list):
        raise CatalogError("network_error_families: must be a list")
    out = []
    for i, entry in enumerate(raw):
        where = f"network_error_families[{i}]"
        if not isinstance(entry, dict):
            raise CatalogError(f"{where}: must be a mapping")
        name = _need(entry, "family", where)
        where = f"network error family '{name}'"
        pats = _need(entry, "patterns", where, list)
        try:
            compiled = tuple(re.compile(p) for p in pats)
        except re.error as exc:
            raise CatalogError(f"{where}: field 'patterns' has a bad regular expression: {exc}") from None
        hint = _need(entry, "hint", where)
        _check_placeholders(hint, where, "hint")
        out.append(PatternFamily(name, _need(entry, "label", where), compiled, hint))
    return tuple(out)


def load_catalog(path: Path | str = DEFAULT_CATALOG) -> Catalog:
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: must be a mapping with 'conditions'")
    if raw.get("schema_version") != 1:
        raise CatalogError(f"{path}: field 'schema_version' must be 1")
    links = raw.get("links") or {}
    if not isinstance(links, dict):
        raise CatalogError("links: must be a mapping of name: URL")
    for name, url in links.items():
        _check_url(url, f"links.{name}", "url")
    site = raw.get("site") or {}
    sections = raw.get("sections") or {}
    conditions = tuple(_condition(e, i, links) for i, e in enumerate(_need(raw, "conditions", str(path), list)))
    ids = [c.id for c in conditions]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise CatalogError(f"{path}: duplicate condition ids: {', '.join(dupes)}")
    for c in conditions:
        unknown = [r for r in c.requires if r not in ids]
        if unknown:
            raise CatalogError(f"condition '{c.id}': field 'requires' names unknown ids: {', '.join(unknown)}")
    upgrade_raw = raw.get("upgrade_patterns") or {}
    try:
        upgrade = {k: re.compile(v) for k, v in upgrade_raw.items()}
    except re.error as exc:
        raise CatalogError(f"upgrade_patterns: bad regular expression: {exc}") from None
    for key, groups in UPGRADE_GROUPS.items():
        if key not in upgrade:
            raise CatalogError(f"upgrade_patterns: missing field '{key}'")
        missing = [g for g in groups if g not in upgrade[key].groupindex]
        if missing:
            raise CatalogError(
                f"upgrade_patterns: field '{key}' must have the named groups {', '.join(groups)} "
                f"(missing: {', '.join(missing)})"
            )
    success_raw = raw.get("success_patterns") or []
    if not isinstance(success_raw, list) or not all(isinstance(x, str) for x in success_raw):
        raise CatalogError("success_patterns: must be a list of regular expressions")
    try:
        success = tuple(re.compile(x) for x in success_raw)
    except re.error as exc:
        raise CatalogError(f"success_patterns: bad regular expression: {exc}") from None
    advice = raw.get("advice") or {}
    if not isinstance(advice, dict) or not all(isinstance(v, str) for v in advice.values()):
        raise CatalogError("advice: must be a mapping of key to advice text")
    for key, text in advice.items():
        _check_placeholders(text, f"advice.{key}", "text")
    from blinkcheck.remediate.catalog import check_keys, parse_recovery
    check_keys(conditions, recovery := parse_recovery(raw.get("recovery")))
    layers = raw.get("probe_layers") or {}
    if not isinstance(layers, dict) or not all(isinstance(v, str) for v in layers.values()):
        raise CatalogError("probe_layers: must be a mapping of layer name to advice text")
    return Catalog(
        path=path,
        conditions=conditions,
        sections={**dict.fromkeys(SECTIONS, ""), **sections},
        links=links,
        site=site,
        network_error_families=_families(raw.get("network_error_families", [])),
        upgrade_patterns=upgrade,
        success_patterns=success,
        probe_layers={str(k): v for k, v in layers.items()},
        advice={str(k): v for k, v in advice.items()},
        recovery=recovery,
    )
