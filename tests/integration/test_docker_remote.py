"""Remote Docker hosts as the docker CLI reaches them, on the real engine.

ssh:// through our own sshd on loopback (tests/sshd.py: its own config, host key and authorized key,
stopped at the end) in front of the real engine: an ~/.ssh/config alias (Port, User, IdentityFile),
user@host:port, and docker contexts written by the real docker CLI (`docker context create`), chosen
by --docker-context, DOCKER_CONTEXT or `docker context use`; a tcp:// context with TLS material. Every
way ssh can fail gives one line, within --api-timeout, and leaves no ssh process behind.
"""

from __future__ import annotations

import os
import ssl
import subprocess
from pathlib import Path

import pytest

from lab.docker import scenarios as lab
from lab.k8s import pki
from tests.faultproxy import FaultProxy
from tests.harness import CheckRun, run_checks
from tests.reliability import Sees
from tests.sshd import LoopbackSSH

pytestmark = pytest.mark.docker_lab

TIMEOUT = 3
BASE = ["--target", "docker", "--blink-url", lab.BLINK_URL, "--probe-timeout", "4",
        "--api-timeout", str(TIMEOUT)]  # fmt: skip
PRECONDITION = "docker.host.daemon-reachable"
REACH = "docker.disconnected.blink-reachable"
NO_SSH_LEFT = "no ssh process left behind"
VIA_SSH = "answers at ssh://blinklab"


@pytest.fixture(scope="module", autouse=True)
def healthy_lab():
    lab.up("healthy")
    yield
    lab.down()


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    server = LoopbackSSH(tmp_path_factory.mktemp("ssh")).start()
    yield server
    server.stop()
    assert not _ssh_processes(), "an ssh process outlived the run"


def _ssh_processes() -> list[str]:
    """Our ssh clients still running (their command line names one of the test's aliases)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"ssh") and any(b"blinklab" in part or b"127.0.0.1" in part for part in cmd):
            found.append(" ".join(part.decode() for part in cmd))
    return found


def as_user(sshd: LoopbackSSH, *args: str, report_dir: Path, env: dict[str, str] | None = None) -> CheckRun:
    """`pytest checks/` as a user whose home is the test's: its ~/.ssh/config and ~/.docker."""
    env = {**sshd.client_env(), **(env or {})}
    return run_checks(*BASE, *args, report_dir=report_dir, env=env, prefix=sshd.client_prefix())


def docker_cli(sshd: LoopbackSSH, *args: str) -> str:
    """The real docker CLI, as that user (it writes the contexts we then read)."""
    env = {"HOME": str(sshd.home), "PATH": os.environ["PATH"]}
    return subprocess.run(["docker", *args], env=env, check=True, capture_output=True, text=True, timeout=60).stdout


def assert_healthy_through(run: CheckRun, host: str) -> None:
    assert run.exit_code == 0, run.stdout[-3000:]
    reachable = run.entries(PRECONDITION)[0]
    assert reachable["outcome"] == "passed" and host in reachable["summary"], reachable
    assert run.results["target"]["docker_host"] == host
    runner = run.entries("docker.disconnected.container-running")
    assert [e["object"] for e in runner if e["outcome"] == "passed"], runner


@pytest.mark.reliability(
    "`--docker-host ssh://alias` with an ~/.ssh/config alias (HostName, Port, User, IdentityFile), healthy runner",
    Sees(exit=0, outcomes={PRECONDITION: "passed", REACH: "passed"}, says={PRECONDITION: VIA_SSH},
         facts=(NO_SSH_LEFT,)),
)
def test_ssh_alias_reaches_the_engine(sshd, tmp_path, sees):
    run = as_user(sshd, "--docker-host", "ssh://blinklab", report_dir=tmp_path)
    sees(run)  # the egress probe: a probe container, through ssh
    assert_healthy_through(run, "ssh://blinklab")
    sees.fact(NO_SSH_LEFT, not _ssh_processes())


def test_ssh_user_host_port_and_docker_host_env(sshd, tmp_path):
    url = f"ssh://root@127.0.0.1:{sshd.ports['ok']}"  # no alias: the default key ~/.ssh/id_ed25519
    run = as_user(sshd, "--docker-host", url, "--probe", "off", report_dir=tmp_path / "url")
    assert_healthy_through(run, url)
    run = as_user(sshd, "--probe", "off", report_dir=tmp_path / "env", env={"DOCKER_HOST": url})
    assert_healthy_through(run, url)


