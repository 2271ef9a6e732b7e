"""A docker SDK client for any endpoint, ssh:// the way the docker CLI reaches it.

ssh://: the system `ssh` binary runs `docker system dial-stdio` on the remote host, exactly as the
docker CLI does, so `~/.ssh/config` (aliases, Port, User, IdentityFile, ProxyJump, agent) applies as
the user knows it. Its stdin and stdout are one end of a socketpair; the other end is the HTTP
connection's socket, so every read and write is bounded by --api-timeout like any socket: the
first answer on a new connection (TCP connect, SSH handshake, authentication, the remote docker,
the engine) must come within it. `BatchMode=yes`: ssh never prompts (an unknown host key or a
refused key is an error, never a question), `ConnectTimeout` bounds its own connect. When ssh
fails, its stderr and exit status become one line saying why (TransportError).

tcp:// with TLS material (a context's, or DOCKER_TLS_VERIFY/DOCKER_CERT_PATH): the SDK's TLS.
"""

from __future__ import annotations

import http.client
import math
import os
import socket
import subprocess
import tempfile
import time
from typing import IO, Any

import docker
import urllib3.connection
import urllib3.connectionpool
from docker.constants import DEFAULT_DOCKER_API_VERSION
from docker.tls import TLSConfig
from docker.transport.basehttpadapter import BaseHTTPAdapter

from blinkcheck.config import DockerTLS
from blinkcheck.docker.context import LOCAL_SOCKET, SSHTarget, parse_ssh

# Not "http+docker://ssh…": the SDK takes such a base URL for its paramiko channel when it streams logs.
SSH_BASE_URL = "http+docker://dial-stdio"
DIAGNOSIS_S = 0.3  # kept from --api-timeout for ssh to exit and for us to read why


class TransportError(Exception):
    """Why the remote engine could not be reached, in one line.

    Deliberately not an OSError: urllib3 and requests pass it through unwrapped, so the line reaches
    the report as it is."""


