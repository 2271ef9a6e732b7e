"""--targets FILE (README "Many targets"): the file read and validated entry by entry as the command line is, each
target's command line, and the reports grouped by target (blinkcheck.many, blinkcheck.report.targets)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest

from blinkcheck import many
from blinkcheck.report import targets as report
from blinkcheck.report.targets import TargetRun

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "blinkcheck" / "results.schema.json").read_text())
ENV: dict[str, str] = {"HOME": "/nonexistent"}  # no DOCKER_HOST, no docker config: the file and the defaults decide


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "targets.yaml"
    path.write_text(text)
    return path


def load(tmp_path: Path, text: str, **cli: str) -> list[many.Entry]:
    return many.load_targets(write(tmp_path, text), {f"--{k.replace('_', '-')}": v for k, v in cli.items()}, ENV)


def error(tmp_path: Path, text: str, **cli: str) -> str:
    with pytest.raises(pytest.UsageError) as exc:
        load(tmp_path, text, **cli)
    message = str(exc.value)
    assert "\n" not in message, message  # one line
    return message


# ------------------------------------------------------------------ the file


def test_entries_take_the_command_lines_options_and_the_command_line_gives_their_defaults(tmp_path: Path):
    (tmp_path / "lab.kubeconfig").write_text("apiVersion: v1\n")
    entries = load(tmp_path, """
targets:
  - name: docker-a
    target: docker
    docker-host: tcp://10.0.0.5:2375
    probe: off
    api-timeout: 3
  - name: cluster.eu-1
    target: kubernetes
    kubeconfig: lab.kubeconfig
    kube-context: eu-1
    namespace: blink
    runner-name: my-runner
""", blink_url="https://eu1.blinkops.com")  # fmt: skip
    a, k = entries
    assert (a.name, a.spec.target, a.spec.docker_host) == ("docker-a", "docker", "tcp://10.0.0.5:2375")
    assert a.given["--probe"] == "off" and not a.spec.probe  # YAML's false is the command line's off
    assert a.spec.api_timeout_s == 3 and a.spec.blink_url == "https://eu1.blinkops.com"  # the command line's default
    assert a.where == "tcp://10.0.0.5:2375"
    assert k.spec.kubeconfig == str(tmp_path / "lab.kubeconfig")  # relative to the file's folder
    assert (k.spec.kube_context, k.spec.namespace, k.spec.runner_name) == ("eu-1", "blink", "my-runner")
    assert k.where == f"context eu-1 of {tmp_path / 'lab.kubeconfig'}, namespace blink"
    assert k.spec.blink_url == "https://eu1.blinkops.com"


def test_a_plain_list_is_a_targets_file_too_and_an_entrys_option_beats_the_command_line(tmp_path: Path):
    (e,) = load(tmp_path, "- {name: one, target: docker, blink-url: 'http://10.0.0.9:8080'}\n",
                blink_url="https://eu1.blinkops.com")  # fmt: skip
    assert e.spec.blink_url == "http://10.0.0.9:8080"


def test_an_entry_choosing_its_engine_replaces_the_command_lines(tmp_path: Path):
    (e,) = load(tmp_path, "- {name: one, target: docker, docker-host: 'tcp://10.0.0.5:2375'}\n",
                docker_context="elsewhere")  # fmt: skip — not "give --docker-host or --docker-context, not both"
    assert e.spec.docker_host == "tcp://10.0.0.5:2375"


def test_the_bound_of_a_target_is_its_deadline_else_what_its_waits_and_timeouts_add_up_to(tmp_path: Path):
    quick, slow = load(tmp_path, """
