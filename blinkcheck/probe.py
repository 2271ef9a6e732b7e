"""Judging an egress probe: which layer (DNS, TCP connect, TLS, HTTP) failed on the way to Blink.

The probe is curl (a probe container on Docker), so its exit codes name the layer.
https://curl.se/libcurl/c/libcurl-errors.html
"""

from __future__ import annotations

from dataclasses import dataclass

from blinkcheck.model import Evidence, Finding, Outcome

# curl exit code -> (layer, meaning)
CURL_LAYERS: dict[int, tuple[str, str]] = {
    5: ("proxy", "could not resolve the proxy"),
    6: ("DNS", "could not resolve the host"),
    7: ("TCP connect", "could not connect (refused or unreachable)"),
    28: ("timeout", "timed out"),
    35: ("TLS", "TLS handshake failed"),
    51: ("TLS", "the server certificate does not match the host"),
    52: ("HTTP", "the server closed the connection without answering"),
    56: ("network", "connection reset while receiving"),
    58: ("TLS", "client certificate problem"),
    60: ("TLS", "certificate not trusted (a TLS-inspecting proxy re-signing traffic?)"),
    97: ("proxy", "proxy handshake failed"),
}


@dataclass(frozen=True)
class ProbeResult:
    """What the probe saw. `exit_code` None means the probe itself could not run."""

    target: str  # where it ran: container name / pod
    url: str
    exit_code: int | None
    http_code: str = ""
    stderr: str = ""
    error: str = ""  # the probe could not be run (image missing, timeout of the probe itself)
    command: str = ""


def reached(result: ProbeResult) -> bool | None:
    """Did the probe get an HTTP answer from Blink (the network path is open)? None: it could not run."""
    if result.exit_code is None or result.exit_code > 128:
        return None
    return result.exit_code == 0


def curl_layer(result: ProbeResult) -> tuple[str, str]:
    code = result.exit_code if result.exit_code is not None else -1
    layer, meaning = CURL_LAYERS.get(code, ("network", f"curl exit code {code}"))
    if code == 28:
        # A timeout before the connection is up is a connect-layer drop (firewall); after, a slow answer.
        connect_phase = "Connection timed out" in result.stderr or "Failed to connect" in result.stderr
        layer = "TCP connect (timeout)" if connect_phase else "HTTP (timeout)"
        meaning = "connection timed out: packets dropped on the way" if connect_phase else "no answer in time"
    return layer, meaning


def judge_probe(condition_id: str, result: ProbeResult, values: dict[str, str]) -> Finding:
    values = {**values, "blink_url": result.url}
    evidence = (
        Evidence(
            "Probe",
            f"$ {result.command}\nexit code: {result.exit_code}\nHTTP status: {result.http_code or '-'}\n"
            + (result.stderr.strip() or "(no output)"),
            source=result.target,
        ),
    )
    if result.exit_code is None:
        return Finding(
            condition_id,
            Outcome.NOT_EVALUABLE,
            f"The egress probe could not run in {result.target}: {result.error}",
            result.target,
            evidence=evidence,
            values={**values, "layer": "probe", "detail": result.error},
        )
    if result.exit_code > 128:  # the probe was killed (OOM, signal): that says nothing about the network
        return Finding(
            condition_id,
            Outcome.NOT_EVALUABLE,
            f"The egress probe in {result.target} was killed (exit code {result.exit_code}) before it could answer.",
            result.target,
            evidence=evidence,
            values={**values, "layer": "probe", "detail": f"killed, exit code {result.exit_code}"},
        )
    if result.exit_code == 0:
        status = result.http_code or "?"
        outcome = Outcome.WARNING if status.startswith("5") else Outcome.PASSED
        return Finding(
            condition_id,
            outcome,
            f"From {result.target}, {result.url} resolves, connects and answers (HTTP {status}).",
            result.target,
            evidence=evidence if outcome is Outcome.WARNING else (),
            values={**values, "layer": "HTTP", "detail": f"HTTP {status}"},
        )
    layer, meaning = curl_layer(result)
    return Finding(
        condition_id,
        Outcome.FAILED,
        f"From {result.target}, {result.url} failed at the {layer} layer: {meaning}.",
        result.target,
        evidence=evidence,
        values={**values, "layer": layer, "detail": meaning},
    )
