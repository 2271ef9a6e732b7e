"""The pytest glue: options, the `condition` marker, dependency-aware outcomes, reports, exit code.

A check is a test marked `@pytest.mark.condition("<id>")` that records one finding per object it
judged through the `record` fixture. This plugin turns those findings into pytest outcomes (for the
terminal and pytest-html), into results.json, and into the run's exit code:
0 nothing failed, 1 a check failed or could not be evaluated, 4 usage error, else pytest's own.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from blinkcheck.artifacts import json_text
from blinkcheck.blocking import per_object, record_of, whole_blocker
from blinkcheck.catalog import SECTIONS, CatalogError, load_catalog, step_numbers
from blinkcheck.many import pytest_cmdline_main as pytest_cmdline_main  # --targets: the parent of many runs
from blinkcheck.model import CouldNotLook, Finding, Outcome, Recorder, worst
from blinkcheck.options import add_options, from_packet, parse_schedule_spec, parse_target_spec
from blinkcheck.redact import Redactor
from blinkcheck.report import html as report_html
from blinkcheck.report.leak_gate import leak_gate
from blinkcheck.report.results_json import results_data, write_results_json
from blinkcheck.report.rows import shape_pytest_report
from blinkcheck.report.verdict import verdict_lines
from blinkcheck.results import build_result, one_line_summary
from blinkcheck.run import STATE, DeadlineExceeded, RunState, state_of
from blinkcheck.schedule import SCHEDULE, ScheduleRun
from blinkcheck.schedule.session import after_reports, before_reports
from blinkcheck.streaming import reads_left_behind

CHECKS_DIR = Path(__file__).resolve().parent.parent / "checks"

# Markers every check gets from its catalog entry at collection (README: "Choosing what runs"); the
# step markers (step1, step2, ...) are registered from the catalog's steps.
MARKERS = {
    "docker": "a check of a runner on a Docker host (from the catalog)",
    "kubernetes": "a check of a runner on Kubernetes (from the catalog)",
    **{section: f"a check of the runbook section '{section}' (from the catalog)" for section in SECTIONS},
}


FINDINGS = pytest.StashKey[list[Finding]]()


def condition_of(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("condition")
    return str(marker.args[0]) if marker and marker.args else None


# ------------------------------------------------------------------ configuration


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def _runs_checks(config: pytest.Config) -> bool:
    for arg in config.args:
        path = Path(arg.split("::", 1)[0]).resolve()
        if path == CHECKS_DIR or CHECKS_DIR in path.parents:
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "condition(id): the runbook condition (catalog id) this check implements"
    )
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    spec = parse_target_spec(config)
    replay = None
    if packet := from_packet(config):  # the recorded run's options and facts; only the report dir and catalog are ours
        from blinkcheck.replay import PacketError, load_packet

        try:
            replay = load_packet(Path(packet), spec)
        except PacketError as exc:
            raise pytest.UsageError(f"--from-packet: {exc}") from None
        if spec.remediate:
            raise pytest.UsageError("--from-packet re-judges a recorded run: there is nothing to --remediate")
        spec = dataclasses.replace(replay.spec, remediate=False, assume_yes=False)  # never acts, whatever was recorded
    try:
        catalog = load_catalog(spec.catalog_path)
    except CatalogError as exc:
        raise pytest.UsageError(f"--catalog: {exc}") from None
    for step in sorted({n for c in catalog.conditions for n in step_numbers(c.step)}):
        config.addinivalue_line("markers", f"step{step}: a check of the runbook's step {step} (from the catalog)")
    enabled = _runs_checks(config)
    redactor = Redactor()
    redactor.add(spec.blink_api_key)  # a user's Blink API key: known before anything is said or asked
    config.stash[STATE] = RunState(spec=spec, catalog=catalog, redactor=redactor, enabled=enabled, replay=replay)
    if replay is not None:
        config.stash[STATE].notes.append(replay.note)
    if not enabled:
        return
    # The project's own tests turn warnings into errors; a user's run must not (an SDK's
    # InsecureRequestWarning would make every check not-evaluable).
    config.addinivalue_line("filterwarnings", "default")
    state = config.stash[STATE]
    try:
        spec.report_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=spec.report_dir, prefix=".write-test.")  # never through a planted link
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise pytest.UsageError(f"--report-dir: cannot write to '{spec.report_dir}': {exc.strerror}") from None
    schedule = parse_schedule_spec(config)  # --history, --notify, --metrics
    if replay is not None and schedule.active:
        # a replay is last week's run: it must not page anyone or enter the history as a run of today
        raise pytest.UsageError("--from-packet re-judges a recorded run: --history, --notify, --metrics do not apply")
    config.stash[SCHEDULE] = ScheduleRun(schedule)
    # pytest-html and junitxml read these in their own pytest_configure, which runs after this one.
    if hasattr(config.option, "htmlpath") and not config.option.htmlpath:
        config.option.htmlpath = str(spec.report_dir / "report.html")
        config.option.self_contained_html = True
    if getattr(config.option, "htmlpath", None):
        state.reports["report.html"] = Path(config.option.htmlpath)
    state.reports["results.json"] = spec.report_dir / "results.json"
    if hasattr(config.option, "xmlpath"):  # absent under -p no:junitxml
        # junitxml opens its file by name (a planted link would be followed): it writes into a private
        # folder, and the file is moved into place without following links (pytest_sessionfinish).
        state.reports["junit.xml"] = Path(config.option.xmlpath or spec.report_dir / "junit.xml")
        state.private_dir = Path(tempfile.mkdtemp(prefix="blinkcheck-"))
        config.option.xmlpath = str(state.private_dir / "junit.xml")
    if config.pluginmanager.hasplugin("html"):
        config.pluginmanager.register(report_html.HtmlHooks(lambda: config.stash[STATE]), "blinkcheck-html")
    _install_signals(config.stash[STATE])


def _install_signals(state: RunState) -> None:
    """A CI runner's SIGTERM ends the run like Ctrl-C: pytest still finishes and the reports are written.
    --deadline arms a timer; when it fires, the running check ends not-evaluable and the rest are skipped."""

    def on_term(signum: int, frame: object) -> None:
        # Once: `timeout` signals the process and then its group, so a second SIGTERM follows at once. It
        # (and any SIGTERM while the reports are written) must not interrupt the stopping run a second time.
        if state.interrupted or state.finishing:
            state.interrupted = state.interrupted or "the run was terminated (SIGTERM)"
            return
        state.interrupted = "the run was terminated (SIGTERM)"
        raise KeyboardInterrupt(state.interrupted)

    signal.signal(signal.SIGTERM, on_term)
    if state.spec.deadline_s:

        def on_deadline(signum: int, frame: object) -> None:
            state.deadline_hit = True
            if state.in_check:
                raise DeadlineExceeded(f"the run's --deadline ({state.spec.deadline_s:g}s) passed during this check")

        signal.signal(signal.SIGALRM, on_deadline)
        signal.setitimer(signal.ITIMER_REAL, state.spec.deadline_s)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is not None and state.spec.deadline_s:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if state is not None and state.private_dir is not None:
        shutil.rmtree(state.private_dir, ignore_errors=True)
    if state is not None and state.enabled and reads_left_behind():
        # A read abandoned at its deadline may still sit in an SSL read of a half-sent answer; the interpreter's
        # teardown would free the connection under it (seen: SIGABRT after every report was written). The
        # reports are written: end here, with the run's exit code.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(state.exit_code if state.exit_code is not None else 1)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    state = session.config.stash.get(STATE, None)
    if state is None or not state.enabled:
        return
    # pytest-html opens its file by name (a planted link would be followed): its report is written
    # through the run's own writer instead, which never follows links and tracks the file for the gate.
    for plugin in session.config.pluginmanager.get_plugins():
        if hasattr(plugin, "_write_report") and hasattr(plugin, "_report_path"):
            html_plugin: Any = plugin

            def write_report(rendered: str, html_plugin: Any = html_plugin) -> None:
                state.artifacts.write(Path(html_plugin._report_path), report_html.arrange_html(rendered))

            html_plugin._write_report = write_report
            state.reports["report.html"] = Path(html_plugin._report_path)


# ------------------------------------------------------------------ collection


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Before pytest's own -k/-m: every check carries its condition id as a keyword (`-k container-running`)
    and its catalog markers (`-m "kubernetes and upgrade"`)."""
    state = state_of(config)
    for item in items:
        cid = condition_of(item)
        if not cid:
            continue
        if cid not in state.catalog.ids:
            raise pytest.UsageError(f"{item.nodeid}: names condition '{cid}', which is not in {state.catalog.path}")
        item.extra_keyword_matches.add(cid)
        for name in state.catalog[cid].markers:
            item.add_marker(name)


@pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_platforms(config: pytest.Config, items: list[pytest.Item]) -> None:
    """After -k/-m: which platforms the selected checks are run on (--target auto looks only at those)."""
    state = state_of(config)
    checks = [i for i in items if condition_of(i)]
    if not checks or not state.enabled:
        return
    from blinkcheck.platforms import TargetChoice, choose_platforms  # late: may contact the targets (auto)

    wanted = tuple(sorted({state.catalog[condition_of(i) or ""].platform for i in checks}))
    if (replay := state.replay) is not None:  # the recorded run's choice: nothing is contacted
        choice = TargetChoice(replay.platforms, replay.platform_notes, replay.skipped_platforms)
    else:
        choice = choose_platforms(state.spec, wanted, state.redactor, state.catalog)
    state.selected_platforms, state.platform_notes = choice.platforms, list(choice.notes)
    state.skipped_platforms = list(choice.skipped)
    keep = [i for i in items if not (cid := condition_of(i)) or state.catalog[cid].platform in choice.platforms]
    drop = [i for i in items if i not in keep]
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep


def pytest_collection_finish(session: pytest.Session) -> None:
    """The final selection (after -k/-m, --lf, platforms), run in runbook order: preconditions first, so
    dependents can be blocked by them (also under --ff / --nf, which would reorder)."""
    state = state_of(session.config)
    if not state.enabled:
        return
    session.items.sort(key=lambda i: state.catalog.order(condition_of(i) or ""))
    state.collected = [(i.nodeid, cid) for i in session.items if (cid := condition_of(i))]


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    state = state_of(config)
    return [f"blink-checks: {note}" for note in state.platform_notes] if state.enabled else []


