"""The runner container's own configuration, exactly: resolv.conf as glibc reads it (limits and defaults included),
the names a resolver asks for, /etc/hosts, which proxy a URL takes (HTTPS_PROXY / NO_PROXY as Go reads them), the DNS
wire format the namespace probe speaks, and what a server certificate gives away."""

from __future__ import annotations

import datetime as dt
import ipaddress
import struct

import pytest

from blinkcheck.probe.environment import (
    DnsAnswer,
    Proxy,
    ResolvConf,
    bypasses,
    cert_info,
    dns_answer,
    dns_query,
    hosts_lookup,
    is_ip,
    parse_resolv_conf,
    proxy_for,
)

URL = "https://app.blinkops.com"

# ------------------------------------------------------------------ resolv.conf

# (id, resolv.conf, what the resolver uses)
RESOLV: list[tuple[str, str, ResolvConf]] = [
    ("Kubernetes", "nameserver 10.96.0.10\nsearch blink.svc.cluster.local svc.cluster.local cluster.local\n"
     "options ndots:5\n", ResolvConf(("10.96.0.10",), ("blink.svc.cluster.local", "svc.cluster.local", "cluster.local"),
                                     5, 5.0, 2)),
    ("no nameserver: the local one", "search corp.example\n", ResolvConf(("127.0.0.1",), ("corp.example",), 1, 5.0, 2)),
    ("a nameserver line without an address", "nameserver\nnameserver 10.0.0.2", ResolvConf(("10.0.0.2",), (), 1, 5.0, 2)),
    ("comments", "# nameserver 9.9.9.9\nnameserver 1.1.1.1 # cloudflare\n; old\nnameserver 8.8.8.8;x\n  \n",
     ResolvConf(("1.1.1.1", "8.8.8.8"), (), 1, 5.0, 2)),
    ("a comment after the search list", "search a.svc b # c.svc\nnameserver 10.0.0.2 ; old", ResolvConf(("10.0.0.2",),
                                                                                              ("a.svc", "b"), 1, 5.0, 2)),
    ("blanks and tabs", "  nameserver\t10.0.0.2  \n\tsearch\ta b", ResolvConf(("10.0.0.2",), ("a", "b"), 1, 5.0, 2)),
    ("three nameservers at most", "nameserver 10.0.0.1\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nnameserver 10.0.0.4",
     ResolvConf(("10.0.0.1", "10.0.0.2", "10.0.0.3"), (), 1, 5.0, 2)),
    ("a zone index is no part of the address", "nameserver fe80::1%eth0", ResolvConf(("fe80::1",), (), 1, 5.0, 2)),
    ("domain is a one-name search list", "domain corp.example", ResolvConf(("127.0.0.1",), ("corp.example",), 1, 5.0, 2)),
    ("the last search or domain line wins", "search a b\ndomain c", ResolvConf(("127.0.0.1",), ("c",), 1, 5.0, 2)),
    ("six search domains at most", "search a b c d e f g", ResolvConf(("127.0.0.1",), ("a", "b", "c", "d", "e", "f"), 1,
                                                                       5.0, 2)),
    ("options", "options ndots:2 timeout:3 attempts:4 rotate", ResolvConf(("127.0.0.1",), (), 2, 3.0, 4)),
    ("options on several lines", "options timeout:7\noptions attempts:3", ResolvConf(("127.0.0.1",), (), 1, 7.0, 3)),
    ("ndots at most 15", "options ndots:20", ResolvConf(("127.0.0.1",), (), 15, 5.0, 2)),
    ("ndots 15", "options ndots:15", ResolvConf(("127.0.0.1",), (), 15, 5.0, 2)),
    ("ndots 0", "options ndots:0", ResolvConf(("127.0.0.1",), (), 0, 5.0, 2)),
    ("timeout at least 1 s", "options timeout:0", ResolvConf(("127.0.0.1",), (), 1, 1.0, 2)),
    ("a fractional timeout", "options timeout:2.5", ResolvConf(("127.0.0.1",), (), 1, 2.5, 2)),
    ("attempts at least 1", "options attempts:0", ResolvConf(("127.0.0.1",), (), 1, 5.0, 1)),
    ("attempts at most 5", "options attempts:9", ResolvConf(("127.0.0.1",), (), 1, 5.0, 5)),
    ("attempts 5", "options attempts:5", ResolvConf(("127.0.0.1",), (), 1, 5.0, 5)),
    ("a bad value is skipped, the rest read", "options ndots:x timeout: attempts:y ndots:3 timeout:4",
     ResolvConf(("127.0.0.1",), (), 3, 4.0, 2)),
    ("empty", "", ResolvConf(("127.0.0.1",), (), 1, 5.0, 2)),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), [r[1:] for r in RESOLV], ids=[r[0] for r in RESOLV])
