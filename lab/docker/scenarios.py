"""Docker lab scenarios on the real engine: a runner-like container that really calls the lab's
Blink stand-in, a real iptables rule for blocked egress, and real upgrade containers created by the
runner through the Docker socket.

Everything the lab makes carries the label blink-lab=1 (containers, network) or the iptables
comment blink-lab, so `down` removes exactly what it made.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import NotFound

NETWORK = "blink-lab"
SUBNET = "172.30.251.0/24"
GATEWAY = "172.30.251.1"
STANDIN_PORT = 18080
BLINK_URL = f"http://{GATEWAY}:{STANDIN_PORT}"
RUNNER_IMAGE = "blinkops/blink-runner:1.0.994"
UPGRADE_IMAGE = "blinkops/blink-runner:1.0.995"
PROBE_IMAGE = "blink-lab/probe:1"
# A planted secret: the leak tests search every artifact for it.
LAB_API_KEY = "lab-secret-4f1d2c9e8b7a6d5c"
LABEL = {"blink-lab": "1"}
STATE_DIR = Path(os.environ.get("BLINK_LAB_STATE", "/var/lib/blink-lab")) / "docker"
IPT_COMMENT = "blink-lab"


def log(msg: str) -> None:
    print(f"[lab docker {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def client() -> docker.DockerClient:
    return docker.DockerClient(base_url="unix:///var/run/docker.sock", timeout=30)


def wait_until(what: str, probe: Callable[[], bool], deadline_s: float = 60.0, every_s: float = 0.3) -> None:
    """Poll until `probe()` is true; fail with a clear message at the deadline (never a bare sleep)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if probe():
            return
        time.sleep(every_s)
    raise TimeoutError(f"lab: {what} did not happen within {deadline_s:.0f}s")


# ------------------------------------------------------------------ the stand-in


def _standin_pidfile() -> Path:
    return STATE_DIR / "standin.pid"


def _standin_answers() -> bool:
    import socket

    try:
        with socket.create_connection((GATEWAY, STANDIN_PORT), timeout=0.5):
            return True
    except OSError:
        return False


def standin_running() -> bool:
    """Our process is alive and the port answers (a pid file can outlive its process: reboot, new session)."""
    try:
        pid = int(_standin_pidfile().read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return _standin_answers()


def start_standin() -> None:
    if standin_running():
        return
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    logf = open(STATE_DIR / "standin.log", "ab")  # noqa: SIM115 - handed to the child process
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "lab.standin", "--listen", f"{GATEWAY}:{STANDIN_PORT}"],
        cwd=repo,
        stdout=logf,
        stderr=logf,
        start_new_session=True,
    )
    _standin_pidfile().write_text(str(proc.pid))

    def answers() -> bool:
        return _standin_answers() or (proc.poll() is not None and _raise_standin_died())

    wait_until("the Blink stand-in listening", answers, 15)
    log(f"Blink stand-in at {BLINK_URL}")


def _raise_standin_died() -> bool:
    raise RuntimeError(f"lab: the Blink stand-in exited; see {STATE_DIR / 'standin.log'}")


def stop_standin() -> None:
    try:
        pid = int(_standin_pidfile().read_text())
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError):
        pass
    _standin_pidfile().unlink(missing_ok=True)


# ------------------------------------------------------------------ network, containers, firewall


def ensure_network(dc: docker.DockerClient) -> None:
    try:
        dc.networks.get(NETWORK)
        return
    except NotFound:
        pass
    ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=SUBNET, gateway=GATEWAY)])
    dc.networks.create(NETWORK, driver="bridge", ipam=ipam, labels=LABEL)


