"""pytest options -> one frozen, validated target spec (blinkcheck.config.TargetSpec). Every option is also an
environment variable.

Validation happens up front (pytest_configure): a bad value is a usage error, exit code 4, one
line naming the option, the value and what is allowed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from blinkcheck.catalog import DEFAULT_CATALOG
from blinkcheck.config import TargetSpec
from blinkcheck.docker import context as docker_context
from blinkcheck.schedule import ScheduleSpec

TARGETS = ("docker", "kubernetes", "auto")


@dataclass(frozen=True)
class Option:
    flag: str
    env: str
    default: str | None
    help: str


OPTIONS: tuple[Option, ...] = (
    Option("--target", "BLINK_CHECK_TARGET", "auto", "docker | kubernetes | auto (auto: where a runner is)"),
    Option("--docker-host", "DOCKER_HOST", None, "Docker engine URL: unix://, tcp://, ssh:// (default: local socket)"),
    Option("--docker-context", "DOCKER_CONTEXT", None, "docker context name (default: the docker config's current)"),
    Option("--blink-url", "BLINK_URL", "https://app.blinkops.com", "Blink URL the runner talks to"),
    Option("--runner-name", "BLINK_RUNNER_NAME", "blink-runner", "runner container/deployment name (prefix)"),
    Option("--report-dir", "BLINK_REPORT_DIR", "reports", "where report.html, results.json, junit.xml go"),
    Option("--catalog", "BLINK_CATALOG", str(DEFAULT_CATALOG), "runbook catalog YAML (a site's own copy)"),
    Option("--log-since", "BLINK_LOG_SINCE", "1h", "log window: only lines newer than this (30s, 15m, 2h, 1d)"),
    Option("--log-tail", "BLINK_LOG_TAIL", "2000", "log window: at most this many last lines per container/pod"),
    Option("--log-timeout", "BLINK_LOG_TIMEOUT", "120s", "time to read one log window whole (else: read in part)"),
    Option("--api-timeout", "BLINK_API_TIMEOUT", "10", "seconds for each Docker/Kubernetes API call"),
    Option("--probe", "BLINK_PROBE", "auto", "auto | on | off: the egress probe from the runner's network "
           "namespace (auto: skipped where it cannot run; on: that fails the run)"),
    Option("--probe-image", "BLINK_PROBE_IMAGE", None, "image with curl for a Docker probe container "
           "(remote engine); default: the runner's own image"),
    Option("--probe-timeout", "BLINK_PROBE_TIMEOUT", "10", "seconds the egress probe may take"),
    Option("--kubeconfig", "KUBECONFIG", None, "kubeconfig file (default: ~/.kube/config or in-cluster)"),
    Option("--kube-context", "BLINK_KUBE_CONTEXT", None, "kubeconfig context (default: current)"),
    Option("--namespace", "BLINK_NAMESPACE", None, "runner namespace (default: the context's namespace)"),
    Option("--all-namespaces", "BLINK_ALL_NAMESPACES", "off", "on | off: search every namespace you may list"),
    Option("--operator-wait", "BLINK_OPERATOR_WAIT", "60s", "how long to re-check a stuck operator (runbook: 1m)"),
    Option("--rollback-window", "BLINK_ROLLBACK_WINDOW", "5m", "operator rollback window (runbook: 5 minutes)"),
    Option("--bundle", "BLINK_BUNDLE", "off", "off | on | on-failure: write the escalation packet (a .tar.gz)"),
    Option("--deadline", "BLINK_DEADLINE", "off", "end the whole run after this long with a partial report (e.g. 5m)"),
    Option("--blink-api-url", "BLINK_API_URL", None, "the Blink URL the suite itself asks (default: --blink-url)"),
    Option("--blink-api-key", "BLINK_API_KEY", None, "a user's Blink API key: env:NAME or file:PATH (the env "
           "variable may hold the key itself); without it only Blink's readiness is checked"),
    Option("--workspace-id", "BLINK_WORKSPACE_ID", None, "the Blink workspace of the runner's group (with the key)"),
    Option("--blink-readiness-path", "BLINK_READINESS_PATH", "auto", "auto (/api/v1/api/readiness, then "
           "/api/readiness) or a path"),
    Option("--blink-stale", "BLINK_STALE", "5m", "a runner Blink last saw longer ago than this is disconnected"),
    # scheduled runs (blinkcheck.schedule)
    Option("--history", "BLINK_HISTORY", None, "folder keeping each run's results.json: new/cleared/lasting failures"),
    Option("--history-keep", "BLINK_HISTORY_KEEP", "50", "how many runs --history keeps"),
    Option("--fail-after", "BLINK_FAIL_AFTER", "1", "fail only when a condition failed this many runs in a row"),
    Option("--notify", "BLINK_NOTIFY_URL", None, "Slack-compatible webhook: a message on new failure, recovery"),
    Option("--notify-timeout", "BLINK_NOTIFY_TIMEOUT", "5s", "time each --notify attempt may take (3 at most)"),
    Option("--metrics", "BLINK_METRICS", None, "write the run as Prometheus text (node_exporter's textfile collector)"),
    Option("--from-packet", "BLINK_FROM_PACKET", None, "re-judge an escalation packet's recorded facts offline "
           "(escalation-….tar.gz): no target is contacted"),
    Option("--remediate", "BLINK_REMEDIATE", "off", "on | off: after the checks, list the runbook's recovery steps "
           "for what failed (a dry run; --yes performs them)"),
    Option("--yes", "BLINK_YES", "off", "on | off: with --remediate, perform the steps without asking"),
    # many targets in one run (blinkcheck.many)
    Option("--targets", "BLINK_TARGETS", None, "YAML file listing Docker hosts and kube contexts, each with its own "
           "options: all checked in parallel, one report grouped by target"),
    Option("--targets-parallel", "BLINK_TARGETS_PARALLEL", "8", "with --targets: at most this many targets at once"),
)
# Flags that take no value (`--remediate`, `--yes`): given, they mean "on".
SWITCHES = frozenset({"--remediate", "--yes"})


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("blink", "Blink runner health checks")
    for opt in OPTIONS:
        default = f" [env {opt.env}; default {opt.default}]" if opt.default else f" [env {opt.env}]"
        if opt.flag in SWITCHES:
            group.addoption(opt.flag, dest=_dest(opt.flag), default=None, action="store_const", const="on",
                            help=opt.help + default)  # fmt: skip
            continue
        group.addoption(opt.flag, dest=_dest(opt.flag), default=None, help=opt.help + default)


def _dest(flag: str) -> str:
    return "blink_" + flag.lstrip("-").replace("-", "_")


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h|d)?$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(flag: str, text: str, maximum: float = 30 * 86400, allow_zero: bool = False) -> float:
    m = _DURATION.match(text.strip())
    if not m:
        raise pytest.UsageError(f"{flag}: '{text}' is not a duration (use e.g. 30s, 15m, 2h, 1d)")
    seconds = float(m[1]) * _UNIT[m[2]]
    if seconds < 0 or (seconds == 0 and not allow_zero) or seconds > maximum:
        low = "at least 0" if allow_zero else "more than 0"
        raise pytest.UsageError(f"{flag}: '{text}' is out of range ({low}, at most {maximum:g}s)")
    return seconds


def _on_off(flag: str, text: str) -> bool:
    v = text.strip().lower()
    if v in ("on", "true", "1", "yes"):
        return True
    if v in ("off", "false", "0", "no"):
        return False
    raise pytest.UsageError(f"{flag}: '{text}' must be on or off")


def _choice(flag: str, text: str, allowed: tuple[str, ...]) -> str:
    if text.strip().lower() not in allowed:
        raise pytest.UsageError(f"{flag}: '{text}' is not one of {', '.join(allowed)}")
    return text.strip().lower()


def _int(flag: str, text: str, lo: int, hi: int) -> int:
    try:
        n = int(text)
    except ValueError:
        raise pytest.UsageError(f"{flag}: '{text}' is not a whole number") from None
    if not lo <= n <= hi:
        raise pytest.UsageError(f"{flag}: '{text}' is out of range ({lo}..{hi})")
    return n


def _url(flag: str, text: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(text)
    if parts.scheme not in schemes or not (parts.netloc or parts.path):
        raise pytest.UsageError(f"{flag}: '{text}' is not a valid URL (allowed schemes: {', '.join(schemes)})")
    if parts.scheme in ("http", "https", "tcp", "ssh") and not parts.hostname:
        raise pytest.UsageError(f"{flag}: '{text}' has no host name")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise pytest.UsageError(f"{flag}: '{text}' has a malformed port") from None
    return text.rstrip("/")


def _raw(config: pytest.Config, opt: Option) -> str | None:
    value: Any = config.getoption(_dest(opt.flag))
    return _value(None if value is None else str(value), opt, os.environ)


def _value(given: str | None, opt: Option, environ: Mapping[str, str]) -> str | None:
    """The value given, else the option's environment variable, else its default."""
    return given if given is not None else (environ.get(opt.env) or opt.default)


