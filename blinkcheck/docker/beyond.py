"""Beyond the runbook on Docker (section `beyond`): the host and container causes behind a disconnected runner.
Pure: facts in, findings out."""

from __future__ import annotations

from urllib.parse import urlsplit

from blinkcheck.docker.facts import ContainerFacts, ContainerFiles, EngineInfo, HostFacts, gb
from blinkcheck.model import Evidence, Finding, Outcome
from blinkcheck.probe.clock import judge_clock_of, time_service_advice
from blinkcheck.probe.result import ProbeResult

PROXY_ENV = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")
PERSISTENT = ("always", "unless-stopped")
EMBEDDED_DNS = "127.0.0.11"  # Docker's own resolver on user-defined networks


def _c(c: ContainerFacts) -> dict[str, str]:
    return {"container_id": c.short_id, "container_name": c.name}


def host_unavailable(cid: str, host: HostFacts, strict: bool, why: str = "") -> Finding:
    """The host could not be looked at: skipped (--host-checks auto) or not-evaluable (--host-checks on)."""
    if host.error:  # it should have answered: could not look, whatever --host-checks says
        return Finding(cid, Outcome.NOT_EVALUABLE, f"Could not look at the Docker host: {host.error}", host.where)
    why = why or host.unavailable
    if strict:
        return Finding(cid, Outcome.NOT_EVALUABLE, f"Could not look at the Docker host: {why}", host.where)
    return Finding(cid, Outcome.SKIPPED, f"Not checked: {why} (--host-checks on makes this fail the run).",
                   host.where)  # fmt: skip


def judge_disk(cid: str, host: HostFacts, min_free: int, max_inodes_pct: float) -> Finding:
    values = {"where": host.where, "data_root": host.data_root, "min_free": gb(min_free),
              "max_inodes": f"{max_inodes_pct:g}%", "free": gb(host.disk_free),
              "total": gb(host.disk_total)}  # fmt: skip
    if host.disk_error:
        return Finding(cid, Outcome.NOT_EVALUABLE, f"Could not measure {host.data_root} on {host.where}: "
                       f"{host.disk_error}", host.where, values=values)  # fmt: skip
    used_pct = 100.0 * (host.inodes_total - host.inodes_free) / host.inodes_total if host.inodes_total else 0.0
    values["inodes_used"] = f"{used_pct:.0f}%"
    measured = (f"size {gb(host.disk_total)}, available {gb(host.disk_free)}; inodes {host.inodes_total}, "
                f"free {host.inodes_free} ({used_pct:.0f}% used)")  # fmt: skip
    evidence = (Evidence(f"stat -f {host.data_root}", measured, host.where),)
    short = host.disk_free < min_free
    inodes = used_pct > max_inodes_pct
    if short or inodes:
        also = (f"Its inodes are {used_pct:.0f}% used as well (at most {max_inodes_pct:g}%).",)
        summary = (f"{host.data_root} on {host.where} has {gb(host.disk_free)} free (needs {gb(min_free)})" if short
                   else f"{host.data_root} on {host.where} has used {used_pct:.0f}% of its inodes")  # fmt: skip
        return Finding(cid, Outcome.FAILED, summary + ".", host.where, evidence, values,
                       also if short and inodes else (), variant="space" if short else "inodes")  # fmt: skip
    return Finding(cid, Outcome.PASSED, f"{host.data_root} on {host.where}: {gb(host.disk_free)} free of "
                   f"{gb(host.disk_total)}, {used_pct:.0f}% of inodes used.", host.where, evidence, values)  # fmt: skip


def judge_memory(cid: str, info: EngineInfo, min_memory: int, docker_host: str) -> Finding:
    values = {"host_name": info.name or docker_host, "memory": gb(info.mem_total), "min_memory": gb(min_memory)}
    where = info.name or docker_host
    if not info.mem_total:
        return Finding(cid, Outcome.NOT_EVALUABLE, f"The engine at {docker_host} did not say its host's memory "
                       "(docker info: no MemTotal).", where, values=values)  # fmt: skip
    evidence = (Evidence("docker info", f"Total Memory: {gb(info.mem_total)} ({info.mem_total} bytes)", where),)
    if info.mem_total < min_memory:
        return Finding(cid, Outcome.FAILED, f"The Docker host {where} has {gb(info.mem_total)} of memory "
                       f"(needs {gb(min_memory)}).", where, evidence, values)  # fmt: skip
    return Finding(cid, Outcome.PASSED, f"The Docker host {where} has {gb(info.mem_total)} of memory.", where,
                   evidence, values)  # fmt: skip


