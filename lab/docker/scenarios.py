"""Docker lab scenarios on the real engine: a runner-like container that really calls the lab's
Blink stand-in, a real iptables rule for blocked egress, and real upgrade containers created by the
runner through the Docker socket.

The Blink URL is HTTPS with a name, like production: https://blink.lab.test:18443. The stand-in
serves it with a certificate from the lab's own CA, which the runner trusts (SSL_CERT_FILE, the CA
mounted read-only), and answers DNS for blink.lab.test on the lab network; the runner uses it as its
nameserver (docker run --dns). Each layer can be broken on its own: packets dropped (iptables),
a dead nameserver, a TLS-inspecting proxy's certificate (iptables redirects to a listener whose
certificate comes from another CA), HTTPS_PROXY at a dead port.

Everything the lab makes carries the label blink-lab=1 (containers, network) or the iptables
comment blink-lab, so `down` removes exactly what it made.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
from docker.errors import NotFound

from lab import blink_api

NETWORK = "blink-lab"
SUBNET = "172.30.251.0/24"
IP_RANGE = "172.30.251.0/25"  # containers get .2-.127; the upper half stays free for lab-only addresses
GATEWAY = "172.30.251.1"
STANDIN_PORT = 18080  # plain HTTP (older callers)
TLS_PORT = 18443  # HTTPS, a certificate from the lab CA the runner trusts
INSPECT_PORT = 18444  # HTTPS, a certificate from a "TLS-inspecting proxy" CA the runner does not trust
SPLIT_PORT = 18445  # HTTPS, Blink's certificate, but its own readiness answer (503): something answering for Blink
BLINK_HOST = "blink.lab.test"  # resolved only by the lab's DNS
BLINK_URL = f"https://{BLINK_HOST}:{TLS_PORT}"
HTTP_URL = f"http://{GATEWAY}:{STANDIN_PORT}"
DEAD_DNS = "172.30.251.253"  # a lab address where nothing answers (outside IP_RANGE)
# A proxy on the lab network where nothing listens; the credentials are planted for the leak tests.
PROXY_SECRET = "lab-proxy-pw-9d3e7a1b"
DEAD_PROXY = f"http://blink-proxy:{PROXY_SECRET}@{GATEWAY}:3128"
RUNNER_IMAGE = "blinkops/blink-runner:1.0.994"
UPGRADE_IMAGE = "blinkops/blink-runner:1.0.995"
# A planted secret: the leak tests search every artifact for it.
LAB_API_KEY = "lab-secret-4f1d2c9e8b7a6d5c"
LABEL = {"blink-lab": "1"}
STATE_DIR = Path(os.environ.get("BLINK_LAB_STATE", "/var/lib/blink-lab")) / "docker"
PKI_DIR = STATE_DIR / "pki"
CA_IN_RUNNER = "/etc/blink-lab/ca.pem"
IPT_COMMENT = "blink-lab"
# Blink's own view (lab/blink_api.py): the user API key the suite is given, a key the stand-in refuses, the workspace.
BLINK_API_KEY_FILE = STATE_DIR / "blink-api-key"
BLINK_API_KEY_WRONG = STATE_DIR / "blink-api-key-wrong"
BLINK_WORKSPACE = blink_api.WORKSPACE


def log(msg: str) -> None:
    print(f"[lab docker {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def client() -> docker.DockerClient:
    # The lab's own set-up calls, bounded; generous, since a busy engine (removing a container with a large log,
    # a loaded 2-core CI machine) may hold its locks for tens of seconds. The suite's calls have their own bounds.
    return docker.DockerClient(base_url="unix:///var/run/docker.sock", timeout=120)


def wait_until(what: str, probe: Callable[[], bool], deadline_s: float = 60.0, every_s: float = 0.3) -> None:
    """Poll until `probe()` is true; fail with a clear message at the deadline (never a bare sleep)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if probe():
            return
        time.sleep(every_s)
    raise TimeoutError(f"lab: {what} did not happen within {deadline_s:.0f}s")


