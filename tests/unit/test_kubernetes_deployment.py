"""The runner Secret on Kubernetes: present, empty, missing; values never kept."""

from __future__ import annotations

from blinkcheck.kubernetes.deployment import judge_secret
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
