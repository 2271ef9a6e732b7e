"""Many targets in one run (README "Many targets"): `pytest checks/ --targets FILE`.

The parent process reads and validates the file (each entry exactly as the command line: blinkcheck.options), then
runs one `pytest checks/` per target in parallel, each with its own report dir (<report-dir>/targets/<name>/) and
bounded by a timeout derived from its options, and writes one report.html, results.json and junit.xml grouped by
target (blinkcheck.report.targets). One target that cannot be reached does not stop the others; the run's exit code
is the worst of the targets'.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from blinkcheck import options
from blinkcheck.artifacts import Artifacts, json_text
from blinkcheck.config import TargetSpec
from blinkcheck.redact import Redactor, find_leaks, read_no_follow, secret_in
from blinkcheck.report import targets as report
from blinkcheck.results import RESULTS_SCHEMA_VERSION, tool_version
from blinkcheck.schedule import ScheduleSpec
from blinkcheck.schedule.notify import TARGET_ENTRY_ENV

CHECKS_DIR = Path(__file__).resolve().parent.parent / "checks"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
# Options of the whole run, never of one target: where the reports go, the scheduling options (which the parent
# hands to each target itself, or refuses), and what makes no sense for many targets at once.
WHOLE_RUN = ("--report-dir", "--targets", "--targets-parallel", "--history", "--history-keep", "--fail-after",
             "--notify", "--notify-timeout", "--metrics", "--from-packet", "--remediate", "--yes")  # fmt: skip
REFUSED = {
    "--remediate": "--remediate acts on one target after looking at it: run it per target, not with --targets",
    "--from-packet": "--from-packet re-judges one recorded run: not with --targets",
    "--metrics": "--metrics: not with --targets (its series carry no target label yet): give each target its own "
    "run with --metrics",
}
PER_TARGET = {opt.flag.lstrip("-"): opt.flag for opt in options.OPTIONS if opt.flag not in WHOLE_RUN}
GRACE_S = 30.0  # past a target's bound, before it is stopped (its own --deadline ends it first, with a report)
TAIL_LINES = 3


@dataclasses.dataclass(frozen=True)
class Entry:
    """One target of the file: its name, the options it sets (flag -> value) and the spec they make."""

    name: str
    given: dict[str, str]
    spec: TargetSpec

    @property
    def where(self) -> str:
        s = self.spec
        if s.target == "kubernetes":
            ns = "all namespaces" if s.all_namespaces else f"namespace {s.namespace or '(the context default)'}"
            return f"context {s.kube_context or '(current)'} of {s.kubeconfig or '(default kubeconfig)'}, {ns}"
        docker = f"docker context {s.docker_context}" if s.docker_context else s.docker_host
        return docker if s.target == "docker" else f"{docker}; kube context {s.kube_context or '(current)'}"

    @property
    def bound_s(self) -> float:
        """The longest the target's run may take: its --deadline, else what its waits and timeouts add up to."""
        s = self.spec
        if s.deadline_s:
            return s.deadline_s
        return s.operator_wait_s + s.log_timeout_s + s.probe_timeout_s + 12 * s.api_timeout_s + 60


