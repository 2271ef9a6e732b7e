"""Blink's own view of the runner: the judges on canned API answers (shaped as Blink's spec, lab/blink_api_spec.yaml),
the API client on canned HTTP answers (no network), and the options that carry the user's API key."""

from __future__ import annotations

import io
import re
import urllib.error
from typing import Any

import pytest

from blinkcheck.blinkapi import READINESS_PATHS, BlinkApi, BlinkApiError, Readiness, blink_runner, runner_group
from blinkcheck.blinkview import (
    LocalRunner,
    group_names,
    judge_group,
    judge_ready,
    judge_seen,
    judge_version,
    match,
    runner_readiness_url,  # fmt: skip
)
from blinkcheck.catalog import load_catalog
from blinkcheck.model import Finding, Outcome
from blinkcheck.probe.result import ProbeResult, Step
from blinkcheck.redact import Redactor

CATALOG = load_catalog()
NOW = 1_800_000_000
KEY = "user-key-3f9a8b7c6d5e4f3a2b1c0d9e"


def api_runner(**kw: Any) -> dict[str, Any]:
    """One models.Runner as Blink's API answers it."""
    base = {"id": "r1", "name": "0123abcd4567", "container_name": "blink-runner", "ip_address": "172.30.251.2",
            "group_id": "g1", "group_name": "lab-runners", "status": "online", "last_seen": NOW - 3,
            "started_at": NOW - 600, "stopped_at": 0, "version": "1.0.994", "workspace_id": "ws"}  # fmt: skip
    return {**base, **kw}


def local(**kw: Any) -> LocalRunner:
    base: dict[str, Any] = {"label": "container blink-runner (0123abcd4567)", "names": ("blink-runner", "0123abcd4567"),
                            "ips": ("172.30.251.2",), "running": True, "image": "blinkops/blink-runner:1.0.994",
                            "values": {"container_id": "0123abcd4567", "container_name": "blink-runner"}}  # fmt: skip
    return LocalRunner(**{**base, **kw})


def seen(runner: dict[str, Any], who: LocalRunner | None = None, stale_s: float = 300) -> Finding:
    return judge_seen("docker.blink.sees-runner", who or local(), [blink_runner(runner)], NOW, stale_s)


# ------------------------------------------------------------------ matching and "Blink sees this runner"


def test_matched_by_container_name_then_name_then_ip():
    assert match(local(), [blink_runner(api_runner())]).by == "container name"  # type: ignore[union-attr]
    by_name = blink_runner(api_runner(container_name="", name="blink-runner"))
    assert match(local(), [by_name]).by == "name"  # type: ignore[union-attr]
    by_ip = blink_runner(api_runner(container_name="", name="other"))
    assert match(local(), [by_ip]).by == "IP"  # type: ignore[union-attr]
    assert match(local(ips=()), [by_ip]) is None


def test_a_runner_blink_saw_seconds_ago_passes_with_blinks_own_words():
    f = seen(api_runner(status="Connected"))
    assert f.outcome is Outcome.PASSED
    assert "status 'Connected'" in f.summary and "last seen 3s ago" in f.summary and "container name" in f.summary


def test_a_running_runner_blink_last_saw_ten_minutes_ago_is_failed_stale():
    f = seen(api_runner(last_seen=NOW - 600, status="offline"))
    assert (f.outcome, f.variant) == (Outcome.FAILED, "stale")
    assert f.values["ago"] == "10m" and f.values["blink_status"] == "offline"
    text = CATALOG["docker.blink.sees-runner"].remediation(f.variant, {**f.values, "runner_name": "blink-runner"})
    assert "Blink last saw it 10m ago" in text and "docker logs 0123abcd4567" in text and "{" not in text


def test_stale_is_the_option_s_threshold():
    assert seen(api_runner(last_seen=NOW - 100), stale_s=60).outcome is Outcome.FAILED
    assert seen(api_runner(last_seen=NOW - 100), stale_s=300).outcome is Outcome.PASSED


