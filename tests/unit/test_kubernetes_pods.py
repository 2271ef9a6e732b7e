"""The kubectl-style evidence tables (pods, deployments, events) exactly as the report prints them, and a pod's
outcome (passed, warning, failed) at the edges of the startup grace, the OOM kill and the restart count."""

from __future__ import annotations

import pytest

from blinkcheck.kubernetes.facts import EventFacts
from blinkcheck.kubernetes.parse import deployment_facts, pod_facts
from blinkcheck.kubernetes.pods import _pod_outcome, deployment_table, events_text, pod_table
from blinkcheck.model import Outcome
from tests.unit import recorded
from tests.unit.kubernetes_objects import NOW, container, deployment, pod

# ------------------------------------------------------------------ tables


def test_pod_and_deployment_tables_of_the_labs_hpa_scenario():
    s = recorded.kubernetes("hpa")
    assert pod_table(s.pods, s.now) == (
        "NAMESPACE  NAME                           READY  STATUS   RESTARTS  AGE  NODE\n"
        "blink      blink-runner-6975d47475-6lh54  1/1    Running  0         4s   vm\n"
        "blink      blink-runner-6975d47475-btp2c  1/1    Running  0         4s   vm\n"
        "blink      blink-runner-6975d47475-s8qt8  0/1    Error    1         9s   vm"
    )
    assert deployment_table(s.deployments, s.now) == (
        "NAMESPACE  NAME          READY  UP-TO-DATE  AVAILABLE  AGE\n"
        "blink      blink-runner  2/3    3           2          9s"
    )


def test_tables_say_what_the_api_did_not():
    """A pod not yet scheduled has no node; an object without a readable creation time has no age."""
    unscheduled = pod("blink-runner-7d9f8-a", phase="Pending", containers=[
        container("waiting", "ContainerCreating", ready=False),
        container("running", ready=True, restarts=3, name="proxy"),
    ], age=3 * 3600 + 120)  # fmt: skip
    del unscheduled["spec"]["nodeName"]
    undated = pod("blink-runner-7d9f8-b")
    undated["metadata"]["creationTimestamp"] = "not a time"
    assert pod_table([pod_facts(unscheduled), pod_facts(undated)], NOW) == (
        "NAMESPACE  NAME                  READY  STATUS             RESTARTS  AGE    NODE\n"
        "blink      blink-runner-7d9f8-a  1/2    ContainerCreating  3         3h 2m  <none>\n"
        "blink      blink-runner-7d9f8-b  1/1    Running            0         ?      node0"
    )
    undated_deployment = deployment(replicas=3, ready=1, age=90000)
    undated_deployment["metadata"]["creationTimestamp"] = ""
    rows = deployment_table([deployment_facts(deployment(replicas=3, ready=1, age=90000)),
                             deployment_facts(undated_deployment)], NOW)  # fmt: skip
    assert rows == (
        "NAMESPACE  NAME          READY  UP-TO-DATE  AVAILABLE  AGE\n"
        "blink      blink-runner  1/3    3           1          1d 1h\n"
        "blink      blink-runner  1/3    3           1          ?"
    )


def test_events_of_the_labs_crashloop_pod_oldest_first():
    s = recorded.kubernetes("crashloop")
    events = s.events(s.pods[0].name)
    assert [e.reason for e in events][:2] == ["Scheduled", "MissingClusterDNS"]  # the API's order is not by time
    text = events_text(events)
    assert text.splitlines()[0] == "LAST SEEN                    TYPE     REASON             COUNT  MESSAGE"
    assert [line.split()[2] for line in text.splitlines()[1:]] == [
        "Scheduled", "Pulled", "Created", "Started", "MissingClusterDNS", "BackOff"]  # fmt: skip
    assert text.splitlines()[-1] == (
        "2026-12-02T09:31:32Z         Warning  BackOff            3      Back-off restarting failed container "
        "blink-runner in pod blink-runner-58f94c9694-vb7d2_blink(825e25fd-2756-4525-8ae6-85760d2c37f4)"
    )


def test_events_keep_the_newest_up_to_the_limit():
    events = [EventFacts("Normal", f"R{i}", f"message {i}", count=i, last_seen=f"2026-11-28T11:{i:02}:00Z")
              for i in (5, 1, 30, 2)]  # fmt: skip
    assert events_text(events, limit=2) == (
        "LAST SEEN             TYPE    REASON  COUNT  MESSAGE\n"
        "2026-11-28T11:05:00Z  Normal  R5      5      message 5\n"
        "2026-11-28T11:30:00Z  Normal  R30     30     message 30"
    )
    assert len(events_text(events * 10).splitlines()) == 1 + 20  # the default limit: the 20 newest
    assert events_text(None) == "(events could not be read)"
    assert events_text([]) == "(no events)"


# ------------------------------------------------------------------ a pod's outcome


@pytest.mark.parametrize(
    ("raw", "outcome"),
    [
        (pod(), Outcome.PASSED),
        (pod(deleting=True), Outcome.WARNING),
        (pod(containers=[container(ready=False, started_ago=59)]), Outcome.WARNING),
        (pod(containers=[container(ready=False, started_ago=60)]), Outcome.FAILED),
        (pod(containers=[container(ready=False, started_ago=10, restarts=1)]), Outcome.FAILED),
        (pod(phase="Pending", containers=[container(ready=False, started_ago=10)]), Outcome.FAILED),
        # the newest start decides: a second container just started
        (pod(containers=[container(ready=False, started_ago=3600), container(ready=False, started_ago=5, name="b")]),
         Outcome.WARNING),
        (pod(containers=[container(restarts=1, last_finished_ago=3599, last_reason="OOMKilled", last_exit=137)]), Outcome.FAILED),
        (pod(containers=[container(restarts=1, last_finished_ago=3600, last_reason="OOMKilled", last_exit=137)]), Outcome.WARNING),
        # the newest OOM kill decides, another container's later exit does not
        (pod(containers=[container(restarts=1, last_finished_ago=7200, last_reason="OOMKilled", last_exit=137),
                         container(restarts=1, last_reason="Error", last_exit=1, last_finished_ago=60, name="b")]),
         Outcome.WARNING),
        (pod(containers=[container(restarts=4, last_reason="Error", last_exit=1, last_finished_ago=60)]),
         Outcome.PASSED),
        (pod(containers=[container(restarts=5, last_reason="Error", last_exit=1, last_finished_ago=3599)]),
         Outcome.FAILED),
        (pod(containers=[container(restarts=5, last_reason="Error", last_exit=1, last_finished_ago=3600)]),
         Outcome.WARNING),
        # restarts summed over containers; the newest exit of any container decides
        (pod(containers=[container(restarts=3, last_reason="Error", last_exit=1, last_finished_ago=7200),
                         container(restarts=2, last_reason="Error", last_exit=1, last_finished_ago=60, name="b")]),
         Outcome.FAILED),
        (pod(containers=[container(restarts=5)]), Outcome.FAILED),  # no last exit time: not known to be old
    ],
)  # fmt: skip
def test_pod_outcome(raw, outcome):
    assert _pod_outcome(pod_facts(raw), NOW) is outcome
