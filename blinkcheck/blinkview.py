"""Judges of Blink's own view of the runner (pure: Blink's answers and the local runner facts in, findings out).

Both platforms use them: a local runner (a Docker container, a Kubernetes pod) is described by LocalRunner, and
matched to Blink's runners by container name, pod name (the runner's hostname) or IP. The problem lines and the
remedies are the catalog's, chosen by key.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from blinkcheck.blinkapi import BlinkApiError, BlinkRunner, Readiness, RunnerGroup
from blinkcheck.model import Evidence, Finding, Outcome, human, table
from blinkcheck.probe.result import ProbeResult


@dataclass(frozen=True)
class LocalRunner:
    """A runner instance as the suite sees it where it runs."""

    label: str  # the object of its findings ("container blink-runner (0123abcd4567)", "pod blink/blink-runner-x")
    names: tuple[str, ...]  # container name / pod name (its hostname)
    ips: tuple[str, ...]
    running: bool
    image: str
    values: Mapping[str, str] = field(default_factory=dict)  # the remedy's placeholders for this object

    @property
    def version(self) -> str:
        """The image tag (`blinkops/blink-runner:1.0.994` -> 1.0.994); "" without one."""
        ref = self.image.split("@", 1)[0]
        name, _, tag = ref.rpartition(":")
        return tag if name and "/" not in tag else ""


@dataclass(frozen=True)
class Match:
    runner: BlinkRunner
    by: str  # "container name", "name", "IP"


def match(local: LocalRunner, runners: Sequence[BlinkRunner]) -> Match | None:
    """Blink's runner for this local one: by container name, then by name, then by IP address."""
    names = {n for n in local.names if n}
    for how, key in (("container name", "container_name"), ("name", "name")):
        for r in runners:
            if getattr(r, key) and getattr(r, key) in names:
                return Match(r, how)
    ips = {i for i in local.ips if i}
    for r in runners:
        if r.ip_address and r.ip_address in ips:
            return Match(r, "IP")
    return None


def blink_table(runners: Sequence[BlinkRunner], now: float) -> str:
    rows = [("NAME", "CONTAINER NAME", "IP", "GROUP", "STATUS", "LAST SEEN", "VERSION")]
    for r in runners:
        seen = f"{human(now - r.last_seen)} ago" if r.last_seen else "never"
        rows.append((r.name or "-", r.container_name or "-", r.ip_address or "-", r.group_name or "-", r.status or "-",
                     seen, r.version or "-"))  # fmt: skip
    return table(rows)


def _at(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)) if epoch else "never"


def could_not_ask(cid: str, error: BlinkApiError, obj: str = "") -> Finding:
    """Blink's API could not be asked (refused key, unreachable, timed out): could not look, never passed."""
    return Finding(cid, Outcome.NOT_EVALUABLE, f"Could not ask Blink: {error.reason}", obj)


def runner_readiness_url(blink_url: str, answer: Readiness | BlinkApiError, api_base: str,
                         paths: Sequence[str]) -> str:  # fmt: skip
    """Where a runner asks Blink's readiness: the runner's Blink URL with the path that answered the suite's host
    (else the first one tried); the suite's host may know Blink by another address (--blink-api-url)."""
    path = paths[0] if paths else ""
    if isinstance(answer, Readiness) and answer.url.startswith(api_base):
        path = answer.url[len(api_base):]
    return blink_url.rstrip("/") + path


def readiness_measured(answer: Readiness | BlinkApiError) -> str:
    """One line of what the suite's host got from Blink's readiness (beside the runbook's manual Slack step)."""
    if isinstance(answer, BlinkApiError):
        return f"the suite's host could not ask Blink's readiness: {answer.reason}"
    return f"Blink's readiness {answer.url} answered HTTP {answer.status} from the suite's host"


def _from_runner(result: ProbeResult) -> tuple[str, str]:
    """(a line for the evidence, the HTTP status a runner's namespace got from the readiness URL, "" if none)."""
    failed = result.failed_step
    if result.unavailable:
        return f"{result.target}: not asked there: {result.unavailable}", ""
    if result.error:
        return f"{result.target}: not asked there: the probe did not finish: {result.error}", ""
    if failed is not None:
        return (f"{result.target}: did not reach {result.url} (the {failed.layer} layer: {failed.detail}); the "
                "egress probe's check judges that path", "")  # fmt: skip
    if not result.http_status:
        return f"{result.target}: connected only ({result.tool or 'connect'}), so readiness was not asked there", ""
    return f"{result.target}: {result.url} answered HTTP {result.http_status}", result.http_status