def test_never_seen_and_unknown_runners_fail():
    assert seen(api_runner(last_seen=0)).variant == "never-seen"
    f = judge_seen("docker.blink.sees-runner", local(), [], NOW, 300)
    assert (f.outcome, f.variant) == (Outcome.FAILED, "unknown") and "172.30.251.2" in f.summary


def test_a_runner_not_running_here_is_not_judged_by_blinks_view():
    assert seen(api_runner(last_seen=NOW - 9999), local(running=False)).outcome is Outcome.SKIPPED


# ------------------------------------------------------------------ groups, versions, readiness


def test_group_with_available_runners_passes_and_without_fails():
    groups = [runner_group({"name": "lab-runners", "available_runners": 1, "number_of_instances": 2}),
              runner_group({"name": "empty", "available_runners": 0, "number_of_instances": 1})]  # fmt: skip
    assert judge_group("docker.blink.group-available", "lab-runners", groups).outcome is Outcome.PASSED
    f = judge_group("docker.blink.group-available", "empty", groups)
    assert (f.outcome, f.variant) == (Outcome.FAILED, "none-available")
    assert judge_group("docker.blink.group-available", "gone", groups).variant == "missing"
    assert group_names([local()], [blink_runner(api_runner())]) == ["lab-runners"]
    assert group_names([local(running=False)], [blink_runner(api_runner())]) == []


def test_version_blink_reports_against_the_image_tag():
    cid = "docker.blink.version"
    assert judge_version(cid, local(), [blink_runner(api_runner())]).outcome is Outcome.PASSED
    new = local(label="container blink-runner-1.0.995 (99aa)", names=("blink-runner-1.0.995",),
                image="blinkops/blink-runner:1.0.995")  # fmt: skip
    f = judge_version(cid, new, [blink_runner(api_runner(container_name="blink-runner-1.0.995"))])
    assert f.outcome is Outcome.FAILED and f.values["blink_version"] == "1.0.994" and f.values["version"] == "1.0.995"
    text = CATALOG[cid].remediation("", {**f.values, "container_id": "99aa00bb11cc"})
    assert "manual upgrade through the UI" in text and "docker container restart 99aa00bb11cc" in text
    assert judge_version(cid, local(image="blinkops/blink-runner"), [blink_runner(api_runner())]).outcome is \
        Outcome.SKIPPED  # fmt: skip
    assert judge_version(cid, local(), []).outcome is Outcome.SKIPPED


def test_readiness():
    cid = "docker.blink.ready"
    ok = Readiness("https://b/api/v1/api/readiness", 200, '"ok"', ("/api/v1/api/readiness: HTTP 200",))
    assert judge_ready(cid, ok, "https://b").outcome is Outcome.PASSED
    down = judge_ready(cid, Readiness("https://b/api/readiness", 503, "not ready"), "https://b")
    assert (down.outcome, down.variant) == (Outcome.FAILED, "down")
    assert "HTTP 503" in CATALOG[cid].remediation(down.variant, {**down.values, "status_channel": "#x"})
    n = judge_ready(cid, BlinkApiError("could not reach https://b: connection refused"), "https://b")
    assert n.outcome is Outcome.NOT_EVALUABLE and "connection refused" in n.summary


def _asked(url: str, status: str = "200", target: str = "container blink-runner (0123abcd4567)", **kw) -> ProbeResult:
    """The egress probe's answer from a runner's network namespace (steps as the netns probe gives them)."""
    steps = (Step("dns", True, "10.0.0.5"), Step("tcp", True, "connected"), Step("tls", True, "verified"),
             Step("http", True, f"HTTP {status}"))  # fmt: skip
    return ProbeResult(target, url, steps, http_status=status, tool="python", **kw)


