"""Blink's own view, judged word for word: every path of the judges (blinkcheck/blinkview.py) with the whole finding
it gives (outcome, object, summary, evidence, the remedy's values, variant), so a changed word, a dropped value or a
flipped comparison is seen (the mutation score of blinkview: docs/mutation.md)."""

from __future__ import annotations

from blinkcheck.blinkapi import BlinkApiError, Readiness, blink_runner, runner_group
from blinkcheck.blinkview import (
    blink_table,
    could_not_ask,
    group_names,
    judge_group,
    judge_ready,
    judge_seen,
    judge_version,
    match,
    runner_readiness_url,
)
from tests.unit.docker_objects import shown
from tests.unit.test_blinkview import NOW, api_runner, local

SEES, GROUP, VERSION, READY = ("docker.blink.sees-runner", "docker.blink.group-available", "docker.blink.version",
                               "k8s.blink.ready")  # fmt: skip
LABEL = "container blink-runner (0123abcd4567)"
LOCAL_VALUES = {"container_id": "0123abcd4567", "container_name": "blink-runner"}
RUNNERS = "GET /workspace/{ws_id}/runners"


def finding(cid: str, outcome: str, summary: str, obj: str = LABEL, evidence: tuple = (), values: dict | None = None,
            variant: str = "") -> dict:  # fmt: skip
    return {"id": cid, "outcome": outcome, "summary": summary, "object": obj, "values": values or {},
            "evidence": list(evidence), "hints": [], "because_of": "", "variant": variant}  # fmt: skip


def test_blinks_runners_table_shows_every_field_and_a_dash_for_what_blink_left_empty():
    runners = [blink_runner(api_runner(status="online")),
               blink_runner(api_runner(id="r2", name="", container_name="", ip_address="", group_name="", status="",
                                       last_seen=0, version=""))]  # fmt: skip
    assert blink_table(runners, NOW).splitlines() == [
        "NAME          CONTAINER NAME  IP            GROUP        STATUS  LAST SEEN  VERSION",
        "0123abcd4567  blink-runner    172.30.251.2  lab-runners  online  3s ago     1.0.994",
        "-             -               -             -            -       never      -",
    ]


def test_seen_within_the_stale_window_passes_with_blinks_words():
    runners = [blink_runner(api_runner(status="online"))]
    table = ("NAME          CONTAINER NAME  IP            GROUP        STATUS  LAST SEEN  VERSION\n"
             "0123abcd4567  blink-runner    172.30.251.2  lab-runners  online  3s ago     1.0.994")  # fmt: skip
    assert shown(judge_seen(SEES, local(), runners, NOW, 300)) == finding(
        SEES, "passed", f"Blink sees {LABEL} as runner 0123abcd4567 (matched by container name), status 'online' "
        "(Blink's word), last seen 3s ago.", evidence=(("Blink's runners", RUNNERS, table),),
        values={**LOCAL_VALUES, "ago": "3s", "blink_runner": "0123abcd4567", "blink_status": "online",
                "last_seen": "2027-01-15T07:59:57Z", "local_ips": "172.30.251.2", "matched_by": "container name",
                "stale": "5m"})  # fmt: skip
    # exactly at the window's edge: still seen; one second past it: stale
    edge = [blink_runner(api_runner(last_seen=NOW - 300))]
    assert judge_seen(SEES, local(), edge, NOW, 300).variant == ""
    assert judge_seen(SEES, local(), edge, NOW, 299).variant == "stale"


def test_seen_too_long_ago_is_stale_and_says_by_how_much():
    runners = [blink_runner(api_runner(last_seen=NOW - 700, name="", status=""))]
    table = ("NAME  CONTAINER NAME  IP            GROUP        STATUS  LAST SEEN    VERSION\n"
             "-     blink-runner    172.30.251.2  lab-runners  -       11m 40s ago  1.0.994")  # fmt: skip
    assert shown(judge_seen(SEES, local(), runners, NOW, 300)) == finding(
        SEES, "failed", f"{LABEL} runs here, but Blink last saw it 11m 40s ago, more than --blink-stale (5m): runner "
        "r1 (matched by container name), status '-' (Blink's word).", evidence=(("Blink's runners", RUNNERS, table),),
        values={**LOCAL_VALUES, "ago": "11m 40s", "blink_runner": "r1", "blink_status": "-",
                "last_seen": "2027-01-15T07:48:20Z", "local_ips": "172.30.251.2", "matched_by": "container name",
                "stale": "5m"}, variant="stale")  # fmt: skip


