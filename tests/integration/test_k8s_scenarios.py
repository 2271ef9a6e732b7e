"""Each Kubernetes lab scenario on the lab cluster, checked the way a user runs the suite.

`pytest checks/ --target kubernetes --kubeconfig ... --namespace blink` runs as a subprocess; we assert its
whole row of the scenario table (tests/scenario_table.py: every condition, one outcome per pod or operator,
the exit code), and the filled remedy (real pod and operator names) in results.json and report.html. One
row runs as a ServiceAccount without `pods/log`: only the log checks are not-evaluable, naming the
missing permission.

The lab is built and started by its own command (`python3 -m lab.k8s up`); these tests only apply
scenarios (one apply serves consecutive runs of the same scenario) and skip when the lab is not there
(fail under CI).
"""

from __future__ import annotations

import base64
import html
import json
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harness import ROOT, CheckRun, run_checks
from tests.integration.k8s_lab import NS, apply, check, kubectl, lab_command, names, pods
from tests.reliability import Sees
from tests.replaying import replay_of
from tests.scenario_table import K8S, Row, assert_row

pytestmark = pytest.mark.k8s_lab

P, F, W, M, B, S, N = "passed", "failed", "warning", "manual", "blocked", "skipped", "not-evaluable"
OPERATORS = "app=blink-operator"
OPERATOR = "blink-operator-1.0.995"
TIMINGS = ROOT / "reports" / "integration" / "k8s-timings.json"
READY = "k8s.disconnected.pods-ready"
REACH = "k8s.disconnected.blink-reachable"
APPLIED: dict[str, str] = {}  # the scenario the lab holds now, applied by this module


def apply_once(lab: Any, scenario: str) -> None:
    """Apply `scenario` unless this module applied it last (runs in a row share one apply)."""
    if APPLIED.get("now") != scenario:
        APPLIED.pop("now", None)
        apply(lab, scenario)
        APPLIED["now"] = scenario


# scenario -> texts (the filled remedy) that must be in results.json's remediation and in report.html
REMEDY = {
    "blink-stale": ["runs, but Blink last saw it 10m", "As Blink sees it, the runner is disconnected",
                    "`kubectl logs -f {pod} -n blink`"],
    "blink-old-version": ["Blink reports version 1.0.994 for runner pod {pod} in blink",
                          "`kubectl rollout restart deployment blink-runner -n blink`"],
    "blink-not-ready": ["is not ready: https://10.244.0.1:18443/api/v1/api/readiness answered HTTP 503",
                        "Slack channel for any active production alerts"],
    "crashloop": ["Runner pod {pod} in blink is CrashLoopBackOff", "`kubectl describe pod {pod} -n blink`"],
    "pending": ["Runner pod {pod} in blink is Pending (Unschedulable:", "`kubectl get pods -n blink`"],
    "hpa": ["`kubectl describe pod {failing_pod} -n blink`"],
    "egress-blocked": [
        "Runner pod {pod} in blink logged",
        "From inside runner pod {pod} (blink)",
        "failed at the TCP connect (timeout) layer",
        "`kubectl exec -n blink {pod} -c blink-runner -- curl -sSv",
    ],
    "egress-recovered": ["Runner pod {pod} in blink lost its connection to", "Nothing to do now"],
    "runner-misconfigured": [
        "yet the egress probe from inside the pod reaches",
        "`kubectl exec -n blink {pod} -- env | grep -i _proxy`",
    ],
    "operator-gone": [
        "The upgrade to 1.0.995 has failed: runner pod {pod} logged the operator handoff",
        "`kubectl rollout restart deployment blink-runner -n blink`",
        "`kubectl logs -f deployment/blink-operator-1.0.995 -n blink`",
    ],
    "operator-stuck": [
        "Operator deployment blink-operator-1.0.995 in blink exists but has not been running for",
        "`kubectl delete deployment blink-operator-1.0.995 -n blink`",
        "`kubectl rollout restart deployment blink-runner -n blink`",
    ],
    "secret-missing": [
        "Secret blink-runner-secret does not exist in blink",
        "`kubectl create secret generic blink-runner-secret -n blink --from-literal='appKey=KEY'`",
    ],
    "upgrade-in-progress": ["is running: an upgrade to 1.0.995 is in progress"],
    "rollback-overdue": [
        f"Operator {OPERATOR} in blink has been alive for",
        f"`kubectl delete deployment {OPERATOR} -n blink`",
    ],
    "no-runner": ["No deployment blink-runner and no pods labelled app=blink-runner", "`kubectl get pods -n blink`"],
    "logs-unreadable": ["The logs of {pod} could not be read", "`kubectl logs -f deployment/blink-runner -n blink`"],
    "operator-rollback": [f"`kubectl delete deployment {OPERATOR} -n blink`"],
    "network-policy": [
        "NetworkPolicy blink-runner-egress in blink selects runner pod {pod} and restricts its egress, and no policy "
        "that selects it allows TCP 18443 to blink.lab.test",
        "`kubectl get networkpolicy blink-runner-egress -n blink -o yaml`",
    ],
    "node-pressure": [
        "Node vm, where runner pod {pod} runs, reports DiskPressure=True: kubelet has disk pressure",
        "`kubectl describe node vm`", "`kubectl cordon vm`",
    ],
    "evicted-pod": [
        "Runner pod blink-runner-evicted in blink was evicted from node vm: The node was low on resource: memory.",
        "`kubectl delete pod blink-runner-evicted -n blink`",
    ],
    "clock-skew": [
        # the stand-in's Date is 300 s ahead; both clocks are read in whole seconds: 4m 59s, 5m or 5m 1s
        "The clock of runner pod {pod} in blink is ",
        " behind Blink's (the Date of Blink's answer: ",
        "more than 1m off, TLS certificates and signed requests to blink.lab.test fail",
        "Pods use their node's clock: fix it on node vm, where the pod runs.",
        "`kubectl exec -n blink {pod} -- date -u`, then on node vm: `date -u`",
    ],
    "quota-exhausted": [
        f"Deployment {OPERATOR} in blink cannot create its pods: pods \"{OPERATOR}-",
        # "used" is what the quota counted when the ReplicaSet last tried: 0 or the runner's 50m, by timing.
        "exceeded quota: blink-lab-quota, requested: requests.cpu=200m, used: requests.cpu=",
        "limited: requests.cpu=100m",
        "`kubectl describe resourcequota -n blink`",
    ],
}


