"""The lab stand-in's part of Blink's public API (lab/blink_api_spec.yaml, from the OpenAPI spec of Blink's CLI):
readiness, version, the workspace's runners and runner groups, answered in the spec's shapes.

The runners are what the stand-in has really seen: every runner ping (GET /api/v1/runner/ping, answered as always)
is a heartbeat, recorded by the runner's address, so `last_seen` is real. What Blink learns at registration and a
ping does not carry (the runner's name, container name, group, version) the lab tells it through the lab's
control paths below, as the runner's own registration would (the lab's own runners never call them):

    PUT    /_lab/runners     [{"ip_address", "name", "container_name", "group_name", "version",
                               "last_seen" (epoch: a heartbeat the lab says happened then),
                               "heartbeats": false (the controller ignores this runner's pings: it lost it)}]
    DELETE /_lab/runners     forget every registration and heartbeat
    PUT    /_lab/readiness   {"status": 503}: the controller's readiness answer (200: ready)

The user API keys (header BLINK-API-KEY) come from a file of `KEY=WORKSPACE` lines (--api-keys): a request with
another key, or for another workspace, is answered 401.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ONLINE_S = 30  # a runner whose last heartbeat is older than this is "offline" in the lab's Blink
DEFAULT_GROUP = "lab-runners"
TENANT = "lab-tenant"


@dataclass
class Registration:
    ip_address: str
    name: str = ""
    container_name: str = ""
    group_name: str = DEFAULT_GROUP
    version: str = ""
    last_seen: int = 0
    heartbeats: bool = True
    started_at: int = 0


@dataclass
class BlinkState:
    keys: dict[str, str] = field(default_factory=dict)  # API key -> workspace id
    readiness: int = 200
    runners: dict[str, Registration] = field(default_factory=dict)  # by IP address
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_keys_file(cls, path: str, readiness: int = 200) -> BlinkState:
        keys = {}
        if path:
            for line in Path(path).read_text(encoding="utf-8").splitlines():
                key, sep, ws = line.strip().partition("=")
                if sep and key:
                    keys[key] = ws
        return cls(keys=keys, readiness=readiness)

    def heartbeat(self, ip: str, now: float | None = None) -> None:
        t = int(now if now is not None else time.time())
        with self.lock:
            reg = self.runners.setdefault(ip, Registration(ip, started_at=t))
            if reg.heartbeats:
                reg.last_seen = max(reg.last_seen, t)

    def register(self, items: list[dict[str, Any]]) -> None:
        with self.lock:
            for item in items:
                ip = str(item["ip_address"])
                reg = self.runners.get(ip) or Registration(ip, started_at=int(time.time()))
                for key in ("name", "container_name", "group_name", "version"):
                    if key in item:
                        setattr(reg, key, str(item[key]))
                if "heartbeats" in item:
                    reg.heartbeats = bool(item["heartbeats"])
                if "last_seen" in item:
                    reg.last_seen = int(item["last_seen"])
                self.runners[ip] = reg

    # ------------------------------------------------------------------ the spec's shapes

    def runner_models(self, ws: str, now: float) -> list[dict[str, Any]]:
        """models.Runner, one per runner the lab's Blink knows."""
        with self.lock:
            regs = sorted(self.runners.values(), key=lambda r: r.ip_address)
        return [{
            "id": f"runner-{r.ip_address.replace('.', '-').replace(':', '-')}",
            "name": r.name or f"runner-{r.ip_address}",
            "container_name": r.container_name,
            "ip_address": r.ip_address,
            "group_id": f"group-{r.group_name}",
            "group_name": r.group_name,
            "status": "online" if r.last_seen and now - r.last_seen <= ONLINE_S else "offline",
            "last_seen": r.last_seen,
            "started_at": r.started_at,
            "stopped_at": 0,
            "version": r.version,
            "workspace_id": ws,
            "tenant_id": TENANT,
            "user_name": "lab",
            "created_at": r.started_at,
            "created_by": "lab",
            "updated_at": r.last_seen,
            "updated_by": "lab",
        } for r in regs]  # fmt: skip

    def group_models(self, ws: str, now: float) -> list[dict[str, Any]]:
        """v1.RunnerGroupResponse, one per group (the default group always)."""
        runners = self.runner_models(ws, now)
        names = sorted({DEFAULT_GROUP, *(r["group_name"] for r in runners)})
        out = []
        for name in names:
            members = [r for r in runners if r["group_name"] == name]
            out.append({
                "id": f"group-{name}", "name": name, "display_name": name, "full_name": name, "slug_name": name,
                "available_runners": sum(1 for r in members if r["status"] == "online"),
                "number_of_instances": len(members), "is_default": name == DEFAULT_GROUP, "is_shared": False,
                "shared_with": 0, "used_by": 0, "tags": [], "tenant_id": TENANT, "workspace_id": ws,
                "workspace_name": ws, "created_at": 0, "created_by": "lab", "updated_at": 0, "updated_by": "lab",
            })  # fmt: skip
        return out