def test_never_seen_connecting_is_its_own_problem():
    runners = [blink_runner(api_runner(last_seen=0))]
    table = ("NAME          CONTAINER NAME  IP            GROUP        STATUS  LAST SEEN  VERSION\n"
             "0123abcd4567  blink-runner    172.30.251.2  lab-runners  online  never      1.0.994")  # fmt: skip
    f = judge_seen(SEES, local(), runners, NOW, 300)
    assert shown(f) == finding(
        SEES, "failed", f"{LABEL} runs here, but Blink has never seen it connect (no last_seen): runner 0123abcd4567 "
        "(matched by container name), status 'online' (Blink's word).", evidence=(("Blink's runners", RUNNERS, table),),
        values={**LOCAL_VALUES, "blink_runner": "0123abcd4567", "blink_status": "online", "last_seen": "never",
                "local_ips": "172.30.251.2", "matched_by": "container name", "stale": "5m"},
        variant="never-seen")  # fmt: skip
    from tests.unit.test_blinkview import CATALOG

    text = CATALOG[SEES].remediation(f.variant, {**f.values, "runner_name": "blink-runner"})
    assert text.startswith("blink-runner (0123abcd4567) runs here, but Blink has never seen it connect (no last_seen; "
                           "Blink's runner 0123abcd4567, matched by container name, status 'online').")  # fmt: skip


def test_unknown_to_blink_and_not_running_here():
    assert shown(judge_seen(SEES, local(ips=()), [], NOW, 300)) == finding(
        SEES, "failed", f"{LABEL} runs here, but Blink lists no runner with its name or IP (-).",
        evidence=(("Blink's runners", RUNNERS, "(none)"),), values={**LOCAL_VALUES, "local_ips": "-", "stale": "5m"},
        variant="unknown")  # fmt: skip
    two = local(ips=("172.30.251.2", "10.0.0.9"))
    assert judge_seen(SEES, two, [], NOW, 300).values["local_ips"] == "172.30.251.2, 10.0.0.9"
    assert shown(judge_seen(SEES, local(running=False), [blink_runner(api_runner())], NOW, 300)) == finding(
        SEES, "skipped", f"Not applicable: {LABEL} is not running here.", values=LOCAL_VALUES)


def test_matching_prefers_container_name_then_name_then_ip_across_runners():
    by_ip = blink_runner(api_runner(id="ip", container_name="", name="x"))
    by_name = blink_runner(api_runner(id="name", container_name="", name="0123abcd4567", ip_address=""))
    by_container = blink_runner(api_runner(id="cn", name="y", ip_address=""))
    for order in ([by_ip, by_name, by_container], [by_container, by_name, by_ip]):
        m = match(local(), order)
        assert m is not None and (m.runner.id, m.by) == ("cn", "container name")
    m = match(local(), [by_ip, by_name])
    assert m is not None and (m.runner.id, m.by) == ("name", "name")
    empty = blink_runner(api_runner(container_name="", name="", ip_address=""))
    assert match(local(names=("", "blink-runner"), ips=("",)), [empty]) is None  # empty never matches empty


def test_group_names_are_the_running_runners_groups_once_sorted():
    a = blink_runner(api_runner(id="a", container_name="a", group_name="zeta"))
    b = blink_runner(api_runner(id="b", container_name="b", ip_address="", group_name="alpha"))
    c = blink_runner(api_runner(id="c", container_name="c", ip_address="", group_name=""))
    here = [local(names=(n,), ips=()) for n in ("a", "b", "c")] + [local(names=("a",), ips=())]
    assert group_names(here, [a, b, c]) == ["alpha", "zeta"]
    assert group_names([local(names=("b",), ips=(), running=False)], [a, b, c]) == []


def test_could_not_ask_is_not_evaluable_with_the_reason():
    refused = BlinkApiError("the API key was refused (HTTP 401 from x)", True, 401)
    assert shown(could_not_ask(GROUP, refused, "Blink")) == finding(
        GROUP, "not-evaluable", "Could not ask Blink: the API key was refused (HTTP 401 from x)", "Blink")
    assert could_not_ask(GROUP, refused).object == ""


