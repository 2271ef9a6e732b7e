"""The judges on the lab's own API objects (tests/data/, recorded by `python -m tests.record_lab`): each scenario's
outcome table, and every finding word for word (findings.json, reviewed when a judge's words change)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from blinkcheck.redact import encodings
from tests.record_lab import planted_secrets
from tests.unit import recorded
from tests.unit.recorded import DATA, as_data, docker, expected_path, findings_of, kubernetes, scenarios

DOCKER = scenarios("docker")
K8S = scenarios("kubernetes")


def table(findings) -> dict[tuple[str, str], str]:
    """(condition, object's name) -> outcome."""
    return {(f.condition_id, f.object.split(" (")[0].removeprefix("container ")): str(f.outcome) for f in findings}


# ------------------------------------------------------------------ what was recorded


def test_every_lab_scenario_is_recorded():
    from lab.docker.scenarios import SCENARIOS as DOCKER_LAB
    from lab.k8s.scenario import SCENARIOS as K8S_LAB

    assert sorted(DOCKER_LAB) == DOCKER
    assert sorted(K8S_LAB) == K8S


def test_recordings_hold_no_planted_secret():
    """The recorder removes the lab's planted keys in every encoding the redactor knows, and every Secret value."""
    forms = {f for s in planted_secrets() for f in encodings(s)}
    for path in DATA.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not [f for f in forms if f in text], path
    for name in K8S:
        for secret in kubernetes(name).items("secrets"):
            assert all(v in ("", recorded_mask()) for v in secret["data"].values()), name


def recorded_mask() -> str:
    from tests.record_lab import MASKED_VALUE

    return MASKED_VALUE


@pytest.mark.parametrize(("platform", "name"), [("docker", n) for n in DOCKER] + [("kubernetes", n) for n in K8S])
def test_findings_word_for_word(platform, name):
    """Every finding on the recording as the report shows it: outcome, summary, remedy values, evidence, details.
    A change of a judge's words shows here as a diff of findings.json (rewrite: python -m tests.unit.recorded --write)."""
    expected = json.loads(expected_path(platform, name).read_text(encoding="utf-8"))
    assert as_data(findings_of(platform, name)) == expected


# ------------------------------------------------------------------ Docker: the scenarios' outcome tables

PASS, FAIL, WARN = "passed", "failed", "warning"
RUNNING_ONE = {
    ("docker.disconnected.container-exists", "unix:///var/run/docker.sock"): PASS,
    ("docker.disconnected.container-running", "blink-runner"): PASS,
    ("docker.disconnected.logs-readable", "blink-runner"): PASS,
    ("docker.disconnected.no-network-errors", "blink-runner"): PASS,
    ("docker.upgrade.indicators", "blink-runner"): PASS,
    ("docker.runner.socket-mounted", "blink-runner"): PASS,
}
NET = ("docker.disconnected.no-network-errors", "blink-runner")
NEW = "blink-runner-1.0.995"
DOCKER_TABLES = {
    "healthy": RUNNING_ONE,
    "no-runner": {("docker.disconnected.container-exists", "unix:///var/run/docker.sock"): FAIL},
    "runner-exited": {**RUNNING_ONE, ("docker.disconnected.container-running", "blink-runner"): FAIL},
    "egress-blocked": {**RUNNING_ONE, NET: FAIL},
    "egress-recovered": {**RUNNING_ONE, NET: WARN},
    "runner-misconfigured": {**RUNNING_ONE, NET: FAIL},
    "dns-dead": {**RUNNING_ONE, NET: FAIL},
    "tls-inspected": {**RUNNING_ONE, NET: FAIL},
    "proxy-dead": {**RUNNING_ONE, NET: FAIL},
    "no-socket": {**RUNNING_ONE, ("docker.runner.socket-mounted", "blink-runner"): FAIL},
    # Logging driver none: the engine refuses to read the logs; nothing read means nothing to judge.
    "logs-unreadable": {**RUNNING_ONE, ("docker.disconnected.logs-readable", "blink-runner"): FAIL,
                        NET: "not-evaluable", ("docker.upgrade.indicators", "blink-runner"): "not-evaluable"},
    # An old exited runner beside the running one: a leftover (warning), everything else judged on both.
    "stale-runner": {**RUNNING_ONE, **{(cid, "blink-runner-old"): PASS for cid, obj in RUNNING_ONE
                                       if obj == "blink-runner"},
                     ("docker.disconnected.container-running", "blink-runner-old"): WARN},
    "upgrade-healthy": {
        **RUNNING_ONE,
        **{(cid, NEW): PASS for cid, obj in RUNNING_ONE if obj == "blink-runner"},
        ("docker.upgrade.new-container-healthy", NEW): PASS,
    },
    "upgrade-failed": {
        **RUNNING_ONE,
        **{(cid, NEW): PASS for cid, obj in RUNNING_ONE if obj == "blink-runner"},
        # The exited new container beside the running old one: a leftover (warning); the upgrade failed.
        ("docker.disconnected.container-running", NEW): WARN,
        ("docker.upgrade.new-container-healthy", NEW): FAIL,
    },
    # Beyond the runbook: what the recording's inspect and logs show of them (the rest needs the engine).
    "runner-oom": {**RUNNING_ONE, ("docker.disconnected.container-running", "blink-runner"): FAIL},
    "restart-no": RUNNING_ONE,
    "dns-missing": {**RUNNING_ONE, NET: FAIL},
    "ca-missing": {**RUNNING_ONE, NET: FAIL},
    "clock-skew": RUNNING_ONE,
}
# Blink's own view (what Blink says is judged elsewhere: tests/unit/test_blinkview.py): the runners are healthy here.
DOCKER_TABLES |= {"blink-sees": RUNNING_ONE, "blink-stale": RUNNING_ONE, "blink-not-ready": RUNNING_ONE,
                  "blink-split-view": RUNNING_ONE,
                  "blink-old-version": DOCKER_TABLES["upgrade-healthy"]}  # fmt: skip
DOCKER_FAMILIES = {
    "egress-blocked": ["timeout"],
    "egress-recovered": ["timeout"],
    "runner-misconfigured": ["refused"],
    "dns-dead": ["timeout"],  # the runner's resolver times out against a dead nameserver
    "tls-inspected": ["tls"],
    "proxy-dead": ["proxy"],
    "dns-missing": ["dns"],  # no nameserver: Go's resolver asks the container's own loopback
    "ca-missing": ["tls"],
}


@pytest.mark.parametrize("name", DOCKER)
def test_docker_scenario_outcome_table(name):
    assert table(findings_of("docker", name)) == DOCKER_TABLES[name]


@pytest.mark.parametrize("name", DOCKER)
def test_docker_scenario_network_error_families(name):
    net = [f for f in findings_of("docker", name) if f.condition_id == NET[0] and f.object.startswith("container blink-runner (")]
    families = list(net[0].details.get("timeline", {}).get("by_family", {})) if net else []
    assert families == DOCKER_FAMILIES.get(name, [])


def test_recorded_inspect_gives_the_facts_the_judges_need():
    s = docker("upgrade-healthy")
    old, new = s.runners
    assert (old.name, old.status, new.name, new.status) == ("blink-runner", "running", NEW, "running")
    assert old.image == "blinkops/blink-runner:1.0.994" and new.image == "blinkops/blink-runner:1.0.995"
    assert ("/var/run/docker.sock", "/var/run/docker.sock") in old.mounts
    assert "BLINK_RUNNER_GROUP_API_KEY" in old.env_names and old.log_driver == "json-file"
    # The "Found existing" line names the new container by its real id.
    line = recorded.upgrade_lines(s.window(old), recorded.CATALOG.upgrade_patterns)[-1]
    assert (line.kind, line.name, new.id.startswith(line.container_id)) == ("found_existing", NEW, True)
    exited = docker("runner-exited").runners[0]
    assert (exited.status, exited.exit_code, exited.oom_killed) == ("exited", 1, False)
    assert exited.finished_at.startswith(docker("runner-exited").meta["recorded_at"][:10])
    assert docker("no-socket").runners[0].mounts == (
        (str(Path("/var/lib/blink-lab/docker/pki/ca.pem")), "/etc/blink-lab/ca.pem"),)


def test_recorded_windows_keep_the_engines_times():
    s = docker("egress-recovered")
    w = s.window(s.runners[0])
    assert w.first_at is not None and w.last_at is not None
    assert w.first_at <= w.last_at < s.now + timedelta(seconds=1)  # recorded_at is to the second
    assert w.recovered is not None and w.last_success is not None and w.recovered.index <= w.last_success.index


# ------------------------------------------------------------------ Kubernetes: the scenarios' outcome tables


def k8s_outcomes(name: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in findings_of("kubernetes", name):
        out.setdefault(f.condition_id, []).append(str(f.outcome))
    return out


@pytest.mark.parametrize("name", K8S)
def test_k8s_scenario_outcome_table(name):
    assert k8s_outcomes(name) == K8S_TABLES[name]


def _k8s(pods_ready: list[str], net: list[str] | None = None, logs: list[str] | None = None,
         **changed: list[str]) -> dict[str, list[str]]:
    """A scenario's table: by default every runner pod passes everything and no operator exists; `changed` sets
    other rows (keyword: the condition id after "k8s.", dots and dashes as underscores, e.g. upgrade_operator_state)."""
    n = len(pods_ready)
    t = {
        "k8s.disconnected.pods-exist": [PASS],
        "k8s.disconnected.pods-ready": pods_ready,
        "k8s.disconnected.logs-readable": logs or [PASS] * n,
        "k8s.disconnected.no-network-errors": net or [PASS] * n,
        "k8s.upgrade.operator-state": [PASS],
        "k8s.upgrade.operator-handoff": [PASS] * n,
        "k8s.runner.secret-present": [PASS],
        # past the runbook (node-pressure only where the recording has the nodes: set by the scenario's row)
        "k8s.beyond.network-policy": [PASS] * n,
        "k8s.beyond.evicted-pods": [PASS],
        "k8s.beyond.quota-blocks-upgrade": [PASS],
    }
    for key, outcomes in changed.items():
        section, _, name = key.partition("_")
        t[f"k8s.{section}.{name.replace('_', '-')}"] = outcomes
    return {k: v for k, v in t.items() if v}


K8S_TABLES: dict[str, dict[str, list[str]]] = {
    "healthy": _k8s([PASS], beyond_node_pressure=[PASS]),
    "clock-skew": _k8s([PASS], beyond_node_pressure=[PASS]),  # the clock is judged from the probe, not recorded
    **{name: _k8s([PASS]) for name in ("blink-sees", "blink-stale", "blink-old-version", "blink-not-ready")},
    "crashloop": _k8s([FAIL]),
    # The pod never ran: no logs to judge for errors or a handoff.
    "pending": _k8s([FAIL], logs=["blocked"], disconnected_no_network_errors=[], upgrade_operator_handoff=[]),
    "hpa": _k8s([PASS, PASS, FAIL]),
    "egress-blocked": _k8s([PASS], net=[FAIL]),
    "egress-recovered": _k8s([PASS], net=[WARN]),
    "runner-misconfigured": _k8s([PASS], net=[FAIL]),
    "dns-dead": _k8s([PASS], net=[FAIL]),
    "tls-inspected": _k8s([PASS], net=[FAIL]),
    "proxy-dead": _k8s([PASS], net=[FAIL]),
    # The API server cannot reach the kubelet: the log read is refused, so nothing in it can be judged.
    "logs-unreadable": _k8s([PASS], logs=[FAIL], net=["not-evaluable"], upgrade_operator_handoff=["not-evaluable"]),
    "no-runner": {"k8s.disconnected.pods-exist": [FAIL], "k8s.upgrade.operator-state": [PASS],
                  "k8s.runner.secret-present": [PASS], "k8s.beyond.evicted-pods": [PASS],
                  "k8s.beyond.quota-blocks-upgrade": [PASS]},
    "upgrade-in-progress": _k8s([PASS], upgrade_operator_state=[WARN], upgrade_rollback_overdue=[PASS]),
    "operator-gone": _k8s([PASS], upgrade_operator_handoff=[FAIL]),
    "operator-stuck": _k8s([PASS], upgrade_operator_state=[WARN], upgrade_operator_handoff=[FAIL],
                           upgrade_rollback_overdue=[PASS]),
    "operator-pending": _k8s([PASS], upgrade_operator_state=[WARN], upgrade_operator_handoff=[FAIL],
                             upgrade_rollback_overdue=[PASS]),
    # Recorded while the operator is still inside its rollback window (it rolls back after 10 s).
    "operator-rollback": _k8s([PASS], upgrade_operator_state=[WARN], upgrade_rollback_overdue=[PASS]),
    "secret-missing": _k8s([FAIL], logs=["blocked"], disconnected_no_network_errors=[], upgrade_operator_handoff=[],
                           runner_secret_present=[FAIL]),
    "secret-empty": _k8s([FAIL], runner_secret_present=[FAIL]),
    "network-policy": _k8s([PASS], beyond_network_policy=[FAIL], beyond_node_pressure=[PASS]),
    "node-pressure": _k8s([PASS], beyond_node_pressure=[FAIL]),
    # The evicted pod is Failed (pods-ready) and not on a node any more as far as node-pressure is concerned.
    "evicted-pod": _k8s([PASS, FAIL], beyond_node_pressure=[PASS], beyond_evicted_pods=[FAIL]),
    "quota-exhausted": _k8s([PASS], upgrade_operator_state=[WARN], upgrade_operator_handoff=[FAIL],
                            upgrade_rollback_overdue=[PASS], beyond_node_pressure=[PASS],
                            beyond_quota_blocks_upgrade=[FAIL]),
}


def test_a_pod_is_judged_with_its_own_events():
    s = kubernetes("crashloop") if "crashloop" in K8S else None
    if s is None:
        pytest.fail("the crashloop scenario is not recorded")
    p = s.runner_pods[0]
    events = s.events(p.name)
    assert events and all(e.object == f"Pod/{p.name}" for e in events)
    assert any(e.reason == "BackOff" for e in events)


def test_recorded_inspects_of_the_beyond_scenarios():
    """The facts the beyond checks read from an inspect, on the lab's own recordings: the OOM kill and its limit, the
    restart policy, the trust store the runner names."""
    from blinkcheck.docker import beyond

    oom = docker("runner-oom").runners[0]
    assert (oom.status, oom.exit_code, oom.oom_killed, oom.memory_limit) == ("exited", 137, True, 16 * 1024**2)
    assert beyond.judge_oom("docker.runner.oom-killed", oom, None).summary == (
        f"{oom.label} was OOM-killed (exit code 137; memory limit 16 MB).")
    assert docker("restart-no").runners[0].restart_policy == "no"
    assert docker("healthy").runners[0].restart_policy in ("", "no")  # recorded before the lab set a policy
    assert docker("clock-skew").runners[0].restart_policy == "unless-stopped"
    assert docker("ca-missing").runners[0].cert_file == "/etc/blink-lab/missing-ca.pem"
