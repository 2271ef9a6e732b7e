"""The Kubernetes client: kubeconfig file and context, or in-cluster config; every call bounded.

Which config is used, in order: --kubeconfig (or $KUBECONFIG; several files joined with ':' are
merged as kubectl does), else ~/.kube/config, else the pod's service account when the suite runs
inside the cluster. The namespace defaults to the context's (the service account's in-cluster).

Every API call goes through `Kube.call`, which adds `_request_timeout` (connect, read) and turns
off urllib3's retries, so one slow API server costs --api-timeout per call, never more.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blinkcheck.config import TargetSpec

PARALLEL_READS = 8  # log windows read at the same time (blinkcheck.kubernetes.gather)
POOL_SIZE = PARALLEL_READS + 2  # connections kept open to the API server: one per parallel read, and spare
IN_CLUSTER_NS = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
DEFAULT_KUBECONFIG = Path("~/.kube/config").expanduser()


class KubeConfigError(Exception):
    """No usable configuration: the message says what was tried."""


@dataclass(frozen=True)
class KubeTarget:
    context: str  # context name, or "in-cluster"
    server: str
    namespace: str  # the context's namespace (or the service account's), else "default"
    user: str  # the kubeconfig user entry, or the service account


class ApiError(Exception):
    """A refused or failed API call: `status` is the HTTP status (0 when there was no answer)."""

    def __init__(self, what: str, status: int, reason: str) -> None:
        super().__init__(f"{what}: {reason}")
        self.what = what
        self.status = status
        self.reason = reason


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, CredentialPluginTimeout):
        return text
    low = text.lower()
    if "timed out" in low or "timeout" in low:
        return f"timed out ({text[:300]})"
    if "connection refused" in low:
        return f"connection refused ({text[:300]})"
    if "certificate" in low or "ssl" in low:
        return f"TLS error ({text[:300]})"
    return text[:500]


def _api_exception_reason(exc: Any) -> str:
    """The API's own message from an ApiException body (a Status object), else its reason."""
    try:
        body = json.loads(exc.body or "{}")
        return str(body.get("message") or exc.reason)
    except (ValueError, TypeError, AttributeError):
        return str(getattr(exc, "reason", exc))