# scenario -> what Blink's readiness check says it got from the runner pod (the egress probe's exec; issue 18)
READY_FROM_RUNNER = {
    "healthy": ["pod blink/{pod}: {standin_url}/api/v1/api/readiness answered HTTP 200"],
    "blink-not-ready": ["pod blink/{pod}: {standin_url}/api/v1/api/readiness answered HTTP 503"],
    "egress-blocked": ["pod blink/{pod}: did not reach {standin_url} (the "],
}


def _record_timing(scenario: str, run: CheckRun) -> None:
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    data[scenario] = {
        "wall_s": round(run.wall_s, 2),
        "exit_code": run.exit_code,
        "outcomes": {k: sorted(v) for k, v in run.outcomes().items()},
    }
    TIMINGS.write_text(json.dumps(data, indent=2) + "\n")


def _in_html(needle: str, page: str) -> bool:
    return needle in page or html.escape(needle) in page or html.escape(needle, quote=False) in page


SECOND_NS = "blink-second"


def test_two_namespaces_each_judged_on_its_own(lab: Any):
    """--all-namespaces: a healthy runner in one namespace, a crash-looping one in another."""
    apply_once(lab, "healthy")
    r = lab_command("scenario", "crashloop", "-n", SECOND_NS, "--timeout", "180")
    assert r.returncode == 0, r.stdout + r.stderr
    try:
        run = run_checks(
            "--target", "kubernetes", "--kubeconfig", str(lab.admin_kubeconfig), "--all-namespaces", "on",
            "--blink-url", lab.standin_url, "--operator-wait", "10s", "--probe-timeout", "4",
            report_dir=ROOT / "reports" / "integration" / "k8s-two-namespaces", timeout=240,
        )  # fmt: skip
    finally:
        lab_command("scenario", "clear", "-n", SECOND_NS, timeout=120)
    ready = {o: v for o, v in _per_pod(run, "k8s.disconnected.pods-ready").items() if o.split("/")[0] in
             (f"pod {NS}", f"pod {SECOND_NS}")}  # fmt: skip
    reach = _per_pod(run, "k8s.disconnected.blink-reachable")
    mine = {o.split("/")[0].split()[1]: v for o, v in ready.items()}
    assert mine == {NS: P, SECOND_NS: F}, ready
    assert {o.split("/")[0].split()[1]: v for o, v in reach.items() if o in ready} == {NS: P, SECOND_NS: B}, reach
    healthy_pod = next(o for o in ready if o.startswith(f"pod {NS}/"))
    [blocked] = [e for e in run.entries("k8s.disconnected.blink-reachable") if e["outcome"] == B]
    assert SECOND_NS in blocked["summary"] and healthy_pod not in blocked["summary"]


