"""The deployment docs on Docker: the runner mounts the Docker socket."""

from __future__ import annotations

from dataclasses import replace

from blinkcheck.docker.deployment import judge_socket_mounted
from blinkcheck.docker.facts import container_facts
from blinkcheck.model import Outcome
from tests.unit.canned import inspect
from tests.unit.docker_objects import RUNNER


def test_socket_mounted():
    assert judge_socket_mounted("docker.runner.socket-mounted", container_facts(inspect())).outcome is Outcome.PASSED
    f = judge_socket_mounted("docker.runner.socket-mounted", container_facts(inspect(socket=False)))
    assert f.outcome is Outcome.FAILED and f.evidence[0].text == "(no mounts)"


def test_socket_is_judged_where_it_is_mounted_in_the_container_not_by_its_host_path():
    # Hand-made mounts: the lab binds the socket at the same path on both sides; a customer's host may keep it
    # elsewhere (rootless Docker: /run/user/1000/docker.sock), and what matters is where the runner sees it.
    base = container_facts(inspect())
    moved = replace(base, mounts=(("/run/user/1000/docker.sock", "/var/run/docker.sock"),))
    f = judge_socket_mounted("docker.runner.socket-mounted", moved)
    assert f.outcome is Outcome.PASSED and f.summary == f"{RUNNER} mounts /var/run/docker.sock."
    assert dict(f.values) == {"container_id": "3f2a9c1b7d4e", "container_name": "blink-runner"}
    elsewhere = replace(base, mounts=(("/var/run/docker.sock", "/tmp/docker.sock"), ("/srv/blink", "/blink")))
    f = judge_socket_mounted("docker.runner.socket-mounted", elsewhere)
    assert f.outcome is Outcome.FAILED and f.summary == f"{RUNNER} does not mount /var/run/docker.sock."
    assert [(e.title, e.source, e.text) for e in f.evidence] == [
        ("Mounts", RUNNER, "/var/run/docker.sock -> /tmp/docker.sock\n/srv/blink -> /blink")]
