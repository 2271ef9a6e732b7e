"""--remediate on Kubernetes: the runbook's `kubectl delete deployment blink-operator-{version}` (only an operator the
operator-stuck check found not running past the one-minute wait, and only if it still does not run on a fresh
look: a running operator is never deleted) and `kubectl rollout restart deployment blink-runner` (the pod template's
restartedAt annotation patched, as kubectl does, then the rollout waited for until every replica is Ready, bounded
by ROLLOUT_WAIT_S). Each action's permission is asked first (SelfSubjectAccessReview): without
rbac/role-remediate.yaml it is refused with the grant. Every call is bounded by --api-timeout."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from blinkcheck.kubernetes.client import ApiError
from blinkcheck.kubernetes.gather import KubernetesFacts
from blinkcheck.kubernetes.preconditions import Access, subject_flag
from blinkcheck.model import CouldNotLook, human
from blinkcheck.remediate.perform import DONE, FAILED, SKIPPED
from blinkcheck.remediate.plan import Step

ROLLOUT_WAIT_S = 180.0  # the longest a restarted runner may take to be Ready again
POLL_S = 2.0
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"  # what `kubectl rollout restart` sets


@dataclass(frozen=True)
class Write:
    """One write --remediate --yes makes: what rbac/role-remediate.yaml grants (a unit test holds them together)."""

    key: str  # the catalog's recovery key
    verb: str
    resource: str
    group: str
    value: str  # the step value naming the object (the Role may name the runner deployment)


WRITES: tuple[Write, ...] = (
    Write("k8s-delete-operator", "delete", "deployments", "apps", "operator"),
    Write("k8s-restart-runner", "patch", "deployments", "apps", "deployment"),
)
WRITE = {w.key: w for w in WRITES}


def rollout_state(d: dict[str, Any]) -> tuple[bool, str]:
    """`kubectl rollout status`: done when the new template is observed, every replica updated, available and
    Ready, and no old replica is left. Pure."""
    meta, spec, status = d.get("metadata") or {}, d.get("spec") or {}, d.get("status") or {}
    want = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
    seen = int(status.get("observedGeneration") or 0) >= int(meta.get("generation") or 0)
    updated, total = int(status.get("updatedReplicas") or 0), int(status.get("replicas") or 0)
    ready, available = int(status.get("readyReplicas") or 0), int(status.get("availableReplicas") or 0)
    done = seen and updated == want and total == want and ready == want and available == want
    return done, f"{ready}/{want} Ready, {updated} updated, {total - updated} old"


class KubernetesRemedies:
    def __init__(self, facts: KubernetesFacts, sleep: Callable[[float], None] = time.sleep,
                 rollout_wait_s: float = ROLLOUT_WAIT_S) -> None:  # fmt: skip
        self.facts = facts
        self.sleep = sleep
        self.rollout_wait_s = rollout_wait_s

    def _access(self, step: Step) -> Access:
        w = WRITE[step.key]
        name = step.values.get(w.value, "")
        return Access(w.verb, f"{w.resource}.{w.group}", step.values.get("namespace", ""), (), name=name)

    def refusals(self, steps: Sequence[Step]) -> dict[int, str]:
        """SelfSubjectAccessReview for each action, before any is performed."""
        from kubernetes import client

        out: dict[int, str] = {}
        kube = self.facts.client
        authz = kube.api("AuthorizationV1Api")
        for i, s in enumerate(steps):
            if s.key not in WRITE:
                out[i] = f"no Kubernetes action '{s.key}'"
                continue
            a = self._access(s)
            attrs = client.V1ResourceAttributes(namespace=a.namespace, verb=a.verb, resource=WRITE[s.key].resource,
                                                group=WRITE[s.key].group, name=a.name or None)  # fmt: skip
            review = client.V1SelfSubjectAccessReviewSpec(resource_attributes=attrs)
            body = client.V1SelfSubjectAccessReview(spec=review)
            try:
                data, _ = kube.json("POST selfsubjectaccessreviews", authz.create_self_subject_access_review, body)
            except ApiError as exc:
                out[i] = f"could not ask whether it is permitted: {exc.reason}"
                continue
            if not (data.get("status") or {}).get("allowed"):
                out[i] = self._refused(a)
        return out

    def _refused(self, a: Access) -> str:
        subject = self.facts.subject
        grant = a.grant(subject_flag(subject))
        how = self.facts.catalog.advise("kubernetes-remediate-grant", subject=subject, grant=grant)
        return f"refused: {subject} may not {a.text} (the remediation Role is not granted); to allow it: {how}"

    def perform(self, step: Step) -> tuple[str, str]:
        try:
            if step.key == "k8s-delete-operator":
                return self._delete_operator(step)
            if step.key == "k8s-restart-runner":
                return self._restart(step)
        except ApiError as exc:
            if exc.status == 403:
                return FAILED, self._refused(self._access(step)) + f" (the API server said: {exc.reason})"
            return FAILED, f"{exc.what}: {exc.reason}" + (f" (HTTP {exc.status})" if exc.status else "")
        except CouldNotLook as exc:
            return FAILED, exc.reason
        return FAILED, f"no Kubernetes action '{step.key}'"

    def _delete_operator(self, step: Step) -> tuple[str, str]:
        name, ns = step.values["operator"], step.values["namespace"]
        now = next((o for o in self.facts.operators_now(ns) if o.name == name), None)
        if now is None or now.deployment is None:
            return SKIPPED, f"deployment {ns}/{name} is gone (the operator finished or rolled back): nothing to delete"
        if now.running:
            return SKIPPED, (f"{now.label} runs now: a running operator is never deleted (the runbook: do nothing, "
                             "wait for it to complete); left alone")  # fmt: skip
        kube = self.facts.client
        apps = kube.api("AppsV1Api")
        kube.call(f"DELETE deployments/{name} -n {ns}", apps.delete_namespaced_deployment, name, ns)
        return DONE, f"deleted {now.label} (not running: {now.state()})"

    def _restart(self, step: Step) -> tuple[str, str]:
        name, ns = step.values["deployment"], step.values["namespace"]
        kube = self.facts.client
        apps = kube.api("AppsV1Api")
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        kube.call(f"PATCH deployments/{name} -n {ns}", apps.patch_namespaced_deployment, name, ns, body)
        started = time.monotonic()
        deadline = started + self.rollout_wait_s
        state = ""
        while True:
            data, _ = kube.json(f"GET deployments/{name} -n {ns}", apps.read_namespaced_deployment, name, ns)
            done, state = rollout_state(data)
            if done:
                return DONE, f"deployment {ns}/{name} restarted (restartedAt {stamp}): rolled out, {state} after " \
                             f"{human(time.monotonic() - started)}"
            if time.monotonic() >= deadline:
                return FAILED, (f"deployment {ns}/{name} was restarted (restartedAt {stamp}) but its rollout did not "
                                f"finish within {human(self.rollout_wait_s)}: {state}")  # fmt: skip
            self.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
