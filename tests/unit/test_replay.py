"""Offline re-judging of an escalation packet (blinkcheck/replay.py): the tape, what goes on it (never a Secret's
value), the packet format and its errors, unsafe archives; and a Kubernetes gatherer replayed from its tape with
the API server gone, giving the same facts. The lab scenarios replayed whole: tests/integration/*_scenarios.py."""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from blinkcheck.model import CouldNotLook
from blinkcheck.probe.result import CertInfo, ProbeResult, Step
from blinkcheck.redact import MASK, WITHHELD, Redactor
from blinkcheck.replay import FORMAT, PacketError, Tape, load_packet, probe_from_json, probe_json
from blinkcheck.report.packet import manifest
from tests.harness import run_checks
from tests.unit.fake_kube_api import KUBECONFIG, FakeApi, spec_for
from tests.unit.kubernetes_objects import CATALOG

# ------------------------------------------------------------------ the tape


def test_tape_answers_in_order_then_the_last_again_and_never_invents_one():
    tape = Tape("docker")
    tape.keep("GET /containers/json", {"value": [1]})
    tape.keep("GET /containers/json", {"value": [2]})
    replay = Tape("docker", json.loads(tape.dump(str))["answers"])
    assert [replay.next("GET /containers/json")["value"] for _ in range(3)] == [[1], [2], [2]]
    with pytest.raises(CouldNotLook, match="not in the packet"):
        replay.next("GET /containers/abc/json")


def test_a_polling_loop_keeps_only_its_last_answers_and_a_stopped_tape_keeps_nothing():
    tape = Tape("kubernetes")
    with tape.scope("wait blink/op"):
        for n in range(5):
            tape.keep("list pods", {"value": n})
    tape.stopped = True
    tape.keep("read for the packet", {"value": 1})
    assert tape.answers == {"wait blink/op | list pods": [{"value": 4}]}
    with tape.scope("wait blink/op"):
        assert tape.next("list pods") == {"value": 4}


def test_what_a_live_call_raised_is_raised_again_in_the_replay():
    tape = Tape("kubernetes")
    with pytest.raises(CouldNotLook):
        tape.taped("k", lambda: (_ for _ in ()).throw(CouldNotLook("forbidden", "grant it", "k8s.x.y")), str)
    replay = Tape("kubernetes", tape.answers)
    with pytest.raises(CouldNotLook) as raised:
        replay.replayed("k", str)
    assert (raised.value.reason, raised.value.how_to_fix, raised.value.because_of) == ("forbidden", "grant it", "k8s.x.y")


def test_the_tape_is_redacted_when_it_goes_into_the_packet():
    red = Redactor()
    red.add("s3cr3t-value-123")
    tape = Tape("docker", redactor=red)
    tape.keep("x", {"value": {"text": "token s3cr3t-value-123 here", "n": 3}})
    [(name, text)] = tape.bundle_files(str).items()
    assert name == "facts/docker.json" and "s3cr3t-value-123" not in text and MASK in text
    assert tape.stopped  # the packet's own fuller reads that follow are not taped


def test_a_probe_result_survives_the_tape():
    r = ProbeResult("pod blink/p", "https://x", steps=(Step("dns", True, "ok", ms=3), Step("tcp", False, "refused")),
                    cert=CertInfo("CN=a", "CN=b", ("a",)), notes=("n1",), tool="curl")  # fmt: skip
    assert probe_from_json(json.loads(json.dumps(probe_json(r)))) == r


def test_placeholders_of_a_replayed_packet_are_never_taken_for_secrets():
    red = Redactor()
    red.add_env([f"BLINK_API_KEY={WITHHELD}", f"PASSWORD={MASK}"])
    red.add(WITHHELD)
    assert red.values == frozenset()


# ------------------------------------------------------------------ what goes on the Kubernetes tape


