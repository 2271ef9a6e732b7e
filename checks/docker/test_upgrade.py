"""Runbook: Runner Upgrade Failure / Docker, steps 2-4 (Docker upgrades do not use the blink-operator)."""

import pytest

from blinkcheck.docker.gather import NotARunner
from blinkcheck.docker.upgrade import judge_new_container, judge_not_a_runner, judge_upgrade_indicators
from blinkcheck.logs.judge import upgrade_lines


def _upgrades(runner_containers, docker_facts, catalog):
    for c in runner_containers:
        window = docker_facts.log_window(c)
        yield c, window, upgrade_lines(window, catalog.upgrade_patterns)


@pytest.mark.condition("docker.upgrade.indicators")
def test_upgrade_indicators(runner_containers, docker_facts, catalog, record):
    """Step 2: grep the logs for 'Creating new container with name' / 'Found existing container with name'."""
    for c, window, lines in _upgrades(runner_containers, docker_facts, catalog):
        record(judge_upgrade_indicators(record.condition_id, c, window, lines))


@pytest.mark.condition("docker.upgrade.new-container-healthy")
def test_upgraded_container_healthy(runner_containers, docker_facts, catalog, record):
    """Steps 3-4: locate the containers the upgrade lines name; they must exist and run."""
    judged = False
    for c, _, lines in _upgrades(runner_containers, docker_facts, catalog):
        if not lines:
            continue
        line = lines[-1]  # the latest attempt is the one that matters
        judged = True
        ref = line.container_id if line.kind == "found_existing" else line.name
        try:
            new = docker_facts.follow(ref, line.name)
        except NotARunner as other:
            record(judge_not_a_runner(record.condition_id, c, line, str(other)))
            continue
        window = docker_facts.log_window(new) if new and new.status != "running" else None
        record(judge_new_container(record.condition_id, c, line, new, window))
    if not judged:
        record.not_applicable("no runner logged an upgrade in the log window.")
