"""The egress probe, judged: which layer (DNS, TCP connect, proxy, TLS, HTTP) failed on the way to Blink.

Three ways to probe produce one ProbeResult shape, a list of layer steps in the order a client
takes them:

- the suite itself inside the runner container's network namespace (Docker, local engine): every
  step is tried and described by fixtures/netns_probe.py;
- a tool (curl, wget, nc) run in a short-lived probe container (Docker, remote engine) or exec'd in
  a runner pod (Kubernetes): its exit code and messages are mapped onto the same steps here.

Also here, pure and testable on canned data: the container's resolv.conf and hosts file, the DNS
wire format the namespace probe speaks, which proxy a URL goes through (HTTPS_PROXY, NO_PROXY), and
what a server certificate says (subject, issuer).
"""

from __future__ import annotations

import ipaddress
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from blinkcheck.model import Evidence, Finding, Outcome

STEPS = ("dns", "tcp", "proxy", "tls", "http")
LAYER = {"dns": "DNS", "tcp": "TCP connect", "proxy": "proxy", "tls": "TLS", "http": "HTTP"}


@dataclass(frozen=True)
class Step:
    """One layer tried on the way to Blink, and what was seen there."""

    name: str  # one of STEPS
    ok: bool
    detail: str
    timed_out: bool = False
    ms: int | None = None

    @property
    def layer(self) -> str:
        return LAYER.get(self.name, self.name) + (" (timeout)" if self.timed_out and not self.ok else "")


@dataclass(frozen=True)
class CertInfo:
    subject: str
    issuer: str
    names: tuple[str, ...] = ()
    not_after: str = ""

    @property
    def text(self) -> str:
        names = f"; names {', '.join(self.names)}" if self.names else ""
        until = f"; valid until {self.not_after}" if self.not_after else ""
        return f"subject {self.subject}; issuer {self.issuer}{names}{until}"


@dataclass(frozen=True)
class ProbeResult:
    """What the probe saw from where the runner sits.

    `error`: the probe was possible here but did not finish (a timeout of the probe itself, an exec
    stream that never opened): nothing is known about the network. `unavailable`: no way to probe
    exists here (no permission, no tool, no image); `enable` says how to make one.
    """

    target: str  # container / pod label
    url: str
    steps: tuple[Step, ...] = ()
    http_status: str = ""
    method: str = ""  # how it ran, in words: "from inside the network namespace of ...", "kubectl exec ..."
    tool: str = ""  # python (the suite itself), curl, wget, nc
    command: str = ""  # what ran, as shown in the evidence
    reproduce: str = ""  # the command a person types to see the same thing
    output: str = ""  # the tool's own messages
    proxy: str = ""  # the proxy the probe went through (credentials masked) and where it came from
    cert: CertInfo | None = None
    cert_problem: str = ""  # the verifier's words when the certificate was not trusted
    ca_bundle: str = ""  # the trust store the TLS step used
    error: str = ""
    unavailable: str = ""
    enable: str = ""
    notes: tuple[str, ...] = ()  # extra facts for the evidence (nameservers used, ...)

    @property
    def failed_step(self) -> Step | None:
        return next((s for s in self.steps if not s.ok), None)


def reached(result: ProbeResult) -> bool | None:
    """Is the network path to Blink open (every layer tried got through)? None: the probe did not run."""
    if result.error or result.unavailable or not result.steps:
        return None
    return result.failed_step is None


# ------------------------------------------------------------------ judging


def _evidence(result: ProbeResult) -> tuple[Evidence, ...]:
    lines = [f"$ {result.command}"] if result.command else []
    if result.method:
        lines.append(f"probe: {result.method}")
    if result.proxy:
        lines.append(f"proxy: {result.proxy}")
    if result.ca_bundle:
        lines.append(f"CA bundle: {result.ca_bundle}")
    lines += list(result.notes)
    for s in result.steps:
        took = f" ({s.ms} ms)" if s.ms is not None else ""
        lines.append(f"{s.name:<6} {'ok' if s.ok else 'FAILED':<7}{s.detail}{took}")
    tried = {s.name for s in result.steps}
    if result.steps and result.failed_step is not None:
        after = [n for n in STEPS if n not in tried and STEPS.index(n) > STEPS.index(result.failed_step.name)]
        lines += [f"{n:<6} -      not tried" for n in after if n != "proxy" or result.proxy]
    if result.cert is not None:
        lines.append(f"server certificate: {result.cert.text}")
    if result.http_status:
        lines.append(f"HTTP status: {result.http_status}")
    if result.output.strip():
        lines += ["", result.output.strip()]
    if result.reproduce and result.reproduce != result.command:
        lines += ["", f"reproduce: {result.reproduce}"]
    return (Evidence("Egress probe", "\n".join(lines) or "(no output)", source=result.target),)


