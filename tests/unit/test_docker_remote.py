"""Remote Docker hosts: which endpoint the docker CLI would use (contexts, env, flags), the ssh command
it runs, and the one line each ssh failure becomes. Pure functions on canned files and stderr."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from blinkcheck.config import DockerTLS
from blinkcheck.docker.client import TransportError, diagnose, ssh_command, transport_error
from blinkcheck.docker.context import ContextError, SSHTarget, parse_ssh, resolve


def write_context(cfg: Path, name: str, host: str, skip_verify: bool = False, pems: tuple[str, ...] = ()) -> None:
    """What `docker context create NAME --docker host=…` writes."""
    cid = hashlib.sha256(name.encode()).hexdigest()
    meta = cfg / "contexts" / "meta" / cid / "meta.json"
    meta.parent.mkdir(parents=True)
    doc = {"Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip_verify}}}
    meta.write_text(json.dumps(doc))
    for pem in pems:
        path = cfg / "contexts" / "tls" / cid / "docker" / f"{pem}.pem"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("-----BEGIN CERTIFICATE-----\n")


@pytest.fixture
def home(tmp_path):
    cfg = tmp_path / ".docker"
    write_context(cfg, "remote", "ssh://deploy@build-host:2222")
    write_context(cfg, "tls", "tcp://10.0.0.5:2376", pems=("ca", "cert", "key"))
    write_context(cfg, "insecure", "tcp://10.0.0.6:2376", skip_verify=True)
    write_context(cfg, "plain", "tcp://10.0.0.7:2375")
    return tmp_path


def env_of(home: Path, **more: str) -> dict[str, str]:
    return {"HOME": str(home), **more}


def test_default_is_the_local_socket(tmp_path):
    found = resolve(None, None, env_of(tmp_path))
    assert (found.host, found.context, found.tls) == ("unix:///var/run/docker.sock", None, None)


def test_cli_order_flag_context_then_host_then_env(home):
    env = env_of(home, DOCKER_HOST="tcp://1.2.3.4:2375", DOCKER_CONTEXT="plain")
    assert resolve(None, "remote", env).host == "ssh://deploy@build-host:2222"  # --context beats DOCKER_HOST
    assert resolve("tcp://5.6.7.8:2375", None, env).host == "tcp://5.6.7.8:2375"  # --host beats everything else
    assert resolve(None, None, env).host == "tcp://1.2.3.4:2375"  # DOCKER_HOST beats DOCKER_CONTEXT
    found = resolve(None, None, env_of(home, DOCKER_CONTEXT="plain"))
    assert (found.host, found.context, found.chosen_by) == ("tcp://10.0.0.7:2375", "plain", "DOCKER_CONTEXT")


def test_current_context_of_the_docker_config(home):
    (home / ".docker" / "config.json").write_text(json.dumps({"auths": {}, "currentContext": "remote"}))
    found = resolve(None, None, env_of(home))
    assert found.host == "ssh://deploy@build-host:2222" and found.context == "remote"
    assert "currentContext" in found.chosen_by
    # DOCKER_CONFIG moves the whole folder, as for the CLI.
    assert (
        resolve(None, None, env_of(home, DOCKER_CONFIG=str(home / "elsewhere"))).host == "unix:///var/run/docker.sock"
    )


def test_context_named_default_is_docker_host_or_the_socket(home):
    assert resolve(None, "default", env_of(home)).host == "unix:///var/run/docker.sock"
    assert resolve(None, "default", env_of(home, DOCKER_HOST="ssh://h")).host == "ssh://h"


def test_tls_material_of_a_context(home):
    tls = resolve(None, "tls", env_of(home)).tls
    assert tls is not None and tls.verify
    assert tls.ca and tls.ca.endswith("/docker/ca.pem") and tls.cert and tls.key
    assert resolve(None, "insecure", env_of(home)).tls == DockerTLS(None, None, None, verify=False)
    assert resolve(None, "plain", env_of(home)).tls is None  # no material: plain tcp://, as the CLI
    assert resolve(None, "remote", env_of(home)).tls is None


def test_docker_tls_verify_and_cert_path_for_a_tcp_docker_host(home, tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    for pem in ("ca", "cert", "key"):
        (certs / f"{pem}.pem").write_text("x")
    env = env_of(home, DOCKER_HOST="tcp://h:2376", DOCKER_TLS_VERIFY="1", DOCKER_CERT_PATH=str(certs))
    ca, cert, key = (str(certs / f"{p}.pem") for p in ("ca", "cert", "key"))
    assert resolve(None, None, env).tls == DockerTLS(ca, cert, key, verify=True)
    assert resolve(None, None, env_of(home, DOCKER_HOST="tcp://h:2375")).tls is None


def test_unknown_context_names_the_known_ones(home):
    with pytest.raises(ContextError) as err:
        resolve(None, "nope", env_of(home))
    assert str(err.value) == (
        f"context 'nope' is not in {home / '.docker' / 'contexts'} "
        "(contexts: default, insecure, plain, remote, tls)"
    )
    (home / ".docker" / "config.json").write_text('{"currentContext": "gone"}')
    with pytest.raises(ContextError, match=r"context 'gone' \(currentContext in .*config.json\)"):
        resolve(None, None, env_of(home))


def test_host_and_context_flags_together_are_refused(home):
    with pytest.raises(ContextError, match="not both"):
        resolve("tcp://h:2375", "remote", env_of(home))


def test_broken_docker_config_is_named(home):
    (home / ".docker" / "config.json").write_text("{not json")
    with pytest.raises(ContextError, match=r"cannot read the docker config .*config\.json"):
        resolve(None, None, env_of(home))


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("ssh://blinklab", SSHTarget("blinklab")),
        ("ssh://deploy@build-host:2222", SSHTarget("build-host", "deploy", 2222)),
        ("ssh://me@[::1]:22/run/user/1000/docker.sock", SSHTarget("::1", "me", 22, "/run/user/1000/docker.sock")),
    ],
)
def test_parse_ssh(url, target):
    assert parse_ssh(url) == target


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ssh://me:secret@h", r"'ssh://me:\*\*\*@h': a password in an ssh:// address is not supported"),
        ("ssh://h?x=1", "takes no query"),
        ("ssh://h:99999", "malformed port"),
    ],
)
def test_parse_ssh_refuses(url, message):
    with pytest.raises(ContextError, match=message):
        parse_ssh(url)


def test_ssh_command_is_the_docker_cli_one_never_prompting():
    # An alias: no -p, no -l, so ~/.ssh/config's Port and User apply (the SDK forced -p 22).
    assert ssh_command(SSHTarget("blinklab"), 2.5) == [
        "ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=3", "-T", "-o", "LogLevel=VERBOSE",
        "--", "blinklab", "docker", "system", "dial-stdio",
    ]  # fmt: skip
    cmd = ssh_command(SSHTarget("h", "deploy", 2222, "/run/docker.sock"), 10)
    assert cmd[cmd.index("-l") + 1] == "deploy" and cmd[cmd.index("-p") + 1] == "2222"
    assert cmd[cmd.index("--") :] == ["--", "h", "docker", "--host", "unix:///run/docker.sock", "system", "dial-stdio"]


T = SSHTarget("blinklab")
UNKNOWN = "Authenticated to x\nNo ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\nHost key verification failed.\n"
CHANGED = "@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n...\nHost key verification failed.\n"
DIAG = [
    (255, UNKNOWN, False, "ssh refused blinklab: its host key is unknown"),
    (255, CHANGED, False, "its host key has changed"),
    (
        255,
        "root@127.0.0.1: Permission denied (publickey).\n",
        False,
        "ssh authentication refused by blinklab (root@127.0.0.1: Permission denied (publickey).)",
    ),
    (
        127,
        'Authenticated to h ([127.0.0.1]:22) using "publickey".\nbash: line 1: docker: command not found\nTransferred: sent 1, received 2 bytes\n',
        False,
        "no docker command on blinklab (bash: line 1: docker: command not found)",
    ),
    (
        1,
        "failed to open the raw stream connection: dial unix /var/run/docker.sock: connect: permission denied\n",
        False,
        "permission denied on the Docker socket of blinklab (",
    ),
    (
        1,
        "failed to open the raw stream connection: dial unix /var/run/docker.sock: connect: no such file or directory\n",
        False,
        "no Docker engine answers on blinklab",
    ),
    (None, "", True, "timed out: no answer through ssh from blinklab within 3s: the connection hangs before login"),
    (
        255,
        "Connection timed out during banner exchange\n",
        False,
        "the connection hangs before login (network, firewall or the SSH handshake) (Connection timed out during banner exchange)",
    ),
    (
        None,
        'Authenticated to h ([127.0.0.1]:22) using "publickey".\n',
        True,
        "logged in to blinklab, but `docker system dial-stdio` there gave no answer within 3s",
    ),
    (255, "ssh: connect to host 127.0.0.1 port 1: Connection refused\n", False, "ssh connection refused by blinklab"),
    (
        255,
        "ssh: Could not resolve hostname blinklab: Name or service not known\n",
        False,
        "ssh cannot resolve blinklab",
    ),
    (
        255,
        "kex_exchange_identification: Connection closed by remote host\n",
        False,
        "ssh to blinklab failed (exit 255): kex_exchange_identification: Connection closed by remote host",
    ),
    (0, "", False, "the ssh connection to blinklab closed without an answer from docker"),
]


@pytest.mark.parametrize(("code", "stderr", "timed_out", "line"), DIAG)
def test_each_ssh_failure_is_one_line(code, stderr, timed_out, line):
    said = diagnose(T, code, stderr, 3, timed_out)
    assert line in said and "\n" not in said, said


def test_unknown_host_key_says_how_to_accept_it_for_user_host_port():
    said = diagnose(SSHTarget("10.0.0.5", "deploy", 2222), 255, UNKNOWN, 3, False)
    assert "run `ssh -p 2222 deploy@10.0.0.5` once" in said


def test_transport_error_is_found_inside_the_sdk_wrapping():
    try:
        try:
            raise TransportError("the line")
        except TransportError as exc:
            raise RuntimeError("Error while fetching server API version: the line") from exc
    except RuntimeError as outer:
        assert transport_error(outer) == "the line"
    assert transport_error(ValueError("x")) is None
