"""The reads the Kubernetes checks make, and which checks need each: what the permission check asks the API server
(SelfSubjectAccessReview) and what rbac/role.yaml grants (a unit test holds the two together)."""

from __future__ import annotations

from dataclasses import dataclass

PODS_EXIST = "k8s.disconnected.pods-exist"
PODS_READY = "k8s.disconnected.pods-ready"
LOGS = "k8s.disconnected.logs-readable"
NET = "k8s.disconnected.no-network-errors"
REACH = "k8s.disconnected.blink-reachable"
OP_STATE = "k8s.upgrade.operator-state"
HANDOFF = "k8s.upgrade.operator-handoff"
STUCK = "k8s.upgrade.operator-stuck"
ROLLBACK = "k8s.upgrade.rollback-overdue"
SECRET = "k8s.runner.secret-present"


@dataclass(frozen=True)
class Read:
    """One read the checks make: (verb, resource, group, subresource) and who needs it."""

    key: str
    verb: str
    resource: str
    group: str
    subresource: str
    needed_by: tuple[str, ...]
    optional: bool = False

    @property
    def resource_text(self) -> str:
        res = self.resource + (f".{self.group}" if self.group else "")
        return res + (f"/{self.subresource}" if self.subresource else "")


READS: tuple[Read, ...] = (
    Read(
        "pods", "list", "pods", "", "", (PODS_EXIST, PODS_READY, LOGS, NET, REACH, OP_STATE, HANDOFF, STUCK, ROLLBACK)
    ),
    Read("deployments", "list", "deployments", "apps", "", (PODS_EXIST, OP_STATE, STUCK, ROLLBACK)),
    Read("logs", "get", "pods", "", "log", (LOGS, NET, HANDOFF)),
    Read("secret", "get", "secrets", "", "", (SECRET,)),
    Read("exec", "create", "pods", "", "exec", (REACH,)),
    Read("events", "list", "events", "", "", (PODS_READY, STUCK), optional=True),
    Read("hpas", "list", "horizontalpodautoscalers", "autoscaling", "", (LOGS,), optional=True),
)
READ = {r.key: r for r in READS}