def judge_ready(cid: str, answer: Readiness | BlinkApiError, api_url: str, from_runners: Sequence[ProbeResult] = ()
                ) -> Finding:  # fmt: skip
    """Blink is up: its controller's readiness answers 200 from the suite's host and, where the egress probe runs,
    from the runners' network namespaces (`from_runners`: the probe's answers from the readiness URL, or the egress
    probe's own result where it did not reach Blink)."""
    seen = [_from_runner(r) for r in from_runners]
    wrong = next(((r, status) for r, (_, status) in zip(from_runners, seen, strict=True)
                  if status and status != "200"), None)  # fmt: skip
    ready_there = [r.target for r, (_, status) in zip(from_runners, seen, strict=True) if status == "200"]
    runner_lines = Evidence("readiness from the runners", "\n".join(line for line, _ in seen),
                            source="the egress probe, from each runner's network namespace")  # fmt: skip
    side = (runner_lines,) if seen else ()
    if isinstance(answer, BlinkApiError):
        host_said = Evidence("readiness", answer.reason, source=f"from the suite's host to {api_url}")
        if wrong is None and not ready_there:
            return replace(could_not_ask(cid, answer, "Blink"), evidence=(host_said, *side))
        asked_at = next(r.url for r, (_, status) in zip(from_runners, seen, strict=True) if status)
        values = {"blink_api_url": api_url, "readiness_url": asked_at, "status": "-", "body": answer.reason}
        evidence = (host_said, *side)
    else:
        tried = Evidence("readiness", "\n".join(answer.tried), source=f"from the suite's host to {api_url}")
        values = {"blink_api_url": api_url, "readiness_url": answer.url, "status": str(answer.status),
                  "body": answer.body or "-"}  # fmt: skip
        evidence = (tried, *side)
        if answer.status != 200:
            return Finding(cid, Outcome.FAILED, f"Blink's controller is not ready: {answer.url} answered HTTP "
                           f"{answer.status}.", "Blink", evidence, values, variant="down")  # fmt: skip
    if wrong is not None:
        r, status = wrong
        host = ("the suite's host could not ask" if isinstance(answer, BlinkApiError)
                else f"{answer.url} answered HTTP 200 from the suite's host")  # fmt: skip
        values |= {"runner": r.target, "runner_url": r.url, "runner_status": status, "host_answer": host}
        return Finding(cid, Outcome.FAILED, f"Blink's readiness is not 200 where the runner asks it: {r.url} answered "
                       f"HTTP {status} from {r.target} ({host}).", "Blink", evidence, values,
                       variant="down-from-runner")  # fmt: skip
    there = f" and from {', '.join(ready_there)}" if ready_there else ""
    if isinstance(answer, BlinkApiError):
        return Finding(cid, Outcome.PASSED, f"Blink's controller is ready: {asked_at} answered HTTP 200 from "
                       f"{', '.join(ready_there)} (the suite's host could not ask: {answer.reason}).", "Blink",
                       evidence, values)  # fmt: skip
    return Finding(cid, Outcome.PASSED, f"Blink's controller is ready: {answer.url} answered HTTP 200 "
                   f"({answer.body or 'no body'}) from the suite's host{there}.", "Blink", evidence,
                   values)  # fmt: skip


