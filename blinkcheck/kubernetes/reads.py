"""The reads the Kubernetes checks make: what the permission check asks the API server (SelfSubjectAccessReview)
and what rbac/role.yaml grants (a unit test holds the two together). Which checks need each read is the
catalog's (a condition's `reads`: Catalog.readers)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Read:
    """One read the checks make: (verb, resource, group, subresource)."""

    key: str
    verb: str
    resource: str
    group: str
    subresource: str
    optional: bool = False  # evidence only: a check goes on without it
    # A grant the user may withhold (the checks past the runbook's): without it its checks are skipped, not failed.
    choice: bool = False
    cluster: bool = False  # cluster-scoped (a ClusterRole grants it): asked once, not per namespace

    @property
    def resource_text(self) -> str:
        res = self.resource + (f".{self.group}" if self.group else "")
        return res + (f"/{self.subresource}" if self.subresource else "")


READS: tuple[Read, ...] = (
    Read("pods", "list", "pods", "", ""),
    Read("deployments", "list", "deployments", "apps", ""),
    Read("logs", "get", "pods", "", "log"),
    Read("secret", "get", "secrets", "", ""),
    Read("exec", "create", "pods", "", "exec"),
    Read("events", "list", "events", "", "", optional=True),
    Read("hpas", "list", "horizontalpodautoscalers", "autoscaling", "", optional=True),
    Read("networkpolicies", "list", "networkpolicies", "networking.k8s.io", "", choice=True),
    Read("resourcequotas", "list", "resourcequotas", "", "", choice=True),
    Read("limitranges", "list", "limitranges", "", "", choice=True),
    Read("nodes", "get", "nodes", "", "", choice=True, cluster=True),
)
READ = {r.key: r for r in READS}
