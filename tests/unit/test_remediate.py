"""--remediate: the plan from the results (pure), the runbook's conditions on each action (a running container or
operator is left alone), the permission asked first, stop at the first failure, the Role that grants exactly the
writes, and what the reports say."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from blinkcheck.catalog import CatalogError, load_catalog
from blinkcheck.docker.facts import ContainerFacts
from blinkcheck.docker.remediate import ACTIONS as DOCKER_ACTIONS
from blinkcheck.docker.remediate import restart_verdict
from blinkcheck.kubernetes.remediate import WRITE, WRITES, KubernetesRemedies, rollout_state
from blinkcheck.kubernetes.upgrade import Wait, judge_operator_state, judge_operator_stuck
from blinkcheck.model import Finding, Outcome
from blinkcheck.remediate import perform as P
from blinkcheck.remediate.plan import Step, plan
from blinkcheck.report.remediation import remediation_html, text_lines
from blinkcheck.results import CheckResult
from tests.unit.kubernetes_objects import NOW, operator

ROOT = Path(__file__).resolve().parents[2]
CATALOG = load_catalog()
SCHEMA = json.loads((ROOT / "blinkcheck" / "results.schema.json").read_text())


def result(f: Finding, platform_values: dict[str, str] | None = None) -> CheckResult:
    """A result as the run builds it (blinkcheck.results.build_result): the finding's variant and values kept."""
    cond = CATALOG[f.condition_id]
    return CheckResult(cond, f.outcome, CATALOG.sections[cond.section], f.object, f.summary, "", (), (), f.because_of,
                       "", "checks/x.py::t", 0.1, variant=f.variant, values={**(platform_values or {}), **f.values})


RUNNING = "docker.disconnected.container-running"
NEW = "docker.upgrade.new-container-healthy"
STUCK = "k8s.upgrade.operator-stuck"
HANDOFF = "k8s.upgrade.operator-handoff"
STATE = "k8s.upgrade.operator-state"
ID = "3f2a9c1b7d4e"


def stopped_runner() -> CheckResult:
    return result(Finding(RUNNING, Outcome.FAILED, "stopped", f"container blink-runner ({ID})",
                          values={"container_id": ID, "container_name": "blink-runner", "state": "exited (0)"}))


def stuck(wait_s: float = 60) -> CheckResult:
    before = operator(ready=False, state="waiting", reason="CrashLoopBackOff", restarts=4)
    f = judge_operator_stuck(STUCK, before, before, Wait(wait_s, wait_s, 3, False), "blink-runner", NOW)
    return result(f)


# ------------------------------------------------------------------ the plan


def test_a_stopped_runner_container_gets_the_runbooks_restart_command_filled():
    [step] = plan(CATALOG, [stopped_runner()])
    assert step.kind == "action" and step.text == f"docker container restart {ID}"
    assert step.object == f"container blink-runner ({ID})" and step.because == (RUNNING,)
    assert step.runbook_step == "Upgrade Failure 4" and not step.missing


def test_a_failed_upgrade_restarts_the_upgraded_container_then_the_ui_upgrade_is_manual():
    f = Finding(NEW, Outcome.FAILED, "failed", "container blink-runner (aaaaaaaaaaaa)", values={
        "container_id": "aaaaaaaaaaaa", "container_name": "blink-runner", "new_container_id": "bbbbbbbbbbbb",
        "new_container_name": "blink-runner-1.0.995", "version": "1.0.995"})  # fmt: skip
    restart, ui = plan(CATALOG, [result(f)])
    assert restart.text == "docker container restart bbbbbbbbbbbb" and "blink-runner-1.0.995" in restart.object
    assert ui.kind == "manual" and "3-dot menu" in ui.text and ui.object == "the Blink UI"


def test_a_stuck_operator_after_the_wait_plans_steps_4_to_7_in_runbook_order_restart_once():
    handoff = result(Finding(HANDOFF, Outcome.FAILED, "handoff", "pod blink/blink-runner-x", values={
        "deployment": "blink-runner", "namespace": "blink", "version": "1.0.995"}))  # fmt: skip
    steps = plan(CATALOG, [handoff, stuck()])
    assert [s.key for s in steps] == ["k8s-delete-operator", "k8s-restart-runner", "k8s-manual-upgrade", "k8s-rerun"]
    delete, restart, ui, rerun = steps
    assert delete.text == "kubectl delete deployment blink-operator-1.0.995 -n blink" and delete.because == (STUCK,)
    assert restart.text == "kubectl rollout restart deployment blink-runner -n blink"
    assert set(restart.because) == {HANDOFF, STUCK}  # asked for twice, planned once
    assert "select Update" in ui.text and "kubectl logs -f deployment/blink-operator-1.0.995 -n blink" in rerun.text