def test_resolv_conf_as_the_resolver_reads_it(text: str, expected: ResolvConf):
    assert parse_resolv_conf(text) == expected


def test_resolver_defaults():
    assert ResolvConf() == ResolvConf((), (), 1, 5.0, 2)


@pytest.mark.parametrize(
    ("ndots", "name", "asked"),
    [
        (1, "blink", ["blink.a.svc", "blink.b", "blink"]),  # fewer dots than ndots: the search list first
        (1, "blink.lab", ["blink.lab", "blink.lab.a.svc", "blink.lab.b"]),  # as many: the name first
        (5, "app.blinkops.com", ["app.blinkops.com.a.svc", "app.blinkops.com.b", "app.blinkops.com"]),
        (2, "app.blinkops.com", ["app.blinkops.com", "app.blinkops.com.a.svc", "app.blinkops.com.b"]),
        (5, "app.blinkops.com.", ["app.blinkops.com"]),  # rooted: that name only
        (1, "blink.", ["blink"]),
        (0, "blink", ["blink", "blink.a.svc", "blink.b"]),
    ],
)
def test_the_names_a_resolver_asks_for(ndots: int, name: str, asked: list[str]):
    assert ResolvConf(("10.0.0.1",), ("a.svc", "b"), ndots).candidates(name) == asked


def test_hosts_file():
    text = ("127.0.0.1 localhost\n# 10.0.0.9 blink.lab.test\n10.1.2.3 blink.lab.test blink # lab\n10.9.9.9\n"
            "10.4.4.4 blink.lab.test\n")  # fmt: skip
    assert hosts_lookup(text, "blink.lab.test") == "10.1.2.3"  # the first line naming it
    assert hosts_lookup(text, "BLINK.") == "10.1.2.3"  # names ignore case and the root dot
    assert hosts_lookup(text, "lab") == ""  # a comment is no name
    assert hosts_lookup(text, "10.9.9.9") == "" and hosts_lookup(text, "10.1.2.3") == ""  # addresses are no names
    assert hosts_lookup("", "blink") == ""


@pytest.mark.parametrize(
    ("host", "ip"),
    [("10.0.0.1", True), ("::1", True), ("[::1]", True), ("[fd00::5]", True), ("app.blinkops.com", False),
     ("10.0.0.256", False), ("", False)],
)  # fmt: skip
def test_is_ip(host: str, ip: bool):
    assert is_ip(host) is ip


# ------------------------------------------------------------------ proxies

