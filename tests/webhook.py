"""A local webhook receiver on loopback for --notify: it records what it is sent, or misbehaves on purpose."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.requests = 0
        self.fail_first = 0  # answer 500 to this many requests first
        self.url = ""


@contextmanager
def receiver(fail_first: int = 0, host: str = "127.0.0.1") -> Iterator[Receiver]:
    """A Slack-like receiver: 200 "ok" for a JSON body with `text` (after `fail_first` 500s); on loopback, or on a
    lab address the lab's pods reach (the lab cluster's gateway)."""
    rec = Receiver()
    rec.fail_first = fail_first

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            rec.requests += 1
            if rec.requests <= rec.fail_first:
                self.send_response(500)
                self.end_headers()
                return
            rec.messages.append(json.loads(body))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    rec.url = f"http://{host}:{server.server_address[1]}/services/T000/B000/hook-key-0123456789"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


def down_url() -> str:
    """A loopback port where nothing listens (connections refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/hook"


@contextmanager
def tcp_server(host: str, handle: Callable[[socket.socket], None]) -> Iterator[int]:
    """A TCP server on host:<free port> calling `handle` with each accepted connection (in its accept thread);
    stopped, with the connections it handed out closed, when the block ends."""
    server = socket.create_server((host, 0))
    server.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)
            handle(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        server.close()
        thread.join(timeout=5)
        for c in held:
            c.close()


@contextmanager
def silent_receiver(drip: bool = False) -> Iterator[str]:
    """Accepts connections and never answers (or, with drip, answers one byte a second, forever)."""
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        if drip:
            threading.Thread(target=_drip, args=(conn, stop), daemon=True).start()

    try:
        with tcp_server("127.0.0.1", handle) as port:
            yield f"http://127.0.0.1:{port}/hook"
    finally:
        stop.set()


def _drip(conn: socket.socket, stop: threading.Event) -> None:
    try:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"o" * 1000:
            if stop.is_set():
                return
            conn.sendall(bytes([byte]))
            time.sleep(1)
    except OSError:
        return
