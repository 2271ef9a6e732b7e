"""A tiny HTTP stand-in for the Kubernetes API server, a kubeconfig pointing at it, and a TargetSpec for it: for
the gatherer's and the client's unit tests (the fake_facts fixture is in tests/unit/conftest.py)."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.unit.kubernetes_objects import container, deployment, pod


def spec_for(tmp_path, **kw: Any):
    from blinkcheck.config import TargetSpec

    base: dict[str, Any] = dict(
        target="kubernetes",
        docker_host="unix:///x",
        blink_url="https://app.blinkops.com",
        runner_name="blink-runner",
        report_dir=tmp_path,
        catalog_path=tmp_path,
        log_since_s=3600,
        log_since="1h",
        log_tail=2000,
        log_timeout_s=30,
        api_timeout_s=2.0,
        probe=True,
        probe_image="x",
        probe_timeout_s=10,
        kubeconfig=None,
        kube_context=None,
        namespace=None,
        all_namespaces=False,
        operator_wait_s=60,
        rollback_window_s=300,
    )
    fields = {f for f in TargetSpec.__dataclass_fields__}
    base = {k: v for k, v in {**base, **kw}.items() if k in fields}
    for f in fields - base.keys():  # options added later by others: their defaults do not matter here
        base[f] = 0
    return TargetSpec(**base)


KUBECONFIG = """
apiVersion: v1
kind: Config
current-context: a
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t0ken-not-real}}]
contexts:
- {name: a, context: {cluster: c, user: u, namespace: blink}}
- {name: b, context: {cluster: c, user: u}}
"""


class FakeApi:
    """A tiny HTTP stand-in for the API server: canned JSON per path, every request recorded."""

    def __init__(self, deny: tuple[str, ...] = ()) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        fake = self
        self.requests: list[tuple[str, str]] = []
        self.deny = deny
        self.secret_value = base64.b64encode(b"fake-app-key-0123456789").decode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, obj: Any, raw: bytes | None = None) -> None:
                body = raw if raw is not None else json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                fake.requests.append(("GET", self.path))
                self._send(*fake.answer(self.path))

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append(("POST", self.path))
                if "selfsubjectreviews" in self.path:
                    return self._send(201, {"status": {"userInfo": {"username": "alice"}}})
                attrs = body.get("spec", {}).get("resourceAttributes", {})
                what = attrs.get("resource", "") + ("/" + attrs["subresource"] if attrs.get("subresource") else "")
                return self._send(201, {"status": {"allowed": what not in fake.deny}})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, path: str) -> tuple[int, Any, bytes | None]:
        if path.startswith("/version"):
            return 200, {"gitVersion": "v1.34.4"}, None
        if "/log?" in path:
            return 200, None, b'level=info msg=hello\nlevel=error msg="dial tcp: i/o timeout"\n'
        if "/secrets/" in path:
            return (
                200,
                {"metadata": {"name": "blink-runner-secret"}, "data": {"appKey": self.secret_value, "x": ""}},
                None,
            )
        if "/deployments" in path:
            return 200, {"items": [deployment()], "metadata": {}}, None
        if "/pods" in path:
            runner = pod(containers=[container(restarts=1, last_reason="Error", last_exit=1)])
            return 200, {"items": [runner], "metadata": {}}, None
        return 200, {"items": [], "metadata": {}}, None

    def close(self) -> None:
        self.server.shutdown()


class EndlessListApi(FakeApi):
    """Answers every pod list with an empty page and a fresh `continue` token, forever."""

    def answer(self, path: str) -> tuple[int, Any, bytes | None]:
        if path.startswith("/api/v1/namespaces/blink/pods?"):
            return 200, {"items": [], "metadata": {"continue": f"again-{len(self.requests)}"}}, None
        return super().answer(path)