# ------------------------------------------------------------------ the lab's PKI and the stand-in


def ensure_pki() -> Path:
    """The lab CA (trusted by the runner), the stand-in's certificate, and a second CA playing a
    TLS-inspecting proxy that re-signs traffic (not trusted). Made once; kept in the lab's state dir."""
    from lab.k8s import pki

    return pki.standin_certs(PKI_DIR, BLINK_HOST, GATEWAY)


def _standin_pidfile() -> Path:
    return STATE_DIR / "standin.pid"


def _standin_statefile() -> Path:
    return STATE_DIR / "standin.json"


def _standin_answers() -> bool:
    import socket

    try:
        with socket.create_connection((GATEWAY, STANDIN_PORT), timeout=0.5):
            return True
    except OSError:
        return False


def standin_args() -> list[str]:
    """The stand-in's configuration: plain HTTP (older callers), HTTPS with the lab CA, HTTPS with the
    inspecting proxy's CA, and the lab DNS answering blink.lab.test."""
    d = ensure_pki()
    return [
        "--listen", f"{GATEWAY}:{STANDIN_PORT}",
        "--tls", f"{GATEWAY}:{TLS_PORT},{d / 'standin.pem'},{d / 'standin.key'}",
        "--tls", f"{GATEWAY}:{INSPECT_PORT},{d / 'inspect.pem'},{d / 'inspect.key'}",
        "--tls", f"{GATEWAY}:{SPLIT_PORT},{d / 'standin.pem'},{d / 'standin.key'},readiness=503",
        "--dns", f"{GATEWAY}:53", "--record", f"{BLINK_HOST}={GATEWAY}",
        "--api-keys", str(blink_api.ensure_user_key(STATE_DIR)[1]),
    ]  # fmt: skip


def _pid() -> int:
    """The recorded stand-in's pid while that process lives (a zombie does not count)."""
    try:
        pid = int(_standin_pidfile().read_text())
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return 0
    return 0 if stat.rpartition(")")[2].split()[0] in ("Z", "X") else pid


def standin_running(args: list[str] | None = None) -> bool:
    """Our process is alive and the port answers (a pid file can outlive its process: reboot, new session);
    with `args`, also: it was started with exactly that configuration (the state file says so)."""
    pid = _pid()
    if not pid or not _standin_answers():
        return False
    if args is None:
        return True
    try:
        state = json.loads(_standin_statefile().read_text())
    except (OSError, ValueError):
        return False  # started by older code, which records no configuration
    return bool(state.get("pid") == pid and state.get("args") == args)


def start_standin(extra: tuple[str, ...] = ()) -> None:
    """Start the shared stand-in, or restart it when the running one has another configuration (a scenario's
    `extra` arguments, e.g. a skewed Date header)."""
    args = [*standin_args(), *extra]
    if standin_running(args):
        return
    stop_standin()
    wait_until("the old stand-in gone", lambda: not _standin_answers(), 10)
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    logf = open(STATE_DIR / "standin.log", "ab")  # noqa: SIM115 - handed to the child process
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "lab.standin", *args],
        cwd=repo,
        stdout=logf,
        stderr=logf,
        start_new_session=True,
    )
    _standin_pidfile().write_text(str(proc.pid))
    _standin_statefile().write_text(json.dumps({"pid": proc.pid, "args": args}))

    def answers() -> bool:
        return _standin_answers() or (proc.poll() is not None and _raise_standin_died())

    wait_until("the Blink stand-in listening", answers, 15)
    log(f"Blink stand-in at {BLINK_URL} (and {HTTP_URL}); lab DNS at {GATEWAY}:53")


def _raise_standin_died() -> bool:
    raise RuntimeError(f"lab: the Blink stand-in exited; see {STATE_DIR / 'standin.log'}")


def stop_standin() -> None:
    pid = _pid()
    if pid:
        os.kill(pid, signal.SIGTERM)
        wait_until("the stand-in stopping", lambda: not _pid(), 10, 0.1)
    _standin_pidfile().unlink(missing_ok=True)
    _standin_statefile().unlink(missing_ok=True)


