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
from blinkcheck.docker.facts import ContainerFacts, ContainerFiles, EngineInfo, HostFacts
from blinkcheck.model import Finding, Outcome
from blinkcheck.probe import clock
from blinkcheck.probe.result import ProbeResult, Step
from tests.unit.docker_objects import shown

DATA = Path(__file__).resolve().parent.parent / "data" / "judges"
CATALOG = load_catalog()
GB = 1024**3
NOW = 1_796_280_000.0  # 2026-12-03T06:40:00Z
RUNNER = ContainerFacts(id="3f2a9c1d7e6b" + "0" * 52, name="blink-runner", image="blinkops/blink-runner:1.0.994",
                        status="running", restart_policy="unless-stopped")  # fmt: skip
HOST = HostFacts("the local host", data_root="/var/lib/docker", disk_total=252 * GB, disk_free=66 * GB,
                 inodes_total=1000, inodes_free=950, systemd=True, service_enabled="enabled",
                 service_active="active", time_service="chronyd")  # fmt: skip
INFO = EngineInfo(name="runner-host", data_root="/var/lib/docker", mem_total=8 * GB)
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
                                                                  "behind tcp://"), False),  # fmt: skip
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
                                            False),  # fmt: skip
        "service-failed": b.judge_service(svc, replace(HOST, service_active="failed"), False),
        "service-no-systemd": b.judge_service(svc, replace(HOST, systemd=False, init="tini"), False),
        "service-no-systemd-on": b.judge_service(svc, replace(HOST, systemd=False), True),
        "proxy-runner-only": b.judge_dockerd_proxy(proxy, proxied, INFO, SOCK),
        "proxy-both": b.judge_dockerd_proxy(proxy, proxied, replace(
            INFO, https_proxy="http://xxxxx:xxxxx@proxy.corp:3128", no_proxy="localhost,.corp"), SOCK),
        "proxy-not-a-url": b.judge_dockerd_proxy(proxy, proxied, replace(INFO, http_proxy="http://u:p@[proxy:99"),
                                                 SOCK),  # fmt: skip
        "proxy-dockerd-only": b.judge_dockerd_proxy(proxy, c, replace(INFO, name="", http_proxy="proxy.corp:8080"),
                                                    "tcp://h:2376"),  # fmt: skip
        "proxy-neither": b.judge_dockerd_proxy(proxy, c, INFO, SOCK),
        "oom-killed": b.judge_oom(oom, replace(c, oom_killed=True, exit_code=137, memory_limit=16 * 1024**2,
                                               finished_at="2026-12-03T06:00:00Z", status="exited"), INFO),  # fmt: skip
        "oom-no-limit": b.judge_oom(oom, c, INFO),
        "oom-no-limit-no-info": b.judge_oom(oom, c, None),
        "oom-limit": b.judge_oom(oom, replace(c, memory_limit=3 * GB), replace(INFO, mem_total=0)),
        "restart-ok": b.judge_restart_policy(restart, replace(c, restart_policy="always")),
        "restart-none": b.judge_restart_policy(restart, replace(c, restart_policy="")),
        "restart-on-failure": b.judge_restart_policy(restart, replace(c, restart_policy="on-failure")),
        "dns-ok-embedded": b.judge_dns(dns, replace(c, dns=("10.0.0.2", "10.0.0.3")), CA, "app.blinkops.com"),
        "dns-ok": b.judge_dns(dns, c, replace(CA, resolv_conf="nameserver 10.1.1.1 # corp\nnameserver ::1\n"),
                              "app.blinkops.com"),  # fmt: skip
        "dns-loopback": b.judge_dns(dns, c, replace(CA, resolv_conf="nameserver 127.0.0.53\nnameserver ::1\n"),
                                    "app.blinkops.com"),  # fmt: skip
        "dns-none": b.judge_dns(dns, c, replace(CA, resolv_conf="# nameserver 1.1.1.1\nsearch corp\nnameserver\n"),
                                "app.blinkops.com"),  # fmt: skip
        "dns-empty": b.judge_dns(dns, c, replace(CA, resolv_conf=""), "app.blinkops.com"),
        "dns-missing": b.judge_dns(dns, c, replace(CA, resolv_conf=None), "app.blinkops.com"),
        "dns-error": b.judge_dns(dns, c, replace(CA, resolv_error="permission denied"), "app.blinkops.com"),
        "ca-ok": b.judge_ca(ca, c, CA, "app.blinkops.com"),
        "ca-one": b.judge_ca(ca, replace(c, cert_file="/blink/ca.pem"), replace(CA, ca_path="/blink/ca.pem", ca_certs=1,
                                                                               ca_tried=("/blink/ca.pem",)),
                             "app.blinkops.com"),  # fmt: skip
        "ca-missing": b.judge_ca(ca, c, replace(CA, ca_path="", ca_certs=0, ca_tried=("/etc/ssl/certs/ca-certificates"
                                                                                      ".crt", "/etc/ssl/cert.pem")),
                                 "app.blinkops.com"),  # fmt: skip
        "ca-missing-nothing-tried": b.judge_ca(ca, replace(c, cert_file="/x.pem"), replace(CA, ca_path="",
                                               ca_tried=()), "app.blinkops.com"),  # fmt: skip
        "ca-empty": b.judge_ca(ca, c, replace(CA, ca_certs=0), "app.blinkops.com"),
        "ca-error": b.judge_ca(ca, c, replace(CA, ca_error="permission denied"), "app.blinkops.com"),
        "clock-ok": b.judge_clock(clk, c, answered(clock_at=NOW + 30.4), 60, "app.blinkops.com", "chronyd", "h"),
        "clock-edge": b.judge_clock(clk, c, answered(clock_at=NOW - 60), 60, "app.blinkops.com", "", "h"),
        "clock-ahead": b.judge_clock(clk, c, answered(clock_at=NOW + 61), 60, "app.blinkops.com", "", "the local host"),
        "clock-behind": b.judge_clock(clk, c, answered(clock_at=NOW - 3600), 60, "app.blinkops.com", "systemd-timesyncd",
                                      "h"),  # fmt: skip
        "clock-noise": b.judge_clock(clk, c, answered(clock_at=NOW - 0.4), 60, "app.blinkops.com", "", ""),
        "clock-no-date": b.judge_clock(clk, c, answered(date=""), 60, "app.blinkops.com", "", ""),
        "clock-bad-date": b.judge_clock(clk, c, answered(date="yesterday"), 60, "app.blinkops.com", "", ""),
        "clock-not-read": b.judge_clock(clk, c, answered(clock_at=0.0), 60, "app.blinkops.com", "", ""),
        "clock-nc": b.judge_clock(clk, c, answered(date="", tool="nc"), 60, "app.blinkops.com", "", ""),
    }


SETS: dict[str, Callable[[], dict[str, Finding]]] = {"docker-beyond": docker_cases}


def snapshot(f: Finding) -> dict[str, Any]:
    """What the report shows of a finding: all of it, and the remedy filled from the catalog."""
    out = shown(f)
    out["evidence"] = [list(e) for e in out["evidence"]]
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