def transport_error(exc: BaseException | None) -> str | None:
    """The TransportError line inside an exception chain (the SDK wraps what it calls), if any."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, TransportError):
            return str(exc)
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def ssh_command(target: SSHTarget, timeout_s: float) -> list[str]:
    """What the docker CLI runs (cli/connhelper), never prompting, with our connect timeout."""
    args = ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={max(1, math.ceil(timeout_s))}", "-T"]
    args += ["-o", "LogLevel=VERBOSE"]  # says "Authenticated to …": where a hanging connection stopped
    if target.user:
        args += ["-l", target.user]
    if target.port:
        args += ["-p", str(target.port)]
    remote = ["docker"]
    if target.socket_path:
        remote += ["--host", f"unix://{target.socket_path}"]
    return [*args, "--", target.host, *remote, "system", "dial-stdio"]


_CHATTER = ("Warning:", "Authenticated to ", "Transferred: ", "Bytes per second: ")  # ssh's, not the reason


def _last_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line.startswith(_CHATTER)]
    return lines[-1] if lines else ""


def diagnose(target: SSHTarget, returncode: int | None, stderr: str, timeout_s: float, timed_out: bool) -> str:
    """One line from what ssh (and the remote docker CLI) said. Pure: canned stderr in, line out."""
    dest, last = target.shown, _last_line(stderr)
    if "REMOTE HOST IDENTIFICATION HAS CHANGED" in stderr:
        return (
            f"ssh refused {dest}: its host key has changed since it was recorded in known_hosts "
            "(a reinstalled host, or someone in between); check with the host's admin before trusting it"
        )
    if "Host key verification failed" in stderr or "host key is known for" in stderr:
        return (
            f"ssh refused {dest}: its host key is unknown (not in ~/.ssh/known_hosts); "
            f"run `{target.login}` once to check and accept it (the suite never accepts a key by itself)"
        )
    if "Permission denied (" in stderr or "Too many authentication failures" in stderr:
        return (
            f"ssh authentication refused by {dest} ({last}): key authentication only; add your public key "
            "to the remote user's ~/.ssh/authorized_keys, or set IdentityFile for this host in ~/.ssh/config"
        )
    if returncode == 127 or "docker: not found" in stderr or "docker: command not found" in stderr:
        return f"no docker command on {dest} ({last}): the docker CLI must be on the remote user's PATH"
    if "permission denied" in stderr and ("docker.sock" in stderr or "Docker daemon socket" in stderr):
        return (
            f"permission denied on the Docker socket of {dest} ({last}): "
            "add the ssh user to the docker group there, or connect as a user who may use the engine"
        )
    if "docker.sock" in stderr or "Is the docker daemon running" in stderr:
        return f"no Docker engine answers on {dest} ({last})"
    if timed_out or "timed out" in stderr:
        if "Authenticated to " in stderr:
            return (
                f"timed out: logged in to {dest}, but `docker system dial-stdio` there gave no answer "
                f"within {timeout_s:g}s (the remote docker or engine hangs)"
            )
        where = f" ({last})" if last else ""
        return (
            f"timed out: no answer through ssh from {dest} within {timeout_s:g}s: the connection hangs before "
            f"login (network, firewall or the SSH handshake){where}"
        )
    if "Could not resolve hostname" in stderr:
        return f"ssh cannot resolve {target.host} ({last})"
    if "Connection refused" in stderr:
        return f"ssh connection refused by {dest} ({last}): is sshd running there, on this port?"
    if returncode is None or returncode == 0:
        return f"the ssh connection to {dest} closed without an answer from docker" + (f" ({last})" if last else "")
    return f"ssh to {dest} failed (exit {returncode})" + (f": {last}" if last else "")


class _SSHConnection(urllib3.connection.HTTPConnection):
    """One HTTP connection = one `ssh … docker system dial-stdio`, its stdio a socketpair."""

    def __init__(self, target: SSHTarget, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.target = target
        self.api_timeout = timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._reading = False
        self._answered = False
        self._deadline = 0.0

    def connect(self) -> None:
        ours, theirs = socket.socketpair()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the connection; closed in close()
        env = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "SSL_CERT_FILE")}
        try:
            self._proc = subprocess.Popen(
                ssh_command(self.target, self.api_timeout),
                stdin=theirs.fileno(),
                stdout=theirs.fileno(),
                stderr=self._stderr,
                env=env,
                start_new_session=True,  # no terminal to prompt on; Ctrl-C reaches us, we end ssh
            )
        except FileNotFoundError:
            ours.close()
            raise TransportError(
                "ssh:// needs the OpenSSH client: no `ssh` on PATH (Debian: apt-get install openssh-client)"
            ) from None
        finally:
            theirs.close()
        ours.settimeout(self.api_timeout)
        self.sock = ours
        self._deadline = time.monotonic() + self.api_timeout - DIAGNOSIS_S
        self._answered = False

    def getresponse(self) -> Any:
        if not self._answered:  # the first answer includes connect, handshake, login: all within the timeout
            self.timeout = max(0.05, self._deadline - time.monotonic())
        self._reading = True  # http.client closes the connection on a failed read: keep ssh for the diagnosis
        try:
            response = super().getresponse()
            self._answered = True
            return response
        except (OSError, http.client.HTTPException) as exc:  # timeouts are OSErrors too
            line = self._diagnose(timed_out=isinstance(exc, TimeoutError))
            self._release()
            raise TransportError(line) from exc
        finally:
            self._reading = False

    def _diagnose(self, timed_out: bool) -> str:
        proc, code = self._proc, None
        if proc is not None:
            try:  # ssh has closed its end: it is exiting (a hung one is ended by _release)
                code = proc.wait(timeout=0 if timed_out else DIAGNOSIS_S)
            except subprocess.TimeoutExpired:
                pass
        stderr = ""
        if self._stderr is not None:
            self._stderr.seek(0)
            stderr = self._stderr.read()[-16384:].decode("utf-8", "replace")
        return diagnose(self.target, code, stderr, self.api_timeout, timed_out)

    def _release(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=2)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def close(self) -> None:
        super().close()
        if not self._reading:
            self._release()


class _SSHConnectionPool(urllib3.connectionpool.HTTPConnectionPool):
    def __init__(self, target: SSHTarget, timeout: float, maxsize: int) -> None:
        super().__init__("localhost", timeout=timeout, maxsize=maxsize)
        self.target = target
        self.api_timeout = timeout

    def _new_conn(self) -> urllib3.connection.HTTPConnection:
        return _SSHConnection(self.target, self.api_timeout)


class SSHAdapter(BaseHTTPAdapter):
    """requests adapter: one pool of ssh-backed connections to one remote engine."""

    def __init__(self, target: SSHTarget, timeout: float, max_pool_size: int = 4) -> None:
        self.target = target
        self.timeout = timeout
        self.pool = _SSHConnectionPool(target, timeout, max_pool_size)
        super().__init__()

    def get_connection(self, url: Any, proxies: Any = None) -> _SSHConnectionPool:
        return self.pool

    def request_url(self, request: Any, proxies: Any) -> str:
        return str(request.path_url)  # no proxies: the path goes down the ssh pipe as it is

    def close(self) -> None:
        super().close()
        self.pool.close()


def docker_client(host: str, tls: DockerTLS | None, timeout_s: float) -> docker.DockerClient:
    """A connected client (API version negotiated: one bounded call), or TransportError / the SDK's error."""
    timeout = max(1, int(timeout_s))
    if host.startswith("ssh://"):
        # The SDK's own ssh transport ignores ~/.ssh/config's Port and can hang: ours instead. The client
        # is made for the local socket (nothing connects yet), then pointed at the ssh adapter.
        client = docker.DockerClient(base_url=LOCAL_SOCKET, timeout=timeout, version=DEFAULT_DOCKER_API_VERSION)
        adapter = SSHAdapter(parse_ssh(host), timeout)
        client.api.mount(SSH_BASE_URL, adapter)
        client.api._custom_adapter = adapter
        client.api.base_url = SSH_BASE_URL
    elif tls is not None:
        cert = (tls.cert, tls.key) if tls.cert and tls.key else None
        tls_config = TLSConfig(client_cert=cert, ca_cert=tls.ca, verify=tls.verify)
        client = docker.DockerClient(base_url=host, timeout=timeout, version=DEFAULT_DOCKER_API_VERSION, tls=tls_config)
        # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE replace a session's CA: the context's CA must win.
        client.api.trust_env = False
    else:
        return docker.DockerClient(base_url=host, timeout=timeout, version="auto")
    client.api._version = client.api.version(api_version=False)["ApiVersion"]  # what version="auto" does
    return client
