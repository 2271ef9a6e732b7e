"""Load and validate the runbook catalog; fill remedy placeholders."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CATALOG = Path(__file__).with_name("catalog.yaml")

SECTIONS = ("precondition", "disconnected", "upgrade", "deployment")
PLATFORMS = ("docker", "kubernetes")
KINDS = ("precondition", "check", "manual")
_ID = re.compile(r"^(docker|k8s)\.[a-z0-9-]+\.[a-z0-9-]+$")


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

    def remedy_for(self, variant: str) -> str:
        return self.variants[variant].remedy if variant in self.variants else self.remedy

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

    def __getitem__(self, condition_id: str) -> Condition:
        for c in self.conditions:
            if c.id == condition_id:
                return c
        raise KeyError(condition_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.conditions)

    def order(self, condition_id: str) -> int:
        return self.ids.index(condition_id) if condition_id in self.ids else len(self.ids)

    def link_url(self, condition: Condition) -> str:
        return self.links.get(condition.link, condition.link)


class _KeepMissing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, values: Mapping[str, object]) -> str:
    """Fill {placeholders}; unknown ones stay visible so a reader sees what was not found."""
    safe = _KeepMissing({k: str(v) for k, v in values.items()})
    try:
        return string.Formatter().vformat(template, (), safe)
    except (ValueError, IndexError):  # stray braces in site-supplied text: show it unfilled
        return template


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _need(entry: Mapping[str, Any], field: str, where: str, kind: type = str) -> Any:
    if field not in entry:
        raise CatalogError(f"{where}: missing field '{field}'")
    value = entry[field]
    if not isinstance(value, kind):
        raise CatalogError(f"{where}: field '{field}' must be a {kind.__name__}, got {type(value).__name__}")
    return value


def _condition(entry: Any, index: int, links: Mapping[str, str]) -> Condition:
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
    if link not in links and not link.startswith("https://"):
        raise CatalogError(f"{where}: field 'link' must name an entry of 'links' or be an https:// URL")
    remedy = _need(entry, "remedy", where)
    try:
        placeholders(remedy)
    except ValueError as exc:
        raise CatalogError(f"{where}: field 'remedy' has a malformed placeholder: {exc}") from None
    variants = {}
    raw_variants = entry.get("variants") or {}
    if not isinstance(raw_variants, dict):
        raise CatalogError(f"{where}: field 'variants' must be a mapping of name to {{remedy, verdict}}")
    for name, v in raw_variants.items():
        vwhere = f"{where}: variant '{name}'"
        if not isinstance(v, dict):
            raise CatalogError(f"{vwhere}: must be a mapping with 'remedy'")
        try:
            placeholders(_need(v, "remedy", vwhere))
        except ValueError as exc:
            raise CatalogError(f"{vwhere}: field 'remedy' has a malformed placeholder: {exc}") from None
        variants[str(name)] = Variant(v["remedy"], str(v.get("verdict") or ""))
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
        out.append(PatternFamily(name, _need(entry, "label", where), compiled, _need(entry, "hint", where)))
    return tuple(out)


def load_catalog(path: Path | str = DEFAULT_CATALOG) -> Catalog:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: must be a mapping with 'conditions'")
    if raw.get("schema_version") != 1:
        raise CatalogError(f"{path}: field 'schema_version' must be 1")
    links = raw.get("links") or {}
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
    for key in ("creating", "found_existing", "operator_handoff"):
        if key not in upgrade:
            raise CatalogError(f"upgrade_patterns: missing field '{key}'")
    success_raw = raw.get("success_patterns") or []
    if not isinstance(success_raw, list) or not all(isinstance(x, str) for x in success_raw):
        raise CatalogError("success_patterns: must be a list of regular expressions")
    try:
        success = tuple(re.compile(x) for x in success_raw)
    except re.error as exc:
        raise CatalogError(f"success_patterns: bad regular expression: {exc}") from None
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
    )
