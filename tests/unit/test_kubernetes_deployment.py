"""The runner Secret on Kubernetes: present, empty, missing; values never kept."""

from __future__ import annotations

import pytest

from blinkcheck.kubernetes.deployment import judge_secret, secret_refs_to_check
from blinkcheck.kubernetes.facts import SecretFacts
from blinkcheck.kubernetes.parse import (
    deployment_facts,
)
from blinkcheck.model import Outcome
from tests.unit.kubernetes_objects import NS, deployment, remedy

# ------------------------------------------------------------------ secret, permissions, API


def test_secret_variants_never_hold_values():
    d = deployment_facts(deployment())
    missing = judge_secret("k8s.runner.secret-present", SecretFacts(NS, "blink-runner-secret", False), "appKey", d)
    assert missing.outcome is Outcome.FAILED and "does not exist" in missing.summary
    assert "`kubectl create secret generic blink-runner-secret -n blink --from-literal='appKey=KEY'`" in remedy(missing)
    no_key = judge_secret("k8s.runner.secret-present", SecretFacts(NS, "blink-runner-secret", True, ("other",)), "appKey", d)
    assert no_key.outcome is Outcome.FAILED and "no key appKey (keys: other)" in no_key.summary
    empty = judge_secret("k8s.runner.secret-present", SecretFacts(NS, "blink-runner-secret", True, ("appKey",), ("appKey",)), "appKey", d)
    assert empty.outcome is Outcome.FAILED and "empty" in empty.summary
    ok = judge_secret("k8s.runner.secret-present", SecretFacts(NS, "blink-runner-secret", True, ("appKey",)), "appKey", d)
    assert ok.outcome is Outcome.PASSED and "read by deployment blink-runner" in ok.summary


@pytest.mark.parametrize(
    ("env", "env_from", "volumes", "checked"),
    [
        ([("blink-runner-secret", "appKey")], [], [], [("blink-runner-secret", "appKey")]),
        ([("my-runner-key", "token"), ("my-runner-key", "token"), ("other", "k")], [], [],
         [("my-runner-key", "token"), ("other", "k")]),  # each key once, in the template's order
        # Read whole (envFrom, a volume): no key to name, so Blink's documented default is checked.
        ([], ["blink-runner-secret"], [], [("blink-runner-secret", "appKey")]),
        ([], ["my-runner-env"], ["my-runner-files"], [("blink-runner-secret", "appKey")]),
        ([], ["my-runner-env"], [], [("blink-runner-secret", "appKey")]),
        ([("my-runner-key", "token")], ["blink-runner-secret"], [], [("my-runner-key", "token")]),
    ],
    ids=["default", "own-secret-keys", "envfrom-default", "whole-secrets", "envfrom-other", "key-and-envfrom"],
)
def test_the_secret_keys_checked_are_those_the_runner_reads_by_key(env, env_from, volumes, checked):
    raw = deployment(secret=None)
    spec = raw["spec"]["template"]["spec"]
    spec["containers"][0]["env"] = [{"name": f"E{i}", "valueFrom": {"secretKeyRef": {"name": n, "key": k}}}
                                    for i, (n, k) in enumerate(env)]  # fmt: skip
    spec["containers"][0]["envFrom"] = [{"secretRef": {"name": n}} for n in env_from]
    spec["volumes"] = [{"name": n, "secret": {"secretName": n}} for n in volumes]
    assert secret_refs_to_check(deployment_facts(raw)) == checked


@pytest.mark.parametrize(
    ("keys", "shown"),
    [((), "(none)"), (("other",), "other"), (("token", "url"), "token, url")],
)
def test_a_secret_without_the_key_names_the_keys_it_has_never_their_values(keys, shown):
    d = deployment_facts(deployment())
    f = judge_secret("k8s.runner.secret-present", SecretFacts(NS, "blink-runner-secret", True, keys), "appKey", d)
    assert (f.condition_id, f.outcome, f.variant) == ("k8s.runner.secret-present", Outcome.FAILED, "no-key")
    assert f.object == "secret blink/blink-runner-secret"
    assert f.summary == f"Secret blink-runner-secret in blink has no key appKey (keys: {shown})."
    (ev,) = f.evidence
    assert (ev.title, ev.text, ev.source) == ("Secret keys (values never read into results)", shown,
                                              "secret blink/blink-runner-secret")  # fmt: skip
