"""Before the runbook: can the suite talk to the Kubernetes API server, and may it read what the runbook reads?"""

import pytest

from blinkcheck.kubernetes.preconditions import judge_api, judge_permissions


@pytest.mark.condition("k8s.cluster.api-reachable")
def test_api_server_answers(k8s, record):
    """`kubectl version`: the API server of the chosen context answers, with these credentials."""
    record(judge_api(k8s.api))


@pytest.mark.condition("k8s.cluster.permissions")
def test_read_permissions(k8s, record):
    """SelfSubjectAccessReview for every read the checks make; a missing one blocks only the checks needing it."""
    record(judge_permissions(k8s.accesses, k8s.namespace_text, k8s.subject))
