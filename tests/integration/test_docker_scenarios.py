"""Each Docker lab scenario on the real engine, checked the way a user runs the suite.

`pytest checks/ --target docker ...` runs as a subprocess; we assert its whole row of the scenario table
(tests/scenario_table.py: every condition, one outcome per container, the exit code), the egress probe's
words, and that the filled remedy (real container ids) is in report.html.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html import escape

import jsonschema
import pytest

from lab.docker import scenarios as lab
from tests.harness import ROOT, CheckRun, run_checks
from tests.replaying import replay_of
from tests.scenario_table import DOCKER, assert_row

pytestmark = pytest.mark.docker_lab

P, F, W, M, B, S = "passed", "failed", "warning", "manual", "blocked", "skipped"

# scenario -> the egress probe's words: the layer it names (results.json summary) and what else it says.
# Every probe runs from inside the runner's network namespace by the suite itself (default options,
# no probe image on the host).
PROBE_SAYS = {
    "healthy": ["resolves, connects and answers (HTTP 200; certificate issued by CN=Blink Lab CA)"],
    "upgrade-healthy": ["resolves, connects and answers (HTTP 200"],
    "egress-blocked": ["failed at the TCP connect (timeout) layer", "172.30.251.1:18443"],
    "dns-dead": ["failed at the DNS", "blink.lab.test did not resolve: nameserver 127.0.0.11 gave no answer"],
    "tls-inspected": ["failed at the TLS layer: certificate issued by CN=Blink Lab TLS-Inspecting Proxy CA is not trusted"],
    "proxy-dead": ["failed at the proxy layer", "could not connect to the proxy 172.30.251.1:3128", "Connection refused"],
}

# scenario -> what Blink's readiness check says it got from the runner's network namespace (issue 18)
READY_FROM_RUNNER = {
    "healthy": ["container blink-runner ({runner_id}): https://blink.lab.test:18443/api/v1/api/readiness answered "
                "HTTP 200"],
    "blink-not-ready": ["container blink-runner ({runner_id}): https://blink.lab.test:18443/api/v1/api/readiness "
                        "answered HTTP 503"],
    "egress-blocked": ["container blink-runner ({runner_id}): did not reach https://blink.lab.test:18443 (the TCP "
                       "connect (timeout) layer"],
    "blink-split-view": ["container blink-runner ({runner_id}): https://blink.lab.test:18443/api/v1/api/readiness "
                         "answered HTTP 503"],
}

# scenario -> text that must appear in report.html (the filled remedy)
REMEDY_IN_HTML = {
    "blink-stale": ["runs here, but Blink last saw it 10m", "As Blink sees it, the runner is disconnected",
                    "docker logs {runner_id}"],
    "blink-old-version": ["Blink reports version 1.0.994 for blink-runner-1.0.995 ({new_id})",
                          "docker container restart {new_id}"],
    "blink-not-ready": ["is not ready: https://172.30.251.1:18443/api/v1/api/readiness answered HTTP 503",
                        "Slack channel for any active production alerts"],
    "blink-key-refused": ["the API key was refused (HTTP 401"],
    "blink-split-view": ["Blink's readiness is not 200 where the runner asks it: https://blink.lab.test:18443/api/v1/"
                         "api/readiness answered HTTP 503 from container blink-runner ({runner_id}) (https://"
                         "172.30.251.1:18443/api/v1/api/readiness answered HTTP 200 from the suite's host)",
                         "Something on the runner's way to Blink answers for it",
                         "Blink's readiness is not 200 where the runner asks it - something on the runner's way to "
                         "Blink answers for it"],
    "no-runner": ["docker ps -a | grep blink-runner"],
    "runner-exited": ["docker container restart {runner_id}", "exited with code 1"],
    "egress-blocked": [
        "likely due to a firewall",
        "TCP connect (timeout)",
        "nsenter -t {runner_pid} -n curl -v --cacert /proc/{runner_pid}/root/etc/blink-lab/ca.pem "
        "--resolve blink.lab.test:18443:172.30.251.1 https://blink.lab.test:18443",
    ],
    "dns-dead": ["nsenter -t {runner_pid} -n nslookup blink.lab.test 127.0.0.11",
                 "embedded DNS; it forwards to 172.30.251.253"],
    "tls-inspected": ["issued by CN=Blink Lab TLS-Inspecting Proxy CA, which the runner does not trust",
                      "CA bundle: /etc/blink-lab/ca.pem (the container"],
    "proxy-dead": ["-x 'http://blink-proxy:[REDACTED]@172.30.251.1:3128'", "(from HTTPS_PROXY)"],
    "egress-recovered": ["has been connected again since", "Nothing to do now", "Timeline"],
    "runner-misconfigured": [
        "the egress probe from its own network namespace reaches",
        "docker exec {runner_id} env | grep -i _proxy",
        "the runner cannot connect to Blink although the network path is open",
    ],
    "upgrade-failed": ["docker container restart {runner_id}", "docker logs {new_id}", "runner group not found"],
    "no-socket": ["-v /var/run/docker.sock:/var/run/docker.sock"],
    "logs-unreadable": ["does not support reading", "docker logs {runner_id}",
                        "A logging driver other than json-file/local/journald does not support"],
    "stale-runner": ["probably left over"],
}

RESULTS_SCHEMA = json.loads((ROOT / "blinkcheck" / "results.schema.json").read_text())
TIMINGS = ROOT / "reports" / "integration" / "docker-timings.json"


def _short_id(name: str) -> str:
    try:
        return str(lab.client().containers.get(name).id[:12])
    except Exception:
        return "?"


def _pid(name: str) -> str:
    try:
        return str(lab.client().containers.get(name).attrs["State"]["Pid"])
    except Exception:
        return "?"


@pytest.fixture(scope="module", autouse=True)
def lab_down_after():
    yield
    lab.down()


@pytest.mark.parametrize("scenario", list(DOCKER.rows))
def test_scenario(scenario: str):
    row = DOCKER[scenario]
    lab.up(row.scenario)
    report_dir = ROOT / "reports" / "integration" / f"docker-{scenario}"
    run = run_checks(
        "--target", "docker",
        "--blink-url", lab.BLINK_URL,
        "--probe-timeout", "4",
        "--bundle", "on",  # the packet, re-judged offline below
        *row.options,
        report_dir=report_dir,
    )  # fmt: skip
    _record_timing(scenario, run)
    assert_row(run.results, row, DOCKER, "\n" + run.stdout[-4000:] + run.stderr[-2000:])
    assert run.exit_code == row.exit
    assert "error" not in run.pytest_summary, run.stdout[-3000:]
    jsonschema.validate(run.results, RESULTS_SCHEMA)
    html = run.html
    ids = {"runner_id": _short_id("blink-runner"), "new_id": _short_id("blink-runner-1.0.995"),
           "runner_pid": _pid("blink-runner")}  # fmt: skip
    for text in PROBE_SAYS.get(scenario, []):
        said = [e["summary"] + "\n".join(ev["text"] for ev in e["evidence"])
                for e in run.entries("docker.disconnected.blink-reachable")]  # fmt: skip
        assert any(text in x for x in said), f"{scenario}: {text!r} not in {said}"
    if scenario in PROBE_SAYS:  # from inside the namespace, by the suite itself: no probe container, no image
        probe_entry = run.entries("docker.disconnected.blink-reachable")[0]
        assert "inside the network namespace of container blink-runner" in probe_entry["evidence"][0]["text"]
    for text in READY_FROM_RUNNER.get(scenario, []):
        (ready,) = run.entries("docker.blink.ready")
        said = {e["title"]: e["text"] for e in ready["evidence"]}.get("readiness from the runners", "")
        assert text.format(**ids) in said, f"{scenario}: {text.format(**ids)!r} not in {said!r}"
    for text in REMEDY_IN_HTML.get(scenario, []):
        needle = text.format(**ids)
        shown = (needle, escape(needle), escape(needle, quote=False))
        assert any(x in html for x in shown), f"{scenario}: {needle!r} not in report.html"
    # The planted API key and proxy password never reach any artifact.
    user_key = lab.BLINK_API_KEY_FILE.read_text().strip()  # the user's Blink API key (Blink's view)
    for path in report_dir.iterdir():
        assert lab.LAB_API_KEY not in path.read_text(errors="replace"), path
        assert lab.PROXY_SECRET not in path.read_text(errors="replace"), path
        assert user_key not in path.read_text(errors="replace"), path
    assert user_key not in run.stdout + run.stderr
    # The junit file carries the condition id and outcome as properties.
    assert 'name="condition" value="docker.host.daemon-reachable"' in (report_dir / "junit.xml").read_text()
    if scenario == "stale-runner":
        _each_runner_on_its_own(run)
    # The packet re-judged offline (--from-packet): the same outcome per condition and container, the same exit code,
    # with every connection and child process refused.
    replay_of(run)


def _each_runner_on_its_own(run: CheckRun) -> None:
    """Two runner containers, one exited: the running one is probed (passed), only the exited one is blocked."""

    def by_name(cid: str) -> dict[str, str]:
        return {e["object"].split()[1]: e["outcome"] for e in run.entries(cid)}

    assert by_name("docker.disconnected.container-running") == {"blink-runner": P, "blink-runner-old": W}
    assert by_name("docker.disconnected.blink-reachable") == {"blink-runner": P, "blink-runner-old": B}
    assert by_name("docker.disconnected.logs-readable") == {"blink-runner": P, "blink-runner-old": P}


def test_failed_remedy_names_the_real_container_in_results_json():
    lab.up("runner-exited")
    run = run_checks("--target", "docker", "--blink-url", lab.BLINK_URL, "--probe", "off",
                     report_dir=ROOT / "reports" / "integration" / "docker-remedy")  # fmt: skip
    # --probe off switches the probe off: the check says so instead of probing; the rest is the scenario's row.
    row = DOCKER["runner-exited"]
    assert_row(run.results, replace(row, outcomes=row.but(blink_reachable="S")), DOCKER)
    entry = run.entries("docker.disconnected.container-running")[0]
    runner_id = _short_id("blink-runner")
    assert f"docker container restart {runner_id}" in entry["remediation"]
    assert entry["runbook"] == {
        "section": "disconnected", "section_title": "Runner Disconnected",
        "platform": "docker", "step": "1", "kind": "check",
    }  # fmt: skip
    titles = [e["title"] for e in entry["evidence"]]
    assert "Last log lines" in titles
    assert re.search(r"BLINK_RUNNER_GROUP_API_KEY", json.dumps(entry))  # the name is shown...
    assert lab.LAB_API_KEY not in json.dumps(run.results)  # ...never the value


def _record_timing(scenario: str, run: CheckRun) -> None:
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    data[scenario] = {"wall_s": round(run.wall_s, 2), "exit_code": run.exit_code, "outcomes": {
        k: sorted(v) for k, v in run.outcomes().items()}}  # fmt: skip
    TIMINGS.write_text(json.dumps(data, indent=2) + "\n")

