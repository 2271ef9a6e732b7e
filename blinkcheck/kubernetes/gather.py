"""Kubernetes facts: a thin, lazy, memoizing layer over the official client. Fetches once per session.

Each kind is listed once per namespace per run, paged (PAGE objects a page, at most MAX_OBJECTS,
MAX_PAGES pages and LIST_DEADLINE_CALLS x --api-timeout a list), like `kubectl get deployment`:
deployments and HPAs whole; pods never whole, only by label selector on the API server (`kubectl
get pods -l ...`): the runner's pods by the runner deployment's whole selector (else
app=<runner-name>), the operators' pods by the selectors of the deployments named blink-operator*
(the runbook's grep), so a namespace of thousands of unrelated pods costs nothing. Events are
listed per object that needs them as evidence (field selector involvedObject.name). Log windows
are read once per pod, LOG_WORKERS at a time (each read bounded by --log-timeout, each call by
--api-timeout). The operator re-check is the one deliberate re-read: it polls with a deadline.
Every API request is counted (results.json's target.api_requests).

Every call is bounded by --api-timeout (blinkcheck.kubernetes.client). Anything that stops us from looking
raises CouldNotLook naming the precondition that stood in the way: the API server
(k8s.cluster.api-reachable) or a missing permission (k8s.cluster.permissions, with the exact
verb and resource). Secret values never leave this module: only key names (and which keys are
empty) go on, and every value touched is registered with the redactor first.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import Any

from blinkcheck.catalog import KUBERNETES_API as PRECONDITION
from blinkcheck.catalog import KUBERNETES_PERMISSIONS as PERMISSIONS
from blinkcheck.catalog import Catalog
from blinkcheck.config import TargetSpec
from blinkcheck.kubernetes.client import PARALLEL_READS, ApiError, Kube, KubeConfigError, connect_bounded
from blinkcheck.kubernetes.deployment import secret_refs_to_check
from blinkcheck.kubernetes.facts import (
    OPERATOR_PREFIX,
    DeploymentFacts,
    EventFacts,
    HpaFacts,
    LimitFacts,
    NetworkPolicyFacts,
    NodeFacts,
    OperatorFacts,
    PodFacts,
    QuotaFacts,
    SecretFacts,
)
from blinkcheck.kubernetes.parse import (
    deployment_facts,
    event_facts,
    group_operators,
    hpa_facts,
    limit_facts,
    network_policy_facts,
    node_facts,
    pod_facts,
    quota_facts,
    selector_text,
)
from blinkcheck.kubernetes.preconditions import Access, ApiFacts, subject_flag
from blinkcheck.kubernetes.reads import READ, READS, Read
from blinkcheck.kubernetes.upgrade import Wait
from blinkcheck.logs.scan import LogPatterns, LogScan, LogWindow, NewestBytes
from blinkcheck.model import CouldNotLook, human
from blinkcheck.packet_objects import k8s_object_for_packet, packet_json
from blinkcheck.probe.environment import proxy_for
from blinkcheck.redact import Redactor
from blinkcheck.run import DeadlineExceeded
from blinkcheck.streaming import bounded_parallel, read_whole

PAGE = 500
MAX_OBJECTS = 5000  # per kind and namespace: a bound, not an expectation
MAX_PAGES = MAX_OBJECTS // PAGE + 2  # a list takes at most this many calls...
LIST_DEADLINE_CALLS = 3  # ...and at most this many --api-timeout in all
LOG_WORKERS = PARALLEL_READS  # log windows read at the same time (the client's connection pool is sized to match)
BUNDLE_LOG_BYTES = 16 * 1024 * 1024  # the newest bytes of each log kept in the escalation packet
POLL_EVERY_S = 3.0



GONE = "gone"  # marker from _read_log: the pod no longer exists


def _now() -> datetime:
    return datetime.now(UTC)


class KubernetesFacts:
    def __init__(
        self, spec: TargetSpec, redactor: Redactor, catalog: Catalog, notify: Callable[[str], None] = print
    ) -> None:
        self.spec = spec
        self.notify = notify  # progress on long waits, shown on the terminal even under -q
        self.redactor = redactor
        self.patterns = LogPatterns.from_catalog(catalog)
        self.catalog = catalog
        self._clock_offset = timedelta(0)
        self._logs: dict[tuple[str, str], LogWindow | CouldNotLook] = {}
        self._pod_lists: dict[tuple[str, str], list[PodFacts]] = {}  # (namespace, label selector) -> pods
        self._events: dict[tuple[str, str], list[EventFacts] | None] = {}
        self._secrets: dict[tuple[str, str], SecretFacts] = {}
        self._deployments: dict[str, list[DeploymentFacts]] = {}
        self._wait_deadline: float | None = None
        # Raw objects looked at, environment values withheld: for the escalation packet only.
        self._raw: dict[str, dict[str, Any]] = {}
        self._endless: dict[tuple[Any, ...], CouldNotLook] = {}  # lists that did not end, remembered
        self._cluster_lists: dict[tuple[str, str], list[Any]] = {}  # (read, namespace) -> facts (past the runbook)
        self._nodes: dict[str, NodeFacts] = {}

    # -- the API server -----------------------------------------------------------------

    @cached_property
    def _client_or_error(self) -> tuple[Kube | None, str]:
        try:
            return connect_bounded(self.spec), ""
        except KubeConfigError as exc:
            return None, str(exc)
        except Exception as exc:
            return None, f"{type(exc).__name__}: {exc}"

    @cached_property
    def api_server(self) -> ApiFacts:
        """GET /version with the configured credentials (a rejected token is a 401 here)."""
        kube, error = self._client_or_error
        if kube is None:
            return ApiFacts(False, "", self.spec.kube_context or "", self.spec.namespace or "", error=error)
        t = kube.target
        ns = self.spec.namespace or t.namespace
        try:
            version, date = kube.json("GET /version", kube.api("VersionApi").get_code)
        except ApiError as exc:
            why = exc.reason
            if exc.status == 401:
                why = f"the API server rejected the credentials (HTTP 401): {why}"
            return ApiFacts(False, t.server, t.context, ns, error=why)
        self._set_clock(date)
        return ApiFacts(True, t.server, t.context, ns, version=str(version.get("gitVersion", "")))

    @property
    def api_requests(self) -> int:
        """The API requests made so far (every call, list page, log read and exec stream); never connects."""
        kube = self.__dict__.get("_client_or_error", (None, ""))[0]
        return kube.requests if kube is not None else 0

    @property
    def client(self) -> Kube:
        """The client, or CouldNotLook naming the precondition."""
        if not self.api_server.reachable:
            where = self.api_server.server or "the Kubernetes API server"
            raise CouldNotLook(f"{where} unreachable: {self.api_server.error}", because_of=PRECONDITION)
        kube = self._client_or_error[0]
        assert kube is not None
        return kube

    def _set_clock(self, date_header: str) -> None:
        """Ages are judged on the API server's clock (a skewed laptop clock must not make an operator overdue)."""
        try:
            server = parsedate_to_datetime(date_header)
        except (TypeError, ValueError):
            return
        if server.tzinfo is not None:
            self._clock_offset = server - _now()

    def now(self) -> datetime:
        return _now() + self._clock_offset

    @cached_property
    def subject(self) -> str:
        """The user the API server sees (SelfSubjectReview), else the kubeconfig's user entry."""
        kube = self.client
        from kubernetes import client

        try:
            body = client.V1SelfSubjectReview()
            out, _ = kube.json("POST selfsubjectreviews", kube.api("AuthenticationV1Api").create_self_subject_review,
                               body)  # fmt: skip
            name = ((out.get("status") or {}).get("userInfo") or {}).get("username")
            if name:
                return str(name)
        except ApiError:
            pass
        return kube.target.user or "the suite's user"

    # -- where to look ---------------------------------------------------------------------

    @cached_property
    def namespaces(self) -> tuple[str, ...]:
        """--namespace, else --all-namespaces (where a deployment named --runner-name is), else the context's."""
        if self.spec.namespace:
            return (self.spec.namespace,)
        if not self.spec.all_namespaces:
            return (self.api_server.namespace or "default",)
        kube = self.client
        apps = kube.api("AppsV1Api")
        try:
            data, _ = kube.json("GET deployments (all namespaces)", apps.list_deployment_for_all_namespaces,
                                field_selector=f"metadata.name={self.spec.runner_name}", limit=PAGE)  # fmt: skip
        except ApiError as exc:
            if exc.status == 403:
                raise CouldNotLook(
                    f"--all-namespaces: missing permission: list deployments.apps in all namespaces ({exc.reason})",
                    how_to_fix=self.catalog.advise("kubernetes-all-namespaces"),
                    because_of=PERMISSIONS,
                ) from None
            raise self._could_not_look(exc) from None
        found = sorted({str(i["metadata"]["namespace"]) for i in data.get("items") or []})
        return tuple(found) or (self.api_server.namespace or "default",)

    @property
    def namespace_text(self) -> str:
        return ", ".join(self.namespaces)

    # -- permissions --------------------------------------------------------------------------

    def _needed_reads(self) -> list[Read]:
        return [r for r in READS if r.key != "exec" or self.spec.probe]

    @cached_property
    def accesses(self) -> list[Access]:
        """SelfSubjectAccessReview for every read the checks need, in every namespace looked at."""
        kube = self.client
        from kubernetes import client

        authz = kube.api("AuthorizationV1Api")
        out: list[Access] = []
        needed = self._needed_reads()
        asks = [(ns, r) for ns in self.namespaces for r in needed if not r.cluster]  # deployments before secret:
        asks += [("", r) for r in needed if r.cluster]  # the secret's name is in the deployment; cluster reads once
        for ns, r in asks:
            name = self._secret_name_for_review(ns, out) if r.key == "secret" else ""
            attrs = client.V1ResourceAttributes(
                namespace=ns or None, verb=r.verb, resource=r.resource, group=r.group,
                subresource=r.subresource or None, name=name or None,
            )  # fmt: skip
            body = client.V1SelfSubjectAccessReview(
                spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=attrs)
            )
            choice = r.choice or (r.key == "exec" and not self.spec.probe_strict)  # skipped without it
            base = Access(r.verb, r.resource_text, ns, self.catalog.readers(r.key), name=name, optional=r.optional,
                             choice=choice)  # fmt: skip
            try:
                data, _ = kube.json("POST selfsubjectaccessreviews", authz.create_self_subject_access_review, body)
            except ApiError as exc:
                out.append(replace(base, allowed=None, detail=exc.reason))
                continue
            status = data.get("status") or {}
            out.append(replace(base, allowed=bool(status.get("allowed")), detail=str(status.get("reason") or "")))
        return out

    def _secret_name_for_review(self, namespace: str, so_far: list[Access]) -> str:
        dep_ok = any(a.namespace == namespace and a.resource == "deployments.apps" and a.allowed is not False
                     for a in so_far)  # fmt: skip
        deployment = None
        if dep_ok:
            try:
                deployment = next((d for d in self._deployments_in(namespace, check=False)
                                   if d.name == self.spec.runner_name), None)  # fmt: skip
            except CouldNotLook:
                deployment = None
        return secret_refs_to_check(deployment)[0][0]

    def require(self, key: str, namespace: str) -> None:
        """Raise CouldNotLook for a read SelfSubjectAccessReview said is denied (only the checks that need it)."""
        denied = self._denied(key, namespace)
        if denied is not None:
            raise self._missing(denied)

    def _denied(self, key: str, namespace: str) -> Access | None:
        r = READ[key]
        where = "" if r.cluster else namespace
        return next((a for a in self.accesses if a.namespace == where and a.verb == r.verb
                     and a.resource == r.resource_text and a.allowed is False), None)  # fmt: skip

    def not_granted(self, key: str, namespace: str = "") -> str:
        """A read the user chose not to grant (the checks past the runbook's): why its check is skipped and the
        grant that enables it; "" when it is granted (or could not be asked: the read itself then says)."""
        a = self._denied(key, namespace)
        if a is None or not a.choice:
            return ""
        grant = a.grant(subject_flag(self.subject))
        if READ[key].cluster:
            how = self.catalog.advise("kubernetes-nodes-grant", subject=self.subject, grant=grant)
        else:
            how = self.catalog.advise("kubernetes-choice-grant", subject=self.subject, grant=grant)
        return f"{self.subject} may not {a.text} (not granted: your choice). To enable this check: {how}"

    def _missing(self, a: Access) -> CouldNotLook:
        grant = a.grant(subject_flag(self.subject))
        return CouldNotLook(
            f"missing permission: {a.text}",
            how_to_fix=self.catalog.advise("kubernetes-grant", subject=self.subject, grant=grant),
            because_of=PERMISSIONS,
        )

    def _could_not_look(self, exc: ApiError, key: str = "", namespace: str = "") -> CouldNotLook:
        if exc.status == 403 and key:
            r = READ[key]
            a = Access(r.verb, r.resource_text, namespace, self.catalog.readers(r.key))
            missing = self._missing(a)
            missing.reason += f" (the API server said: {exc.reason})"
            return missing
        if exc.status == 401:
            return CouldNotLook(f"{exc.what}: the API server rejected the credentials: {exc.reason}",
                                because_of=PRECONDITION)  # fmt: skip
        if exc.status == 0:
            return CouldNotLook(f"{exc.what}: no answer from the API server: {exc.reason}", because_of=PRECONDITION)
        return CouldNotLook(f"Kubernetes API call {exc.what} failed (HTTP {exc.status}): {exc.reason}")

    # -- lists, once per kind and namespace ---------------------------------------------------

    def _list(
        self, key: str, what: str, fn: Callable[..., Any], namespace: str, check: bool = True, **kwargs: Any
    ) -> list[dict[str, Any]]:
        if check:
            self.require(key, namespace)
        kube = self.client
        memo = (what, namespace, tuple(sorted(kwargs.items())))
        if memo in self._endless:  # one bounded attempt per run, not one per check
            raise self._endless[memo]
        items: list[dict[str, Any]] = []
        cont = None
        # Bounded end to end, not only per call: a `continue` token that never ends (a broken or hostile
        # API server, a proxy) stops at MAX_PAGES or the list's deadline, as "could not look".
        deadline = time.monotonic() + LIST_DEADLINE_CALLS * self.spec.api_timeout_s
        pages = 0
        while pages < MAX_PAGES:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            pages += 1
            extra: dict[str, Any] = {"_continue": cont} if cont else {}
            try:
                data, date = kube.json(f"GET {what} -n {namespace}", fn, namespace, limit=PAGE,
                                       timeout_s=min(self.spec.api_timeout_s, left), **extra, **kwargs)  # fmt: skip
            except ApiError as exc:
                raise self._could_not_look(exc, key, namespace) from None
            self._set_clock(date)
            items += data.get("items") or []
            cont = (data.get("metadata") or {}).get("continue")
            if not cont:
                return items
            if len(items) >= MAX_OBJECTS:
                break
        limits = f"limits: {MAX_OBJECTS} objects, {MAX_PAGES} pages, {LIST_DEADLINE_CALLS * self.spec.api_timeout_s:g}s"
        if len(items) >= MAX_OBJECTS:  # never judged on a part of the list
            why = f"more than {len(items)} {what} in {namespace}: listed only in part ({limits} per list)"
        else:
            why = (f"listing {what} in {namespace} did not end: the API server still answered with a `continue` "
                   f"token after {pages} page(s) and {len(items)} object(s) ({limits} per list)")  # fmt: skip
        self._endless[memo] = CouldNotLook(why)
        raise self._endless[memo]

    def _deployments_in(self, namespace: str, check: bool = True) -> list[DeploymentFacts]:
        if check:  # first: the access reviews read the deployments themselves (the Secret's name)
            self.require("deployments", namespace)
        if namespace not in self._deployments:
            apps = self.client.api("AppsV1Api")
            raw = self._list("deployments", "deployments", apps.list_namespaced_deployment, namespace, check=False)
            self._keep_raw("deployment", raw)
            self._deployments[namespace] = [deployment_facts(d) for d in raw]
        return self._deployments[namespace]

    @property
    def deployments(self) -> list[DeploymentFacts]:
        return [d for ns in self.namespaces for d in self._deployments_in(ns)]

    def _pods_in(self, namespace: str, selector: str, fresh: bool = False) -> list[PodFacts]:
        """`kubectl get pods -l <selector>`: filtered by the API server, one paged list per selector and namespace
        (remembered; `fresh`: a new look, for the operator re-check)."""
        key = (namespace, selector)
        if fresh or key not in self._pod_lists:
            core = self.client.api("CoreV1Api")
            raw = self._list("pods", f"pods -l {selector}", core.list_namespaced_pod, namespace,
                             label_selector=selector)  # fmt: skip
            pods = sorted((pod_facts(p) for p in raw), key=lambda p: p.name)
            if fresh:
                return pods
            self._keep_raw("pod", raw)
            self._pod_lists[key] = pods
        return self._pod_lists[key]

    @property
    def pods(self) -> list[PodFacts]:
        """The pods looked at: the runner's and the operators' (never every pod of the namespace)."""
        seen = {(p.namespace, p.name): p for p in self.runner_pods()}
        seen.update(((p.namespace, p.name), p) for o in self.operators for p in o.pods)
        return sorted(seen.values(), key=lambda p: (p.namespace, p.name))

    def _keep_raw(self, kind: str, items: list[dict[str, Any]]) -> None:
        """Register every secret value an object shows (literal env values, secret-looking flags in command and
        args, probe header values), then keep it by allow-list for the packet (values withheld)."""
        for item in items:
            spec = item.get("spec") or {}
            pod_spec = (spec.get("template") or {}).get("spec") or spec
            kinds = ("initContainers", "containers", "ephemeralContainers")
            for c in [c for k in kinds for c in pod_spec.get(k) or []]:
                self.redactor.add_env(f"{e.get('name', '')}={e['value']}" for e in c.get("env") or [] if "value" in e)
                for e in c.get("env") or []:  # a proxy's URL may carry its password (curl -v prints it)
                    if "PROXY" in str(e.get("name", "")).upper() and e.get("value"):
                        self.mask_proxy(str(e["value"]))
                self.redactor.add_args([*(c.get("command") or []), *(c.get("args") or [])])
                for probe in (c.get("livenessProbe"), c.get("readinessProbe"), c.get("startupProbe")):
                    headers = ((probe or {}).get("httpGet") or {}).get("httpHeaders") or []
                    self.redactor.add_env(f"{h.get('name', '')}={h.get('value', '')}" for h in headers)
            meta = item.get("metadata") or {}
            self._raw[f"{kind}/{meta.get('namespace')}/{meta.get('name')}"] = k8s_object_for_packet(item)

    # -- the escalation packet -------------------------------------------------------------------

    BUNDLE_LOG_TAIL = 20_000

    def mask_proxy(self, value: str) -> None:
        self.redactor.add(value)
        proxy = proxy_for("https://x", {"HTTPS_PROXY": value})
        if proxy is not None and proxy.password:
            self.redactor.add(proxy.password)

    def bundle_files(self, redact: Callable[[str], str]) -> dict[str, str]:
        """Versions; the runner's and operators' objects (env values withheld), events and fuller logs."""
        if not self.api_server.reachable:
            return {"kubernetes/error.txt": redact(f"API server unreachable: {self.api_server.error}\n")}
        api = self.api_server
        files = {"kubernetes/versions.txt": f"Kubernetes API server {api.version} ({api.server})\n"}
        wanted = {f"pod/{p.namespace}/{p.name}" for p in self.runner_pods()}
        wanted |= {f"pod/{p.namespace}/{p.name}" for o in self.operators for p in o.pods}
        wanted |= {f"deployment/{d.namespace}/{d.name}" for d in self.runner_deployments}
        wanted |= {f"deployment/{o.namespace}/{o.name}" for o in self.operators if o.deployment}
        for key in sorted(wanted & self._raw.keys()):
            files[f"kubernetes/{key.replace('/', '_')}.json"] = redact(packet_json(self._raw[key]))
        pods = [p for p in self.pods if f"pod/{p.namespace}/{p.name}" in wanted]
        for p in pods:
            events = self.events(p.namespace, p.name)
            if events is not None:
                files[f"kubernetes/pod_{p.namespace}_{p.name}.events.txt"] = redact(
                    "\n".join(f"{e.last_seen} {e.type} {e.reason}: {e.message}" for e in events) + "\n"
                )
            for c in p.containers:
                for previous in (False, True) if c.restart_count else (False,):
                    newest = NewestBytes(BUNDLE_LOG_BYTES)
                    try:
                        cut, error = self._read_log(p, c.name, previous, newest.feed, tail=self.BUNDLE_LOG_TAIL)
                        text = newest.text() + (f"…[{cut}]\n" if cut else "") if not error else ""
                        text = text or f"(could not read: {error or 'empty'})\n"
                    except CouldNotLook as exc:
                        text = f"(could not read: {exc.reason})\n"
                    suffix = ".previous.log" if previous else ".log"
                    files[f"kubernetes/pod_{p.namespace}_{p.name}_{c.name}{suffix}"] = redact(text)
        return files

    @cached_property
    def hpas(self) -> list[HpaFacts] | None:
        """autoscaling/v2 HPAs; None when they could not be read (then every pod's logs are read anyway)."""
        api = self.client.api("AutoscalingV2Api")
        out = []
        try:
            for ns in self.namespaces:
                raw = self._list("hpas", "horizontalpodautoscalers", api.list_namespaced_horizontal_pod_autoscaler, ns)
                out += [hpa_facts(h) for h in raw]
        except CouldNotLook:
            return None
        return out

    # -- the runner ---------------------------------------------------------------------------

    @property
    def runner_deployments(self) -> list[DeploymentFacts]:
        return [d for d in self.deployments if d.name == self.spec.runner_name]

    def runner_deployment(self, namespace: str) -> DeploymentFacts | None:
        return next((d for d in self.runner_deployments if d.namespace == namespace), None)

    def runner_selector(self, namespace: str) -> tuple[tuple[str, str], ...]:
        d = self.runner_deployment(namespace)
        return d.selector if d and d.selector else (("app", self.spec.runner_name),)

    def runner_selector_query(self, namespace: str) -> str:
        """The runner deployment's whole selector (`kubectl get pods -l ...`), else app=<runner-name>."""
        d = self.runner_deployment(namespace)
        return (d.selector_query if d else "") or selector_text(self.runner_selector(namespace))

    def runner_pods(self, namespace: str | None = None) -> list[PodFacts]:
        namespaces = (namespace,) if namespace else self.namespaces
        return [
            p for ns in namespaces for p in self._pods_in(ns, self.runner_selector_query(ns))
            if not p.name.startswith(OPERATOR_PREFIX)
        ]  # fmt: skip

    def hpa_for(self, deployment: DeploymentFacts | None) -> HpaFacts | None:
        if deployment is None or not self.hpas:
            return None
        return next((h for h in self.hpas if h.targets(deployment)), None)

    def runner_container(self, p: PodFacts) -> str:
        names = [c.name for c in p.containers]
        return self.spec.runner_name if self.spec.runner_name in names else (names[0] if names else "")

    # -- past the runbook: NetworkPolicies, ResourceQuotas, LimitRanges, the runner pods' nodes -------------------

    def _listed(self, key: str, api: str, method: str, namespace: str, parse: Callable[[Any], Any]) -> list[Any]:
        memo = (key, namespace)
        if memo not in self._cluster_lists:
            fn = getattr(self.client.api(api), method)
            self._cluster_lists[memo] = [parse(item) for item in self._list(key, key, fn, namespace)]
        return self._cluster_lists[memo]

    def network_policies(self, namespace: str) -> list[NetworkPolicyFacts]:
        """`kubectl get networkpolicy -n NS`."""
        return self._listed("networkpolicies", "NetworkingV1Api", "list_namespaced_network_policy", namespace,
                            network_policy_facts)  # fmt: skip

    def resource_quotas(self, namespace: str) -> list[QuotaFacts]:
        """`kubectl get resourcequota -n NS` (hard and used)."""
        return self._listed("resourcequotas", "CoreV1Api", "list_namespaced_resource_quota", namespace, quota_facts)

    def limit_ranges(self, namespace: str) -> list[LimitFacts]:
        """`kubectl get limitrange -n NS`, one fact per item (Container, Pod)."""
        items = self._listed("limitranges", "CoreV1Api", "list_namespaced_limit_range", namespace, limit_facts)
        return [x for item in items for x in item]

    def node(self, name: str) -> NodeFacts:
        """`kubectl get node NAME`: its conditions (one GET per node a runner pod runs on, once per run)."""
        if name not in self._nodes:
            self.require("nodes", "")
            kube = self.client
            try:
                data, _ = kube.json(f"GET nodes/{name}", kube.api("CoreV1Api").read_node, name)
            except ApiError as exc:
                if exc.status != 404:
                    raise self._could_not_look(exc, "nodes", "") from None
                self._nodes[name] = NodeFacts(name, found=False)
                return self._nodes[name]
            self._nodes[name] = node_facts(data)
        return self._nodes[name]

    # -- events, logs ---------------------------------------------------------------------------

    def events(self, namespace: str, name: str) -> list[EventFacts] | None:
        """Recent events of one object (`kubectl describe`); None when they could not be read (evidence only)."""
        key = (namespace, name)
        if key not in self._events:
            core = self.client.api("CoreV1Api")
            try:
                items = self._list("events", "events", core.list_namespaced_event, namespace,
                                   field_selector=f"involvedObject.name={name}")  # fmt: skip
                self._events[key] = [event_facts(e) for e in items]
            except CouldNotLook:
                self._events[key] = None
        return self._events[key]

    def read_logs(self, pods: list[PodFacts]) -> None:
        """Every window of these pods not read yet (their runner containers), LOG_WORKERS at a time: the reads
        then cost about the slowest few, not their sum. Each stays bounded by --log-timeout and each call by
        --api-timeout; what a read found (or why it could not look) is kept for log_window."""
        todo = [(p, self.runner_container(p)) for p in pods if p.has_run]
        todo = [(p, c) for p, c in todo if (f"{p.namespace}/{p.name}", c) not in self._logs]
        if len(todo) < 2:
            return
        try:
            for ns in sorted({p.namespace for p, _ in todo}):
                self.require("logs", ns)  # the access review and the client, once, before the threads
        except CouldNotLook:
            return  # log_window says why, for each pod
        for (p, container), window in bounded_parallel(self._window, todo, LOG_WORKERS):
            self._logs[(f"{p.namespace}/{p.name}", container)] = window

    def log_window(self, p: PodFacts, container: str | None = None) -> LogWindow:
        """The whole window (--log-tail, --log-since), streamed through the pattern scan; after a restart the
        previous container's window first (`kubectl logs --previous`), so one timeline spans both. Read once
        per pod and container (read_logs reads many at a time); a read that could not look raises the same
        CouldNotLook for every check that asks."""
        container = container or self.runner_container(p)
        key = (f"{p.namespace}/{p.name}", container)
        if key not in self._logs:
            self.require("logs", p.namespace)
            self._logs[key] = self._window((p, container))
        window = self._logs[key]
        if isinstance(window, CouldNotLook):
            raise window
        return window

    def _window(self, pod_container: tuple[PodFacts, str]) -> LogWindow | CouldNotLook:
        p, container = pod_container
        try:
            c = next((x for x in p.containers if x.name == container), None)
            source = f"pod {p.namespace}/{p.name}" + (f" container {container}" if len(p.containers) > 1 else "")
            scan = LogScan(self.patterns, stamped=True, clean=self.redactor)
            cuts = []
            if c is not None and c.restart_count > 0:
                cut, error = self._read_log(p, container, True, scan.feed)
                cuts.append(cut)  # a previous container that cannot be read (gone, 400) only adds nothing
                scan.start_current()
            cut, error = self._read_log(p, container, False, scan.feed)
            cuts.append(cut)
            window = scan.window(source, self.spec.log_window, cut="; ".join(c for c in cuts if c))
            if error == GONE:
                why = f"{p.label} was gone during the run (deleted after it was listed; its log read answered 404)"
                window = replace(window, error=why, gone=True)
            elif error:
                window = replace(window, error=error)
            return window
        except DeadlineExceeded:
            raise
        except CouldNotLook as exc:
            return exc

    def _read_log(self, p: PodFacts, container: str, previous: bool, feed: Callable[[bytes], None],
                  tail: int | None = None) -> tuple[str, str]:  # fmt: skip
        """One `kubectl logs --timestamps` read, fed to `feed`. Returns (why it stopped early, why it could not
        be read); raises CouldNotLook when the API did not answer or refused."""
        kube = self.client
        core = kube.api("CoreV1Api")
        what = f"GET pods/{p.name}/log" + (" (previous)" if previous else "")
        window = {} if tail else {"since_seconds": max(1, int(self.spec.log_since_s)), "timestamps": True}

        def open_response() -> Any:
            return kube.call(
                what, core.read_namespaced_pod_log, p.name, p.namespace, container=container or None,
                tail_lines=tail or self.spec.log_tail, previous=previous, _preload_content=False, **window,
            )  # fmt: skip

        try:
            return read_whole(open_response, feed, self.spec.log_timeout_s), ""
        except ApiError as exc:
            if exc.status == 403:
                raise self._could_not_look(exc, "logs", p.namespace) from None
            if exc.status in (0, 401):
                raise self._could_not_look(exc) from None
            if exc.status == 404 and not previous:
                return "", GONE
            return "", exc.reason  # 400: not started yet, previous container gone, ...
        except Exception as exc:
            raise CouldNotLook(f"{what}: the API server stopped answering mid-read: {exc}",
                               because_of=PRECONDITION) from None  # fmt: skip

    # -- secrets: key names only ----------------------------------------------------------------

    def secret_names(self, namespace: str) -> list[str]:
        try:
            d = self.runner_deployment(namespace)
        except CouldNotLook:
            d = None
        return [n for n, _ in secret_refs_to_check(d)]

    def secret(self, namespace: str, name: str) -> SecretFacts:
        key = (namespace, name)
        if key not in self._secrets:
            self.require("secret", namespace)
            kube = self.client
            core = kube.api("CoreV1Api")
            try:
                data, _ = kube.json(f"GET secrets/{name} -n {namespace}", core.read_namespaced_secret, name, namespace)
            except ApiError as exc:
                if exc.status == 404:
                    self._secrets[key] = SecretFacts(namespace, name, False)
                    return self._secrets[key]
                raise self._could_not_look(exc, "secret", namespace) from None
            values = {**(data.get("data") or {}), **(data.get("stringData") or {})}
            for v in values.values():  # never leave here: registered, then dropped
                self.redactor.add(str(v))
                try:
                    self.redactor.add(base64.b64decode(str(v)).decode("utf-8", "replace"))
                except ValueError:
                    pass
            empty = tuple(sorted(k for k, v in values.items() if not v))
            self._secrets[key] = SecretFacts(namespace, name, True, tuple(sorted(values)), empty)
            del data, values
        return self._secrets[key]

    def prime_secrets(self) -> list[str]:
        """At session start, before the first check shows anything: the literal env values of the runner's pod
        specs and the data of the Secret(s) its deployment reads are registered with the redactor (lists and
        reads are remembered for the checks). When a Secret cannot be read, the redactor turns strict and
        the returned note says so."""
        notes: list[str] = []
        if not self.api_server.reachable:
            return notes  # nothing can be read, so nothing can leak from there; the checks say why
        try:
            namespaces = self.namespaces
        except DeadlineExceeded:
            raise
        except CouldNotLook:
            return notes  # --all-namespaces without the right to list: the checks say why
        try:
            _ = self.pods  # literal env values, flags and probe headers of every pod spec (and deployments below)
        except DeadlineExceeded:
            raise
        except CouldNotLook:
            pass  # pods cannot be listed: their logs cannot be matched to runners either
        for ns in namespaces:
            for name in self.secret_names(ns):
                try:
                    self.secret(ns, name)
                except DeadlineExceeded:
                    raise
                except CouldNotLook as exc:
                    self.redactor.strict = True
                    notes.append(
                        f"The runner's Secret {ns}/{name} could not be read ({exc.reason}): the suite does not "
                        "know the runner's key, so stricter redaction applies (random-looking tokens after "
                        "key-like words are masked as well). Grant `get` on this Secret (rbac/role.yaml) for "
                        "exact redaction."
                    )
        return notes

    # -- operators --------------------------------------------------------------------------------

    @property
    def operators(self) -> list[OperatorFacts]:
        """`kubectl get deployment | grep blink-operator`, then each one's pods by its selector. An operator pod
        without a deployment is not looked for: the suite never lists every pod of the namespace."""
        return [o for ns in self.namespaces for o in self._operators_in(ns, self._deployments_in(ns))]

    def _operators_in(self, namespace: str, deployments: list[DeploymentFacts],
                      fresh: bool = False) -> list[OperatorFacts]:  # fmt: skip
        ops = [d for d in deployments if d.name.startswith(OPERATOR_PREFIX)]
        selectors = dict.fromkeys(d.selector_query or selector_text(d.selector) for d in ops)
        pods = {p.name: p for sel in selectors if sel for p in self._pods_in(namespace, sel, fresh)}
        return group_operators(ops, sorted(pods.values(), key=lambda p: p.name))

    def operators_now(self, namespace: str) -> list[OperatorFacts]:
        """A fresh look (not memoized): the runbook's "check again" after the wait."""
        kube = self.client
        deps = self._list("deployments", "deployments", kube.api("AppsV1Api").list_namespaced_deployment, namespace)
        return self._operators_in(namespace, [deployment_facts(d) for d in deps], fresh=True)

    def wait_for_operator(self, before: OperatorFacts) -> tuple[OperatorFacts | None, Wait]:
        """The runbook's "wait one minute, then check again", only as long as it can change the answer: the API's
        own timestamps say how long the operator has not been running; only the rest of --operator-wait is
        waited (polling), and the terminal says what for and how long is left."""
        allowed = self.spec.operator_wait_s
        if allowed <= 0:
            return before, Wait(0, 0, 0, False)
        since = before.not_running_since()
        already = max(0.0, (self.now() - since).total_seconds()) if since else None
        if already is not None and already >= allowed:
            return before, Wait(allowed, 0, 0, False, already)
        start = time.monotonic()
        if self._wait_deadline is None:  # several stuck operators share the one wait
            self._wait_deadline = start + allowed - (already or 0)
        deadline = self._wait_deadline
        polls = 0
        current: OperatorFacts | None = before
        self.notify(f"waiting up to {human(deadline - start)} for {before.label} to run (the runbook's one-minute "
                    "wait, --operator-wait)")  # fmt: skip
        told = start
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.notify(f"{before.label}: still not running after the wait")
                return current, Wait(allowed, time.monotonic() - start, polls, False, already)
            if time.monotonic() - told >= 15:
                self.notify(f"... {before.label} not running yet, {human(left)} left")
                told = time.monotonic()
            time.sleep(min(POLL_EVERY_S, left))
            polls += 1
            current = next((o for o in self.operators_now(before.namespace) if o.name == before.name), None)
            if current is None or current.running:
                return current, Wait(allowed, time.monotonic() - start, polls, True, already)
