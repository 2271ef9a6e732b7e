"""Bring the lab cluster up, tear it down, report its status.

Processes run detached (own session), log to $STATE/logs/<name>.log and are recorded in
$STATE/pids/<name>.json (pid + argv0, so `down` never signals a re-used pid).
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from .. import blink_api
from . import images, pki
from .settings import HERE, REPO, Settings

COMPONENTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "containerd",
              "kubelet", "standin", "kwok"]
IPT_PREFIXES = ("CNI-", "BLINKLAB-")
# Popen objects of detached daemons are kept referenced so that they never warn on collection
_DAEMONS: list[subprocess.Popen] = []


class LabError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} lab.k8s: {msg}", flush=True)


def run(cmd: list[str], check: bool = True, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise LabError(f"command failed ({r.returncode}): {shlex.join(cmd)}\n{(r.stdout + r.stderr).strip()[-2000:]}")
    return r


def tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text[-lines:])


# ------------------------------------------------------------------------------ processes
class Procs:
    def __init__(self, s: Settings):
        self.s = s

    def record(self, name: str) -> Path:
        return self.s.pids / f"{name}.json"

    def spawn(self, name: str, argv: list[str], env: dict | None = None, cwd: Path | None = None) -> int:
        self.s.logs.mkdir(parents=True, exist_ok=True)
        self.s.pids.mkdir(parents=True, exist_ok=True)
        logf = open(self.s.logs / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child, closed below
        logf.write(f"==== {time.strftime('%Y-%m-%dT%H:%M:%S')} {shlex.join(argv)}\n".encode())
        logf.flush()
        p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True, cwd=str(cwd or self.s.state),
                             env={**os.environ, **(env or {})})
        logf.close()
        _DAEMONS.append(p)
        self.record(name).write_text(json.dumps({"pid": p.pid, "argv0": argv[0], "argv": argv}))
        return p.pid

    def pid(self, name: str) -> int | None:
        """The recorded pid if that process still runs the recorded program."""
        try:
            rec = json.loads(self.record(name).read_text())
            cmdline = Path(f"/proc/{rec['pid']}/cmdline").read_bytes().split(b"\0")
            state = Path(f"/proc/{rec['pid']}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, ValueError, KeyError, IndexError):
            return None
        if state == "Z":
            return None
        argv0 = rec["argv0"].encode()
        if cmdline and (cmdline[0] == argv0 or os.path.basename(cmdline[0]) == os.path.basename(argv0)):
            return rec["pid"]
        return None

    def exited(self, name: str) -> bool:
        """The recorded process is gone (or a zombie). Unlike pid(), this does not read the command line,
        which is briefly empty while a just-spawned child runs execve."""
        try:
            rec = json.loads(self.record(name).read_text())
        except (OSError, ValueError):
            return False
        return not _alive(rec["pid"])

    def stop(self, name: str, timeout: float = 10) -> bool:
        pid = self.pid(name)
        if pid is not None:
            _terminate(pid, timeout)
        self.record(name).unlink(missing_ok=True)
        return pid is not None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _terminate(pid: int, timeout: float) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    if _alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)


def wait_for(what: str, component: str, fn, timeout: float, s: Settings, procs: Procs | None = None,
             interval: float = 0.25):
    """Poll fn() until it returns a truthy value; on deadline raise naming the component + log tail."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = fn()
            if value:
                return value
        except Exception as exc:
            last_exc = exc
        if procs is not None and component in COMPONENTS and procs.exited(component):
            raise LabError(f"{component} exited while waiting for {what}; tail of "
                           f"{s.logs / (component + '.log')}:\n{tail(s.logs / (component + '.log'))}")
        if time.monotonic() > deadline:
            detail = f" (last error: {last_exc})" if last_exc else ""
            raise LabError(f"timed out after {timeout:.0f} s waiting for {what} [{component}]{detail}; tail of "
                           f"{s.logs / (component + '.log')}:\n{tail(s.logs / (component + '.log'))}")
        time.sleep(interval)


