"""Before the runbook: can the suite talk to the Kubernetes API server, and may it read what the runbook reads?"""

import pytest

from blinkcheck.kubernetes.preconditions import judge_api, judge_permissions


@pytest.mark.condition("k8s.cluster.api-reachable")
def test_api_server_answers(kubernetes_facts, record):
    """`kubectl version`: the API server of the chosen context answers, with these credentials."""
    record(judge_api(record.condition_id, kubernetes_facts.api_server))


@pytest.mark.condition("k8s.cluster.permissions")
def test_read_permissions(kubernetes_facts, record):
    """SelfSubjectAccessReview for every read the checks make; a missing one blocks only the checks needing it."""
    facts = kubernetes_facts
    record(judge_permissions(record.condition_id, facts.accesses, facts.namespace_text, facts.subject))
