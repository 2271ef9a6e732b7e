"""The Kubernetes gatherer against a fake API server (tests/unit/fake_kube_api.py): each kind listed once, logs
bounded, Secret values registered, refusals named, endless lists bounded, secrets primed first; and
rbac/role.yaml grants exactly what the gatherer reads."""

from __future__ import annotations

from typing import Any

import pytest

from blinkcheck.kubernetes.preconditions import judge_permissions
from blinkcheck.model import Outcome
from tests.unit.fake_kube_api import KUBECONFIG, EndlessListApi, FakeApi, spec_for
from tests.unit.kubernetes_objects import CATALOG, deployment, pod

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
    node_rules = rules("clusterrole-nodes.yaml")
    for r in READS:
        resource = r.resource + (f"/{r.subresource}" if r.subresource else "")
        pool = exec_rules if r.key == "exec" else (node_rules if r.cluster else read_only)
        assert any(
            r.group in rule["apiGroups"] and resource in rule["resources"] and r.verb in rule["verbs"] for rule in pool
        ), f"rbac/ does not grant {r.verb} {resource} ({r.group or 'core'})"
    for rule in read_only + node_rules:  # read-only means it
        assert set(rule["verbs"]) <= {"get", "list"}, rule
    assert [rule["resources"] for rule in node_rules] == [["nodes"]]  # the ClusterRole grants nodes only
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


# ------------------------------------------------------------------ at scale: selectors, parallel reads, requests


class ScaleApi(FakeApi):
    """A namespace where the API server filters pods by label selector (as a real one does): `runners` runner pods
    of a deployment under an HPA among `others` unrelated pods, an operator deployment and its pod; each log read
    takes a little while, and how many run at the same time is recorded."""

    def __init__(self, runners: int, others: int) -> None:
        import threading
        import time

        from tests.unit.kubernetes_objects import operator

        labels = {"app": "blink-runner", "release": "blink-runner"}
        self.pods = [pod(f"blink-runner-5c6d7-{i:05d}", labels=labels) for i in range(runners)]
        self.pods += [pod(f"other-{i:05d}", labels={"app": f"other-{i % 7}"}) for i in range(others)]
        op = operator()
        self.operator_deployment = deployment(op.name, selector={"app": "blink-operator"}, secret=None)
        self.pods.append(pod(f"{op.name}-6f7c9-xyz12", labels={"app": "blink-operator", "version": "1.0.995"}))
        self.in_flight = self.most_in_flight = 0
        self._lock = threading.Lock()
        self._sleep = time.sleep
        super().__init__()

    def answer(self, path: str) -> tuple[int, Any, bytes | None]:
        from urllib.parse import parse_qs, urlparse

        url = urlparse(path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path.endswith("/log"):
            with self._lock:
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self._sleep(0.05)
            with self._lock:
                self.in_flight -= 1
            name = url.path.split("/")[-2]
            error = name.endswith("00007")  # one runner pod logs a network error
            line = 'level=error msg="dial tcp 10.0.0.1:443: i/o timeout"' if error else "level=info msg=connected"
            return 200, None, f"2026-11-28T11:59:00.000000000Z {line}\n".encode()
        if url.path.endswith("/deployments"):
            return 200, {"items": [deployment(), self.operator_deployment], "metadata": {}}, None
        if url.path.endswith("/horizontalpodautoscalers"):
            hpa = {"metadata": {"name": "blink-runner", "namespace": "blink"},
                   "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "blink-runner"}, "minReplicas": 3,
                            "maxReplicas": 60}, "status": {}}  # fmt: skip
            return 200, {"items": [hpa], "metadata": {}}, None
        if url.path.endswith("/pods"):
            wanted = dict(part.split("=", 1) for part in query.get("labelSelector", "").split(",") if part)
            items = [p for p in self.pods if wanted.items() <= p["metadata"]["labels"].items()]
            return 200, {"items": items, "metadata": {}}, None
        return super().answer(path)


@pytest.fixture
def scale(tmp_path):
    from blinkcheck.kubernetes.gather import KubernetesFacts
    from blinkcheck.redact import Redactor

    api = ScaleApi(runners=50, others=500)
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG.replace("https://127.0.0.1:1", api.url))
    yield api, KubernetesFacts(spec_for(tmp_path, kubeconfig=str(path)), Redactor(), CATALOG)
    api.close()