def judge_service(cid: str, host: HostFacts, strict: bool) -> Finding:
    if not host.systemd:
        init = f" (PID 1 is {host.init})" if host.init else ""
        return host_unavailable(cid, host, strict, f"{host.where} does not run systemd{init}: whether dockerd "
                                "starts at boot could not be looked at")  # fmt: skip
    values = {"where": host.where, "enabled": host.service_enabled, "active": host.service_active}
    evidence = (Evidence("systemctl is-enabled / is-active docker.service",
                         f"{host.service_enabled}\n{host.service_active}", host.where),)  # fmt: skip
    if host.service_enabled != "enabled":
        return Finding(cid, Outcome.FAILED, f"docker.service is {host.service_enabled} on {host.where}.", host.where,
                       evidence, values, variant="not-enabled")  # fmt: skip
    if host.service_active != "active":
        return Finding(cid, Outcome.FAILED, f"docker.service is {host.service_active} on {host.where}.", host.where,
                       evidence, values, variant="not-active")  # fmt: skip
    return Finding(cid, Outcome.PASSED, f"docker.service is enabled and active on {host.where}.", host.where,
                   evidence, values)  # fmt: skip


def _proxy_shown(url: str) -> str:
    """A proxy URL without its credentials (never the value itself when it is no URL: it may hold them)."""
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        return f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    except ValueError:  # "http://[bad", a port out of range
        return "(a value that is not a URL)"


def judge_dockerd_proxy(cid: str, c: ContainerFacts, info: EngineInfo, docker_host: str) -> Finding:
    runner = [n for n in PROXY_ENV if n in c.env_names]
    dockerd = info.https_proxy or info.http_proxy
    where = info.name or docker_host
    values = {**_c(c), "host_name": where, "runner_proxy": ", ".join(runner) or "none"}
    pairs = (("HTTP Proxy", info.http_proxy), ("HTTPS Proxy", info.https_proxy), ("No Proxy", info.no_proxy))
    daemon = "\n".join(f"{k}: {_proxy_shown(v) if v and k != 'No Proxy' else v}" for k, v in pairs)
    evidence = (Evidence("docker info (the daemon's proxy)", daemon, where),
                Evidence("The runner's proxy variables (values withheld)", ", ".join(runner) or "none", c.label))
    if runner and not dockerd:
        return Finding(cid, Outcome.FAILED, f"{c.label} goes through a proxy ({', '.join(runner)}), dockerd has none.",
                       c.label, evidence, values)  # fmt: skip
    if runner:
        said = f"{c.label} and dockerd both use a proxy (dockerd: {_proxy_shown(dockerd)})."
    elif dockerd:
        said = f"{c.label} goes direct; dockerd uses a proxy ({_proxy_shown(dockerd)})."
    else:
        said = f"Neither {c.label} nor dockerd uses a proxy."
    return Finding(cid, Outcome.PASSED, said, c.label, evidence, values)


def memory_limit(c: ContainerFacts, info: EngineInfo | None = None) -> str:
    if c.memory_limit:
        return gb(c.memory_limit)
    return "none (the host's memory" + (f", {gb(info.mem_total)})" if info and info.mem_total else ")")


def judge_oom(cid: str, c: ContainerFacts, info: EngineInfo | None) -> Finding:
    values = {**_c(c), "limit": memory_limit(c, info), "exit_code": str(c.exit_code)}
    if c.oom_killed:
        state = Evidence("docker inspect", f"State.OOMKilled: true\nState.ExitCode: {c.exit_code}\nState.FinishedAt: "
                         f"{c.finished_at}\nHostConfig.Memory: {c.memory_limit}", c.label)  # fmt: skip
        return Finding(cid, Outcome.FAILED, f"{c.label} was OOM-killed (exit code {c.exit_code}; memory limit "
                       f"{values['limit']}).", c.label, (state,), values)  # fmt: skip
    return Finding(cid, Outcome.PASSED, f"{c.label} was not OOM-killed (memory limit {values['limit']}).", c.label,
                   values=values)  # fmt: skip


