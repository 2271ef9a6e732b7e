"""The judges beyond the runbook and the clock judge, word for word: each path of blinkcheck/docker/beyond.py,
blinkcheck/kubernetes/beyond.py and blinkcheck/probe/clock.py on canned facts, with the whole finding it gives (outcome,
object, summary, evidence, values, hints, variant) and the remedy the report fills from it, compared with
tests/data/judges/*.json. A changed word, value or comparison shows as a difference (the mutation score of these
modules: docs/mutation.md). After a deliberate change, read the difference, then rewrite the files:

    .venv/bin/python -m tests.unit.test_judges_whole --write
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from blinkcheck.catalog import load_catalog
from blinkcheck.docker import beyond as docker_beyond
from blinkcheck.docker.facts import ContainerFiles
from blinkcheck.model import Finding, Outcome
from blinkcheck.probe import clock
from blinkcheck.probe.result import ProbeResult, Step
from tests.unit.docker_objects import shown
from tests.unit.test_docker_beyond import GB, HOST, INFO, RUNNER

DATA = Path(__file__).resolve().parent.parent / "data" / "judges"
CATALOG = load_catalog()
NOW = 1_796_280_000.0  # 2026-12-03T06:40:00Z
SOCK = "unix:///var/run/docker.sock"
RESOLV = "# written by docker\nnameserver 127.0.0.11\noptions ndots:0\n"
CA = ContainerFiles(resolv_conf=RESOLV, ca_path="/etc/ssl/certs/ca-certificates.crt", ca_certs=140,
                    ca_tried=("/etc/ssl/certs/ca-certificates.crt",))  # fmt: skip
DATE = "Thu, 03 Dec 2026 06:40:00 GMT"  # NOW


def answered(date: str = DATE, clock_at: float = NOW, tool: str = "python", **kw: Any) -> ProbeResult:
    steps = (Step("dns", True, "ok"), Step("tcp", True, "ok"), Step("tls", True, "ok"), Step("http", True, "HTTP 200"))
    return ProbeResult("container blink-runner (3f2a9c1d7e6b)", "https://app.blinkops.com", steps, http_status="200",
                       tool=tool, server_date=date, clock_at=clock_at, **kw)  # fmt: skip


def docker_cases() -> dict[str, Finding]:
    b, c = docker_beyond, RUNNER
    disk, mem, svc = "docker.host.disk-space", "docker.host.memory", "docker.host.service-enabled"
    proxy, oom, restart = "docker.host.dockerd-proxy", "docker.runner.oom-killed", "docker.runner.restart-policy"
    dns, ca, clk = "docker.runner.dns-config", "docker.runner.ca-bundle", "docker.runner.clock-skew"
    proxied = replace(c, env_names=("PATH", "HTTPS_PROXY", "http_proxy"))
    return {
        "host-unavailable-error": b.host_unavailable(disk, replace(HOST, error="ssh: timed out after 10s"), False),
        "host-unavailable-auto": b.host_unavailable(disk, replace(HOST, where="tcp://h:2376", unavailable="no shell "
                                                                  "behind tcp://"), False),
        "host-unavailable-on": b.host_unavailable(disk, replace(HOST, unavailable="no shell"), True),
        "host-unavailable-why": b.host_unavailable(disk, replace(HOST, unavailable="no shell"), False, "another why"),
        "disk-ok": b.judge_disk(disk, HOST, 20 * GB, 90.0),
        "disk-edge": b.judge_disk(disk, replace(HOST, disk_free=20 * GB, inodes_free=100), 20 * GB, 90.0),
        "disk-short": b.judge_disk(disk, replace(HOST, disk_free=3 * GB // 2), 20 * GB, 90.0),
        "disk-inodes": b.judge_disk(disk, replace(HOST, inodes_free=40), 20 * GB, 85.5),
        "disk-both": b.judge_disk(disk, replace(HOST, disk_free=300 * 1024**2, inodes_free=40), 20 * GB, 90.0),
        "disk-no-inodes": b.judge_disk(disk, replace(HOST, inodes_total=0, inodes_free=0), 20 * GB, 90.0),
        "disk-error": b.judge_disk(disk, replace(HOST, disk_error="stat: permission denied"), GB, 90.0),
        "memory-ok": b.judge_memory(mem, INFO, 2 * GB, SOCK),
        "memory-edge": b.judge_memory(mem, replace(INFO, mem_total=2 * GB), 2 * GB, SOCK),
        "memory-low": b.judge_memory(mem, replace(INFO, name="", mem_total=GB), 2 * GB, "ssh://ops@h"),
        "memory-unknown": b.judge_memory(mem, replace(INFO, mem_total=0), 2 * GB, "tcp://h:2376"),
        "service-ok": b.judge_service(svc, HOST, False),
        "service-disabled": b.judge_service(svc, replace(HOST, service_enabled="disabled", service_active="inactive"),
                                            False),
        "service-failed": b.judge_service(svc, replace(HOST, service_active="failed"), False),
        "service-no-systemd": b.judge_service(svc, replace(HOST, systemd=False, init="tini"), False),
        "service-no-systemd-on": b.judge_service(svc, replace(HOST, systemd=False), True),
        "proxy-runner-only": b.judge_dockerd_proxy(proxy, proxied, INFO, SOCK),
        "proxy-both": b.judge_dockerd_proxy(proxy, proxied, replace(
            INFO, https_proxy="http://xxxxx:xxxxx@proxy.corp:3128", no_proxy="localhost,.corp"), SOCK),
        "proxy-not-a-url": b.judge_dockerd_proxy(proxy, proxied, replace(INFO, http_proxy="http://u:p@[proxy:99"),
                                                 SOCK),
        "proxy-dockerd-only": b.judge_dockerd_proxy(proxy, c, replace(INFO, name="", http_proxy="proxy.corp:8080"),
                                                    "tcp://h:2376"),
        "proxy-neither": b.judge_dockerd_proxy(proxy, c, INFO, SOCK),
        "proxy-no-port": b.judge_dockerd_proxy(proxy, c, replace(INFO, http_proxy="http://proxy.corp"), SOCK),
        "proxy-no-host": b.judge_dockerd_proxy(proxy, c, replace(INFO, https_proxy="http://:3128"), SOCK),
        "dns-flag-no-embedded": b.judge_dns(dns, replace(c, dns=("10.0.0.2",)), replace(CA, resolv_conf="nameserver "
                                            "10.0.0.2\n"), "app.blinkops.com"),
        "oom-killed": b.judge_oom(oom, replace(c, oom_killed=True, exit_code=137, memory_limit=16 * 1024**2,
                                               finished_at="2026-12-03T06:00:00Z", status="exited"), INFO),
        "oom-no-limit": b.judge_oom(oom, c, INFO),
        "oom-no-limit-no-info": b.judge_oom(oom, c, None),
        "oom-limit": b.judge_oom(oom, replace(c, memory_limit=3 * GB), replace(INFO, mem_total=0)),
        "restart-ok": b.judge_restart_policy(restart, replace(c, restart_policy="always")),
        "restart-none": b.judge_restart_policy(restart, replace(c, restart_policy="")),
        "restart-on-failure": b.judge_restart_policy(restart, replace(c, restart_policy="on-failure")),
        "dns-ok-embedded": b.judge_dns(dns, replace(c, dns=("10.0.0.2", "10.0.0.3")), CA, "app.blinkops.com"),
        "dns-ok": b.judge_dns(dns, c, replace(CA, resolv_conf="nameserver 10.1.1.1 # corp\nnameserver ::1\n"),
                              "app.blinkops.com"),
        "dns-loopback": b.judge_dns(dns, c, replace(CA, resolv_conf="nameserver 127.0.0.53\nnameserver ::1\n"),
                                    "app.blinkops.com"),
        "dns-none": b.judge_dns(dns, c, replace(CA, resolv_conf="# nameserver 1.1.1.1\nsearch corp\nnameserver\n"),
                                "app.blinkops.com"),
        "dns-empty": b.judge_dns(dns, c, replace(CA, resolv_conf=""), "app.blinkops.com"),
        "dns-missing": b.judge_dns(dns, c, replace(CA, resolv_conf=None), "app.blinkops.com"),
        "dns-error": b.judge_dns(dns, c, replace(CA, resolv_error="permission denied"), "app.blinkops.com"),
        "ca-ok": b.judge_ca(ca, c, CA, "app.blinkops.com"),
        "ca-one": b.judge_ca(ca, replace(c, cert_file="/blink/ca.pem"), replace(CA, ca_path="/blink/ca.pem", ca_certs=1,
                                                                               ca_tried=("/blink/ca.pem",)),
                             "app.blinkops.com"),
        "ca-missing": b.judge_ca(ca, c, replace(CA, ca_path="", ca_certs=0, ca_tried=("/etc/ssl/certs/ca-certificates"
                                                                                      ".crt", "/etc/ssl/cert.pem")),
                                 "app.blinkops.com"),
        "ca-missing-nothing-tried": b.judge_ca(ca, replace(c, cert_file="/x.pem"), replace(CA, ca_path="",
                                               ca_tried=()), "app.blinkops.com"),
        "ca-empty": b.judge_ca(ca, c, replace(CA, ca_certs=0), "app.blinkops.com"),
        "ca-error": b.judge_ca(ca, c, replace(CA, ca_error="permission denied"), "app.blinkops.com"),
        "clock-ok": b.judge_clock(clk, c, answered(clock_at=NOW + 30.4), 60, "app.blinkops.com", "chronyd", "h"),
        "clock-edge": b.judge_clock(clk, c, answered(clock_at=NOW - 60), 60, "app.blinkops.com", "", "h"),
        "clock-ahead": b.judge_clock(clk, c, answered(clock_at=NOW + 61), 60, "app.blinkops.com", "", "the local host"),
        "clock-behind": b.judge_clock(clk, c, answered(clock_at=NOW - 3600), 60, "app.blinkops.com", "systemd-timesyncd",
                                      "h"),
        "clock-noise": b.judge_clock(clk, c, answered(clock_at=NOW - 0.4), 60, "app.blinkops.com", "", ""),
        "clock-no-date": b.judge_clock(clk, c, answered(date=""), 60, "app.blinkops.com", "", ""),
        "clock-bad-date": b.judge_clock(clk, c, answered(date="yesterday"), 60, "app.blinkops.com", "", ""),
        "clock-not-read": b.judge_clock(clk, c, answered(clock_at=0.0), 60, "app.blinkops.com", "", ""),
        "clock-nc": b.judge_clock(clk, c, answered(date="", tool="nc"), 60, "app.blinkops.com", "", ""),
    }


def kubernetes_cases() -> dict[str, Finding]:
    from blinkcheck.kubernetes import beyond as k
    from blinkcheck.kubernetes.parse import deployment_facts, limit_facts, node_facts, pod_facts
    from tests.unit import test_kubernetes_beyond as t
    from tests.unit.kubernetes_objects import deployment, pod

    np = t.np_judge
    rules: dict[str, dict[str, Any]] = {
        "cidr-all": {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443}]},
        "cidr-some": {"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}], "ports": [{"port": 443}]},
        "cidr-bad": {"to": [{"ipBlock": {"cidr": "not-a-cidr"}}], "ports": [{"port": 443}]},
        "range-miss": {"ports": [{"port": 8000, "endPort": 9000}]},
        "range-hit": {"ports": [{"port": 400, "endPort": 500}]},
        "range-edge": {"ports": [{"port": 443, "endPort": 443}]},
        "named-port": {"ports": [{"port": "https"}]},
        "udp": {"ports": [{"protocol": "UDP", "port": 443}]},
        "sctp-and-tcp": {"ports": [{"protocol": "SCTP", "port": 443}, {"protocol": "TCP"}]},
        "pods-only": {"to": [{"podSelector": {}}]},
        "namespaces": {"to": [{"namespaceSelector": {"matchLabels": {"team": "blink"}}}], "ports": [{"port": 443}]},
        "no-ports": {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]},
        "two-cidrs": {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}, {"ipBlock": {"cidr": "172.16.0.0/12"}}],
                      "ports": [{"port": 443}]},
    }
    out: dict[str, Finding] = {f"np-{name}": np(t.policy(egress=[rule, t.DNS_RULE])) for name, rule in rules.items()}
    ip_rule = {"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16", "bad"]}}], "ports": [{"port": 18443}]}
    v6 = {"to": [{"ipBlock": {"cidr": "fd00::/8"}}], "ports": [{"port": 443}]}
    out |= {
        "np-none": np(),
        "np-ingress-only": np(t.policy(types=["Ingress"])),
        "np-deny-all": np(t.policy(types=["Egress"])),
        "np-dns-only": np(t.policy(types=["Egress"], egress=[t.DNS_RULE])),
        "np-no-dns": np(t.policy(egress=[{"ports": [{"protocol": "TCP", "port": 443}]}])),
        "np-additive": np(t.policy(types=["Egress"]), t.policy("allow-blink", egress=[{"ports": [{"port": 443}]},
                                                                                    t.DNS_RULE])),
        "np-other-pods": np(t.policy(types=["Egress"]), t.policy("allow", selector={"matchLabels": {"app": "x"}},
                                                                  egress=[{"ports": [{"port": 443}]}])),
        "np-ip-inside": np(t.policy(egress=[ip_rule, t.DNS_RULE]), host="10.2.3.4", port=18443),
        "np-ip-except": np(t.policy(egress=[ip_rule, t.DNS_RULE]), host="10.1.3.4", port=18443),
        "np-ip-outside": np(t.policy(egress=[ip_rule, t.DNS_RULE]), host="192.168.1.1", port=18443),
        "np-ip-v6-rule": np(t.policy(egress=[v6, t.DNS_RULE]), host="10.2.3.4", port=443),
        "np-ipv6-host": np(t.policy(egress=[v6, t.DNS_RULE]), host="[fd00::5]", port=443),
        "np-ip-host-bits": np(t.policy(egress=[{"to": [{"ipBlock": {"cidr": "10.1.2.3/8"}}], "ports": [{"port": 443}]},
                                               t.DNS_RULE]), host="10.2.3.4"),
        "np-ip-except-host-bits": np(t.policy(egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": [
            "10.1.9.9/16"]}}], "ports": [{"port": 443}]}, t.DNS_RULE]), host="10.1.3.4"),
        "np-dns-udp-only": np(t.policy(egress=[{"ports": [{"port": 443}]}, {"ports": [{"protocol": "UDP", "port": 53}]}])),
        "np-dns-tcp-only": np(t.policy(egress=[{"ports": [{"port": 443}]}, {"ports": [{"protocol": "TCP", "port": 53}]}])),
        "np-two-unsure": np(t.policy(egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 443}]},
                                             {"ports": [{"port": "https"}]}, t.DNS_RULE])),
    }
    healthy = t.HEALTHY
    gone = node_facts({"metadata": {"name": "vm"}})
    quiet = node_facts({"metadata": {"name": "vm"}, "status": {"conditions": [
        {"type": "Ready", "status": "False"}, {"type": "MemoryPressure", "status": "True"}]}})  # fmt: skip
    two = [t.RUNNER, pod_facts(pod(name="blink-runner-7d9f8-fghij"))]
    out |= {
        "node-ok": k.judge_node(t.NODE, t.node(healthy), two, "blink-runner"),
        "node-cordoned": k.judge_node(t.NODE, t.node(healthy, unschedulable=True), [t.RUNNER], "blink-runner"),
        "node-disk": k.judge_node(t.NODE, t.node([("Ready", "True"), ("DiskPressure", "True")]), two, "blink-runner"),
        "node-not-ready-and-pid": k.judge_node(t.NODE, t.node([("Ready", "Unknown"), ("PIDPressure", "True"),
                                                              ("MemoryPressure", "False")]), [t.RUNNER], "blink-runner"),
        "node-no-ready": k.judge_node(t.NODE, t.node([("DiskPressure", "False")]), [t.RUNNER], "blink-runner"),
        "node-quiet-conditions": k.judge_node(t.NODE, quiet, [t.RUNNER], "blink-runner"),
        "node-pressure-no-ready": k.judge_node(t.NODE, t.node([("DiskPressure", "True")]), [t.RUNNER], "blink-runner"),
        "node-pressure-reason-only": k.judge_node(t.NODE, node_facts({"metadata": {"name": "vm"}, "status": {
            "conditions": [{"type": "Ready", "status": "True"}, {"type": "MemoryPressure", "status": "True",
                                                                 "reason": "KubeletHasInsufficientMemory"}]}}),
            [t.RUNNER], "blink-runner"),
        "node-gone": k.judge_node(t.NODE, gone if not gone.found else replace(gone, found=False), [], "blink-runner"),
    }
    ev = pod(name="blink-runner-old", phase="Failed", reason="Evicted")
    ev["status"]["message"] = "The node was low on resource: memory."
    ev["spec"] = {"nodeName": "vm"}
    bare = pod(name="blink-runner-older", phase="Failed", reason="Evicted")
    bare["status"] = {**bare["status"], "message": ""}  # the kubelet's message absent: its reason stands for it
    bare["spec"] = {**bare.get("spec", {}), "nodeName": ""}  # and its node no longer known
    failed = pod(name="blink-runner-crashed", phase="Failed", reason="Error")
    out |= {
        "evicted-none": k.judge_evictions(t.EVICTED, [t.RUNNER, pod_facts(failed)], "blink")[0],
        "evicted-one": k.judge_evictions(t.EVICTED, [t.RUNNER, pod_facts(ev)], "blink")[0],
        "evicted-bare": k.judge_evictions(t.EVICTED, [pod_facts(ev), pod_facts(bare)], "blink")[1],
    }
    runner, op = t.with_requests("blink-runner", "50m"), t.with_requests("blink-operator-1.0.995", "200m")
    raw = deployment(name="blink-operator-1.0.995")
    raw["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"memory": "512Mi"}}
    mem_op = deployment_facts(raw)
    raw = deployment(name="blink-operator-1.0.996")
    raw["spec"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "1500m", "memory": "3Gi"}}
    big = deployment_facts(raw)

    def with_resources(name: str, *resources: dict[str, Any]) -> Any:
        raw = deployment(name=name)
        first = raw["spec"]["template"]["spec"]["containers"][0]
        raw["spec"]["template"]["spec"]["containers"] = [{**first, "name": f"c{i}", "resources": r}
                                                         for i, r in enumerate(resources)]
        return deployment_facts(raw)

    disk = with_resources("blink-operator-1.0.996", {"requests": {"ephemeral-storage": "200Mi"}})
    gig = with_resources("blink-operator-1.0.996", {"requests": {"memory": "1Gi"}})
    pair = with_resources("blink-operator-1.0.996", {"requests": {"cpu": "100m"}}, {"requests": {"cpu": "100m"}})
    bursty = with_resources("blink-operator-1.0.996", {"requests": {"cpu": "500m"}, "limits": {"cpu": "2"}})
    q2 = t.quota({"pods": "9"}, {})
    q2 = replace(q2, name="second-quota")

    def failed_with(message: str) -> Any:
        return deployment_facts(deployment(name="blink-operator-1.0.995", conditions=[
            {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": message}]))

    def lr(kind: str, **top: str) -> Any:
        return limit_facts({"metadata": {"name": "blink-limits", "namespace": "blink"},
                            "spec": {"limits": [{"type": kind, "max": top}]}})  # fmt: skip

    refused = deployment(name="blink-operator-1.0.995", conditions=[
        {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": 'pods "x" is forbidden: '
         "exceeded quota: blink-quota, requested: requests.cpu=200m, used: requests.cpu=50m, limited: requests.cpu=100m"}])
    by_limits = deployment(name="blink-operator-1.0.995", conditions=[
        {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
         "message": 'pods "x" is forbidden: maximum cpu usage per Container is 100m (blink-limits)'}])  # fmt: skip
    other_failure = deployment(name="blink-operator-1.0.995", conditions=[
        {"type": "ReplicaFailure", "status": "True", "message": "serviceaccount missing"}])  # fmt: skip
    q = t.quota
    out |= {
        "quota-none": k.judge_quota(t.QUOTA, "blink", [], [], [runner]),
        "quota-room": k.judge_quota(t.QUOTA, "blink", [q({"requests.cpu": "1", "services": "0", "pods": "lots"},
                                                         {"requests.cpu": "50m"})], [], [runner, op]),
        "quota-pods-exhausted": k.judge_quota(t.QUOTA, "blink", [q({"pods": "1"}, {"pods": "1"})], [], [runner]),
        "quota-cpu-short": k.judge_quota(t.QUOTA, "blink", [q({"requests.cpu": "100m"}, {"requests.cpu": "50m"})], [],
                                         [runner, op]),
        "quota-cpu-edge": k.judge_quota(t.QUOTA, "blink", [q({"requests.cpu": "250m"}, {"requests.cpu": "50m"})], [],
                                        [runner, op]),
        "quota-memory-limit": k.judge_quota(t.QUOTA, "blink", [q({"limits.memory": "1Gi"}, {"limits.memory": "768Mi"})],
                                            [], [runner, mem_op]),
        "quota-memory-request-from-limit": k.judge_quota(t.QUOTA, "blink", [q({"requests.memory": "600Mi"}, {})], [],
                                                         [mem_op]),
        "quota-failed-create": k.judge_quota(t.QUOTA, "blink", [q({"requests.cpu": "100m"}, {"requests.cpu": "50m"})],
                                             [], [runner, deployment_facts(refused)]),
        "quota-failed-by-limits": k.judge_quota(t.QUOTA, "blink", [], lr("Container", cpu="100m"),
                                                [deployment_facts(by_limits)]),
        "quota-other-failure": k.judge_quota(t.QUOTA, "blink", [], [], [deployment_facts(other_failure)]),
        "limit-container": k.judge_quota(t.QUOTA, "blink", [], lr("Container", cpu="100m"), [runner, op]),
        "limit-container-limit": k.judge_quota(t.QUOTA, "blink", [], lr("Container", memory="256Mi"), [mem_op]),
        "limit-pod": k.judge_quota(t.QUOTA, "blink", [], lr("Pod", memory="256Mi"), [mem_op]),
        "quota-cores": k.judge_quota(t.QUOTA, "blink", [q({"requests.cpu": "2"}, {"requests.cpu": "1"})], [], [big]),
        "quota-gi": k.judge_quota(t.QUOTA, "blink", [q({"requests.memory": "4Gi"}, {"requests.memory": "2Gi"})], [],
                                  [big]),
        "limit-pod-cores": k.judge_quota(t.QUOTA, "blink", [], lr("Pod", cpu="1"), [big]),
        "quota-one-core": k.judge_quota(t.QUOTA, "blink", [q({"requests.cpu": "1500m"}, {"requests.cpu": "1"})], [],
                                        [t.with_requests("blink-operator-1.0.996", "1")]),
        "quota-storage": k.judge_quota(t.QUOTA, "blink", [q({"requests.ephemeral-storage": "1Gi"},
                                                            {"requests.ephemeral-storage": "900Mi"})], [], [disk]),
        "quota-gi-exact": k.judge_quota(t.QUOTA, "blink", [q({"requests.memory": "2Gi"}, {"requests.memory": "1.5Gi"})],
                                        [], [gig]),
        "quota-memory-request-is-limit": k.judge_quota(t.QUOTA, "blink", [q({"requests.memory": "600Mi"},
                                                                            {"requests.memory": "200Mi"})], [], [mem_op]),
        "quota-pods-room": k.judge_quota(t.QUOTA, "blink", [q({"pods": "3"}, {"pods": "2"})], [], [runner]),
        "quota-two-containers": k.judge_quota(t.QUOTA, "blink", [q({"requests.cpu": "300m"}, {"requests.cpu": "150m"})],
                                              [], [pair]),
        "quota-nothing-used": k.judge_quota(t.QUOTA, "blink", [q({"requests.cpu": "100m"}, {})], [], [op]),
        "quota-zero-hard": k.judge_quota(t.QUOTA, "blink", [q({"pods": "0"}, {})], [], [runner]),
        "quota-unreadable-first": k.judge_quota(t.QUOTA, "blink", [q({"limits.cpu": "lots", "pods": "1"},
                                                                     {"pods": "1"})], [], [runner]),
        "quota-other-resource-first": k.judge_quota(t.QUOTA, "blink", [q({"configmaps": "1", "pods": "1"},
                                                                         {"pods": "1"})], [], [runner]),
        "quota-failed-quota-word": k.judge_quota(t.QUOTA, "blink", [], [], [failed_with("exceeded quota: q2, requested: "
                                                                                         "pods=1")]),
        "quota-failed-unnamed": k.judge_quota(t.QUOTA, "blink", [q({"pods": "9"}, {}), q2], [],
                                              [failed_with('pods "x" is forbidden: by some admission webhook')]),
        "quota-failed-unnamed-no-quota": k.judge_quota(t.QUOTA, "blink", [], [],
                                                       [failed_with('pods "x" is forbidden: by some admission webhook')]),
        "limit-container-equal": k.judge_quota(t.QUOTA, "blink", [], lr("Container", cpu="200m"), [op]),
        "limit-container-unreadable": k.judge_quota(t.QUOTA, "blink", [], lr("Container", cpu="500m"),
                                                    [t.with_requests("blink-operator-1.0.996", "lots")]),
        "limit-pod-limits-first": k.judge_quota(t.QUOTA, "blink", [], lr("Pod", cpu="1"), [bursty]),
        "limit-pod-equal": k.judge_quota(t.QUOTA, "blink", [], lr("Pod", cpu="1.5"), [big]),
        "limit-unreadable-first": k.judge_quota(t.QUOTA, "blink", [], lr("Container", cpu="bad", memory="256Mi"),
                                                [mem_op]),
        "limit-pod-room": k.judge_quota(t.QUOTA, "blink", [], lr("Pod", cpu="1", memory="bad"), [runner, op]),
        "limit-room": k.judge_quota(t.QUOTA, "blink", [q({"pods": "10"}, {"pods": "2"})],
                                    lr("Container", cpu="500m"), [runner, op]),
        "not-granted": k.not_granted(t.NODE, "x may not get nodes. To enable this check: kubectl apply -f "
                                     "rbac/clusterrole-nodes.yaml", "nodes"),
        "not-granted-no-grant": k.not_granted(t.NODE, "x may not get nodes.", "nodes"),
    }
    blocked = ProbeResult(t.RUNNER.label, t.URL, (Step("dns", True, "ok"), Step("tcp", False, "refused")), tool="curl")
    how = "`kubectl exec -n blink p -c blink-runner -- date -u +%s`, 0.8s after the tool's answer"
    out |= {
        "clock-ahead": k.judge_clock(t.CLOCK, t.RUNNER, t.answered(t.BLINK_DATE, t.BLINK_EPOCH + 300.4, clock_how=how),
                                     60, "blink.lab.test"),
        "clock-ok": k.judge_clock(t.CLOCK, t.RUNNER, t.answered(t.BLINK_DATE, t.BLINK_EPOCH - 2), 60, "blink.lab.test"),
        "clock-blocked": k.judge_clock(t.CLOCK, t.RUNNER, blocked, 60, "blink.lab.test"),
        "clock-unfinished": k.judge_clock(t.CLOCK, t.RUNNER, ProbeResult(t.RUNNER.label, t.URL, error="exec timed out"),
                                          60, "blink.lab.test"),
        "clock-no-exec": k.judge_clock(t.CLOCK, replace(t.RUNNER, node=""), ProbeResult(
            t.RUNNER.label, t.URL, unavailable="x may not exec into pods in blink"), 60, "blink.lab.test"),
    }
    return out


def clock_cases() -> dict[str, Finding]:
    label, values = "pod blink/p", {"pod": "p", "namespace": "blink", "node": "vm"}
    unread = answered(clock_at=0.0, clock_unread="`date` is not in the runner's image")
    return {
        "advice-service": clock.judge_clock_of("docker.runner.clock-skew", label, values, answered(clock_at=NOW + 90),
                                               60, "b", clock.time_service_advice("ntpd", "h")),
        "advice-none-running": clock.judge_clock_of("docker.runner.clock-skew", label, values,
                                                    answered(clock_at=NOW + 90), 60, "b",
                                                    clock.time_service_advice("", "the local host")),
        "advice-unknown": clock.judge_clock_of("docker.runner.clock-skew", label, values, answered(clock_at=NOW - 90),
                                               60, "b", clock.time_service_advice("", "")),
        "unread-why": clock.judge_clock_of("k8s.runner.clock-skew", label, values, unread, 60, "b", "", "pod p (node vm)"),
        "probe-failed-tcp": clock.judge_clock_of("docker.runner.clock-skew", label, values, ProbeResult(
            label, "https://b", (Step("dns", True, "ok"), Step("tcp", False, "refused")), tool="python"), 60, "b", ""),
        "http-failed-no-date": clock.judge_clock_of("docker.runner.clock-skew", label, values, ProbeResult(
            label, "https://b", (Step("dns", True, "ok"), Step("tcp", True, "ok"), Step("http", False, "reset")),
            tool="curl"), 60, "b", ""),
        "offset-zero": clock.judge_clock_of("docker.runner.clock-skew", label, values, answered(clock_at=NOW), 60, "b",
                                            ""),
        "wget": clock.judge_clock_of("k8s.runner.clock-skew", label, values, answered(tool="wget", clock_at=NOW + 1),
                                     30, "b", "", "pod p (node vm)"),
    }


SETS: dict[str, Callable[[], dict[str, Finding]]] = {"docker-beyond": docker_cases,
                                                     "kubernetes-beyond": kubernetes_cases, "clock": clock_cases}


def snapshot(f: Finding) -> dict[str, Any]:
    """What the report shows of a finding: all of it, and the remedy filled from the catalog."""
    out = shown(f)
    out["evidence"] = [list(e) for e in out["evidence"]]  # as JSON keeps them
    cond = CATALOG[f.condition_id]
    shows = f.outcome in (Outcome.FAILED, Outcome.WARNING)
    out["remedy"] = cond.remediation(f.variant, f.values) if shows else ""
    return out


def current(name: str) -> dict[str, Any]:
    return {case: snapshot(f) for case, f in SETS[name]().items()}


@pytest.mark.parametrize("name", list(SETS))
def test_every_judge_path_word_for_word(name: str):
    want = json.loads((DATA / f"{name}.json").read_text())
    got = current(name)
    assert sorted(got) == sorted(want), "cases added or removed: rewrite with --write"
    for case in got:
        assert got[case] == want[case], f"{name}: {case}"


def test_the_runners_clock_from_date_each_way():
    """runner_clock (the `date -u +%s` exec after the probe's answer): its reasons word for word."""
    assert clock.runner_clock(None, "", "", 10.0, 11.0) == (
        0.0, "`date -u +%s` in the runner's container did not answer (no answer)")
    assert clock.runner_clock(None, "", "", 10.0, 11.0, "exec timed out") == (
        0.0, "`date -u +%s` in the runner's container did not answer (exec timed out)")
    said = "x" * 70
    assert clock.runner_clock(0, said, "", 10.0, 11.0) == (
        0.0, f"`date -u +%s` in the runner's container printed {'x' * 60!r}, not seconds since the epoch")
    assert clock.runner_clock(0, "1796280000\n", "", 10.0, 10.8) == (1796280000 - 0.8, "")


def main(argv: list[str]) -> int:
    if argv != ["--write"]:
        print(__doc__)
        return 2
    DATA.mkdir(parents=True, exist_ok=True)
    for name in SETS:
        path = DATA / f"{name}.json"
        path.write_text(json.dumps(current(name), indent=1, sort_keys=True, ensure_ascii=False) + "\n")
        print(f"wrote {path.relative_to(DATA.parent.parent.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
