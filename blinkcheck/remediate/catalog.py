"""The catalog's `recovery` section (the runbook's recovery steps, keyed) and each condition's `recovery` field
(which steps answer it): loaded and validated with the rest of the catalog (blinkcheck.catalog)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from blinkcheck.catalog import CatalogError, _check_placeholders

KINDS = ("action", "manual", "hold")
FAILED = "failed"  # a condition's `recovery` key for "when it failed"; any other key names a variant


@dataclass(frozen=True)
class RecoveryStep:
    key: str
    kind: str  # action (the suite can perform it) | manual (a person does it) | hold (leave it alone)
    step: str  # the runbook's section and step number, e.g. "Upgrade Failure 4"
    title: str
    text: str  # action: the runbook's command; manual / hold: what to do
    object: str  # what it acts on ("container {container_name} ({container_id})")


def parse_recovery(raw: Any) -> dict[str, RecoveryStep]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CatalogError("recovery: must be a mapping of key to {kind, step, object, title, command or text}")
    out = {}
    for key, entry in raw.items():
        where = f"recovery.{key}"
        if not isinstance(entry, dict):
            raise CatalogError(f"{where}: must be a mapping")
        kind = entry.get("kind")
        if kind not in KINDS:
            raise CatalogError(f"{where}: field 'kind' must be one of {', '.join(KINDS)}")
        field = "command" if kind == "action" else "text"
        for name in ("step", "title", "object", field):
            if not isinstance(entry.get(name), str) or not entry[name].strip():
                raise CatalogError(f"{where}: missing field '{name}'")
            _check_placeholders(entry[name], where, name)
        if kind == "action" and "`" in entry["command"]:
            raise CatalogError(f"{where}: field 'command' is one command line, without backticks")
        out[str(key)] = RecoveryStep(str(key), kind, entry["step"], entry["title"], entry[field], entry["object"])
    return out


def condition_recovery(entry: Mapping[str, Any], where: str, names: Collection[str]) -> dict[str, tuple[str, ...]]:
    """A condition's `recovery`: {failed | <variant>: [step keys]} (the keys are checked against the section later)."""
    raw = entry.get("recovery") or {}
    if not isinstance(raw, dict) or not all(isinstance(v, list) and all(isinstance(k, str) for k in v)
                                            for v in raw.values()):  # fmt: skip
        raise CatalogError(f"{where}: field 'recovery' must be a mapping of 'failed' or a variant to step keys")
    unknown = sorted(k for k in raw if k != FAILED and k not in names)
    if unknown:
        raise CatalogError(f"{where}: field 'recovery' names {', '.join(unknown)}: neither 'failed' nor a variant")
    return {str(k): tuple(v) for k, v in raw.items()}


def check_keys(conditions: Any, steps: Mapping[str, RecoveryStep]) -> None:
    for c in conditions:
        unknown = sorted({k for keys in c.recovery.values() for k in keys} - set(steps))
        if unknown:
            raise CatalogError(f"condition '{c.id}': field 'recovery' names unknown steps: {', '.join(unknown)}")
