"""Blink's own view of the runner, through Blink's public API (the OpenAPI spec of Blink's CLI, kept in
lab/blink_api_spec.yaml): the controller's readiness, the workspace's runners and runner groups.

Both platforms use it. Every call is bounded by --api-timeout; HTTPS is verified (the suite host's trust store, or
SSL_CERT_FILE); the API key goes only into the `BLINK-API-KEY` header, and the run's redactor knows it before the
first request (the constructor registers it). A failure is one line (BlinkApiError), never a traceback.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from blinkcheck.redact import Redactor

API_BASE = "/api/v1"
# The spec's basePath (/api/v1) and the controller's path (/api/readiness) compose ambiguously: both are tried.
READINESS_PATHS = ("/api/v1/api/readiness", "/api/readiness")
KEY_HEADER = "BLINK-API-KEY"
MAX_PAGES = 20
PAGE_SIZE = 100
MAX_BODY = 8 << 20


class BlinkApiError(Exception):
    """Blink's API could not be asked (one line: `reason`); `refused`: the API key was refused (401/403)."""

    def __init__(self, reason: str, refused: bool = False, status: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.refused = refused
        self.status = status


@dataclass(frozen=True)
class Readiness:
    url: str  # the readiness URL that answered (or the last one tried)
    status: int  # its HTTP status
    body: str  # the first line of its answer
    tried: tuple[str, ...] = ()  # every path tried, with what it answered


@dataclass(frozen=True)
class BlinkRunner:
    """One entry of `GET /workspace/{ws_id}/runners` (models.Runner)."""

    id: str
    name: str
    container_name: str
    ip_address: str
    group_name: str
    status: str
    last_seen: int  # epoch seconds; 0: never
    version: str

    @property
    def label(self) -> str:
        return f"Blink runner {self.name or self.id}"


@dataclass(frozen=True)
class RunnerGroup:
    """One entry of `GET /workspace/{ws_id}/runner_groups` (v1.RunnerGroupResponse)."""

    name: str
    display_name: str
    available_runners: int
    number_of_instances: int


def _epoch(value: Any) -> int:
    """Epoch seconds from the spec's integer (milliseconds accepted: a value past year 5000 is taken as ms)."""
    try:
        n = int(value or 0)
    except (TypeError, ValueError):
        return 0
    return n // 1000 if n > 100_000_000_000 else n


def blink_runner(raw: Mapping[str, Any]) -> BlinkRunner:
    return BlinkRunner(
        id=str(raw.get("id") or ""),
        name=str(raw.get("name") or ""),
        container_name=str(raw.get("container_name") or ""),
        ip_address=str(raw.get("ip_address") or ""),
        group_name=str(raw.get("group_name") or ""),
        status=str(raw.get("status") or ""),
        last_seen=_epoch(raw.get("last_seen")),
        version=str(raw.get("version") or ""),
    )


def runner_group(raw: Mapping[str, Any]) -> RunnerGroup:
    def num(key: str) -> int:
        try:
            return int(raw.get(key) or 0)
        except (TypeError, ValueError):
            return 0

    return RunnerGroup(str(raw.get("name") or ""), str(raw.get("display_name") or ""), num("available_runners"),
                       num("number_of_instances"))  # fmt: skip


Opener = Callable[[urllib.request.Request, float], Any]


class BlinkApi:
    def __init__(self, base_url: str, api_key: str, workspace_id: str, timeout_s: float, redactor: Redactor,
                 readiness_path: str = "auto", opener: Opener | None = None) -> None:  # fmt: skip
        redactor.add(api_key)  # before any request: nothing the API answers can show it
        self.base = base_url.rstrip("/")
        self._key = api_key
        self.workspace_id = workspace_id
        self.timeout_s = timeout_s
        self.readiness_paths = READINESS_PATHS if readiness_path in ("", "auto") else (readiness_path,)
        self._ctx = ssl.create_default_context()
        self._opener = opener or self._open

    @property
    def has_key(self) -> bool:
        return bool(self._key)

    def __repr__(self) -> str:  # never the key
        return f"BlinkApi({self.base!r}, workspace {self.workspace_id!r})"

    # ------------------------------------------------------------------ calls

    def readiness(self) -> Readiness:
        """GET the readiness path(s) (no key: the spec lists no security): the first that answers other than 404."""
        tried: list[str] = []
        last: Readiness | None = None
        for path in self.readiness_paths:
            status, body = self._get(path, auth=False, allow_error=True)
            first = body.decode("utf-8", "replace").strip().splitlines()[:1]
            last = Readiness(self.base + path, status, first[0][:200] if first else "", ())
            tried.append(f"{path}: HTTP {status}")
            if status != 404:
                break
        assert last is not None
        return Readiness(last.url, last.status, last.body, tuple(tried))

    def runners(self) -> list[BlinkRunner]:
        return [blink_runner(r) for r in self._paged(f"{API_BASE}/workspace/{self.workspace_id}/runners")]

    def runner_groups(self) -> list[RunnerGroup]:
        return [runner_group(r) for r in self._paged(f"{API_BASE}/workspace/{self.workspace_id}/runner_groups")]

    def _paged(self, path: str) -> list[Mapping[str, Any]]:
        """The spec's paged answer (PagingInfo + results), every page, at most MAX_PAGES of them."""
        out: list[Mapping[str, Any]] = []
        for _ in range(MAX_PAGES):
            _, body = self._get(f"{path}?offset={len(out)}&limit={PAGE_SIZE}", auth=True)
            try:
                data = json.loads(body)
            except ValueError:
                raise BlinkApiError(f"{self.base}{path} did not answer JSON") from None
            results = data.get("results") if isinstance(data, dict) else None
            if not isinstance(results, list):
                raise BlinkApiError(f"{self.base}{path} answered without a 'results' list")
            out.extend(r for r in results if isinstance(r, dict))
            total = data.get("total")
            if not results or not isinstance(total, int) or len(out) >= total:
                return out
        raise BlinkApiError(f"{self.base}{path}: more than {MAX_PAGES} pages; the list was not read whole")

    # ------------------------------------------------------------------ transport

    def _get(self, path: str, auth: bool, allow_error: bool = False) -> tuple[int, bytes]:
        headers = {"Accept": "application/json", "User-Agent": "blink-checks"}
        if auth:
            headers[KEY_HEADER] = self._key
        req = urllib.request.Request(self.base + path, headers=headers, method="GET")
        shown = self.base + path.split("?", 1)[0]
        try:
            resp = self._opener(req, self.timeout_s)
            with resp:
                return int(resp.status), _read_bounded(resp, self.timeout_s)
        except urllib.error.HTTPError as exc:
            status = exc.code
            if status in (401, 403) and auth:
                raise BlinkApiError(f"the API key was refused (HTTP {status} from {shown})", True, status) from None
            if allow_error:
                return status, _read_bounded(exc, self.timeout_s) if exc.fp else b""
            raise BlinkApiError(f"{shown} answered HTTP {status}", status=status) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise BlinkApiError(f"could not reach {shown}: {self._why(exc)}") from None

    def _open(self, req: urllib.request.Request, timeout: float) -> Any:
        handlers = [urllib.request.HTTPSHandler(context=self._ctx)]
        return urllib.request.build_opener(*handlers).open(req, timeout=timeout)

    def _why(self, exc: BaseException) -> str:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, ssl.SSLCertVerificationError):
            return self._untrusted(reason)
        if isinstance(reason, socket.gaierror):
            return f"the name does not resolve here ({reason.strerror})"
        if isinstance(reason, (TimeoutError, socket.timeout)):
            return f"timed out after {self.timeout_s:g}s (--api-timeout)"
        if isinstance(reason, ConnectionRefusedError):
            return "connection refused"
        return str(getattr(reason, "strerror", None) or reason)

    def _untrusted(self, err: ssl.SSLCertVerificationError) -> str:
        """Name the certificate's issuer, as the egress probe does: a TLS-inspecting proxy gives itself away."""
        parts = urlsplit(self.base)
        issuer = peer_issuer(parts.hostname or "", parts.port or 443, self.timeout_s)
        if issuer:
            return (f"certificate issued by {issuer} is not trusted by the suite's host ({err.verify_message}): "
                    "a TLS-inspecting proxy re-signing the traffic?")  # fmt: skip
        return f"TLS verification failed ({err.verify_message})"


def _read_bounded(resp: Any, timeout_s: float) -> bytes:
    """Read the answer within the call's bound: a server that drips its body does not hold the run."""
    end = time.monotonic() + timeout_s
    chunks: list[bytes] = []
    size = 0
    while size < MAX_BODY:
        if time.monotonic() > end:
            raise TimeoutError("the answer did not finish")
        chunk = resp.read(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def peer_issuer(host: str, port: int, timeout_s: float) -> str:
    """The issuer of the certificate the server presents (looked at without trusting it; nothing is sent)."""
    from blinkcheck.probe.environment import cert_info

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as raw, ctx.wrap_socket(
            raw, server_hostname=host
        ) as tls:
            der = tls.getpeercert(binary_form=True)
        return cert_info(der).issuer if der else ""
    except (OSError, ValueError):
        return ""
