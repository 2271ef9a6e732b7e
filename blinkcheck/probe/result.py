"""What an egress probe found: the layer steps in the order a client takes them (DNS, TCP connect, proxy,
TLS, HTTP), one shape for every way of probing."""

from __future__ import annotations

from dataclasses import dataclass

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
    server_date: str = ""  # the Date header of Blink's answer (RFC 7231), when the tool shows it
    clock_at: float = 0.0  # the runner's clock (epoch seconds) when that answer came; 0: not read
    clock_unread: str = ""  # why the runner's clock was not read although Blink's Date was
    clock_how: str = ""  # how the runner's clock was read, when not by the suite itself (shown in the evidence)

    @property
    def failed_step(self) -> Step | None:
        return next((s for s in self.steps if not s.ok), None)


def reached(result: ProbeResult) -> bool | None:
    """Is the network path to Blink open (every layer tried got through)? None: the probe did not run."""
    if result.error or result.unavailable or not result.steps:
        return None
    return result.failed_step is None


def clock_offset(result: ProbeResult) -> float | None:
    """The runner's clock minus Blink's (seconds; positive: the runner is ahead), from the Date header of Blink's
    answer; None when the answer or the runner's clock is not known. Date has whole seconds: +-1 s is noise."""
    from email.utils import parsedate_to_datetime

    if not result.server_date or not result.clock_at:
        return None
    try:
        server = parsedate_to_datetime(result.server_date).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return result.clock_at - server
