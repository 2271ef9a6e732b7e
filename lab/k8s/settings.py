"""Paths, versions, ports and addresses of the lab cluster; every one can be overridden by env."""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "")
    return value if value else default


def _node_name() -> str:
    name = _env("BLINK_LAB_NODE_NAME", socket.gethostname().split(".")[0].lower())
    cleaned = "".join(c if c.isalnum() or c == "-" else "-" for c in name).strip("-")
    return cleaned or "blink-lab-node"


@dataclass
class Settings:
    k8s_version: str = field(default_factory=lambda: _env("BLINK_K8S_VERSION", "v1.34.4"))
    etcd_version: str = field(default_factory=lambda: _env("BLINK_ETCD_VERSION", "v3.6.16"))
    kwok_version: str = field(default_factory=lambda: _env("BLINK_KWOK_VERSION", "v0.8.0"))
    pause_version: str = field(default_factory=lambda: _env("BLINK_PAUSE_VERSION", "3.10-blink1"))
    cache: Path = field(default_factory=lambda: Path(_env("BLINK_LAB_CACHE", "/var/cache/blink-lab")))
    state_root: Path = field(default_factory=lambda: Path(_env("BLINK_LAB_STATE", "/var/lib/blink-lab")))
    node_name: str = field(default_factory=_node_name)
    # loopback ports of the control plane
    etcd_port: int = field(default_factory=lambda: int(_env("BLINK_LAB_ETCD_PORT", "12379")))
    etcd_peer_port: int = field(default_factory=lambda: int(_env("BLINK_LAB_ETCD_PEER_PORT", "12380")))
    apiserver_port: int = field(default_factory=lambda: int(_env("BLINK_LAB_APISERVER_PORT", "6443")))
    kcm_port: int = 10257
    scheduler_port: int = 10259
    kubelet_port: int = 10250
    kubelet_healthz_port: int = 10248
    kwok_port: int = 10247
    # the node's pod network: one bridge, owned by the lab
    bridge: str = field(default_factory=lambda: _env("BLINK_LAB_BRIDGE", "blinklab0"))
    cni_name: str = "blinklab"
    pod_cidr: str = field(default_factory=lambda: _env("BLINK_LAB_POD_CIDR", "10.244.0.0/24"))
    service_cidr: str = "10.96.0.0/12"
    service_ip: str = "10.96.0.1"
    standin_port: int = field(default_factory=lambda: int(_env("BLINK_LAB_STANDIN_PORT", "18080")))  # plain HTTP
    standin_tls_port: int = field(default_factory=lambda: int(_env("BLINK_LAB_STANDIN_TLS_PORT", "18443")))
    # HTTPS with a certificate from another CA, which the runners do not trust: a TLS-inspecting proxy
    standin_inspect_port: int = field(default_factory=lambda: int(_env("BLINK_LAB_STANDIN_INSPECT_PORT", "18444")))
    # HTTPS (and plain HTTP on the next port) of a second stand-in whose Date is 5 minutes ahead (scenario clock-skew)
    standin_skewed_port: int = field(default_factory=lambda: int(_env("BLINK_LAB_STANDIN_SKEWED_PORT", "18445")))
    blink_host: str = "blink.lab.test"  # resolved only by the stand-in's DNS on the gateway
    namespace: str = field(default_factory=lambda: _env("BLINK_LAB_NAMESPACE", "blink"))

    # ---------------------------------------------------------------- derived paths
    @property
    def gateway(self) -> str:
        """The bridge's own address: node IP, kubelet address and the Blink stand-in's address."""
        return self._base_ip(1)

    @property
    def bridge_mac(self) -> str:
        """The bridge's own, fixed MAC: locally administered (0a:58) + the gateway's IPv4 octets."""
        return "0a:58:" + ":".join(f"{int(o):02x}" for o in self.gateway.split("."))

    @property
    def prefix_len(self) -> str:
        return self.pod_cidr.split("/")[1]

    def _base_ip(self, last: int) -> str:
        return f"{self.pod_cidr.split('/')[0].rsplit('.', 1)[0]}.{last}"

    @property
    def pod_range_end(self) -> str:
        """Pods get addresses up to here; the rest of the subnet stays free for lab-only addresses."""
        return self._base_ip(250)

    @property
    def dead_dns(self) -> str:
        """A lab address no pod ever gets, where nothing answers DNS (the dns-dead scenario)."""
        return self._base_ip(253)

    @property
    def standin_url(self) -> str:
        """The Blink URL of the lab's runners: HTTPS with a name, like production (the lab CA, the lab DNS)."""
        return f"https://{self.blink_host}:{self.standin_tls_port}"

    @property
    def standin_http_url(self) -> str:
        """The stand-in's plain HTTP, kept for callers that need no TLS."""
        return f"http://{self.gateway}:{self.standin_port}"

    @property
    def standin_pki(self) -> Path:
        """The lab CA the runners trust, the stand-in's certificate, and the inspecting proxy's CA."""
        return self.state / "standin-pki"

    @property
    def lab_ca(self) -> Path:
        return self.standin_pki / "ca.pem"

    @property
    def state(self) -> Path:
        return self.state_root / "k8s"

    @property
    def pki(self) -> Path:
        return self.state / "pki"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def pids(self) -> Path:
        return self.state / "pids"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.state / "admin.kubeconfig"

    @property
    def checker_kubeconfig(self) -> Path:
        return self.state / "checker.kubeconfig"

    @property
    def audit_log(self) -> Path:
        return self.logs / "audit.log"

    @property
    def containerd_dir(self) -> Path:
        return self.state / "containerd"

    @property
    def containerd_sock(self) -> Path:
        return self.containerd_dir / "containerd.sock"

    @property
    def kubelet_dir(self) -> Path:
        return self.state / "kubelet"

    @property
    def cni_conf_dir(self) -> Path:
        return self.state / "cni" / "net.d"

    @property
    def cni_ipam_dir(self) -> Path:
        return Path("/var/lib/cni/networks") / self.cni_name

    @property
    def hostpath_dir(self) -> Path:
        return self.state / "hostpath"

    @property
    def info_file(self) -> Path:
        return self.state / "lab.json"

    # ---------------------------------------------------------------- binaries
    @property
    def k8s_bin(self) -> Path:
        return self.cache / "k8s" / self.k8s_version

    def bin(self, name: str) -> Path:
        if name == "etcd":
            return self.cache / "etcd" / self.etcd_version / "etcd"
        if name == "kwok":
            return self.cache / "kwok" / self.kwok_version / "kwok"
        if name == "pause":
            return self.cache / "pause" / self.pause_version / "pause"
        return self.k8s_bin / name

    @property
    def kwok_stages(self) -> Path:
        return self.cache / "kwok" / self.kwok_version / "stages"

    @property
    def pause_image(self) -> str:
        return f"blink-lab/pause:{self.pause_version}"

    def built(self) -> bool:
        markers = [
            self.k8s_bin / ".complete",
            self.cache / "etcd" / self.etcd_version / ".complete",
            self.cache / "kwok" / self.kwok_version / ".complete",
            self.cache / "pause" / self.pause_version / ".complete",
        ]
        return all(m.exists() for m in markers)

    @property
    def kubectl(self) -> Path:
        return self.bin("kubectl")
