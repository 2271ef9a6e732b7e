"""The judges beyond the runbook on Docker (blinkcheck/docker/beyond.py), on canned facts, with the remedies they
fill from the catalog."""

from __future__ import annotations

from dataclasses import replace

import pytest

from blinkcheck.catalog import load_catalog
from blinkcheck.docker import beyond
from blinkcheck.docker.facts import ContainerFacts, ContainerFiles, EngineInfo, HostFacts, container_facts, engine_info
from blinkcheck.model import Finding, Outcome
from blinkcheck.probe.result import ProbeResult, clock_offset

GB = 1024**3
CATALOG = load_catalog()
RUNNER = ContainerFacts(id="3f2a9c1d7e6b" + "0" * 52, name="blink-runner", image="blinkops/blink-runner:1.0.994",
                        status="running", restart_policy="unless-stopped")  # fmt: skip
HOST = HostFacts("the local host", data_root="/var/lib/docker", disk_total=252 * GB, disk_free=66 * GB,
                 inodes_total=1000, inodes_free=950, systemd=True, service_enabled="enabled",
                 service_active="active", time_service="chronyd")  # fmt: skip
INFO = EngineInfo(name="runner-host", data_root="/var/lib/docker", mem_total=8 * GB)


def remedy(f: Finding) -> str:
    return CATALOG[f.condition_id].remediation(f.variant, f.values)