def paged(items: list[dict[str, Any]], query: str) -> dict[str, Any]:
    """api_responses.PagingInfo + results: `offset` and `limit` from the query (all by default)."""
    q = parse_qs(query)
    offset = max(0, int((q.get("offset") or ["0"])[0] or 0))
    limit = max(1, int((q.get("limit") or ["100"])[0] or 100))
    return {"offset": offset, "limit": limit, "total": len(items), "results": items[offset : offset + limit]}


def answer(state: BlinkState, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any] | None:
    """(status, JSON) for a path of Blink's API or the lab's control paths; None: not one of them."""
    parts = urlsplit(path)
    route = parts.path.rstrip("/")
    if route.startswith("/_lab/"):
        return _control(state, method, route, body)
    if method != "GET":
        return None
    if route in ("/api/readiness", "/api/v1/api/readiness"):
        return state.readiness, ("ok" if state.readiness == 200 else "not ready")
    if route in ("/api/version", "/api/v1/api/version"):
        return 200, "lab-standin"
    segs = route.split("/")
    # /api/v1/workspace/{ws_id}/runners | runner_groups
    if len(segs) == 6 and segs[1:4] == ["api", "v1", "workspace"] and segs[5] in ("runners", "runner_groups"):
        ws = segs[4]
        key = headers.get("BLINK-API-KEY") or ""
        if not any(hmac.compare_digest(key, k) and w == ws for k, w in state.keys.items()):
            return 401, {"error": "unauthorized"}
        now = time.time()
        items = state.runner_models(ws, now) if segs[5] == "runners" else state.group_models(ws, now)
        try:
            return 200, paged(items, parts.query)
        except ValueError:
            return 400, {"error": "bad paging"}
    return None


def _control(state: BlinkState, method: str, route: str, body: bytes) -> tuple[int, Any]:
    try:
        data = json.loads(body or b"null")
    except ValueError:
        return 400, {"error": "not JSON"}
    if route == "/_lab/runners" and method == "PUT" and isinstance(data, list):
        state.register(data)
        return 200, {"registered": len(data)}
    if route == "/_lab/runners" and method == "DELETE":
        with state.lock:
            state.runners.clear()
        return 200, {"cleared": True}
    if route == "/_lab/readiness" and method == "PUT" and isinstance(data, dict):
        state.readiness = int(data.get("status", 200))
        return 200, {"readiness": state.readiness}
    return 404, {"error": "no such lab control"}


# ------------------------------------------------------------------ the labs' side: the user key, registrations

WORKSPACE = "lab-workspace"


def ensure_user_key(state_dir: Path) -> tuple[Path, Path]:
    """The lab's Blink user API key, made once (random, so the leak tests can search for it): `blink-api-key` (the
    key alone, what a user gives the suite: --blink-api-key file:PATH) and `blink-api-keys` (the stand-in's list),
    plus `blink-api-key-wrong`, a key the stand-in refuses."""
    import secrets

    state_dir.mkdir(parents=True, exist_ok=True)
    key_file, keys_file, wrong = (state_dir / n for n in ("blink-api-key", "blink-api-keys", "blink-api-key-wrong"))
    for path in (key_file, wrong):
        if not path.exists():
            path.write_text("lab-user-key-" + secrets.token_hex(16) + "\n", encoding="utf-8")
            path.chmod(0o600)
    keys_file.write_text(f"{key_file.read_text(encoding='utf-8').strip()}={WORKSPACE}\n", encoding="utf-8")
    keys_file.chmod(0o600)
    return key_file, keys_file


def control(http_url: str, method: str, path: str, data: Any = None) -> Any:
    """A lab control call to a stand-in (its plain HTTP address, from the lab host)."""
    import urllib.request

    body = json.dumps(data).encode() if data is not None else None
    req = urllib.request.Request(http_url.rstrip("/") + path, data=body, method=method,
                                 headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or b"null")


def reset(http_url: str) -> None:
    """Forget every registration and heartbeat; readiness 200 (what a scenario starts from)."""
    control(http_url, "DELETE", "/_lab/runners")
    control(http_url, "PUT", "/_lab/readiness", {"status": 200})
