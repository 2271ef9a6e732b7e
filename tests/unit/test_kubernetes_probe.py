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


# ------------------------------------------------------------------ the runner's clock, read right after Blink answered

CURL_SAID = "< HTTP/1.1 200 OK\n< Date: Wed, 02 Dec 2026 16:00:00 GMT\n< Content-Length: 2\n"


class Scripted:
    """KubernetesProbe._exec answered from a script (command name -> outcome, seconds it takes), on a fake monotonic
    clock; the commands exec'd, in order."""

    def __init__(self, answers: dict[str, tuple[ExecOutcome, float]]) -> None:
        self.answers, self.now = answers, 5000.0
        self.ran: list[str] = []

    def monotonic(self) -> float:
        return self.now

    def exec(self, p, container, cmd, budget):
        self.ran.append(cmd[0])
        outcome, took = self.answers[cmd[0]]
        self.now += took
        return outcome


HOW = "`kubectl exec -n blink blink-runner-7d9f8-abcde -c blink-runner -- date -u +%s`, 2.5s after the tool's answer (taken off)"


@pytest.mark.parametrize(
    ("answers", "ran", "clock_at", "clock_unread"),
    [
        # curl answers with Blink's Date; `date` answers 2.5 s later: the runner's clock at the answer is 2.5 s less
        ({"curl": (ExecOutcome(0, "200", CURL_SAID), 0.3), "date": (ExecOutcome(0, "1796227202\n", ""), 2.5)},
         ["curl", "date"], 1796227199.5, ""),
        ({"curl": (ExecOutcome(0, "200", CURL_SAID), 0.3), "date": (ExecOutcome(None, "", "", not_found=True), 0.2)},
         ["curl", "date"], 0.0, "the runner's container has no `date` to read its clock with (`date -u +%s`)"),
        # no Date to compare with: no second exec
        ({"curl": (ExecOutcome(0, "200", "< HTTP/1.1 200 OK\n"), 0.3)}, ["curl"], 0.0, ""),
        ({"curl": (ExecOutcome(7, "000", "curl: (7) Failed to connect"), 0.3)}, ["curl"], 0.0, ""),
        ({"curl": (ExecOutcome(None, "", "", not_found=True), 0.1), "wget": (ExecOutcome(None, "", "", not_found=True),
          0.1), "nc": (ExecOutcome(0, "", ""), 0.3)}, ["curl", "wget", "nc"], 0.0, ""),
        # the probe's deadline (--probe-timeout 10s + 3 x 5 s) spent by the tool: no time left for `date`
        ({"curl": (ExecOutcome(0, "200", CURL_SAID), 24.5)}, ["curl"], 0.0,
         "no time was left within the probe's deadline to read the runner's clock"),
    ],
    ids=["read", "no date", "no Date", "no answer", "nc", "deadline"],
)
def test_the_probe_reads_the_runners_clock_after_blinks_answer(fake_facts, monkeypatch, answers, ran, clock_at,
                                                               clock_unread):  # fmt: skip
    from types import SimpleNamespace

    import blinkcheck.kubernetes.probe as kprobe

    _, k8s = fake_facts
    script = Scripted(answers)
    monkeypatch.setattr(kprobe, "time", SimpleNamespace(monotonic=script.monotonic))
    probe = KubernetesProbe(k8s)
    monkeypatch.setattr(probe, "_exec", script.exec)
    pod = k8s.runner_pods()[0]
    r = probe.probe(pod)
    assert (script.ran, r.clock_at, r.clock_unread) == (ran, clock_at, clock_unread)
    assert r.clock_how == (HOW if clock_at else "")
    # Blink's readiness asked the same way reads no clock: only the probe of Blink's URL does
    script.ran.clear()
    again = probe.probe_url(pod, "https://app.blinkops.com/api/v1/api/readiness")
    assert ("date" in script.ran, again.clock_at) == (False, 0.0)
