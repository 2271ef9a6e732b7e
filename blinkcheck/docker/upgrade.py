"""Runbook: Upgrade Failure on Docker, steps 2-4 (the upgrade lines, the new container runs). Pure."""

from __future__ import annotations

from collections.abc import Sequence

from blinkcheck.docker.facts import ContainerFacts, describe_state, state_table
from blinkcheck.logs.judge import UpgradeLine, last_lines
from blinkcheck.logs.scan import LogWindow
from blinkcheck.model import Evidence, Finding, Outcome


def judge_upgrade_indicators(cid: str, c: ContainerFacts, window: LogWindow, lines: Sequence[UpgradeLine]) -> Finding:
    """No upgrade lines: nothing to judge, so it passes. Lines found: report version and ids."""
    values = {"container_id": c.short_id, "container_name": c.name}
    if window.error:
        return Finding(cid, Outcome.NOT_EVALUABLE, f"Could not read the logs of {c.label}: {window.error}",
                       c.label, values=values)  # fmt: skip
    if window.cut:
        found = f"; {len(lines)} upgrade line(s) in the part read" if lines else ""
        return Finding(cid, Outcome.NOT_EVALUABLE, f"The log window of {c.label} was read only in part "
                       f"({window.cut}){found}: the newest upgrade attempt may be in the part not read.",
                       c.label, values=values)  # fmt: skip
    if not lines:
        return Finding(
            cid,
            Outcome.PASSED,
            f"No upgrade in {c.label}'s logs ({window.window}): nothing to judge.",
            c.label,
            values=values,
        )
    last = lines[-1]
    what = "creating a new container" if last.kind == "creating" else "found the new container running"
    return Finding(
        cid,
        Outcome.PASSED,
        f"{c.label} logged an upgrade to {last.version} ({what}; container id {last.container_id[:12]}).",
        c.label,
        evidence=(
            Evidence("Upgrade lines", "\n".join(x.line for x in lines), source=f"{window.source}, {window.window}"),
        ),
        values={**values, "version": last.version},
    )


def judge_new_container(
    cid: str,
    runner: ContainerFacts,
    line: UpgradeLine,
    new: ContainerFacts | None,
    new_window: LogWindow | None,
) -> Finding:
    values = {
        "container_id": runner.short_id,
        "container_name": runner.name,
        "version": line.version,
        "new_container_name": line.name,
        "new_container_id": new.short_id if new else (line.container_id[:12] if line.kind == "found_existing" else ""),
    }
    if new is None:
        values["new_state"] = "missing"
        return Finding(
            cid,
            Outcome.FAILED,
            f"The upgrade to {line.version} names {line.name}, but no such container exists.",
            f"container {line.name}",
            evidence=(Evidence("Upgrade line", line.line, source=runner.label),),
            values={**values, "new_container_id": values["new_container_id"] or line.name},
        )
    values["new_state"] = describe_state(new)
    if new.status == "running":
        return Finding(
            cid,
            Outcome.PASSED,
            f"Upgraded runner {new.label} runs version {line.version}.",
            new.label,
            values=values,
        )
    evidence = [Evidence("State", state_table([new]), source=new.label)]
    if new_window is not None:
        evidence.append(
            Evidence("Last log lines of the upgraded container", last_lines(new_window), source=new_window.source)
        )
    evidence.append(Evidence("Upgrade line", line.line, source=runner.label))
    return Finding(
        cid,
        Outcome.FAILED,
        f"The upgrade to {line.version} failed: {new.label} is {describe_state(new)}.",
        new.label,
        evidence=tuple(evidence),
        values=values,
    )


def judge_not_a_runner(cid: str, runner: ContainerFacts, line: UpgradeLine, other: str) -> Finding:
    """An upgrade line that names a container which is not a runner: not followed, not trusted."""
    return Finding(
        cid,
        Outcome.NOT_EVALUABLE,
        f"The upgrade line in {runner.label} names container {other}, which is not a runner container (its name "
        f"and image are not the runner's): the suite does not look at it. Check the line by hand.",
        runner.label,
        evidence=(Evidence("Upgrade line", line.line, source=runner.label),),
        values={"container_id": runner.short_id, "container_name": runner.name, "version": line.version},
    )