def run_runner(dc: docker.DockerClient, name: str = "blink-runner", socket: bool = True, **env: str) -> str:
    environment = {
        "BLINK_URL": BLINK_URL,
        "BLINK_RUNNER_GROUP_API_KEY": LAB_API_KEY,
        "PING_INTERVAL": "1",
        "PING_TIMEOUT": "2",
        **env,
    }
    volumes = {"/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "rw"}} if socket else {}
    c = dc.containers.run(
        RUNNER_IMAGE,
        name=name,
        detach=True,
        environment=environment,
        volumes=volumes,
        network=NETWORK,
        labels=LABEL,
    )
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
    rule = ["-s", source_ip, "-d", GATEWAY, "-p", "tcp", "--dport", str(STANDIN_PORT)]
    rule += ["-m", "comment", "--comment", IPT_COMMENT, "-j", "DROP"]
    subprocess.run(["iptables", "-I", "INPUT", *rule], check=True)


def remove_firewall_rules() -> None:
    out = subprocess.run(["iptables", "-S", "INPUT"], capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        if f"--comment {IPT_COMMENT}" in line and line.startswith("-A "):
            subprocess.run(["iptables", "-D", *line.split()[1:]], check=False)


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


def _healthy(dc: docker.DockerClient) -> None:
    ref = run_runner(dc)
    wait_until("the runner connecting to the stand-in", logs_contain(dc, ref, "Connected to Blink controller"))


def _exited(dc: docker.DockerClient) -> None:
    ref = run_runner(dc, RUNNER_CRASH="1")
    wait_until("the runner exiting", status_is(dc, ref, "exited"))


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
    ref = run_runner(
        dc,
        RUNNER_UPGRADE_TO="1.0.995",
        RUNNER_UPGRADE_IMAGE=UPGRADE_IMAGE,
        RUNNER_UPGRADE_FAIL="failed to start runner 1.0.995: cannot register with Blink: runner group not found",
    )
    wait_until("the 'Creating new container' line", logs_contain(dc, ref, "Creating new container with name"))
    wait_until("blink-runner-1.0.995 exiting", status_is(dc, "blink-runner-1.0.995", "exited"))


def _no_socket(dc: docker.DockerClient) -> None:
    ref = run_runner(dc, socket=False)
    wait_until("the runner connecting to the stand-in", logs_contain(dc, ref, "Connected to Blink controller"))


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("healthy", "one runner, running, connected to the stand-in", _healthy),
        Scenario("no-runner", "no runner container at all", lambda dc: None),
        Scenario("runner-exited", "the runner exited with an error (config missing)", _exited),
        Scenario("egress-blocked", "iptables drops the runner's traffic to Blink: real timeouts", _egress_blocked),
        Scenario("egress-recovered", "egress dropped for a few timeouts, then allowed: the runner reconnected",
                 _egress_recovered),
        Scenario("runner-misconfigured", "the runner's Blink URL is wrong (refused) while the path is open",
                 _runner_misconfigured),
        Scenario("upgrade-healthy", "upgrade to 1.0.995, new container runs ('Found existing')", _upgrade_healthy),
        Scenario("upgrade-failed", "upgrade to 1.0.995: the new container exits with an error", _upgrade_failed),
        Scenario("no-socket", "a running runner without the Docker socket mounted", _no_socket),
    )
}


def require_images(dc: docker.DockerClient) -> None:
    """The lab's images are built locally (lab/images/build.sh); never let the SDK pull one from a registry."""
    for image in (RUNNER_IMAGE, UPGRADE_IMAGE, PROBE_IMAGE):
        try:
            dc.images.get(image)
        except NotFound:
            raise SystemExit(f"lab: image {image} is missing: run bash lab/images/build.sh") from None


def up(name: str) -> None:
    if name not in SCENARIOS:
        raise SystemExit(f"lab: unknown scenario '{name}' (one of: {', '.join(SCENARIOS)})")
    dc = client()
    require_images(dc)
    ensure_network(dc)
    start_standin()
    clear(dc)
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
    rules = subprocess.run(["iptables", "-S", "INPUT"], capture_output=True, text=True, check=False).stdout
    rows += [f"firewall: {r}" for r in rules.splitlines() if IPT_COMMENT in r]
    return "\n".join(rows)
