"""Run `pytest checks/` the way a user does (a subprocess) and read back what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class CheckRun:
    exit_code: int
    stdout: str
    stderr: str
    report_dir: Path
    wall_s: float
    peak_rss_kb: int = 0  # the pytest process's peak memory (ru_maxrss), when measured

    @property
    def results(self) -> dict[str, Any]:
        return json.loads((self.report_dir / "results.json").read_text())

    @property
    def html(self) -> str:
        return (self.report_dir / "report.html").read_text()

    @property
    def pytest_summary(self) -> str:
        """pytest's closing line ("1 failed, 9 skipped in 0.3s"): a check that could not look must never
        surface as a pytest error (a crash in the plugin would)."""
        lines = [line for line in self.stdout.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def entries(self, condition_id: str) -> list[dict[str, Any]]:
        return [c for c in self.results["checks"] if c["id"] == condition_id]

    def outcomes(self) -> dict[str, set[str]]:
        """condition id -> the set of outcomes it produced (one per judged object)."""
        out: dict[str, set[str]] = {}
        for c in self.results["checks"]:
            out.setdefault(c["id"], set()).add(c["outcome"])
        return out

    def outcome(self, condition_id: str) -> str:
        """The single outcome of a condition; fails loudly when it judged objects differently."""
        found = self.outcomes().get(condition_id, set())
        assert len(found) == 1, f"{condition_id}: outcomes {found}\n{self.stdout[-3000:]}"
        return next(iter(found))


def run_checks(
    *args: str,
    report_dir: Path,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    paths: tuple[str, ...] = ("checks/",),
    verbosity: str = "-q",
    prefix: Sequence[str] = (),
) -> CheckRun:
    """`pytest checks/ -q ...`; `paths` for node ids (`checks/docker/test_upgrade.py::...`), `verbosity` -q/-v/"";
    `prefix`: a command that runs pytest (e.g. in a namespace of its own)."""
    flags = [verbosity] if verbosity else []
    cmd = [*prefix, sys.executable, "-m", "pytest", *paths, *flags, "-p", "no:randomly", "--report-dir",
           str(report_dir), *args]  # fmt: skip
    full_env = {**os.environ, **lab_blink_api(args), **(env or {})}
    full_env.pop("PYTEST_ADDOPTS", None)
    started = time.monotonic()
    with _Measured(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
    return CheckRun(proc.returncode, out, err, report_dir, time.monotonic() - started, proc.peak_rss_kb)


def lab_blink_api(args: Sequence[str]) -> dict[str, str]:
    """How the suite itself asks the lab's Blink stand-in (the readiness check runs in every run): the suite's host
    cannot resolve blink.lab.test (only the runners' lab DNS answers it), so it asks the stand-in of the run's lab
    at its address (its certificate names that address too), trusting that lab's CA; as a customer's host asks
    Blink by its public name with its own trust store. Nothing when the run gives --blink-api-url itself."""
    if "--blink-api-url" in args or "BLINK_API_URL" in os.environ:
        return {}
    if "kubernetes" in args:
        from lab.k8s.settings import Settings

        k8s = Settings()
        return {"BLINK_API_URL": f"https://{k8s.gateway}:{k8s.standin_tls_port}",
                "SSL_CERT_FILE": str(k8s.standin_pki / "ca.pem")}  # fmt: skip
    from lab.docker import scenarios

    return {"BLINK_API_URL": f"https://{scenarios.GATEWAY}:{scenarios.TLS_PORT}",
            "SSL_CERT_FILE": str(scenarios.PKI_DIR / "ca.pem")}  # fmt: skip


class _Measured(subprocess.Popen[str]):
    """A Popen that keeps the child's resource usage when it is reaped (wait4): its peak memory."""

    peak_rss_kb = 0

    def _try_wait(self, wait_flags: int) -> tuple[int, int]:
        try:
            pid, status, usage = os.wait4(self.pid, wait_flags)
        except ChildProcessError:
            return self.pid, 0
        if pid:
            self.peak_rss_kb = usage.ru_maxrss
        return pid, status


def probe_processes(parent: int = 0) -> list[int]:
    """The egress probe's child processes (`python -m blinkcheck.docker.netns_probe`) of this checkout (run from its
    folder: other checkouts on the machine run their own), of `parent` if given."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            cwd = os.readlink(entry / "cwd")
        except (OSError, ValueError, IndexError):
            continue
        if b"blinkcheck.docker.netns_probe" in cmdline and cwd == str(ROOT) and (not parent or ppid == parent):
            found.append(int(entry.name))
    return found


def every_byte(report_dir: Path) -> dict[str, bytes]:
    """Every file below the folder (links not followed) and every member of every packet, by name."""
    from blinkcheck.report.packet import archive_members

    out: dict[str, bytes] = {}
    for path in report_dir.rglob("*"):
        if path.is_file() and not path.is_symlink():
            out[str(path)] = path.read_bytes()
            if path.name.endswith(".tar.gz"):
                out.update({f"{path}:{k}": v for k, v in archive_members(path).items()})
    return out


def under_ci() -> bool:
    """`.ci/run` sets CI=true (as CI services do): a missing prerequisite fails the run there."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing(reason: str) -> NoReturn:
    """A prerequisite of this test is missing: skipped on a developer's machine, a failure under CI=true."""
    if under_ci():
        pytest.fail(f"CI=true, and a prerequisite is missing: {reason}", pytrace=False)
    pytest.skip(reason)


@contextmanager
def temporary_user() -> Iterator[str]:
    """An unprivileged local user made for the test (its own group only: no docker group, no sudo), removed after."""
    import secrets
    import shutil

    if os.geteuid() != 0:
        missing("creating a local user needs root")
    if not shutil.which("useradd") or not shutil.which("userdel"):
        missing("useradd/userdel (Debian's passwd package) are needed to create a local user")
    name = f"blinkchk-{secrets.token_hex(3)}"
    subprocess.run(["useradd", "--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", name],
                   check=True, capture_output=True, timeout=30)  # fmt: skip
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], check=False, capture_output=True, timeout=30)


