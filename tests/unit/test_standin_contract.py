"""The lab stand-in answers Blink's API in the shapes of Blink's own spec (lab/blink_api_spec.yaml, copied from the
OpenAPI spec of Blink's CLI): every answer validated against the spec's definitions, with exactly the spec's fields;
its runners are the runners that pinged it (their heartbeats make last_seen); the runner's ping is answered as
before. The stand-in runs in this process on a loopback port; nothing else is contacted."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from blinkcheck.blinkapi import BlinkApi, BlinkApiError
from blinkcheck.redact import Redactor
from lab import standin
from lab.blink_api import BlinkState

ROOT = Path(__file__).resolve().parents[2]
SPEC = yaml.safe_load((ROOT / "lab" / "blink_api_spec.yaml").read_text())
KEY = "contract-key-9e8d7c6b5a4f3e2d"
WS = "ws-contract"


@pytest.fixture
def standin_url() -> Iterator[str]:
    state = BlinkState(keys={KEY: WS})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), standin.make_handler(200, state))
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def call(url: str, method: str = "GET", data: Any = None, key: str = "") -> tuple[int, Any]:
    headers = {"BLINK-API-KEY": key} if key else {}
    body = json.dumps(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def response_schema(path: str) -> dict[str, Any]:
    """The spec's 200 schema of a path, with its definitions (Swagger 2.0's schemas are JSON Schema draft 4)."""
    return {**SPEC["paths"][path]["get"]["responses"]["200"]["schema"], "definitions": SPEC["definitions"]}


def validate(answer: Any, path: str) -> None:
    jsonschema.Draft4Validator(response_schema(path)).validate(answer)


def test_the_spec_copy_names_its_source():
    head = (ROOT / "lab" / "blink_api_spec.yaml").read_text()[:800]
    assert "github.com/blinkops/blink-go-cli" in head and "specification/swagger.yaml" in head and "commit:" in head
    assert SPEC["basePath"] == "/api/v1" and SPEC["securityDefinitions"]["ApiKeyAuth"]["name"] == "BLINK-API-KEY"


def test_readiness_and_version_are_the_spec_s_strings_on_both_readings_of_the_path(standin_url):
    for path in ("/api/v1/api/readiness", "/api/readiness"):
        status, answer = call(standin_url + path)
        assert status == 200
        validate(answer, "/api/readiness")
    status, answer = call(standin_url + "/api/v1/api/version")
    assert status == 200
    validate(answer, "/api/version")


def test_runners_and_groups_are_shaped_exactly_as_the_spec(standin_url):
    call(standin_url + standin.PING)  # a runner's heartbeat
    call(standin_url + "/_lab/runners", "PUT", [{"ip_address": "127.0.0.1", "name": "h1", "container_name": "blink-runner",
                                                 "version": "1.0.994"}])  # fmt: skip
    status, runners = call(f"{standin_url}/api/v1/workspace/{WS}/runners", key=KEY)
    assert status == 200
    validate(runners, "/workspace/{ws_id}/runners")
    [runner] = runners["results"]
    assert set(runner) == set(SPEC["definitions"]["models.Runner"]["properties"])
    assert runner["container_name"] == "blink-runner" and runner["status"] == "online"
    assert abs(runner["last_seen"] - time.time()) < 5  # the heartbeat, not a made-up time
    status, groups = call(f"{standin_url}/api/v1/workspace/{WS}/runner_groups", key=KEY)
    assert status == 200
    validate(groups, "/workspace/{ws_id}/runner_groups")
    assert set(groups["results"][0]) == set(SPEC["definitions"]["v1.RunnerGroupResponse"]["properties"])
    assert groups["results"][0]["available_runners"] == 1


def test_the_suite_reads_what_the_standin_answers(standin_url):
    call(standin_url + standin.PING)
    call(standin_url + "/_lab/runners", "PUT", [{"ip_address": "127.0.0.1", "heartbeats": False,
                                                 "last_seen": int(time.time()) - 600}])  # fmt: skip
    api = BlinkApi(standin_url, KEY, WS, 5, Redactor())
    assert api.readiness().status == 200
    [r] = api.runners()
    assert r.ip_address == "127.0.0.1" and 590 <= time.time() - r.last_seen <= 610 and r.status == "offline"
    call(standin_url + standin.PING)  # Blink's controller lost this runner: its pings change nothing
    assert api.runners()[0].last_seen == r.last_seen
    assert [g.available_runners for g in api.runner_groups()] == [0]
    with pytest.raises(BlinkApiError, match="the API key was refused"):
        BlinkApi(standin_url, "wrong-key-0000000000000000", WS, 5, Redactor()).runners()
    with pytest.raises(BlinkApiError, match="the API key was refused"):
        BlinkApi(standin_url, KEY, "another-workspace", 5, Redactor()).runners()
    call(standin_url + "/_lab/readiness", "PUT", {"status": 503})
    assert api.readiness().status == 503
    assert call(standin_url + "/_lab/runners", "DELETE") == (200, {"cleared": True})  # what each lab scenario starts from
    assert api.runners() == []


def test_the_runners_ping_is_answered_as_before(standin_url):
    assert call(standin_url + standin.PING) == (200, {"status": "ok", "path": standin.PING})
    assert call(standin_url + "/") == (200, {"status": "ok", "path": "/"})
