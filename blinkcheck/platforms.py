"""`--target auto`: check the platforms where a runner is.

First presence, without connecting: a Docker socket (or --docker-host); a kubeconfig (or in-cluster
config). Then one cheap, bounded look on each platform that is there, the runbook's first step:
the runner's containers (`docker ps -a | grep blink-runner`) / the runner's deployment, else pods
labelled app=<runner-name> (`kubectl get deployment`, `kubectl get pods`), in the namespace or, with
--all-namespaces, in every namespace the user may list.

- A platform with a runner is checked.
- A platform that is there but has no runner, or does not answer, is noted ("not checked: no runner
  found (…)" / "not checked: API did not answer (…)") and left out: it does not fail the run.
- No platform has a runner: every platform that is there is checked, so the run fails with each one's
  first runbook step (or says why it could not look); the notes say where the suite looked.
- Nothing is there at all: both are checked, so the report says why each could not be evaluated.

An explicit --target docker / kubernetes is strict: no look, that platform, whatever it answers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from blinkcheck.catalog import Catalog, load_catalog
from blinkcheck.config import TargetSpec
from blinkcheck.model import CouldNotLook
from blinkcheck.redact import Redactor

FIRST_STEP = {
    "docker": "`docker ps -a | grep {runner_name}`",
    "kubernetes": "`kubectl get pods -n {namespace}`",
}


@dataclass(frozen=True)
class Look:
    """What `--target auto` saw on one platform."""

    platform: str
    present: bool
    answered: bool = False
    found: str = ""  # the runner seen ("runner container blink-runner"), "" when none
    where: str = ""  # where it looked
    why: str = ""  # why it could not look (absent, no answer)
    namespace: str = ""  # Kubernetes: the namespace looked in


@dataclass(frozen=True)
class TargetChoice:
    platforms: tuple[str, ...]
    notes: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...] = ()  # (platform, why not checked)


def docker_present(spec: TargetSpec) -> tuple[bool, str]:
    via = f"context {spec.docker_context}: " if spec.docker_context else ""  # a docker context counts as there
    if spec.docker_host.startswith("unix://"):
        path = spec.docker_host[len("unix://") :]
        if os.path.exists(path):
            return True, f"{via}socket {path} is there"
        return False, f"{via}no Docker socket at {path}"
    return True, f"{via}{spec.docker_host} given"


def kubernetes_present(spec: TargetSpec) -> tuple[bool, str]:
    if spec.kubeconfig:
        return True, f"kubeconfig {spec.kubeconfig} given"
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        return True, "running inside a cluster"
    default = Path.home() / ".kube" / "config"
    if default.is_file():
        return True, f"{default} is there"
    return False, "no kubeconfig (--kubeconfig, KUBECONFIG, ~/.kube/config) and not in a cluster"


def decide(requested: str, looks: Sequence[Look], spec: TargetSpec | None = None) -> TargetChoice:
    """The pure decision of --target auto from what was seen (see the module's docstring)."""
    if requested != "auto":
        return TargetChoice((requested,), ())
    namespace = next((lk.namespace for lk in looks if lk.namespace), "") or (spec.namespace if spec else "")
    names = {"runner_name": spec.runner_name if spec else "blink-runner", "namespace": namespace or "<namespace>"}
    with_runner = tuple(lk.platform for lk in looks if lk.found)
    present = tuple(lk.platform for lk in looks if lk.present)
    notes: list[str] = []
    skipped: list[tuple[str, str]] = []
    if with_runner:
        for lk in looks:
            if lk.found:
                notes.append(f"{lk.platform}: checked: {lk.found} ({lk.where})")
                continue
            if not lk.present:
                why = f"not there ({lk.why})"
            elif lk.answered:
                why = f"no runner found (looked for {lk.where})"
            else:
                why = lk.why
            notes.append(f"{lk.platform}: not checked: {why}")
            skipped.append((lk.platform, why))
        return TargetChoice(with_runner, tuple(notes), tuple(skipped))
    chosen = present or tuple(lk.platform for lk in looks)
    where = "; ".join(
        f"{lk.platform}: {f'looked for {lk.where}' if lk.answered else lk.why}" for lk in looks if lk.platform in chosen
    )
    first = dict(FIRST_STEP)
    if spec is not None and spec.all_namespaces and not spec.namespace:
        first["kubernetes"] = "`kubectl get pods --all-namespaces`"
    steps = ", ".join(first[p].format(**names) for p in chosen if p in first)
    notes.append(f"no runner found on any platform ({where}): checking {', '.join(chosen)}; the runbook's first "
                 f"step: {steps}")  # fmt: skip
    for lk in looks:
        if lk.platform not in chosen:
            why = f"not there ({lk.why})"
            notes.append(f"{lk.platform}: not checked: {why}")
            skipped.append((lk.platform, why))
    return TargetChoice(chosen, tuple(notes), tuple(skipped))


def look_docker(spec: TargetSpec, redactor: Redactor, catalog: Catalog) -> Look:
    """`docker ps -a | grep <runner-name>`: one bounded list (and an inspect per runner) on the engine."""
    from blinkcheck.docker.gather import DockerFacts

    facts = DockerFacts(spec, redactor, catalog)
    at = f"context {spec.docker_context}: {spec.docker_host}" if spec.docker_context else spec.docker_host
    where = f"containers named {spec.runner_name}* or from image blinkops/blink-runner at {at}"
    try:
        engine = facts.engine
        if not engine.reachable:
            why = f"API did not answer ({spec.docker_host}: {engine.error})"
            return Look("docker", True, False, where=where, why=why)
        runners = facts.runner_containers
    except CouldNotLook as exc:
        return Look("docker", True, False, where=where, why=f"API did not answer ({exc.reason})")
    finally:
        client = facts.__dict__.get("_client_or_error", (None, ""))[0]
        if client is not None:
            client.close()
    if not runners:
        return Look("docker", True, True, where=where)
    shown = ", ".join(c.name for c in runners[:3]) + (f" and {len(runners) - 3} more" if len(runners) > 3 else "")
    noun = "runner container" if len(runners) == 1 else "runner containers"
    return Look("docker", True, True, found=f"{noun} {shown}", where=at)


def look_kubernetes(spec: TargetSpec, redactor: Redactor, catalog: Catalog) -> Look:
    """The runner deployment (`kubectl get deployment <runner-name>`), else pods labelled app=<runner-name>."""
    from blinkcheck.kubernetes.client import ApiError
    from blinkcheck.kubernetes.gather import KubernetesFacts

    facts = KubernetesFacts(spec, redactor, catalog)
    api = facts.api_server
    if not api.reachable:
        why = f"API did not answer ({api.server}: {api.error})" if api.server else f"no usable kubeconfig ({api.error})"
        return Look("kubernetes", True, False, why=why, namespace=spec.namespace or api.namespace)
    kube = facts.client
    all_ns = spec.all_namespaces and not spec.namespace
    ns = spec.namespace or api.namespace or "default"
    where = f"{'every namespace' if all_ns else f'namespace {ns}'} of context {api.context} ({api.server})"
    apps, core = kube.api("AppsV1Api"), kube.api("CoreV1Api")
    by_name, by_label = f"metadata.name={spec.runner_name}", f"app={spec.runner_name}"
    def first(kind: str, everywhere: Callable[..., object], namespaced: Callable[..., object], **sel: str) -> dict:
        if all_ns:
            return kube.json(f"GET {kind} (all namespaces)", everywhere, limit=20, **sel)[0]
        return kube.json(f"GET {kind} -n {ns}", namespaced, ns, limit=1, **sel)[0]

    try:
        deps = first("deployments", apps.list_deployment_for_all_namespaces, apps.list_namespaced_deployment,
                     field_selector=by_name)  # fmt: skip
        found = _names("deployment", deps)
        if not found:
            try:
                pods = first("pods", core.list_pod_for_all_namespaces, core.list_namespaced_pod,
                             label_selector=by_label)  # fmt: skip
            except ApiError as exc:
                if exc.status != 403:
                    raise
                pods = {}  # may list deployments but not pods there (rbac/clusterrole-all-namespaces.yaml)
            found = _names("pods labelled " + by_label + ", e.g. pod", pods)
    except ApiError as exc:
        if exc.status in (401, 403):
            why = f"the API server refused the look ({exc.what}: HTTP {exc.status}: {exc.reason})"
        else:
            why = f"API did not answer ({api.server}: {exc.what}: {exc.reason})"
        return Look("kubernetes", True, False, where=where, why=why, namespace=ns)
    finally:
        kube.close()
    if not found:
        where = f"deployment {spec.runner_name} or pods labelled {by_label} in {where}"
        return Look("kubernetes", True, True, where=where, namespace=ns)
    return Look("kubernetes", True, True, found=found, where=where, namespace=ns)


def _names(kind: str, data: dict[str, object]) -> str:
    items = data.get("items") or []
    assert isinstance(items, list)
    names = [f"{i['metadata']['namespace']}/{i['metadata']['name']}" for i in items]
    return f"{kind} {', '.join(names[:3])}" if names else ""


Present = Callable[[TargetSpec], tuple[bool, str]]
LookAt = Callable[[TargetSpec, Redactor, Catalog], Look]
LOOKS: dict[str, tuple[Present, LookAt]] = {
    "docker": (docker_present, look_docker),
    "kubernetes": (kubernetes_present, look_kubernetes),
}


def choose_platforms(
    spec: TargetSpec,
    wanted: Sequence[str] = ("docker", "kubernetes"),
    redactor: Redactor | None = None,
    catalog: Catalog | None = None,
) -> TargetChoice:
    """The platforms to check; `wanted` are those with a selected check (-k/-m may leave out one)."""
    if spec.target != "auto":
        return decide(spec.target, ())
    looks = []
    for platform in wanted:
        present, why = LOOKS[platform][0](spec)
        look_at = LOOKS[platform][1]
        looks.append(look_at(spec, redactor or Redactor(), catalog or load_catalog()) if present
                     else Look(platform, False, why=why))  # fmt: skip
    return decide("auto", looks, spec)