- {name: quick, target: docker, deadline: 45s}
- {name: slow, target: kubernetes, operator-wait: 10s, log-timeout: 20s, probe-timeout: 5, api-timeout: 2}
""")  # fmt: skip
    assert quick.bound_s == 45
    assert slow.bound_s == 10 + 20 + 5 + 12 * 2 + 60


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("- {name: a, target: dockr}", "target 'a' (entry 1): target: 'dockr' is not one of docker, kubernetes, auto"),
        ("- {name: a}\n- {name: b, runner-name: 'x y'}", "target 'b' (entry 2): runner-name: 'x y' is not a"),
        ("- {name: a, api-timeout: 0}", "target 'a' (entry 1): api-timeout: '0' is out of range"),
        ("- {name: a, docker-host: 'ftp://x'}", "target 'a' (entry 1): docker-host: 'ftp://x' is not a valid URL"),
        ("- {name: a, kubeconfig: missing.yaml}", "target 'a' (entry 1): kubeconfig: '"),
        ("- {name: a, probe: maybe}", "target 'a' (entry 1): probe: 'maybe' must be auto, on or off"),
        ("- {name: a, contxt: eu}", "target 'a' (entry 1): contxt: is not an option (a target takes: name, "),
        ("- {name: a, report-dir: /tmp}", "target 'a' (entry 1): report-dir: is an option of the whole run"),
        ("- {name: a, notify: 'http://x'}", "target 'a' (entry 1): notify: is an option of the whole run"),
        ("- {name: a, namespace: [a, b]}", "target 'a' (entry 1): namespace: must be a single value, not list"),
        ("- {target: docker}", "entry 1: name: '' must be letters, digits"),
        ("- {name: ../up}", "entry 1: name: '../up' must be letters, digits"),
        ("- {name: a}\n- {name: a}", "target 'a': the name is used twice"),
        ("- just-a-string", "entry 1: must be a mapping"),
        ("targets: []", "must be a list of targets"),
        ("name: a\ntarget: docker", "must be a list of targets"),
        ("- {name: a\n", "not YAML: "),
    ],
)
def test_a_bad_file_is_one_line_naming_the_entry_and_its_field(tmp_path: Path, text: str, says: str):
    message = error(tmp_path, text)
    assert message.startswith(f"--targets {tmp_path / 'targets.yaml'}"), message
    assert says in message, message


def test_a_missing_file_is_a_usage_error(tmp_path: Path):
    with pytest.raises(pytest.UsageError, match="cannot read it: No such file"):
        many.load_targets(tmp_path / "absent.yaml", {}, ENV)


def test_a_bad_default_from_the_command_line_names_the_first_entry_it_breaks(tmp_path: Path):
    assert "target 'a' (entry 1): blink-url: 'ftp://x' is not a valid URL" in error(
        tmp_path, "- {name: a}", blink_url="ftp://x"
    )


def test_every_per_target_key_is_an_option_of_the_command_line_and_none_of_the_whole_runs():
    flags = {o.flag for o in many.options.OPTIONS}
    assert set(many.PER_TARGET.values()) == flags - set(many.WHOLE_RUN)
    assert {"target", "docker-host", "docker-context", "kubeconfig", "kube-context", "namespace", "runner-name",
            "blink-url", "probe", "probe-timeout", "deadline"} <= set(many.PER_TARGET)  # fmt: skip


# ------------------------------------------------------------------ each target's command line


def test_forwarded_args_drop_the_whole_runs_flags_with_their_values():
    args = ["checks/", "-q", "--targets", "t.yaml", "--report-dir=r", "-k", "docker", "--remediate", "--probe", "off",
            "--html", "x.html", "-p", "no:randomly"]  # fmt: skip
    drop = {"--targets", "--report-dir", "--remediate", "--html"}
    assert many.forwarded_args(args, drop, frozenset({"--remediate"})) == [
        "checks/", "-q", "-k", "docker", "--probe", "off", "-p", "no:randomly"]  # fmt: skip


def runner(tmp_path: Path, args: list[str], **schedule: Any) -> many.Runner:
    config: Any = SimpleNamespace(invocation_params=SimpleNamespace(args=args, dir=tmp_path))
    spec = SimpleNamespace(history_dir=None, history_keep=50, fail_after=1, notify_url=None, notify_timeout_s=5.0)
    spec.__dict__.update(schedule)
    return many.Runner(config, [], tmp_path / "reports", spec, many.Redactor())  # type: ignore[arg-type]


def test_a_targets_command_has_its_own_report_dir_options_and_bound_and_never_targets_again(tmp_path: Path):
    (e,) = load(tmp_path, "- {name: one, target: docker, docker-host: 'tcp://10.0.0.5:2375', probe: off}")
    r = runner(tmp_path, ["checks/", "-q", "--targets", "t.yaml", "--docker-context", "x", "--probe", "on",
                          "--deadline", "9m", "--blink-url", "https://eu1.blinkops.com"])  # fmt: skip
    cmd = r.command(e)
    assert cmd[1:3] == ["-m", "pytest"] and "--targets" not in cmd and "t.yaml" not in cmd
    tail = cmd[cmd.index("checks/") :]
    assert tail == ["checks/", "-q", "--blink-url", "https://eu1.blinkops.com",
                    "--report-dir", str(tmp_path / "reports" / "targets" / "one"),
                    "--target", "docker", "--docker-host", "tcp://10.0.0.5:2375", "--probe", "off",
                    "--deadline", f"{e.bound_s:g}s", "-o", "cache_dir=.pytest_cache/targets/one"]  # fmt: skip


def test_a_targets_environment_has_its_own_history_folder_and_the_webhook_never_on_a_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BLINK_TARGETS", "t.yaml")
    monkeypatch.setenv("BLINK_METRICS", "/x.prom")
    (e,) = load(tmp_path, "- {name: one}")
    hook = "https://hooks.example.test/services/T0/B0/key"
    r = runner(tmp_path, ["checks/"], history_dir=tmp_path / "h", fail_after=2, notify_url=hook)
    env = r.environment(e)
    assert "BLINK_TARGETS" not in env and "BLINK_METRICS" not in env
    assert env["BLINK_HISTORY"] == str(tmp_path / "h" / "one") and env["BLINK_FAIL_AFTER"] == "2"
    assert env["BLINK_NOTIFY_URL"] == hook and hook not in r.command(e)
    assert env["BLINK_TARGET_ENTRY"] == "one"  # its message names the target


# ------------------------------------------------------------------ the reports, grouped by target


def check(cid: str, outcome: str, because_of: str = "", summary: str = "") -> dict[str, Any]:
    platform = "docker" if cid.startswith("docker.") else "kubernetes"
    return {"id": cid, "outcome": outcome, "title": cid, "summary": summary or f"{cid} {outcome}",
            "runbook": {"section": "disconnected", "section_title": "Runner Disconnected", "platform": platform,
                        "step": "1", "kind": "check"},
            "object": "container blink-runner", "remediation": "docker container restart blink-runner",
            "hints": [], "evidence": [], "because_of": because_of, "link": "", "test": "t", "duration_s": 0.1}  # fmt: skip


def results(*checks: dict[str, Any], exit_code: int = 1, verdict: list[dict[str, str]] | None = None) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for c in checks:
        counts[c["outcome"]] = counts.get(c["outcome"], 0) + 1
    return {"exit_code": exit_code, "checks": list(checks), "counts": counts, "verdict": verdict or [],
            "target": {"platforms": ["docker"]}}  # fmt: skip


def target_run(tmp_path: Path, name: str, code: int | None, res: dict[str, Any] | None, **kw: Any) -> TargetRun:
    d = tmp_path / "targets" / name
    d.mkdir(parents=True, exist_ok=True)
    if res is not None:
        (d / "results.json").write_text(json.dumps(res))
        (d / "report.html").write_text("<html></html>")
    return TargetRun(name, "docker", f"tcp://{name}:2375", d, code, 1.5, res, **kw)


FAILED_VERDICT = [{"section": "disconnected", "title": "Runner Disconnected", "outcome": "failed",
                   "conclusion": "the runner container is not running - restart it"}]  # fmt: skip


@pytest.mark.parametrize(
    ("code", "res", "kw", "status", "why"),
    [
        (0, results(check("docker.disconnected.container-running", "passed"), exit_code=0), {}, "healthy", ""),
        (1, results(check("docker.disconnected.container-running", "failed"), verdict=FAILED_VERDICT), {},
         "problem found", "Runner Disconnected: the runner container is not running - restart it"),
        (1, results(check("docker.host.daemon-reachable", "not-evaluable", summary="Could not reach it"),
                    check("docker.disconnected.container-running", "not-evaluable", "docker.host.daemon-reachable")),
         {}, "could not look", "docker.host.daemon-reachable: Could not reach it"),
        (4, None, {"tail": "ERROR: --catalog: bad"}, "usage error", "ERROR: --catalog: bad"),
        (None, None, {"tail": "No such file"}, "could not look", "it could not be started: No such file"),
        (137, None, {}, "could not look", "it wrote no results.json (exit 137)"),
        (3, None, {}, "leak gate", "a secret was found in a file its run wrote; the file was removed"),
        (2, results(check("docker.disconnected.container-running", "not-evaluable"), exit_code=2), {}, "interrupted",
         "the run was interrupted; unfinished checks are not-evaluable"),
        (5, results(exit_code=5), {}, "nothing selected", "no check of this target was selected (-k, -m, node ids)"),
        (-15, None, {"timed_out": True, "bound_s": 90.0}, "could not look",
         "its run did not end within 90 s and was stopped"),
    ],
)  # fmt: skip
def test_a_groups_status_says_what_its_run_found_or_why_it_could_not_look(tmp_path, code, res, kw, status, why):
    assert report.status_of(target_run(tmp_path, "t", code, res, **kw)) == (status, why)


def test_the_worst_exit_code_wins():
    assert report.worst_exit([0, 1, 0]) == 1
    assert report.worst_exit([0, 5]) == 0 and report.worst_exit([5, 1]) == 1  # nothing selected there: no failure
    assert report.worst_exit([5, 5]) == 5
    assert report.worst_exit([1, 2]) == 2 and report.worst_exit([2, 4]) == 4 and report.worst_exit([4, 3]) == 3
    assert report.worst_exit([0, None]) == 1  # a target that could not be started could not look
    assert report.worst_exit([]) == 0


def grouped(tmp_path: Path) -> dict[str, Any]:
    runs = [
        target_run(tmp_path, "a", 1, results(check("docker.disconnected.container-running", "failed"),
                                             check("docker.host.daemon-reachable", "passed"), verdict=FAILED_VERDICT)),
        target_run(tmp_path, "b", 0, results(check("docker.host.daemon-reachable", "passed"), exit_code=0)),
        target_run(tmp_path, "c", None, None, tail="<script>x</script>"),
    ]  # fmt: skip
    groups = [report.group_of(r, tmp_path, lambda text: text.replace("secret-ish", "****")) for r in runs]
    head = {"schema_version": 1, "tool": {"name": "blink-runner-checks", "version": "0"},
            "started_at": "2026-12-02T10:00:00+00:00", "finished_at": "2026-12-02T10:00:09+00:00",
            "duration_s": 9.0, "targets_file": "t.yaml"}  # fmt: skip
    return report.combined_results(groups, head)


def test_results_are_grouped_by_target_summed_and_valid_against_the_schema(tmp_path: Path):
    data = grouped(tmp_path)
    jsonschema.validate(data, SCHEMA)
    assert [g["name"] for g in data["targets"]] == ["a", "b", "c"]
    assert data["counts"] == {"failed": 1, "passed": 2} and data["exit_code"] == 1
    a, b, c = data["targets"]
    assert a["report"] == "targets/a/report.html" and a["results"] == "targets/a/results.json"
    assert [x["id"] for x in a["checks"]] == ["docker.disconnected.container-running", "docker.host.daemon-reachable"]
    assert b["status"] == "healthy" and b["checks"][0]["outcome"] == "passed"
    assert (c["status"], c["report"], c["checks"], c["exit_code"]) == ("could not look", None, [], None)
    del data["targets_file"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)


def test_the_one_report_has_a_section_per_target_linking_its_own_report(tmp_path: Path):
    page = report.combined_html(grouped(tmp_path))
    for name in "abc":
        assert f'<div class="blink-verdict" id="target-{name}">' in page
    assert page.count('href="targets/a/report.html"') == 1 and 'href="targets/c/report.html"' not in page
    assert "Runner Disconnected: the runner container is not running - restart it" in page
    assert "<pre>docker container restart blink-runner</pre>" in page  # the failed row's remedy
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page  # escaped


def test_terminal_lines_one_verdict_per_target_and_a_summary(tmp_path: Path):
    data = grouped(tmp_path)
    lines = [report.verdict_line(g) for g in data["targets"]]
    assert lines[0] == ("blink-checks verdict: a (docker): problem found: Runner Disconnected: the runner container is "
                        "not running - restart it")  # fmt: skip
    assert lines[1] == "blink-checks verdict: b (docker): healthy"
    assert lines[2] == "blink-checks verdict: c (docker): could not look: it could not be started: <script>x</script>"
    assert report.summary_line(data, Path("reports/report.html")) == (
        "blink-checks: 3 targets: 1 problem found, 1 healthy, 1 could not look (exit 1) — report: reports/report.html")


def test_junit_has_one_suite_per_target(tmp_path: Path):
    runs = [target_run(tmp_path, n, 0, results(exit_code=0)) for n in ("a", "b", "none")]
    for n in ("a", "b"):
        (tmp_path / "targets" / n / "junit.xml").write_text(
            '<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="1">'
            '<testcase classname="checks.docker.test_x" name="test_y"/></testsuite></testsuites>')  # fmt: skip
    text = (report.combined_junit(runs) or b"").decode()
    assert text.count("<testsuite ") == 2 and '<testsuite name="a"' in text and '<testsuite name="b"' in text
    assert 'classname="b.checks.docker.test_x"' in text
    assert report.combined_junit(runs[2:]) is None


@pytest.mark.parametrize("ignores_sigterm", [False, True])
def test_a_target_past_its_bound_is_stopped_and_could_not_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], ignores_sigterm: bool
):
    """A run that does not end at its own --deadline: SIGTERM after the grace (it writes its partial report, as
    under a CI's SIGTERM), killed after another grace when it does not end."""
    import sys
    import time

    monkeypatch.setattr(many, "GRACE_S", 0.5)
    (e,) = load(tmp_path, "- {name: stuck, deadline: 0.5s}")
    ignore = "signal.signal(signal.SIGTERM, signal.SIG_IGN); " if ignores_sigterm else ""
    r = runner(tmp_path, ["checks/"])
    monkeypatch.setattr(r, "command", lambda entry: [sys.executable, "-c", "import signal, time; "
                        f"{ignore}print('looking', flush=True); time.sleep(30)"])  # fmt: skip
    started = time.monotonic()
    run = r.run_one(e)
    assert time.monotonic() - started < (5 if ignores_sigterm else 4)
    assert run.timed_out and run.results is None and run.exit_code == (-9 if ignores_sigterm else -15)
    assert report.status_of(run) == ("could not look", "its run did not end within 0.5 s and was stopped: looking")
    assert "blink-checks target stuck: could not look (exit" in capsys.readouterr().out