def test_readiness_from_the_runners_namespaces():
    """Where the egress probe runs, the readiness is also asked from each runner's network namespace, at the
    runner's Blink URL with the path that answered the suite's host."""
    cid = "k8s.blink.ready"
    ok = Readiness("https://10.0.0.1:18080/api/v1/api/readiness", 200, '"ok"', ("/api/v1/api/readiness: HTTP 200",))
    url = runner_readiness_url("https://blink.lab.test:18443/", ok, "https://10.0.0.1:18080", READINESS_PATHS)
    assert url == "https://blink.lab.test:18443/api/v1/api/readiness"
    refused = BlinkApiError("could not reach https://10.0.0.1:18080: connection refused")
    assert runner_readiness_url("https://blink", refused, "https://10.0.0.1:18080", READINESS_PATHS) == \
        "https://blink/api/v1/api/readiness"  # fmt: skip
    assert runner_readiness_url("https://blink", refused, "https://x", ("/api/readiness",)) == "https://blink/api/readiness"

    both = judge_ready(cid, ok, "https://10.0.0.1:18080", [_asked(url), _asked(url, target="pod blink/p2")])
    assert (both.outcome, both.object, both.variant) == (Outcome.PASSED, "Blink", "")
    assert both.summary == (f"Blink's controller is ready: {ok.url} answered HTTP 200 (\"ok\") from the suite's host "
                            "and from container blink-runner (0123abcd4567), pod blink/p2.")  # fmt: skip
    assert [e.title for e in both.evidence] == ["readiness", "readiness from the runners"]
    assert both.evidence[1].text == (f"container blink-runner (0123abcd4567): {url} answered HTTP 200\n"
                                     f"pod blink/p2: {url} answered HTTP 200")  # fmt: skip

    # A runner's way to Blink answers otherwise (its proxy, an appliance): failed, that runner named.
    proxied = judge_ready(cid, ok, "https://10.0.0.1:18080", [_asked(url), _asked(url, "502", "pod blink/p2")])
    assert (proxied.outcome, proxied.variant) == (Outcome.FAILED, "down-from-runner")
    assert proxied.summary == (f"Blink's readiness is not 200 where the runner asks it: {url} answered HTTP 502 from "
                               f"pod blink/p2 ({ok.url} answered HTTP 200 from the suite's host).")  # fmt: skip
    text = CATALOG[cid].remediation(proxied.variant, {**proxied.values, "status_channel": "#p1"})
    assert f"{url} answered HTTP 502 from pod blink/p2 ({ok.url} answered HTTP 200 from the suite's host)" in text
    assert "Look at the egress probe's evidence for pod blink/p2 in this report" in text and "{" not in text
    assert CATALOG[cid].verdict_for(proxied.variant) == ("Blink's readiness is not 200 where the runner asks it - "
                                                         "something on the runner's way to Blink answers for it")

    # Where the probe did not reach Blink (its own check judges that path) or could not run: noted, not judged.
    blocked = ProbeResult("pod blink/p", "https://blink.lab.test:18443", (Step("dns", True, "ok"),
                          Step("tcp", False, "no answer within 10s", timed_out=True)))  # fmt: skip
    cannot = ProbeResult("pod blink/p3", url, unavailable="create pods/exec is not granted")
    unfinished = ProbeResult("pod blink/p4", url, error="the exec stream never opened")
    nc = ProbeResult("pod blink/p5", url, (Step("dns", True, "ok"), Step("tcp", True, "connected")), tool="nc")
    noted = judge_ready(cid, ok, "https://10.0.0.1:18080", [blocked, cannot, unfinished, nc])
    assert (noted.outcome, noted.summary) == (Outcome.PASSED, f"Blink's controller is ready: {ok.url} answered HTTP "
                                              "200 (\"ok\") from the suite's host.")  # fmt: skip
    assert noted.evidence[1].text.splitlines() == [
        "pod blink/p: did not reach https://blink.lab.test:18443 (the TCP connect (timeout) layer: no answer within "
        "10s); the egress probe's check judges that path",
        "pod blink/p3: not asked there: create pods/exec is not granted",
        "pod blink/p4: not asked there: the probe did not finish: the exec stream never opened",
        "pod blink/p5: connected only (nc), so readiness was not asked there",
    ]

    # Blink down: the host's answer decides; the runners' answers are evidence beside it.
    down = judge_ready(cid, Readiness(ok.url, 503, "not ready"), "https://10.0.0.1:18080", [_asked(url, "503")])
    assert (down.outcome, down.variant, down.values["status"]) == (Outcome.FAILED, "down", "503")
    assert down.evidence[1].text == f"container blink-runner (0123abcd4567): {url} answered HTTP 503"

    # The suite's host cannot ask Blink, a runner can: Blink is up; nobody can: could not look.
    seen = judge_ready(cid, refused, "https://10.0.0.1:18080", [_asked(url)])
    assert (seen.outcome, seen.summary) == (Outcome.PASSED, f"Blink's controller is ready: {url} answered HTTP 200 "
                                            "from container blink-runner (0123abcd4567) (the suite's host could not "
                                            f"ask: {refused.reason}).")  # fmt: skip
    alone = judge_ready(cid, refused, "https://10.0.0.1:18080", [blocked])
    assert alone.outcome is Outcome.NOT_EVALUABLE and alone.summary == f"Could not ask Blink: {refused.reason}"
    assert [e.title for e in alone.evidence] == ["readiness", "readiness from the runners"]
    wrong = judge_ready(cid, refused, "https://10.0.0.1:18080", [_asked(url, "404")])
    assert (wrong.outcome, wrong.variant, wrong.values["host_answer"]) == \
        (Outcome.FAILED, "down-from-runner", "the suite's host could not ask")  # fmt: skip