# ------------------------------------------------------------------ every scenario


def wait_for_operator_backoff(lab: Any, restarts: int = 2, timeout: float = 150) -> None:
    """operator-rollback: the operator runs 10 s, logs its rollback, exits and is restarted by its deployment, with a
    growing back-off. Checked once it waits in CrashLoopBackOff after `restarts` restarts (20 s and more of back-off),
    the run sees it not running for longer than --operator-wait: the same answer every time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in pods(lab, OPERATORS):
            cs = (p["status"].get("containerStatuses") or [{}])[0]
            waiting = (cs.get("state") or {}).get("waiting") or {}
            if cs.get("restartCount", 0) >= restarts and waiting.get("reason") == "CrashLoopBackOff":
                return
        time.sleep(1)
    raise AssertionError(f"the operator never waited in CrashLoopBackOff: {kubectl(lab, '-n', NS, 'get', 'pods')}")


def run_row(lab: Any, row: Row, tmp_path: Path) -> CheckRun:
    apply_once(lab, row.scenario)
    if row.name == "operator-rollback":
        wait_for_operator_backoff(lab)
    report_dir = ROOT / "reports" / "integration" / f"k8s-{row.name}"
    if row.name in WITHOUT:
        return run_with_role_without(lab, tmp_path, report_dir, row.name)
    return check(lab, report_dir, "--bundle", "on", *row.options)  # the packet is re-judged offline after


HPA_VERDICT = ("the crashing pod's probe is blocked by its own pods-ready failure; report.html's verdict says \"1 of 3 "
               "runner pods is failing\" with its remedy, the two Ready pods beside it")


@pytest.mark.reliability(
    "one crash-looping runner pod of three (HPA)",
    Sees(exit=1, outcomes={READY: (P, P, F), REACH: (P, P, B)}, facts=(HPA_VERDICT,), case="hpa"),
)
@pytest.mark.parametrize("scenario", list(K8S.rows))
def test_scenario(lab: Any, scenario: str, tmp_path: Path, sees):
    row = K8S[scenario]
    run = run_row(lab, row, tmp_path)
    _record_timing(scenario, run)
    assert "error" not in run.pytest_summary, run.stdout[-3000:]
    assert_row(run.results, row, K8S, "\n" + run.stdout[-5000:] + run.stderr[-2000:])
    assert run.exit_code == row.exit
    ids = names(lab)
    remediations = "\n".join(c["remediation"] for c in run.results["checks"])
    page = run.html
    for text in REMEDY.get(scenario, []):
        needle = text.format(**ids)
        assert needle in remediations, f"{scenario}: {needle!r} not in results.json remediation"
        assert _in_html(needle, page), f"{scenario}: {needle!r} not in report.html"
    for text in READY_FROM_RUNNER.get(scenario, []):
        (ready,) = [c for c in run.results["checks"] if c["id"] == "k8s.blink.ready"]
        said = {e["title"]: e["text"] for e in ready["evidence"]}.get("readiness from the runners", "")
        needle = text.format(**ids, standin_url=lab.standin_url.rstrip("/"))
        assert needle in said, f"{scenario}: {needle!r} not in {said!r}"
    # The lab's runner key never reaches any artifact.
    for path in run.report_dir.iterdir():
        assert "lab-runner-group-key-not-a-secret" not in path.read_text(errors="replace"), path
    # Nor does the user's Blink API key (Blink's view), in any file or on the terminal.
    user_key = (lab.state / "blink-api-key").read_text().strip()
    assert all(user_key not in p.read_text(errors="replace") for p in run.report_dir.iterdir())
    assert user_key not in run.stdout + run.stderr
    assert 'name="condition" value="k8s.cluster.api-reachable"' in (run.report_dir / "junit.xml").read_text()
    EXTRA.get(scenario, lambda *_: None)(lab, run, sees)
    # The packet re-judged offline (--from-packet): the same outcome per condition and pod/operator, the same exit
    # code, with every connection and child process refused (no API server, no exec, the wait not waited again).
    replay_of(run)


def _per_pod(run: CheckRun, cid: str) -> dict[str, str]:
    return {e["object"]: e["outcome"] for e in run.entries(cid)}


def hpa_each_pod_on_its_own(lab: Any, run: CheckRun, sees: Any) -> None:
    """Issue 16: 3 runner pods, one crashing: the two Ready pods are probed (passed), only the crashing one is
    blocked; the verdict says "1 of 3 runner pods is failing" with its remedy and the healthy pods beside it."""
    sees(run)
    failing = f"pod {NS}/{names(lab)['failing_pod']}"
    ready = _per_pod(run, READY)
    reach = _per_pod(run, REACH)
    [blocked] = [e for e in run.entries(REACH) if e["outcome"] == B]
    page = run.html
    sees.fact(HPA_VERDICT, ready.pop(failing) == F and reach.pop(failing) == B
              and blocked["because_of"] == READY and failing in blocked["summary"]
              and "Runner Disconnected: 1 of 3 runner pods is failing: a runner pod is not Running and Ready" in page
              and f"`kubectl describe pod {names(lab)['failing_pod']} -n {NS}`" in page
              and "Each runner pod on its own" in page and all(f"{pod}</span> — passed: " in page for pod in reach),
              (ready, reach), case="hpa")  # fmt: skip


def crashloop_evidence(lab: Any, run: CheckRun, sees: Any) -> None:
    """The failing pod's evidence: the pod table, its events and its last log lines."""
    [entry] = run.entries(READY)
    titles = [e["title"] for e in entry["evidence"]]
    assert titles[0] == "kubectl get pods" and "CrashLoopBackOff" in entry["evidence"][0]["text"]
    pod = names(lab)["pod"]
    assert f"Events of {pod}" in titles
    events = next(e["text"] for e in entry["evidence"] if e["title"] == f"Events of {pod}")
    assert "BackOff" in events or "Started" in events, events
    assert any("log lines" in t.lower() for t in titles), titles