def test_the_secret_goes_on_the_tape_as_key_names_only():
    from blinkcheck.kubernetes.replay import shape

    answer = {"metadata": {"name": "s"}, "data": {"appKey": "c2VjcmV0LXZhbHVl", "empty": ""}}
    assert shape("read_namespaced_secret", answer, Redactor()) == {"data": {"appKey": "*", "empty": ""}}
    review = {"status": {"userInfo": {"username": "alice", "extra": {"token": ["t0ken"]}}}}
    assert shape("create_self_subject_review", review, Redactor()) == {"status": {"userInfo": {"username": "alice"}}}


def test_pods_go_on_the_tape_by_the_packets_allow_list():
    from blinkcheck.kubernetes.replay import shape

    pod = {"metadata": {"name": "p", "annotations": {"a": "x"}},
           "spec": {"containers": [{"name": "c", "env": [{"name": "KEY", "value": "v4lue"}], "args": ["--token", "t"]}]},
           "status": {"phase": "Running"}}  # fmt: skip
    text = json.dumps(shape("list_namespaced_pod", {"items": [pod], "metadata": {"continue": "c1"}}, Redactor()))
    assert "v4lue" not in text and '"t"' not in text and '"x"' not in text and '"c1"' in text and "Running" in text


def test_a_kubernetes_gatherer_replayed_from_its_tape_sees_the_same_facts(tmp_path):
    """Recorded against a fake API server, replayed with the server gone: the same pods, Secret keys, access reviews
    and log window; the Secret's value nowhere on the tape."""
    from blinkcheck.kubernetes.replay import RecordingKubernetesFacts, ReplayKubernetesFacts

    api = FakeApi(deny=("pods/exec",))
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG.replace("https://127.0.0.1:1", api.url))
    spec = spec_for(tmp_path, kubeconfig=str(path))
    live = RecordingKubernetesFacts(spec, Redactor(), CATALOG, tape=Tape("kubernetes", redactor=Redactor()))
    try:
        live.prime_secrets()
        seen = _facts_of(live)
        text = live.tape.bundle_files(str)["facts/kubernetes.json"]
    finally:
        api.close()
    assert api.secret_value not in text and "fake-app-key-0123456789" not in text
    tape = Tape("kubernetes", json.loads(text)["answers"])
    again = ReplayKubernetesFacts(spec_for(tmp_path, kubeconfig="/nonexistent"), Redactor(), CATALOG, tape=tape)
    again.prime_secrets()
    assert _facts_of(again) == seen
    assert not again.redactor.values  # nothing on the tape is a secret to learn


def test_a_log_window_larger_than_the_packet_keeps_is_replayed_as_read_in_part(tmp_path, monkeypatch):
    import blinkcheck.kubernetes.replay as k8s_replay

    monkeypatch.setattr(k8s_replay, "LOG_BYTES", 40)
    api = FakeApi()
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG.replace("https://127.0.0.1:1", api.url))
    live = k8s_replay.RecordingKubernetesFacts(spec_for(tmp_path, kubeconfig=str(path)), Redactor(), CATALOG,
                                               tape=Tape("kubernetes"))  # fmt: skip
    try:
        assert live.log_window(live.runner_pods()[0]).complete  # live: read whole
    finally:
        api.close()
    again = k8s_replay.ReplayKubernetesFacts(spec_for(tmp_path), Redactor(), CATALOG, tape=Tape("kubernetes",
                                             json.loads(live.tape.dump(str))["answers"]))  # fmt: skip
    window = again.log_window(again.runner_pods()[0])
    assert not window.complete and "the packet keeps only the newest 40 bytes" in window.cut


def _facts_of(k8s) -> tuple:
    pods = k8s.runner_pods()
    window = k8s.log_window(pods[0])
    return (k8s.api_server, k8s.subject, k8s.accesses, [replace(p, probe_env=()) for p in pods], k8s.deployments,
            k8s.secret("blink", "blink-runner-secret"), window.lines, window.previous_lines, window.error,
            k8s.events("blink", pods[0].name), k8s.hpas)  # fmt: skip