def test_no_delete_before_the_wait_and_a_running_operator_is_left_alone():
    assert plan(CATALOG, [stuck(wait_s=0)]) == []  # --operator-wait 0: a warning, still pending
    running = judge_operator_state(STATE, [operator(ready=True, age=60)], "blink", NOW, 300)
    [hold] = plan(CATALOG, [result(running)])
    assert hold.kind == "hold" and hold.object == "deployment blink/blink-operator-1.0.995"
    assert "do nothing, wait for it to complete" in hold.text
    down = judge_operator_state(STATE, [operator(ready=False, state="waiting", reason="CrashLoopBackOff")], "blink",
                                NOW, 300)  # fmt: skip
    assert plan(CATALOG, [result(down)]) == []  # not-running: the operator-stuck check decides, after the wait


def test_passed_and_blocked_results_plan_nothing():
    ok = result(Finding(RUNNING, Outcome.PASSED, "runs", values={"container_id": ID}))
    blocked = result(Finding(STUCK, Outcome.BLOCKED, "blocked", because_of="k8s.cluster.api-reachable"))
    assert plan(CATALOG, [ok, blocked]) == []


def test_a_value_without_its_shape_is_never_put_into_a_command_and_the_step_is_refused():
    bad = result(Finding(RUNNING, Outcome.FAILED, "stopped", values={"container_id": "x; rm -rf /"}))
    [step] = plan(CATALOG, [bad])
    assert step.missing == ("container_id",) and "rm -rf" not in step.text.split("\n")[0]
    rem = P.perform_all([step], {"docker": Recorder()})
    assert rem.records[0].status == P.REFUSED and "{container_id}" in rem.records[0].detail


# ------------------------------------------------------------------ performing


class Recorder:
    """A performer that records what it was asked to do; `fail` fails that step, `refuse` refuses those keys."""

    def __init__(self, fail: str = "", refuse: tuple[str, ...] = ()) -> None:
        self.done: list[str] = []
        self.fail = fail
        self.refuse = refuse

    def refusals(self, steps: Sequence[Step]) -> dict[int, str]:
        return {i: f"refused: grant {s.key}" for i, s in enumerate(steps) if s.key in self.refuse}

    def perform(self, step: Step) -> tuple[str, str]:
        self.done.append(step.key)
        return (P.FAILED, "it broke") if step.key == self.fail else (P.DONE, "ok")


def k8s_steps() -> list[Step]:
    handoff = result(Finding(HANDOFF, Outcome.FAILED, "handoff", values={"deployment": "blink-runner",
                                                                         "namespace": "blink", "version": "1.0.995"}))
    return plan(CATALOG, [stuck(), handoff])


def test_steps_are_performed_one_at_a_time_each_with_its_time_manual_ones_never():
    r = Recorder()
    rem = P.perform_all(k8s_steps(), {"kubernetes": r})
    assert r.done == ["k8s-delete-operator", "k8s-restart-runner"]
    assert [x.status for x in rem.records] == [P.DONE, P.DONE, P.MANUAL, P.MANUAL]
    assert all(x.started_at for x in rem.records[:2]) and not rem.records[2].started_at
    assert rem.performed_any


def test_the_first_step_that_fails_stops_the_rest():
    r = Recorder(fail="k8s-delete-operator")
    rem = P.perform_all(k8s_steps(), {"kubernetes": r})
    assert r.done == ["k8s-delete-operator"]
    assert [x.status for x in rem.records[:2]] == [P.FAILED, P.NOT_RUN]
    assert "the runbook stops there" in rem.records[1].detail


def test_a_refused_step_means_nothing_is_done_and_each_refusal_names_its_grant():
    r = Recorder(refuse=("k8s-delete-operator", "k8s-restart-runner"))
    rem = P.perform_all(k8s_steps(), {"kubernetes": r})
    assert r.done == []
    assert [x.status for x in rem.records[:2]] == [P.REFUSED, P.REFUSED]
    assert "grant k8s-restart-runner" in rem.records[1].detail and not rem.performed_any
    half = P.perform_all(k8s_steps(), {"kubernetes": Recorder(refuse=("k8s-restart-runner",))})
    assert [x.status for x in half.records[:2]] == [P.NOT_RUN, P.REFUSED]  # never half-way


