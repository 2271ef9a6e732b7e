"""The probe tools (curl, wget, busybox nc): their commands, and their exit codes and messages mapped onto the
probe's layer steps. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import urlsplit

from blinkcheck.probe.environment import Proxy, is_ip, proxy_for
from blinkcheck.probe.result import STEPS, CertInfo, ProbeResult, Step

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
        if proxied and name in ("dns", "tcp"):  # curl resolves and connects to the proxy: that is what hung
            name = "proxy"
        return (*_steps_before(name, https, proxied), Step(name, False, msg, timed_out=True)), ""
    name, meaning = _CURL.get(rc, ("http", f"curl exit code {rc}"))
    if rc == 56 and proxied and "CONNECT" in stderr:
        name, meaning = "proxy", "the proxy refused the tunnel"
    if proxied and rc == 7:  # curl connects to the proxy first: its address is what failed
        name, meaning = "proxy", "could not connect to the proxy"
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


# A response's status line or its Date header, as curl -v (`< HTTP/1.1 200 OK`, `< Date: ...`; HTTP/2: `< date: ...`)
# and wget -S (`  HTTP/1.1 200 OK`, `  Date: ...`) print them; not curl's own `*  start date:` of a certificate.
_ANSWER_LINE = re.compile(r"^(?:< ?|[ \t]+)(?:(HTTP/\S+[ \t]+\d{3}\b.*)|date:[ \t]*(\S.*?))\s*$", re.I)


def date_header(said: str) -> str:
    """The Date header of the last answer the tool printed (a proxy's answer to CONNECT, a redirect come before
    Blink's); "" when that answer had none."""
    date = ""
    for line in said.splitlines():
        m = _ANSWER_LINE.match(line)
        if m:
            date = m[2] or ""
    return date


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
                       reproduce=command, method=method, proxy=proxy.shown if proxy else "",
                       server_date=date_header(stderr) if tool in ("curl", "wget") else "")  # fmt: skip
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


_WGET_CONNECTING = re.compile(r"^Connecting to (\S+)(?=([^\n]*))", re.M)  # 2: the rest of the line
_BUSYBOX_TLS_NOTE = "TLS certificate validation not implemented"


def _from_wget(base: ProbeResult, rc: int, stderr: str, proxied: bool, proxy: Proxy | None) -> ProbeResult:
    """busybox or GNU wget. busybox wget checks no certificate (it says so), and goes straight to the host for
    https even with https_proxy set: then its answer is not about the runner's path, and another tool is asked."""
    https = base.url.startswith("https://")
    went = _WGET_CONNECTING.search(stderr)
    if proxy is not None and went and not _is_proxy(went[1] + went[2], proxy):
        why = (f"wget went straight to {went[1].split('|')[0]}, not through the runner's proxy {proxy.shown} "
               "(busybox wget uses no proxy for https): its answer is not about the runner's path")  # fmt: skip
        return replace(base, unavailable=why)
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
    mapped = next((code for pat, code in _TOOL_ERRORS if pat.search(said)), None) or rc
    name, meaning = _CURL.get(mapped, ("http", f"wget exit code {rc}"))
    if mapped == 28:  # its own timeout: at the connection (through a proxy: the proxy's)
        name = "proxy" if proxied else "tcp"
        return replace(base, steps=(*_steps_before(name, https, proxied), Step(name, False, text, timed_out=True)))
    if proxied and name in ("dns", "tcp"):
        name, meaning = "proxy", ("could not resolve the proxy's name" if name == "dns" else
                                  "could not connect to the proxy")  # fmt: skip
    return replace(base, steps=(*_steps_before(name, https, proxied), Step(name, False, f"{meaning}: {text}")))


def _is_proxy(where: str, proxy: Proxy) -> bool:
    """Does wget's 'Connecting to X' line name the proxy? busybox: `host:port (ip:port)`; GNU: `host (host)|ip|:port...
    connected.`, `host|ip|:port... connected.` (older) or `ip:port... connected.`"""
    host = where.lower().split("|")[0].split("(")[0].strip().split(":")[0].rstrip(".")
    return host == proxy.host.lower().rstrip(".") and re.search(rf":{proxy.port}(?!\d)", where) is not None


_NC_TIMED_OUT = re.compile(r"timed out|timeout", re.I)
_NC_BAD_ADDRESS = re.compile(r"bad address", re.I)  # busybox
# busybox; GNU and OpenBSD nc on glibc; on musl (Alpine): "Name does not resolve"
_NC_NO_NAME = re.compile(r"bad address|unable to resolve|Name or service not known|name resolution|does not resolve",
                         re.I)  # fmt: skip


def _steps_from_nc(rc: int, stderr: str, url: str, proxy: Proxy | None) -> tuple[Step, ...]:
    """nc only connects: to Blink's host, or to the runner's proxy when it has one (tool_commands)."""
    host = urlsplit(url).hostname or ""
    text = _last_error(stderr) or (stderr.strip().splitlines() or [f"nc exit code {rc}"])[-1].strip()
    if proxy is not None:
        where = f"the proxy {proxy.host}:{proxy.port}"
        if rc == 0:
            return (Step("proxy", True, f"TCP connect to {where} succeeded (nc)"),)
        timed_out = bool(_NC_TIMED_OUT.search(stderr))
        meaning = "could not resolve the proxy's name" if _NC_BAD_ADDRESS.search(stderr) else (
            f"no connection to {where}" if timed_out else f"could not connect to {where}")  # fmt: skip
        return (Step("proxy", False, f"{meaning}: {text}", timed_out=timed_out),)
    resolved = () if is_ip(host) else (Step("dns", True, "resolved"),)
    if rc == 0:
        return (*resolved, Step("tcp", True, "TCP connect succeeded (nc)"))
    if _NC_NO_NAME.search(stderr):
        return (Step("dns", False, f"could not resolve the host: {text}"),)
    if _NC_TIMED_OUT.search(stderr):
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
    if stdout.strip():  # it answered (no exit code, or 0, is in neither list below either)
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
