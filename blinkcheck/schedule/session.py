"""The two moments of a run the scheduling options act in (see blinkcheck.schedule)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from blinkcheck.results import one_line_summary
from blinkcheck.run import RunState
from blinkcheck.schedule import ScheduleRun, history, metrics, notify
from blinkcheck.schedule.notify import TARGET_ENTRY_ENV


def started_at(state: RunState) -> str:
    return datetime.fromtimestamp(state.started, UTC).isoformat()  # as results.json says it


def before_reports(state: RunState, run: ScheduleRun | None) -> dict[str, Any]:
    """With --history: compare with the runs kept, note it, hold back exit 1 under --fail-after; returns what
    results.json gets (its `history`)."""
    if run is None:
        return {}
    spec = run.spec
    if spec.notify_url:
        state.redactor.add(spec.notify_url)  # a webhook's path is its key: never in a report
    if spec.history_dir is None:
        return {}
    checks = [{"id": r.id, "object": r.object, "outcome": str(r.outcome)} for r in state.results]
    try:
        past, unreadable = history.load(spec.history_dir)
    except OSError as exc:
        state.notes.append(f"History: could not read {spec.history_dir}: {exc.strerror or exc}")
        return {}
    found = history.compare(history.failing_keys(checks), started_at(state), [r.id for r in state.results], past,
                            spec.fail_after)  # fmt: skip
    found.unreadable = unreadable
    if state.exit_code is not None:
        state.exit_code = history.exit_code(state.exit_code, found)
    state.notes.extend(state.redactor(n) for n in history.note(found, spec.history_dir))
    run.found, run.last = found, (past[0] if past else None)
    run.results_part = history.results_part(found, spec.history_dir)
    return run.results_part


def after_reports(state: RunState, run: ScheduleRun | None, say: Callable[[str], None]) -> None:
    """Once every report is written: keep this run's results.json, send the message, write the metrics."""
    if run is None:
        return
    if run.spec.history_dir is not None:
        _keep(state, run, say)
    if run.spec.notify_url and run.found is not None:
        _notify(state, run, say)
    if run.spec.metrics_file is not None:
        _metrics(state, run, say)


def _keep(state: RunState, run: ScheduleRun, say: Callable[[str], None]) -> None:
    assert run.spec.history_dir is not None
    results = state.reports.get("results.json")
    if results is None or not state.artifacts.owned(results):
        say(f"History: this run is not kept in {run.spec.history_dir}: its results.json was not written")
        return
    try:
        state.artifacts.write(run.spec.history_dir / history.file_name(started_at(state)), results.read_bytes())
        history.prune(run.spec.history_dir, run.spec.history_keep)
    except OSError as exc:
        say(f"History: could not keep this run in {run.spec.history_dir}: {exc.strerror or exc}")


def _notify(state: RunState, run: ScheduleRun, say: Callable[[str], None]) -> None:
    url = run.spec.notify_url
    assert url is not None and run.found is not None
    alerting = run.found.alerting
    kind = notify.kind_of(alerting, run.last.alerting if run.last else None)
    if kind is None:
        say(f"blink-checks notify: nothing new since the last run: no message to {notify.where(url)}")
        return
    wanted = set(alerting)
    failing = [r for r in state.results if r.id in wanted and r.outcome.fails_run]
    lead = next((r for r in failing if r.remediation and not r.because_of), None)
    seen: set[tuple[str, str]] = set()
    failures = []
    causes = [r for r in failing if not r.because_of] or failing  # the verdict's causes, not their echoes
    for r in causes:
        if (r.id, r.object) not in seen:
            seen.add((r.id, r.object))
            failures.append((r.id, r.object, r.verdict or r.title))
    cleared = list(run.found.cleared)
    platforms = ", ".join(state.selected_platforms) or state.spec.target
    where = state.spec.docker_host if platforms == "docker" else (state.spec.namespace or "")
    target = f"{platforms} ({where})" if where else platforms
    if os.environ.get(TARGET_ENTRY_ENV):  # one target of a --targets run: named as in the targets file
        target = f"target {os.environ[TARGET_ENTRY_ENV]}: {target}"
    payload = notify.message(
        kind, target=target, failures=failures, cleared=cleared,
        remedy=lead.remediation if lead else "", summary=one_line_summary(state),
        report=str(state.reports.get("report.html", state.spec.report_dir / "report.html")), host=socket.gethostname(),
    )  # fmt: skip
    payload["text"] = state.redactor(payload["text"])
    sent = notify.post(url, payload, run.spec.notify_timeout_s)
    verb = "sent" if sent.sent else "NOT sent"
    say(f"blink-checks notify: {kind} message {verb} to {notify.where(url)} ({sent.why}; {sent.attempts} attempt(s)); "
        f"the exit code is the run's")  # fmt: skip


def _metrics(state: RunState, run: ScheduleRun, say: Callable[[str], None]) -> None:
    path = run.spec.metrics_file
    assert path is not None
    now = datetime.now(UTC).timestamp()
    code = state.exit_code if state.exit_code is not None else 1
    rows = [(r.id, r.object, r.condition.platform, str(r.outcome)) for r in state.results]
    text = metrics.exposition(rows, duration_s=now - state.started, exit_code=code, finished=now,
                              last_success=now if code == 0 else metrics.previous_success(path))  # fmt: skip
    try:
        state.artifacts.write(path, state.redactor(text))
    except OSError as exc:
        say(f"--metrics: could not write {path}: {exc.strerror or exc}")