# ------------------------------------------------------------------------------ API access
class Api:
    def __init__(self, s: Settings, user: str = "admin"):
        self.s = s
        self.base = f"https://127.0.0.1:{s.apiserver_port}"
        ctx = ssl.create_default_context(cafile=str(s.pki / "ca.crt"))
        ctx.load_cert_chain(str(s.pki / f"{user}.crt"), str(s.pki / f"{user}.key"))
        self.ctx = ctx

    def request(self, method: str, path: str, body=None, timeout: float = 10, raw: bool = False):
        data = None
        headers = {"Accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(req, context=self.ctx, timeout=timeout) as resp:
            payload = resp.read()
        return payload.decode(errors="replace") if raw else json.loads(payload or b"null")

    def get(self, path: str, **kw):
        return self.request("GET", path, **kw)

    def healthy(self, path: str = "/readyz") -> bool:
        try:
            return self.get(path, raw=True).strip() == "ok"
        except (OSError, urllib.error.URLError, ssl.SSLError):
            return False


def https_ok(port: int, path: str = "/healthz") -> bool:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(f"https://127.0.0.1:{port}{path}", context=ctx, timeout=3) as r:
            return r.status == 200
    except (OSError, urllib.error.URLError):
        return False


def tcp_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def node_ready(api: Api, name: str) -> bool:
    node = api.get(f"/api/v1/nodes/{name}")
    return any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"].get("conditions", []))


# ------------------------------------------------------------------------------ config files
AUDIT_POLICY = """apiVersion: audit.k8s.io/v1
kind: Policy
# every request at Metadata level: user, verb, resource, namespace, name, response code
omitStages: ["RequestReceived"]
rules:
- level: Metadata
"""


def containerd_config(s: Settings) -> str:
    d = s.containerd_dir
    return f"""version = 2
root = "{d}/root"
state = "{d}/state"
plugin_dir = ""
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
oom_score = 0

[grpc]
  address = "{s.containerd_sock}"

[ttrpc]
  address = "{d}/containerd.sock.ttrpc"

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "{d}/opt"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "{s.pause_image}"
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    enable_selinux = false
    disable_apparmor = true
    max_container_log_line_size = 16384
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "{s.cni_conf_dir}"
      max_conf_num = 1
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = ""
"""


def cni_conflist(s: Settings) -> dict:
    return {
        "cniVersion": "1.0.0",
        "name": s.cni_name,
        "plugins": [
            {
                "type": "bridge",
                "bridge": s.bridge,
                "isGateway": True,
                "ipMasq": False,  # pods never reach beyond the machine: no NAT, see guard rules
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": s.pod_cidr, "gateway": s.gateway, "rangeEnd": s.pod_range_end}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
            {"type": "firewall", "backend": "iptables"},
        ],
    }


def kubelet_config(s: Settings) -> dict:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": s.gateway,
        "port": s.kubelet_port,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": s.kubelet_healthz_port,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(s.pki / "ca.crt")},
        },
        "authorization": {"mode": "Webhook"},
        "tlsCertFile": str(s.pki / "kubelet-serving.crt"),
        "tlsPrivateKeyFile": str(s.pki / "kubelet-serving.key"),
        "containerRuntimeEndpoint": f"unix://{s.containerd_sock}",
        "cgroupDriver": "cgroupfs",
        "failSwapOn": False,
        "oomScoreAdj": 0,
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "imageMinimumGCAge": "87600h",
        "evictionHard": {"memory.available": "50Mi", "nodefs.available": "1%", "imagefs.available": "1%",
                         "nodefs.inodesFree": "1%"},
        "evictionPressureTransitionPeriod": "5s",
        "clusterDomain": "cluster.local",
        "clusterDNS": [],
        "resolvConf": str(s.state / "resolv.conf"),
        "staticPodPath": "",
        "serializeImagePulls": False,
        "maxPods": 110,
        "nodeStatusUpdateFrequency": "5s",
        "syncFrequency": "10s",
        "fileCheckFrequency": "20s",
        "protectKernelDefaults": False,
        "localStorageCapacityIsolation": True,
        "shutdownGracePeriod": "0s",
        "volumeStatsAggPeriod": "0s",
        "containerLogMaxSize": "10Mi",
        "containerLogMaxFiles": 2,
        "enableDebuggingHandlers": True,
        "makeIPTablesUtilChains": False,
        # keep the kubelet's files in the state dir (defaults: /var/log/pods, /usr/libexec/kubernetes)
        "podLogsDir": str(s.state / "pod-logs"),
        "volumePluginDir": str(s.state / "volume-plugins"),
    }


# Host paths the kubelet creates whatever its root dir is: removed by `down` unless they existed before `up`.
KUBELET_HOST_PATHS = ["/var/lib/kubelet", "/var/log/containers", "/var/log/pods", "/usr/libexec/kubernetes"]