def test_runner_group_available_none_or_missing():
    groups = [runner_group({"name": "g-1", "display_name": "Lab runners", "available_runners": 2,
                            "number_of_instances": 3}),
              runner_group({"name": "empty", "available_runners": 0, "number_of_instances": 1})]  # fmt: skip
    evidence = (("Blink's runner groups", "GET /workspace/{ws_id}/runner_groups",
                 "NAME   AVAILABLE  INSTANCES\ng-1    2          3\nempty  0          1"),)  # fmt: skip
    assert shown(judge_group(GROUP, "Lab runners", groups)) == finding(
        GROUP, "passed", "Runner group Lab runners has 2 available runner(s) of 3.", "runner group Lab runners",
        evidence, {"available": "2", "group": "Lab runners", "instances": "3"})  # fmt: skip
    assert judge_group(GROUP, "g-1", groups).outcome.value == "passed"  # by name too
    assert shown(judge_group(GROUP, "empty", groups)) == finding(
        GROUP, "failed", "Runner group empty has no available runner (1 instance(s)).", "runner group empty", evidence,
        {"available": "0", "group": "empty", "instances": "1"}, "none-available")  # fmt: skip
    assert shown(judge_group(GROUP, "gone", groups)) == finding(
        GROUP, "failed", "Blink lists no runner group 'gone'.", "runner group gone", evidence, {"group": "gone"},
        "missing")  # fmt: skip
    one = [runner_group({"name": "one", "available_runners": 1, "number_of_instances": 1})]
    assert judge_group(GROUP, "one", one).variant == "" and judge_group(GROUP, "one", one).outcome.value == "passed"


def test_version_blink_reports_each_path():
    runner = [blink_runner(api_runner())]
    assert shown(judge_version(VERSION, local(running=False), runner)) == finding(
        VERSION, "skipped", f"Not applicable: {LABEL} is not running here.", values=LOCAL_VALUES)
    assert shown(judge_version(VERSION, local(), [])) == finding(
        VERSION, "skipped", f"Nothing to compare: Blink lists no runner for {LABEL}.", values=LOCAL_VALUES)
    assert shown(judge_version(VERSION, local(image="blinkops/blink-runner"), runner)) == finding(
        VERSION, "skipped", f"Nothing to compare: {LABEL}'s image blinkops/blink-runner has no version tag.",
        values={**LOCAL_VALUES, "blink_version": "1.0.994", "image": "blinkops/blink-runner", "version": ""})
    assert shown(judge_version(VERSION, local(), runner)) == finding(
        VERSION, "passed", f"Blink reports version 1.0.994 for {LABEL}, the tag of its image.",
        values={**LOCAL_VALUES, "blink_version": "1.0.994", "image": "blinkops/blink-runner:1.0.994",
                "version": "1.0.994"})  # fmt: skip
    new = local(image="blinkops/blink-runner:1.0.995")
    assert shown(judge_version(VERSION, new, [blink_runner(api_runner(version=""))])) == finding(
        VERSION, "failed", f"Blink reports version (none) for {LABEL}, which runs blinkops/blink-runner:1.0.995.",
        values={**LOCAL_VALUES, "blink_version": "-", "image": "blinkops/blink-runner:1.0.995", "version": "1.0.995"})
    assert judge_version(VERSION, new, runner).summary == (f"Blink reports version 1.0.994 for {LABEL}, which runs "
                                                           "blinkops/blink-runner:1.0.995.")  # fmt: skip


def test_readiness_from_the_suites_host_alone():
    ok = Readiness("https://b/api/v1/api/readiness", 200, "", ("/api/v1/api/readiness: HTTP 200",))
    host = "from the suite's host to https://b"
    assert shown(judge_ready(READY, ok, "https://b")) == finding(
        READY, "passed", "Blink's controller is ready: https://b/api/v1/api/readiness answered HTTP 200 (no body) "
        "from the suite's host.", "Blink", (("readiness", host, "/api/v1/api/readiness: HTTP 200"),),
        {"blink_api_url": "https://b", "body": "-", "readiness_url": "https://b/api/v1/api/readiness",
         "status": "200"})  # fmt: skip
    down = Readiness("https://b/api/readiness", 503, "", ("/api/v1/api/readiness: HTTP 404", "/api/readiness: HTTP 503"))
    assert shown(judge_ready(READY, down, "https://b")) == finding(
        READY, "failed", "Blink's controller is not ready: https://b/api/readiness answered HTTP 503.", "Blink",
        (("readiness", host, "/api/v1/api/readiness: HTTP 404\n/api/readiness: HTTP 503"),),
        {"blink_api_url": "https://b", "body": "-", "readiness_url": "https://b/api/readiness", "status": "503"},
        "down")  # fmt: skip
    assert judge_ready(READY, Readiness(ok.url, 201, "x", ()), "https://b").variant == "down"  # only 200 is ready
    refused = BlinkApiError("could not reach https://b: connection refused")
    assert shown(judge_ready(READY, refused, "https://b")) == finding(
        READY, "not-evaluable", "Could not ask Blink: could not reach https://b: connection refused", "Blink",
        (("readiness", host, "could not reach https://b: connection refused"),))  # fmt: skip