def _text(value: Any) -> str | None:
    """A YAML scalar as the command line would give it (`probe: off` is YAML's false)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _usage(where: str, message: str) -> pytest.UsageError:
    return pytest.UsageError(f"--targets {where}: {message}")


def load_targets(path: Path, cli: Mapping[str, str | None], environ: Mapping[str, str]) -> list[Entry]:
    """The file's entries, each validated as the command line is (the command line's options are every target's
    defaults; an entry's own win); a usage error names the entry and its field, in one line."""
    try:
        data = yaml.safe_load(read_no_follow(path).decode("utf-8"))
    except OSError as exc:
        raise _usage(str(path), f"cannot read it: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise _usage(str(path), f"not YAML: {str(exc).splitlines()[0]}") from None
    items = data.get("targets") if isinstance(data, dict) and set(data) == {"targets"} else data
    if not isinstance(items, list) or not items:
        raise _usage(str(path), "must be a list of targets (or `targets:` with one), each a mapping with a name")
    entries: list[Entry] = []
    for n, item in enumerate(items, 1):
        entries.append(_entry(path, n, item, cli, environ))
    seen: set[str] = set()
    for e in entries:
        if e.name in seen:
            raise _usage(f"{path}: target '{e.name}'", "the name is used twice (each target needs its own)")
        seen.add(e.name)
    return entries


def _entry(path: Path, n: int, item: Any, cli: Mapping[str, str | None], environ: Mapping[str, str]) -> Entry:
    if not isinstance(item, dict):
        raise _usage(f"{path}: entry {n}", "must be a mapping (name: ..., target: ..., and options)")
    name = _text(item.get("name"))
    if not name or not NAME.match(name):
        raise _usage(f"{path}: entry {n}", f"name: '{name or ''}' must be letters, digits, '.', '_' or '-' "
                     "(it names the target's report folder)")  # fmt: skip
    at = f"{path}: target '{name}' (entry {n})"
    given: dict[str, str] = {}
    for key, value in item.items():
        if key == "name":
            continue
        flag = PER_TARGET.get(str(key))
        if flag is None:
            whole = f"--{key}" in WHOLE_RUN
            why = "is an option of the whole run, not of one target" if whole else "is not an option"
            raise _usage(at, f"{key}: {why} (a target takes: name, {', '.join(sorted(PER_TARGET))})")
        text = _text(value)
        if text is None:
            raise _usage(at, f"{key}: must be a single value, not {type(value).__name__}")
        given[flag] = _relative_to(path, flag, text)
    merged = dict(cli)
    if given.keys() & {"--docker-host", "--docker-context"}:  # the entry chooses its engine: not both
        merged.pop("--docker-host", None)
        merged.pop("--docker-context", None)
    merged.update(given)
    try:
        spec = options.target_spec(merged, environ)
    except pytest.UsageError as exc:
        raise _usage(at, str(exc).removeprefix("--")) from None
    return Entry(name, given, spec)


def _relative_to(path: Path, flag: str, value: str) -> str:
    """A kubeconfig or catalog named in the file relative to the file's folder, as it would be read from there."""
    if flag not in ("--kubeconfig", "--catalog"):
        return value
    return os.pathsep.join(p if os.path.isabs(p) else str(path.parent / p) for p in value.split(os.pathsep))


# ------------------------------------------------------------------ the parent run


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """`pytest checks/ --targets FILE` is this parent run instead of a session of its own (the plugin names it)."""
    return run_targets(config) if wanted(config) else None


def wanted(config: pytest.Config) -> bool:
    """A --targets run of the checks (not --help, not the project's own tests)."""
    if options.raw_value(config, "--targets") is None or config.option.help or config.option.collectonly:
        return False
    for arg in config.args:
        p = Path(arg.split("::", 1)[0]).resolve()
        if p == CHECKS_DIR or CHECKS_DIR in p.parents:
            return True
    return False


def forwarded_args(args: Sequence[str], drop: set[str], switches: frozenset[str]) -> list[str]:
    """The command line for a target's run: the user's, less the flags in `drop` (and their values)."""
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        flag = arg.split("=", 1)[0]
        if flag in drop:
            skip = "=" not in arg and flag not in switches
            continue
        out.append(arg)
    return out


def run_targets(config: pytest.Config) -> int:
    """The parent of a --targets run: validate, run every target, write the combined reports; its exit code."""
    cli = options.cli_values(config)
    for flag, why in REFUSED.items():
        if (options.raw_value(config, flag) or "off").strip().lower() not in ("off", "false", "0", "no", ""):
            raise pytest.UsageError(why)
    targets_file = Path(options.raw_value(config, "--targets") or "")
    entries = load_targets(targets_file, {k: v for k, v in cli.items() if k not in WHOLE_RUN}, os.environ)
    parallel = options.int_value(config, "--targets-parallel", 1, 64)
    schedule = options.parse_schedule_spec(config)  # checked up front; --history gets a folder per target
    report_dir = Path(options.raw_value(config, "--report-dir") or "reports")
    try:
        (report_dir / "targets").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise pytest.UsageError(f"--report-dir: cannot write to '{report_dir}': {exc.strerror}") from None
    redactor = Redactor()
    redactor.add(schedule.notify_url)
    runner = Runner(config, entries, report_dir, schedule, redactor)
    started = time.time()
    say(f"blink-checks: checking {len(entries)} targets, {min(parallel, len(entries))} at once: "
        + ", ".join(e.name for e in entries))  # fmt: skip
    runs = runner.run_all(parallel)
    groups = [report.group_of(r, report_dir, redactor) for r in runs]
    head = {"schema_version": RESULTS_SCHEMA_VERSION,
            "tool": {"name": "blink-runner-checks", "version": tool_version()},
            "started_at": datetime.fromtimestamp(started, UTC).isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "duration_s": round(time.time() - started, 3), "targets_file": str(targets_file)}  # fmt: skip
    data = report.combined_results(groups, head)
    code = write_reports(data, runs, report_dir, redactor, config)
    for g in groups:
        say(report.verdict_line(g))
    say(report.summary_line({**data, "exit_code": code}, report_dir / "report.html"))
    return code


def write_reports(data: dict[str, Any], runs: list[report.TargetRun], report_dir: Path, redactor: Redactor,
                  config: pytest.Config) -> int:  # fmt: skip
    """report.html, junit.xml, then results.json (saying how the run ended), each through the leak gate."""
    artifacts = Artifacts()
    code = int(data["exit_code"])
    if config.pluginmanager.hasplugin("html"):
        artifacts.write(report_dir / "report.html", report.combined_html(data))
    junit = report.combined_junit(runs) if config.pluginmanager.hasplugin("junitxml") else None
    if junit is not None:
        artifacts.write(report_dir / "junit.xml", junit)
    leaks = find_leaks(artifacts.paths, redactor.values)
    for p, _ in leaks:
        artifacts.remove(p)
        say(f"LEAK GATE: a secret value was found in {p}; the file was removed")
    if leaks:
        code = 3
        data.update(exit_code=3, leak_gate=[f"{p}: removed" for p, _ in leaks])
    text = json_text({**data, "exit_code": code})
    if secret_in(text.encode("utf-8"), redactor.values):
        say("LEAK GATE: a secret value was found in results.json; it was not written")
        return 3
    artifacts.write(report_dir / "results.json", text)
    return code


def say(line: str) -> None:
    print(line, flush=True)


class Runner:
    """Runs each target's `pytest checks/` as a child process, in parallel, each bounded."""

    def __init__(self, config: pytest.Config, entries: list[Entry], report_dir: Path, schedule: ScheduleSpec,
                 redactor: Redactor) -> None:  # fmt: skip
        self.config, self.entries, self.report_dir = config, entries, report_dir
        self.schedule, self.redactor = schedule, redactor
        self.lock = threading.Lock()
        self.procs: dict[str, subprocess.Popen[str]] = {}
        self.stopping = ""

    def command(self, entry: Entry) -> list[str]:
        drop = {*WHOLE_RUN, "--deadline", "--html", "--junitxml", "--junit-xml", *entry.given}
        if entry.given.keys() & {"--docker-host", "--docker-context"}:
            drop |= {"--docker-host", "--docker-context"}
        args = forwarded_args(self.config.invocation_params.args, drop, options.SWITCHES)
        own = [item for flag, value in entry.given.items() for item in (flag, value)]
        cmd = [sys.executable, "-m", "pytest", *args, "--report-dir", str(self.report_dir / "targets" / entry.name),
               *own, "--deadline", f"{entry.bound_s:g}s"]  # fmt: skip
        if "no:cacheprovider" not in args:  # --lf per target: each keeps its own cache
            cmd += ["-o", f"cache_dir=.pytest_cache/targets/{entry.name}"]
        return cmd

    def environment(self, entry: Entry) -> dict[str, str]:
        """The target's environment: never --targets again; the scheduling options of the run, with a history
        folder of its own (through the environment: a webhook's URL is its key, never on a command line)."""
        whole = {o.env for o in options.OPTIONS if o.flag in WHOLE_RUN}
        env = {k: v for k, v in os.environ.items() if k not in whole}
        s = self.schedule
        if s.history_dir is not None:
            env.update(BLINK_HISTORY=str(s.history_dir / entry.name), BLINK_HISTORY_KEEP=str(s.history_keep),
                       BLINK_FAIL_AFTER=str(s.fail_after))  # fmt: skip
        if s.notify_url:
            env.update(BLINK_NOTIFY_URL=s.notify_url, BLINK_NOTIFY_TIMEOUT=f"{s.notify_timeout_s:g}s")
        env[TARGET_ENTRY_ENV] = entry.name  # its message names the target as the targets file does
        return env

    def run_all(self, parallel: int) -> list[report.TargetRun]:
        previous = signal.signal(signal.SIGTERM, self._on_term)
        try:
            with ThreadPoolExecutor(max_workers=parallel) as pool:
                futures = [pool.submit(self.run_one, e) for e in self.entries]
                while not all(f.done() for f in futures):
                    try:
                        time.sleep(0.1)
                    except KeyboardInterrupt:
                        self.stop("interrupted (Ctrl-C)")
                return [f.result() for f in futures]
        finally:
            signal.signal(signal.SIGTERM, previous)

    def _on_term(self, signum: int, frame: object) -> None:
        self.stop("terminated (SIGTERM)")

    def stop(self, why: str) -> None:
        """End every target's run as Ctrl-C would (each still writes its reports); start no more."""
        with self.lock:
            self.stopping = self.stopping or why
            for proc in self.procs.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)

    def run_one(self, entry: Entry) -> report.TargetRun:
        own_dir = self.report_dir / "targets" / entry.name
        started = time.monotonic()
        timed_out, out, code = False, "", None
        env = self.environment(entry)
        try:
            own_dir.mkdir(parents=True, exist_ok=True)
            (own_dir / "results.json").unlink(missing_ok=True)  # never the last run's, taken for this one's
            with self.lock:
                if self.stopping:
                    raise OSError(f"not started: the run was {self.stopping}")
                proc = subprocess.Popen(self.command(entry), cwd=self.config.invocation_params.dir, env=env,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, errors="replace")  # fmt: skip
                self.procs[entry.name] = proc
            try:
                out, _ = proc.communicate(timeout=entry.bound_s + GRACE_S)
            except subprocess.TimeoutExpired:
                timed_out = True
                proc.send_signal(signal.SIGTERM)  # it writes its partial reports, as under a CI's SIGTERM
                try:
                    out, _ = proc.communicate(timeout=GRACE_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    out, _ = proc.communicate()
            code = proc.returncode
        except OSError as exc:
            out = str(exc)
        results = _results_of(own_dir / "results.json")
        tail = " / ".join(line.strip() for line in out.strip().splitlines()[-TAIL_LINES:] if line.strip())
        run = report.TargetRun(entry.name, entry.spec.target, entry.where, own_dir, code, time.monotonic() - started,
                               results, self.redactor(tail), timed_out, entry.bound_s)  # fmt: skip
        status, _ = report.status_of(run)
        with self.lock:
            say(f"blink-checks target {entry.name}: {status} (exit {code}, {run.duration_s:.1f} s) — report: "
                f"{own_dir / 'report.html'}")  # fmt: skip
        return run


def _results_of(path: Path) -> dict[str, Any] | None:
    import json

    try:
        data = json.loads(read_no_follow(path))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
