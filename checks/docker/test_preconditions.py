"""Before the runbook: can the suite talk to the Docker engine at all?"""

import pytest

from blinkcheck.docker.preconditions import judge_daemon


@pytest.mark.condition("docker.host.daemon-reachable")
def test_daemon_reachable(docker_facts, record):
    record(judge_daemon(record.condition_id, docker_facts.engine))