# ------------------------------------------------------------------ network, containers, firewall


def ensure_network(dc: docker.DockerClient) -> None:
    """The lab's bridge network; one made by older code (no IP range) is replaced once nothing uses it."""
    try:
        net = dc.networks.get(NETWORK)
        pools = (net.attrs.get("IPAM") or {}).get("Config") or []
        if any(p.get("IPRange") == IP_RANGE for p in pools):
            return
        net.reload()
        if net.attrs.get("Containers"):
            raise SystemExit(f"lab: network {NETWORK} needs an IP range, but containers still use it: "
                             "python -m lab.docker down")  # fmt: skip
        net.remove()
    except NotFound:
        pass
    pool = docker.types.IPAMPool(subnet=SUBNET, gateway=GATEWAY, iprange=IP_RANGE)
    dc.networks.create(NETWORK, driver="bridge", ipam=docker.types.IPAMConfig(pool_configs=[pool]), labels=LABEL)


def runner_kwargs(dns: str = GATEWAY, **env: str) -> dict[str, Any]:
    """What every lab runner gets, as a customer's runner would: the Blink URL and key, a trust store with
    the lab CA (SSL_CERT_FILE), its nameserver (the lab DNS), the lab network and label."""
    environment = {
        "BLINK_URL": BLINK_URL,
        "BLINK_RUNNER_GROUP_API_KEY": LAB_API_KEY,
        "SSL_CERT_FILE": CA_IN_RUNNER,
        "PING_INTERVAL": "1",
        "PING_TIMEOUT": "2",
        **env,
    }
    ca = str(ensure_pki() / "ca.pem")
    return {
        "environment": environment,
        "volumes": {ca: {"bind": CA_IN_RUNNER, "mode": "ro"}},
        "dns": [dns],
        "network": NETWORK,
        "labels": LABEL,
    }


def run_runner(
    dc: docker.DockerClient,
    name: str = "blink-runner",
    socket: bool = True,
    dns: str = GATEWAY,
    image: str = RUNNER_IMAGE,
    log_driver: str = "",
    restart: str = "unless-stopped",
    run: dict[str, Any] | None = None,
    **env: str,
) -> str:
    """A runner as Blink's install command makes it (`--restart unless-stopped`, the socket); `run`: more of
    `docker run`'s settings (a memory limit, a mounted file, a command)."""
    kwargs = runner_kwargs(dns, **env)
    if socket:
        kwargs["volumes"]["/var/run/docker.sock"] = {"bind": "/var/run/docker.sock", "mode": "rw"}
    if log_driver:
        kwargs["log_config"] = docker.types.LogConfig(type=log_driver)
    kwargs["restart_policy"] = {"Name": restart}
    for key, value in (run or {}).items():
        kwargs[key] = {**kwargs[key], **value} if key == "volumes" else value
    c = dc.containers.run(image, name=name, detach=True, **kwargs)
    return str(c.id)


def container_ip(dc: docker.DockerClient, ref: str) -> str:
    c = dc.containers.get(ref)
    return str(c.attrs["NetworkSettings"]["Networks"][NETWORK]["IPAddress"])


def _recent_logs(dc: docker.DockerClient, ref: str) -> str:
    try:
        return str(dc.containers.get(ref).logs(tail=500).decode("utf-8", "replace"))
    except NotFound:
        return ""


def logs_contain(dc: docker.DockerClient, ref: str, text: str) -> Callable[[], bool]:
    return lambda: text in _recent_logs(dc, ref)


def logs_count(dc: docker.DockerClient, ref: str, text: str, n: int) -> Callable[[], bool]:
    return lambda: _recent_logs(dc, ref).count(text) >= n


def logs_after(dc: docker.DockerClient, ref: str, first: str, then: str) -> Callable[[], bool]:
    """`then` logged after the last `first`."""

    def probe() -> bool:
        text = _recent_logs(dc, ref)
        return first in text and then in text.rsplit(first, 1)[1]

    return probe


