"""A fault-injecting proxy in front of the real Docker socket (or a loopback TCP service such as the
lab's API server or `kubectl proxy`), on a unix socket or loopback port of our own.

It forwards bytes both ways, and on a matching request line it can: delay the answer (a slow
API), drip the answer one byte at a time (a stream that never quite stops), drop the connection and
stop accepting (the daemon goes away mid-run), or run a callback first (e.g. remove the container
the client is about to inspect).
"""

from __future__ import annotations

import os
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DOCKER_SOCK = "/var/run/docker.sock"


@dataclass
class Rule:
    pattern: str  # regex on the request line, e.g. r"GET /v[\d.]+/containers/\w+/json"
    delay_s: float = 0.0
    die: bool = False  # stop the proxy: every later call is refused, like a stopped daemon
    before: Callable[[re.Match[str]], None] | None = None
    after: int = 0  # act only from the (after+1)-th matching request on
    drip_s: float = 0.0  # send the answer one byte every drip_s seconds
    hits: int = 0


@dataclass
class FaultProxy:
    path: Path | None  # a unix socket of our own; None: listen on a free loopback TCP port instead
    rules: list[Rule] = field(default_factory=list)
    _server: socket.socket | None = None
    _stopped: threading.Event = field(default_factory=threading.Event)
    _port: int = 0
    # Where bytes go: the real Docker socket, or ("127.0.0.1", port) of a loopback TCP service.
    upstream: str | tuple[str, int] = DOCKER_SOCK
    tls: ssl.SSLContext | None = None  # serve TLS (e.g. a tcp:// engine endpoint with certificates)
    _open: set[socket.socket] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"unix://{self.path}" if self.path else f"tcp://127.0.0.1:{self._port}"

    def start(self) -> FaultProxy:
        if self.path:
            self.path.unlink(missing_ok=True)
            srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            srv.bind(str(self.path))
            os.chmod(self.path, 0o666)
        else:
            srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            srv.bind(("127.0.0.1", 0))  # loopback only
            self._port = srv.getsockname()[1]
        srv.listen(64)
        srv.settimeout(0.2)
        self._server = srv
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        """Like a stopped daemon: refuse new connections and drop the open ones (kept-alive pool included)."""
        self._stopped.set()
        if self._server:
            self._server.close()
        for conn in list(self._open):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self.path:
            self.path.unlink(missing_ok=True)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                assert self._server is not None
                conn, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            self._open.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        family = socket.AF_UNIX if isinstance(self.upstream, str) else socket.AF_INET
        upstream = socket.socket(family, socket.SOCK_STREAM)
        try:
            if self.tls:
                client.settimeout(10)
                raw = client
                client = self.tls.wrap_socket(client, server_side=True)
                client.settimeout(None)
                self._open.discard(raw)
                self._open.add(client)
            upstream.connect(self.upstream)
            drip: list[float] = []  # set by a matching rule: how the answer goes back
            threading.Thread(target=self._pipe, args=(upstream, client, drip), daemon=True).start()
            while True:
                data = client.recv(65536)
                if not data:
                    break
                first = data.split(b"\r\n", 1)[0].decode("latin-1")
                for rule in self.rules:
                    m = re.search(rule.pattern, first)
                    if not m:
                        continue
                    rule.hits += 1
                    if rule.hits <= rule.after:
                        continue
                    if rule.before:
                        rule.before(m)
                    if rule.die:
                        self.stop()
                        return
                    if rule.delay_s:
                        time.sleep(rule.delay_s)
                    if rule.drip_s:
                        drip.append(rule.drip_s)
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            self._open.discard(client)
            for s in (client, upstream):
                try:
                    s.close()
                except OSError:
                    pass

    def _pipe(self, src: socket.socket, dst: socket.socket, drip: list[float]) -> None:
        try:
            while not self._stopped.is_set():
                data = src.recv(65536)
                if not data:
                    break
                if not drip:
                    dst.sendall(data)
                    continue
                for i in range(len(data)):
                    dst.sendall(data[i : i + 1])
                    time.sleep(drip[0])
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
