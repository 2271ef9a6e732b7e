"""Offline re-judging of an escalation packet (`pytest checks/ --from-packet escalation-….tar.gz`).

A live run with --bundle on|on-failure keeps a tape per platform: every answer its gatherer got at the API boundary
(lists, inspects, reads, access reviews, the log windows as they were streamed), the egress probe's result per
runner, the operator wait's outcome and the clock the judges read. The packet carries the tapes (redacted, objects by
the packet's allow-list, Secret values never: only which keys are empty) in facts/<platform>.json, and packet.json
(the format version, the run's options, the platforms chosen). A replay swaps in gatherers that answer from the tape
(blinkcheck/docker/replay.py, blinkcheck/kubernetes/replay.py): the same checks, fixtures and judges run, no engine
or cluster is reached. A question the tape cannot answer is "not in the packet": not-evaluable, never passed.

Reading a packet is bounded and never extracts anything: members are read in memory; absolute names, `..`, links,
devices, huge members, too many members, a member changed after MANIFEST.txt was written, an older, newer or
foreign packet: each is one clear line (a usage error, exit 4).
"""

from __future__ import annotations

import hashlib
import json
import tarfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, TypeVar

from blinkcheck.config import DockerTLS, TargetSpec
from blinkcheck.model import CouldNotLook
from blinkcheck.probe.result import CertInfo, ProbeResult, Step
from blinkcheck.redact import Redactor

if TYPE_CHECKING:
    from blinkcheck.run import RunState

FORMAT = 1  # packet.json "format": what this suite writes and reads
MAX_MEMBERS = 2000
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
LOG_BYTES = 16 * 1024 * 1024  # the newest bytes of one log window kept on the tape
Json = Any
T = TypeVar("T")


class PacketError(Exception):
    """A packet that cannot be replayed: one line saying why."""


# ------------------------------------------------------------------ the tape


class Tape:
    """The answers one platform's gatherer got, in order, per question (key). Live: `keep` appends (nothing after
    `stop`, so the packet's own fuller reads are not taped). Replay: `next` gives the answers in order, the last
    again once they are used up; a question never asked live is CouldNotLook "not in the packet"."""

    def __init__(self, platform: str, answers: dict[str, list[Json]] | None = None,
                 redactor: Redactor | None = None) -> None:  # fmt: skip
        self.platform = platform
        self.redactor = redactor
        self.replaying = answers is not None
        self.answers: dict[str, list[Json]] = answers if answers is not None else {}
        self._used: dict[str, int] = {}
        self._scope = ""
        self.stopped = False

    def keep(self, key: str, answer: Json) -> None:
        if self.stopped:
            return
        if self._scope:  # a polling loop: only its last answer to each question is kept
            self.answers[self._scope + key] = [answer]
            return
        self.answers.setdefault(key, []).append(answer)

    def next(self, key: str) -> Json:
        key = self._scope + key
        found = self.answers.get(key)
        if not found:
            raise CouldNotLook(f"not in the packet: the recorded run did not ask {key!r} ({self.platform}), so a "
                               "replay cannot answer it")  # fmt: skip
        n = self._used.get(key, 0)
        self._used[key] = n + 1
        return found[min(n, len(found) - 1)]

    @contextmanager
    def scope(self, name: str) -> Iterator[None]:
        self._scope = name + " | "
        try:
            yield
        finally:
            self._scope = ""

    def bundle_files(self, redact: Callable[[str], str]) -> dict[str, str]:
        """The packet's facts/<platform>.json (a source of the packet of its own, before its gatherer: the tape stops
        before the packet's fuller reads, and a gatherer that cannot add its files does not lose the facts)."""
        self.stopped = True
        return {f"facts/{self.platform}.json": self.dump(self.redactor.known if self.redactor else redact)}

    def dump(self, redact: Callable[[str], str]) -> str:
        """The facts file: every string through `redact` (the run's known secrets; logs and probe output passed the
        whole redactor when they were taped)."""
        answers = redact_tree(self.answers, redact)
        return json.dumps({"format": FORMAT, "platform": self.platform, "answers": answers}, sort_keys=True,
                          ensure_ascii=True, indent=1) + "\n"  # fmt: skip

    def taped(self, key: str, fn: Callable[[], T], encode: Callable[[T], Json]) -> T:
        """Live: call fn, keep its answer (or what it raised), return it / raise it again."""
        try:
            value = fn()
        except CouldNotLook as exc:
            self.keep(key, {"raised": could_not_look_json(exc)})
            raise
        except Exception as exc:
            said = {k: v for k, v in vars(exc).items() if isinstance(v, (str, int, float, bool))}  # ApiError's status
            self.keep(key, {"raised": {**said, "kind": type(exc).__name__, "text": str(exc)}})
            raise
        self.keep(key, {"value": encode(value)})
        return value

    def replayed(self, key: str, decode: Callable[[Json], T], rebuild: Callable[[Json], BaseException] | None = None
                 ) -> T:  # fmt: skip
        """Replay: the answer to key, decoded; what the live call raised is raised again (rebuild: other kinds)."""
        answer = self.next(key)
        if "raised" in answer:
            raised = answer["raised"]
            if raised.get("kind") == "CouldNotLook":
                raise CouldNotLook(raised.get("reason", ""), raised.get("how_to_fix", ""), raised.get("because_of", ""))
            if rebuild is not None:
                raise rebuild(raised)
            raise CouldNotLook(f"{raised.get('kind', 'error')}: {raised.get('text', '')}")
        return decode(answer.get("value"))


