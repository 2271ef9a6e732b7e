"""judge_probe on the paths a bare connect takes: nc through the runner's proxy, nc straight to Blink."""

from __future__ import annotations

from blinkcheck.catalog import load_catalog
from blinkcheck.model import Evidence, Finding, Outcome
from blinkcheck.probe.judge import judge_probe
from blinkcheck.probe.result import CertInfo, ProbeResult, Step

CID = "k8s.disconnected.blink-reachable"
LAYERS = load_catalog().probe_layers


def test_nc_through_the_runners_proxy_proves_only_the_proxy_listens():
    result = ProbeResult("pod blink/p", "https://blink.lab.test:18443", (Step("proxy", True, "TCP connect ok"),),
                         tool="nc", proxy="http://proxy.lab:3128 (HTTPS_PROXY)")  # fmt: skip
    f = judge_probe(CID, result, {"pod": "p", "namespace": "blink"}, True, LAYERS)
    assert f.condition_id == CID and f.outcome is Outcome.WARNING and f.object == "pod blink/p"
    assert f.summary == ("From pod blink/p, a TCP connection to the runner's proxy http://proxy.lab:3128 "
                         "(HTTPS_PROXY) succeeds (nc); whether it lets https://blink.lab.test:18443 through is not "
                         "verified: no curl or wget there.")  # fmt: skip
    assert f.values["layer"] == "proxy" and f.values["detail"] == "connected to the proxy only"
    assert f.values["pod"] == "p" and f.values["blink_url"] == "https://blink.lab.test:18443"
    unknown_tool = judge_probe(CID, ProbeResult("c", "https://b.example", (Step("proxy", True, "ok"),), proxy="p:1"),
                               {}, True, LAYERS)  # fmt: skip
    assert "(connect only); whether it lets https://b.example through is not verified: nothing more was tried." in (
        unknown_tool.summary)


def test_a_failed_layer_with_two_possible_causes_gets_the_advice_for_both():
    step = Step("tcp", False, "nc: timed out: nc does not say whether the name lookup or the connect hung",
                timed_out=True, or_step="dns")  # fmt: skip
    result = ProbeResult("pod blink/p", "https://blink.lab.test:18443", (step,), tool="nc")
    f = judge_probe(CID, result, {"pod": "p", "namespace": "blink"}, True, LAYERS)
    assert f.outcome is Outcome.FAILED
    assert f.hints and f.hints[0].startswith("The probe's only tool (nc) waited in vain")
    alone = judge_probe(CID, ProbeResult("pod blink/p", "https://blink.lab.test:18443",
                                         (Step("tcp", False, "refused"),), tool="nc"), {}, True, LAYERS)  # fmt: skip
    assert not any("waited in vain" in h for h in alone.hints)


# Each outcome of judge_probe as a whole Finding (id, outcome, summary, object, evidence, values, hints): a branch
# that drops the condition, the object or the evidence, or names the wrong layer, is a wrong report row.
URL = "https://blink.lab.test:18443"
BASE_VALUES = {"pod": "p", "blink_url": URL, "blink_host": "blink.lab.test", "reproduce": "", "issuer": ""}


def _evidence(text: str) -> tuple[Evidence, ...]:
    return (Evidence("Egress probe", text, source="pod blink/p"),)


def test_a_probe_that_cannot_run_is_not_evaluable_when_asked_for_and_skipped_by_default():
    result = ProbeResult("pod blink/p", URL, unavailable="no pods/exec permission", enable="kubectl apply -f x.yaml")
    strict = judge_probe(CID, result, {"pod": "p"})  # --probe on is the default of the judge
    assert strict == Finding(
        CID, Outcome.NOT_EVALUABLE,
        "The egress probe cannot run for pod blink/p: no pods/exec permission. To enable it: kubectl apply -f x.yaml",
        "pod blink/p", _evidence("(no output)"),
        {**BASE_VALUES, "layer": "probe", "detail": "no pods/exec permission"},
    )  # fmt: skip
    auto = judge_probe(CID, result, {"pod": "p"}, strict=False)
    assert auto == Finding(
        CID, Outcome.SKIPPED,
        "The egress probe cannot run for pod blink/p: no pods/exec permission. (--probe auto: skipped; --probe on "
        "makes this a failure of the run)",
        "pod blink/p", _evidence("(no output)"), BASE_VALUES, ("To enable it: kubectl apply -f x.yaml",),
    )  # fmt: skip
    no_way = judge_probe(CID, ProbeResult("pod blink/p", URL, unavailable="no tool"), {"pod": "p"}, strict=False)
    assert no_way.summary == ("The egress probe cannot run for pod blink/p: no tool. (--probe auto: skipped; "
                              "--probe on makes this a failure of the run)") and no_way.hints == ()  # fmt: skip
    assert judge_probe(CID, ProbeResult("pod blink/p", URL, unavailable="no tool"), {}).summary == (
        "The egress probe cannot run for pod blink/p: no tool.")


def test_a_probe_that_did_not_finish_is_not_evaluable():
    result = ProbeResult("pod blink/p", URL, command="curl -sS x", error="the exec stream never opened")
    assert judge_probe(CID, result, {"pod": "p"}) == Finding(
        CID, Outcome.NOT_EVALUABLE, "The egress probe could not finish for pod blink/p: the exec stream never opened",
        "pod blink/p", _evidence("$ curl -sS x"),
        {**BASE_VALUES, "reproduce": "curl -sS x", "layer": "probe", "detail": "the exec stream never opened"},
    )  # fmt: skip


