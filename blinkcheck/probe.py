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
# The runner's environment values the probe needs (its proxy and trust store; read, never kept or shown).
PROBE_ENV = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy",
             "SSL_CERT_FILE", "SSL_CERT_DIR")  # fmt: skip
LAYER = {"dns": "DNS", "tcp": "TCP connect", "proxy": "proxy", "tls": "TLS", "http": "HTTP"}


@dataclass(frozen=True)
class Step:
    """One layer tried on the way to Blink, and what was seen there."""

    name: str  # one of STEPS
    ok: bool
    detail: str
    timed_out: bool = False
    ms: int | None = None
    or_step: str = ""  # an earlier layer the tool cannot tell this one from (nc: a hanging lookup or connect)

    @property
    def layer(self) -> str:
        name = LAYER.get(self.name, self.name)
        if self.or_step:
            name = f"{LAYER.get(self.or_step, self.or_step)} or {name}"
        return name + (" (timeout)" if self.timed_out and not self.ok else "")


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
    unverified: str = ""  # a layer the tool got through without checking it (busybox wget: certificates)

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
    if step.or_step and f"{step.or_step}-or-{step.name}" in advice:
        key = f"{step.or_step}-or-{step.name}"
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
        why = "no curl or wget there" if result.tool == "nc" else "nothing more was tried"
        if "proxy" in tried:  # nc connected to the runner's proxy: whether it lets Blink through is not known
            return Finding(condition_id, Outcome.WARNING, f"From {target}, a TCP connection to the runner's proxy "
                           f"{result.proxy} succeeds ({result.tool or 'connect only'}); whether it lets {result.url} "
                           f"through is not verified: {why}.", target, evidence,
                           {**values, "layer": "proxy", "detail": "connected to the proxy only"})  # fmt: skip
        return Finding(
            condition_id,
            Outcome.WARNING if https else Outcome.PASSED,
            f"From {target}, a TCP connection to {result.url} succeeds ({result.tool or 'connect only'}; "
            + ("TLS and HTTP not verified" if https else "HTTP not tried")
            + f": {why}).",
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
    if result.unverified:
        v = {**values, "layer": "HTTP", "detail": f"HTTP {status}, {result.unverified}"}
        return Finding(condition_id, Outcome.WARNING, f"From {target}, {result.url} resolves, connects{via} and "
                       f"answers (HTTP {status}, {result.tool}), but not verified: {result.unverified}.", target,
                       evidence, v)  # fmt: skip
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
        # curl connects to the proxy first: its name and port are what failed
        name, meaning = "proxy", "could not connect to the proxy" if rc == 7 else meaning
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
    proxy: Proxy | None = None,
) -> ProbeResult:
    """What a curl / wget / nc run printed -> a ProbeResult with its layer steps. `proxy`: the proxy the
    runner takes for this URL (from its environment); nc was pointed at it (tool_commands), wget's output
    says whether it went through it."""
    said_proxy = "Uses proxy env variable" in stderr or "Establish HTTP proxy tunnel" in stderr
    proxied = proxied or proxy is not None or said_proxy
    base = ProbeResult(target, url, tool=tool, output=f"[{tool}, exit code {rc}]\n{stderr}".strip(), command=command,
                       reproduce=command, method=method, proxy=proxy.shown if proxy else "")  # fmt: skip
    if rc is None:
        return replace(base, error=error or "the probe did not finish")
    if rc > 128 and not stdout.strip():  # killed by a signal: the pod was stopping, or a limit hit the probe
        return replace(base, error=f"{tool} was killed by signal {rc - 128} before it could answer "
                       "(the container restarting, or a memory limit?)")  # fmt: skip
    if tool == "curl":
        steps, status = steps_from_curl(rc, stdout, stderr, url, proxied)
        return replace(base, steps=steps, http_status=status, cert=cert_from_verbose(stderr))
    if tool == "nc":
        return replace(base, steps=_steps_from_nc(rc, stderr, url, proxy))
    return _from_wget(base, rc, stderr, proxied, proxy)


_WGET_CONNECTING = re.compile(r"^Connecting to (\S+)", re.M)
_BUSYBOX_TLS_NOTE = "TLS certificate validation not implemented"