def _advice(step: Step, result: ProbeResult, advice: Mapping[str, str], values: Mapping[str, str]) -> tuple[str, ...]:
    key = step.name
    if step.name == "tls" and result.cert is not None and result.cert_problem:
        key = "tls-untrusted"
    text = advice.get(key, "")
    if not text:
        return ()
    from blinkcheck.catalog import fill

    return (fill(text, values),)


def judge_probe(
    condition_id: str,
    result: ProbeResult,
    values: Mapping[str, str],
    strict: bool = True,
    advice: Mapping[str, str] | None = None,
) -> Finding:
    """One finding from one probe. `strict` (--probe on): a probe that cannot run here is not-evaluable;
    otherwise (--probe auto) it is skipped with the way to enable it. `advice`: per-layer hints (catalog)."""
    host = urlsplit(result.url).hostname or result.url
    values = {
        **values,
        "blink_url": result.url,
        "blink_host": host,
        "reproduce": result.reproduce or result.command,
        "issuer": result.cert.issuer if result.cert else "",
    }
    evidence = _evidence(result)
    target = result.target
    if result.unavailable:
        how = f" To enable it: {result.enable}" if result.enable else ""
        summary = f"The egress probe cannot run for {target}: {result.unavailable}.{how}"
        if strict:
            return Finding(condition_id, Outcome.NOT_EVALUABLE, summary, target, evidence,
                           {**values, "layer": "probe", "detail": result.unavailable})  # fmt: skip
        hints = (f"To enable it: {result.enable}",) if result.enable else ()
        return Finding(condition_id, Outcome.SKIPPED, summary.replace(how, "") + " (--probe auto: skipped; "
                       "--probe on makes this a failure of the run)", target, evidence, values, hints)  # fmt: skip
    if result.error:
        summary = f"The egress probe could not finish for {target}: {result.error}"
        v = {**values, "layer": "probe", "detail": result.error}
        return Finding(condition_id, Outcome.NOT_EVALUABLE, summary, target, evidence, v)
    failed = result.failed_step
    if failed is not None:
        v = {**values, "layer": failed.layer, "detail": failed.detail}
        return Finding(
            condition_id,
            Outcome.FAILED,
            f"From {target}, {result.url} failed at the {failed.layer} layer: {failed.detail}",
            target,
            evidence,
            v,
            hints=_advice(failed, result, advice or {}, v),
        )
    tried = {s.name for s in result.steps}
    if "http" not in tried:
        # A bare TCP connect (nc) proves the firewall lets it through, not that TLS or HTTP work.
        https = result.url.startswith("https://")
        return Finding(
            condition_id,
            Outcome.WARNING if https else Outcome.PASSED,
            f"From {target}, a TCP connection to {result.url} succeeds ({result.tool or 'connect only'}; "
            + ("TLS and HTTP not verified" if https else "HTTP not tried")
            + f": {'no curl or wget there' if result.tool == 'nc' else 'nothing more was tried'}).",
            target,
            evidence,
            {**values, "layer": "TCP connect", "detail": "connected; nothing more tried"},
        )
    status = result.http_status or "?"
    if status.startswith("5"):
        v = {**values, "layer": "HTTP", "detail": f"HTTP {status}"}
        return Finding(condition_id, Outcome.WARNING, f"From {target}, {result.url} connects but answers HTTP "
                       f"{status} (a server error: Blink or a proxy in between).", target, evidence, v)  # fmt: skip
    via = f" through the proxy {result.proxy}" if result.proxy else ""
    issuer = f"; certificate issued by {result.cert.issuer}" if result.cert else ""
    return Finding(
        condition_id,
        Outcome.PASSED,
        f"From {target}, {result.url} resolves, connects{via} and answers (HTTP {status}{issuer}).",
        target,
        evidence,
        {**values, "layer": "HTTP", "detail": f"HTTP {status}"},
    )


# ------------------------------------------------------------------ tools: curl, wget, nc -> steps

