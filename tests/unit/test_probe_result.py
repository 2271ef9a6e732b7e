"""A probe's result: is the path to Blink open (what the log judge is told), and how steps and certificates read."""

from __future__ import annotations

import pytest

from blinkcheck.probe.result import CertInfo, ProbeResult, Step, reached

URL = "https://app.blinkops.com"
DNS, TCP = Step("dns", True, "10.0.0.1"), Step("tcp", True, "connected")


@pytest.mark.parametrize(
    ("result", "open_"),
    [
        (ProbeResult("c", URL, (DNS, TCP, Step("http", True, "HTTP 200"))), True),
        (ProbeResult("c", URL, (DNS, Step("tcp", False, "refused"))), False),
        (ProbeResult("c", URL, (Step("dns", False, "NXDOMAIN"), TCP)), False),  # any failed layer
        (ProbeResult("c", URL), None),  # nothing tried
        (ProbeResult("c", URL, (DNS, TCP), error="the exec stream closed"), None),  # did not finish
        (ProbeResult("c", URL, (DNS, Step("tcp", False, "refused")), error="killed"), None),
        (ProbeResult("c", URL, unavailable="no permission to exec"), None),  # could not run here
        (ProbeResult("c", URL, (DNS, TCP), unavailable="wget went around the proxy"), None),
    ],
    ids=["every layer passed", "a layer failed", "the first layer failed", "no steps", "did not finish",
         "did not finish after a failure", "unavailable", "unavailable with steps"],
)  # fmt: skip
def test_reached_is_none_unless_the_probe_ran(result: ProbeResult, open_: bool | None):
    assert reached(result) is open_


def test_the_first_failed_step_is_the_finding():
    r = ProbeResult("c", URL, (DNS, Step("tcp", False, "refused"), Step("http", False, "later")))
    assert r.failed_step == Step("tcp", False, "refused")
    assert ProbeResult("c", URL, (DNS, TCP)).failed_step is None


@pytest.mark.parametrize(
    ("step", "layer"),
    [
        (Step("dns", False, "x"), "DNS"),
        (Step("dns", False, "x", timed_out=True), "DNS (timeout)"),
        (Step("tcp", False, "x", timed_out=True, or_step="dns"), "DNS or TCP connect (timeout)"),
        (Step("proxy", True, "x"), "proxy"),
        (Step("tls", True, "x", timed_out=True), "TLS"),  # a layer passed is no timeout
        (Step("http", False, "x", or_step="weird"), "weird or HTTP"),
    ],
)
def test_layer_names(step: Step, layer: str):
    assert step.layer == layer


def test_certificate_text():
    assert CertInfo("CN=a", "CN=b", ("a", "b"), "2027-01-01").text == (
        "subject CN=a; issuer CN=b; names a, b; valid until 2027-01-01")
    assert CertInfo("CN=a", "CN=b", not_after="2027-01-01").text == "subject CN=a; issuer CN=b; valid until 2027-01-01"


def test_a_probe_containers_exit_time_is_read_from_docker_state():
    """The Docker probe container's State.FinishedAt (the runner host's clock when the tool exited) in epoch seconds;
    Docker's zero time (a container that never ran) and anything unreadable are "not known"."""
    from blinkcheck.docker.probe import exited_at

    assert exited_at("2026-12-03T06:40:01.123456789Z") == 1796280001.123456
    assert exited_at("2026-12-03T07:40:01+01:00") == 1796280001.0
    assert [exited_at(v) for v in ("0001-01-01T00:00:00Z", "", None, "yesterday")] == [0.0, 0.0, 0.0, 0.0]