def blink_findings(platform: str) -> list[Finding]:
    """One finding of each remedy of Blink's view, for the tests that every remedy placeholder is filled."""
    pfx = "k8s" if platform == "kubernetes" else "docker"
    who = local(values={"pod": "blink-runner-abc", "namespace": "blink", "deployment": "blink-runner"}) \
        if pfx == "k8s" else local()  # fmt: skip
    groups = [runner_group({"name": "empty", "available_runners": 0})]
    new = local(image="blinkops/blink-runner:1.0.995", values=who.values)
    return [
        judge_ready(f"{pfx}.blink.ready", Readiness("https://b/api/readiness", 503, "no"), "https://b"),
        judge_ready(f"{pfx}.blink.ready", Readiness("https://b/api/readiness", 200, "ok"), "https://b",
                    [_asked("https://blink/api/readiness", "502")]),
        judge_seen(f"{pfx}.blink.sees-runner", who, [blink_runner(api_runner(last_seen=NOW - 900))], NOW, 300),
        judge_seen(f"{pfx}.blink.sees-runner", who, [blink_runner(api_runner(last_seen=0))], NOW, 300),
        judge_seen(f"{pfx}.blink.sees-runner", who, [], NOW, 300),
        judge_group(f"{pfx}.blink.group-available", "empty", groups),
        judge_group(f"{pfx}.blink.group-available", "gone", groups),
        judge_version(f"{pfx}.blink.version", new, [blink_runner(api_runner())]),
    ]


# ------------------------------------------------------------------ the client, on canned HTTP answers


class Canned:
    """An opener answering from a table: path -> (status, body); records the requests."""

    def __init__(self, answers: dict[str, tuple[int, bytes]]) -> None:
        self.answers = answers
        self.requests: list[tuple[str, dict[str, str], float]] = []

    def __call__(self, req, timeout):
        self.requests.append((req.full_url, dict(req.header_items()), timeout))
        path = req.full_url.split("://", 1)[1].split("/", 1)[1]
        status, body = self.answers.get("/" + path.split("?")[0], (404, b"not found"))
        if status >= 400:
            raise urllib.error.HTTPError(req.full_url, status, "x", {}, io.BytesIO(body))  # type: ignore[arg-type]
        resp = io.BytesIO(body)
        resp.status = status  # type: ignore[attr-defined]
        return resp


def api(answers: dict[str, tuple[int, bytes]], key: str = KEY, readiness: str = "auto") -> tuple[BlinkApi, Canned]:
    canned = Canned(answers)
    return BlinkApi("https://blink.example", key, "ws", 3, Redactor(), readiness, opener=canned), canned


