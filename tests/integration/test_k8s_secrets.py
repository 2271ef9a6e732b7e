"""Never leak, never hang, on the lab cluster: a runner that logs its own key, a suite without `get
secrets`, an API server whose list never ends, a credential plugin that hangs on token refresh.

Every test runs `pytest checks/` as a user does and searches every byte it wrote (packet members
too) and the terminal for the key.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from blinkcheck.kubernetes.gather import MAX_PAGES
from blinkcheck.report.packet import archive_members
from tests.harness import ROOT, CheckRun, every_byte, run_checks
from tests.integration.k8s_lab import NS, RUNNERS, apply, check, kubectl, kubectl_proxy, plain_kubeconfig, pods
from tests.integration.test_k8s_scenarios import _sa_kubeconfig
from tests.reliability import Sees

pytestmark = pytest.mark.k8s_lab

LAB_SECRET = "lab-runner-group-key-not-a-secret"  # the lab's appKey (lab/k8s/scenarios/secret.yaml)
SCENARIO_LABELS = ["app=blink-runner", "release=blink-runner", "blink-lab.io/scenario=true"]  # cleared with it


def leaks(key: str, run: CheckRun) -> list[str]:
    """Where the key is: a file the run wrote, a packet member, the terminal."""
    blobs = every_byte(run.report_dir)
    assert {"results.json", "report.html", "junit.xml"} <= {Path(k).name for k in blobs}, sorted(blobs)
    found = [name for name, data in blobs.items() if key.encode() in data]
    return found + (["the terminal"] if key in run.stdout + run.stderr else [])


KEY_NOWHERE = "the key in no report file, packet member or terminal line"
READY = "k8s.disconnected.pods-ready"


def runner_logging_its_key(lab: Any, secret_args: list[str], message: str) -> str:
    """The healthy runner, its Secret re-created as given, and a crash message that quotes the key (the
    fake runner logs RUNNER_CRASH; $(VAR) is expanded by the kubelet from the Secret-backed variable)."""
    apply(lab, "healthy")
    kubectl(lab, "-n", NS, "delete", "secret", "blink-runner-secret", "--ignore-not-found")
    kubectl(lab, "-n", NS, "create", "secret", "generic", "blink-runner-secret", *secret_args)
    kubectl(lab, "-n", NS, "label", "secret", "blink-runner-secret", *SCENARIO_LABELS)
    kubectl(lab, "-n", NS, "set", "env", "deployment/blink-runner", f"RUNNER_CRASH={message}")
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:  # the new pod crash-loops (the old one stays: the rollout cannot finish)
        for p in pods(lab, RUNNERS):
            name = p["metadata"]["name"]
            if "registration refused" in kubectl(lab, "-n", NS, "logs", name, check=False):
                return name
        time.sleep(1)
    raise AssertionError(f"the runner never logged its key: {kubectl(lab, '-n', NS, 'get', 'pods')}")


@pytest.mark.reliability(
    "a Kubernetes runner that logs its key (`key=<value>`, and bare) as it crashes, its Secret made `--from-file` "
    "(trailing newline), `--bundle on`",
    Sees(exit=1, outcomes={READY: ("failed", "passed")}, terminal=("registration refused: key=[REDACTED]",),
         facts=(KEY_NOWHERE,), report=True),
)
def test_runner_logging_its_from_file_key_leaks_nowhere(lab: Any, tmp_path: Path, sees):
    key_file = tmp_path / "appKey"
    key_file.write_text(LAB_SECRET + "\n")  # as `echo KEY > appKey` leaves it
    message = "registration refused: key=$(BLINK_RUNNER_GROUP_API_KEY) then again for $(BLINK_RUNNER_GROUP_API_KEY)"
    try:
        pod = runner_logging_its_key(lab, [f"--from-file=appKey={key_file}"], message)
        report_dir = tmp_path / "r"
        run = check(lab, report_dir, "--bundle", "on")
    finally:
        apply(lab, "healthy")
    sees(run)  # exit 1 (a failing pod), not 3 (the leak gate): the key never reached a file
    assert "LEAK GATE" not in run.stdout + run.stderr
    found = leaks(LAB_SECRET, run)
    sees.fact(KEY_NOWHERE, not found, found)
    [entry] = [e for e in run.entries(READY) if pod in e["object"]]
    assert entry["outcome"] == "failed", entry
    logged = "\n".join(e["text"] for e in entry["evidence"])
    assert "registration refused: key=[REDACTED]" in logged and "again for [REDACTED]" in logged, logged
    [packet] = report_dir.glob("escalation-*.tar.gz")
    members = {k.split("/", 1)[1]: v for k, v in archive_members(packet).items()}
    deployment = json.loads(members["kubernetes/deployment_blink_blink-runner.json"])
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["RUNNER_CRASH"] == {"name": "RUNNER_CRASH", "value": "[withheld]"}
    assert env["BLINK_RUNNER_GROUP_API_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "blink-runner-secret"


def _random_key() -> str:
    while True:
        key = secrets.token_urlsafe(24)
        if any(c.isdigit() for c in key) and any(c.isupper() for c in key) and any(c.islower() for c in key):
            return key


NOTE = "a note in results.json, report.html and the terminal: the Secret could not be read, stricter redaction applies"


@pytest.mark.reliability(
    "the suite may not `get` the runner's Secret (rbac/role.yaml without it) and the runner logs its key (`for key <value>`, a random token)",
    Sees(exit=1, outcomes={"k8s.runner.secret-present": "not-evaluable"}, facts=(NOTE, KEY_NOWHERE)),
)
def test_without_get_secrets_the_report_says_so_and_redaction_is_strict(lab: Any, tmp_path: Path, sees):
    key = _random_key()
    docs = list(yaml.safe_load_all((ROOT / "rbac" / "role.yaml").read_text()))
    for d in docs:
        d["metadata"]["name"] = d["metadata"]["name"].replace("blink-health-check", "blink-check-nosecret")
        d["metadata"].setdefault("labels", {})["blink-lab.io/scenario"] = "healthy"  # cleared with the scenario
        if d["kind"] == "Role":
            d["rules"] = [r for r in d["rules"] if "secrets" not in r["resources"]]
        if d["kind"] == "RoleBinding":
            d["roleRef"]["name"] = "blink-check-nosecret"
            d["subjects"][0]["name"] = "blink-check-nosecret"
    try:
        runner_logging_its_key(lab, [f"--from-literal=appKey={key}"],
                               "registration refused for key $(BLINK_RUNNER_GROUP_API_KEY)")  # fmt: skip
        kubectl(lab, "apply", "-f", "-", input_text=yaml.safe_dump_all(docs))
        kubeconfig = _sa_kubeconfig(lab, tmp_path, "blink-check-nosecret")
        run = check(lab, tmp_path / "r", "--probe", "off", kubeconfig=kubeconfig)
    finally:
        apply(lab, "healthy")
    sees(run)
    found = leaks(key, run)
    sees.fact(KEY_NOWHERE, not found, found)
    [note] = run.results["notes"]
    sees.fact(NOTE, "blink/blink-runner-secret could not be read" in note and "stricter redaction" in note
              and "stricter redaction" in run.html and "blink-checks note:" in run.stdout, note)  # fmt: skip
    logged = json.dumps(run.entries(READY))
    assert "registration refused for key [REDACTED]" in logged


class EndlessPodList:
    """A stand-in in front of `kubectl proxy`: every request goes to the lab's API server, except pod lists,
    which it answers with an empty page and a new `continue` token, forever."""

    def __init__(self, upstream_port: int) -> None:
        self.pod_lists = 0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self, method: str) -> None:
                if method == "GET" and self.path.startswith(f"/api/v1/namespaces/{NS}/pods?"):
                    stand_in.pod_lists += 1
                    body = json.dumps({"kind": "PodList", "apiVersion": "v1", "items": [],
                                       "metadata": {"continue": f"page-{stand_in.pod_lists}"}}).encode()  # fmt: skip
                    status, headers = 200, [("Content-Type", "application/json")]
                else:
                    sent = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
                    conn.request(method, self.path, body=sent or None,
                                 headers={"Content-Type": self.headers.get("Content-Type", "application/json")})  # fmt: skip
                    resp = conn.getresponse()
                    body, status = resp.read(), resp.status
                    headers = [(k, v) for k, v in resp.getheaders() if k.lower() in ("content-type", "date")]
                    conn.close()
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._forward("GET")

            def do_POST(self) -> None:
                self._forward("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()


PAGES = "pages of the pod list asked (its page limit, once in the run)"


@pytest.mark.reliability(
    "an API server whose pod list never ends (a new `continue` token on every page), `--api-timeout 2`",
    Sees(exit=1, within_s=60, outcomes={"k8s.disconnected.pods-exist": "not-evaluable"},
         says={"k8s.disconnected.pods-exist": "did not end"}, calls_at_most={PAGES: MAX_PAGES}, report=True),
)
def test_a_list_that_never_ends_is_bounded(lab: Any, tmp_path: Path, sees):
    apply(lab, "healthy")
    with kubectl_proxy(lab, 18442):
        stand_in = EndlessPodList(18442)
        try:
            kc = plain_kubeconfig(tmp_path, stand_in.url)
            run = run_checks("--target", "kubernetes", "--kubeconfig", str(kc), "--namespace", NS, "--blink-url",
                             lab.standin_url, "--api-timeout", "2", "--operator-wait", "0", "--probe", "off",
                             report_dir=tmp_path / "r", timeout=120)  # fmt: skip
        finally:
            stand_in.close()
    sees(run, calls={PAGES: stand_in.pod_lists})


@pytest.mark.reliability(
    "a kubeconfig exec credential plugin that hangs when the client re-runs it to refresh an expired token (inside an API call), `--api-timeout 3`",
    Sees(exit=1, within_s=60, outcomes={"k8s.cluster.api-reachable": "not-evaluable"},
         says={"k8s.cluster.api-reachable": "the kubeconfig's credential plugin did not finish refreshing the token"},
         took={"k8s.cluster.api-reachable": 4}, others="not-evaluable", naming="k8s.cluster.api-reachable", report=True),
)
def test_credential_plugin_hanging_on_token_refresh_is_bounded(lab: Any, tmp_path: Path, sees):
    plugin = tmp_path / "login.sh"
    runs, pidfile = tmp_path / "runs", tmp_path / "pid"
    plugin.write_text(
        "#!/bin/sh\n"
        f"n=$(cat {runs} 2>/dev/null || echo 0); echo $((n+1)) > {runs}\n"
        f'if [ "$n" -gt 0 ]; then echo $$ > {pidfile}; exec sleep 300; fi\n'
        # the first run answers at once, with a token that has already expired: the client refreshes it
        # at the first API call, and that run waits (a login prompt nobody answers)
        "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\","
        "\"status\":{\"token\":\"expired-token\",\"expirationTimestamp\":\"2020-01-01T00:00:00Z\"}}'\n"
    )
    plugin.chmod(0o755)
    admin = yaml.safe_load(lab.admin_kubeconfig.read_text())
    admin["users"][0]["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1",
                                          "command": str(plugin), "interactiveMode": "Never"}}  # fmt: skip
    kc = tmp_path / "kubeconfig"
    kc.write_text(yaml.safe_dump(admin))
    kc.chmod(0o600)
    try:
        run = check(lab, tmp_path / "r", "--api-timeout", "3", "--probe", "off", kubeconfig=kc)
    finally:
        if pidfile.exists():
            try:
                os.kill(int(pidfile.read_text()), signal.SIGKILL)  # the plugin run we left waiting
            except (ProcessLookupError, ValueError):
                pass
    sees(run)
