"""The lab scenarios' outcome tables, one per platform: every condition's outcome for every object it judges.

Each row is one run of `pytest checks/` against a lab scenario (with the row's options). The integration tests
assert every row whole (tests/integration/test_docker_scenarios.py, test_k8s_scenarios.py): every condition of
the platform, one outcome per object, and the exit code. README's scenario tables are generated from these:

    .venv/bin/python -m tests.scenario_table          # print both tables
    .venv/bin/python -m tests.scenario_table --write  # rewrite them in README.md

tests/unit/test_scenario_table.py fails when README drifts, when a row leaves out a condition, and when a
condition fails in no row without a reason in CANNOT_FAIL.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LETTERS = {"P": "passed", "F": "failed", "W": "warning", "M": "manual", "B": "blocked", "N": "not-evaluable",
           "S": "skipped"}  # fmt: skip
LETTER = {v: k for k, v in LETTERS.items()}


@dataclass(frozen=True)
class Row:
    name: str  # the README's name of the run: the scenario, and its options when it has any
    scenario: str  # the lab scenario (python -m lab.docker up / python -m lab.k8s scenario)
    broken: str  # what is broken, for README
    exit: int
    outcomes: Mapping[str, tuple[str, ...]]  # condition -> one outcome per object (sorted)
    options: tuple[str, ...] = ()  # extra options of `pytest checks/`
    note: str = ""  # how the run is made, when it is not the scenario with the options (README)

    def fails(self, cid: str) -> bool:
        return "failed" in self.outcomes[cid]

    def but(self, **changes: str) -> dict[str, tuple[str, ...]]:
        """The row's outcomes with some cells changed (keys: a condition's last part, `-` as `_`; values: a cell)."""
        out = dict(self.outcomes)
        for key, cell in changes.items():
            [cid] = [c for c in out if c.rsplit(".", 1)[1] == key.replace("_", "-")]
            out[cid] = parse_cell(cell)
        return out


@dataclass(frozen=True)
class Table:
    platform: str
    columns: tuple[str, ...]  # condition ids, in the catalog's order
    rows: dict[str, Row] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Row:
        return self.rows[name]


def parse_cell(cell: str) -> tuple[str, ...]:
    """`P` one object passed; `P+P+F` three objects (one failed)."""
    return tuple(sorted(LETTERS[x] for x in cell.split("+")))


def cell_text(outcomes: tuple[str, ...]) -> str:
    order = list(LETTERS.values())
    return "+".join(LETTER[o] for o in sorted(outcomes, key=order.index))


def table(platform: str, columns: tuple[str, ...], matrix: str, about: Mapping[str, tuple[str, str, tuple[str, ...]]],
          notes: Mapping[str, str] | None = None) -> Table:  # fmt: skip
    """`matrix`: a header line (the conditions' last parts), then one line per row: its name, exit code and one
    cell per condition. `about`: row name -> (lab scenario, what is broken, extra options)."""
    lines = [line for line in matrix.strip().splitlines() if line.strip()]
    header = lines[0].split()
    assert header[:2] == ["run", "exit"], header
    assert tuple(header[2:]) == tuple(c.rsplit(".", 1)[1] for c in columns), f"{platform}: columns {header[2:]}"
    rows = {}
    for line in lines[1:]:
        name, code, *cells = line.split()
        assert len(cells) == len(columns), f"{platform} {name}: {len(cells)} cells for {len(columns)} conditions"
        scenario, broken, options = about[name]
        rows[name] = Row(name, scenario, broken, int(code), dict(zip(columns, map(parse_cell, cells), strict=True)),
                         options, (notes or {}).get(name, ""))  # fmt: skip
    assert set(rows) == set(about), f"{platform}: rows {sorted(set(rows) ^ set(about))} described but not in the matrix"
    return Table(platform, columns, rows)


def _ids(platform: str) -> tuple[str, ...]:
    from blinkcheck.catalog import load_catalog

    return tuple(c.id for c in load_catalog().conditions if c.platform == platform)


# ------------------------------------------------------------------ Docker (lab/docker/scenarios.py)

# Blink's own view: a user's API key (lab/blink_api.py makes it), read from a file as a user gives it.
_DOCKER_STATE = Path(os.environ.get("BLINK_LAB_STATE", "/var/lib/blink-lab")) / "docker"
BLINK_KEY = ("--blink-api-key", f"file:{_DOCKER_STATE / 'blink-api-key'}", "--workspace-id", "lab-workspace")
BLINK_WRONG_KEY = ("--blink-api-key", f"file:{_DOCKER_STATE / 'blink-api-key-wrong'}", "--workspace-id",
                   "lab-workspace")  # fmt: skip

DOCKER = table("docker", _ids("docker"), """
run                  exit daemon-reachable container-exists container-running logs-readable no-network-errors blink-reachable blink-status ready sees-runner group-available indicators new-container-healthy version socket-mounted disk-space memory service-enabled dockerd-proxy oom-killed restart-policy dns-config ca-bundle clock-skew
healthy              0    P                P                P                 P             P                 P               M            P     S           S               P          S                     S       P              P          P      S               P             P          P              P          P         P
no-runner            1    P                F                B                 B             B                 B               M            P     B           S               B          B                     B       B              P          P      S               B             B          B              B          B         B
runner-exited        1    P                P                F                 P             P                 B               M            P     S           S               P          S                     S       P              P          P      S               P             P          W              P          P         B
stale-runner         0    P                P                P+W               P+P           P+P               P+B             M            P     S           S               P+P        S                     S       P+P            P          P      S               P+P           P+P        P+W            P+P        P+P       P+B
logs-unreadable      1    P                P                P                 F             B                 P               M            P     S           S               B          B                     S       P              P          P      S               P             P          P              P          P         P
egress-blocked       1    P                P                P                 P             F                 F               M            P     S           S               P          S                     S       P              P          P      S               P             P          P              P          P         B
dns-dead             1    P                P                P                 P             F                 F               M            P     S           S               P          S                     S       P              P          P      S               P             P          P              P          P         B
tls-inspected        1    P                P                P                 P             F                 F               M            P     S           S               P          S                     S       P              P          P      S               P             P          P              P          P         B
proxy-dead           1    P                P                P                 P             F                 F               M            P     S           S               P          S                     S       P              P          P      S               P             P          P              P          P         B
egress-recovered     0    P                P                P                 P             W                 P               M            P     S           S               P          S                     S       P              P          P      S               P             P          P              P          P         P
runner-misconfigured 1    P                P                P                 P             F                 P               M            P     S           S               P          S                     S       P              P          P      S               P             P          P              P          P         P
upgrade-healthy      0    P                P                P+P               P+P           P+P               P+P             M            P     S           S               P+P        P                     S       P+P            P          P      S               P+P           P+P        P+P            P+P        P+P       P+P
upgrade-failed       1    P                P                P+W               P+P           P+P               P+B             M            P     S           S               P+P        F                     S       P+P            P          P      S               P+P           P+P        W+W            P+P        P+P       P+B
no-socket            1    P                P                P                 P             P                 P               M            P     S           S               P          S                     S       F              P          P      S               P             P          P              P          P         P
blink-sees           0    P                P                P                 P             P                 P               M            P     P           P               P          S                     P       P              P          P      S               P             P          P              P          P         P
blink-stale          1    P                P                P                 P             P                 P               M            P     F           F               P          S                     P       P              P          P      S               P             P          P              P          P         P
blink-old-version    1    P                P                P+P               P+P           P+P               P+P             M            P     P+P         P               P+P        P                     P+F     P+P            P          P      S               P+P           P+P        P+P            P+P        P+P       P+P
blink-key-refused    1    P                P                P                 P             P                 P               M            P     N           N               P          S                     N       P              P          P      S               P             P          P              P          P         P
blink-not-ready      1    P                P                P                 P             P                 P               M            F     B           B               P          S                     B       P              P          P      S               P             P          P              P          P         P
blink-split-view     1    P                P                P                 P             P                 P               M            F     B           B               P          S                     B       P              P          P      S               P             P          P              P          P         P
runner-oom           1    P                P                F                 P             P                 B               M            P     S           S               P          S                     S       P              P          P      S               P             F          W              P          P         B
restart-no           0    P                P                P                 P             P                 P               M            P     S           S               P          S                     S       P              P          P      S               P             P          W              P          P         P
dns-missing          1    P                P                P                 P             F                 F               M            P     S           S               P          S                     S       P              P          P      S               P             P          P              F          P         B
ca-missing           1    P                P                P                 P             F                 F               M            P     S           S               P          S                     S       P              P          P      S               P             P          P              P          F         B
clock-skew           1    P                P                P                 P             P                 P               M            P     S           S               P          S                     S       P              P          P      S               P             P          P              P          P         F
small-host           1    P                P                P                 P             P                 P               M            P     S           S               P          S                     S       P              P          F      S               P             P          P              P          P         P
""", {
    "healthy": ("healthy", "nothing", ()),
    "no-runner": ("no-runner", "no runner container", ()),
    "runner-exited": ("runner-exited", "the runner exited (config missing)", ()),
    "stale-runner": ("stale-runner", "nothing, but an old runner container (exited) is left beside the running one",
                     ()),
    "logs-unreadable": ("logs-unreadable", "the runner's logging driver is `none`: `docker logs` is refused", ()),
    "egress-blocked": ("egress-blocked", "a real iptables rule drops the runner's packets to the stand-in; the runner "
                       "logs real Go timeouts", ()),
    "dns-dead": ("dns-dead", "the runner's nameserver (`--dns 172.30.251.253`, a lab address where nothing answers)",
                 ()),
    "tls-inspected": ("tls-inspected", "a TLS-inspecting proxy: iptables redirects the runner's HTTPS to a listener "
                      "whose certificate comes from another CA", ()),
    "proxy-dead": ("proxy-dead", "`HTTPS_PROXY` (with a password) points at a port on the lab network where nothing "
                   "listens", ()),
    "egress-recovered": ("egress-recovered", "the same rule, removed after two timeouts: the runner connects again",
                         ()),
    "runner-misconfigured": ("runner-misconfigured", "the runner's own Blink URL points at a closed port while the "
                             "path is open", ()),
    "upgrade-healthy": ("upgrade-healthy", "nothing: an upgrade to 1.0.995, the new container runs", ()),
    "upgrade-failed": ("upgrade-failed", "the upgraded container exits with an error (the runner, and so the upgraded "
                       "container, has no restart policy)", ()),
    "no-socket": ("no-socket", "the runner runs without the Docker socket mounted", ()),
    "blink-sees": ("blink-sees", "nothing; Blink's view asked with a user's key: Blink sees the runner", BLINK_KEY),
    "blink-stale": ("blink-stale", "Blink last saw the runner 10 minutes ago while it runs here", BLINK_KEY),
    "blink-old-version": ("blink-old-version", "the upgrade to 1.0.995 ran, but Blink reports 1.0.994 for the new "
                          "container", BLINK_KEY),
    "blink-key-refused": ("blink-sees", "the user's API key is refused (HTTP 401)", BLINK_WRONG_KEY),
    "blink-not-ready": ("blink-not-ready", "Blink's readiness answers HTTP 503", BLINK_KEY),
    "blink-split-view": ("blink-split-view", "Blink's readiness is 200, but iptables sends the runner's HTTPS to a "
                         "listener with Blink's certificate whose readiness answers 503 (something answering for "
                         "Blink on the runner's way)", ()),
    "runner-oom": ("runner-oom", "the runner outgrows its 16 MB memory limit: OOM-killed (State.OOMKilled)", ()),
    "restart-no": ("restart-no", "nothing, but the runner has no restart policy (`--restart no`)", ()),
    "dns-missing": ("dns-missing", "an empty /etc/resolv.conf is mounted over the runner's: no nameserver", ()),
    "ca-missing": ("ca-missing", "the runner's SSL_CERT_FILE names a file the container does not have", ()),
    "clock-skew": ("clock-skew", "the Blink stand-in answers with a Date 5 minutes ahead of the runner's clock", ()),
    "small-host": ("healthy", "nothing, but the host has less memory than `--min-memory 1TB` asks", ("--min-memory",
                                                                                                      "1TB")),
})

# ------------------------------------------------------------------ Kubernetes (lab/k8s/scenarios/)

_K8S_STATE = Path(os.environ.get("BLINK_LAB_STATE", "/var/lib/blink-lab")) / "k8s"
K8S_BLINK_KEY = ("--blink-api-key", f"file:{_K8S_STATE / 'blink-api-key'}", "--workspace-id", "lab-workspace")
K8S_BLINK_WRONG_KEY = ("--blink-api-key", f"file:{_K8S_STATE / 'blink-api-key-wrong'}", "--workspace-id",
                       "lab-workspace")  # fmt: skip
K8S_RBAC_NOTE = "as a ServiceAccount bound to rbac/role.yaml and rbac/role-probe-exec.yaml without `get pods/log`"
K8S_OLDER_ROLE_NOTE = ("as a ServiceAccount bound to rbac/role.yaml and rbac/role-probe-exec.yaml without "
                       "`list networkpolicies, resourcequotas, limitranges`, and no rbac/clusterrole-nodes.yaml")

K8S = table("kubernetes", _ids("kubernetes"), """
run                  exit api-reachable permissions pods-exist pods-ready logs-readable no-network-errors blink-reachable blink-status ready sees-runner group-available operator-state operator-handoff operator-stuck rollback-overdue version secret-present network-policy node-pressure evicted-pods quota-blocks-upgrade clock-skew
healthy              0    P             P           P          P          P             P                 P               M            P     S           S               P              P                P              P                S       P              P              P             P            P                    P
no-pods-log          1    P             F           P          P          N             N                 P               M            P     S           S               P              N                P              P                S       P              P              S             P            P                    P
no-runner            1    P             P           F          B          B             B                 B               M            P     B           S               P              B                P              P                B       P              B              B             B            P                    B
crashloop            1    P             P           P          F          P             P                 B               M            P     S           S               P              P                P              P                S       P              P              P             P            P                    B
pending              1    P             P           P          F          B             B                 B               M            P     S           S               P              B                P              P                S       P              P              S             P            P                    B
hpa                  1    P             P           P          P+P+F      P+P+P         P+P+P             P+P+B           M            P     S           S               P              P+P+P            P              P                S       P              P+P+P          P             P            P                    P+P+B
logs-unreadable      1    P             P           P          P          F             B                 N               M            P     S           S               P              B                P              P                S       P              P              P             P            P                    N
egress-blocked       1    P             P           P          P          P             F                 F               M            P     S           S               P              P                P              P                S       P              P              P             P            P                    B
egress-recovered     0    P             P           P          P          P             W                 P               M            P     S           S               P              P                P              P                S       P              P              P             P            P                    P
runner-misconfigured 1    P             P           P          P          P             F                 P               M            P     S           S               P              P                P              P                S       P              P              P             P            P                    P
dns-dead             1    P             P           P          P          P             F                 F               M            P     S           S               P              P                P              P                S       P              P              P             P            P                    B
tls-inspected        1    P             P           P          P          P             F                 F               M            P     S           S               P              P                P              P                S       P              P              P             P            P                    B
proxy-dead           1    P             P           P          P          P             F                 F               M            P     S           S               P              P                P              P                S       P              P              P             P            P                    B
secret-missing       1    P             P           P          F          B             B                 B               M            P     S           S               P              B                P              P                S       F              P              P             P            P                    B
secret-empty         1    P             P           P          F          P             P                 B               M            P     S           S               P              P                P              P                S       F              P              P             P            P                    B
upgrade-in-progress  0    P             P           P          P          P             P                 P               M            P     S           S               W              P                P              P                S       P              P              P             P            P                    P
rollback-overdue     1    P             P           P          P          P             P                 P               M            P     S           S               W              P                P              F                S       P              P              P             P            P                    P
operator-gone        1    P             P           P          P          P             P                 P               M            P     S           S               P              F                P              P                S       P              P              P             P            P                    P
operator-stuck       1    P             P           P          P          P             P                 P               M            P     S           S               W              F                F              P                S       P              P              P             P            P                    P
operator-rollback    1    P             P           P          P          P             P                 P               M            P     S           S               W              F                F              P                S       P              P              P             P            P                    P
operator-pending     1    P             P           P          P          P             P                 P               M            P     S           S               W              F                F              P                S       P              P              P             P            P                    P
blink-sees           0    P             P           P          P          P             P                 P               M            P     P           P               P              P                P              P                P       P              P              P             P            P                    P
blink-stale          1    P             P           P          P          P             P                 P               M            P     F           F               P              P                P              P                P       P              P              P             P            P                    P
blink-old-version    1    P             P           P          P          P             P                 P               M            P     P           P               P              P                P              P                F       P              P              P             P            P                    P
blink-key-refused    1    P             P           P          P          P             P                 P               M            P     N           N               P              P                P              P                N       P              P              P             P            P                    P
blink-not-ready      1    P             P           P          P          P             P                 P               M            F     B           B               P              P                P              P                B       P              P              P             P            P                    P
older-role           0    P             P           P          P          P             P                 P               M            P     S           S               P              P                P              P                S       P              S              S             P            S                    P
network-policy       1    P             P           P          P          P             P                 P               M            P     S           S               P              P                P              P                S       P              F              P             P            P                    P
node-pressure        1    P             P           P          P          P             P                 P               M            P     S           S               P              P                P              P                S       P              P              F             P            P                    P
evicted-pod          1    P             P           P          P+F        P+P           P+P               P+B             M            P     S           S               P              P+P              P              P                S       P              P+P            P             F            P                    P+B
quota-exhausted      1    P             P           P          P          P             P                 P               M            P     S           S               W              F                F              P                S       P              P              P             P            F                    P
clock-skew           1    P             P           P          P          P             P                 P               M            P     S           S               P              P                P              P                S       P              P              P             P            P                    F
""", {
    "healthy": ("healthy", "nothing", ()),
    "no-runner": ("no-runner", "no runner deployment or pods (its ConfigMap and Secret are there)", ()),
    "crashloop": ("crashloop", "the runner exits 1 at start: CrashLoopBackOff", ()),
    "pending": ("pending", "the runner pod is unschedulable (Pending)", ()),
    "hpa": ("hpa", "an HPA keeps 3 runner pods; one of them crash-loops", ()),
    "logs-unreadable": ("logs-unreadable", "the API server cannot reach the node's kubelet (port 10250 refused): "
                        "`kubectl logs` and `kubectl exec` fail", ()),
    "no-pods-log": ("healthy", "nothing; the suite may not `get pods/log`", ()),
    "older-role": ("healthy", "nothing; the suite may not read NetworkPolicies, ResourceQuotas, LimitRanges or "
                   "nodes (a Role from before the checks past the runbook)", ()),
    "egress-blocked": ("egress-blocked", "iptables drops pod traffic to the stand-in; the runner logs timeouts", ()),
    "egress-recovered": ("egress-recovered", "egress dropped until the runner logged timeouts, then allowed", ()),
    "runner-misconfigured": ("runner-misconfigured", "the runner's own Blink URL is refused while the path is open",
                             ()),
    "dns-dead": ("dns-dead", "the runner pod's nameserver never answers (`dnsPolicy: None`, a lab address)", ()),
    "tls-inspected": ("tls-inspected", "a TLS-inspecting proxy: iptables redirects the pods' HTTPS to a listener "
                      "that re-signs with a CA the runner does not trust", ()),
    "proxy-dead": ("proxy-dead", "`HTTPS_PROXY` (with a password) points at a lab port where nothing listens", ()),
    "upgrade-in-progress": ("upgrade-in-progress", "nothing: the operator runs, the runner logged the handoff", ()),
    "rollback-overdue": ("upgrade-in-progress", "the operator has run longer than the rollback window",
                         ("--rollback-window", "1s")),
    "operator-gone": ("operator-gone", "the runner logged the operator handoff; no operator exists", ()),
    "operator-stuck": ("operator-stuck", "the operator's pod crash-loops", ()),
    "operator-pending": ("operator-pending", "the operator's pod is unschedulable (Pending)", ()),
    "operator-rollback": ("operator-rollback", "the operator fails the upgrade, logs its rollback and exits; its "
                          "deployment restarts it (checked while it waits in CrashLoopBackOff)",
                          ("--operator-wait", "5s")),
    "secret-missing": ("secret-missing", "no secret `blink-runner-secret`: CreateContainerConfigError", ()),
    "secret-empty": ("secret-empty", "the secret's `appKey` is empty: the runner exits 1", ()),
    "blink-sees": ("blink-sees", "nothing; Blink's view asked with a user's key: Blink sees the runner pod",
                   K8S_BLINK_KEY),
    "blink-stale": ("blink-stale", "Blink last saw the runner pod 10 minutes ago while it runs", K8S_BLINK_KEY),
    "blink-old-version": ("blink-old-version", "the runner runs 1.0.995 after an upgrade, but Blink reports 1.0.994",
                          K8S_BLINK_KEY),
    "blink-key-refused": ("blink-sees", "the user's API key is refused (HTTP 401)", K8S_BLINK_WRONG_KEY),
    "blink-not-ready": ("blink-not-ready", "Blink's readiness answers HTTP 503", K8S_BLINK_KEY),
    "network-policy": ("network-policy", "a NetworkPolicy selects the runner pods and allows egress only to the "
                       "cluster's DNS (not enforced by the lab's network: judged from the policy)", ()),
    "node-pressure": ("node-pressure", "the runner's node reports DiskPressure (its status set by the lab, the "
                      "kubelet kept from resetting it)", ()),
    "evicted-pod": ("evicted-pod", "a runner pod Failed with reason Evicted beside the running one", ()),
    "quota-exhausted": ("quota-exhausted", "a ResourceQuota on requests.cpu leaves no room for the operator's pod: "
                        "its deployment cannot create it (exceeded quota)", ()),
    "clock-skew": ("clock-skew", "the pods' HTTPS to the Blink stand-in is answered by a second stand-in whose Date is "
                   "5 minutes ahead of the runner's clock", ()),
}, notes={"no-pods-log": K8S_RBAC_NOTE, "older-role": K8S_OLDER_ROLE_NOTE})

TABLES = {"docker": DOCKER, "kubernetes": K8S}

# Conditions no lab scenario makes fail, and why they cannot.
CANNOT_FAIL = {
    "docker.host.daemon-reachable": "a precondition: an engine that does not answer means the suite could not look, "
    "which is not-evaluable, never failed (the reliability table's faults make it not-evaluable: no socket, nothing "
    "listening, permission denied, ssh)",
    "docker.disconnected.blink-status": "a manual step (the production-alerts channel needs Blink-internal access)",
    "docker.host.service-enabled": "the lab machines run no systemd (PID 1 is not systemd): whether dockerd starts at "
    "boot cannot be looked at, so it is skipped (not-evaluable with --host-checks on); the failures are unit-tested "
    "(tests/unit/test_docker_beyond.py)",
    "docker.host.disk-space": "the lab engine's data root is the machine's own disk; the failures (space, inodes) are "
    "proved on the ssh lab host, whose sessions get a real tmpfs over /var/lib/docker "
    "(tests/integration/test_docker_remote.py::test_the_hosts_data_root_through_ssh)",
    "docker.host.dockerd-proxy": "the lab engine always has a proxy (scripts/engine.sh gives dockerd a dead loopback "
    "proxy so that it can never pull): a runner behind a proxy beside a dockerd without one is unit-tested",
    "docker.runner.restart-policy": "a warning by design, never a failure: the runner runs now, it only will not come "
    "back after a reboot (restart-no, runner-exited and upgrade-failed show the warning)",
    "docker.upgrade.indicators": "it reports what the runner's upgrade lines say (passed), or not-evaluable when the "
    "logs could not be read to the end; an upgrade it finds is judged by docker.upgrade.new-container-healthy",
    "k8s.cluster.api-reachable": "a precondition: an API server that does not answer, or refuses the credentials, "
    "means the suite could not look: not-evaluable (the reliability table's faults), never failed",
    "k8s.disconnected.blink-status": "a manual step (the production-alerts channel needs Blink-internal access)",
    "k8s.upgrade.operator-state": "the runbook's step 3 only looks: a running operator is an upgrade in progress (\"do "
    "nothing, wait\") and one that does not run is judged by k8s.upgrade.operator-stuck after the wait; both warn",
}

DEFAULT_OPTIONS = {
    "docker": "`pytest checks/ --target docker --blink-url https://blink.lab.test:18443 --probe-timeout 4`",
    "kubernetes": "`pytest checks/ --target kubernetes --kubeconfig <the lab's admin kubeconfig> --namespace blink "
    "--blink-url https://blink.lab.test:18443 --operator-wait 10s --probe-timeout 4`",
}


def differences(results: Mapping[str, Any], row: Row, t: Table) -> list[str]:
    """What a run's results.json says differently from its row: every condition, every object, the exit code."""
    got: dict[str, list[str]] = {}
    for c in results["checks"]:
        got.setdefault(c["id"], []).append(c["outcome"])
    out = []
    for cid in t.columns:
        have = tuple(sorted(got.get(cid, [])))
        if have != tuple(sorted(row.outcomes[cid])):
            out.append(f"{cid}: {cell_text(have) or 'no result'}, the table says {cell_text(row.outcomes[cid])}")
    out += [f"{cid}: a result, but no column in the {t.platform} table" for cid in sorted(set(got) - set(t.columns))]
    if results["exit_code"] != row.exit:
        out.append(f"exit code {results['exit_code']}, the table says {row.exit}")
    return out


def assert_row(results: Mapping[str, Any], row: Row, t: Table, context: str = "") -> None:
    diff = differences(results, row, t)
    assert not diff, f"{t.platform} {row.name}: the run differs from its table row:\n" + "\n".join(diff) + context


# ------------------------------------------------------------------ README


def markdown(t: Table) -> str:
    short = [c.split(".", 1)[1] for c in t.columns]
    lines = ["| run | what is broken | exit | " + " | ".join(f"`{s}`" for s in short) + " |",
             "|---|---|---|" + "---|" * len(short)]  # fmt: skip
    for r in t.rows.values():
        how = [r.scenario if r.scenario != r.name else "", f"`{' '.join(r.options)}`" if r.options else "", r.note]
        how_text = ", ".join(x for x in how if x)
        name = f"`{r.name}`" + (f" ({how_text})" if how_text else "")
        cells = [cell_text(r.outcomes[c]) for c in t.columns]
        lines.append(f"| {name} | {r.broken.replace('|', chr(92) + '|')} | {r.exit} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def legend(platform: str) -> str:
    t = TABLES[platform]
    never = [f"`{c}`: {CANNOT_FAIL[c]}" for c in t.columns if c in CANNOT_FAIL]
    return "\n".join([
        f"Each row is one run of {DEFAULT_OPTIONS[platform]} (plus the row's options) and is asserted whole by the "
        "integration tests: every condition, one letter per object it judged (P passed, F failed, W warning, "
        "M manual, B blocked, N not-evaluable, S skipped; `P+W`: two objects), and the exit code. Every condition "
        "fails in at least one row, except:",
        "",
        *[f"- {x}" for x in never],
    ])


def section(platform: str) -> str:
    return f"{markdown(TABLES[platform])}\n\n{legend(platform)}"


def markers(platform: str) -> tuple[str, str]:
    return f"<!-- scenarios:{platform}:start -->", f"<!-- scenarios:{platform}:end -->"


def readme_with_tables(readme: str) -> str:
    for platform in TABLES:
        start, end = markers(platform)
        head, found, rest = readme.partition(start)
        assert found, f"README.md has no {start}"
        _, found, tail = rest.partition(end)
        assert found, f"README.md has no {end}"
        readme = f"{head}{start}\n{section(platform)}\n{end}{tail}"
    return readme


if __name__ == "__main__":
    if "--write" in sys.argv:
        path = ROOT / "README.md"
        path.write_text(readme_with_tables(path.read_text()))
    else:
        print("\n\n".join(section(p) for p in TABLES))