def test_runner_pods_are_selected_by_the_api_server_and_every_request_is_counted(scale):
    from blinkcheck.kubernetes.gather import LOG_WORKERS
    from blinkcheck.logs.judge import has_network_errors

    api, k8s = scale
    k8s.prime_secrets()
    pods = k8s.runner_pods()
    assert len(pods) == 50 and all(p.name.startswith("blink-runner-") for p in pods)
    assert [o.name for o in k8s.operators] == ["blink-operator-1.0.995"] and len(k8s.operators[0].pods) == 1
    k8s.read_logs(pods)
    windows = [k8s.log_window(p) for p in pods]  # read already: no second read
    assert all(w.complete and w.line_count == 1 for w in windows)
    assert [p.name for p, w in zip(pods, windows, strict=True) if has_network_errors(w)] == ["blink-runner-5c6d7-00007"]
    pod_lists = [p for m, p in api.requests if "/pods?" in p]
    # one list per selector: the runner deployment's, the operator deployment's; never the whole namespace
    assert len(pod_lists) == 2 and all("labelSelector=" in p for p in pod_lists), pod_lists
    assert sum("labelSelector=app%3Dblink-runner%2Crelease%3Dblink-runner" in p for p in pod_lists) == 1
    assert sum("/log?" in p for _, p in api.requests) == 50  # each runner pod's window once
    assert 2 <= api.most_in_flight <= LOG_WORKERS  # read side by side, never more than the bound
    assert k8s.api_requests == len(api.requests)  # every request the server saw is counted, and only those
    assert len(api.requests) < 50 + 20  # the windows, and a few lists, reviews and reads: not one per pod listed


def test_a_list_longer_than_its_bound_is_could_not_look_never_a_part(tmp_path):
    """More pods under one selector than MAX_OBJECTS: not judged on the first pages."""
    from blinkcheck.kubernetes.gather import MAX_OBJECTS, PAGE, KubernetesFacts
    from blinkcheck.model import CouldNotLook
    from blinkcheck.redact import Redactor

    class Crowded(FakeApi):
        def answer(self, path: str) -> tuple[int, Any, bytes | None]:
            if path.startswith("/api/v1/namespaces/blink/pods?"):
                return 200, {"items": [pod(f"blink-runner-5c6d7-{i}") for i in range(PAGE)],
                             "metadata": {"continue": "more"}}, None  # fmt: skip
            return super().answer(path)

    api = Crowded()
    try:
        path = tmp_path / "kubeconfig"
        path.write_text(KUBECONFIG.replace("https://127.0.0.1:1", api.url))
        k8s = KubernetesFacts(spec_for(tmp_path, kubeconfig=str(path)), Redactor(), CATALOG)
        with pytest.raises(CouldNotLook) as err:
            k8s.runner_pods()
    finally:
        api.close()
    assert f"more than {MAX_OBJECTS} pods -l app=blink-runner,release=blink-runner in blink" in err.value.reason
    assert "listed only in part" in err.value.reason


def test_bounded_parallel_bounds_yields_everything_and_hands_errors_over():
    import threading
    import time

    from blinkcheck.streaming import bounded_parallel

    lock, running, most = threading.Lock(), [0], [0]

    def work(n: int) -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        if n == 13:
            raise ValueError("thirteen")
        return n * n

    assert sorted(r for _, r in bounded_parallel(work, range(12), 3)) == [n * n for n in range(12)]
    assert most[0] == 3
    with pytest.raises(ValueError, match="thirteen"):
        list(bounded_parallel(work, range(20), 4))


def test_readme_says_what_each_check_reads():
    """README's table of each Kubernetes check's reads is the catalog's `reads` (blinkcheck.kubernetes.reads)."""
    import re
    from pathlib import Path

    from blinkcheck.kubernetes.reads import READ

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    lines = [x.strip() for x in readme.split("| check | reads |", 1)[1].splitlines()[2:]]
    said: dict[str, set[str]] = {}
    for line in lines[: next(i for i, x in enumerate(lines) if not x.startswith("|"))]:
        checks, reads = line.strip("|").split("|")
        words = {re.sub(r" \(.*", "", r.strip()).removesuffix("/blink-runner-secret") for r in reads.split(",")}
        for cid in re.findall(r"`(k8s\.[a-z.-]+)`", checks):
            said[cid] = words
    for cond in CATALOG.conditions:
        if cond.reads:
            wanted = {f"{READ[r].verb} {READ[r].resource_text}".replace(".apps", "")
                      .replace("horizontalpodautoscalers.autoscaling", "HPAs") for r in cond.reads}  # fmt: skip
            assert said.get(cond.id, set()) == wanted, cond.id