def no_pods_log_names_the_permission(lab: Any, run: CheckRun, sees: Any) -> None:
    for cid in ("k8s.disconnected.logs-readable", "k8s.disconnected.no-network-errors", "k8s.upgrade.operator-handoff"):
        [entry] = run.entries(cid)
        assert "get pods/log in namespace blink" in entry["summary"], entry["summary"]
        assert entry["because_of"] == "k8s.cluster.permissions"
    [perm] = run.entries("k8s.cluster.permissions")
    assert "get pods/log in namespace blink" in perm["remediation"]
    assert "system:serviceaccount:blink:blink-check-nolog" in perm["remediation"]
    assert "--serviceaccount=blink:blink-check-nolog" in perm["remediation"]


BEYOND = ("k8s.beyond.network-policy", "k8s.beyond.node-pressure", "k8s.beyond.quota-blocks-upgrade")


def older_role_skips_only_the_checks_past_the_runbook(lab: Any, run: CheckRun, sees: Any) -> None:
    """Without the reads past the runbook (an older rbac/role.yaml, no rbac/clusterrole-nodes.yaml): only their
    checks are skipped, each with its grant; the permission check lists them as not given by choice."""
    [perm] = run.entries("k8s.cluster.permissions")
    assert "Not granted, by choice:" in perm["summary"] and "list networkpolicies.networking.k8s.io" in perm["summary"]
    assert "get nodes" in perm["summary"], perm["summary"]
    for cid in BEYOND:
        [entry] = run.entries(cid)
        assert entry["outcome"] == S and "(not granted: your choice)" in entry["summary"], entry
    [nodes] = run.entries("k8s.beyond.node-pressure")
    assert any("kubectl apply -f rbac/clusterrole-nodes.yaml" in h for h in nodes["hints"]), nodes["hints"]
    [policies] = run.entries("k8s.beyond.network-policy")
    assert any("kubectl create role blink-check-list-networkpolicies-networking-k8s-io --verb=list "
               "--resource=networkpolicies.networking.k8s.io -n blink" in h for h in policies["hints"]), policies


def beyond_remedies(lab: Any, run: CheckRun, sees: Any) -> None:
    """The failing check past the runbook names the real objects in its remedy (its row in REMEDY), and the other
    three pass."""
    failing = [c for c in (*BEYOND, "k8s.beyond.evicted-pods") if F in [e["outcome"] for e in run.entries(c)]]
    assert len(failing) == 1, failing


def logs_unreadable_says_why(lab: Any, run: CheckRun, sees: Any) -> None:
    [entry] = run.entries("k8s.disconnected.logs-readable")
    assert "Could not read the logs of pod blink/" in entry["summary"], entry["summary"]
    [probe] = run.entries(REACH)
    assert "exec" in probe["summary"], probe["summary"]