def run_checks_as(user: str, *args: str, timeout: float = 120) -> CheckRun:
    """`pytest checks/` as another local user (see temporary_user: no root, no docker group), from a world-readable
    copy of the suite, with Debian's python3.11 and the venv's packages (the venv may live under /root).
    Skips where that cannot be done (fails under CI). The report dir is a fresh world-writable one under /tmp."""
    import pwd
    import shutil
    import sysconfig
    import tempfile

    try:
        pwd.getpwnam(user)
    except KeyError:
        missing(f"no '{user}' user on this machine")
    if os.geteuid() != 0:
        missing("needs root to switch user")
    python = "/usr/bin/python3.11"
    if not os.access(python, os.X_OK):
        missing(f"{python} is needed to run as {user}")
    work = Path(tempfile.mkdtemp(prefix="blink-as-user-", dir="/tmp"))
    os.chmod(work, 0o755)
    src = work / "suite"
    for part in ("blinkcheck", "fixtures", "checks"):
        shutil.copytree(ROOT / part, src / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("conftest.py", "pyproject.toml"):
        shutil.copy(ROOT / part, src / part)
    for path in [src, *src.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    report_dir = work / "reports"
    report_dir.mkdir()
    os.chmod(report_dir, 0o777)
    cmd = ["runuser", "-u", user, "--", python, "-m", "pytest", "checks/", "-q", "-p", "no:cacheprovider",
           "--report-dir", str(report_dir), *args]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "PYTEST_ADDOPTS")}
    env.update(lab_blink_api(args))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONPATH"] = f"{src}:{sysconfig.get_paths()['purelib']}"
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=src, capture_output=True, text=True, timeout=timeout, env=env)
    return CheckRun(proc.returncode, proc.stdout, proc.stderr, report_dir, time.monotonic() - started)