def test_the_runners_readiness_url_keeps_the_path_that_answered():
    answered = Readiness("https://api.example/base/api/readiness", 200, "", ())
    assert runner_readiness_url("https://blink/", answered, "https://api.example/base", ("/p",)) == \
        "https://blink/api/readiness"  # fmt: skip
    elsewhere = Readiness("https://other/api/readiness", 200, "", ())  # not under the API base: the first path
    assert runner_readiness_url("https://blink", elsewhere, "https://api.example", ("/p", "/q")) == "https://blink/p"
    assert runner_readiness_url("https://blink", BlinkApiError("x"), "https://api.example", ()) == "https://blink"


def test_readiness_from_the_runners_whole_findings():
    """The runners' answers beside the host's: Blink ready where only the runners can ask, and not ready where a
    runner asks it (with the host ready, or unable to ask)."""
    from blinkcheck.probe.result import ProbeResult, Step
    from tests.unit.test_blinkview import _asked

    url = "https://blink/api/v1/api/readiness"
    refused = BlinkApiError("could not reach https://b: connection refused")
    host_said = ("readiness", "from the suite's host to https://b", "could not reach https://b: connection refused")
    side = "the egress probe, from each runner's network namespace"
    pod = "pod blink/p"
    assert shown(judge_ready(READY, refused, "https://b", [_asked(url, target=pod)])) == finding(
        READY, "passed", f"Blink's controller is ready: {url} answered HTTP 200 from {pod} (the suite's host could "
        "not ask: could not reach https://b: connection refused).", "Blink",
        (host_said, ("readiness from the runners", side, f"{pod}: {url} answered HTTP 200")),
        {"blink_api_url": "https://b", "readiness_url": url, "status": "-",
         "body": "could not reach https://b: connection refused"})  # fmt: skip
    two = judge_ready(READY, refused, "https://b", [_asked(url, target=pod), _asked(url, target="pod blink/q")])
    assert f"from {pod}, pod blink/q (the suite's host" in two.summary

    wrong = judge_ready(READY, refused, "https://b", [_asked(url, "404", target=pod)])
    assert shown(wrong) == finding(
        READY, "failed", f"Blink's readiness is not 200 where the runner asks it: {url} answered HTTP 404 from {pod} "
        "(the suite's host could not ask).", "Blink",
        (host_said, ("readiness from the runners", side, f"{pod}: {url} answered HTTP 404")),
        {"blink_api_url": "https://b", "readiness_url": url, "status": "-",
         "body": "could not reach https://b: connection refused", "runner": pod, "runner_url": url,
         "runner_status": "404", "host_answer": "the suite's host could not ask"}, "down-from-runner")  # fmt: skip

    ok = Readiness("https://b/api/v1/api/readiness", 200, '"ok"', ("/api/v1/api/readiness: HTTP 200",))
    proxied = judge_ready(READY, ok, "https://b", [_asked(url, "502", target=pod)])
    assert shown(proxied) == finding(
        READY, "failed", f"Blink's readiness is not 200 where the runner asks it: {url} answered HTTP 502 from {pod} "
        f"({ok.url} answered HTTP 200 from the suite's host).", "Blink",
        (("readiness", "from the suite's host to https://b", "/api/v1/api/readiness: HTTP 200"),
         ("readiness from the runners", side, f"{pod}: {url} answered HTTP 502")),
        {"blink_api_url": "https://b", "readiness_url": ok.url, "status": "200", "body": '"ok"', "runner": pod,
         "runner_url": url, "runner_status": "502",
         "host_answer": f"{ok.url} answered HTTP 200 from the suite's host"}, "down-from-runner")  # fmt: skip

    bare = ProbeResult(pod, url, (Step("dns", True, "ok"), Step("tcp", True, "connected")))  # no tool named
    said = judge_ready(READY, ok, "https://b", [bare]).evidence[1].text
    assert said == f"{pod}: connected only (connect), so readiness was not asked there"


def test_matched_by_ip_is_that_runner():
    other = blink_runner(api_runner(id="other", container_name="", name="", ip_address="10.9.9.9"))
    mine = blink_runner(api_runner(id="mine", container_name="", name="", ip_address="172.30.251.2"))
    m = match(local(), [other, mine])
    assert m is not None and (m.runner, m.by) == (mine, "IP")


def test_the_runners_readiness_url_drops_a_trailing_slash_only():
    assert runner_readiness_url("https://blink/", BlinkApiError("x"), "https://a", ("/api/readiness",)) == \
        "https://blink/api/readiness"  # fmt: skip
    assert runner_readiness_url("https://RELAX/", BlinkApiError("x"), "https://a", ("/r",)) == "https://RELAX/r"