# ------------------------------------------------------------------ running


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Recorder:
    """Record one finding (one judged object) for this check, for the condition of its marker."""
    return Recorder(condition_of(request.node) or "", request.node.stash.setdefault(FINDINGS, []))


# trylast: the innermost wrapper, so other plugins' setup wrappers (logging's) have run when we skip.
@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    cid = condition_of(item)
    if not cid:
        return (yield)
    state = state_of(item.config)
    # Blocked as a whole only when a required condition failed for everything; else it runs (per object).
    blocker = whole_blocker(cid, state.catalog[cid].requires, state.by_condition)
    if state.deadline_hit:
        why = f"Not run: the run's --deadline ({state.spec.deadline_s:g}s) passed."
        blocker = Finding(cid, Outcome.NOT_EVALUABLE, why)
    if blocker:
        item.stash[FINDINGS] = [blocker]
        pytest.skip(blocker.summary)
    # Fixtures gather facts here (listing runners, pods): the deadline may interrupt them too.
    state.in_check = True
    try:
        return (yield)
    finally:
        state.in_check = False


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    state = state_of(item.config)
    state.in_check = bool(condition_of(item))
    try:
        return (yield)
    finally:
        state.in_check = False


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    rep = yield
    cid = condition_of(item)
    if not cid:
        return rep
    state = state_of(item.config)
    findings = item.stash.setdefault(FINDINGS, [])
    # An exception during the call always adds a finding, even after others were recorded: a check that
    # judged object 1 and then could not look at object 2 is not "passed".
    if call.excinfo is not None and (not findings or call.when == "call"):
        exc = call.excinfo.value
        partial = f" (after {len(findings)} object(s) were judged)" if findings else ""
        if isinstance(exc, CouldNotLook):
            reason = exc.reason + (f" — {exc.how_to_fix}" if exc.how_to_fix else "") + partial
            findings.append(Finding(cid, Outcome.NOT_EVALUABLE, reason, because_of=exc.because_of))
        elif call.excinfo.errisinstance(pytest.skip.Exception):
            findings.append(Finding(cid, Outcome.SKIPPED, str(getattr(exc, "msg", exc))))
        elif not isinstance(exc, KeyboardInterrupt):
            # A crash in a check is "could not look", never healthy. Message only: no locals, no secrets.
            findings.append(
                Finding(cid, Outcome.NOT_EVALUABLE, f"The check crashed: {type(exc).__name__}: {exc}{partial}")
            )
    last_phase = rep.when == "call" or (rep.when == "setup" and (rep.failed or rep.skipped))
    if not last_phase:
        return rep
    if rep.when == "call" and call.excinfo is None and not findings:
        findings.append(Finding(cid, Outcome.NOT_EVALUABLE, "The check recorded no finding (a defect in the check)."))
    if rep.when == "call":  # it ran: its judgements of objects whose precondition failed are blocked
        findings[:] = per_object(cid, state.catalog[cid].requires, findings, state.by_condition)
    outcome = worst([f.outcome for f in findings])
    state.by_condition[cid] = record_of(cid, findings, state.by_condition, state.redactor)
    results = [build_result(state, item.nodeid, f, rep.duration) for f in findings]
    state.results.extend(results)
    state.finished.add(item.nodeid)
    shape_pytest_report(rep, outcome, results)
    item.user_properties.extend([("condition", cid), ("outcome", str(outcome))])
    return rep


