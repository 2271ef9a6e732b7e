"""Beyond the runbook on Docker: the host and container causes behind "likely a firewall" and "debug the failed
runner" (issue 15). The host's own facts come through testinfra (the local host, or the host behind ssh://)."""

import pytest

from blinkcheck.catalog import DOCKER_CONTAINER_RUNNING
from blinkcheck.docker.beyond import (
    host_unavailable,
    judge_ca,
    judge_clock,
    judge_disk,
    judge_dns,
    judge_dockerd_proxy,
    judge_memory,
    judge_oom,
    judge_restart_policy,
    judge_service,
)
from blinkcheck.logs.judge import blink_host
from blinkcheck.model import CouldNotLook


def _host(docker_host_facts, spec, record):
    """The host's facts, or None when they cannot be had here (recorded: skipped, or not-evaluable with --host-checks
    on)."""
    host = docker_host_facts
    if host.unavailable or host.error:
        record(host_unavailable(record.condition_id, host, spec.host_checks == "on"))
        return None
    return host


@pytest.mark.condition("docker.host.disk-space")
def test_data_root_has_space(docker_host_facts, spec, record):
    """`df -h` / `df -i` of Docker's data root (DockerRootDir)."""
    if host := _host(docker_host_facts, spec, record):
        record(judge_disk(record.condition_id, host, spec.min_disk_free_bytes, spec.max_inodes_used_pct))


@pytest.mark.condition("docker.host.memory")
def test_host_memory(docker_facts, spec, record):
    """`docker info`: the memory of the engine's host."""
    record(judge_memory(record.condition_id, docker_facts.info, spec.min_memory_bytes, spec.docker_host))


@pytest.mark.condition("docker.host.service-enabled")
def test_docker_service_enabled(docker_host_facts, spec, record):
    """`systemctl is-enabled docker.service`, `systemctl is-active docker.service`."""
    if host := _host(docker_host_facts, spec, record):
        record(judge_service(record.condition_id, host, spec.host_checks == "on"))


@pytest.mark.condition("docker.host.dockerd-proxy")
def test_dockerd_has_the_runners_proxy(runner_containers, docker_facts, spec, record):
    for c in runner_containers:
        record(judge_dockerd_proxy(record.condition_id, c, docker_facts.info, spec.docker_host))


@pytest.mark.condition("docker.runner.oom-killed")
def test_runner_not_oom_killed(runner_containers, docker_facts, record):
    """`docker inspect`: State.OOMKilled; the host's memory, when `docker info` answers, shown beside "no limit"."""
    try:
        info = docker_facts.info
    except CouldNotLook:  # the inspect is what is judged: the host's memory is only shown
        info = None
    for c in runner_containers:
        record(judge_oom(record.condition_id, c, info))


@pytest.mark.condition("docker.runner.restart-policy")
def test_runner_restart_policy(runner_containers, record):
    for c in runner_containers:
        record(judge_restart_policy(record.condition_id, c))


@pytest.mark.condition("docker.runner.dns-config")
def test_runner_dns_config(runner_containers, docker_facts, spec, record):
    """`docker cp <container>:/etc/resolv.conf -`: read, nothing runs in the container."""
    for c in runner_containers:
        record(judge_dns(record.condition_id, c, docker_facts.container_files(c), blink_host(spec.blink_url)))


@pytest.mark.condition("docker.runner.ca-bundle")
def test_runner_ca_bundle(runner_containers, docker_facts, spec, record):
    """The runner's trust store (SSL_CERT_FILE, else Go's system paths), read as `docker cp` reads."""
    for c in runner_containers:
        record(judge_ca(record.condition_id, c, docker_facts.container_files(c), blink_host(spec.blink_url)))


@pytest.mark.condition("docker.runner.clock-skew")
def test_runner_clock(runner_containers, docker_facts, docker_probe, spec, record):
    """The Date header of Blink's answer to the egress probe, against the runner's clock."""
    if not spec.probe:
        pytest.skip("the egress probe is switched off (--probe off): Blink's clock is read from its answer")
    host = docker_facts.host if spec.host_checks != "off" else None
    service, where = (host.time_service, host.where) if host and not (host.unavailable or host.error) else ("", "")
    for c in runner_containers:
        if c.status != "running":
            record.blocked_by(DOCKER_CONTAINER_RUNNING, f"{c.label} is {c.status}: it is probed only while it runs.",
                              c.label, {"container_id": c.short_id, "container_name": c.name})  # fmt: skip
            continue
        record(judge_clock(record.condition_id, c, docker_probe.probe(c), spec.max_clock_skew_s,
                           blink_host(spec.blink_url), service, where))  # fmt: skip