def test_readiness_tries_both_readings_of_the_spec_and_says_which_answered():
    a, canned = api({"/api/readiness": (200, b'"ok"')})
    r = a.readiness()
    assert r.status == 200 and r.url.endswith("/api/readiness") and r.tried == (
        "/api/v1/api/readiness: HTTP 404", "/api/readiness: HTTP 200")
    assert all("BLINK-API-KEY" not in h and "Blink-api-key" not in h for _, h, _ in canned.requests)  # no key needed
    a, _ = api({"/api/v1/api/readiness": (503, b"not ready")})
    assert a.readiness().status == 503  # an answer other than 404: not tried further
    a, canned = api({"/custom": (200, b"ok")}, readiness="/custom")
    assert a.readiness().status == 200 and len(canned.requests) == 1


def test_runners_are_read_page_by_page_with_the_key_in_its_header_only():
    page1 = b'{"offset":0,"limit":1,"total":1000,"results":[{"name":"a","last_seen":5}]}'
    a, canned = api({"/api/v1/workspace/ws/runners": (200, page1)})
    with pytest.raises(BlinkApiError, match="more than 20 pages"):
        a.runners()  # the canned server answers the same page forever: bounded
    assert all(h.get("Blink-api-key") == KEY for _, h, _ in canned.requests)
    assert all(KEY not in url for url, _, _ in canned.requests) and all(t == 3 for _, _, t in canned.requests)
    whole = b'{"offset":0,"limit":100,"total":1,"results":[{"name":"a","last_seen":1800000000000}]}'
    a, _ = api({"/api/v1/workspace/ws/runners": (200, whole)})
    assert [(r.name, r.last_seen) for r in a.runners()] == [("a", 1_800_000_000)]  # milliseconds read as seconds


def test_a_refused_key_is_one_line_and_the_key_is_known_to_the_redactor_first():
    red = Redactor()
    canned = Canned({"/api/v1/workspace/ws/runners": (401, b'{"error":"unauthorized"}')})
    a = BlinkApi("https://blink.example", KEY, "ws", 3, red, opener=canned)
    assert red(f"key={KEY}") == "key=[REDACTED]" and KEY not in repr(a)
    with pytest.raises(BlinkApiError) as err:
        a.runners()
    assert err.value.refused and err.value.reason.startswith("the API key was refused (HTTP 401")
    assert KEY not in err.value.reason


def test_unreachable_and_timed_out_are_one_line():
    def refuse(req, timeout):
        raise urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))

    def hang(req, timeout):
        raise urllib.error.URLError(TimeoutError("timed out"))

    for opener, words in ((refuse, "connection refused"), (hang, "timed out after 3s (--api-timeout)")):
        a = BlinkApi("https://blink.example", KEY, "ws", 3, Redactor(), opener=opener)
        with pytest.raises(BlinkApiError, match=re.escape(words)):
            a.readiness()


# ------------------------------------------------------------------ the options


def _spec(monkeypatch, tmp_path, argv: list[str], env: dict[str, str] | None = None):
    from blinkcheck import options

    values: dict[str, str | None] = {}
    for flag, value in zip(argv[::2], argv[1::2], strict=True):
        values[options._dest(flag)] = value

    class Config:
        def getoption(self, dest: str) -> Any:
            return values.get(dest)

    for name in ("BLINK_API_KEY", "BLINK_WORKSPACE_ID", "DOCKER_HOST", "DOCKER_CONTEXT"):
        monkeypatch.delenv(name, raising=False)
    for k, v in (env or {}).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    return options.parse_target_spec(Config())  # type: ignore[arg-type]