# ------------------------------------------------------------------ finishing


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Generator[None, None, None]:
    state = session.config.stash.get(STATE, None)
    if state is None or not state.enabled or session.config.option.collectonly:
        return (yield)  # --collect-only runs nothing: no results to write
    state.finishing = True
    code = int(exitstatus)
    stop = session.shouldfail or session.shouldstop  # -x / --maxfail; --sw
    if stop and not state.interrupted:
        state.stopped = str(stop)
    _account_for_unfinished(state)
    if state.spec.remediate and not state.interrupted and not state.deadline_hit:
        from blinkcheck.remediating import remediate  # after the checks, before the reports: they show it

        remediate(session.config, state, lambda text: _say(session.config, text))
    if state.results and code in (0, 1):
        code = 1 if any(r.outcome.fails_run for r in state.results) else 0
    state.exit_code = code
    scheduled = before_reports(state, session.config.stash.get(SCHEDULE, None))  # may hold back exit 1
    session.exitstatus = state.exit_code
    results = results_data(state)  # built once, written once: after the leak gate, saying how the run ended
    results.update(scheduled)
    yield
    _publish_junit(session.config, state)
    wanted = state.spec.bundle == "on" or (state.spec.bundle == "on-failure" and state.exit_code != 0)
    if wanted:
        from blinkcheck.report.packet import write_bundle

        state.bundle_path, listing = write_bundle(state, json_text(results))  # the packet's copy: before the gate
        _say(session.config, f"{listing}Escalation packet: {state.bundle_path} (check the list before sending it)")
    leaks = leak_gate(state)
    if leaks:
        session.exitstatus = state.exit_code = 3
        results.update(exit_code=3, leak_gate=leaks)
    if not write_results_json(state, results):  # its own text is gated too: a secret in it, and it is not written
        session.exitstatus = state.exit_code = 3
    after_reports(state, session.config.stash.get(SCHEDULE, None), lambda text: _say(session.config, text))
    return None


def _publish_junit(config: pytest.Config, state: RunState) -> None:
    """Move junitxml's file from the private folder into place, without following links."""
    if state.private_dir is None or "junit.xml" not in state.reports:
        return
    written = state.private_dir / "junit.xml"
    final = state.reports["junit.xml"]
    try:
        state.artifacts.write(final, written.read_bytes())
    except OSError as exc:
        _say(config, f"junit.xml: could not write {final}: {exc.strerror or exc}")
        return
    from _pytest.junitxml import xml_key

    xml = config.stash.get(xml_key, None)
    if xml is not None:
        xml.logfile = str(final)  # pytest's "generated xml file" line names where it is


def _say(config: pytest.Config, text: str) -> None:
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        terminal.ensure_newline()
    for line in text.splitlines():
        if terminal is not None:
            terminal.write_line(line)
        else:
            print(line, file=sys.stderr)


def _account_for_unfinished(state: RunState) -> None:
    """Selected checks that never ran are listed, never left out: not-evaluable when the run was cut short
    (deadline, Ctrl-C, SIGTERM); skipped when pytest stopped at the user's request (-x, --maxfail).
    Deselected checks (-k, -m, --lf) are not among them: they were never part of the run."""
    outcome = Outcome.NOT_EVALUABLE
    if state.deadline_hit:
        why = f"Not run: the run's --deadline ({state.spec.deadline_s:g}s) passed."
    elif state.interrupted or not state.stopped:
        why = f"Not run: {state.interrupted or 'the run was interrupted'}."
    else:
        outcome, why = Outcome.SKIPPED, f"Not run: pytest ended the run early at your request ({state.stopped})."
    for nodeid, cid in state.collected:
        if nodeid not in state.finished:
            finding = Finding(cid, outcome, why)
            state.results.append(build_result(state, nodeid, finding, 0.0))
            state.finished.add(nodeid)


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None or not state.enabled or config.option.collectonly:
        return
    for note in state.notes:
        terminalreporter.write_line(f"blink-checks note: {state.redactor(note)}")
    for line in verdict_lines(state):
        terminalreporter.write_line(line)
    terminalreporter.write_line(one_line_summary(state))