def test_a_dry_run_plans_and_performs_nothing():
    rem = P.dry_run(k8s_steps())
    assert rem.mode == "dry-run" and [x.status for x in rem.records] == [P.PLANNED, P.PLANNED, P.MANUAL, P.MANUAL]
    lines = "\n".join(text_lines(rem))
    assert "dry run: nothing was changed" in lines
    assert "`kubectl delete deployment blink-operator-1.0.995 -n blink`" in lines


def test_restart_only_a_runner_container_that_is_not_running():
    def c(status: str, name: str = "blink-runner") -> ContainerFacts:
        return ContainerFacts(ID * 5 + "abcd", name, "blinkops/blink-runner:1.0.994", status)

    assert restart_verdict(c("exited"), "blink-runner") is None
    assert restart_verdict(c("running"), "blink-runner")[0] == P.SKIPPED  # type: ignore[index]
    assert restart_verdict(None, "blink-runner")[0] == P.SKIPPED  # type: ignore[index]
    other = ContainerFacts(ID, "postgres", "postgres:16", "exited")
    assert restart_verdict(other, "blink-runner")[0] == P.FAILED  # type: ignore[index]


@pytest.mark.parametrize(("status", "meta", "done"), [
    ({"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1},
     {"generation": 2}, True),
    ({"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1},
     {"generation": 2}, False),  # the new template not observed yet
    ({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 2},
     {"generation": 2}, False),  # an old pod still there
    ({"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 0, "availableReplicas": 0},
     {"generation": 2}, False),  # not Ready yet
])  # fmt: skip
def test_the_rollout_is_done_when_every_replica_is_new_and_ready(status, meta, done):
    assert rollout_state({"metadata": meta, "spec": {"replicas": 1}, "status": status})[0] is done


# ------------------------------------------------------------------ Kubernetes actions against a fake API


class FakeKube:
    def __init__(self, allowed: bool = True, rollout: list[dict[str, Any]] | None = None) -> None:
        self.calls: list[str] = []
        self.allowed = allowed
        self.rollout = rollout or []
        self.patched: Any = None

    def api(self, name: str) -> FakeKube:
        return self

    def call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(what)
        return fn(*args, **kwargs)

    def json(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> tuple[dict[str, Any], str]:
        self.calls.append(what)
        return fn(*args, **kwargs), ""

    def create_self_subject_access_review(self, body: Any) -> dict[str, Any]:
        return {"status": {"allowed": self.allowed}}

    def delete_namespaced_deployment(self, name: str, ns: str) -> None:
        pass

    def patch_namespaced_deployment(self, name: str, ns: str, body: Any) -> None:
        self.patched = body

    def read_namespaced_deployment(self, name: str, ns: str) -> dict[str, Any]:
        return self.rollout.pop(0) if len(self.rollout) > 1 else self.rollout[0]


class FakeFacts:
    subject = "system:serviceaccount:blink:blink-health-check"
    catalog = CATALOG

    def __init__(self, kube: FakeKube, operators: list[Any]) -> None:
        self.client = kube
        self._operators = operators

    def operators_now(self, namespace: str) -> list[Any]:
        return self._operators


def remedies(kube: FakeKube, operators: list[Any]) -> KubernetesRemedies:
    return KubernetesRemedies(FakeFacts(kube, operators), sleep=lambda s: None, rollout_wait_s=30)  # type: ignore[arg-type]


def test_a_running_operator_is_never_deleted_a_stuck_one_is():
    delete = k8s_steps()[0]
    kube = FakeKube()
    status, detail = remedies(kube, [operator(ready=True)]).perform(delete)
    assert status == P.SKIPPED and "never deleted" in detail and not any(c.startswith("DELETE") for c in kube.calls)
    status, detail = remedies(kube, []).perform(delete)
    assert status == P.SKIPPED and "gone" in detail
    status, detail = remedies(kube, [operator(ready=False, state="waiting", reason="CrashLoopBackOff")]).perform(delete)
    assert status == P.DONE and "DELETE deployments/blink-operator-1.0.995 -n blink" in kube.calls


def test_rollout_restart_patches_the_template_and_waits_until_ready():
    going = {"metadata": {"generation": 3}, "spec": {"replicas": 1},
             "status": {"observedGeneration": 3, "replicas": 2, "updatedReplicas": 1, "readyReplicas": 1}}
    done = {"metadata": {"generation": 3}, "spec": {"replicas": 1},
            "status": {"observedGeneration": 3, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1,
                       "availableReplicas": 1}}  # fmt: skip
    kube = FakeKube(rollout=[going, going, done])
    status, detail = remedies(kube, []).perform(k8s_steps()[1])
    assert status == P.DONE and "1/1 Ready" in detail
    assert "kubectl.kubernetes.io/restartedAt" in kube.patched["spec"]["template"]["metadata"]["annotations"]
    assert kube.calls.count("GET deployments/blink-runner -n blink") == 3
    stuck_rollout = FakeKube(rollout=[going])
    status, detail = KubernetesRemedies(FakeFacts(stuck_rollout, []), sleep=lambda s: None,  # type: ignore[arg-type]
                                        rollout_wait_s=0).perform(k8s_steps()[1])  # fmt: skip
    assert status == P.FAILED and "did not finish" in detail


def test_without_the_remediation_role_each_action_is_refused_with_the_grant():
    steps = [s for s in k8s_steps() if s.kind == "action"]
    refused = remedies(FakeKube(allowed=False), []).refusals(steps)
    assert sorted(refused) == [0, 1]
    assert "kubectl apply -f rbac/role-remediate.yaml" in refused[0]
    assert "--verb=delete --resource=deployments.apps --resource-name=blink-operator-1.0.995 -n blink" in refused[0]
    assert "--verb=patch --resource=deployments.apps --resource-name=blink-runner -n blink" in refused[1]
    assert "--serviceaccount=blink:blink-health-check" in refused[1]
    assert remedies(FakeKube(allowed=True), []).refusals(steps) == {}


# ------------------------------------------------------------------ the catalog, the Role, the reports


def test_every_action_in_the_catalog_has_a_performer_and_every_performer_an_action():
    keys = {k for k, s in CATALOG.recovery.items() if s.kind == "action"}
    assert keys == set(DOCKER_ACTIONS) | set(WRITE)


def test_role_remediate_grants_exactly_the_writes_and_role_yaml_none():
    docs = list(yaml.safe_load_all((ROOT / "rbac" / "role-remediate.yaml").read_text()))
    rules = [r for d in docs if d["kind"] == "Role" for r in d["rules"]]
    granted = {(v, res, g) for r in rules for v in r["verbs"] for res in r["resources"] for g in r["apiGroups"]}
    assert granted == {(w.verb, w.resource, w.group) for w in WRITES}
    patch = next(r for r in rules if "patch" in r["verbs"])
    assert patch["resourceNames"] == ["blink-runner"]  # only the runner deployment is restarted
    read_only = [r for d in yaml.safe_load_all((ROOT / "rbac" / "role.yaml").read_text()) if d["kind"] == "Role"
                 for r in d["rules"]]  # fmt: skip
    assert all(set(r["verbs"]) <= {"get", "list"} for r in read_only)


@pytest.mark.parametrize(("change", "message"), [
    (("kind: action\n    step: \"Upgrade Failure 5\"", "kind: magic\n    step: \"Upgrade Failure 5\""),
     "recovery.k8s-restart-runner: field 'kind' must be one of"),
    (("recovery: {failed: [docker-restart-container]}", "recovery: {failed: [docker-reboot]}"),
     "field 'recovery' names unknown steps: docker-reboot"),
    (("recovery: {in-progress: [k8s-operator-running]}", "recovery: {sometimes: [k8s-operator-running]}"),
     "field 'recovery' names sometimes: neither 'failed' nor a variant"),
    (('command: "docker container restart {container_id}"', 'command: "`docker container restart {container_id}`"'),
     "field 'command' is one command line"),
    (('command: "docker container restart {container_id}"', 'command: "docker container restart {container_id:>9}"'),
     "only plain {name} placeholders"),
])  # fmt: skip
def test_a_bad_recovery_section_is_a_catalog_error(tmp_path: Path, change, message):
    text = (ROOT / "blinkcheck" / "catalog.yaml").read_text()
    assert change[0] in text
    path = tmp_path / "catalog.yaml"
    path.write_text(text.replace(change[0], change[1], 1))
    with pytest.raises(CatalogError, match=message.replace("{", r"\{").replace("}", r"\}").replace("(", r"\(")):
        load_catalog(path)


def test_the_reports_show_each_step_and_the_before_after_and_results_json_stays_valid():
    rem = P.perform_all(k8s_steps(), {"kubernetes": Recorder()})
    rem.recheck = P.Recheck(0, P.before_after({STUCK: ["failed"], HANDOFF: ["failed"]},
                                              {STUCK: ["passed"], HANDOFF: ["failed"]}, {HANDOFF: "still"}))
    lines = "\n".join(text_lines(rem))
    assert f"{STUCK}: F -> P" in lines and f"{HANDOFF}: F -> F (still)" in lines
    page = "".join(remediation_html(rem))
    assert 'data-status="done"' in page and "<td>F</td><td>P</td>" in page
    data = {"schema_version": 1, "tool": {"name": "blink-runner-checks", "version": "x"}, "started_at": "2026-12-02T00:00:00Z",
            "finished_at": "2026-12-02T00:00:01Z", "duration_s": 1, "exit_code": 1, "catalog": "c", "counts": {},
            "checks": [], "target": {"requested": "kubernetes", "platforms": [], "blink_url": "u", "runner_name": "r",
                                     "log_window": "w"}, "remediation": rem.as_json()}  # fmt: skip
    jsonschema.validate(data, SCHEMA)
    jsonschema.validate({**data, "remediation": P.dry_run(k8s_steps()).as_json()}, SCHEMA)


# ------------------------------------------------------------------ the glue: asking, what is re-checked, with what


class FakeConfig:
    """What the glue reads of pytest's config: the options (none given on the command line) and its plugins."""

    def __init__(self, **flags: str) -> None:
        self.flags = flags
        self.pluginmanager = self

    def getoption(self, dest: str) -> str | None:
        return self.flags.get(dest)

    def getplugin(self, name: str) -> None:
        return None


@pytest.mark.parametrize(("tty", "answer", "yes"), [(True, "y", True), (True, "", False), (True, "no", False),
                                                     (False, "y", False)])  # fmt: skip
def test_at_a_terminal_the_suite_asks_elsewhere_it_is_a_dry_run(monkeypatch, tty: bool, answer: str, yes: bool):
    from blinkcheck import remediating

    asked: list[str] = []
    monkeypatch.setattr(remediating, "_at_a_terminal", lambda: tty)
    def ask(prompt: str) -> str:
        asked.append(prompt)
        return answer

    monkeypatch.setattr("builtins.input", ask)
    said: list[str] = []
    assert remediating._confirmed(FakeConfig(), k8s_steps(), said.append) is yes  # type: ignore[arg-type]
    assert bool(asked) is tty and (not tty or any("dry run" in line for line in said))


def test_what_is_rechecked_and_with_the_runs_own_options(tmp_path: Path, monkeypatch):
    from blinkcheck.redact import Redactor
    from blinkcheck.remediating import affected, recheck_env
    from blinkcheck.run import RunState
    from tests.unit.fake_kube_api import spec_for

    state = RunState(spec=spec_for(tmp_path), catalog=CATALOG, redactor=Redactor(), enabled=True)
    reach = result(Finding("docker.disconnected.blink-reachable", Outcome.BLOCKED, "b", because_of=RUNNING))
    exists = result(Finding("docker.disconnected.container-exists", Outcome.PASSED, "p"))
    state.results = [stuck(), reach, stopped_runner(), exists]
    rem = P.perform_all(plan(CATALOG, state.results), {"docker": Recorder(), "kubernetes": Recorder(fail="x")})
    # Only the platforms where a step was done; the conditions that asked, and those a step can change (blocked).
    rem.records = [r for r in rem.records if r.step.platform == "docker"]
    assert affected(state, rem) == {reach.id: ["blocked"], RUNNING: ["failed"]}
    monkeypatch.setenv("PYTEST_ADDOPTS", "--remediate")
    monkeypatch.setenv("BLINK_REMEDIATE", "on")
    env = recheck_env(FakeConfig(blink_namespace="blink", blink_kubeconfig="/k"), {"kubernetes"})  # type: ignore[arg-type]
    assert env["BLINK_NAMESPACE"] == "blink" and env["KUBECONFIG"] == "/k" and env["BLINK_CHECK_TARGET"] == "kubernetes"
    assert env["BLINK_REMEDIATE"] == "off" and env["BLINK_YES"] == "off" and "PYTEST_ADDOPTS" not in env


def test_a_performer_that_cannot_even_ask_refuses_every_step_and_nothing_is_done():
    class Gone(Recorder):
        def refusals(self, steps: Sequence[Step]) -> dict[int, str]:
            raise ConnectionError("the API server went away")

    r = Gone()
    rem = P.perform_all(k8s_steps(), {"kubernetes": r})
    assert r.done == [] and [x.status for x in rem.records[:2]] == [P.REFUSED, P.REFUSED]
    assert "the API server went away" in rem.records[0].detail
