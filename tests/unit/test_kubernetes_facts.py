"""Kubernetes API objects (the JSON `kubectl get -o json` prints) -> facts, and operators grouped from them."""

from __future__ import annotations

import pytest

from blinkcheck.kubernetes.deployment import secret_refs_to_check
from blinkcheck.kubernetes.facts import OperatorFacts, parse_time
from blinkcheck.kubernetes.parse import (
    deployment_facts,
    group_operators,
    label_selector,
    pod_facts,
    selector_text,
    selects,
)
from blinkcheck.model import human
from tests.unit.kubernetes_objects import NOW, NS, deployment, operator, pod

# ------------------------------------------------------------------ facts from API JSON


def test_pod_facts_from_api_json():
    p = pod_facts(pod())
    assert (p.namespace, p.name, p.phase, p.ready, p.restarts) == (NS, "blink-runner-7d9f8-abcde", "Running", True, 0)
    assert p.status == "Running" and p.alive and p.has_run
    assert selects((("app", "blink-runner"),), p.labels)
    assert not selects((("app", "blink-operator"),), p.labels)
    assert not selects((), p.labels)  # an empty selector picks nothing here


def test_pod_without_container_statuses_has_not_run():
    p = pod_facts(pod(phase="Pending", no_status=True, conditions=[]))
    assert not p.has_run and not p.ready and p.containers[0].name == "blink-runner"


def test_selector_text():
    pairs = (("app", "blink-runner"), ("release", "blink-runner"))
    assert selector_text(pairs) == "app=blink-runner,release=blink-runner"


def test_deployment_secret_refs_from_env_envfrom_and_volumes():
    raw = deployment()
    tmpl = raw["spec"]["template"]["spec"]
    tmpl["containers"][0]["envFrom"] = [{"secretRef": {"name": "extra"}}]
    tmpl["volumes"] = [{"name": "s", "secret": {"secretName": "certs"}}]
    d = deployment_facts(raw)
    assert d.secret_refs == (("blink-runner-secret", "appKey"), ("extra", ""), ("certs", ""))
    assert secret_refs_to_check(d) == [("blink-runner-secret", "appKey")]
    assert secret_refs_to_check(None) == [("blink-runner-secret", "appKey")]
    other = deployment_facts(deployment(secret=("my-runner-key", "token")))
    assert secret_refs_to_check(other) == [("my-runner-key", "token")]


def test_time_and_human():
    assert parse_time("2026-11-28T12:00:00Z") == NOW
    assert parse_time("") is None and parse_time("yesterday") is None
    assert [human(s) for s in (0, 59, 60, 299, 300, 301, 3600, 3660, 90000)] == [
        "0s",
        "59s",
        "1m",
        "4m 59s",
        "5m",
        "5m 1s",
        "1h",
        "1h 1m",
        "1d 1h",
    ]


# ------------------------------------------------------------------ operators


def test_group_operators_from_deployments_and_pods():
    d = [deployment_facts(deployment()), operator().deployment]
    assert d[1] is not None
    pods = [pod_facts(pod()), *operator().pods, pod_facts(pod("blink-operator-bare", labels={"app": "x"}))]
    ops = group_operators([x for x in d if x], pods)
    assert [o.name for o in ops] == ["blink-operator-1.0.995", "blink-operator-bare"]
    assert [p.name for p in ops[0].pods] == ["blink-operator-1.0.995-5c7b9-xyz12"]
    assert ops[0].version == "1.0.995" and ops[1].deployment is None


@pytest.mark.parametrize(
    ("name", "labels", "image", "version"),
    [
        ("blink-operator-1.0.995", {}, "x:1", "1.0.995"),
        ("blink-operator", {"version": "2.0.1"}, "x:1", "2.0.1"),
        ("blink-operator", {}, "blinkops/blink-operator:1.0.996", "1.0.996"),
    ],
)
def test_operator_version(name, labels, image, version):
    d = deployment_facts(deployment(name, labels=labels, image=image, secret=None))
    assert OperatorFacts(name, NS, d).version == version


@pytest.mark.parametrize(
    ("selector", "query"),
    [
        ({"matchLabels": {"release": "r", "app": "a"}}, "app=a,release=r"),
        ({"matchLabels": {"app": "a"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["y", "x"]}]},
         "app=a,tier in (x,y)"),
        ({"matchExpressions": [{"key": "t", "operator": "NotIn", "values": ["x"]}, {"key": "e", "operator": "Exists"},
                               {"key": "legacy", "operator": "DoesNotExist"}]}, "t notin (x),e,!legacy"),
        ({"matchExpressions": [{"key": "t", "operator": "Near", "values": ["x"]}]}, ""),  # never more than it selects
        (None, ""),
    ],
)  # fmt: skip
def test_a_deployments_whole_selector_becomes_the_api_servers_label_selector(selector, query):
    raw = {"metadata": {"name": "d", "namespace": NS}, "spec": {"selector": selector}}
    assert label_selector(selector) == query == deployment_facts(raw).selector_query