# curl exit codes (https://curl.se/libcurl/c/libcurl-errors.html) -> the step that failed
_CURL: dict[int, tuple[str, str]] = {
    5: ("proxy", "could not resolve the proxy's name"),
    6: ("dns", "could not resolve the host"),
    7: ("tcp", "could not connect (refused or unreachable)"),
    35: ("tls", "TLS handshake failed"),
    51: ("tls", "the server certificate does not match the host"),
    52: ("http", "the server closed the connection without answering"),
    53: ("tls", "TLS engine not found"),
    56: ("http", "connection reset while receiving"),
    58: ("tls", "client certificate problem"),
    59: ("tls", "no usable TLS cipher"),
    60: ("tls", "certificate not trusted (a TLS-inspecting proxy re-signing traffic?)"),
    77: ("tls", "cannot read the CA bundle"),
    83: ("tls", "certificate issuer check failed"),
    90: ("tls", "pinned public key does not match"),
    91: ("tls", "certificate status (OCSP) invalid"),
    97: ("proxy", "proxy handshake failed"),
}
_BEFORE = {name: STEPS[: STEPS.index(name)] for name in STEPS}

# Busybox/GNU wget and nc messages -> the curl exit code with the same meaning.
_TOOL_ERRORS: tuple[tuple[re.Pattern[str], int], ...] = (
    (
        re.compile(
            r"bad address|unable to resolve|Name or service not known|Temporary failure in name resolution|"
            r"nodename nor servname|Could not resolve",
            re.I,
        ),
        6,
    ),
    (re.compile(r"Connection refused|No route to host|Network is unreachable|can't connect", re.I), 7),
    (re.compile(r"timed out|timeout", re.I), 28),
    (re.compile(r"certificate|x509|ssl|tls", re.I), 35),
    (re.compile(r"Connection reset|error getting response", re.I), 56),
)
_HTTP_ERROR = re.compile(r"server returned error: HTTP/\S+ (\d{3})|ERROR (\d{3})")
_CERT_LINE = re.compile(r"^\*\s+(subject|issuer):\s*(.+)$", re.M)


def _steps_before(failed: str, https: bool, proxied: bool) -> list[Step]:
    out = []
    for name in _BEFORE[failed]:
        if (name == "tls" and not https) or (name == "proxy" and not proxied):
            continue
        out.append(Step(name, True, "got past it (the tool went on to the next step)"))
    return out


def steps_from_curl(rc: int, stdout: str, stderr: str, url: str, proxied: bool) -> tuple[tuple[Step, ...], str]:
    """curl's exit code and -v messages -> the layer steps, and the HTTP status."""
    https = url.startswith("https://")
    msg = _last_error(stderr) or f"curl exit code {rc}"
    if rc == 0:
        status = stdout.strip()[-3:]
        steps = _steps_before("http", https, proxied)
        return (*steps, Step("http", True, f"HTTP {status}")), status
    if rc == 28:
        if "Resolving timed out" in stderr:
            name = "dns"
        elif "Connection timed out" in stderr or "Failed to connect" in stderr or "connect" in msg.lower():
            name = "tcp"
        else:
            name = "http"
        if proxied and name in ("dns", "tcp"):
            name = "proxy" if "CONNECT" in stderr else name
        return (*_steps_before(name, https, proxied), Step(name, False, msg, timed_out=True)), ""
    name, meaning = _CURL.get(rc, ("http", f"curl exit code {rc}"))
    if rc == 56 and proxied and "CONNECT" in stderr:
        name, meaning = "proxy", "the proxy refused the tunnel"
    if proxied and name in ("dns", "tcp") and rc != 6:
        name = "proxy"  # curl connects to the proxy first: its name and port are what failed
    return (*_steps_before(name, https, proxied), Step(name, False, f"{meaning}: {msg}")), ""


def _last_error(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip().startswith(("curl: (", "wget:", "nc:"))]
    return lines[-1] if lines else ""


def cert_from_verbose(stderr: str) -> CertInfo | None:
    """curl -v prints the server certificate's subject and issuer after a handshake."""
    found = dict((k, v.strip()) for k, v in _CERT_LINE.findall(stderr))
    if "subject" in found and "issuer" in found:
        return CertInfo(found["subject"], found["issuer"])
    return None