# ------------------------------------------------------------------ the packet: format, versions, unsafe archives


def _packet(tmp_path: Path, files: dict[str, bytes], name: str = "escalation-20260101-000000",
            with_manifest: bool = True, tweak=None) -> Path:  # fmt: skip
    data = dict(files)
    if with_manifest:
        data["MANIFEST.txt"] = manifest(files).encode()
    path = tmp_path / f"{name}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for member, blob in sorted(data.items()):
            info = tarfile.TarInfo(f"{name}/{member}")
            info.size = len(blob)
            if tweak:
                tweak(info)
            tar.addfile(info, io.BytesIO(blob))
    return path


def _info(**changes) -> bytes:
    info = {"format": FORMAT, "tool": {"name": "blink-runner-checks", "version": "9"}, "recorded_at": "2026-01-01",
            "spec": {"target": "docker", "runner_name": "my-runner", "report_dir": "/elsewhere", "bundle": "on"},
            "platforms": ["docker"], "platform_notes": [], "skipped_platforms": [], "facts": ["facts/docker.json"]}  # fmt: skip
    info.update(changes)
    return json.dumps(info).encode()


FACTS = json.dumps({"format": FORMAT, "platform": "docker", "answers": {"engine": [{"value": {}}]}}).encode()
GOOD = {"packet.json": _info(), "facts/docker.json": FACTS, "results.json": b"{}"}


def test_a_packet_loads_with_the_recorded_options_but_this_runs_report_dir_and_catalog(tmp_path):
    cli = spec_for(tmp_path, target="auto", runner_name="blink-runner", bundle="on", deadline_s=None)
    r = load_packet(_packet(tmp_path, GOOD), cli)
    assert (r.spec.target, r.spec.runner_name) == ("docker", "my-runner")
    assert (r.spec.report_dir, r.spec.catalog_path, r.spec.bundle) == (cli.report_dir, cli.catalog_path, "off")
    assert r.platforms == ("docker",) and r.tape("docker").next("engine") == {"value": {}}
    assert r.as_json()["recorded_by"] == "blink-runner-checks 9"


def _member(name: str, blob: bytes = b"x", **attrs) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(blob)
    for k, v in attrs.items():
        setattr(info, k, v)
    return info, blob


UNSAFE = {
    "absolute": (_member("/etc/passwd"), "unsafe member name"),
    "dotdot": (_member("p/../../x"), "unsafe member name"),
    "symlink": (_member("p/link", b"", type=tarfile.SYMTYPE, linkname="/etc/shadow"), "is a link"),
    "hardlink": (_member("p/hard", b"", type=tarfile.LNKTYPE, linkname="p/packet.json"), "is a link"),
    "device": (_member("p/dev", b"", type=tarfile.CHRTYPE), "not a regular file"),
    "two tops": (_member("q/other.txt"), "more than one folder"),
}


@pytest.mark.parametrize("case", list(UNSAFE))
def test_an_unsafe_archive_is_refused_in_one_line(tmp_path, case):
    (info, blob), says = UNSAFE[case]
    path = tmp_path / "bad.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        first = tarfile.TarInfo("p/packet.json")
        first.size = 2
        tar.addfile(first, io.BytesIO(b"{}"))
        tar.addfile(info, io.BytesIO(blob))
    with pytest.raises(PacketError, match=says):
        load_packet(path, spec_for(tmp_path))


def test_huge_members_and_too_many_members_are_refused(tmp_path, monkeypatch):
    import blinkcheck.replay as replay

    monkeypatch.setattr(replay, "MAX_MEMBER_BYTES", 100)
    with pytest.raises(PacketError, match="too large"):
        load_packet(_packet(tmp_path, {**GOOD, "big.log": b"x" * 101}), spec_for(tmp_path))
    monkeypatch.setattr(replay, "MAX_MEMBER_BYTES", 10_000)
    monkeypatch.setattr(replay, "MAX_MEMBERS", 3)
    with pytest.raises(PacketError, match="more than 3 members"):
        load_packet(_packet(tmp_path, {**GOOD, "a": b"", "b": b""}, name="many"), spec_for(tmp_path))


