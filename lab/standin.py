"""The lab's stand-in for Blink: answers the runner's ping, and Blink's public API (lab/blink_api.py). Lab-only;
binds to lab addresses.

    python -m lab.standin --listen 172.30.251.1:18080 [--status 200]
        [--tls 172.30.251.1:18443,CERT,KEY[,readiness=503] ...]   HTTPS listeners (real TLS, a lab CA's
                                                       certificate); readiness=: that listener's own readiness answer
        [--dns 172.30.251.1:53 --record blink.lab.test=172.30.251.1 ...]   a tiny authoritative DNS
        [--date-offset SECONDS]                        every Date header that far off (a runner whose clock is off)
        [--api-keys FILE]                              the lab's Blink API keys (KEY=WORKSPACE lines)

The DNS answers only the lab's own names (NXDOMAIN for everything else, never forwarding), so a
runner whose nameserver it is can resolve the Blink name and nothing outside the lab.

No test, demo or CI run ever talks to a real Blink host: the Blink URL always points here.
"""

from __future__ import annotations

import argparse
import json
import socket
import ssl
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lab.blink_api import BlinkState
from lab.blink_api import answer as blink_answer

PING = "/api/v1/runner/ping"
READINESS_PATHS = ("/api/readiness", "/api/v1/api/readiness")


def make_handler(status: int, blink: BlinkState | None = None, date_offset: float = 0.0, readiness: int = 0
                 ) -> type[BaseHTTPRequestHandler]:  # fmt: skip
    """Every GET answers `status` as always (the runner's ping among them), except the paths of Blink's API
    (lab/blink_api.py), which answer in the shapes of Blink's spec; a ping is a heartbeat of its sender.
    `date_offset`: seconds added to every Date header (a runner whose clock is off). `readiness`: this listener's own
    readiness answer (something on the runner's way answering for Blink), else Blink's."""
    state = blink or BlinkState(readiness=status)

    class Handler(BaseHTTPRequestHandler):
        timeout = 10  # a client that connects and says nothing does not keep a thread forever

        def date_time_string(self, timestamp: float | None = None) -> str:
            import time

            return super().date_time_string((time.time() if timestamp is None else timestamp) + date_offset)

        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] == PING:
                state.heartbeat(self.client_address[0])
            if readiness and self.path.split("?", 1)[0].rstrip("/") in READINESS_PATHS:
                self._send(readiness, "ok" if readiness == 200 else "not ready")
                return
            if not self._blink("GET"):
                self._send(status, {"status": "ok" if status == 200 else "error", "path": self.path})

        def do_PUT(self) -> None:
            if not self._blink("PUT"):
                self._send(405, {"error": "method not allowed"})

        def do_DELETE(self) -> None:
            if not self._blink("DELETE"):
                self._send(405, {"error": "method not allowed"})

        def _blink(self, method: str) -> bool:
            size = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
            body = self.rfile.read(size) if size else b""
            found = blink_answer(state, method, self.path, self.headers, body)
            if found is None:
                return False
            self._send(*found)
            return True

        def _send(self, code: int, data: object) -> None:
            body = json.dumps(data).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            # Never log request headers: the runner sends its API key in Authorization.
            sys.stderr.write(f"standin {self.address_string()} {args[0] if args else ''}\n")

    return Handler


class TLSServer(ThreadingHTTPServer):
    """HTTPS: the handshake runs in the request's own thread, so a client that never finishes it
    (a bare TCP connect, a dropped packet) cannot stall the listener."""

    daemon_threads = True

    def __init__(self, addr: tuple[str, int], handler: type[BaseHTTPRequestHandler], ctx: ssl.SSLContext) -> None:
        super().__init__(addr, handler)
        self.ctx = ctx

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(10)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            sys.stderr.write(f"standin {client_address[0]} TLS handshake failed: {exc}\n")
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()


# ------------------------------------------------------------------ DNS (RFC 1035), answers only


def dns_reply(query: bytes, records: dict[str, str]) -> bytes | None:
    """The answer to one query: A records for the lab's names, NXDOMAIN for every other name."""
    if len(query) < 12:
        return None
    qid, flags, qd = struct.unpack(">HHH", query[:6])
    if flags & 0x8000 or qd != 1:
        return None
    pos, labels = 12, []
    while pos < len(query) and query[pos]:
        n = query[pos]
        labels.append(query[pos + 1 : pos + 1 + n].decode("ascii", "replace").lower())
        pos += 1 + n
    end = pos + 5
    if end > len(query):
        return None
    qtype = struct.unpack(">H", query[pos + 1 : pos + 3])[0]
    question = query[12:end]
    name = ".".join(labels)
    ip = records.get(name)
    rcode = 0 if ip else 3
    answers = b""
    if ip and qtype == 1:
        answers = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 30, 4) + socket.inet_aton(ip)
    flags_out = 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080 | rcode  # response, authoritative, RD copied, RA
    return struct.pack(">HHHHHH", qid, flags_out, 1, 1 if answers else 0, 0, 0) + question + answers


def serve_dns(host: str, port: int, records: dict[str, str]) -> threading.Thread:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, port))

    def loop() -> None:
        while True:
            data, peer = sock.recvfrom(4096)
            reply = dns_reply(data, records)
            if reply:
                sock.sendto(reply, peer)

    th = threading.Thread(target=loop, name="dns", daemon=True)
    th.start()
    return th


def _addr(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--listen", required=True, help="IP:PORT for plain HTTP (a lab bridge address or loopback)")
    ap.add_argument("--status", type=int, default=200)
    ap.add_argument("--tls", action="append", default=[], metavar="IP:PORT,CERT,KEY[,readiness=N]",
                    help="an HTTPS listener (readiness=N: its own answer to Blink's readiness)")
    ap.add_argument("--dns", default="", metavar="IP:PORT", help="answer DNS here for the --record names")
    ap.add_argument("--record", action="append", default=[], metavar="NAME=IP")
    ap.add_argument("--date-offset", type=float, default=0.0, help="seconds added to the Date header's time")
    ap.add_argument("--api-keys", default="", metavar="FILE", help="the lab's Blink API keys: KEY=WORKSPACE lines")
    args = ap.parse_args(argv)
    state = BlinkState.from_keys_file(args.api_keys, args.status)
    handler = make_handler(args.status, state, args.date_offset)
    servers: list[ThreadingHTTPServer] = []
    plain = ThreadingHTTPServer(_addr(args.listen), handler)
    plain.daemon_threads = True
    servers.append(plain)
    print(f"standin listening on http://{args.listen}", flush=True)
    for spec in args.tls:
        where, cert, key, *own = spec.split(",")
        own_readiness = int(own[0].removeprefix("readiness=")) if own else 0
        tls_handler = make_handler(args.status, state, args.date_offset, own_readiness) if own_readiness else handler
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        # Like a public endpoint, accept the TLS 1.2 suites of small clients too (busybox wget's own TLS
        # finds no shared cipher at OpenSSL's default security level); modern clients still get TLS 1.3.
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        servers.append(TLSServer(_addr(where), tls_handler, ctx))
        said = f", readiness {own_readiness}" if own_readiness else ""
        print(f"standin listening on https://{where} ({cert}{said})", flush=True)
    if args.dns:
        records = dict(r.lower().split("=", 1) for r in args.record)
        serve_dns(*_addr(args.dns), records)
        print(f"standin DNS on {args.dns}: {records}", flush=True)
    for srv in servers[1:]:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        plain.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
