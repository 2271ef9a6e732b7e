"""Blink deploy docs: what a Kubernetes runner needs to work at all."""

import pytest

from blinkcheck.kubernetes.deployment import judge_secret, secret_refs_to_check
from blinkcheck.model import CouldNotLook


@pytest.mark.condition("k8s.runner.secret-present")
def test_runner_secret_present(kubernetes_facts, record):
    """`blink-runner-secret` with key `appKey` (or what the deployment reads): existence and key names only."""
    for ns in kubernetes_facts.namespaces:
        try:
            deployment = kubernetes_facts.runner_deployment(ns)
        except CouldNotLook:
            deployment = None  # only needed to learn the secret's name; the default is Blink's
        for name, key in secret_refs_to_check(deployment):
            record(judge_secret(record.condition_id, kubernetes_facts.secret(ns, name), key, deployment))
