"""The Kubernetes gatherer against a fake API server (tests/unit/fake_kube_api.py): each kind listed once, logs
bounded, Secret values registered, refusals named, endless lists bounded, secrets primed first; and
rbac/role.yaml grants exactly what the gatherer reads."""

from __future__ import annotations

from typing import Any

import pytest

from blinkcheck.kubernetes.preconditions import judge_permissions
from blinkcheck.model import Outcome
from tests.unit.fake_kube_api import KUBECONFIG, EndlessListApi, spec_for
from tests.unit.kubernetes_objects import CATALOG

# ------------------------------------------------------------------ rbac/ and the client


def test_rbac_role_grants_exactly_what_the_checks_read():
    """rbac/role.yaml is derived from the reads the gatherer makes (blinkcheck.kubernetes.reads.READS)."""
    from pathlib import Path

    import yaml

    from blinkcheck.kubernetes.reads import READS

    root = Path(__file__).resolve().parents[2] / "rbac"

    def rules(name: str) -> list[dict[str, Any]]:
        docs = list(yaml.safe_load_all((root / name).read_text()))
        return [r for d in docs if d["kind"] in ("Role", "ClusterRole") for r in d["rules"]]

    read_only = rules("role.yaml")
    exec_rules = rules("role-probe-exec.yaml")
    for r in READS:
        resource = r.resource + (f"/{r.subresource}" if r.subresource else "")
        pool = exec_rules if r.key == "exec" else read_only
        assert any(
            r.group in rule["apiGroups"] and resource in rule["resources"] and r.verb in rule["verbs"] for rule in pool
        ), f"rbac/ does not grant {r.verb} {resource} ({r.group or 'core'})"
    for rule in read_only:  # read-only means it
        assert set(rule["verbs"]) <= {"get", "list"}, rule
    granted = {res for rule in read_only for res in rule["resources"]}
    needed = {r.resource + (f"/{r.subresource}" if r.subresource else "") for r in READS}
    assert granted <= needed, f"rbac/role.yaml grants more than the checks read: {granted - needed}"


def test_gatherer_lists_each_kind_once_and_bounds_logs(fake_facts):
    api, k8s = fake_facts
    assert k8s.api_server.reachable and k8s.namespaces == ("blink",)
    pods = k8s.runner_pods()
    assert [p.name for p in pods] == ["blink-runner-7d9f8-abcde"]
    k8s.runner_pods(), k8s.operators, k8s.deployments, k8s.hpa_for(k8s.runner_deployment("blink"))  # again
    window = k8s.log_window(pods[0])
    assert window.lines[-1].endswith('"dial tcp: i/o timeout"') and window.previous_lines  # restarted: previous too
    k8s.log_window(pods[0])
    gets = [p for m, p in api.requests if m == "GET"]
    assert sum(p.startswith("/api/v1/namespaces/blink/pods?") for p in gets) == 1
    assert sum(p.startswith("/apis/apps/v1/namespaces/blink/deployments?") for p in gets) == 1
    assert sum("horizontalpodautoscalers" in p for p in gets) == 1
    logs = [p for p in gets if "/log?" in p]
    # The previous container first (older), then the current one; each the whole window, with timestamps.
    assert len(logs) == 2 and all(x in logs[1] for x in ("tailLines=2000", "sinceSeconds=3600", "timestamps=true"))
    assert "previous=true" in logs[0] and "limitBytes" not in logs[1]


def test_gatherer_keeps_secret_key_names_and_registers_values(fake_facts):
    api, k8s = fake_facts
    s = k8s.secret("blink", "blink-runner-secret")
    assert (s.found, s.keys, s.empty_keys) == (True, ("appKey", "x"), ("x",))
    assert "fake-app-key-0123456789" in k8s.redactor.values and api.secret_value in k8s.redactor.values
    assert "fake-app-key" not in repr(s) and api.secret_value not in repr(s)


@pytest.mark.parametrize("fake_facts", [("pods/log",)], indirect=True)
def test_gatherer_refuses_only_what_is_denied_naming_verb_and_resource(fake_facts):
    from blinkcheck.model import CouldNotLook

    api, k8s = fake_facts
    pods = k8s.runner_pods()  # allowed
    with pytest.raises(CouldNotLook) as err:
        k8s.log_window(pods[0])
    assert err.value.because_of == "k8s.cluster.permissions"
    assert "missing permission: get pods/log in namespace blink" in err.value.reason
    assert "--user=alice" in err.value.how_to_fix
    assert not any("/log?" in p for _, p in api.requests), "a read the review denied must not be tried"
    f = judge_permissions("k8s.cluster.permissions", k8s.accesses, "blink", k8s.subject)
    assert f.outcome is Outcome.FAILED and "get pods/log" in f.summary


def test_a_list_whose_continue_token_never_ends_is_bounded(tmp_path):
    import time

    from blinkcheck.kubernetes.gather import MAX_PAGES, KubernetesFacts
    from blinkcheck.model import CouldNotLook
    from blinkcheck.redact import Redactor

    api = EndlessListApi()
    try:
        path = tmp_path / "kubeconfig"
        path.write_text(KUBECONFIG.replace("https://127.0.0.1:1", api.url))
        k8s = KubernetesFacts(spec_for(tmp_path, kubeconfig=str(path)), Redactor(), CATALOG)
        started = time.monotonic()
        with pytest.raises(CouldNotLook) as err:
            k8s.runner_pods()
        assert time.monotonic() - started < 30
    finally:
        api.close()
    assert "did not end" in err.value.reason and "continue" in err.value.reason
    pages = [p for m, p in api.requests if p.startswith("/api/v1/namespaces/blink/pods?")]
    assert len(pages) == MAX_PAGES


def test_priming_registers_the_secret_before_any_check(fake_facts):
    _api, k8s = fake_facts
    assert k8s.prime_secrets() == []
    assert "fake-app-key-0123456789" in k8s.redactor.values and not k8s.redactor.strict
    assert k8s.redactor("runner said key fake-app-key-0123456789") == "runner said key [REDACTED]"


@pytest.mark.parametrize("fake_facts", [("secrets",)], indirect=True)
def test_priming_without_get_secrets_turns_strict_and_says_so(fake_facts):
    api, k8s = fake_facts
    notes = k8s.prime_secrets()
    assert k8s.redactor.strict
    assert len(notes) == 1 and "blink/blink-runner-secret could not be read" in notes[0]
    assert "stricter redaction" in notes[0] and "missing permission: get secrets" in notes[0]
    assert not any("/secrets/" in p for _, p in api.requests)