def status_is(dc: docker.DockerClient, ref: str, *statuses: str) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            return dc.containers.get(ref).status in statuses
        except NotFound:
            return False

    return probe


def block_egress(source_ip: str) -> None:
    """A real firewall rule: drop the runner's packets to the stand-in (host INPUT, it lives on the host)."""
    for port in (STANDIN_PORT, TLS_PORT):
        rule = ["-s", source_ip, "-d", GATEWAY, "-p", "tcp", "--dport", str(port)]
        rule += ["-m", "comment", "--comment", IPT_COMMENT, "-j", "DROP"]
        subprocess.run(["iptables", "-I", "INPUT", *rule], check=True)


def inspect_tls(to_port: int = INSPECT_PORT) -> None:
    """A TLS-inspecting proxy, as the runner meets it: its connections to Blink's port are answered by a
    listener that re-signs with the proxy's own CA (nat PREROUTING, for the lab network's containers); `to_port`:
    another listener that answers for Blink on the runner's way."""
    rule = ["-s", SUBNET, "-d", GATEWAY, "-p", "tcp", "--dport", str(TLS_PORT)]
    rule += ["-m", "comment", "--comment", IPT_COMMENT, "-j", "REDIRECT", "--to-ports", str(to_port)]
    subprocess.run(["iptables", "-t", "nat", "-I", "PREROUTING", *rule], check=True)


FIREWALL = (("filter", "INPUT"), ("nat", "PREROUTING"))


def _lab_rules() -> list[tuple[str, str]]:
    found = []
    for table, chain in FIREWALL:
        out = subprocess.run(["iptables", "-t", table, "-S", chain], capture_output=True, text=True, check=False)
        found += [(table, line) for line in out.stdout.splitlines()
                  if f"--comment {IPT_COMMENT}" in line and line.startswith("-A ")]  # fmt: skip
    return found


def remove_firewall_rules() -> None:
    for table, line in _lab_rules():
        subprocess.run(["iptables", "-t", table, "-D", *line.split()[1:]], check=False)


def clear(dc: docker.DockerClient) -> None:
    """Remove the lab's containers and firewall rules (the network and stand-in stay for the next one)."""
    for c in dc.containers.list(all=True, filters={"label": "blink-lab=1"}):
        c.remove(force=True)
    remove_firewall_rules()


# ------------------------------------------------------------------ scenarios


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    build: Callable[[docker.DockerClient], None]
    standin: tuple[str, ...] = ()  # more arguments of the Blink stand-in (lab/standin.py)


def _healthy(dc: docker.DockerClient) -> None:
    ref = run_runner(dc)
    wait_until("the runner connecting to the stand-in", logs_contain(dc, ref, "Connected to Blink controller"))


def _exited(dc: docker.DockerClient) -> None:
    ref = run_runner(dc, restart="no", RUNNER_CRASH="1")
    wait_until("the runner exiting", status_is(dc, ref, "exited"))


def _stale_runner(dc: docker.DockerClient) -> None:
    """A healthy runner, and an old runner container left behind (exited) beside it."""
    _healthy(dc)
    run_runner(dc, name="blink-runner-old", restart="no", RUNNER_CRASH="1")
    wait_until("the old runner exiting", status_is(dc, "blink-runner-old", "exited"))


def _logs_unreadable(dc: docker.DockerClient) -> None:
    """The runner's logging driver is `none`: the engine refuses `docker logs` (runbook step 2 fails)."""
    ref = run_runner(dc, log_driver="none")
    wait_until("the runner running", status_is(dc, ref, "running"))


def _egress_blocked(dc: docker.DockerClient) -> None:
    ref = run_runner(dc)
    wait_until("the runner connecting first", logs_contain(dc, ref, "Connected to Blink controller"))
    block_egress(container_ip(dc, ref))
    wait_until("the runner logging a timeout", logs_contain(dc, ref, "Client.Timeout exceeded"), 30)