def from_tool_output(
    tool: str,
    target: str,
    url: str,
    rc: int | None,
    stdout: str,
    stderr: str,
    proxied: bool = False,
    error: str = "",
    command: str = "",
    method: str = "",
) -> ProbeResult:
    """What a curl / wget / nc run printed -> a ProbeResult with its layer steps."""
    proxied = proxied or "Uses proxy env variable" in stderr or "Establish HTTP proxy tunnel" in stderr
    base = ProbeResult(target, url, tool=tool, output=f"[{tool}, exit code {rc}]\n{stderr}".strip(),
                       command=command, reproduce=command, method=method)  # fmt: skip
    if rc is None:
        return replace(base, error=error or "the probe did not finish")
    if rc > 128 and not stdout.strip():  # killed by a signal: the pod was stopping, or a limit hit the probe
        return replace(base, error=f"{tool} was killed by signal {rc - 128} before it could answer "
                       "(the container restarting, or a memory limit?)")  # fmt: skip
    https = url.startswith("https://")
    if tool == "curl":
        steps, status = steps_from_curl(rc, stdout, stderr, url, proxied)
        return replace(base, steps=steps, http_status=status, cert=cert_from_verbose(stderr))
    if tool == "wget":
        m = _HTTP_ERROR.search(stderr)
        if rc == 0 or m:
            status = (m[1] or m[2]) if m else _wget_status(stderr) or "2xx"
            detail = f"HTTP {status}" + (" (busybox wget does not verify certificates)" if https else "")
            return replace(base, steps=(*_steps_before("http", https, proxied), Step("http", True, detail)),
                           http_status=status)  # fmt: skip
    if tool == "nc" and rc == 0:
        return replace(base, steps=(Step("dns", True, "resolved"), Step("tcp", True, "TCP connect succeeded (nc)")))
    mapped = next((code for pat, code in _TOOL_ERRORS if pat.search(stderr)), None)
    if mapped is None:
        mapped = 7 if tool == "nc" else (rc or 1)
    text = _last_error(stderr) or (stderr.strip().splitlines() or [f"{tool} exit code {rc}"])[-1].strip()
    if mapped == 28:
        name = "http" if "HTTP/" in stderr else "tcp"
        return replace(base, steps=(*_steps_before(name, https, proxied), Step(name, False, text, timed_out=True)))
    name, meaning = _CURL.get(mapped, ("http", f"{tool} exit code {rc}"))
    if proxied and name in ("dns", "tcp"):
        name = "proxy"
    return replace(base, steps=(*_steps_before(name, https, proxied), Step(name, False, f"{meaning}: {text}")))


def _wget_status(stderr: str) -> str:
    codes = re.findall(r"HTTP/\S+ (\d{3})", stderr)
    return codes[-1] if codes else ""


def tool_commands(url: str, timeout_s: float) -> list[tuple[str, list[str]]]:
    """The tools tried in order where the suite cannot speak for itself: curl, else wget, else nc."""
    t = max(1, int(timeout_s))
    parts = urlsplit(url)
    port = str(parts.port or (443 if parts.scheme == "https" else 80))
    return [
        ("curl", ["curl", "-sSv", "-o", "/dev/null", "-w", "%{http_code}", "--connect-timeout", str(max(1, t // 2)),
                  "--max-time", str(t), url]),
        ("wget", ["wget", "-S", "-T", str(t), "-O", "/dev/null", url]),
        ("nc", ["nc", "-z", "-w", str(t), parts.hostname or "", port]),
    ]  # fmt: skip


# ------------------------------------------------------------------ the container's own configuration


@dataclass(frozen=True)
class ResolvConf:
    nameservers: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    ndots: int = 1
    timeout_s: float = 5.0
    attempts: int = 2

    def candidates(self, name: str) -> list[str]:
        """The names a resolver asks for, in order (search list and ndots, as glibc and Go do)."""
        name = name.rstrip(".")
        if name.endswith(".") or name.count(".") >= self.ndots:
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
    p = urlsplit(value if "://" in value else "http://" + value)
    try:
        pport = p.port or (443 if p.scheme == "https" else 1080 if p.scheme.startswith("socks") else 80)
    except ValueError:
        pport = 0
    return Proxy(value, source, p.scheme, p.hostname or "", pport, p.username or "", p.password or "")


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
    labels = b"".join(bytes([len(p)]) + p.encode("idna") for p in name.rstrip(".").split(".") if p)
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

