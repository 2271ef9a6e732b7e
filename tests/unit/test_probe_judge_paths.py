"""judge_probe on the paths a bare connect takes: nc through the runner's proxy, nc straight to Blink."""

from __future__ import annotations

from blinkcheck.catalog import load_catalog
from blinkcheck.model import Outcome
from blinkcheck.probe.judge import judge_probe
from blinkcheck.probe.result import ProbeResult, Step

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