def _egress_recovered(dc: docker.DockerClient) -> None:
    """A blip: egress dropped long enough for a few timeouts, then allowed again; the runner reconnects."""
    ref = run_runner(dc)
    wait_until("the runner connecting first", logs_contain(dc, ref, "Connected to Blink controller"))
    block_egress(container_ip(dc, ref))
    wait_until("the runner logging timeouts", logs_count(dc, ref, "Client.Timeout exceeded", 2), 30)
    remove_firewall_rules()
    wait_until("the runner connecting again", logs_after(dc, ref, "Client.Timeout exceeded",
                                                          "Connected to Blink controller"), 30)  # fmt: skip


def _runner_misconfigured(dc: docker.DockerClient) -> None:
    """The runner's own configuration is wrong (its Blink URL points at a port where nothing listens), while
    the path to Blink is open: errors go on to the end, and the egress probe passes."""
    ref = run_runner(dc, BLINK_URL=f"http://{GATEWAY}:{STANDIN_PORT + 1}")
    wait_until("the runner logging refused connections", logs_count(dc, ref, "connection refused", 2), 30)


def _upgrade_healthy(dc: docker.DockerClient) -> None:
    ref = run_runner(dc, RUNNER_UPGRADE_TO="1.0.995", RUNNER_UPGRADE_IMAGE=UPGRADE_IMAGE)
    wait_until("blink-runner-1.0.995 running", status_is(dc, "blink-runner-1.0.995", "running"))
    # The old runner restarts and finds its successor already running: the runbook's second line.
    dc.containers.get(ref).restart(timeout=5)
    wait_until("the 'Found existing container' line", logs_contain(dc, ref, "Found existing container with name"))


def _upgrade_failed(dc: docker.DockerClient) -> None:
    """The runner has no restart policy here: the upgraded container takes the runner's configuration, and with one
    it would be restarted again and again instead of staying exited."""
    ref = run_runner(
        dc,
        restart="no",
        RUNNER_UPGRADE_TO="1.0.995",
        RUNNER_UPGRADE_IMAGE=UPGRADE_IMAGE,
        RUNNER_UPGRADE_FAIL="failed to start runner 1.0.995: cannot register with Blink: runner group not found",
    )
    wait_until("the 'Creating new container' line", logs_contain(dc, ref, "Creating new container with name"))
    wait_until("blink-runner-1.0.995 exiting", status_is(dc, "blink-runner-1.0.995", "exited"))


def _register(dc: docker.DockerClient, name: str, **extra: Any) -> None:
    """What the runner's registration tells Blink (its name, container name, group, version), told to the stand-in;
    its pings make last_seen (unless `heartbeats=False`: Blink's controller has lost it)."""
    c = dc.containers.get(name)
    version = str(extra.pop("version", c.image.tags[0].rpartition(":")[2] if c.image.tags else ""))
    entry = {"ip_address": container_ip(dc, name), "name": c.attrs["Config"]["Hostname"], "container_name": c.name,
             "group_name": "lab-runners", "version": version, **extra}  # fmt: skip
    blink_api.control(HTTP_URL, "PUT", "/_lab/runners", [entry])


def _blink_sees(dc: docker.DockerClient) -> None:
    _healthy(dc)
    _register(dc, "blink-runner")


def _blink_stale(dc: docker.DockerClient) -> None:
    """A healthy runner that Blink's controller last saw ten minutes ago (it ignores the runner's pings since)."""
    _healthy(dc)
    _register(dc, "blink-runner", heartbeats=False, last_seen=int(time.time()) - 600)


def _blink_old_version(dc: docker.DockerClient) -> None:
    """The upgrade to 1.0.995 ran and the new container runs, but Blink still reports 1.0.994 for it."""
    _upgrade_healthy(dc)
    _register(dc, "blink-runner")
    _register(dc, "blink-runner-1.0.995", version="1.0.994")


def _blink_not_ready(dc: docker.DockerClient) -> None:
    """A healthy runner; Blink's controller answers its readiness with 503 (reset by the next scenario)."""
    _blink_sees(dc)
    blink_api.control(HTTP_URL, "PUT", "/_lab/readiness", {"status": 503})


