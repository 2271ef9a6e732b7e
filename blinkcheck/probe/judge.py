"""A ProbeResult judged: which layer failed on the way to Blink, with the catalog's advice for it. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from blinkcheck.model import Evidence, Finding, Outcome
from blinkcheck.probe.result import STEPS, ProbeResult, Step


def _evidence(result: ProbeResult) -> tuple[Evidence, ...]:
    lines = [f"$ {result.command}"] if result.command else []
    if result.method:
        lines.append(f"probe: {result.method}")
    if result.proxy:
        lines.append(f"proxy: {result.proxy}")
    if result.ca_bundle:
        lines.append(f"CA bundle: {result.ca_bundle}")
    lines += list(result.notes)
    for s in result.steps:
        took = f" ({s.ms} ms)" if s.ms is not None else ""
        lines.append(f"{s.name:<6} {'ok' if s.ok else 'FAILED':<7}{s.detail}{took}")
    tried = {s.name for s in result.steps}
    if result.steps and result.failed_step is not None:
        after = [n for n in STEPS if n not in tried and STEPS.index(n) > STEPS.index(result.failed_step.name)]
        lines += [f"{n:<6} -      not tried" for n in after if n != "proxy" or result.proxy]
    if result.cert is not None:
        lines.append(f"server certificate: {result.cert.text}")
    if result.http_status:
        lines.append(f"HTTP status: {result.http_status}")
    if result.output.strip():
        lines += ["", result.output.strip()]
    if result.reproduce and result.reproduce != result.command:
        lines += ["", f"reproduce: {result.reproduce}"]
    return (Evidence("Egress probe", "\n".join(lines) or "(no output)", source=result.target),)


def _advice(step: Step, result: ProbeResult, advice: Mapping[str, str], values: Mapping[str, str]) -> tuple[str, ...]:
    key = step.name
    if step.name == "tls" and result.cert is not None and result.cert_problem:
        key = "tls-untrusted"
    if step.or_step and f"{step.or_step}-or-{step.name}" in advice:
        key = f"{step.or_step}-or-{step.name}"
    text = advice.get(key, "")
    if not text:
        return ()
    from blinkcheck.catalog import fill

    return (fill(text, values),)


def judge_probe(
    condition_id: str,
    result: ProbeResult,
    values: Mapping[str, str],
    strict: bool = True,
    advice: Mapping[str, str] | None = None,
) -> Finding:
    """One finding from one probe. `strict` (--probe on): a probe that cannot run here is not-evaluable;
    otherwise (--probe auto) it is skipped with the way to enable it. `advice`: per-layer hints (catalog)."""
    host = urlsplit(result.url).hostname or result.url
    values = {
        **values,
        "blink_url": result.url,
        "blink_host": host,
        "reproduce": result.reproduce or result.command,
        "issuer": result.cert.issuer if result.cert else "",
    }
    evidence = _evidence(result)
    target = result.target
    if result.unavailable:
        how = f" To enable it: {result.enable}" if result.enable else ""
        summary = f"The egress probe cannot run for {target}: {result.unavailable}.{how}"
        if strict:
            return Finding(condition_id, Outcome.NOT_EVALUABLE, summary, target, evidence,
                           {**values, "layer": "probe", "detail": result.unavailable})  # fmt: skip
        hints = (f"To enable it: {result.enable}",) if result.enable else ()
        return Finding(condition_id, Outcome.SKIPPED, summary.replace(how, "") + " (--probe auto: skipped; "
                       "--probe on makes this a failure of the run)", target, evidence, values, hints)  # fmt: skip
    if result.error:
        summary = f"The egress probe could not finish for {target}: {result.error}"
        v = {**values, "layer": "probe", "detail": result.error}
        return Finding(condition_id, Outcome.NOT_EVALUABLE, summary, target, evidence, v)
    failed = result.failed_step
    if failed is not None:
        v = {**values, "layer": failed.layer, "detail": failed.detail}
        return Finding(
            condition_id,
            Outcome.FAILED,
            f"From {target}, {result.url} failed at the {failed.layer} layer: {failed.detail}",
            target,
            evidence,
            v,
            hints=_advice(failed, result, advice or {}, v),
        )
    tried = {s.name for s in result.steps}
    if "http" not in tried:
        # A bare TCP connect (nc) proves the firewall lets it through, not that TLS or HTTP work.
        https = result.url.startswith("https://")
        why = "no curl or wget there" if result.tool == "nc" else "nothing more was tried"
        if "proxy" in tried:  # nc connected to the runner's proxy: whether it lets Blink through is not known
            return Finding(condition_id, Outcome.WARNING, f"From {target}, a TCP connection to the runner's proxy "
                           f"{result.proxy} succeeds ({result.tool or 'connect only'}); whether it lets {result.url} "
                           f"through is not verified: {why}.", target, evidence,
                           {**values, "layer": "proxy", "detail": "connected to the proxy only"})  # fmt: skip
        return Finding(
            condition_id,
            Outcome.WARNING if https else Outcome.PASSED,
            f"From {target}, a TCP connection to {result.url} succeeds ({result.tool or 'connect only'}; "
            + ("TLS and HTTP not verified" if https else "HTTP not tried")
            + f": {why}).",
            target,
            evidence,
            {**values, "layer": "TCP connect", "detail": "connected; nothing more tried"},
        )
    status = result.http_status or "?"
    if status.startswith("5"):
        v = {**values, "layer": "HTTP", "detail": f"HTTP {status}"}
        return Finding(condition_id, Outcome.WARNING, f"From {target}, {result.url} connects but answers HTTP "
                       f"{status} (a server error: Blink or a proxy in between).", target, evidence, v)  # fmt: skip
    via = f" through the proxy {result.proxy}" if result.proxy else ""
    issuer = f"; certificate issued by {result.cert.issuer}" if result.cert else ""
    if result.unverified:
        v = {**values, "layer": "HTTP", "detail": f"HTTP {status}, {result.unverified}"}
        return Finding(condition_id, Outcome.WARNING, f"From {target}, {result.url} resolves, connects{via} and "
                       f"answers (HTTP {status}, {result.tool}), but not verified: {result.unverified}.", target,
                       evidence, v)  # fmt: skip
    return Finding(
        condition_id,
        Outcome.PASSED,
        f"From {target}, {result.url} resolves, connects{via} and answers (HTTP {status}{issuer}).",
        target,
        evidence,
        {**values, "layer": "HTTP", "detail": f"HTTP {status}"},
    )
