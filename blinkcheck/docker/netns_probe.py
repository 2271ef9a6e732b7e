"""The egress probe from inside a runner container's network namespace, by the suite itself.

Docker with a local engine, the suite as root (or with CAP_SYS_ADMIN): nothing is created and
nothing is pulled. A short-lived child process (`python -m blinkcheck.docker.netns_probe`, the plan on
stdin) enters the container's network namespace with setns(2) and tries, in the order a client
does and each bounded by what is left of --probe-timeout: DNS with the container's own
nameservers (its /etc/resolv.conf; its /etc/hosts first), TCP connect, the CONNECT tunnel when the
container's HTTPS_PROXY / HTTP_PROXY applies (NO_PROXY honoured), TLS verified against the
container's own CA bundle (server certificate subject and issuer shown), and an HTTP GET. It
prints one JSON line per step; the suite's own process never changes namespace, and the child is
killed at the deadline.

The parent side (run_in_netns) reads the container's files through /proc/PID/root, checks that the
PID really is that container on this machine, and turns the child's lines into a ProbeResult
(blinkcheck/probe/ judges it).
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from blinkcheck.probe.environment import (
    DnsAnswer,
    Proxy,
    ResolvConf,
    cert_info,
    dns_answer,
    dns_query,
    hosts_lookup,
    is_ip,
    parse_resolv_conf,
    proxy_for,
)
from blinkcheck.probe.result import CertInfo, ProbeResult, Step

CLONE_NEWNET = 0x40000000
CAP_SYS_ADMIN = 21
# Where Go (the runner's language) and OpenSSL look for the system trust store, in Go's order.
CA_FILES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
)
DOCKER_EMBEDDED_DNS = "127.0.0.11"
USER_AGENT = "blink-runner-checks egress probe"
REPO = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ the parent: may we, and how


def may_enter_namespaces() -> str:
    """"" when this process may setns into another network namespace, else why not."""
    if os.geteuid() == 0:
        return ""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:") and int(line.split()[1], 16) >> CAP_SYS_ADMIN & 1:
                return ""
    except (OSError, ValueError):
        pass
    return "the suite runs without root or CAP_SYS_ADMIN, so it cannot enter the container's network namespace"


def in_root(root: str, path: str, hops: int = 20) -> str:
    """`path` inside the container whose filesystem is at `root` (/proc/PID/root), symlinks resolved
    inside it: an absolute link (RHEL's ca-bundle.crt) must not escape to the host's file."""
    parts = [p for p in path.split("/") if p and p != "."]
    done: list[str] = []
    while parts:
        part = parts.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        here = os.path.join(root, *done, part)
        if os.path.islink(here):
            hops -= 1
            if hops < 0:
                return ""
            target = os.readlink(here)
            if target.startswith("/"):
                done = []
            parts = [p for p in target.split("/") if p and p != "."] + parts
            continue
        done.append(part)
    return os.path.join(root, *done)


def identity_problem(pid: int, inspect: Mapping[str, Any]) -> str:
    """"" when /proc/PID is this container on this machine: its resolv.conf (or hostname) file is the very
    file the engine says it mounted. Otherwise the engine's processes are not ours to see."""
    if pid <= 0:
        return "the engine reports no process for the container"
    for key, inner in (("ResolvConfPath", "etc/resolv.conf"), ("HostnamePath", "etc/hostname")):
        outer = str(inspect.get(key) or "")
        if not outer:
            continue
        try:
            a, b = os.stat(outer), os.stat(f"/proc/{pid}/root/{inner}")
        except OSError:
            continue
        if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
            return ""
    return (f"process {pid} of the engine is not visible as that container here (the suite runs in another "
            "PID or mount namespace than the engine, or the engine runs in a VM)")  # fmt: skip


def container_ca(pid: int, env: Mapping[str, str]) -> tuple[str, str, str]:
    """(cafile, capath, shown): the trust store the runner's TLS clients use, read through /proc/PID/root."""
    root = f"/proc/{pid}/root"
    if env.get("SSL_CERT_FILE"):
        path = in_root(root, env["SSL_CERT_FILE"])
        if path and os.path.isfile(path):
            return path, "", f"{env['SSL_CERT_FILE']} (the container's SSL_CERT_FILE)"
    if env.get("SSL_CERT_DIR"):
        path = in_root(root, env["SSL_CERT_DIR"].split(":")[0])
        if path and os.path.isdir(path):
            return "", path, f"{env['SSL_CERT_DIR']} (the container's SSL_CERT_DIR)"
    for candidate in CA_FILES:
        path = in_root(root, candidate)
        if path and os.path.isfile(path):
            return path, "", f"{candidate} (the container's)"
    return "", "", "the host's default trust store (the container has no CA bundle where Go looks)"


def _read(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")[:65536]
    except OSError:
        return ""


def run_in_netns(
    pid: int,
    target: str,
    url: str,
    env: Mapping[str, str],
    timeout_s: float,
    dns_servers: tuple[str, ...] = (),
) -> ProbeResult:
    """Probe `url` from the network namespace of process `pid` (a container's), in a child process."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    root = f"/proc/{pid}/root"
    resolv = parse_resolv_conf(_read(in_root(root, "/etc/resolv.conf")))
    hosts_ip = "" if is_ip(host) else hosts_lookup(_read(in_root(root, "/etc/hosts")), host)
    proxy = proxy_for(url, env)
    cafile, capath, ca_shown = container_ca(pid, env) if parts.scheme == "https" else ("", "", "")
    plan = {
        "pid": pid, "scheme": parts.scheme, "host": host, "port": port, "path": parts.path or "/",
        "query": parts.query, "hosts_ip": hosts_ip, "timeout_s": timeout_s, "cafile": cafile, "capath": capath,
        "resolv": {"nameservers": resolv.nameservers, "search": resolv.search, "ndots": resolv.ndots,
                   "timeout_s": resolv.timeout_s, "attempts": resolv.attempts},
        "proxy": None if proxy is None else {"scheme": proxy.scheme, "host": proxy.host, "port": proxy.port,
                                              "username": proxy.username, "password": proxy.password},
    }  # fmt: skip
    notes = [f"nameservers: {', '.join(resolv.nameservers)} (the container's /etc/resolv.conf)"]
    if DOCKER_EMBEDDED_DNS in resolv.nameservers:
        upstream = ", ".join(dns_servers) or "the host's own resolvers"
        notes.append(f"{DOCKER_EMBEDDED_DNS} is Docker's embedded DNS; it forwards to {upstream}")
    base = ProbeResult(
        target,
        url,
        method=f"the suite itself, inside the network namespace of {target} (process {pid}); nothing created",
        tool="python",
        command=f"setns(/proc/{pid}/ns/net) in a child process: DNS, TCP, {'proxy, ' if proxy else ''}"
        f"{'TLS, ' if parts.scheme == 'https' else ''}HTTP GET {url}",
        proxy=proxy.shown if proxy else "",
        ca_bundle=ca_shown,
        notes=tuple(notes),
    )
    lines, error = _run_child(plan, timeout_s)
    return _result(base, lines, error, pid, proxy, cafile, resolv)


def _run_child(plan: dict[str, Any], timeout_s: float) -> tuple[list[dict[str, Any]], str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "blinkcheck.docker.netns_probe"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
        env=env,
        text=True,
    )
    error = ""
    try:
        # The child bounds every step by what is left of timeout_s; the kill is for a child that hangs anyway.
        out, err = proc.communicate(json.dumps(plan), timeout=timeout_s + 3)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        error = f"the probe did not finish within {timeout_s:g}s and was killed"
    finally:
        if proc.poll() is None:  # an interrupt (SIGTERM, --deadline) while waiting: never leave it behind
            proc.kill()
            proc.wait()
    lines = []
    for raw in out.splitlines():
        try:
            lines.append(json.loads(raw))
        except ValueError:
            continue
    if not error and proc.returncode not in (0, None) and not any("fatal" in x for x in lines):
        error = f"the probe process ended with code {proc.returncode}: {err.strip()[-500:]}"
    return lines, error


def _result(
    base: ProbeResult,
    lines: list[dict[str, Any]],
    error: str,
    pid: int,
    proxy: Proxy | None,
    cafile: str,
    resolv: ResolvConf,
) -> ProbeResult:
    from dataclasses import replace

    fatal = next((x["fatal"] for x in lines if "fatal" in x), "")
    if fatal:
        return replace(base, unavailable=fatal)
    steps = [Step(x["step"], bool(x["ok"]), str(x["detail"]), bool(x.get("timed_out")), x.get("ms"))
             for x in lines if "step" in x]  # fmt: skip
    started = [x["start"] for x in lines if "start" in x]
    if error and started and (not steps or steps[-1].name != started[-1]):
        # killed in the middle of a step: that step is where it hung
        name = "proxy" if proxy and started[-1] in ("dns", "tcp") else started[-1]
        steps.append(Step(name, False, "no answer before the probe's deadline", timed_out=True))
        error = ""
    cert: CertInfo | None = None
    problem = ""
    for x in lines:
        if x.get("cert"):
            cert = cert_info(base64.b64decode(x["cert"]))
        problem = x.get("verify_error") or problem
    if cert is not None and problem:  # name who signed what the runner was shown: the diagnosis
        steps = [replace(s, detail=f"certificate issued by {cert.issuer} is not trusted ({problem})")
                 if s.name == "tls" and not s.ok else s for s in steps]  # fmt: skip
    status = next((str(x["status"]) for x in lines if x.get("status")), "")
    answer = next((x for x in lines if x.get("step") == "http" and x.get("ok")), {})
    dns_ok = next((x for x in lines if x.get("step") == "dns" and x.get("ok")), None)
    host = urlsplit(base.url).hostname or ""
    reproduce = _reproduce(pid, base.url, host, proxy, cafile, steps, resolv, dns_ok)
    return replace(base, steps=tuple(steps), http_status=status, cert=cert, cert_problem=problem,
                   error=error if not steps else "", reproduce=reproduce, server_date=str(answer.get("date") or ""),
                   clock_at=float(answer.get("clock") or 0.0))  # fmt: skip


def _reproduce(pid: int, url: str, host: str, proxy: Proxy | None, cafile: str, steps: list[Step],
               resolv: ResolvConf, dns_ok: dict[str, Any] | None) -> str:  # fmt: skip
    failed = next((s for s in steps if not s.ok), None)
    if failed is not None and failed.name == "dns" and not proxy:
        return shlex.join(["nsenter", "-t", str(pid), "-n", "nslookup", host, resolv.nameservers[0]])
    args = ["nsenter", "-t", str(pid), "-n", "curl", "-v"]
    if cafile:
        args += ["--cacert", cafile]
    if proxy:
        args += ["-x", proxy.shown.split(" (from", 1)[0]]
    elif dns_ok and dns_ok.get("address") and not is_ip(host):
        port = urlsplit(url).port or (443 if url.startswith("https") else 80)
        args += ["--resolve", f"{host}:{port}:{dns_ok['address']}"]  # the container's answer, not the host's
    return shlex.join([*args, url])


# ------------------------------------------------------------------ the child: inside the namespace


class _Child:
    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self.deadline = time.monotonic() + float(plan["timeout_s"])
        self.proxy = plan.get("proxy")
        self.https = plan["scheme"] == "https"

    def left(self) -> float:
        return max(0.05, self.deadline - time.monotonic())

    @staticmethod
    def emit(**kw: Any) -> None:
        print(json.dumps(kw), flush=True)

    def step(self, name: str, ok: bool, detail: str, started: float, timed_out: bool = False, **extra: Any) -> None:
        ms = int((time.monotonic() - started) * 1000)
        self.emit(step=name, ok=ok, detail=detail, timed_out=timed_out, ms=ms, **extra)

    # -- DNS ----------------------------------------------------------------------------

    def resolve(self, host: str) -> list[str]:
        t0 = time.monotonic()
        self.emit(start="dns")
        where = "the proxy's name " if self.proxy else ""
        if is_ip(host):
            self.step("dns", True, f"{where}{host} is an IP address: no lookup", t0, address=host)
            return [host]
        if not self.proxy and self.plan.get("hosts_ip"):
            ip = self.plan["hosts_ip"]
            self.step("dns", True, f"{host} -> {ip} (the container's /etc/hosts)", t0, address=ip)
            return [ip]
        r = self.plan["resolv"]
        rc = ResolvConf(tuple(r["nameservers"]), tuple(r["search"]), int(r["ndots"]), float(r["timeout_s"]),
                        int(r["attempts"]))  # fmt: skip
        said: list[str] = []
        timed_out = False
        for name in rc.candidates(host):
            for ns in rc.nameservers:
                ans, why = self._ask(ns, name, rc)
                if ans is not None and ans.addresses:
                    self.step("dns", True, f"{where}{name} -> {', '.join(ans.addresses[:4])} (nameserver {ns})", t0,
                              address=ans.addresses[0])  # fmt: skip
                    return list(ans.addresses)
                timed_out = timed_out or "no answer" in why
                said.append(f"nameserver {ns} {why}" + (f" (asked for {name})" if name != host else ""))
                if ans is not None and ans.rcode in (0, 3):
                    break  # an authoritative "no such name / no address": the next nameserver would say the same
                if self.deadline - time.monotonic() < 0.1:
                    break
        detail = f"{where}{host} did not resolve: " + "; ".join(dict.fromkeys(said))
        # Through a proxy, its name and port are what failed: the proxy layer.
        self.step("proxy" if self.proxy else "dns", False, detail, t0,
                  timed_out=timed_out and not any("NXDOMAIN" in s for s in said))  # fmt: skip
        return []

    def _ask(self, ns: str, name: str, rc: ResolvConf) -> tuple[DnsAnswer | None, str]:
        family = socket.AF_INET6 if ":" in ns else socket.AF_INET
        for qtype in (1, 28):  # A, then AAAA
            qid = int.from_bytes(os.urandom(2), "big")
            ans = None
            for _ in range(rc.attempts):
                wait = min(rc.timeout_s, self.left())
                try:
                    with socket.socket(family, socket.SOCK_DGRAM) as s:
                        s.settimeout(wait)
                        s.connect((ns, 53))
                        s.send(dns_query(name, qtype, qid))
                        end = time.monotonic() + wait
                        while ans is None:
                            s.settimeout(max(0.05, end - time.monotonic()))
                            try:
                                ans = dns_answer(s.recv(4096), qid)
                            except ValueError:
                                continue  # a stray datagram: keep listening
                except TimeoutError:
                    if self.deadline - time.monotonic() < 0.1:
                        break
                    continue
                except OSError as exc:
                    return None, f"could not be asked: {exc.strerror or exc}"
                break
            if ans is None:
                return None, f"gave no answer within {min(rc.timeout_s, float(self.plan['timeout_s'])):g}s"
            if ans.addresses or ans.rcode != 0:
                nx = " (no such name)" if ans.rcode == 3 else ""
                why = "" if ans.addresses else f"answered {ans.rcode_name}{nx}"
                return ans, why
        return DnsAnswer(0, ()), "answered, but with no A or AAAA record"

    # -- TCP, proxy tunnel -------------------------------------------------------------------

    def connect(self, addrs: list[str], port: int, report: bool = True) -> socket.socket | None:
        t0 = time.monotonic()
        if report:
            self.emit(start="tcp")
        what = "the proxy " if self.proxy else ""
        problems = []
        timed_out = False
        for ip in addrs[:3]:
            try:
                sock = socket.create_connection((ip, port), timeout=self.left())
            except TimeoutError:
                timed_out = True
                problems.append(f"{ip}:{port}: no answer within {float(self.plan['timeout_s']):g}s "
                                "(packets dropped on the way: a firewall?)")  # fmt: skip
                break
            except OSError as exc:
                problems.append(f"{ip}:{port}: {exc.strerror or exc}")
                continue
            if report:
                self.step("tcp", True, f"connected to {what}{ip}:{port}", t0)
            return sock
        if report:
            self.step("proxy" if self.proxy else "tcp", False, f"could not connect to {what}" + "; ".join(problems),
                      t0, timed_out=timed_out)  # fmt: skip
        return None

    def tunnel(self, sock: socket.socket, report: bool = True) -> bool:
        """CONNECT host:port through the proxy (https URLs)."""
        t0 = time.monotonic()
        if report:
            self.emit(start="proxy")
        target = f"{self.plan['host']}:{self.plan['port']}"
        head = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nUser-Agent: {USER_AGENT}\r\n"
        head += self._proxy_auth() + "\r\n"
        try:
            sock.settimeout(self.left())
            sock.sendall(head.encode())
            status = _status_line(_read_head(sock))
        except TimeoutError:
            if report:
                self.step("proxy", False, f"the proxy did not answer CONNECT {target} in time", t0, timed_out=True)
            return False
        except OSError as exc:
            if report:
                self.step("proxy", False, f"the proxy dropped CONNECT {target}: {exc.strerror or exc}", t0)
            return False
        code = status.split(" ")[1] if status.count(" ") >= 1 else ""
        if code == "200":
            if report:
                self.step("proxy", True, f"CONNECT {target}: {status}", t0)
            return True
        why = " (the proxy wants credentials)" if code == "407" else ""
        if report:
            self.step("proxy", False, f"CONNECT {target} answered {status or 'nothing'}{why}", t0)
        return False

    def _proxy_auth(self) -> str:
        p = self.proxy or {}
        if not p.get("username"):
            return ""
        from urllib.parse import unquote

        token = base64.b64encode(f"{unquote(p['username'])}:{unquote(p.get('password') or '')}".encode()).decode()
        return f"Proxy-Authorization: Basic {token}\r\n"

    def open_path(self, addr: str) -> socket.socket | None:
        """A second, silent connection along the same path (for the certificate when verification failed)."""
        port = int(self.proxy["port"] if self.proxy else self.plan["port"])
        sock = self.connect([addr], port, report=False)
        if sock is not None and self.proxy and not self.tunnel(sock, report=False):
            sock.close()
            return None
        return sock

    # -- TLS, HTTP ---------------------------------------------------------------------------

    def tls(self, sock: socket.socket, addr: str) -> ssl.SSLSocket | None:
        t0 = time.monotonic()
        self.emit(start="tls")
        host = self.plan["host"]
        ctx = ssl.create_default_context(cafile=self.plan["cafile"] or None, capath=self.plan["capath"] or None)
        try:
            sock.settimeout(self.left())
            tls = ctx.wrap_socket(sock, server_hostname=host)
        except ssl.SSLCertVerificationError as exc:
            der = self._unverified_cert(addr)
            problem = exc.verify_message or str(exc)
            self.step("tls", False, f"certificate not trusted: {problem}", t0, verify_error=problem,
                      cert=base64.b64encode(der).decode() if der else "")  # fmt: skip
            return None
        except TimeoutError:
            self.step("tls", False, "no TLS answer in time (something in the path swallows the handshake)", t0,
                      timed_out=True)  # fmt: skip
            return None
        except (ssl.SSLError, OSError) as exc:
            self.step("tls", False, f"handshake failed: {getattr(exc, 'reason', None) or exc}", t0)
            return None
        der = tls.getpeercert(binary_form=True) or b""
        self.step("tls", True, f"{tls.version()}, certificate verified for {host}", t0,
                  cert=base64.b64encode(der).decode())  # fmt: skip
        return tls

    def _unverified_cert(self, addr: str) -> bytes:
        sock = self.open_path(addr)
        if sock is None:
            return b""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            with ctx.wrap_socket(sock, server_hostname=self.plan["host"]) as tls:
                return tls.getpeercert(binary_form=True) or b""
        except (ssl.SSLError, OSError):
            return b""

    def http(self, sock: socket.socket) -> None:
        t0 = time.monotonic()
        self.emit(start="http")
        p = self.plan
        path = p["path"] + (f"?{p['query']}" if p["query"] else "")
        default = 443 if self.https else 80
        host = p["host"] if int(p["port"]) == default else f"{p['host']}:{p['port']}"
        extra = ""
        if self.proxy and not self.https:  # plain HTTP through a proxy: the absolute URL, no tunnel
            path = f"http://{host}{path}"
            extra = self._proxy_auth()
        req = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {USER_AGENT}\r\nAccept: */*\r\n{extra}"
        req += "Connection: close\r\n\r\n"
        try:
            sock.settimeout(self.left())
            sock.sendall(req.encode())
            head = _read_head(sock)
            clock = time.time()  # the runner's clock (the host's kernel clock) when Blink answered
            status = _status_line(head)
        except TimeoutError:
            self.step("http", False, "no HTTP answer in time", t0, timed_out=True)
            return
        except OSError as exc:
            self.step("http", False, f"the connection broke before an answer: {exc.strerror or exc}", t0)
            return
        code = status.split(" ")[1] if status.count(" ") >= 1 else ""
        if not code.isdigit():
            self.step("http", False, f"not an HTTP answer: {status[:80]!r}", t0)
            return
        if self.proxy and not self.https and code == "407":
            self.step("proxy", False, f"the proxy answered {status} (it wants credentials)", t0)
            return
        self.step("http", True, f"GET {path} answered {status}", t0, status=code, date=_header(head, "date"),
                  clock=clock)

    def run(self) -> None:
        p = self.plan
        proxy = self.proxy
        if proxy and not proxy["host"]:  # Go's client cannot use it either: the runner reaches nothing
            self.step("proxy", False, "the container's proxy variable names no proxy host (not a URL a client can "
                      "use; Go's client refuses it: invalid proxy address)", time.monotonic())
            return
        if proxy and proxy["scheme"] not in ("http", "https"):
            self.emit(fatal=f"the container's proxy is {proxy['scheme']}://, which the namespace probe does not speak")
            return
        addrs = self.resolve(proxy["host"] if proxy else p["host"])
        if not addrs:
            return
        port = int(proxy["port"] if proxy else p["port"])
        sock = self.connect(addrs, port)
        if sock is None:
            return
        if proxy and proxy["scheme"] == "https":
            ctx = ssl.create_default_context(cafile=p["cafile"] or None, capath=p["capath"] or None)
            try:
                sock = ctx.wrap_socket(sock, server_hostname=proxy["host"])
            except (ssl.SSLError, OSError) as exc:
                self.step("proxy", False, f"TLS to the proxy failed: {exc}", time.monotonic())
                return
        if proxy and self.https and not self.tunnel(sock):
            return
        if self.https:
            tls = self.tls(sock, addrs[0])
            if tls is None:
                return
            sock = tls
        with sock:
            self.http(sock)


def _read_head(sock: socket.socket, limit: int = 65536) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and b"\n\n" not in data and len(data) < limit:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _header(head: bytes, name: str) -> str:
    for line in head.split(b"\n")[1:]:
        key, sep, value = line.decode("latin-1", "replace").partition(":")
        if sep and key.strip().lower() == name:
            return value.strip()
    return ""


def _status_line(head: bytes) -> str:
    return head.split(b"\n", 1)[0].decode("latin-1", "replace").strip()


def enter(pid: int) -> str:
    """setns into the network namespace of `pid` (this process only); "" or why not."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    try:
        fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
    except OSError as exc:
        return f"cannot open /proc/{pid}/ns/net: {exc.strerror}"
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            return f"setns into the network namespace of process {pid} failed: {os.strerror(ctypes.get_errno())}"
    finally:
        os.close(fd)
    return ""


def main() -> int:
    plan = json.loads(sys.stdin.read())
    why = enter(int(plan["pid"]))
    if why:
        _Child.emit(fatal=why)
        return 3
    _Child(plan).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
