"""The lab API server's audit log (JSON lines, every request at Metadata level), read back."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from .settings import Settings

PYTHON_CLIENT = "OpenAPI-Generator/"  # the user agent of the official Python client (the health-check suite)


def events(s: Settings, since: datetime, user_agent: str = "") -> Iterator[dict[str, Any]]:
    """Completed requests received at or after `since` (aware), whose user agent starts with `user_agent`.
    The backend writes in batches: wait a second after the requests before reading."""
    with s.audit_log.open(errors="replace") as f:
        for line in f:
            if user_agent and f'"userAgent":"{user_agent}' not in line:
                continue
            ev = json.loads(line)
            if ev.get("stage") != "ResponseComplete":
                continue
            if datetime.fromisoformat(ev["requestReceivedTimestamp"].replace("Z", "+00:00")) >= since:
                yield ev


def whole_lists(evs: list[dict[str, Any]], resource: str, namespace: str) -> list[str]:
    """The request URIs of lists of `resource` in `namespace` without a label or field selector."""
    return [e["requestURI"] for e in evs
            if e.get("verb") == "list" and (e.get("objectRef") or {}).get("resource") == resource
            and (e.get("objectRef") or {}).get("namespace") == namespace
            and "labelSelector=" not in e["requestURI"] and "fieldSelector=" not in e["requestURI"]]