def _no_socket(dc: docker.DockerClient) -> None:
    ref = run_runner(dc, socket=False)
    wait_until("the runner connecting to the stand-in", logs_contain(dc, ref, "Connected to Blink controller"))


def _dns_dead(dc: docker.DockerClient) -> None:
    ref = run_runner(dc, dns=DEAD_DNS)
    wait_until("the runner failing to resolve Blink", logs_contain(dc, ref, "Failed to connect to Blink"), 30)


def _tls_inspected(dc: docker.DockerClient) -> None:
    inspect_tls()
    ref = run_runner(dc)
    wait_until("the runner rejecting the re-signed certificate", logs_contain(dc, ref, "x509: "), 30)


def _proxy_dead(dc: docker.DockerClient) -> None:
    ref = run_runner(dc, HTTPS_PROXY=DEAD_PROXY, NO_PROXY="localhost,127.0.0.1")
    wait_until("the runner failing at its proxy", logs_contain(dc, ref, "proxyconnect"), 30)


def _runner_oom(dc: docker.DockerClient) -> None:
    """The runner outgrows its memory limit (16 MB; a shell doubling a string stands for its growth): the kernel's
    OOM killer ends it, State.OOMKilled."""
    grow = ["/bin/sh", "-c", "a=x; while :; do a=$a$a; done"]
    ref = run_runner(dc, restart="no", run={"mem_limit": "16m", "memswap_limit": "16m", "command": grow})
    wait_until("the runner OOM-killed", status_is(dc, ref, "exited"), 60)


def _restart_no(dc: docker.DockerClient) -> None:
    """A healthy runner started without a restart policy: it will not come back after a reboot."""
    ref = run_runner(dc, restart="no")
    wait_until("the runner connecting to the stand-in", logs_contain(dc, ref, "Connected to Blink controller"))


EMPTY_RESOLV = STATE_DIR / "empty-resolv.conf"


def _dns_missing(dc: docker.DockerClient) -> None:
    """The runner's /etc/resolv.conf names no nameserver (an empty file mounted over it, as a broken image or a
    hand-made mount leaves it): it cannot resolve Blink."""
    EMPTY_RESOLV.parent.mkdir(parents=True, exist_ok=True)
    EMPTY_RESOLV.write_text("# no nameserver\n")
    ref = run_runner(dc, run={"volumes": {str(EMPTY_RESOLV): {"bind": "/etc/resolv.conf", "mode": "ro"}}})
    wait_until("the runner failing to resolve Blink", logs_contain(dc, ref, "Failed to connect to Blink"), 30)


def _ca_missing(dc: docker.DockerClient) -> None:
    """The runner's SSL_CERT_FILE names a file that is not in the container: no CA bundle, x509 errors."""
    ref = run_runner(dc, SSL_CERT_FILE="/etc/blink-lab/missing-ca.pem")
    wait_until("the runner rejecting Blink's certificate", logs_contain(dc, ref, "x509: "), 30)


def _blink_split_view(dc: docker.DockerClient) -> None:
    """A healthy runner whose way to Blink's port is answered by another listener: Blink's certificate, the runner's
    ping answered, but its own readiness answer (503) while Blink's own is 200 (an appliance answering for Blink)."""
    inspect_tls(SPLIT_PORT)
    _healthy(dc)