class OnTape:
    """Mixed into a gatherer or probe that keeps a tape (live) or answers from one (replay)."""

    def __init__(self, *args: Any, tape: Tape, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tape = tape


def could_not_look_json(exc: CouldNotLook) -> Json:
    return {"kind": "CouldNotLook", "reason": exc.reason, "how_to_fix": exc.how_to_fix, "because_of": exc.because_of}


def redact_tree(value: Json, redact: Callable[[str], str]) -> Json:
    """Every string of a JSON value through `redact` (dictionary keys are names and stay)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_tree(v, redact) for v in value]
    if isinstance(value, dict):
        return {k: redact_tree(v, redact) for k, v in value.items()}
    return value


def probe_json(result: ProbeResult) -> Json:
    return asdict(result)


def probe_from_json(data: Json) -> ProbeResult:
    d = dict(data)
    d["steps"] = tuple(Step(**s) for s in d.get("steps") or ())
    d["cert"] = CertInfo(**{**d["cert"], "names": tuple(d["cert"].get("names") or ())}) if d.get("cert") else None
    d["notes"] = tuple(d.get("notes") or ())
    known = {f.name for f in fields(ProbeResult)}
    return ProbeResult(**{k: v for k, v in d.items() if k in known})


# ------------------------------------------------------------------ writing: packet.json


def _spec_json(spec: TargetSpec) -> Json:
    out = asdict(spec)
    out["report_dir"], out["catalog_path"] = str(spec.report_dir), str(spec.catalog_path)
    return out


def taped_besides(state: RunState) -> list[str]:
    """Tapes kept besides the platforms' (Blink's own view: "blink")."""
    return [s.platform for s in state.bundle_sources
            if isinstance(s, Tape) and s.platform not in state.selected_platforms]  # fmt: skip


def packet_info(state: RunState) -> str:
    """packet.json: what a replay needs besides the tapes (the format, the options, the platforms chosen)."""
    from blinkcheck.results import tool_version

    known = state.redactor.known
    info = {
        "format": FORMAT,
        "tool": {"name": "blink-runner-checks", "version": tool_version()},
        "recorded_at": datetime.fromtimestamp(state.started, UTC).isoformat(),
        "spec": redact_tree(_spec_json(state.spec), known),
        "platforms": list(state.selected_platforms),
        "platform_notes": redact_tree(list(state.platform_notes), known),
        "skipped_platforms": redact_tree([list(s) for s in state.skipped_platforms], known),
        "facts": [f"facts/{p}.json" for p in (*state.selected_platforms, *taped_besides(state))],
    }
    return json.dumps(info, sort_keys=True, ensure_ascii=True, indent=1) + "\n"


# ------------------------------------------------------------------ reading a packet, safely


@dataclass(frozen=True)
class Replay:
    """A packet loaded for re-judging."""

    path: Path
    format: int
    recorded_at: str
    recorded_by: str
    spec: TargetSpec
    platforms: tuple[str, ...]
    platform_notes: tuple[str, ...]
    skipped_platforms: tuple[tuple[str, str], ...]
    tapes: dict[str, Tape] = field(default_factory=dict)

    def tape(self, platform: str) -> Tape:
        return self.tapes.get(platform) or Tape(platform, {})

    @property
    def note(self) -> str:
        return (f"replayed from the escalation packet {self.path.name} (recorded {self.recorded_at} by "
                f"{self.recorded_by}): no target was contacted; the facts are the recorded run's")  # fmt: skip

    def as_json(self) -> Json:
        return {"packet": self.path.name, "format": self.format, "recorded_at": self.recorded_at,
                "recorded_by": self.recorded_by}  # fmt: skip


def _members(path: Path) -> dict[str, bytes]:
    """Every regular member's bytes by its name below the packet's one top folder; PacketError for anything unsafe."""
    out: dict[str, bytes] = {}
    total = 0
    top = ""
    try:
        with tarfile.open(path, "r:gz") as tar:
            for n, m in enumerate(tar):
                if n >= MAX_MEMBERS:
                    raise PacketError(f"it has more than {MAX_MEMBERS} members: not an escalation packet")
                name = PurePosixPath(m.name)
                if name.is_absolute() or ".." in name.parts or "\\" in m.name:
                    raise PacketError(f"unsafe member name {m.name!r} (absolute or with '..'): refused")
                if m.issym() or m.islnk():
                    raise PacketError(f"member {m.name!r} is a link: refused")
                if m.isdir():
                    continue
                if not m.isfile():
                    raise PacketError(f"member {m.name!r} is not a regular file (device, fifo): refused")
                if m.size > MAX_MEMBER_BYTES or total + m.size > MAX_TOTAL_BYTES:
                    raise PacketError(f"member {m.name!r} is too large ({m.size} bytes; limits {MAX_MEMBER_BYTES} per "
                                      f"member, {MAX_TOTAL_BYTES} in all): refused")  # fmt: skip
                total += m.size
                first, rest = (name.parts[0], "/".join(name.parts[1:])) if len(name.parts) > 1 else ("", m.name)
                if top and first != top:
                    raise PacketError(f"members in more than one folder ({top}/, {first}/): not an escalation packet")
                top = first
                f = tar.extractfile(m)
                out[rest] = f.read(MAX_MEMBER_BYTES + 1) if f is not None else b""
    except (tarfile.TarError, EOFError, OSError, ValueError, zlib.error) as exc:
        raise PacketError(f"not a readable .tar.gz ({type(exc).__name__}: {exc})") from None
    return out


def _check_manifest(files: dict[str, bytes]) -> None:
    listing = files.get("MANIFEST.txt", b"").decode("utf-8", "replace").splitlines()[1:]
    listed = {}
    for line in listing:
        parts = line.split(None, 2)
        if len(parts) == 3:
            listed[parts[2]] = (parts[0], parts[1])
    for name, data in files.items():
        if name == "MANIFEST.txt":
            continue
        if name not in listed:
            raise PacketError(f"{name} is not in its MANIFEST.txt: the packet was changed after it was written")
        size, digest = listed[name]
        if size != str(len(data)) or digest != hashlib.sha256(data).hexdigest()[:16]:
            raise PacketError(f"{name} does not match its MANIFEST.txt (size or sha256): the packet was changed "
                              "after it was written")  # fmt: skip


def _json_member(files: dict[str, bytes], name: str) -> Json:
    try:
        return json.loads(files[name])
    except KeyError:
        raise PacketError(f"{name} is missing from the packet") from None
    except ValueError as exc:
        raise PacketError(f"{name} is not valid JSON ({exc})") from None


def _spec_from(recorded: Json, cli: TargetSpec) -> TargetSpec:
    """The recorded run's options; from this command line only where the report goes, the catalog, the deadline.
    An option the recording suite did not know keeps this run's value."""
    if not isinstance(recorded, dict):
        raise PacketError("packet.json has no recorded options (spec)")
    values = {f.name: recorded[f.name] for f in fields(TargetSpec) if f.name in recorded}
    if isinstance(values.get("docker_tls"), dict):
        values["docker_tls"] = DockerTLS(**values["docker_tls"])
    try:
        spec = replace(cli, **values)
    except TypeError as exc:
        raise PacketError(f"packet.json's recorded options do not fit this suite ({exc})") from None
    return replace(spec, report_dir=cli.report_dir, catalog_path=cli.catalog_path, deadline_s=cli.deadline_s,
                   bundle="off")  # fmt: skip