# (id, URL, environment, the proxy taken: (source, scheme, host, port, username, password) or None)
PROXIES: list[tuple[str, str, dict[str, str], tuple[str, str, str, int, str, str] | None]] = [
    ("https: HTTPS_PROXY", URL, {"HTTPS_PROXY": "http://proxy.corp:3128"}, ("HTTPS_PROXY", "http", "proxy.corp", 3128, "", "")),
    ("an empty HTTPS_PROXY gives way to https_proxy", URL, {"HTTPS_PROXY": "", "https_proxy": "http://p:1"},
     ("https_proxy", "http", "p", 1, "", "")),
    ("http: HTTP_PROXY", "http://blink.lab.test", {"HTTP_PROXY": "http://p:8080", "HTTPS_PROXY": "http://q:1"},
     ("HTTP_PROXY", "http", "p", 8080, "", "")),
    ("no scheme: http", URL, {"HTTPS_PROXY": "proxy.corp:3128"}, ("HTTPS_PROXY", "http", "proxy.corp", 3128, "", "")),
    ("https proxy: port 443", URL, {"HTTPS_PROXY": "https://proxy.corp"}, ("HTTPS_PROXY", "https", "proxy.corp", 443, "", "")),
    ("http proxy: port 80", URL, {"HTTPS_PROXY": "http://proxy.corp"}, ("HTTPS_PROXY", "http", "proxy.corp", 80, "", "")),
    ("socks5h: port 1080", URL, {"HTTPS_PROXY": "socks5h://proxy.corp"}, ("HTTPS_PROXY", "socks5h", "proxy.corp", 1080, "", "")),
    ("socks4: port 1080", URL, {"HTTPS_PROXY": "socks4://proxy.corp"}, ("HTTPS_PROXY", "socks4", "proxy.corp", 1080, "", "")),
    ("credentials", URL, {"HTTPS_PROXY": "http://alice:s3cret@proxy.corp:3128"},
     ("HTTPS_PROXY", "http", "proxy.corp", 3128, "alice", "s3cret")),
    ("a user without a password", URL, {"HTTPS_PROXY": "http://alice@proxy.corp:3128"},
     ("HTTPS_PROXY", "http", "proxy.corp", 3128, "alice", "")),
    ("a proxy without a host", URL, {"HTTPS_PROXY": "http://:3128"}, ("HTTPS_PROXY", "http", "", 3128, "", "")),
    ("a port that is no number", URL, {"HTTPS_PROXY": "http://p:x"}, ("HTTPS_PROXY", "http", "p", 0, "", "")),
    ("no proxy set", URL, {}, None),
    ("localhost goes direct", "https://localhost:8443", {"HTTPS_PROXY": "http://p:1"}, None),
    ("a loopback address goes direct", "https://127.0.0.5", {"HTTPS_PROXY": "http://p:1"}, None),
    ("IPv6 loopback goes direct", "https://[::1]:8443", {"HTTPS_PROXY": "http://p:1"}, None),
    ("another address does not", "https://10.0.0.5", {"HTTPS_PROXY": "http://p:1"}, ("HTTPS_PROXY", "http", "p", 1, "", "")),
    ("NO_PROXY, the host in any case", "https://App.BlinkOps.com", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "app.blinkops.com"},
     None),
    ("NO_PROXY before no_proxy", URL, {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "other.com", "no_proxy": ".blinkops.com"},
     ("HTTPS_PROXY", "http", "p", 1, "", "")),
    ("an empty NO_PROXY gives way to no_proxy", URL, {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "", "no_proxy": "blinkops.com"},
     None),
    ("NO_PROXY by the URL's own port", "https://app.blinkops.com:8443", {"HTTPS_PROXY": "http://p:1",
                                                                         "NO_PROXY": "blinkops.com:8443"}, None),
    ("NO_PROXY port 443 for https", URL, {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "blinkops.com:443"}, None),
    ("NO_PROXY port 80 for http", "http://blink.lab.test", {"HTTP_PROXY": "http://p:1", "NO_PROXY": "blink.lab.test:80"}, None),
    ("NO_PROXY port 443 is not http's", "http://blink.lab.test", {"HTTP_PROXY": "http://p:1", "NO_PROXY": "blink.lab.test:443"},
     ("HTTP_PROXY", "http", "p", 1, "", "")),
]  # fmt: skip


@pytest.mark.parametrize(("url", "env", "expected"), [p[1:] for p in PROXIES], ids=[p[0] for p in PROXIES])
def test_the_proxy_a_url_takes(url: str, env: dict[str, str], expected):
    p = proxy_for(url, env)
    if expected is None:
        assert p is None
    else:
        source = expected[0]
        assert p == Proxy(env[source], *expected)


def test_a_proxy_is_shown_without_its_password():
    p = Proxy("http://alice:s3cret@proxy.corp:3128", "HTTPS_PROXY", "http", "proxy.corp", 3128, "alice", "s3cret")
    assert p.shown == "http://alice:[REDACTED]@proxy.corp:3128 (from HTTPS_PROXY)"
    assert "s3cret" not in repr(p).replace(p.url, "")
    assert Proxy("x", "https_proxy", "http", "p", 1, "alice").shown == "http://alice@p:1 (from https_proxy)"
    assert Proxy("x", "HTTP_PROXY", "socks5", "p", 1080).shown == "socks5://p:1080 (from HTTP_PROXY)"


