"""Runbook preconditions on Kubernetes: the API server answers, the reads the checks need are granted. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from blinkcheck.model import Evidence, Finding, Outcome, table

# ------------------------------------------------------------------ judges: preconditions


@dataclass(frozen=True)
class ApiFacts:
    reachable: bool
    server: str
    context: str
    namespace: str
    version: str = ""
    error: str = ""


def judge_api(cid: str, api: ApiFacts) -> Finding:
    values = {"server": api.server or "no server configured", "context": api.context or "(none)",
              "namespace": api.namespace, "reason": api.error}  # fmt: skip
    if api.reachable:
        return Finding(
            cid,
            Outcome.PASSED,
            f"The API server {api.server} (Kubernetes {api.version}) answers; context {api.context}, "
            f"namespace {api.namespace}.",
            object=api.server,
            values=values,
        )
    return Finding(
        cid,
        Outcome.NOT_EVALUABLE,
        f"Could not reach the Kubernetes API server {api.server or '(unknown)'}: {api.error}",
        object=api.server or api.context,
        values=values,
    )


@dataclass(frozen=True)
class Access:
    """One read the checks need, and what SelfSubjectAccessReview said about it."""

    verb: str
    resource: str  # "pods", "pods/log", "deployments.apps", ...
    namespace: str  # "" = every namespace
    needed_by: tuple[str, ...]
    allowed: bool | None = None  # None: the review itself failed
    name: str = ""  # resourceName, when the check reads one object
    optional: bool = False  # only evidence depends on it
    detail: str = ""
    # A grant the user may withhold (create pods/exec with --probe auto): without it a check is skipped,
    # which is no problem of the suite's permissions.
    choice: bool = False

    @property
    def text(self) -> str:
        where = f"in namespace {self.namespace}" if self.namespace else "in all namespaces"
        name = f" ({self.name})" if self.name else ""
        return f"{self.verb} {self.resource}{name} {where}"

    def grant(self, subject_flag: str) -> str:
        res = self.resource
        name = f" --resource-name={self.name}" if self.name else ""
        if self.namespace:
            return f"kubectl create role blink-check-{self.verb}-{_slug(res)} --verb={self.verb} --resource={res}{name} -n {self.namespace} && kubectl create rolebinding blink-check-{self.verb}-{_slug(res)} --role=blink-check-{self.verb}-{_slug(res)} {subject_flag} -n {self.namespace}"  # noqa: E501
        return f"kubectl create clusterrole blink-check-{self.verb}-{_slug(res)} --verb={self.verb} --resource={res} && kubectl create clusterrolebinding blink-check-{self.verb}-{_slug(res)} --clusterrole=blink-check-{self.verb}-{_slug(res)} {subject_flag}"  # noqa: E501


def _slug(resource: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", resource.lower()).strip("-")


def subject_flag(subject: str) -> str:
    """`--user=...` or `--serviceaccount=ns:name` for kubectl create (cluster)rolebinding."""
    m = re.match(r"^system:serviceaccount:([^:]+):(.+)$", subject)
    return f"--serviceaccount={m[1]}:{m[2]}" if m else f"--user={subject}"


def judge_permissions(cid: str, accesses: Sequence[Access], namespace: str, subject: str) -> Finding:
    withheld = [a for a in accesses if a.allowed is False and a.choice]
    missing = [a for a in accesses if a.allowed is False and not a.choice]
    unknown = [a for a in accesses if a.allowed is None and not a.choice]
    rows: list[tuple[str, ...]] = [("VERB", "RESOURCE", "NAMESPACE", "ALLOWED", "NEEDED BY")]
    for a in accesses:
        allowed = {True: "yes", False: "NO", None: "unknown"}[a.allowed]
        why = " (evidence only)" if a.optional else (" (optional: skipped without it)" if a.choice else "")
        rows.append((a.verb, a.resource + (f"/{a.name}" if a.name else ""), a.namespace or "*", allowed,
                     ", ".join(a.needed_by) + why))  # fmt: skip
    evidence = (Evidence("SelfSubjectAccessReview", table(rows), source=subject),)
    flag = subject_flag(subject)
    values = {
        "namespace": namespace,
        "subject": subject,
        "missing": "; ".join(a.text for a in missing) or "nothing",
        "affected": ", ".join(sorted({c for a in missing for c in a.needed_by})) or "none",
        "grant": "\n".join(f"  {a.grant(flag)}" for a in missing),
        "subject_flag": flag,
    }
    if missing:
        required = [a for a in missing if not a.optional]
        return Finding(
            cid,
            Outcome.FAILED if required else Outcome.WARNING,
            f"{subject} lacks {len(missing)} read permission(s): {values['missing']}. "
            f"Only the checks that need them are not evaluable: {values['affected']}.",
            object=subject,
            evidence=evidence,
            values=values,
        )
    if unknown:
        return Finding(
            cid,
            Outcome.WARNING,
            f"Could not ask the API server what {subject} may read ({unknown[0].detail}); "
            "each check reports a refused read itself.",
            object=subject,
            evidence=evidence,
            values=values,
        )
    not_granted = ""
    if withheld:
        skipped = sorted({c for a in withheld for c in a.needed_by})
        not_granted = (f" Not granted, by choice: {'; '.join(a.text for a in withheld)}: {', '.join(skipped)} "
                       f"{'is' if len(skipped) == 1 else 'are'} skipped.")  # fmt: skip
    granted = len(accesses) - len(withheld)
    return Finding(
        cid,
        Outcome.PASSED,
        f"{subject} may read everything the checks look at ({granted} permissions).{not_granted}",
        object=subject,
        evidence=evidence,
        values=values,
    )