EXTRA: dict[str, Callable[[Any, CheckRun, Any], None]] = {
    "hpa": hpa_each_pod_on_its_own,
    "crashloop": crashloop_evidence,
    "no-pods-log": no_pods_log_names_the_permission,
    "logs-unreadable": logs_unreadable_says_why,
    "older-role": older_role_skips_only_the_checks_past_the_runbook,
    **dict.fromkeys(("network-policy", "node-pressure", "evicted-pod", "quota-exhausted"), beyond_remedies),
}


# The runs below use the operator-pending scenario that test_scenario's last row applied: an operator that exists
# but never runs (its pod unschedulable), not running since its creation: the same answer at any moment.


def test_stuck_operator_without_waiting_is_still_pending(lab: Any):
    apply_once(lab, "operator-pending")
    run = check(lab, ROOT / "reports" / "integration" / "k8s-no-wait", "--operator-wait", "0", "--probe", "off")
    row = K8S["operator-pending"]
    assert_row(run.results, replace(row, outcomes=row.but(blink_reachable="S", clock_skew="S", operator_stuck="W")), K8S)
    [entry] = run.entries("k8s.upgrade.operator-stuck")
    assert entry["outcome"] == W
    assert "still pending" in entry["summary"] and "did not wait (--operator-wait 0)" in entry["summary"]
    assert run.wall_s < 60, "--operator-wait 0 must not wait"


def operator_down_s(lab: Any) -> float:
    """How long the API has shown the operator not running: since its pod's Ready condition changed, else since
    the pod was made (a pod never scheduled has no Ready condition), as the suite reads it."""
    pod = json.loads(kubectl(lab, "-n", NS, "get", "pods", "-l", OPERATORS, "-o", "json"))["items"][0]
    ready = next((c for c in pod["status"].get("conditions", []) if c["type"] == "Ready"), None)
    since = ready["lastTransitionTime"] if ready else pod["metadata"]["creationTimestamp"]
    return (datetime.now(UTC) - datetime.fromisoformat(since.replace("Z", "+00:00"))).total_seconds()


def test_stuck_operator_wait_counts_what_the_api_already_shows(lab: Any):
    """The runbook's one-minute wait is judged from the API's own timestamps: an operator already down longer
    than the wait is stuck at once; otherwise only the rest is waited, and the terminal says so."""
    apply_once(lab, "operator-pending")
    while operator_down_s(lab) < 8:  # down longer than the 6 s wait at the first look
        time.sleep(0.5)
    fast = check(lab, ROOT / "reports" / "integration" / "k8s-wait", "--operator-wait", "6s", "--probe", "off")
    row = K8S["operator-pending"]
    without_probe = replace(row, outcomes=row.but(blink_reachable="S", clock_skew="S"))  # both need the probe
    assert_row(fast.results, without_probe, K8S)
    [entry] = fast.entries("k8s.upgrade.operator-stuck")
    assert entry["outcome"] == F
    assert "already longer than the 6s wait: no need to wait" in entry["summary"], entry["summary"]
    assert entry["duration_s"] < 5
    wait = int(operator_down_s(lab)) + 12  # about 10 s left to wait when the check runs
    slow = check(lab, ROOT / "reports" / "integration" / "k8s-wait-rest", "--operator-wait", f"{wait}s", "--probe", "off")
    assert_row(slow.results, without_probe, K8S)
    [entry] = slow.entries("k8s.upgrade.operator-stuck")
    assert entry["outcome"] == F
    assert "at the first look; waited" in entry["summary"] and "of the remaining" in entry["summary"], entry["summary"]
    assert 3 <= entry["duration_s"] < 12, entry["duration_s"]
    assert "waiting up to" in slow.stdout and "for deployment blink/blink-operator-1.0.995 to run" in slow.stdout
    assert "has not been running for" in entry["remediation"]
    titles = [e["title"] for e in entry["evidence"]]
    assert "Operator logs" in titles or any("Events" in t for t in titles), titles


# ------------------------------------------------------------------ a ServiceAccount without pods/log


