"""Blink deploy docs: what a Docker runner needs to work at all."""

import pytest

from blinkcheck.docker.deployment import judge_socket_mounted


@pytest.mark.condition("docker.runner.socket-mounted")
def test_docker_socket_mounted(runner_containers, record):
    for c in runner_containers:
        record(judge_socket_mounted(record.condition_id, c))
