"""The escalation packet: one archive R&D can work from without a second round of questions.

Holds results.json and report.html, full (redacted) logs of the runner and of the upgrade's new
container or the operator, inspect/describe output with environment values withheld, versions,
the runbook steps the suite performed with their outcomes, and a short text for the R&D ticket.
MANIFEST.txt lists every file (size, sha256); the same list is printed before anyone sends it.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from blinkcheck.model import Outcome
from blinkcheck.redact import read_no_follow
from blinkcheck.replay import packet_info
from blinkcheck.report.remediation import text_lines
from blinkcheck.results import counts

if TYPE_CHECKING:
    from blinkcheck.run import RunState

def steps_text(state: RunState) -> str:
    lines = ["Runbook steps performed by the suite, in runbook order, with their outcomes", ""]
    for r in state.results:
        obj = f" [{r.object}]" if r.object else ""
        lines.append(f"{r.section_title} / {r.platform} / step {r.step}: {r.title}{obj}")
        lines.append(f"    {str(r.outcome).upper()}: {r.summary}")
    if state.remediation is not None:  # --remediate: what was tried, and what it changed
        lines += ["", *text_lines(state.remediation)]
    return "\n".join(lines) + "\n"


def ticket_text(state: RunState, versions: str) -> str:
    spec = state.spec
    bad = [r for r in state.results if r.outcome in (Outcome.FAILED, Outcome.NOT_EVALUABLE) and not r.because_of]
    lines = [
        "Blink runner escalation",
        "",
        f"Target: {', '.join(state.selected_platforms) or spec.target}; Blink URL {spec.blink_url}; "
        f"runner {spec.runner_name}; log window {spec.log_window}",
        f"Exit code {state.exit_code}; outcomes: "
        + ", ".join(f"{n} {o}" for o, n in sorted(counts(state).items())),
        "",
        "What the suite found (first cause per condition; the rest were blocked by these):",
    ]
    lines += [f"- {r.id} ({r.section_title}, step {r.step}): {r.summary}" for r in bad] or ["- nothing failed"]
    manual = [r for r in state.results if r.outcome is Outcome.MANUAL]
    if manual:
        lines += ["", "Manual steps still to confirm:"] + [f"- {r.summary}" for r in manual]
    if state.remediation is not None:
        lines += ["", "Recovery steps tried (--remediate), and the re-check:", *text_lines(state.remediation)]
    lines += ["", "Versions:", versions.strip() or "(unknown)", "", "Attached: see MANIFEST.txt."]
    return "\n".join(lines) + "\n"


def collect_files(state: RunState, results_text: str = "") -> dict[str, str]:
    """The packet's files; results.json from `results_text` (written to disk only after the leak gate)."""
    red = state.redactor
    files: dict[str, str] = {}
    for source in state.bundle_sources:
        try:
            files.update(source.bundle_files(red))
        except Exception as exc:  # a gatherer that cannot add its files must not lose the packet
            files[f"errors/{type(source).__name__}.txt"] = red(f"could not collect: {type(exc).__name__}: {exc}")
    versions = "\n".join(v for k, v in sorted(files.items()) if k.endswith("versions.txt"))
    files["steps.txt"] = red(steps_text(state))
    files["ticket.txt"] = red(ticket_text(state, versions))
    files["packet.json"] = packet_info(state)
    # Everything passes the redactor once more: one pass over every artifact. The recorded facts (JSON, each string
    # redacted when taped) get the known values only: the log shapes would cut through their JSON.
    files = {name: red.known(text) if name == "packet.json" or name.startswith("facts/") else red(text)
             for name, text in files.items()}  # fmt: skip
    # The reports were built from redacted text; their known values are masked once more (shapes are not:
    # the patterns are for log text, and report.html's own script must stay intact).
    for name, path in state.reports.items():
        if state.artifacts.owned(path):
            files[name] = red.known(read_no_follow(path).decode("utf-8", errors="replace"))
    if results_text:
        files["results.json"] = red.known(results_text)
    return files


def manifest(files: dict[str, bytes]) -> str:
    rows = [f"{len(data):>10}  {hashlib.sha256(data).hexdigest()[:16]}  {name}" for name, data in sorted(files.items())]
    return "Escalation packet contents (bytes, sha256, file):\n" + "\n".join(rows) + "\n"


def write_bundle(state: RunState, results_text: str) -> tuple[Path, str]:
    """escalation-<time>.tar.gz, a name no other run holds (two runs in the same second get -2, ...),
    created without following links; its list of files beside it as escalation-<time>.manifest.txt."""
    texts = collect_files(state, results_text)
    data = {name: text.encode("utf-8") for name, text in texts.items()}
    listing = manifest(data)
    data["MANIFEST.txt"] = listing.encode()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, fd = state.artifacts.create_unique(state.spec.report_dir, f"escalation-{stamp}", ".tar.gz")
    base = path.name.removesuffix(".tar.gz")
    with os.fdopen(fd, "wb") as f, tarfile.open(fileobj=f, mode="w:gz") as tar:
        for name, blob in sorted(data.items()):
            info = tarfile.TarInfo(f"{base}/{name}")
            info.size = len(blob)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(blob))
    state.artifacts.write(state.spec.report_dir / f"{base}.manifest.txt", listing)
    return path, listing


def archive_members(path: Path) -> dict[str, bytes]:
    """Every member's bytes, for the leak gate and for tests."""
    out: dict[str, bytes] = {}
    with tarfile.open(path, "r:gz") as tar:
        for m in tar.getmembers():
            f = tar.extractfile(m)
            if f is not None:
                out[m.name] = f.read()
    return out
