"""Re-judging a lab run's escalation packet offline (`pytest checks/ --from-packet …`) and comparing: the scenario
tests run live with `--bundle on`, then replay the packet (no lab needed) with every connection and child process
refused (tests/no_network.py), and assert the same outcome for every condition and object, and the same exit code."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from tests.harness import ROOT, CheckRun, run_checks

TABLE = ROOT / "reports" / "integration" / "replay.json"  # live vs replay, per scenario: the note's table


def packet_of(run: CheckRun) -> Path:
    found = re.search(r"Escalation packet: (\S+\.tar\.gz)", run.stdout)
    assert found, f"no escalation packet written:\n{run.stdout[-3000:]}"
    return Path(found[1])


def judged(run: CheckRun) -> Counter[tuple[str, str, str]]:
    """(condition, object, outcome) of every result, counted (an object may be judged twice, e.g. two operators)."""
    return Counter((c["id"], c["object"], c["outcome"]) for c in run.results["checks"])


def replay_of(run: CheckRun, *extra: str) -> CheckRun:
    """The run's packet replayed, every connection refused; asserts the outcomes and exit code are the live run's."""
    packet = packet_of(run)
    report_dir = run.report_dir.parent / f"{run.report_dir.name}-replay"
    attempts = report_dir.parent / f"{report_dir.name}.attempts"
    attempts.unlink(missing_ok=True)
    replay = run_checks("--from-packet", str(packet), "-p", "tests.no_network", *extra, report_dir=report_dir,
                        env={"BLINK_NO_NETWORK_LOG": str(attempts)}, timeout=120)  # fmt: skip
    assert not attempts.exists(), f"the replay tried to reach something: {attempts.read_text()}"
    assert judged(replay) == judged(run), (
        f"replay of {packet.name} differs:\nlive only: {judged(run) - judged(replay)}\n"
        f"replay only: {judged(replay) - judged(run)}\n{replay.stdout[-3000:]}{replay.stderr[-2000:]}"
    )
    assert replay.exit_code == run.exit_code, replay.stdout[-3000:]
    assert replay.results["replayed_from"]["packet"] == packet.name
    _note(run, replay)
    return replay


def _note(run: CheckRun, replay: CheckRun) -> None:
    data = json.loads(TABLE.read_text()) if TABLE.exists() else {}
    data[run.report_dir.name] = {
        "live": {"exit": run.exit_code, "wall_s": round(run.wall_s, 2), "counts": run.results["counts"]},
        "replay": {"exit": replay.exit_code, "wall_s": round(replay.wall_s, 2), "counts": replay.results["counts"]},
        "same_outcome_per_condition_and_object": judged(run) == judged(replay),
    }
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    TABLE.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
