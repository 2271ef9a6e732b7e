"""The plan: which of the runbook's recovery steps answer what the checks found, in runbook order, with the real
names filled in. Pure: the run's results in, steps out (a dry run is this plan, printed).

A condition names its steps in the catalog (`recovery`: under `failed`, or under the variant its judge chose); the
catalog's `recovery` section holds their text. A step is planned once per object it acts on, however many failed
conditions ask for it (operator-stuck and operator-handoff both restart the same runner deployment).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from blinkcheck.catalog import SHAPES, Catalog, fill, placeholders
from blinkcheck.model import Outcome
from blinkcheck.remediate.catalog import FAILED, RecoveryStep
from blinkcheck.results import CheckResult


@dataclass(frozen=True)
class Step:
    """One recovery step for one object, its text filled in."""

    key: str  # the catalog's recovery key
    platform: str
    kind: str  # action | manual | hold
    runbook_step: str
    title: str
    text: str  # action: the exact command; manual / hold: what to do
    object: str
    because: tuple[str, ...]  # the conditions whose results asked for it
    values: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    missing: tuple[str, ...] = ()  # placeholders without a fitting value: an action that can never be performed

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))


def keys_for(result: CheckResult) -> tuple[str, ...]:
    """The recovery steps a result asks for: its variant's, else (when it failed) the condition's `failed` ones."""
    recovery = result.condition.recovery
    if result.variant and result.variant in recovery:
        return recovery[result.variant]
    return recovery.get(FAILED, ()) if result.outcome is Outcome.FAILED else ()


def target_values(values: Mapping[str, str], kind: str) -> dict[str, str]:
    """The values a step acts on. A failed upgrade's action acts on the upgraded container (the one not running),
    not on the old runner the upgrade lines were read from."""
    out = {k: v for k, v in values.items() if v}
    if kind == "action" and out.get("new_container_id"):
        out["container_id"] = out["new_container_id"]
        out["container_name"] = out.get("new_container_name") or out["new_container_id"]
    return out


def unfilled(template: str, values: Mapping[str, str]) -> tuple[str, ...]:
    """Placeholders with no value, or a value that does not have its shape (never filled into a command)."""
    bad = []
    for name in sorted(placeholders(template)):
        value = values.get(name, "")
        shape = SHAPES.get(name)
        if not value or (shape is not None and not shape[1].fullmatch(value)):
            bad.append(name)
    return tuple(bad)


def make_step(recovery: RecoveryStep, platform: str, values: Mapping[str, str], because: str) -> Step:
    mine = target_values(values, recovery.kind)
    return Step(
        key=recovery.key,
        platform=platform,
        kind=recovery.kind,
        runbook_step=recovery.step,
        title=recovery.title,
        text=fill(recovery.text, mine),
        object=fill(recovery.object, mine),
        because=(because,),
        values={k: mine[k] for k in placeholders(recovery.text) | placeholders(recovery.object) if k in mine},
        missing=unfilled(recovery.text, mine) if recovery.kind == "action" else (),
    )


def plan(catalog: Catalog, results: Sequence[CheckResult]) -> list[Step]:
    """The recovery steps for the run's results, in runbook order (the catalog's), each once per object."""
    found: dict[tuple[str, str, str], Step] = {}
    for r in results:
        for key in keys_for(r):
            step = make_step(catalog.recovery[key], r.platform, r.values, r.id)
            same = (step.key, step.object, step.text)
            if same in found:
                prior = found[same]
                if r.id not in prior.because:
                    found[same] = replace(prior, because=(*prior.because, r.id))
            else:
                found[same] = step
    order = list(catalog.recovery)
    return sorted(found.values(), key=lambda s: order.index(s.key))


def actions(steps: Sequence[Step]) -> list[Step]:
    return [s for s in steps if s.kind == "action"]