def test_a_proxy_value_that_is_no_url_names_no_host_and_is_never_shown():
    env = {"HTTPS_PROXY": "http://alice:s3cret@[fe80::1"}  # a bracket left open: urlsplit raises, Go refuses it
    p = proxy_for("https://app.blinkops.com", env)
    assert p == Proxy(env["HTTPS_PROXY"], "HTTPS_PROXY", "", "", 0)
    assert p.shown == "a value that names no proxy host (from HTTPS_PROXY)"


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "bypass"),
    [
        ("app.blinkops.com", 443, "BLINKOPS.COM", True),  # entries ignore case
        ("app.blinkops.com", 443, "other.com, ,*.blinkops.com", True),  # every entry is read
        ("10.1.2.3", 443, "10.0.0.0/33, 10.1.2.3", True),  # a bad CIDR is skipped, the next entry read
        ("10.1.2.3", 443, "192.168.0.0/16, 10.1.2.3", True),  # a CIDR not matching: the next entry read
        ("app.blinkops.com", 443, "blinkops.com:8443, blinkops.com", True),  # a port not matching: the next entry
        ("10.1.2.3", 443, "10.1.0.0/8", True),  # host bits in a CIDR are ignored, as Go does
        ("10.1.2.3", 443, "10.1.2.3:443", True),  # an address with a port
        ("10.1.2.3", 8443, "10.1.2.3:443", False),
        ("fd00::5", 443, "fd00::/8", True),  # IPv6 CIDR
        ("fd00::5", 443, "fd00::5", True),  # an IPv6 address: its colons are no port
        ("blinkops.com", 443, "*.blinkops.com", True),
        ("app.blinkops.com", 443, ".app.blinkops.com", True),
        ("xapp.blinkops.com", 443, "app.blinkops.com", False),
        ("app.blinkops.com.evil", 443, "blinkops.com", False),
    ],
)
def test_no_proxy_entries(host: str, port: int, no_proxy: str, bypass: bool):
    assert bypasses(host, port, no_proxy) is bypass


# ------------------------------------------------------------------ DNS on the wire


def test_the_question_on_the_wire():
    header = struct.pack(">HHHHHH", 0xBEEF, 0x0100, 1, 0, 0, 0)  # ids use all 16 bits
    question = b"\x03app\x08blinkops\x03com\x00"
    assert dns_query("app.blinkops.com", 1, 0xBEEF) == header + question + b"\x00\x01\x00\x01"
    assert dns_query("app.blinkops.com.", 28, 0xBEEF) == header + question + b"\x00\x1c\x00\x01"


