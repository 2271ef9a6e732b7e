"""The lab's stand-in for Blink: answers the runner's ping. Lab-only; binds to one lab address.

    python -m lab.standin --listen 172.30.251.1:18080 [--status 200]

No test, demo or CI run ever talks to a real Blink host: the Blink URL always points here.
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def make_handler(status: int) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"status": "ok" if status == 200 else "error", "path": self.path}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            # Never log request headers: the runner sends its API key in Authorization.
            sys.stderr.write(f"standin {self.address_string()} {args[0] if args else ''}\n")

    return Handler


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--listen", required=True, help="IP:PORT (a lab bridge address or loopback)")
    ap.add_argument("--status", type=int, default=200)
    args = ap.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    server = ThreadingHTTPServer((host, int(port)), make_handler(args.status))
    server.daemon_threads = True
    print(f"standin listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