def kwok_config(s: Settings, pod_logs: Sequence[tuple[str, str, Path]] = ()) -> str:
    """kwok's configuration; `pod_logs`: (namespace, pod, file) whose container blink-runner logs that file instead
    (the scale scene's pod with a network error)."""
    docs = [f"""apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  cidr: 127.1.0.1/16
  nodeIP: 127.0.0.1
  nodeName: localhost
  nodePort: {s.kwok_port}
  manageAllNodes: false
  manageNodesWithAnnotationSelector: kwok.x-k8s.io/node=fake
  serverAddress: 127.0.0.1:{s.kwok_port}
  tlsCertFile: {s.pki / 'kwok.crt'}
  tlsPrivateKeyFile: {s.pki / 'kwok.key'}
  nodeLeaseDurationSeconds: 40
  nodeLeaseParallelism: 4
  nodePlayStageParallelism: 4
  podPlayStageParallelism: 4
  podsOnNodeSyncParallelism: 4
  enableDebuggingHandlers: true
  enableProfilingHandler: false
"""]
    # the "fast" node/pod stages (nodes Ready at once, pods Running at once, no chaos) and the
    # lease-based node heartbeat; never the stages' testdata files
    for f in sorted(s.kwok_stages.glob("*.yaml")):
        rel = f.name
        if "testdata" in rel:
            continue
        if rel.startswith(("node_fast_", "pod_fast_", "node_heartbeat-with-lease_")):
            docs.append(f.read_text())
    # kwok pods have no containers: their logs (`kubectl logs`, through the API server to kwok's own server)
    # are read from a file in CRI format, the same for every kwok pod's container `blink-runner`
    docs.append(f"""apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: blink-lab-runner-logs
spec:
  logs:
  - containers: [blink-runner]
    logsFile: {kwok_runner_log(s)}
    previousLogsFile: {kwok_runner_log(s)}
""")
    for namespace, pod, path in pod_logs:
        docs.append(f"""apiVersion: kwok.x-k8s.io/v1alpha1
kind: Logs
metadata:
  name: {pod}
  namespace: {namespace}
spec:
  logs:
  - containers: [blink-runner]
    logsFile: {path}
    previousLogsFile: {path}
""")
    return "\n---\n".join(d.strip() + "\n" for d in docs)


def kwok_runner_log(s: Settings) -> Path:
    """The log file kwok serves for every kwok pod's `blink-runner` container (written by whoever needs it)."""
    return s.state / "kwok-logs" / "blink-runner.log"


# ------------------------------------------------------------------------------ host network
def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run(["ip", *args], check=check)


def bridge_exists(s: Settings) -> bool:
    return Path(f"/sys/class/net/{s.bridge}").exists()


def bridge_mac_state(s: Settings) -> tuple[str, str]:
    """The bridge's MAC and addr_assign_type (1 random: follows its ports; 3 set)."""
    sysfs = Path(f"/sys/class/net/{s.bridge}")
    return (sysfs / "address").read_text().strip(), (sysfs / "addr_assign_type").read_text().strip()


def create_bridge(s: Settings) -> None:
    if not bridge_exists(s):
        ip("link", "add", s.bridge, "address", s.bridge_mac, "type", "bridge")
    # A bridge without a MAC of its own takes the lowest MAC of its ports, so it changes as pod veths come
    # and go, and pods keep the old one for the gateway (the stand-in) in their ARP cache: their packets are
    # lost for up to a minute. A fixed MAC (addr_assign_type 3, "set") never changes.
    if bridge_mac_state(s) != (s.bridge_mac, "3"):
        ip("link", "set", s.bridge, "address", s.bridge_mac)
    addrs = ip("-4", "addr", "show", "dev", s.bridge).stdout
    if f"{s.gateway}/" not in addrs:
        ip("addr", "add", f"{s.gateway}/{s.prefix_len}", "dev", s.bridge)
    ip("link", "set", s.bridge, "up")


def iptables(*args: str, table: str = "filter", check: bool = True) -> subprocess.CompletedProcess:
    return run(["iptables", "-w", "5", "-t", table, *args], check=check)


def install_guard(s: Settings) -> None:
    """Pods may talk to each other and to the machine itself (bridge address), never beyond it."""
    for chain, parent in [("BLINKLAB-GUARD", "FORWARD")]:
        iptables("-N", chain, check=False)
        iptables("-F", chain)
        iptables("-A", chain, "-s", s.pod_cidr, "!", "-d", s.pod_cidr, "-m", "comment", "--comment",
                 "blink-lab k8s: pods never leave the machine", "-j", "DROP")
        iptables("-A", chain, "-d", s.pod_cidr, "!", "-s", s.pod_cidr, "-m", "conntrack", "!", "--ctstate",
                 "RELATED,ESTABLISHED", "-j", "DROP")
        if iptables("-C", parent, "-j", chain, check=False).returncode != 0:
            iptables("-I", parent, "1", "-j", chain)
    # the firewall CNI plugin evaluates CNI-ADMIN before its own ACCEPT rules: same guard there
    iptables("-N", "CNI-ADMIN", check=False)
    if iptables("-C", "CNI-ADMIN", "-j", "BLINKLAB-GUARD", check=False).returncode != 0:
        iptables("-I", "CNI-ADMIN", "1", "-j", "BLINKLAB-GUARD")


