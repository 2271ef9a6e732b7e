"""Runbook: Runner Upgrade Failure / Docker, steps 2-4 (Docker upgrades do not use the blink-operator)."""

import pytest

from blinkcheck.blinkview import judge_version
from blinkcheck.docker.blink import local_runner
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


@pytest.mark.condition("docker.blink.version")
def test_blink_reports_the_running_version(runner_containers, blink_view, spec, record):
    """Step 4 as Blink sees it: the version Blink reports is the image the runner runs (after an upgrade, the new)."""
    local = [local_runner(c, spec.runner_name) for c in runner_containers]
    runners = blink_view.runners_for(record.condition_id)
    for r in local:
        record(judge_version(record.condition_id, r, runners))
    if not local:
        record.nothing_to_judge("no runner here")