def test_a_server_error_is_a_warning_with_the_http_layer():
    steps = (Step("dns", True, "ok"), Step("tcp", True, "ok"), Step("tls", True, "ok"), Step("http", True, "502"))
    result = ProbeResult("pod blink/p", URL, steps, http_status="502", tool="curl")
    f = judge_probe(CID, result, {"pod": "p"})
    assert f == Finding(
        CID, Outcome.WARNING,
        f"From pod blink/p, {URL} connects but answers HTTP 502 (a server error: Blink or a proxy in between).",
        "pod blink/p", _evidence("dns    ok     ok\ntcp    ok     ok\ntls    ok     ok\nhttp   ok     502\n"
                                 "HTTP status: 502"),
        {**BASE_VALUES, "layer": "HTTP", "detail": "HTTP 502"},
    )  # fmt: skip


def test_an_answer_through_an_unverified_layer_is_a_warning_that_names_it():
    steps = (Step("tcp", True, "ok"), Step("http", True, "200"))
    result = ProbeResult("pod blink/p", URL, steps, http_status="200", tool="wget", proxy="http://px:3128",
                         unverified="busybox wget does not verify certificates")  # fmt: skip
    f = judge_probe(CID, result, {"pod": "p"})
    assert f == Finding(
        CID, Outcome.WARNING,
        f"From pod blink/p, {URL} resolves, connects through the proxy http://px:3128 and answers (HTTP 200, wget), "
        "but not verified: busybox wget does not verify certificates.",
        "pod blink/p", _evidence("proxy: http://px:3128\ntcp    ok     ok\nhttp   ok     200\nHTTP status: 200"),
        {**BASE_VALUES, "layer": "HTTP", "detail": "HTTP 200, busybox wget does not verify certificates"},
    )  # fmt: skip


def test_the_layers_after_a_failure_are_listed_as_not_tried_and_only_those():
    steps = (Step("dns", True, "ok"), Step("tcp", False, "refused"))
    f = judge_probe(CID, ProbeResult("pod blink/p", URL, steps), {})
    assert f.evidence[0].text == "dns    ok     ok\ntcp    FAILED refused\ntls    -      not tried\nhttp   -      not tried"
    # a layer tried after the failed one is shown as tried, not again as "not tried"
    retried = judge_probe(CID, ProbeResult("pod blink/p", URL, (Step("tcp", False, "x"), Step("tls", True, "y"))), {})
    assert retried.evidence[0].text == "tcp    FAILED x\ntls    ok     y\nhttp   -      not tried"


def test_two_possible_causes_without_their_own_advice_get_the_later_layers_advice():
    step = Step("tcp", False, "timed out", timed_out=True, or_step="dns")
    result = ProbeResult("pod blink/p", URL, (step,), tool="nc")
    f = judge_probe(CID, result, {}, True, {"tcp": "T {blink_host}"})
    assert f.hints == ("T blink.lab.test",)
    assert judge_probe(CID, ProbeResult("pod blink/p", URL, (Step("tcp", False, "x"),)), {}, True, {}).hints == ()


def test_a_bare_connect_and_a_full_answer_as_whole_findings():
    via_proxy = ProbeResult("pod blink/p", URL, (Step("proxy", True, "TCP connect ok"),), tool="nc", proxy="px:1")
    assert judge_probe(CID, via_proxy, {"pod": "p"}) == Finding(
        CID, Outcome.WARNING,
        f"From pod blink/p, a TCP connection to the runner's proxy px:1 succeeds (nc); whether it lets {URL} through "
        "is not verified: no curl or wget there.",
        "pod blink/p", _evidence("proxy: px:1\nproxy  ok     TCP connect ok"),
        {**BASE_VALUES, "layer": "proxy", "detail": "connected to the proxy only"},
    )  # fmt: skip
    bare = ProbeResult("pod blink/p", URL, (Step("tcp", True, "open"),), tool="nc")
    assert judge_probe(CID, bare, {"pod": "p"}) == Finding(
        CID, Outcome.WARNING,
        f"From pod blink/p, a TCP connection to {URL} succeeds (nc; TLS and HTTP not verified: no curl or wget there).",
        "pod blink/p", _evidence("tcp    ok     open"),
        {**BASE_VALUES, "layer": "TCP connect", "detail": "connected; nothing more tried"},
    )  # fmt: skip
    cert = CertInfo("CN=blink.lab.test", "CN=Lab CA")
    full = ProbeResult("pod blink/p", URL, (Step("tls", True, "ok"), Step("http", True, "200")), http_status="200",
                       tool="curl", cert=cert)  # fmt: skip
    assert judge_probe(CID, full, {"pod": "p"}) == Finding(
        CID, Outcome.PASSED,
        f"From pod blink/p, {URL} resolves, connects and answers (HTTP 200; certificate issued by CN=Lab CA).",
        "pod blink/p",
        _evidence("tls    ok     ok\nhttp   ok     200\nserver certificate: subject CN=blink.lab.test; issuer CN=Lab CA\n"
                  "HTTP status: 200"),
        {**BASE_VALUES, "issuer": "CN=Lab CA", "layer": "HTTP", "detail": "HTTP 200"},
    )  # fmt: skip