def judge_seen(cid: str, local: LocalRunner, runners: Sequence[BlinkRunner], now: float, stale_s: float) -> Finding:
    """Blink sees this runner: matched to one of Blink's runners, and last seen within --blink-stale."""
    evidence = (Evidence("Blink's runners", blink_table(runners, now) if runners else "(none)",
                         source="GET /workspace/{ws_id}/runners"),)  # fmt: skip
    if not local.running:
        return Finding(cid, Outcome.SKIPPED, f"Not applicable: {local.label} is not running here.", local.label,
                       values=local.values)  # fmt: skip
    found = match(local, runners)
    values = {**local.values, "stale": human(stale_s), "local_ips": ", ".join(local.ips) or "-"}
    if found is None:
        return Finding(cid, Outcome.FAILED, f"{local.label} runs here, but Blink lists no runner with its name or "
                       f"IP ({values['local_ips']}).", local.label, evidence, values, variant="unknown")  # fmt: skip
    r = found.runner
    values |= {"blink_runner": r.name or r.id, "blink_status": r.status or "-", "last_seen": _at(r.last_seen),
               "matched_by": found.by}  # fmt: skip
    which = f"runner {values['blink_runner']} (matched by {found.by}), status '{values['blink_status']}' (Blink's word)"
    if not r.last_seen:
        return Finding(cid, Outcome.FAILED, f"{local.label} runs here, but Blink has never seen it connect (no "
                       f"last_seen): {which}.", local.label, evidence, values, variant="never-seen")  # fmt: skip
    values["ago"] = human(now - r.last_seen)
    if now - r.last_seen > stale_s:
        return Finding(cid, Outcome.FAILED, f"{local.label} runs here, but Blink last saw it {values['ago']} ago, more "
                       f"than --blink-stale ({values['stale']}): {which}.", local.label, evidence, values,
                       variant="stale")  # fmt: skip
    return Finding(cid, Outcome.PASSED, f"Blink sees {local.label} as {which}, last seen {values['ago']} ago.",
                   local.label, evidence, values)  # fmt: skip


def group_names(local: Sequence[LocalRunner], runners: Sequence[BlinkRunner]) -> list[str]:
    """The runner groups Blink puts the runners that run here in."""
    found = [match(r, runners) for r in local if r.running]
    return sorted({m.runner.group_name for m in found if m and m.runner.group_name})


def judge_group(cid: str, group_name: str, groups: Sequence[RunnerGroup]) -> Finding:
    """The runner group of this runner has available runners (available_runners >= 1)."""
    obj = f"runner group {group_name}"
    rows = [("NAME", "AVAILABLE", "INSTANCES")] + [(g.name, str(g.available_runners), str(g.number_of_instances))
                                                   for g in groups]  # fmt: skip
    evidence = (Evidence("Blink's runner groups", table(rows), source="GET /workspace/{ws_id}/runner_groups"),)
    values = {"group": group_name}
    group = next((g for g in groups if group_name in (g.name, g.display_name)), None)
    if group is None:
        return Finding(cid, Outcome.FAILED, f"Blink lists no runner group {group_name!r}.", obj, evidence, values,
                       variant="missing")  # fmt: skip
    values |= {"available": str(group.available_runners), "instances": str(group.number_of_instances)}
    if group.available_runners >= 1:
        return Finding(cid, Outcome.PASSED, f"Runner group {group_name} has {group.available_runners} available "
                       f"runner(s) of {group.number_of_instances}.", obj, evidence, values)  # fmt: skip
    summary = f"Runner group {group_name} has no available runner ({group.number_of_instances} instance(s))."
    return Finding(cid, Outcome.FAILED, summary, obj, evidence, values, variant="none-available")


def judge_version(cid: str, local: LocalRunner, runners: Sequence[BlinkRunner]) -> Finding:
    """The version Blink reports for this runner is the image tag it runs (after an upgrade: the new one)."""
    if not local.running:
        return Finding(cid, Outcome.SKIPPED, f"Not applicable: {local.label} is not running here.", local.label,
                       values=local.values)  # fmt: skip
    found = match(local, runners)
    if found is None:
        return Finding(cid, Outcome.SKIPPED, f"Nothing to compare: Blink lists no runner for {local.label}.",
                       local.label, values=local.values)  # fmt: skip
    ours, theirs = local.version, found.runner.version
    values = {**local.values, "version": ours, "blink_version": theirs or "-", "image": local.image}
    if not ours:
        return Finding(cid, Outcome.SKIPPED, f"Nothing to compare: {local.label}'s image {local.image} has no "
                       "version tag.", local.label, values=values)  # fmt: skip
    if theirs == ours:
        return Finding(cid, Outcome.PASSED, f"Blink reports version {theirs} for {local.label}, the tag of its "
                       "image.", local.label, values=values)  # fmt: skip
    return Finding(cid, Outcome.FAILED, f"Blink reports version {theirs or '(none)'} for {local.label}, which runs "
                   f"{local.image}.", local.label, values=values)  # fmt: skip