CONTEXT_IS_DOCKER = "`--target auto` counts it as Docker being there (results.json: platforms docker, a note naming context lab)"


@pytest.mark.reliability(
    "a docker context made by `docker context create lab --docker host=ssh://blinklab`, chosen by `--docker-context lab`",
    Sees(exit=0, outcomes={PRECONDITION: "passed"}, says={PRECONDITION: VIA_SSH}, case="flag"),
)
@pytest.mark.reliability(
    "the same context chosen by `DOCKER_CONTEXT=lab`",
    Sees(exit=0, outcomes={PRECONDITION: "passed"}, says={PRECONDITION: VIA_SSH}, case="env"),
)
@pytest.mark.reliability(
    "the same context made current by `docker context use lab`, no option given",
    Sees(exit=0, outcomes={PRECONDITION: "passed"}, says={PRECONDITION: VIA_SSH}, facts=(CONTEXT_IS_DOCKER,),
         case="current"),
)
def test_docker_contexts_written_by_the_docker_cli(sshd, tmp_path, sees):
    docker_cli(sshd, "context", "create", "lab", "--docker", "host=ssh://blinklab")
    # The docker CLI itself reaches the engine through this context (the same ~/.ssh/config).
    prefix = sshd.client_prefix()
    env = {**os.environ, **sshd.client_env()}
    out = subprocess.run([*prefix, "docker", "--context", "lab", "version", "--format", "{{.Server.Version}}"],
                         env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 0 and out.stdout.strip(), out.stderr

    run = as_user(sshd, "--docker-context", "lab", "--probe", "off", report_dir=tmp_path / "flag")
    sees(run, case="flag")
    assert_healthy_through(run, "ssh://blinklab")
    # The flag wins over DOCKER_HOST, as `docker --context` does.
    run = as_user(sshd, "--docker-context", "lab", "--probe", "off", report_dir=tmp_path / "over-env",
                  env={"DOCKER_HOST": "unix:///nonexistent"})  # fmt: skip
    assert_healthy_through(run, "ssh://blinklab")
    run = as_user(sshd, "--probe", "off", report_dir=tmp_path / "env", env={"DOCKER_CONTEXT": "lab"})
    sees(run, case="env")
    assert_healthy_through(run, "ssh://blinklab")

    docker_cli(sshd, "context", "use", "lab")
    try:
        # No option at all, --target auto: the current context is where Docker is.
        run = run_checks("--blink-url", lab.BLINK_URL, "--probe", "off", "--api-timeout", str(TIMEOUT),
                         report_dir=tmp_path / "current", env={**sshd.client_env(), "KUBECONFIG": ""},
                         prefix=sshd.client_prefix())  # fmt: skip
    finally:
        docker_cli(sshd, "context", "use", "default")
    sees(run, case="current")
    assert_healthy_through(run, "ssh://blinklab")
    target = run.results["target"]
    sees.fact(CONTEXT_IS_DOCKER, target["platforms"] == ["docker"] and any("context lab" in n for n in target["notes"]),
              target, case="current")  # fmt: skip


def test_unknown_docker_context_is_a_usage_error(sshd, tmp_path):
    run = as_user(sshd, "--docker-context", "nope", report_dir=tmp_path)
    assert run.exit_code == 4
    assert f"--docker-context: context 'nope' is not in {sshd.home}/.docker/contexts" in run.stderr


def _tls_material(folder: Path) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate (PEM files)."""
    ca_key, ca = pki.new_ca("blink-test-docker-ca")
    server_key, server = pki._issue(ca_key, ca, "127.0.0.1", ips=["127.0.0.1"], server=True, client=False)
    client_key, client = pki._issue(ca_key, ca, "blink-checker")
    files = {name: folder / f"{name}.pem" for name in ("ca", "server", "server-key", "cert", "key")}
    pki._write_cert(files["ca"], ca)
    pki._write_cert(files["server"], server)
    pki._write_key(files["server-key"], server_key)
    pki._write_cert(files["cert"], client)
    pki._write_key(files["key"], client_key)
    return files


MATERIAL_USED = "the context's ca.pem/cert.pem/key.pem are what works: the same endpoint without them does not answer (exit 1)"


@pytest.mark.reliability(
    "a docker context whose endpoint is tcp:// with TLS material (CA, client certificate), behind a TLS endpoint that "
    "requires the client certificate",
    Sees(exit=0, outcomes={PRECONDITION: "passed"}, says={PRECONDITION: "answers at tcp://127.0.0.1:"},
         facts=(MATERIAL_USED,)),
)
def test_tcp_context_with_tls_material(sshd, tmp_path, sees):
    pem = _tls_material(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(pem["server"], pem["server-key"])
    tls.verify_mode = ssl.CERT_REQUIRED  # no client certificate, no engine
    tls.load_verify_locations(pem["ca"])
    proxy = FaultProxy(None, tls=tls).start()
    try:
        endpoint = f"host={proxy.url},ca={pem['ca']},cert={pem['cert']},key={pem['key']}"
        docker_cli(sshd, "context", "create", "tls", "--docker", endpoint)
        assert docker_cli(sshd, "--context", "tls", "version", "--format", "{{.Server.Version}}").strip()
        run = as_user(sshd, "--docker-context", "tls", "--probe", "off", report_dir=tmp_path / "ctx")
        sees(run)
        assert_healthy_through(run, proxy.url)
        # Without the context's material the same endpoint does not answer: the material was what worked.
        bare = as_user(sshd, "--docker-host", proxy.url, "--probe", "off", report_dir=tmp_path / "bare")
        sees.fact(MATERIAL_USED, bare.exit_code == 1 and bare.outcome(PRECONDITION) == "not-evaluable")
    finally:
        proxy.stop()


FAILURES = [
    ("blinklab-unknown", "its host key is unknown (not in ~/.ssh/known_hosts); run `ssh blinklab-unknown` once"),
    ("blinklab-changed", "its host key has changed since it was recorded in known_hosts"),
    (
        "blinklab-badkey",
        "ssh authentication refused by blinklab-badkey (root@127.0.0.1: Permission denied (publickey).)",
    ),
    ("blinklab-nodocker", "no docker command on blinklab-nodocker (/bin/sh: 1: docker: not found)"),
    ("blinklab-noperm", "permission denied on the Docker socket of blinklab-noperm ("),
    (
        "blinklab-hang",
        f"timed out: no answer through ssh from blinklab-hang within {TIMEOUT}s: the connection hangs before login",
    ),
    (
        "blinklab-stuck",
        f"timed out: logged in to blinklab-stuck, but `docker system dial-stdio` there gave no answer within {TIMEOUT}s",
    ),
]


def _ssh_row(fault: str, alias: str) -> pytest.MarkDecorator:
    """One ssh:// failure: one line within --api-timeout, every other check naming it, no ssh left over."""
    line = dict(FAILURES)[alias]
    return pytest.mark.reliability(fault, Sees(
        exit=1, outcomes={PRECONDITION: "not-evaluable"}, says={PRECONDITION: line}, took={PRECONDITION: TIMEOUT},
        others="not-evaluable", naming=PRECONDITION, facts=(NO_SSH_LEFT,), case=alias))  # fmt: skip


@_ssh_row("ssh://: the remote host key is unknown (`--docker-host ssh://blinklab-unknown`)", "blinklab-unknown")
@_ssh_row("ssh://: the remote host key has changed since it was recorded in known_hosts", "blinklab-changed")
@_ssh_row("ssh://: the key is refused (authentication)", "blinklab-badkey")
@_ssh_row("ssh://: no docker CLI on the remote host", "blinklab-nodocker")
@_ssh_row("ssh://: the remote user may not use the remote Docker socket", "blinklab-noperm")
@_ssh_row("ssh://: a connection that hangs before login", "blinklab-hang")
@_ssh_row("ssh://: logged in, but the remote `docker system dial-stdio` never answers", "blinklab-stuck")
@pytest.mark.parametrize(("alias", "line"), FAILURES, ids=[a for a, _ in FAILURES])
def test_each_ssh_failure_is_one_line_within_the_api_timeout(sshd, tmp_path, alias, line, sees):
    run = as_user(sshd, "--docker-host", f"ssh://{alias}", report_dir=tmp_path)
    entry = run.entries(PRECONDITION)[0]
    print(f"\n{alias}: {entry['duration_s']:.2f}s: {entry['summary']}")
    sees(run)
    assert "Traceback" not in run.stdout + run.stderr
    sees.fact(NO_SSH_LEFT, not _ssh_processes())


# ------------------------------------------------------------------ the host itself, through testinfra over ssh

DISK = "docker.host.disk-space"
SERVICE = "docker.host.service-enabled"


def _remedy(run: CheckRun, cid: str) -> str:
    [entry] = run.entries(cid)
    return str(entry["remediation"])


def test_the_hosts_data_root_through_ssh(sshd, tmp_path):
    """Docker's data root measured on the ssh host by testinfra's ssh backend: the real one (passes), a 64 MB tmpfs
    over it (fails on space), a 1 GB tmpfs with 96 of its 100 inodes used (fails on inodes); the engine answers
    through the same ssh all the while. No systemd here: the service check says so, skipped (exit 0), and with
    --host-checks on it is not-evaluable."""
    ok = as_user(sshd, "--docker-host", "ssh://blinklab", "--probe", "off", report_dir=tmp_path / "ok")
    assert ok.exit_code == 0, ok.stdout[-3000:]
    [disk] = ok.entries(DISK)
    assert disk["outcome"] == "passed" and disk["summary"].startswith("/var/lib/docker on ssh://blinklab: "), disk
    [service] = ok.entries(SERVICE)
    assert service["outcome"] == "skipped", service
    assert "ssh://blinklab does not run systemd" in service["summary"], service

    small = as_user(sshd, "--docker-host", "ssh://blinklab-smalldisk", "--probe", "off", report_dir=tmp_path / "s")
    assert small.exit_code == 1, small.stdout[-3000:]
    assert small.entries(DISK)[0]["outcome"] == "failed"
    assert _remedy(small, DISK).startswith("Docker's data root /var/lib/docker on ssh://blinklab-smalldisk has 64 MB "
                                           "free of 64 MB; the runner needs at least 20.0 GB")
    assert small.entries(PRECONDITION)[0]["outcome"] == "passed"

    inodes = as_user(sshd, "--docker-host", "ssh://blinklab-inodes", "--probe", "off", "--min-disk-free", "100MB",
                     report_dir=tmp_path / "i")  # fmt: skip
    assert inodes.exit_code == 1, inodes.stdout[-3000:]
    assert inodes.entries(DISK)[0]["outcome"] == "failed"
    assert _remedy(inodes, DISK).startswith("Docker's data root /var/lib/docker on ssh://blinklab-inodes has used 96% "
                                            "of its inodes (at most 90%)")

    strict = as_user(sshd, "--docker-host", "ssh://blinklab", "--probe", "off", "--host-checks", "on",
                     report_dir=tmp_path / "on")  # fmt: skip
    assert strict.exit_code == 1 and strict.entries(SERVICE)[0]["outcome"] == "not-evaluable", strict.stdout[-3000:]
    assert not _ssh_processes()


def test_a_tcp_engine_host_is_not_looked_at(tmp_path):
    """tcp://: no shell on the engine's host. Skipped with the reason by default, not-evaluable with --host-checks on;
    the memory comes from `docker info` all the same."""
    proxy = FaultProxy(None).start()
    try:
        auto = run_checks(*BASE, "--docker-host", proxy.url, "--probe", "off", report_dir=tmp_path / "auto")
        strict = run_checks(*BASE, "--docker-host", proxy.url, "--probe", "off", "--host-checks", "on",
                            report_dir=tmp_path / "on")  # fmt: skip
    finally:
        proxy.stop()
    assert auto.exit_code == 0, auto.stdout[-3000:]
    [disk] = auto.entries(DISK)
    assert disk["outcome"] == "skipped" and "reached over tcp://, which gives no shell on its host" in disk["summary"]
    assert auto.entries("docker.host.memory")[0]["outcome"] == "passed"
    assert strict.exit_code == 1
    assert {e["outcome"] for e in strict.entries(DISK) + strict.entries(SERVICE)} == {"not-evaluable"}