def load_packet(path: Path, cli: TargetSpec) -> Replay:
    """The packet at `path`, checked and loaded; PacketError says why it cannot be replayed."""
    if not path.is_file():
        raise PacketError(f"'{path}' does not exist or is not a file")
    files = _members(path)
    if "packet.json" not in files:
        if "MANIFEST.txt" in files and "results.json" in files:
            raise PacketError(f"'{path.name}' was written by an older suite (no packet.json: packet format 0, before "
                              "facts were recorded): its reports can be read, it cannot be re-judged")  # fmt: skip
        raise PacketError(f"'{path.name}' is not an escalation packet of these checks (no packet.json nor "
                          "MANIFEST.txt)")  # fmt: skip
    _check_manifest(files)
    info = _json_member(files, "packet.json")
    fmt = info.get("format") if isinstance(info, dict) else None
    if not isinstance(fmt, int):
        raise PacketError(f"'{path.name}': packet.json has no format version: not a packet of these checks")
    if fmt > FORMAT:
        raise PacketError(f"'{path.name}' has packet format {fmt}, written by a newer suite; this suite reads format "
                          f"{FORMAT}: re-judge it with the newer suite")  # fmt: skip
    if fmt < FORMAT:
        raise PacketError(f"'{path.name}' has packet format {fmt}, which this suite no longer reads (it reads "
                          f"{FORMAT})")  # fmt: skip
    tapes = {}
    for name in info.get("facts") or []:
        data = _json_member(files, str(name))
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("answers"), dict):
            raise PacketError(f"{name} is not a facts file of packet format {FORMAT}")
        tapes[str(data.get("platform"))] = Tape(str(data.get("platform")), data["answers"])
    tool = info.get("tool") or {}
    return Replay(
        path=path,
        format=fmt,
        recorded_at=str(info.get("recorded_at", "")),
        recorded_by=f"{tool.get('name', '?')} {tool.get('version', '?')}",
        spec=_spec_from(info.get("spec"), cli),
        platforms=tuple(str(p) for p in info.get("platforms") or ()),
        platform_notes=tuple(str(n) for n in info.get("platform_notes") or ()),
        skipped_platforms=tuple((str(p), str(w)) for p, w in info.get("skipped_platforms") or ()),
        tapes=tapes,
    )
