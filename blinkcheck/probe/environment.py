"""What the runner container's own configuration says about its path to Blink, pure and testable on canned
data: resolv.conf and hosts, which proxy a URL goes through (HTTPS_PROXY, NO_PROXY), the DNS wire format the
namespace probe speaks, and what a server certificate says (subject, issuer)."""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from blinkcheck.probe.result import CertInfo


@dataclass(frozen=True)
class ResolvConf:
    nameservers: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    ndots: int = 1
    timeout_s: float = 5.0
    attempts: int = 2

    def candidates(self, name: str) -> list[str]:
        """The names a resolver asks for, in order (search list and ndots, as glibc and Go do)."""
        if name.endswith("."):  # rooted: that name only, never the search list
            return [name.rstrip(".")]
        if name.count(".") >= self.ndots:
            return [name, *(f"{name}.{s}" for s in self.search)]
        return [*(f"{name}.{s}" for s in self.search), name]


def parse_resolv_conf(text: str) -> ResolvConf:
    ns: list[str] = []
    search: list[str] = []
    ndots, timeout, attempts = 1, 5.0, 2
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split(";", 1)[0].split()
        if not words:
            continue
        if words[0] == "nameserver" and len(words) > 1:
            ns.append(words[1].split("%", 1)[0])
        elif words[0] in ("search", "domain"):
            search = words[1:]
        elif words[0] == "options":
            for opt in words[1:]:
                key, _, val = opt.partition(":")
                try:
                    if key == "ndots":
                        ndots = min(15, int(val))
                    elif key == "timeout":
                        timeout = max(1.0, float(val))
                    elif key == "attempts":
                        attempts = max(1, min(5, int(val)))
                except ValueError:
                    continue
    # No nameserver line: resolvers use the local one.
    return ResolvConf(tuple(ns[:3]) or ("127.0.0.1",), tuple(search[:6]), ndots, timeout, attempts)


def hosts_lookup(text: str, name: str) -> str:
    """The address /etc/hosts gives `name` (resolvers look there first), or ""."""
    want = name.rstrip(".").lower()
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if len(words) >= 2 and want in (w.lower() for w in words[1:]):
            return words[0]
    return ""


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------ proxies


@dataclass(frozen=True)
class Proxy:
    url: str  # as configured (may carry credentials: register it with the redactor)
    source: str  # the variable it came from
    scheme: str
    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)

    @property
    def shown(self) -> str:
        if not self.host:  # never the value itself: it may carry credentials
            return f"a value that names no proxy host (from {self.source})"
        auth = f"{self.username}:[REDACTED]@" if self.password else (f"{self.username}@" if self.username else "")
        return f"{self.scheme}://{auth}{self.host}:{self.port} (from {self.source})"


def proxy_for(url: str, env: Mapping[str, str]) -> Proxy | None:
    """The proxy a Go or curl client takes for `url` from HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    names = ("HTTPS_PROXY", "https_proxy") if parts.scheme == "https" else ("HTTP_PROXY", "http_proxy")
    source, value = next(((n, env[n]) for n in names if env.get(n)), ("", ""))
    if not value or host in ("localhost",) or (is_ip(host) and ipaddress.ip_address(host).is_loopback):
        return None
    no_proxy = env.get("NO_PROXY") or env.get("no_proxy") or ""
    if bypasses(host, port, no_proxy):
        return None
    try:
        p = urlsplit(value if "://" in value else "http://" + value)
        hostname = p.hostname or ""
    except ValueError:  # "http://[::1": not a URL; Go's client refuses it too ("invalid proxy address")
        return Proxy(value, source, "", "", 0)
    try:
        pport = p.port or (443 if p.scheme == "https" else 1080 if p.scheme.startswith("socks") else 80)
    except ValueError:
        pport = 0
    return Proxy(value, source, p.scheme, hostname, pport, p.username or "", p.password or "")


def bypasses(host: str, port: int, no_proxy: str) -> bool:
    """NO_PROXY as Go reads it: '*', names (a leading dot or not: the name and its subdomains), IPs, CIDRs."""
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if "/" in entry and is_ip(host):
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        name, _, eport = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if eport and eport != str(port):
            continue
        name = name.lstrip("*").lstrip(".")
        if host == name or host.endswith("." + name):
            return True
    return False


# ------------------------------------------------------------------ DNS on the wire (RFC 1035), the minimum

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
TYPE_A, TYPE_AAAA, TYPE_CNAME = 1, 28, 5


def dns_query(name: str, qtype: int, qid: int) -> bytes:
    header = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)  # recursion desired, one question
    labels = b"".join(bytes([len(p)]) + p.encode("idna") for p in name.split(".") if p)  # a root dot: no label
    return header + labels + b"\x00" + struct.pack(">HH", qtype, 1)


@dataclass(frozen=True)
class DnsAnswer:
    rcode: int
    addresses: tuple[str, ...]
    truncated: bool = False

    @property
    def rcode_name(self) -> str:
        return RCODES.get(self.rcode, f"RCODE {self.rcode}")


def _skip_name(data: bytes, pos: int) -> int:
    while True:
        if pos >= len(data):
            raise ValueError("name runs past the end")
        n = data[pos]
        if n == 0:
            return pos + 1
        if n & 0xC0 == 0xC0:
            return pos + 2
        pos += 1 + n


def dns_answer(data: bytes, qid: int) -> DnsAnswer:
    """Parse a response to dns_query: the rcode and the A/AAAA addresses (CNAME chains followed)."""
    if len(data) < 12:
        raise ValueError("short DNS message")
    rid, flags, qd, an, _, _ = struct.unpack(">HHHHHH", data[:12])
    if rid != qid or not flags & 0x8000:
        raise ValueError("not the answer to our question")
    pos = 12
    for _ in range(qd):
        pos = _skip_name(data, pos) + 4
    addrs = []
    for _ in range(an):
        pos = _skip_name(data, pos)
        if pos + 10 > len(data):  # a cut datagram: no answer (the probe keeps listening)
            raise ValueError("record runs past the end")
        rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", data[pos : pos + 10])
        pos += 10
        rdata = data[pos : pos + rdlen]
        pos += rdlen
        if rtype == TYPE_A and rdlen == 4:
            addrs.append(str(ipaddress.IPv4Address(rdata)))
        elif rtype == TYPE_AAAA and rdlen == 16:
            addrs.append(str(ipaddress.IPv6Address(rdata)))
    return DnsAnswer(flags & 0x000F, tuple(addrs), bool(flags & 0x0200))


# ------------------------------------------------------------------ certificates


def cert_info(der: bytes) -> CertInfo:
    """Subject, issuer, names and expiry of a DER certificate (what a TLS-inspecting proxy gives away)."""
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = tuple([*san.get_values_for_type(x509.DNSName), *(str(i) for i in san.get_values_for_type(
            x509.IPAddress))])  # fmt: skip
    except x509.ExtensionNotFound:
        names = ()
    return CertInfo(cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(), names[:8],
                    cert.not_valid_after_utc.strftime("%Y-%m-%d"))  # fmt: skip