def test_disk_space_passes_fails_on_space_and_on_inodes():
    cid = "docker.host.disk-space"
    ok = beyond.judge_disk(cid, HOST, 20 * GB, 90.0)
    assert ok.outcome is Outcome.PASSED
    assert ok.summary == "/var/lib/docker on the local host: 66.0 GB free of 252.0 GB, 5% of inodes used."
    short = beyond.judge_disk(cid, replace(HOST, disk_free=3 * GB // 2), 20 * GB, 90.0)
    assert (short.outcome, short.variant, short.hints) == (Outcome.FAILED, "space", ())
    assert remedy(short).startswith("Docker's data root /var/lib/docker on the local host has 1.5 GB free of 252.0 GB;"
                                    " the runner needs at least 20.0 GB")
    inodes = beyond.judge_disk(cid, replace(HOST, inodes_free=40), 20 * GB, 90.0)
    assert (inodes.outcome, inodes.variant) == (Outcome.FAILED, "inodes")
    assert "has used 96% of its inodes (at most 90%)" in remedy(inodes)
    both = beyond.judge_disk(cid, replace(HOST, disk_free=GB, inodes_free=40), 20 * GB, 90.0)
    assert both.variant == "space" and both.hints == ("Its inodes are 96% used as well (at most 90%).",)
    broken = beyond.judge_disk(cid, replace(HOST, disk_error="stat: cannot read file system information"), GB, 90)
    assert broken.outcome is Outcome.NOT_EVALUABLE and "cannot read file system" in broken.summary


def test_memory_from_docker_info():
    cid = "docker.host.memory"
    assert beyond.judge_memory(cid, INFO, 2 * GB, "unix:///var/run/docker.sock").outcome is Outcome.PASSED
    low = beyond.judge_memory(cid, replace(INFO, mem_total=GB), 2 * GB, "unix:///var/run/docker.sock")
    assert low.outcome is Outcome.FAILED
    assert remedy(low).startswith("The Docker host runner-host has 1.0 GB of memory; Blink's runner needs at least "
                                  "2.0 GB")
    unknown = beyond.judge_memory(cid, replace(INFO, mem_total=0), 2 * GB, "tcp://h:2376")
    assert unknown.outcome is Outcome.NOT_EVALUABLE


@pytest.mark.parametrize(("enabled", "active", "outcome", "variant", "says"), [
    ("enabled", "active", Outcome.PASSED, "", "enabled and active"),
    ("disabled", "active", Outcome.FAILED, "not-enabled", "docker.service is disabled on the local host: after a "
     "reboot dockerd does not start"),
    ("masked", "inactive", Outcome.FAILED, "not-enabled", "docker.service is masked"),
    ("enabled", "failed", Outcome.FAILED, "not-active", "docker.service is failed on the local host (enabled: enabled)"),
])  # fmt: skip
def test_service_enabled_and_active(enabled, active, outcome, variant, says):
    f = beyond.judge_service("docker.host.service-enabled", replace(HOST, service_enabled=enabled,
                                                                    service_active=active), strict=False)  # fmt: skip
    assert (f.outcome, f.variant) == (outcome, variant)
    assert says in (remedy(f) if outcome is Outcome.FAILED else f.summary)


def test_no_systemd_is_could_not_look_never_passed_nor_failed():
    host = replace(HOST, systemd=False, init="process_api")
    auto = beyond.judge_service("docker.host.service-enabled", host, strict=False)
    assert auto.outcome is Outcome.SKIPPED
    assert auto.summary == ("Not checked: the local host does not run systemd (PID 1 is process_api): whether dockerd "
                            "starts at boot could not be looked at (--host-checks on makes this fail the run).")
    assert beyond.judge_service("docker.host.service-enabled", host, strict=True).outcome is Outcome.NOT_EVALUABLE


def test_a_host_that_cannot_be_looked_at():
    host = HostFacts("tcp://10.0.0.5:2376", unavailable="the engine is reached over tcp://, which gives no shell")
    assert beyond.host_unavailable("docker.host.disk-space", host, strict=False).outcome is Outcome.SKIPPED
    strict = beyond.host_unavailable("docker.host.disk-space", host, strict=True)
    assert strict.outcome is Outcome.NOT_EVALUABLE and "no shell" in strict.summary
    silent = HostFacts("ssh://ops@h", error="could not read the host (ssh://ops@h): timed out")
    assert beyond.host_unavailable("docker.host.disk-space", silent, strict=False).outcome is Outcome.NOT_EVALUABLE


def test_dockerd_proxy_only_fails_when_the_runner_uses_one_and_dockerd_does_not():
    cid = "docker.host.dockerd-proxy"
    proxied = replace(RUNNER, env_names=("BLINK_URL", "HTTPS_PROXY"))
    f = beyond.judge_dockerd_proxy(cid, proxied, INFO, "unix:///var/run/docker.sock")
    assert f.outcome is Outcome.FAILED and "goes through a proxy (HTTPS_PROXY), but dockerd on runner-host has none" in remedy(f)
    with_proxy = replace(INFO, https_proxy="http://user:pw@proxy.corp:3128")
    both = beyond.judge_dockerd_proxy(cid, proxied, with_proxy, "")
    assert both.outcome is Outcome.PASSED and "http://proxy.corp:3128" in both.summary and "pw" not in both.summary
    assert "pw" not in "".join(e.text for e in both.evidence)
    assert beyond.judge_dockerd_proxy(cid, RUNNER, INFO, "").outcome is Outcome.PASSED


def test_oom_killed_shows_the_limit():
    cid = "docker.runner.oom-killed"
    assert beyond.judge_oom(cid, RUNNER, INFO).summary.endswith("(memory limit none (the host's memory, 8.0 GB)).")
    killed = replace(RUNNER, status="exited", exit_code=137, oom_killed=True, memory_limit=16 * 1024**2)
    f = beyond.judge_oom(cid, killed, INFO)
    assert f.outcome is Outcome.FAILED
    assert remedy(f).startswith("blink-runner (3f2a9c1d7e6b) was killed for running out of memory (State.OOMKilled; "
                                "exit code 137); its memory limit is 16 MB.")


@pytest.mark.parametrize(("policy", "outcome"), [("always", Outcome.PASSED), ("unless-stopped", Outcome.PASSED),
                                                 ("no", Outcome.WARNING), ("on-failure", Outcome.WARNING)])
def test_restart_policy_warns_unless_it_survives_a_reboot(policy, outcome):
    f = beyond.judge_restart_policy("docker.runner.restart-policy", replace(RUNNER, restart_policy=policy))
    assert f.outcome is outcome
    if outcome is Outcome.WARNING:
        assert "will not come back after a reboot" in remedy(f)
        assert "docker update --restart unless-stopped 3f2a9c1d7e6b" in remedy(f)


@pytest.mark.parametrize(("resolv", "outcome", "variant"), [
    ("nameserver 127.0.0.11\noptions ndots:0\n# ExtServers: [172.30.251.1]\n", Outcome.PASSED, ""),
    ("search corp\nnameserver 10.0.0.2\n", Outcome.PASSED, ""),
    ("# no nameserver\n", Outcome.FAILED, "no-nameserver"),
    ("nameserver 127.0.0.53\n", Outcome.FAILED, "loopback"),
    (None, Outcome.FAILED, "missing"),
])  # fmt: skip
def test_dns_config(resolv, outcome, variant):
    f = beyond.judge_dns("docker.runner.dns-config", replace(RUNNER, dns=("172.30.251.1",)),
                         ContainerFiles(resolv_conf=resolv), "blink.lab.test")  # fmt: skip
    assert (f.outcome, f.variant) == (outcome, variant)
    if outcome is Outcome.FAILED:
        assert "cannot resolve blink.lab.test" in remedy(f)
    unreadable = beyond.judge_dns("docker.runner.dns-config", RUNNER, ContainerFiles(resolv_error="timed out"), "b")
    assert unreadable.outcome is Outcome.NOT_EVALUABLE


def test_ca_bundle():
    cid = "docker.runner.ca-bundle"
    tried = ("/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/cert.pem")
    ok = beyond.judge_ca(cid, RUNNER, ContainerFiles(ca_path=tried[0], ca_certs=140, ca_tried=tried), "b")
    assert ok.outcome is Outcome.PASSED and "(140 certificates)" in ok.summary
    missing = beyond.judge_ca(cid, replace(RUNNER, cert_file="/etc/x.pem"), ContainerFiles(ca_tried=("/etc/x.pem",)),
                              "blink.lab.test")  # fmt: skip
    assert (missing.outcome, missing.variant) == (Outcome.FAILED, "missing")
    assert remedy(missing).startswith("blink-runner (3f2a9c1d7e6b) has no CA bundle: looked at /etc/x.pem.")
    assert "docker cp 3f2a9c1d7e6b:/etc/x.pem -" in remedy(missing)
    empty = beyond.judge_ca(cid, RUNNER, ContainerFiles(ca_path=tried[0], ca_certs=0, ca_tried=tried), "b")
    assert (empty.outcome, empty.variant) == (Outcome.FAILED, "empty")
    assert beyond.judge_ca(cid, RUNNER, ContainerFiles(ca_error="x"), "b").outcome is Outcome.NOT_EVALUABLE


def _answered(date: str, clock: float) -> ProbeResult:
    return ProbeResult("container blink-runner", "https://blink.lab.test:18443", server_date=date, clock_at=clock,
                       tool="python")  # fmt: skip


def test_clock_offset_from_the_date_header():
    date = "Wed, 02 Dec 2026 16:00:00 GMT"
    epoch = 1796227200.0  # 2026-12-02T16:00:00Z
    assert clock_offset(_answered(date, epoch + 0.4)) == pytest.approx(0.4)
    assert clock_offset(_answered(date, epoch - 300)) == pytest.approx(-300)
    assert clock_offset(_answered("", epoch)) is None
    assert clock_offset(_answered(date, 0.0)) is None
    assert clock_offset(_answered("not a date", epoch)) is None


def test_clock_skew_fails_past_the_limit_and_names_the_time_service():
    cid = "docker.runner.clock-skew"
    date, epoch = "Wed, 02 Dec 2026 16:00:00 GMT", 1796227200.0
    ok = beyond.judge_clock(cid, RUNNER, _answered(date, epoch + 20), 60, "blink.lab.test", "chronyd", "the local host")
    assert ok.outcome is Outcome.PASSED and "(+20s)" in ok.summary
    behind = beyond.judge_clock(cid, RUNNER, _answered(date, epoch - 300), 60, "blink.lab.test", "chronyd", "h")
    assert behind.outcome is Outcome.FAILED
    text = remedy(behind)
    assert text.startswith("The clock of blink-runner's host is 5m behind Blink's (the Date of Blink's answer: "
                           f"{date}); more than 1m off")
    assert "Its time service is chronyd" in text
    rounded = beyond.judge_clock(cid, RUNNER, _answered(date, epoch - 299.6), 60, "b", "", "")
    assert rounded.summary.endswith("is 5m behind Blink's.")  # Date has whole seconds
    none = beyond.judge_clock(cid, RUNNER, _answered(date, epoch + 90), 60, "b", "", "ssh://ops@h")
    assert none.outcome is Outcome.FAILED and "ahead of" in remedy(none)
    assert "No time service (chronyd, systemd-timesyncd, ntpd) runs on ssh://ops@h" in remedy(none)
    no_date = beyond.judge_clock(cid, RUNNER, _answered("", epoch), 60, "b", "", "")
    assert no_date.outcome is Outcome.SKIPPED and "no Date header" in no_date.summary
    nc = beyond.judge_clock(cid, RUNNER, replace(_answered("", 0.0), tool="nc"), 60, "b", "", "")
    assert (nc.outcome, nc.summary) == (Outcome.SKIPPED, "Not checked: the probe ran nc, which only connects and reads "
                                        "no answer, so Blink's Date is not known (curl or wget in the runner's image "
                                        "shows it).")  # fmt: skip
    unread = beyond.judge_clock(cid, RUNNER, replace(_answered(date, 0.0), tool="curl"), 60, "b", "", "")
    assert unread.summary == "Not checked: the runner's clock was not read."


def test_inspect_and_info_into_facts():
    c = container_facts({"Id": "abc", "Name": "/blink-runner", "State": {"Status": "exited", "OOMKilled": True},
                         "Config": {"Env": ["SSL_CERT_FILE=/etc/ca.pem", "BLINK_RUNNER_GROUP_API_KEY=s3cret"]},
                         "HostConfig": {"RestartPolicy": {"Name": "always"}, "Memory": 16777216,
                                        "Dns": ["10.0.0.2"]}})  # fmt: skip
    assert (c.restart_policy, c.memory_limit, c.dns, c.cert_file, c.oom_killed) == (
        "always", 16777216, ("10.0.0.2",), "/etc/ca.pem", True)
    assert container_facts({"HostConfig": {}}).restart_policy == ""
    info = engine_info({"Name": "h", "DockerRootDir": "/data/docker", "MemTotal": 25275990016,
                        "HttpsProxy": "http://127.0.0.1:9"})  # fmt: skip
    assert (info.data_root, info.mem_total, info.https_proxy, info.http_proxy) == (
        "/data/docker", 25275990016, "http://127.0.0.1:9", "")


# ------------------------------------------------------------------ the host through testinfra (blinkcheck/docker/host.py)


def test_the_local_host_through_testinfra(tmp_path, monkeypatch):
    import os
    import subprocess
    import time

    from blinkcheck.docker import host as dhost

    ran: list[str] = []
    real = subprocess.Popen

    def popen(cmd, *args, **kwargs):
        ran.append(cmd.decode() if isinstance(cmd, bytes) else str(cmd))
        return real(cmd, *args, **kwargs)

    monkeypatch.setattr(dhost.subprocess, "Popen", popen)

    name = os.uname().nodename
    facts = dhost.read_host("unix:///var/run/docker.sock", EngineInfo(name=name, data_root=str(tmp_path)), 10)
    assert facts.where == "the local host" and not facts.unavailable, facts
    st = os.statvfs(tmp_path)
    assert facts.disk_total == st.f_frsize * st.f_blocks and facts.inodes_total == st.f_files
    assert abs(facts.disk_free - st.f_frsize * st.f_bavail) < 64 * 1024**2  # the disk is shared: it moves a little
    assert facts.systemd == os.path.isdir("/run/systemd/system")
    assert ran and all(c.startswith(dhost.READ_COMMANDS) for c in ran), ran  # reads only
    elsewhere = dhost.read_host("unix:///var/run/docker.sock", EngineInfo(name="another-host"), 10)
    assert elsewhere.unavailable.startswith(f"the local host is '{name}', but the engine's host is 'another-host'")
    host, _, _ = dhost.testinfra_host("unix:///var/run/docker.sock", 0.5)
    started = time.monotonic()
    with pytest.raises(dhost.HostTimeout, match=r"did not answer within 0\.5s"):
        host.run("sleep 30")
    assert time.monotonic() - started < 5


def test_a_tcp_engine_has_no_shell_to_look_with():
    from blinkcheck.docker import host as dhost

    facts = dhost.read_host("tcp://10.0.0.5:2376", INFO, 5)
    assert facts.unavailable.startswith("the engine is reached over tcp://, which gives no shell on its host")


# ------------------------------------------------------------------ files read from a container (get_archive)


class _Archive:
    """The SDK's get_archive on canned files: a tar stream and the path's stat, NotFound for the rest."""

    def __init__(self, files: dict[str, bytes], links: dict[str, str]) -> None:
        self.files, self.links = files, links
        self.asked: list[str] = []

    def get_archive(self, cid, path):
        import io
        import tarfile

        from docker.errors import NotFound

        self.asked.append(path)
        if path in self.links:
            return iter([b""]), {"name": path.rsplit("/", 1)[1], "linkTarget": self.links[path]}
        if path not in self.files:
            raise NotFound(f"Could not find the file {path} in container {cid}")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo(path.rsplit("/", 1)[1])
            info.size = len(self.files[path])
            tar.addfile(info, io.BytesIO(self.files[path]))
        data = buf.getvalue()
        return iter([data[:700], data[700:]]), {"name": info.name, "size": info.size, "linkTarget": ""}


def _gatherer(tmp_path, api):
    from blinkcheck.catalog import load_catalog as load
    from blinkcheck.docker.gather import DockerFacts
    from blinkcheck.redact import Redactor
    from tests.unit.fake_kube_api import spec_for

    facts = DockerFacts(spec_for(tmp_path, target="docker"), Redactor(), load())
    facts.__dict__["engine"] = type("E", (), {"reachable": True})()
    facts.__dict__["_client_or_error"] = (type("C", (), {"api": api})(), "")
    return facts


def test_resolv_conf_and_the_trust_store_are_read_like_docker_cp(tmp_path):
    pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    api = _Archive({"/etc/resolv.conf": b"nameserver 127.0.0.11\n", "/etc/ssl/certs/ca-bundle.pem": pem * 3},
                   {"/etc/ssl/cert.pem": "/etc/ssl/certs/ca-bundle.pem"})  # fmt: skip
    facts = _gatherer(tmp_path, api)
    files = facts.container_files(RUNNER)
    assert files.resolv_conf == "nameserver 127.0.0.11\n"
    assert (files.ca_path, files.ca_certs) == ("/etc/ssl/cert.pem", 3)  # Go's last path, a link followed
    assert api.asked[-2:] == ["/etc/ssl/cert.pem", "/etc/ssl/certs/ca-bundle.pem"]
    assert facts.container_files(RUNNER) is files  # read once
    own = _gatherer(tmp_path, _Archive({}, {})).container_files(replace(RUNNER, id="b" * 64, cert_file="/x/ca.pem"))
    assert (own.resolv_conf, own.ca_path, own.ca_tried) == (None, "", ("/x/ca.pem",))
