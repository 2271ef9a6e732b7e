"""The Kubernetes egress probe: the exec's status channel, and what happens without the exec grant (a fake API
server, tests/unit/fake_kube_api.py)."""

from __future__ import annotations

import pytest

from blinkcheck.kubernetes.preconditions import judge_permissions
from blinkcheck.kubernetes.probe import ExecOutcome, KubernetesProbe
from blinkcheck.model import Outcome
from tests.unit.fake_kube_api import KUBECONFIG, FakeApi, spec_for
from tests.unit.kubernetes_objects import CATALOG

# ------------------------------------------------------------------ the egress probe (exec)


@pytest.mark.parametrize(
    ("status", "rc", "not_found"),
    [
        ("", 0, False),
        ('{"status":"Success"}', 0, False),
        (
            '{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"28"}]}}',
            28,
            False,
        ),
        ('{"status":"Failure","message":"exec: \\"curl\\": executable file not found in $PATH"}', None, True),
        (
            '{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"127"}]}}',
            127,
            True,
        ),
    ],
)
def test_exec_status_channel(status, rc, not_found):
    out = ExecOutcome.from_status(status, "", "")
    assert (out.rc, out.not_found) == (rc, not_found)


@pytest.mark.parametrize("fake_facts", [("pods/exec",)], indirect=True)
def test_no_exec_grant_with_probe_auto_is_a_choice_not_a_problem(fake_facts):
    """rbac/role.yaml alone (no create pods/exec), --probe auto: permissions pass, the probe cannot run here
    and says which Role to apply; no exec is tried."""
    api, k8s = fake_facts
    f = judge_permissions("k8s.cluster.permissions", k8s.accesses, "blink", k8s.subject)
    assert f.outcome is Outcome.PASSED, f.summary
    assert "Not granted, by choice: create pods/exec in namespace blink" in f.summary
    assert "optional: skipped without it" in f.evidence[0].text
    result = KubernetesProbe(k8s).probe(k8s.runner_pods()[0])
    assert "may not exec into pods in blink" in result.unavailable
    assert "kubectl apply -f rbac/role-probe-exec.yaml" in result.enable
    assert "--verb=create --resource=pods/exec" in result.enable and "--user=alice" in result.enable
    assert not any("/exec" in p for _, p in api.requests), "an exec the review denied must not be tried"


def test_no_exec_grant_with_probe_on_is_missing_permission(tmp_path):
    from blinkcheck.kubernetes.gather import KubernetesFacts
    from blinkcheck.model import CouldNotLook
    from blinkcheck.redact import Redactor

    api = FakeApi(deny=("pods/exec",))
    try:
        path = tmp_path / "kubeconfig"
        path.write_text(KUBECONFIG.replace("https://127.0.0.1:1", api.url))
        k8s = KubernetesFacts(spec_for(tmp_path, kubeconfig=str(path), probe_strict=True), Redactor(), CATALOG)
        assert judge_permissions("k8s.cluster.permissions", k8s.accesses, "blink", k8s.subject).outcome is Outcome.FAILED
        with pytest.raises(CouldNotLook) as err:
            KubernetesProbe(k8s).probe(k8s.runner_pods()[0])
        assert "create pods/exec" in err.value.reason and err.value.because_of == "k8s.cluster.permissions"
    finally:
        api.close()