class Kube:
    """An ApiClient plus where it points; `call` is the only way the gatherers talk to the API."""

    def __init__(self, api_client: Any, target: KubeTarget, timeout_s: float) -> None:
        self.api_client = api_client
        self.target = target
        self.timeout_s = timeout_s
        self.requests = 0  # API requests made (results.json's target.api_requests)
        self._count_lock = threading.Lock()

    def count(self, n: int = 1) -> None:
        """n more API requests (`call` counts its own; an exec stream opened outside it counts here)."""
        with self._count_lock:
            self.requests += n

    @property
    def request_timeout(self) -> tuple[float, float]:
        return (min(self.timeout_s, 5.0), self.timeout_s)

    def api(self, name: str) -> Any:
        from kubernetes import client

        return getattr(client, name)(self.api_client)

    def call(self, what: str, fn: Any, *args: Any, timeout_s: float | None = None, **kwargs: Any) -> Any:
        """Call one generated API method, bounded; ApiError on refusal or no answer."""
        from kubernetes.client.exceptions import ApiException

        timeout = self.request_timeout if timeout_s is None else (min(timeout_s, 5.0), timeout_s)
        self.count()
        try:
            return fn(*args, _request_timeout=timeout, **kwargs)
        except ApiException as exc:
            raise ApiError(what, int(exc.status or 0), _api_exception_reason(exc)) from None
        except Exception as exc:  # urllib3/socket/ssl: no answer
            raise ApiError(what, 0, _reason(exc)) from None

    def json(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> tuple[dict[str, Any], str]:
        """The raw JSON the API server answered (no model round-trip) and its Date header."""
        resp = self.call(what, fn, *args, _preload_content=False, **kwargs)
        try:
            data = json.loads(resp.data or b"{}")
        except ValueError as exc:
            raise ApiError(what, 0, f"the API server answered something that is not JSON: {exc}") from None
        return data, str(resp.headers.get("Date", "")) if getattr(resp, "headers", None) else ""

    def close(self) -> None:
        try:
            self.api_client.close()
        except Exception:
            pass


def _kubeconfig_path(spec: TargetSpec) -> str | None:
    if spec.kubeconfig:
        return spec.kubeconfig
    if DEFAULT_KUBECONFIG.is_file():
        return str(DEFAULT_KUBECONFIG)
    return None


def connect(spec: TargetSpec, timeout_s: float | None = None) -> Kube:
    """Build the client (no API call yet). KubeConfigError when there is no usable configuration."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    timeout = spec.api_timeout_s if timeout_s is None else timeout_s
    cfg = client.Configuration()
    path = _kubeconfig_path(spec)
    try:
        if path:
            contexts, current = config.list_kube_config_contexts(config_file=path)
            name = spec.kube_context or (current or {}).get("name", "")
            ctx = next((c for c in contexts if c.get("name") == name), None)
            if ctx is None:
                known = ", ".join(c.get("name", "") for c in contexts) or "none"
                raise KubeConfigError(f"context '{name}' is not in {path} (contexts: {known})")
            config.load_kube_config(config_file=path, context=name, client_configuration=cfg, persist_config=False)
            namespace = (ctx.get("context") or {}).get("namespace") or "default"
            target = KubeTarget(name, cfg.host, namespace, str((ctx.get("context") or {}).get("user", "")))
        elif os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config(client_configuration=cfg)
            try:
                namespace = IN_CLUSTER_NS.read_text().strip() or "default"
            except OSError:
                namespace = "default"
            target = KubeTarget("in-cluster", cfg.host, namespace, "in-cluster service account")
        else:
            raise KubeConfigError(
                f"no kubeconfig ({DEFAULT_KUBECONFIG} does not exist, --kubeconfig/KUBECONFIG unset) "
                "and not running inside a cluster"
            )
    except ConfigException as exc:
        raise KubeConfigError(f"unusable kubeconfig {path or '(in-cluster)'}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise KubeConfigError(f"cannot read kubeconfig {path}: {exc}") from None
    cfg.retries = False  # one attempt per call: --api-timeout is the whole budget
    # log windows are read PARALLEL_READS at a time: each keeps its connection (urllib3 drops what is over)
    cfg.connection_pool_maxsize = max(cfg.connection_pool_maxsize or 0, POOL_SIZE)
    if cfg.refresh_api_key_hook is not None:
        cfg.refresh_api_key_hook = BoundedRefresh(cfg.refresh_api_key_hook, timeout)
    return Kube(client.ApiClient(configuration=cfg), target, timeout)


class CredentialPluginTimeout(Exception):
    """The kubeconfig's exec credential plugin, re-run to refresh an expired token, did not finish in time."""


class BoundedRefresh:
    """The client re-runs a kubeconfig's exec credential plugin inside API calls when its token expires,
    without a timeout (a cloud login waiting for input would hang the run). Here each refresh runs in a
    thread and is given --api-timeout; one that hangs fails this call and every later one at once."""

    def __init__(self, hook: Any, limit_s: float) -> None:
        self._hook = hook
        self._limit = limit_s
        self._stuck: threading.Thread | None = None
        self._lock = threading.Lock()

    def __call__(self, configuration: Any) -> None:
        with self._lock:
            if self._stuck is not None and self._stuck.is_alive():
                raise CredentialPluginTimeout(
                    f"the kubeconfig's credential plugin did not finish refreshing the token within {self._limit:g}s "
                    "(still running; a login waiting for input?)"
                )
            box: dict[str, BaseException] = {}

            def run() -> None:
                try:
                    self._hook(configuration)
                except BaseException as exc:  # handed to the caller's thread
                    box["error"] = exc

            worker = threading.Thread(target=run, name="kubeconfig-refresh", daemon=True)
            worker.start()
            worker.join(self._limit)
            if worker.is_alive():
                self._stuck = worker
                raise CredentialPluginTimeout(
                    f"the kubeconfig's credential plugin did not finish refreshing the token within {self._limit:g}s "
                    "(a login waiting for input?)"
                )
            if "error" in box:
                raise box["error"]


def connect_bounded(spec: TargetSpec, limit_s: float | None = None) -> Kube:
    """connect(), bounded: a kubeconfig's exec credential plugin (cloud login, kubelogin) may wait for
    input forever, and the client runs it without a timeout. Past the limit it is "could not look"."""
    limit = limit_s if limit_s is not None else max(10.0, 3 * spec.api_timeout_s)
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["kube"] = connect(spec)
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=run, name="kubeconfig-load", daemon=True)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        raise KubeConfigError(
            f"loading the kubeconfig did not finish in {limit:g}s (a credential plugin waiting for input?)"
        )
    if "error" in box:
        raise box["error"]
    return box["kube"]