def _sa_kubeconfig(lab: Any, tmp: Path, sa: str) -> Path:
    token = kubectl(lab, "-n", NS, "create", "token", sa, "--duration=10m").strip()
    admin = yaml.safe_load(lab.admin_kubeconfig.read_text())
    cluster = admin["clusters"][0]["cluster"]
    if "certificate-authority" in cluster:
        ca = Path(cluster.pop("certificate-authority")).read_bytes()
        cluster["certificate-authority-data"] = base64.b64encode(ca).decode()
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "checker",
        "clusters": [{"name": "lab", "cluster": cluster}],
        "users": [{"name": sa, "user": {"token": token}}],
        "contexts": [{"name": "checker", "context": {"cluster": "lab", "user": sa, "namespace": NS}}],
    }
    path = tmp / "sa.kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    path.chmod(0o600)
    return path


def _assert_audit(lab: Any, user: str, since: datetime, denied: tuple[str, ...]) -> None:
    """The API server's audit log: each kind listed once per run, nothing written, no refused read tried (`denied`,
    and the nodes no ClusterRole grants here)."""
    calls: dict[tuple[str, str], int] = {}
    for line in (lab.state / "logs" / "audit.log").read_text(errors="replace").splitlines():
        if user not in line:
            continue
        ev = json.loads(line)
        when = datetime.fromisoformat(ev["requestReceivedTimestamp"].replace("Z", "+00:00"))
        if ev["user"]["username"] != user or when < since:
            continue
        ref = ev.get("objectRef") or {}
        res = ref.get("resource", "") + (f"/{ref['subresource']}" if ref.get("subresource") else "")
        calls[(ev["verb"], res)] = calls.get((ev["verb"], res), 0) + 1
    assert calls.get(("list", "pods")) == 1, calls
    assert calls.get(("list", "deployments")) == 1, calls
    assert calls.get(("list", "horizontalpodautoscalers")) == 1, calls
    for kind in ("networkpolicies", "resourcequotas", "limitranges"):
        assert calls.get(("list", kind)) == (None if kind in denied else 1), calls
    for refused in (*denied, "nodes"):
        assert not any(k[1] == refused for k in calls), f"a read SelfSubjectAccessReview denied was still tried: {calls}"
    writes = {k for k in calls if k[0] not in ("get", "list", "watch")}
    assert writes <= {
        ("create", "selfsubjectaccessreviews"),
        ("create", "selfsubjectreviews"),
        ("create", "pods/exec"),
    }, writes


# row -> (its ServiceAccount, the resources its copy of rbac/role.yaml leaves out); neither has rbac/clusterrole-nodes.yaml
WITHOUT = {
    "no-pods-log": ("blink-check-nolog", ("pods/log",)),
    "older-role": ("blink-check-older", ("networkpolicies", "resourcequotas", "limitranges")),
}


def run_with_role_without(lab: Any, tmp_path: Path, report_dir: Path, row: str) -> CheckRun:
    """rbac/role.yaml minus some reads (plus the exec Role), on the healthy scenario: only the checks that need them
    are not-evaluable (a read the runbook's checks need) or skipped (a read past the runbook: your choice), naming
    the permission (the table's no-pods-log and older-role rows); the audit log shows no refused read tried."""
    sa, leave_out = WITHOUT[row]
    docs = [
        d for f in ("role.yaml", "role-probe-exec.yaml") for d in yaml.safe_load_all((ROOT / "rbac" / f).read_text())
    ]
    for d in docs:
        d["metadata"]["name"] = d["metadata"]["name"].replace("blink-health-check", sa)
        d["metadata"].setdefault("labels", {})["blink-lab.io/scenario"] = "healthy"  # cleared with the scenario
        if d["kind"] == "Role" and d["metadata"]["name"] == sa:
            for r in d["rules"]:
                r["resources"] = [x for x in r["resources"] if x not in leave_out]
            d["rules"] = [r for r in d["rules"] if r["resources"]]
        if d["kind"] == "RoleBinding":
            d["roleRef"]["name"] = d["roleRef"]["name"].replace("blink-health-check", sa)
            d["subjects"][0]["name"] = sa
    kubectl(lab, "apply", "-f", "-", input_text=yaml.safe_dump_all(docs))
    try:
        kubeconfig = _sa_kubeconfig(lab, tmp_path, sa)
        started = datetime.now(UTC)
        run = check(lab, report_dir, "--bundle", "on", kubeconfig=kubeconfig)
        time.sleep(1)  # the audit backend flushes in batches of at most a second
        _assert_audit(lab, f"system:serviceaccount:blink:{sa}", started, leave_out)
        return run
    finally:
        kubectl(lab, "-n", NS, "delete", "serviceaccount,role,rolebinding", "-l",
                "app.kubernetes.io/name=blink-health-check", "--ignore-not-found", check=False)  # fmt: skip