def _from_wget(base: ProbeResult, rc: int, stderr: str, proxied: bool, proxy: Proxy | None) -> ProbeResult:
    """busybox or GNU wget. busybox wget checks no certificate (it says so), and goes straight to the host for
    https even with https_proxy set: then its answer is not about the runner's path, and another tool is asked."""
    https = base.url.startswith("https://")
    went = _WGET_CONNECTING.search(stderr)
    if proxy is not None and went and not _is_proxy(went[1], proxy):
        why = (f"wget went straight to {went[1].split('|')[0]}, not through the runner's proxy {proxy.shown} "
               "(busybox wget uses no proxy for https): its answer is not about the runner's path")  # fmt: skip
        return replace(base, unavailable=why, steps=())
    lines = [ln for ln in stderr.splitlines() if _BUSYBOX_TLS_NOTE not in ln]  # not an error: said on every https
    said = "\n".join(lines)
    unverified = ("TLS: busybox wget does not check certificates, so a TLS-inspecting proxy would not show here"
                  if https and _BUSYBOX_TLS_NOTE in stderr else "")  # fmt: skip
    m = _HTTP_ERROR.search(said)
    if rc == 0 or m:
        status = (m[1] or m[2]) if m else _wget_status(said) or "2xx"
        return replace(base, steps=(*_steps_before("http", https, proxied), Step("http", True, f"HTTP {status}")),
                       http_status=status, unverified=unverified)  # fmt: skip
    text = _last_error(said) or (said.strip().splitlines() or [f"wget exit code {rc}"])[-1].strip()
    if rc == 28:  # the exec's deadline: where wget stopped talking says where it hung
        if not went:
            name, detail = "dns", f"the name lookup did not finish ({text})"
        elif (https and _BUSYBOX_TLS_NOTE not in stderr and "connected." not in said) or (
                not https and "connected." not in said and "HTTP/" not in said):
            name, detail = "tcp", f"no connection after '{went[0]}' ({text})"
        else:
            name, detail = "http", f"connected, no answer ({text})"
        if proxied and name in ("dns", "tcp"):
            name = "proxy"
        return replace(base, steps=(*_steps_before(name, https, proxied), Step(name, False, detail, timed_out=True)))
    mapped = next((code for pat, code in _TOOL_ERRORS if pat.search(said)), None) or rc or 1
    name, meaning = _CURL.get(mapped, ("http", f"wget exit code {rc}"))
    if mapped == 28:
        return replace(base, steps=(*_steps_before("tcp", https, proxied), Step("tcp", False, text, timed_out=True)))
    if proxied and name in ("dns", "tcp"):
        name, meaning = "proxy", ("could not resolve the proxy's name" if name == "dns" else
                                  "could not connect to the proxy")  # fmt: skip
    return replace(base, steps=(*_steps_before(name, https, proxied), Step(name, False, f"{meaning}: {text}")))


def _is_proxy(where: str, proxy: Proxy) -> bool:
    """Does wget's 'Connecting to X' name the proxy? busybox: host:port; GNU: host (host)|ip|:port..."""
    return where.split("|")[0].split("(")[0].rstrip(".").split(":")[0] == proxy.host and str(proxy.port) in where


def _steps_from_nc(rc: int, stderr: str, url: str, proxy: Proxy | None) -> tuple[Step, ...]:
    """nc only connects: to Blink's host, or to the runner's proxy when it has one (tool_commands)."""
    host = urlsplit(url).hostname or ""
    text = _last_error(stderr) or (stderr.strip().splitlines() or [f"nc exit code {rc}"])[-1].strip()
    if proxy is not None:
        where = f"the proxy {proxy.host}:{proxy.port}"
        if rc == 0:
            return (Step("proxy", True, f"TCP connect to {where} succeeded (nc)"),)
        timed_out = bool(re.search(r"timed out|timeout", stderr, re.I))
        meaning = "could not resolve the proxy's name" if re.search(r"bad address", stderr, re.I) else (
            f"no connection to {where}" if timed_out else f"could not connect to {where}")  # fmt: skip
        return (Step("proxy", False, f"{meaning}: {text}", timed_out=timed_out),)
    resolved = () if is_ip(host) else (Step("dns", True, "resolved"),)
    if rc == 0:
        return (*resolved, Step("tcp", True, "TCP connect succeeded (nc)"))
    if re.search(r"bad address|unable to resolve|Name or service not known|name resolution", stderr, re.I):
        return (Step("dns", False, f"could not resolve the host: {text}"),)
    if re.search(r"timed out|timeout", stderr, re.I):
        if resolved:  # nc's -w covers the name lookup and the connect alike, and its message is the same
            return (Step("tcp", False, f"{text}: nc does not say whether the name lookup of {host} or the "
                         "connect hung", timed_out=True, or_step="dns"),)  # fmt: skip
        return (Step("tcp", False, text, timed_out=True),)
    return (*resolved, Step("tcp", False, f"could not connect (refused or unreachable): {text}"))