def test_the_key_comes_from_a_file_or_the_environment_never_the_command_line(monkeypatch, tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    spec = _spec(monkeypatch, tmp_path, ["--blink-api-key", f"file:{key_file}", "--workspace-id", "ws"])
    assert spec.blink_api_key == KEY and KEY not in repr(spec) and spec.blink_stale_s == 300
    spec = _spec(monkeypatch, tmp_path, ["--blink-api-key", "env:MY_KEY", "--workspace-id", "ws"], {"MY_KEY": KEY})
    assert spec.blink_api_key == KEY
    assert _spec(monkeypatch, tmp_path, [], {"BLINK_API_KEY": KEY, "BLINK_WORKSPACE_ID": "ws"}).blink_api_key == KEY
    with pytest.raises(pytest.UsageError) as err:
        _spec(monkeypatch, tmp_path, ["--blink-api-key", KEY, "--workspace-id", "ws"])
    assert "env:NAME or file:PATH" in str(err.value) and KEY not in str(err.value)
    with pytest.raises(pytest.UsageError, match="--workspace-id: needed"):
        _spec(monkeypatch, tmp_path, ["--blink-api-key", "env:MY_KEY"], {"MY_KEY": KEY})
    assert _spec(monkeypatch, tmp_path, []).blink_api_key == ""  # no key: only the readiness check asks Blink


class FakeProber:
    """The egress probe's two questions, answered from tables; records what was asked."""

    def __init__(self, first: dict[str, ProbeResult], readiness_raises: bool = False) -> None:
        self.first, self.readiness_raises = first, readiness_raises
        self.asked: list[tuple[str, str]] = []

    def probe(self, runner: str) -> ProbeResult:
        if runner not in self.first:
            from blinkcheck.model import CouldNotLook

            raise CouldNotLook("create pods/exec is not granted (--probe on)")
        return self.first[runner]

    def probe_url(self, runner: str, url: str) -> ProbeResult:
        self.asked.append((runner, url))
        if self.readiness_raises:
            from blinkcheck.model import CouldNotLook

            raise CouldNotLook("not in the packet: the recorded run did not ask 'probe x'")
        return _asked(url, target=runner)


def test_readiness_is_asked_from_the_runners_only_where_the_probe_reached_blink(tmp_path):
    """BlinkView.readiness_from: the runner's Blink URL with the path that answered the suite's host; a runner whose
    probe did not reach Blink is not asked again (its own result stands), nor one the probe cannot run in."""
    from fixtures.blink import BlinkView
    from tests.unit.fake_kube_api import spec_for

    view = BlinkView(api({"/api/readiness": (200, b'"ok"')})[0])
    spec = spec_for(tmp_path, blink_url="https://runner-side.example:8443")
    blocked = ProbeResult("pod b", spec.blink_url, (Step("dns", False, "no answer"),))
    prober = FakeProber({"pod a": _asked(spec.blink_url, target="pod a"), "pod b": blocked})
    got = view.readiness_from(lambda: ["pod a", "pod b", "pod c"], prober, spec)
    url = "https://runner-side.example:8443/api/readiness"
    assert prober.asked == [("pod a", url)]
    assert got[:2] == [_asked(url, target="pod a"), blocked]
    assert (got[2].target, got[2].url, got[2].unavailable) == ("a runner", url, "create pods/exec is not granted "
                                                                "(--probe on)")  # fmt: skip

    replayed = view.readiness_from(lambda: ["pod a"], FakeProber({"pod a": _asked(spec.blink_url, target="pod a")},
                                                                 readiness_raises=True), spec)  # fmt: skip
    assert [(r.target, r.error) for r in replayed] == [("pod a", "not in the packet: the recorded run did not ask "
                                                        "'probe x'")]  # fmt: skip

    def unlisted() -> list[str]:
        from blinkcheck.model import CouldNotLook

        raise CouldNotLook("pods is forbidden")

    (none,) = view.readiness_from(unlisted, prober, spec)
    assert (none.target, none.unavailable) == ("the runners", "the runners could not be listed: pods is forbidden")
    off = view.readiness_from(lambda: ["pod a"], prober, spec_for(tmp_path, probe=False))
    assert [(r.target, r.unavailable) for r in off] == [("the runners", "the egress probe is switched off (--probe off)")]
    assert prober.asked == [("pod a", url)]  # neither asked anything