def cleanup_iptables() -> list[str]:
    """Remove every jump to, and every chain named, CNI-* / BLINKLAB-* (the lab is the only CNI user)."""
    removed = []
    for table in ("filter", "nat", "mangle", "raw"):
        r = run(["iptables-save", "-t", table], check=False)
        if r.returncode != 0:
            continue
        chains = []
        for line in r.stdout.splitlines():
            if line.startswith(":"):
                name = line[1:].split()[0]
                if name.startswith(IPT_PREFIXES):
                    chains.append(name)
            elif line.startswith("-A "):
                parts = shlex.split(line)
                chain = parts[1]
                target = parts[parts.index("-j") + 1] if "-j" in parts else ""
                if not chain.startswith(IPT_PREFIXES) and target.startswith(IPT_PREFIXES):
                    iptables("-D", *parts[1:], table=table, check=False)
                    removed.append(f"{table}:{chain}->{target}")
        for c in chains:
            iptables("-F", c, table=table, check=False)
        for c in chains:
            if iptables("-X", c, table=table, check=False).returncode == 0:
                removed.append(f"{table}:{c}")
    return removed


def leftover_iptables() -> list[str]:
    found = []
    for table in ("filter", "nat", "mangle", "raw"):
        r = run(["iptables-save", "-t", table], check=False)
        for line in r.stdout.splitlines():
            if any(p in line for p in IPT_PREFIXES):
                found.append(f"{table}: {line}")
    return found


def our_mounts(s: Settings, netns: set[str]) -> list[str]:
    out = []
    state = str(s.state)
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        mp = line.split()[4].replace("\\040", " ")
        if mp == state or mp.startswith(state + "/") or mp in netns:
            out.append(mp)
    return out


def cni_netns() -> set[str]:
    d = Path("/run/netns")
    return {str(p) for p in d.glob("cni-*")} if d.exists() else set()