def _wget_status(stderr: str) -> str:
    codes = re.findall(r"HTTP/\S+ (\d{3})", stderr)
    return codes[-1] if codes else ""


def tool_commands(url: str, timeout_s: float, env: Mapping[str, str] | None = None) -> list[tuple[str, list[str]]]:
    """The tools tried in order where the suite cannot speak for itself: curl, else wget, else nc; for wget and
    nc first the common form, then the one busybox takes (options_rejected says when to go on to it).

    `env`: the runner's own variables (PROBE_ENV): curl verifies against its trust store (SSL_CERT_FILE /
    SSL_CERT_DIR, which Go honours and curl does not); nc, which knows no proxy, connects to the runner's proxy
    when it has one for this URL. curl and wget read the proxy variables themselves."""
    env = env or {}
    t = max(1, int(timeout_s))
    parts = urlsplit(url)
    port = str(parts.port or (443 if parts.scheme == "https" else 80))
    trust = (["--cacert", env["SSL_CERT_FILE"]] if env.get("SSL_CERT_FILE") else
             ["--capath", env["SSL_CERT_DIR"].split(":")[0]] if env.get("SSL_CERT_DIR") else [])  # fmt: skip
    gnu_trust = [f"--ca-certificate={env['SSL_CERT_FILE']}"] if env.get("SSL_CERT_FILE") else []
    proxy = proxy_for(url, env)
    host, nc_port = (proxy.host, str(proxy.port)) if proxy else (parts.hostname or "", port)
    return [
        ("curl", ["curl", "-sSv", "-o", "/dev/null", "-w", "%{http_code}", "--connect-timeout", str(max(1, t // 2)),
                  "--max-time", str(t), *trust, url]),
        ("wget", ["wget", "-S", "-T", str(t), "-t", "1", *gnu_trust, "-O", "/dev/null", url]),
        ("wget", ["wget", "-S", "-O", "/dev/null", url]),  # busybox: no -T (Debian's crashes on it), no CA option
        ("nc", ["nc", "-z", "-w", str(t), host, nc_port]),
        ("nc", ["nc", "-w", str(t), host, nc_port]),  # busybox: no -z; with no input it closes once connected
    ]  # fmt: skip


_USAGE = re.compile(r"invalid option|unrecognized option|unknown option|illegal option|^usage:", re.I | re.M)


def options_rejected(rc: int | None, stdout: str, stderr: str) -> bool:
    """The tool did not take this form of the command (a usage error, or a crash before it did anything, as
    Debian's busybox wget on -T): the next form of the same tool is tried, nothing is judged from this one."""
    if rc is None or rc == 0 or stdout.strip():
        return False
    if rc in (132, 134, 139) and not stderr.strip():  # SIGILL, SIGABRT, SIGSEGV before a word
        return True
    return rc in (1, 2, 64) and bool(_USAGE.search(stderr))


# curl's exit codes after which a second look with -k names the certificate's issuer (curl shows it only
# after a handshake it accepted)
CERT_PROBLEMS = (51, 60, 83)


def issuer_command(cmd: list[str]) -> list[str]:
    """curl again with verification off (-k) and without the trust options: only to see the certificate the
    runner is shown (subject, issuer); a GET without credentials, its answer discarded."""
    out, skip = [], False
    for arg in cmd:
        if skip:
            skip = False
            continue
        if arg in ("--cacert", "--capath"):
            skip = True
            continue
        out.append(arg)
    return [out[0], "-k", *out[1:]]


def with_issuer(result: ProbeResult, stderr: str, command: str) -> ProbeResult:
    """A curl result that failed at TLS, completed with the certificate seen by issuer_command."""
    cert = cert_from_verbose(stderr)
    failed = result.failed_step
    if cert is None or failed is None or failed.name != "tls":
        return result
    problem = _last_error(result.output).split("SSL certificate problem: ", 1)[-1] or failed.detail
    detail = f"certificate issued by {cert.issuer} is not trusted ({problem})"
    steps = tuple(replace(s, detail=detail) if s is failed else s for s in result.steps)
    note = f"certificate seen with curl -k (verification off, only to name its issuer): $ {command}"
    return replace(result, steps=steps, cert=cert, cert_problem=problem, notes=(*result.notes, note))


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