CASES = {
    "missing": (None, "does not exist"),
    "not gzip": (b"just text, not an archive", "not a readable .tar.gz"),
    "foreign": ({"notes.txt": b"hello"}, "not an escalation packet of these checks"),
    "older": ({"results.json": b"{}", "report.html": b""}, "older suite .*packet format 0"),
    "newer": ({**GOOD, "packet.json": _info(format=FORMAT + 1)}, "newer suite"),
    "no format": ({**GOOD, "packet.json": b'{"tool": {}}'}, "no format version"),
    "not json": ({**GOOD, "packet.json": b"{"}, "packet.json is not valid JSON"),
    "facts missing": ({"packet.json": _info()}, "facts/docker.json is missing"),
    "facts foreign": ({**GOOD, "facts/docker.json": b'{"format": 99}'}, "not a facts file of packet format"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_older_newer_foreign_or_damaged_packet_says_why(tmp_path, case):
    content, says = CASES[case]
    path = tmp_path / "p.tar.gz"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, dict):
        path = _packet(tmp_path, content, with_manifest=case != "foreign")
    with pytest.raises(PacketError, match=says):
        load_packet(path, spec_for(tmp_path))


def test_a_member_changed_or_added_after_the_manifest_was_written_is_refused(tmp_path):
    listed = manifest(GOOD).encode()
    changed = {**GOOD, "MANIFEST.txt": listed, "facts/docker.json": FACTS.replace(b"engine", b"enginf")}
    with pytest.raises(PacketError, match="does not match its MANIFEST"):
        load_packet(_packet(tmp_path, changed, name="changed", with_manifest=False), spec_for(tmp_path))
    added = {**GOOD, "MANIFEST.txt": listed, "facts/kubernetes.json": FACTS}
    with pytest.raises(PacketError, match="not in its MANIFEST"):
        load_packet(_packet(tmp_path, added, name="added", with_manifest=False), spec_for(tmp_path))


def test_the_suite_says_so_in_one_line_with_exit_code_4(tmp_path):
    """`pytest checks/ --from-packet` on a bad packet: a usage error naming the option, never a traceback."""
    bad = tmp_path / "escalation-x.tar.gz"
    bad.write_bytes(b"\x1f\x8b not really gzip")
    run = run_checks("--from-packet", str(bad), report_dir=tmp_path / "r")
    assert run.exit_code == 4, run.stdout + run.stderr
    assert "--from-packet: not a readable .tar.gz" in run.stderr and "Traceback" not in run.stdout + run.stderr
    newer = _packet(tmp_path, {**GOOD, "packet.json": _info(format=FORMAT + 1)})
    run = run_checks(report_dir=tmp_path / "r", env={"BLINK_FROM_PACKET": str(newer)})  # the environment variable
    assert run.exit_code == 4 and "written by a newer suite" in run.stderr, run.stderr


def test_a_replay_never_pages_anyone_or_enters_the_history(tmp_path):
    """A packet is last week's run: --notify/--history/--metrics with --from-packet are refused before anything."""
    good = _packet(tmp_path, GOOD)
    run = run_checks("--from-packet", str(good), "--history", str(tmp_path / "h"), report_dir=tmp_path / "r")
    assert run.exit_code == 4, run.stdout + run.stderr
    assert "--from-packet re-judges a recorded run: --history, --notify, --metrics do not apply" in run.stderr
    assert not any((tmp_path / "h").glob("*")) if (tmp_path / "h").exists() else True  # no run entered it
    run = run_checks("--from-packet", str(good), "--remediate", "on", report_dir=tmp_path / "r2")
    assert run.exit_code == 4 and "there is nothing to --remediate" in run.stderr, run.stdout + run.stderr
