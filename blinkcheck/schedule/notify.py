"""--notify URL: a Slack-compatible message (`{"text": ...}` POSTed as JSON, as Slack's incoming webhooks, and
Mattermost's, Rocket.Chat's and Teams' Slack-compatible ones take it) on a new failure and on recovery, never on
every run: it needs --history to know the last run.

- new failure: a condition that fails this run (after --fail-after) and did not fail the last one;
- recovery: this run fails nothing, the last one did.

The message holds the verdict (each failing condition and its object), the top remedy, the one-line counts and
where the report is; it passes the run's redactor (the URL itself is a secret: a webhook's path is its key, so
only scheme://host:port is ever shown). Each attempt is bounded by --notify-timeout (a receiver that accepts and
never answers, or answers byte by byte, is given up on), three attempts at most (on a refused connection, a
timeout, 429 or 5xx), so the whole is bounded; the run's exit code never depends on it."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

ATTEMPTS = 3
TARGET_ENTRY_ENV = "BLINK_TARGET_ENTRY"  # set by --targets for each target's run: its name in the targets file
BACKOFF_S = (0.5, 1.0)  # between attempts
REMEDY_LINES = 8


@dataclass(frozen=True)
class Delivery:
    sent: bool
    attempts: int
    why: str  # "HTTP 200" or what went wrong on the last attempt


def where(url: str) -> str:
    """The receiver as it may be shown: scheme://host[:port], never the path, query or credentials."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def kind_of(alerting: Sequence[str], last_alerting: frozenset[str] | None) -> str | None:
    """"failure", "recovery" or None (nothing to say). `last_alerting` None: no earlier run kept."""
    if any(k not in (last_alerting or frozenset()) for k in alerting):
        return "failure"
    if not alerting and last_alerting:
        return "recovery"
    return None


def message(kind: str, *, target: str, failures: Sequence[tuple[str, str, str]], cleared: Sequence[str],
            remedy: str, summary: str, report: str, host: str) -> dict[str, Any]:  # fmt: skip
    """The payload. failures: (condition id, object, conclusion) of each failure that fails the run."""
    if kind == "failure":
        lines = [f":red_circle: Blink runner checks on {target}: new failure"]
        lines += [f"• {cid}" + (f" ({obj})" if obj else "") + f": {what}" for cid, obj, what in failures]
        if remedy:
            cut = remedy.strip().splitlines()
            lines += ["Top remedy:", "```", *cut[:REMEDY_LINES], *(["…"] if len(cut) > REMEDY_LINES else []), "```"]
    else:
        lines = [f":large_green_circle: Blink runner checks on {target}: recovered"]
        if cleared:
            lines.append("Cleared: " + ", ".join(cleared))
    lines += [summary, f"Report: {report} (on {host})"]
    return {"text": "\n".join(lines)}


def post(url: str, payload: dict[str, Any], timeout_s: float,
         sleep: Callable[[float], None] = time.sleep) -> Delivery:  # fmt: skip
    """POST with bounded attempts; each attempt is given up after timeout_s, however the receiver behaves."""
    body = json.dumps(payload).encode()
    why = ""
    for attempt in range(1, ATTEMPTS + 1):
        status, why, again = _attempt(url, body, timeout_s)
        if status is not None and 200 <= status < 300:
            return Delivery(True, attempt, why)
        if not again or attempt == ATTEMPTS:
            return Delivery(False, attempt, why)
        sleep(BACKOFF_S[attempt - 1])
    return Delivery(False, ATTEMPTS, why)


def _attempt(url: str, body: bytes, timeout_s: float) -> tuple[int | None, str, bool]:
    """(HTTP status or None, what happened, whether another attempt may help), within timeout_s."""
    box: dict[str, tuple[int | None, str, bool]] = {}

    def run() -> None:
        headers = {"Content-Type": "application/json", "User-Agent": "blink-runner-checks"}
        req = urllib.request.Request(url, data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as resp:
                resp.read(65536)
                box["r"] = (resp.status, f"HTTP {resp.status}", False)
        except urllib.error.HTTPError as exc:
            box["r"] = (exc.code, f"HTTP {exc.code}", exc.code == 429 or exc.code >= 500)
        except TimeoutError:
            box["r"] = (None, f"no answer within {timeout_s:g}s", True)
        except urllib.error.URLError as exc:
            reason = exc.reason
            text = "timed out" if isinstance(reason, TimeoutError) else str(getattr(reason, "strerror", "") or reason)
            box["r"] = (None, text, True)
        except (OSError, ValueError) as exc:
            box["r"] = (None, str(exc) or type(exc).__name__, True)

    t = threading.Thread(target=run, name="blink-notify", daemon=True)
    t.start()
    t.join(timeout_s + 0.5)  # a receiver that drips its answer byte by byte is given up on too
    if t.is_alive():
        return None, f"no complete answer within {timeout_s:g}s", True
    return box.get("r", (None, "no answer", True))
