"""Docker API objects (`docker inspect`) -> facts: which containers are runners, their state in words and as a
`docker ps` table."""

from __future__ import annotations

import pytest

from blinkcheck.docker.facts import ContainerFacts, container_facts, describe_state, is_runner, state_table
from tests.unit.canned import SECRET, inspect


def test_facts_keep_env_names_never_values():
    facts = container_facts(inspect())
    assert facts.env_names == ("BLINK_RUNNER_GROUP_API_KEY", "PATH", "RUNNER_MODE")
    assert SECRET not in repr(facts)


@pytest.mark.parametrize(
    ("names", "image", "expected"),
    [
        (["/blink-runner"], "whatever:1", True),
        (["/blink-runner-1.0.995"], "whatever:1", True),
        (["/my-blink-runner"], "busybox:1", False),  # prefix, not substring
        (["/runner"], "blinkops/blink-runner:1.0.994", True),
        (["/runner"], "docker.io/blinkops/blink-runner:1.0.994", True),
        (["/runner"], "blinkops/blink-runner@sha256:abc", True),
        (["/runner"], "blinkops/blink-runner-fork:1", False),
        (["/other"], "registry:5000/blinkops/blink-runner:1", False),
    ],
)
def test_is_runner(names, image, expected):
    assert is_runner(names, image, "blink-runner") is expected


def test_container_facts_read_every_field_of_the_inspect():
    raw = inspect(status="restarting", exit_code=2, oom=True, restarts=7)
    raw["State"]["Error"] = "OCI runtime create failed"
    raw["Config"]["Tty"] = True
    raw["HostConfig"]["LogConfig"]["Type"] = "local"
    raw["Mounts"].append({"Type": "volume", "Source": "/var/lib/docker/volumes/x", "Destination": "/data"})
    assert container_facts(raw) == ContainerFacts(
        id="3f2a9c1b7d4e" + "0" * 52,
        name="blink-runner",
        image="blinkops/blink-runner:1.0.994",
        status="restarting",
        exit_code=2,
        oom_killed=True,
        restart_count=7,
        started_at="2026-11-28T10:00:00Z",
        finished_at="2026-11-28T11:00:00Z",
        error="OCI runtime create failed",
        env_names=("BLINK_RUNNER_GROUP_API_KEY", "PATH", "RUNNER_MODE"),
        mounts=(("/var/run/docker.sock", "/var/run/docker.sock"), ("/var/lib/docker/volumes/x", "/data")),
        log_driver="local",
        tty=True,
    )


def test_container_facts_of_a_sparse_inspect():
    """An engine that leaves fields out (older API versions, a container being removed): defaults, no crash."""
    assert container_facts({}) == ContainerFacts(id="", name="", image="", status="unknown")
    running = container_facts({"State": {"Running": True}, "Mounts": [{}]})
    assert running.status == "running" and running.mounts == (("", ""),) and running.tty is False
    assert container_facts({"State": {"Status": "exited", "Running": True}}).status == "exited"


def test_state_table_lines_up_and_shows_finished_only_when_not_running():
    a = container_facts(inspect("blink-runner", status="exited", exit_code=137, oom=True, restarts=3))
    b = container_facts(inspect("blink-runner-1.0.995", cid="9" * 64))
    assert state_table([a, b]).splitlines() == [
        "CONTAINER ID  NAME                  IMAGE                          STATUS   EXIT  OOM  RESTARTS  FINISHED" + " " * 12,
        "3f2a9c1b7d4e  blink-runner          blinkops/blink-runner:1.0.994  exited   137   yes  3         2026-11-28T11:00:00Z",
        "999999999999  blink-runner-1.0.995  blinkops/blink-runner:1.0.994  running  0     no   0         " + " " * 20,
    ]


def test_describe_state_of_each_engine_state():
    exited = container_facts(inspect(status="exited", exit_code=137, oom=True))
    assert describe_state(exited) == "exited with code 137 (OOM-killed) at 2026-11-28T11:00:00Z"
    assert describe_state(ContainerFacts("i", "n", "img", "exited", exit_code=3)) == "exited with code 3"
    restarting = container_facts(inspect(status="restarting", restarts=12, exit_code=2))
    assert describe_state(restarting) == "restarting (restart count 12, last exit code 2)"
    assert describe_state(container_facts(inspect(status="paused"))) == "paused"


def test_container_label_and_short_id():
    c = container_facts(inspect(cid="0123456789abcdef" * 4))
    assert (c.short_id, c.label) == ("0123456789ab", "container blink-runner (0123456789ab)")


def test_names_may_start_with_any_letter():
    """Only the leading "/" of the engine's name goes (a name may start with X, /, or anything a user chose)."""
    raw = inspect("X-runner")
    assert container_facts(raw).name == "X-runner"
    assert is_runner(["/X-runner"], "busybox:1", "X-runner")