def unmount_all(paths: list[str]) -> None:
    for mp in sorted(set(paths), key=lambda p: p.count("/"), reverse=True):
        if subprocess.run(["umount", mp], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", mp], capture_output=True)


def remove_kubelet_host_paths(s: Settings, preexisting: list[str]) -> None:
    links = Path("/var/log/containers")
    if links.is_dir():
        for link in links.iterdir():
            if link.is_symlink() and os.readlink(link).startswith(str(s.state) + "/"):
                link.unlink()
    for p in KUBELET_HOST_PATHS:
        if p not in preexisting and os.path.lexists(p):
            shutil.rmtree(p, ignore_errors=True)
    dp = Path("/var/lib/kubelet/device-plugins")
    if "/var/lib/kubelet" in preexisting and dp.is_dir():
        for f in dp.iterdir():  # the kubelet's own socket and checkpoint
            if f.name in ("kubelet.sock", "kubelet_internal_checkpoint"):
                f.unlink(missing_ok=True)


def kubepods_cgroups() -> list[Path]:
    found = []
    root = Path("/sys/fs/cgroup")
    for ctl in root.iterdir() if root.exists() else []:
        p = ctl / "kubepods"
        if p.is_dir():
            found.append(p)
    return found


def remove_cgroup_tree(p: Path) -> None:
    for sub in sorted((d for d in p.rglob("*") if d.is_dir()), key=lambda d: len(d.parts), reverse=True):
        try:
            sub.rmdir()
        except OSError:
            pass
    try:
        p.rmdir()
    except OSError:
        pass


def pod_processes() -> list[int]:
    """Processes in the kubelet's pod cgroups (containers, pause) - only ever the lab's."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cg = (proc / "cgroup").read_text()
        except OSError:
            continue
        if "/kubepods" in cg:
            pids.append(int(proc.name))
    return pids


def our_shims(s: Settings) -> list[int]:
    pids = []
    needle = str(s.containerd_sock).encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"containerd-shim" in cmd.split(b"\0")[0] and needle in cmd:
            pids.append(int(proc.name))
    return pids


# ------------------------------------------------------------------------------ up
def ensure_built(s: Settings) -> None:
    if s.built() and all(s.bin(b).exists() for b in ("kube-apiserver", "kubelet", "etcd", "kwok", "pause")):
        return
    log(f"binaries missing in {s.cache}: running lab/k8s/build.sh (cold: 15-30 min)")
    env = {**os.environ, "BLINK_LAB_CACHE": str(s.cache)}
    try:
        # Bounded: a cold build takes 15-30 min on 2 cores; past an hour something is wrong.
        r = subprocess.run(["bash", str(HERE / "build.sh")], env=env, timeout=60 * 60)
    except subprocess.TimeoutExpired:
        raise LabError("lab/k8s/build.sh did not finish within 60 min") from None
    if r.returncode != 0:
        raise LabError("lab/k8s/build.sh failed (see its output above)")


def is_up(s: Settings) -> bool:
    procs = Procs(s)
    if not all(procs.pid(c) for c in COMPONENTS if c != "kwok"):
        return False
    try:
        return node_ready(Api(s), s.node_name)
    except Exception:
        return False


def start_standin(s: Settings, procs: Procs) -> None:
    import importlib.util
    sys.path.insert(0, str(REPO))
    try:
        has_standin = importlib.util.find_spec("lab.standin") is not None
    except (ImportError, ValueError):
        has_standin = False
    if not has_standin:
        procs.spawn("standin", [sys.executable, "-m", "lab.k8s.standin_fallback", "--listen",
                                f"{s.gateway}:{s.standin_port}"], cwd=REPO, env={"PYTHONPATH": str(REPO)})
        wait_for(f"the Blink stand-in on {s.standin_http_url}", "standin",
                 lambda: tcp_open(s.gateway, s.standin_port), 20, s, procs)
        return
    procs.spawn("standin", [sys.executable, "-m", "lab.standin", *standin_args(s)], cwd=REPO,
                env={"PYTHONPATH": str(REPO)})
    wait_for(f"the Blink stand-in on {s.standin_url} and {s.standin_http_url}", "standin",
             lambda: all(tcp_open(s.gateway, port) for port in (s.standin_port, s.standin_tls_port)), 20, s, procs)


def standin_args(s: Settings) -> list[str]:
    """Plain HTTP (kept for callers that need no TLS), HTTPS with the lab CA the runners trust, HTTPS with
    the inspecting proxy's CA, and DNS for the Blink name on the gateway (the pods' nameserver)."""
    d = pki.standin_certs(s.standin_pki, s.blink_host, s.gateway)
    return [
        "--listen", f"{s.gateway}:{s.standin_port}",
        "--tls", f"{s.gateway}:{s.standin_tls_port},{d / 'standin.pem'},{d / 'standin.key'}",
        "--tls", f"{s.gateway}:{s.standin_inspect_port},{d / 'inspect.pem'},{d / 'inspect.key'}",
        "--dns", f"{s.gateway}:53", "--record", f"{s.blink_host}={s.gateway}",
        "--api-keys", str(blink_api.ensure_user_key(s.state)[1]),
    ]  # fmt: skip


def up(s: Settings, kwok_nodes: int = 0) -> Path:
    if os.geteuid() != 0:
        raise LabError("the lab cluster needs root (network, mounts, containerd)")
    t0 = time.monotonic()
    for tool in ("containerd", "runc", "ctr", "iptables", "ip"):
        if not shutil.which(tool):
            raise LabError(f"{tool} is missing: apt-get install containerd runc iptables iproute2 "
                           "containernetworking-plugins")
    if not Path("/usr/lib/cni/bridge").exists():
        raise LabError("CNI plugins missing in /usr/lib/cni: apt-get install containernetworking-plugins")
    ensure_built(s)
    procs = Procs(s)
    if is_up(s):
        log("lab cluster already up")
        if kwok_nodes:
            start_kwok(s, procs, kwok_nodes)
        print(s.admin_kubeconfig)
        return s.admin_kubeconfig
    if s.state.exists():
        log("partial or stale lab state found: cleaning it first")
        down(s, quiet=True)

    for d in (s.state, s.pki, s.logs, s.pids, s.containerd_dir, s.kubelet_dir, s.cni_conf_dir,
              s.hostpath_dir, s.state / "etcd"):
        d.mkdir(parents=True, exist_ok=True)
    info = {"preexisting_netns": sorted(cni_netns()), "started": time.time(),
            "preexisting_paths": [p for p in KUBELET_HOST_PATHS if os.path.lexists(p)],
            "k8s_version": s.k8s_version, "etcd_version": s.etcd_version, "node": s.node_name,
            "apiserver": f"https://127.0.0.1:{s.apiserver_port}", "standin_url": s.standin_url,
            "standin_http_url": s.standin_http_url, "lab_ca": str(s.lab_ca),
            "kubeconfig": str(s.admin_kubeconfig), "checker_kubeconfig": str(s.checker_kubeconfig),
            "audit_log": str(s.audit_log), "bridge": s.bridge, "pod_cidr": s.pod_cidr}
    s.info_file.write_text(json.dumps(info, indent=1))

    log(f"PKI and kubeconfigs -> {s.pki}")
    pki.generate(s)
    (s.state / "audit-policy.yaml").write_text(AUDIT_POLICY)
    # the pods' nameserver: the stand-in's DNS (the Blink name only; NXDOMAIN for every other name)
    (s.state / "resolv.conf").write_text("# blink-lab: pods have no DNS beyond the lab\n"
                                         f"nameserver {s.gateway}\noptions timeout:1 attempts:1\n")
    create_bridge(s)
    install_guard(s)

    p = s.pki
    log(f"starting etcd {s.etcd_version}")
    procs.spawn("etcd", [
        str(s.bin("etcd")), "--name=node0", f"--data-dir={s.state / 'etcd'}",
        f"--listen-client-urls=http://127.0.0.1:{s.etcd_port}",
        f"--advertise-client-urls=http://127.0.0.1:{s.etcd_port}",
        f"--listen-peer-urls=http://127.0.0.1:{s.etcd_peer_port}",
        f"--initial-advertise-peer-urls=http://127.0.0.1:{s.etcd_peer_port}",
        f"--initial-cluster=node0=http://127.0.0.1:{s.etcd_peer_port}",
        "--unsafe-no-fsync", "--auto-compaction-retention=1", "--quota-backend-bytes=4294967296",
        "--log-level=warn"])
    # containerd does not depend on the control plane: start it now, in parallel
    s.containerd_dir.joinpath("config.toml").write_text(containerd_config(s))
    (s.cni_conf_dir / "10-blinklab.conflist").write_text(json.dumps(cni_conflist(s), indent=1))
    log("starting containerd (own root, state and socket)")
    # image pulls must never leave the machine: every registry request goes to a dead loopback "proxy"
    no_pull = {k: "http://127.0.0.1:9" for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}
    no_pull.update(NO_PROXY="", no_proxy="")
    procs.spawn("containerd", ["/usr/bin/containerd", "--config", str(s.containerd_dir / "config.toml")],
                env=no_pull)

    wait_for("etcd /health", "etcd", lambda: _http_ok(f"http://127.0.0.1:{s.etcd_port}/health"), 30, s, procs)

    log(f"starting kube-apiserver {s.k8s_version} on https://127.0.0.1:{s.apiserver_port}")
    procs.spawn("kube-apiserver", [
        str(s.bin("kube-apiserver")),
        f"--etcd-servers=http://127.0.0.1:{s.etcd_port}", "--etcd-prefix=/registry",
        "--bind-address=127.0.0.1", f"--secure-port={s.apiserver_port}",
        f"--advertise-address={s.gateway}", "--endpoint-reconciler-type=none",
        "--allow-privileged=true", "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        f"--client-ca-file={p / 'ca.crt'}",
        f"--tls-cert-file={p / 'apiserver.crt'}", f"--tls-private-key-file={p / 'apiserver.key'}",
        f"--kubelet-client-certificate={p / 'apiserver-kubelet-client.crt'}",
        f"--kubelet-client-key={p / 'apiserver-kubelet-client.key'}",
        f"--kubelet-certificate-authority={p / 'ca.crt'}",
        "--kubelet-preferred-address-types=InternalIP",
        f"--service-account-key-file={p / 'sa.pub'}", f"--service-account-signing-key-file={p / 'sa.key'}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-cluster-ip-range={s.service_cidr}",
        f"--audit-policy-file={s.state / 'audit-policy.yaml'}", f"--audit-log-path={s.audit_log}",
        "--audit-log-maxsize=200", "--audit-log-maxbackup=1", "--audit-log-format=json",
        "--profiling=false", "--enable-priority-and-fairness=false"])

    log("importing images into containerd (namespace k8s.io)")
    wait_for("containerd socket", "containerd",
             lambda: images.ctr(s, "version", timeout=5).returncode == 0, 30, s, procs)
    imported = images.import_all(s)
    log(f"imported {len(imported)} images: {', '.join(imported)}")

    api = Api(s)
    wait_for("kube-apiserver /readyz", "kube-apiserver", api.healthy, 60, s, procs)

    log("starting kube-controller-manager and kube-scheduler")
    kc = s.state / "controller-manager.kubeconfig"
    procs.spawn("kube-controller-manager", [
        str(s.bin("kube-controller-manager")), f"--kubeconfig={kc}",
        f"--authentication-kubeconfig={kc}", f"--authorization-kubeconfig={kc}",
        "--bind-address=127.0.0.1", f"--secure-port={s.kcm_port}", "--leader-elect=false",
        "--use-service-account-credentials=true",
        f"--service-account-private-key-file={p / 'sa.key'}", f"--root-ca-file={p / 'ca.crt'}",
        f"--cluster-signing-cert-file={p / 'ca.crt'}", f"--cluster-signing-key-file={p / 'ca.key'}",
        "--horizontal-pod-autoscaler-sync-period=5s", "--node-monitor-period=5s",
        "--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller",
        "--profiling=false"])
    sc = s.state / "scheduler.kubeconfig"
    procs.spawn("kube-scheduler", [
        str(s.bin("kube-scheduler")), f"--kubeconfig={sc}",
        f"--authentication-kubeconfig={sc}", f"--authorization-kubeconfig={sc}",
        "--bind-address=127.0.0.1", f"--secure-port={s.scheduler_port}", "--leader-elect=false",
        "--profiling=false"])

    log(f"starting kubelet (node {s.node_name}, {s.gateway})")
    (s.state / "kubelet-config.yaml").write_text(json.dumps(kubelet_config(s), indent=1))
    procs.spawn("kubelet", [
        str(s.bin("kubelet")), f"--config={s.state / 'kubelet-config.yaml'}",
        f"--kubeconfig={s.state / 'kubelet.kubeconfig'}", f"--hostname-override={s.node_name}",
        f"--node-ip={s.gateway}", f"--root-dir={s.kubelet_dir}", f"--cert-dir={s.pki}", "--v=1"])
    start_standin(s, procs)

    wait_for("kube-controller-manager /healthz", "kube-controller-manager",
             lambda: https_ok(s.kcm_port), 45, s, procs)
    wait_for("kube-scheduler /healthz", "kube-scheduler", lambda: https_ok(s.scheduler_port), 45, s, procs)
    wait_for(f"node {s.node_name} Ready", "kubelet", lambda: node_ready(api, s.node_name), 90, s, procs)
    if kwok_nodes:
        start_kwok(s, procs, kwok_nodes)
    log(f"lab cluster up in {time.monotonic() - t0:.1f} s: node {s.node_name} Ready; "
        f"Blink stand-in {s.standin_url}; audit log {s.audit_log}")
    print(s.admin_kubeconfig, flush=True)
    return s.admin_kubeconfig


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except (OSError, urllib.error.URLError):
        return False


# ------------------------------------------------------------------------------ kwok
def kwok_node(name: str) -> dict:
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                                    "kwok.x-k8s.io/node": "fake"},
                     "labels": {"type": "kwok", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                "kubernetes.io/arch": "amd64", "node-role.kubernetes.io/agent": ""}},
        "spec": {"taints": [{"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}]},
        "status": {"allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
                   "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"},
                   "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux",
                                "kubeletVersion": "fake", "kubeProxyVersion": "fake"}},
    }


def start_kwok(s: Settings, procs: Procs, n: int, config: str | None = None) -> None:
    api = Api(s)
    if not procs.pid("kwok"):
        (s.state / "kwok.yaml").write_text(config or kwok_config(s))
        log(f"starting kwok {s.kwok_version} (out of cluster) for {n} fake nodes")
        procs.spawn("kwok", [str(s.bin("kwok")), f"--kubeconfig={s.state / 'kwok.kubeconfig'}",
                             f"--config={s.state / 'kwok.yaml'}"])
    names = [f"kwok-node-{i}" for i in range(n)]
    for name in names:
        try:
            api.request("POST", "/api/v1/nodes", kwok_node(name))
        except urllib.error.HTTPError as e:
            if e.code != 409:
                raise
    wait_for(f"{n} kwok nodes Ready", "kwok", lambda: all(node_ready(api, nm) for nm in names), 60, s, procs)
    log(f"{n} kwok nodes Ready (label type=kwok, taint kwok.x-k8s.io/node=fake:NoSchedule)")


def set_kwok_nodes(s: Settings, n: int, config: str | None = None) -> None:
    """Scale the kwok fake nodes to n on a running lab (0 removes them and stops kwok); `config`: kwok's
    configuration when it starts (default kwok_config)."""
    if not is_up(s):
        raise LabError("the lab cluster is not up: run `python3 -m lab.k8s up` first")
    procs = Procs(s)
    api = Api(s)
    existing = [x["metadata"]["name"] for x in api.get("/api/v1/nodes?labelSelector=type%3Dkwok")["items"]]
    for name in existing:
        if int(name.rsplit("-", 1)[1]) >= n:
            api.request("DELETE", f"/api/v1/nodes/{name}")
    if n > 0:
        start_kwok(s, procs, n, config)
    else:
        procs.stop("kwok", 5)
        log("kwok stopped, fake nodes removed")


# ------------------------------------------------------------------------------ down
def down(s: Settings, quiet: bool = False) -> None:
    t0 = time.monotonic()
    procs = Procs(s)
    stopped = []
    for name in ("kwok", "standin", "standin-skewed"):
        if procs.stop(name, 5):
            stopped.append(name)
    preexisting: set[str] = set()
    preexisting_paths = list(KUBELET_HOST_PATHS)
    try:
        info = json.loads(s.info_file.read_text())
        preexisting = set(info.get("preexisting_netns", []))
        preexisting_paths = info.get("preexisting_paths", preexisting_paths)
    except (OSError, ValueError):
        pass

    # let the kubelet stop the pods (CNI DEL, unmounts) while the control plane still runs
    if procs.pid("kubelet") and procs.pid("kube-apiserver") and (s.pki / "admin.crt").exists():
        for name in ("kube-controller-manager", "kube-scheduler"):
            if procs.stop(name, 5):
                stopped.append(name)
        kubectl = [str(s.kubectl), f"--kubeconfig={s.admin_kubeconfig}"]
        subprocess.run(kubectl + ["delete", "pods", "--all", "-A", "--force", "--grace-period=0",
                                  "--wait=false"], capture_output=True, timeout=30)
        # StopPodSandbox (CNI DEL included) leaves no RUNNING task behind
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            r = images.ctr(s, "tasks", "ls", timeout=10)
            if r.returncode != 0 or not any(line.split()[-1:] == ["RUNNING"] for line in r.stdout.splitlines()):
                break
            time.sleep(0.5)
    for name in ("kubelet", "kube-controller-manager", "kube-scheduler"):
        if procs.stop(name, 10):
            stopped.append(name)
    # whatever still runs in containerd: kill the tasks through containerd
    if procs.pid("containerd"):
        r = images.ctr(s, "tasks", "ls", "-q", timeout=10)
        for tid in r.stdout.split():
            images.ctr(s, "tasks", "kill", "-s", "SIGKILL", tid, timeout=10)
        for tid in r.stdout.split():
            images.ctr(s, "tasks", "delete", "-f", tid, timeout=15)
    if procs.stop("containerd", 10):
        stopped.append("containerd")
    for pid in pod_processes() + our_shims(s):
        _terminate(pid, 3)
    for name in ("kube-apiserver", "etcd", "dockerd"):
        if procs.stop(name, 15):
            stopped.append(name)

    netns = cni_netns() - preexisting
    unmount_all(our_mounts(s, netns))
    for ns in netns:
        Path(ns).unlink(missing_ok=True)
    if bridge_exists(s):
        ip("link", "del", s.bridge, check=False)
    removed = cleanup_iptables()
    shutil.rmtree(s.cni_ipam_dir, ignore_errors=True)
    for cg in kubepods_cgroups():
        remove_cgroup_tree(cg)
    remove_kubelet_host_paths(s, preexisting_paths)
    if s.state.exists():
        leftover = our_mounts(s, set())
        if leftover:
            unmount_all(leftover)
        shutil.rmtree(s.state, ignore_errors=True)
    if not quiet or stopped:
        log(f"lab cluster down in {time.monotonic() - t0:.1f} s (stopped: {', '.join(stopped) or 'nothing'}; "
            f"iptables entries removed: {len(removed)})")


# ------------------------------------------------------------------------------ status
def status(s: Settings) -> int:
    procs = Procs(s)
    running = {c: procs.pid(c) for c in COMPONENTS}
    any_running = any(running.values())
    for c in COMPONENTS:
        pid = running[c]
        if pid or c != "kwok":
            print(f"{c:<24} {'running pid ' + str(pid) if pid else 'not running'}")
    if running["kube-apiserver"] and (s.pki / "admin.crt").exists():
        api = Api(s)
        print(f"{'apiserver /readyz':<24} {'ok' if api.healthy() else 'NOT ready'}")
        try:
            nodes = api.get("/api/v1/nodes")["items"]
            for n in nodes:
                ready = any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))
                print(f"{'node ' + n['metadata']['name']:<24} {'Ready' if ready else 'NotReady'}")
        except Exception as e:
            print(f"{'nodes':<24} error: {e}")
    print(f"{'bridge ' + s.bridge:<24} {'present' if bridge_exists(s) else 'absent'}")
    print(f"{'kubeconfig':<24} {s.admin_kubeconfig if s.admin_kubeconfig.exists() else '-'}")
    urls = f"{s.standin_url} (CA {s.lab_ca}), {s.standin_http_url}" if s.lab_ca.exists() else s.standin_http_url
    print(f"{'stand-in':<24} {urls if running['standin'] else '-'}")
    if all(running[c] for c in COMPONENTS if c != "kwok"):
        return 0
    return 1 if any_running else 3
