"""Runbook: Runner Disconnected / Docker, steps 1-3."""

import pytest

from blinkcheck.blinkview import group_names, judge_group, judge_ready, judge_seen, readiness_measured
from blinkcheck.catalog import DOCKER_CONTAINER_RUNNING
from blinkcheck.docker.blink import local_runner
from blinkcheck.docker.disconnected import judge_container_exists, judge_container_running, judge_logs_readable
from blinkcheck.logs.judge import has_network_errors, judge_network_errors
from blinkcheck.probe.judge import judge_probe
from blinkcheck.probe.result import reached


@pytest.mark.condition("docker.disconnected.container-exists")
def test_runner_container_exists(runner_containers, spec, record):
    """Step 1: `docker ps -a | grep blink-runner`."""
    record(judge_container_exists(record.condition_id, runner_containers, spec.runner_name, spec.docker_host))


@pytest.mark.condition("docker.disconnected.container-running")
def test_runner_container_running(runner_containers, docker_facts, record):
    """Step 1: the STATUS column says Running."""
    any_running = any(c.status == "running" for c in runner_containers)
    for c in runner_containers:
        window = None if c.status == "running" else docker_facts.log_window(c)
        others = any_running and c.status != "running"
        record(judge_container_running(record.condition_id, c, window, others_running=others))


@pytest.mark.condition("docker.disconnected.logs-readable")
def test_runner_logs_readable(runner_containers, docker_facts, record):
    """Step 2: `docker logs <container_id>`."""
    for c in runner_containers:
        record(judge_logs_readable(record.condition_id, c, docker_facts.log_window(c)))


@pytest.mark.condition("docker.disconnected.no-network-errors")
def test_no_network_errors(runner_containers, docker_facts, docker_probe, catalog, spec, record):
    """Step 3: diagnose the error — failures reaching Blink in the logs."""
    for c in runner_containers:
        values = {"container_id": c.short_id, "container_name": c.name}
        window = docker_facts.log_window(c)
        # Errors: the egress probe says whether the path is open now (firewall or the runner's own configuration).
        probe = spec.probe and c.status == "running" and has_network_errors(window)
        probe_passed = reached(docker_probe.probe(c)) if probe else None
        record(judge_network_errors(record.condition_id, window, catalog, spec.blink_url, values,
                                    probe_passed))  # fmt: skip


@pytest.mark.condition("docker.disconnected.blink-reachable")
def test_blink_reachable_from_runner(runner_containers, docker_probe, spec, catalog, record):
    """Step 3: network communication to Blink, tried from the runner's own network namespace."""
    if not spec.probe:
        pytest.skip("the egress probe is switched off (--probe off)")
    for c in runner_containers:
        values = {"container_id": c.short_id, "container_name": c.name}
        if c.status != "running":
            record.blocked_by(DOCKER_CONTAINER_RUNNING,
                              f"{c.label} is {c.status}: its network namespace exists only while it runs.", c.label,
                              values)  # fmt: skip
            continue
        result = docker_probe.probe(c)
        record(judge_probe(record.condition_id, result, values, spec.probe_strict,
                           catalog.probe_layers))  # fmt: skip


@pytest.mark.condition("docker.disconnected.blink-status")
def test_blink_is_up(catalog, blink_view, record):
    """Step 3: verify Blink is up — a manual step in the production-alerts channel, with what the suite measured of
    Blink's readiness beside it."""
    record.manual_blink_status(catalog.site.get("status_channel", ""), readiness_measured(blink_view.readiness()))


@pytest.mark.condition("docker.blink.ready")
def test_blink_ready(blink_view, docker_facts, docker_probe, spec, record):
    """Step 3: verify Blink is up and running — its controller's readiness, asked from the suite's host and from
    each running runner container's network namespace (where the egress probe runs)."""
    running = lambda: [c for c in docker_facts.runner_containers if c.status == "running"]  # noqa: E731
    asked = blink_view.readiness_from(running, docker_probe, spec)
    record(judge_ready(record.condition_id, blink_view.readiness(), blink_view.url, asked))


@pytest.mark.condition("docker.blink.sees-runner")
def test_blink_sees_runner(runner_containers, blink_view, spec, record):
    """Step 3 as Blink sees it: each running runner container is one of Blink's runners, recently seen."""
    local = [local_runner(c, spec.runner_name) for c in runner_containers]
    runners, now = blink_view.runners_for(record.condition_id), blink_view.now()
    for r in local:
        record(judge_seen(record.condition_id, r, runners, now, spec.blink_stale_s))
    if not local:
        record.nothing_to_judge("no runner here")


@pytest.mark.condition("docker.blink.group-available")
def test_blink_group_available(runner_containers, blink_view, spec, record):
    """Blink's view: the runner group of this host's runners has available runners."""
    local = [local_runner(c, spec.runner_name) for c in runner_containers]
    runners, groups = blink_view.runners_for(record.condition_id), blink_view.groups_for(record.condition_id)
    names = group_names(local, runners)
    for name in names:
        record(judge_group(record.condition_id, name, groups))
    if not names:
        record.nothing_to_judge("Blink lists none of the runners that run here, so no group of theirs")