def judge_restart_policy(cid: str, c: ContainerFacts) -> Finding:
    values = {**_c(c), "policy": c.restart_policy or "no"}
    if c.restart_policy in PERSISTENT:
        return Finding(cid, Outcome.PASSED, f"{c.label} has restart policy {c.restart_policy}.", c.label,
                       values=values)  # fmt: skip
    return Finding(cid, Outcome.WARNING, f"{c.label} has restart policy '{values['policy']}': it will not come back "
                   "after a reboot.", c.label, values=values)  # fmt: skip


def nameservers(resolv: str) -> list[str]:
    found = []
    for line in resolv.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and words[0] == "nameserver":
            found.append(words[1])
    return found


def _loopback(ns: str) -> bool:
    return (ns.startswith("127.") and ns != EMBEDDED_DNS) or ns == "::1"


def judge_dns(cid: str, c: ContainerFacts, files: ContainerFiles, blink_host: str) -> Finding:
    values = {**_c(c), "blink_host": blink_host}
    if files.resolv_error:
        return Finding(cid, Outcome.NOT_EVALUABLE, f"Could not read /etc/resolv.conf of {c.label}: "
                       f"{files.resolv_error}", c.label, values=values)  # fmt: skip
    if files.resolv_conf is None:
        return Finding(cid, Outcome.FAILED, f"{c.label} has no /etc/resolv.conf.", c.label, values=values,
                       variant="missing")  # fmt: skip
    found = nameservers(files.resolv_conf)
    values["nameservers"] = ", ".join(found)
    evidence = [Evidence("/etc/resolv.conf", files.resolv_conf.strip() or "(empty)", c.label)]
    if c.dns:
        evidence.append(Evidence("docker run --dns (HostConfig.Dns)", ", ".join(c.dns), c.label))
    if not found:
        return Finding(cid, Outcome.FAILED, f"The /etc/resolv.conf of {c.label} names no nameserver.", c.label,
                       tuple(evidence), values, variant="no-nameserver")  # fmt: skip
    if all(_loopback(ns) for ns in found):
        return Finding(cid, Outcome.FAILED, f"The /etc/resolv.conf of {c.label} names only loopback nameservers "
                       f"({values['nameservers']}).", c.label, tuple(evidence), values, variant="loopback")  # fmt: skip
    via = f" (Docker's embedded DNS, forwarding to {', '.join(c.dns)})" if EMBEDDED_DNS in found and c.dns else ""
    return Finding(cid, Outcome.PASSED, f"{c.label} resolves with {values['nameservers']}{via}.", c.label,
                   tuple(evidence), values)  # fmt: skip


def judge_ca(cid: str, c: ContainerFacts, files: ContainerFiles, blink_host: str) -> Finding:
    tried = ", ".join(files.ca_tried)
    values = {**_c(c), "blink_host": blink_host, "tried": tried, "path": files.ca_path,
              "first_path": files.ca_tried[0] if files.ca_tried else "/etc/ssl/certs/ca-certificates.crt"}  # fmt: skip
    source = "SSL_CERT_FILE" if c.cert_file else "Go's system paths"
    if files.ca_error:
        return Finding(cid, Outcome.NOT_EVALUABLE, f"Could not read the trust store of {c.label}: {files.ca_error}",
                       c.label, values=values)  # fmt: skip
    evidence = (Evidence(f"Trust store ({source})", f"looked at: {tried}\nfound: {files.ca_path or 'none'}"
                         + (f" ({files.ca_certs} certificates)" if files.ca_path else ""), c.label),)  # fmt: skip
    if not files.ca_path:
        return Finding(cid, Outcome.FAILED, f"{c.label} has no CA bundle ({source}: {tried}).", c.label, evidence,
                       values, variant="missing")  # fmt: skip
    if not files.ca_certs:
        return Finding(cid, Outcome.FAILED, f"The CA bundle {files.ca_path} of {c.label} holds no certificate.",
                       c.label, evidence, values, variant="empty")  # fmt: skip
    count = f"{files.ca_certs} certificate" + ("s" if files.ca_certs != 1 else "")
    return Finding(cid, Outcome.PASSED, f"{c.label} has a CA bundle: {files.ca_path} ({count}).", c.label, evidence,
                   values)  # fmt: skip


def judge_clock(cid: str, c: ContainerFacts, result: ProbeResult, max_skew_s: float, blink_host: str,
                time_service: str, where: str) -> Finding:  # fmt: skip
    return judge_clock_of(cid, c.label, _c(c), result, max_skew_s, blink_host, time_service_advice(time_service, where))