def _name(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"


def _rr(name: bytes, rtype: int, rdata: bytes) -> bytes:
    return name + struct.pack(">HHIH", rtype, 1, 300, len(rdata)) + rdata


def _reply(qid: int, flags: int, answers: list[bytes], question: bytes = _name("app.blinkops.com")) -> bytes:
    return (struct.pack(">HHHHHH", qid, flags, 1, len(answers), 0, 0) + question + b"\x00\x01\x00\x01"
            + b"".join(answers))  # fmt: skip


POINTER = b"\xc0\x0c"  # the name of the question


def test_answers_follow_cnames_and_take_a_and_aaaa():
    answers = [
        _rr(POINTER, 5, _name("edge.cdn.net")),  # CNAME
        _rr(_name("edge.cdn.net"), 1, bytes([104, 18, 2, 3])),  # A, the name written out
        _rr(b"\x04edge" + POINTER, 1, bytes([104, 18, 2, 4])),  # A, a label then a pointer
        _rr(POINTER, 28, ipaddress.IPv6Address("2606:4700::1").packed),  # AAAA
        _rr(POINTER, 16, b"\x05hello"),  # TXT: not an address
        _rr(POINTER, 1, b"\x01\x02\x03\x04\x05"),  # an A record of the wrong size
        _rr(POINTER, 28, b"\x00" * 4),  # an AAAA record of the wrong size
    ]
    ans = dns_answer(_reply(0xBEEF, 0x8180, answers), 0xBEEF)
    assert ans == DnsAnswer(0, ("104.18.2.3", "104.18.2.4", "2606:4700::1"), False)
    assert ans.rcode_name == "NOERROR"


def test_a_record_with_no_data_at_the_very_end():
    ans = dns_answer(_reply(7, 0x8180, [_rr(POINTER, 1, bytes([10, 0, 0, 1])), _rr(POINTER, 10, b"")]), 7)
    assert ans.addresses == ("10.0.0.1",)


def test_a_name_compressed_past_byte_255():
    """A big answer points back past byte 255: the pointer's first byte is then 0xC1 or more."""
    ans = dns_answer(_reply(7, 0x8180, [_rr(b"\xc1\x2c", 1, bytes([10, 0, 0, 1])), _rr(b"\xff\xff", 1, bytes([10, 0, 0, 2]))]), 7)
    assert ans.addresses == ("10.0.0.1", "10.0.0.2")


@pytest.mark.parametrize(
    ("flags", "rcode", "name", "truncated"),
    [(0x8183, 3, "NXDOMAIN", False), (0x8182, 2, "SERVFAIL", False), (0x8185, 5, "REFUSED", False),
     (0x8181, 1, "FORMERR", False), (0x8184, 4, "NOTIMP", False), (0x8189, 9, "RCODE 9", False),
     (0x8380, 0, "NOERROR", True)],
)  # fmt: skip
def test_answer_codes_and_truncation(flags: int, rcode: int, name: str, truncated: bool):
    ans = dns_answer(_reply(9, flags, []), 9)
    assert (ans.rcode, ans.rcode_name, ans.addresses, ans.truncated) == (rcode, name, (), truncated)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"\x00\x07\x81\x80\x00\x01\x00\x00\x00\x00\x00", "short DNS message"),  # 11 bytes
        (_reply(8, 0x8180, []), "not the answer to our question"),  # another id
        (_reply(7, 0x0100, []), "not the answer to our question"),  # a question, not a response
        (_reply(7, 0x0103, []), "not the answer to our question"),  # whatever its other bits
        (_reply(7, 0x8180, [_rr(POINTER, 1, bytes([10, 0, 0, 1]))])[:-9], "record runs past the end"),  # cut
        (struct.pack(">HHHHHH", 7, 0x8180, 1, 0, 0, 0) + b"\x03app\x08blinkops", "name runs past the end"),
    ],
)
def test_what_is_not_an_answer_to_our_question(data: bytes, error: str):
    """ValueError, which the namespace probe takes for a stray datagram (it keeps listening)."""
    with pytest.raises(ValueError, match=error):
        dns_answer(data, 7)


def test_twelve_bytes_are_a_whole_header():
    assert dns_answer(struct.pack(">HHHHHH", 7, 0x8180, 0, 0, 0, 0), 7) == DnsAnswer(0, ())


# ------------------------------------------------------------------ certificates


def _cert(names: list[str], ips: list[str]) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Blink"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "app.blinkops.com")])  # fmt: skip
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Corp Inspect CA")])
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
         .serial_number(1).not_valid_before(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
         .not_valid_after(dt.datetime(2027, 3, 4, 12, 0, tzinfo=dt.UTC)))  # fmt: skip
    if names or ips:
        san = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def test_what_a_certificate_gives_away():
    info = cert_info(_cert(["app.blinkops.com", "*.blinkops.com"], ["10.0.0.1"]))
    assert (info.subject, info.issuer, info.names, info.not_after) == (
        "CN=app.blinkops.com,O=Blink", "CN=Corp Inspect CA", ("app.blinkops.com", "*.blinkops.com", "10.0.0.1"),
        "2027-03-04")  # fmt: skip
    many = cert_info(_cert([f"n{i}.blinkops.com" for i in range(10)], ["10.0.0.1"]))
    assert many.names == tuple(f"n{i}.blinkops.com" for i in range(8))  # the first eight names
    assert cert_info(_cert([], [])).names == ()