def from_packet(config: pytest.Config) -> str | None:
    return raw_value(config, "--from-packet")


def raw_value(config: pytest.Config, flag: str) -> str | None:
    """One option's value: given, else its environment variable, else its default."""
    return _raw(config, next(o for o in OPTIONS if o.flag == flag))


def int_value(config: pytest.Config, flag: str, lo: int, hi: int) -> int:
    return _int(flag, raw_value(config, flag) or "", lo, hi)


def cli_values(config: pytest.Config) -> dict[str, str | None]:
    """flag -> the value given on the command line (None: not given)."""
    values = {opt.flag: config.getoption(_dest(opt.flag)) for opt in OPTIONS}
    return {flag: None if value is None else str(value) for flag, value in values.items()}


def parse_target_spec(config: pytest.Config) -> TargetSpec:
    return target_spec(cli_values(config), os.environ)


def target_spec(given: Mapping[str, str | None], environ: Mapping[str, str]) -> TargetSpec:
    """The spec from the options given (flag -> value; None: not given), else their environment variables, else the
    defaults: the command line's, and each entry of a --targets file (blinkcheck.many)."""
    raw = {opt.flag: _value(given.get(opt.flag), opt, environ) for opt in OPTIONS}

    def get(flag: str) -> str:
        value = raw[flag]
        assert value is not None, flag
        return value

    target = get("--target").lower()
    if target not in TARGETS:
        raise pytest.UsageError(f"--target: '{target}' is not one of {', '.join(TARGETS)}")
    docker = _docker_endpoint(given, environ, target)
    blink_url = _url("--blink-url", get("--blink-url"), ("https", "http"))
    runner_name = get("--runner-name").strip()
    if not re.match(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$", runner_name):
        raise pytest.UsageError(f"--runner-name: '{runner_name}' is not a container/deployment name")
    catalog_path = Path(get("--catalog"))
    if not catalog_path.is_file():
        raise pytest.UsageError(f"--catalog: '{catalog_path}' does not exist or is not a file")
    kubeconfig = raw["--kubeconfig"]
    if kubeconfig and ":" not in kubeconfig and not Path(kubeconfig).is_file():
        raise pytest.UsageError(f"--kubeconfig: '{kubeconfig}' does not exist or is not a file")
    probe_image = (raw["--probe-image"] or "").strip()
    if any(ch.isspace() for ch in probe_image):
        raise pytest.UsageError(f"--probe-image: '{probe_image}' is not an image reference")
    probe = get("--probe").strip().lower()
    if probe not in ("auto", "on", "off"):
        try:
            probe = "on" if _on_off("--probe", probe) else "off"
        except pytest.UsageError:
            raise pytest.UsageError(f"--probe: '{probe}' must be auto, on or off") from None
    api_key = _api_key(given.get("--blink-api-key"), environ)
    workspace = (raw["--workspace-id"] or "").strip()
    if api_key and not re.fullmatch(r"[A-Za-z0-9_.-]{1,128}", workspace):
        raise pytest.UsageError("--workspace-id: needed with --blink-api-key (the workspace id from Blink's UI: "
                                "letters, digits, '-', '_', '.')")
    readiness = get("--blink-readiness-path").strip()
    if readiness != "auto" and not re.fullmatch(r"/[A-Za-z0-9_./-]*", readiness):
        raise pytest.UsageError(f"--blink-readiness-path: '{readiness}' must be auto or a path starting with /")
    return TargetSpec(
        target=target,
        docker_host=docker.host,
        blink_url=blink_url,
        runner_name=runner_name,
        report_dir=Path(get("--report-dir")),
        catalog_path=catalog_path,
        log_since_s=parse_duration("--log-since", get("--log-since")),
        log_since=get("--log-since"),
        log_tail=_int("--log-tail", get("--log-tail"), 1, 1_000_000),
        log_timeout_s=parse_duration("--log-timeout", get("--log-timeout"), maximum=3600),
        api_timeout_s=parse_duration("--api-timeout", get("--api-timeout"), maximum=600),
        probe=probe != "off",
        probe_image=probe_image,
        probe_strict=probe == "on",
        probe_timeout_s=parse_duration("--probe-timeout", get("--probe-timeout"), maximum=600),
        kubeconfig=kubeconfig,
        kube_context=raw["--kube-context"],
        namespace=raw["--namespace"],
        all_namespaces=_on_off("--all-namespaces", get("--all-namespaces")),
        operator_wait_s=parse_duration("--operator-wait", get("--operator-wait"), maximum=3600, allow_zero=True),
        rollback_window_s=parse_duration("--rollback-window", get("--rollback-window"), maximum=86400),
        bundle=_choice("--bundle", get("--bundle"), ("off", "on", "on-failure")),
        deadline_s=None if get("--deadline") == "off" else parse_duration("--deadline", get("--deadline"), 86400),
        docker_context=docker.context,
        docker_tls=docker.tls,
        blink_api_url=_url("--blink-api-url", raw["--blink-api-url"], ("https", "http")) if raw["--blink-api-url"]
        else blink_url,
        blink_api_key=api_key,
        workspace_id=workspace,
        readiness_path=readiness,
        blink_stale_s=parse_duration("--blink-stale", get("--blink-stale"), maximum=30 * 86400),
        remediate=_on_off("--remediate", get("--remediate")),
        assume_yes=_on_off("--yes", get("--yes")),
    )


def _api_key(given: str | None, environ: Mapping[str, str]) -> str:
    """A user's Blink API key, from `env:NAME` or `file:PATH`, or the BLINK_API_KEY variable itself; never a value
    typed on the command line (shell history, `ps`) or in a --targets file. Error messages never show the value."""
    flag = "--blink-api-key"
    text = given if given is not None else environ.get("BLINK_API_KEY", "")
    if text.startswith("env:"):
        value = environ.get(text[4:], "")
        if not value:
            raise pytest.UsageError(f"{flag}: environment variable {text[4:]!r} is not set or empty")
    elif text.startswith("file:"):
        try:
            value = Path(text[5:]).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or exc
            raise pytest.UsageError(f"{flag}: cannot read {text[5:]!r}: {why}") from None
        if not value:
            raise pytest.UsageError(f"{flag}: {text[5:]!r} is empty")
    elif given is not None and text:
        raise pytest.UsageError(f"{flag}: give env:NAME or file:PATH, not the key itself (a key on the command line "
                                "stays in shell history and `ps`); or set BLINK_API_KEY")
    else:
        value = text.strip()
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise pytest.UsageError(f"{flag}: the key holds spaces or control characters (value not shown)")
    return value


def parse_schedule_spec(config: pytest.Config) -> ScheduleSpec:
    """The scheduling options (README "Running on a schedule"); folders and files checked writable up front."""
    raw = {opt.flag: _raw(config, opt) for opt in OPTIONS}
    history = Path(raw["--history"]) if raw["--history"] else None
    if history is not None:
        _writable_dir("--history", history, create=True)
    fail_after = _int("--fail-after", raw["--fail-after"] or "1", 1, 1000)
    notify = _url("--notify", raw["--notify"], ("https", "http")) if raw["--notify"] else None
    for flag, given in (("--fail-after", fail_after > 1), ("--notify", notify)):
        if given and history is None:
            raise pytest.UsageError(f"{flag}: needs --history DIR (the earlier runs it compares with)")
    metrics = Path(raw["--metrics"]) if raw["--metrics"] else None
    if metrics is not None:
        _writable_dir("--metrics", metrics.parent, create=False)
    return ScheduleSpec(
        history_dir=history,
        history_keep=_int("--history-keep", raw["--history-keep"] or "50", 1, 100_000),
        fail_after=fail_after,
        notify_url=notify,
        notify_timeout_s=parse_duration("--notify-timeout", raw["--notify-timeout"] or "5s", maximum=120),
        metrics_file=metrics,
    )


def _writable_dir(flag: str, path: Path, create: bool) -> None:
    import tempfile

    try:
        if create:
            path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".write-test.")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise pytest.UsageError(f"{flag}: cannot write to '{path}': {exc.strerror or exc}") from None


def _docker_endpoint(
    given: Mapping[str, str | None], environ: Mapping[str, str], target: str
) -> docker_context.DockerEndpoint:
    """The engine the docker CLI would use: flags, DOCKER_HOST, DOCKER_CONTEXT, the docker config's context."""
    flag = "--docker-context"
    try:
        found = docker_context.resolve(given.get("--docker-host"), given.get("--docker-context"), environ)
        flag = "--docker-context" if found.context else "--docker-host"
        host = _url(flag, found.host, ("unix", "tcp", "ssh", "http", "https", "npipe"))
        if host.startswith("ssh://"):
            docker_context.parse_ssh(host)
    except docker_context.ContextError as exc:
        if target == "kubernetes":  # a stale docker config must not stop a Kubernetes run
            return docker_context.DockerEndpoint(docker_context.LOCAL_SOCKET)
        raise pytest.UsageError(f"{flag}: {exc}") from None
    return docker_context.DockerEndpoint(host, found.context, found.tls, found.chosen_by)