CLOCK_OFFSET_S = 300  # Blink's Date header 5 minutes ahead: the runner's clock is 5 minutes behind


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("healthy", "one runner, running, connected to the stand-in", _healthy),
        Scenario("no-runner", "no runner container at all", lambda dc: None),
        Scenario("runner-exited", "the runner exited with an error (config missing)", _exited),
        Scenario("stale-runner", "a healthy runner and an old runner container (exited) beside it", _stale_runner),
        Scenario("logs-unreadable", "a running runner whose logging driver is none: `docker logs` is refused",
                 _logs_unreadable),
        Scenario("egress-blocked", "iptables drops the runner's traffic to Blink: real timeouts", _egress_blocked),
        Scenario("egress-recovered", "egress dropped for a few timeouts, then allowed: the runner reconnected",
                 _egress_recovered),
        Scenario("runner-misconfigured", "the runner's Blink URL is wrong (refused) while the path is open",
                 _runner_misconfigured),
        Scenario("upgrade-healthy", "upgrade to 1.0.995, new container runs ('Found existing')", _upgrade_healthy),
        Scenario("upgrade-failed", "upgrade to 1.0.995: the new container exits with an error", _upgrade_failed),
        Scenario("no-socket", "a running runner without the Docker socket mounted", _no_socket),
        Scenario("dns-dead", f"the runner's nameserver ({DEAD_DNS}, docker run --dns) never answers", _dns_dead),
        Scenario("tls-inspected", "a TLS-inspecting proxy re-signs Blink's certificate (a CA the runner "
                 "does not trust)", _tls_inspected),
        Scenario("proxy-dead", "HTTPS_PROXY points at a port on the lab network where nothing listens", _proxy_dead),
        Scenario("runner-oom", "the runner outgrows its 16 MB memory limit and is OOM-killed", _runner_oom),
        Scenario("restart-no", "a healthy runner without a restart policy (`--restart no`)", _restart_no),
        Scenario("dns-missing", "the runner's /etc/resolv.conf names no nameserver", _dns_missing),
        Scenario("ca-missing", "the runner's SSL_CERT_FILE names a file the container does not have", _ca_missing),
        Scenario("clock-skew", f"Blink's Date header is {CLOCK_OFFSET_S}s ahead of the runner's clock", _healthy,
                 standin=("--date-offset", str(CLOCK_OFFSET_S))),
        Scenario("blink-sees", "a healthy runner, registered with the stand-in (Blink's view)", _blink_sees),
        Scenario("blink-stale", "a healthy runner Blink last saw 10 minutes ago", _blink_stale),
        Scenario("blink-old-version", "upgrade to 1.0.995 done, Blink still reports 1.0.994", _blink_old_version),
        Scenario("blink-not-ready", "a healthy runner; Blink's readiness answers 503", _blink_not_ready),
        Scenario("blink-split-view", "Blink's readiness is 200, but on the runner's way another listener answers "
                 "for Blink with readiness 503", _blink_split_view),
    )
}


def require_images(dc: docker.DockerClient) -> None:
    """The lab's images are built locally (lab/images/build.sh); never let the SDK pull one from a registry."""
    for image in (RUNNER_IMAGE, UPGRADE_IMAGE):
        try:
            dc.images.get(image)
        except NotFound:
            raise SystemExit(f"lab: image {image} is missing: run bash lab/images/build.sh") from None


def up(name: str) -> None:
    if name not in SCENARIOS:
        raise SystemExit(f"lab: unknown scenario '{name}' (one of: {', '.join(SCENARIOS)})")
    dc = client()
    require_images(dc)
    clear(dc)
    ensure_network(dc)
    start_standin(SCENARIOS[name].standin)
    blink_api.reset(HTTP_URL)
    started = time.monotonic()
    SCENARIOS[name].build(dc)
    log(f"scenario {name} ready in {time.monotonic() - started:.1f}s: {SCENARIOS[name].description}")


def down() -> None:
    dc = client()
    clear(dc)
    for net in dc.networks.list(filters={"label": "blink-lab=1"}):
        net.remove()
    stop_standin()
    log("lab removed (containers, firewall rules, network, stand-in)")


def status() -> str:
    dc = client()
    rows = [f"stand-in: {'running at ' + BLINK_URL if standin_running() else 'stopped'}"]
    for c in dc.containers.list(all=True, filters={"label": "blink-lab=1"}):
        rows.append(f"container {c.name} ({c.short_id}): {c.status}")
    rows += [f"firewall ({table}): {line}" for table, line in _lab_rules()]
    return "\n".join(rows)
