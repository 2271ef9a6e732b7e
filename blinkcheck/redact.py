"""One redaction pass for every artifact the suite writes, and the leak gate behind it.

Secrets come two ways: values known to the run (the runner's API key from its environment, Secret
data) are registered before the first check runs and replaced wherever they appear, also in the
forms an encoder gives them (trimmed, JSON/Go-escaped, URL-encoded, base64, HTML-escaped); known
shapes (Authorization headers, bearer tokens, cookies, `password=`, `--token VALUE`, URLs with
credentials, private keys, ...) are replaced by pattern. When a secret could not be read (no `get
secrets`), the redactor is made `strict`: it also masks random-looking tokens after key-like words.

The same pass shows control characters escaped (ANSI/OSC escapes, NUL, carriage returns), so a
log line can neither drive the terminal nor hide text in a report.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import stat
import tarfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import quote, quote_plus

MASK = "[REDACTED]"
WITHHELD = "[withheld]"
MIN_SECRET = 6  # shorter values would redact half the report ("1", "true"); they are not keys

# Environment variable names whose values are secrets.
SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSW|PASSWD|PWD|CREDENTIAL|AUTH|COOKIE|SESSION)", re.I)

# ------------------------------------------------------------------ shapes

# A name whose value is a secret: the secret word ends the name (BLINK_RUNNER_GROUP_API_KEY, x-api-key,
# access_token, appKey, DB_PASSWORD), so `token_expiry` or `keyboard` are left alone.
_WORD = (
    r"api[_.-]?key|app[_.-]?key|access[_.-]?key|secret[_.-]?key|private[_.-]?key|auth[_.-]?key|"
    r"access[_.-]?token|refresh[_.-]?token|id[_.-]?token|auth[_.-]?token|bearer[_.-]?token|"
    r"client[_.-]?secret|token|secret|password|passwd|pwd|passphrase|credentials?|"
    r"session[_.-]?id|session|sessid|cookie|signature|sig|auth|key"
)
_NAME = rf"(?:(?i:(?:[a-z0-9]+[_.-])*(?:{_WORD}))|[a-z][a-z0-9]*(?:Key|Token|Secret|Password|Passwd|Credentials?))"
# A value: double-quoted (JSON escapes inside), single-quoted, a Go slice `[...]`, or a bare word.
_DQ = r'"(?:[^"\\\n]|\\.)*"'
_SQ = r"'(?:[^'\\\n]|\\.)*'"
_BARE = r"[^\s\"',;&)\]}>]+"
_VALUE = rf"(?:{_DQ}|{_SQ}|\[[^\]\n]*\]|{_BARE})"
_NOT_MASKED = r"(?![\"'\[]?\[REDACTED\])"
# An Authorization value: a token, or Digest-style parameters (name="value", name=value, ...).
_PARAMS = r'[^\s"\'\],}=]+(?:=+(?:"[^"\n]*"|[^\s",\]}]*))?(?:\s*,\s*[\w-]+=(?:"[^"\n]*"|[^\s",\]}]*))*'
_SCHEMES = r"(?:Bearer|Basic|Token|Digest|Negotiate|NTLM|AWS4-HMAC-SHA256|ApiKey|Key)"


def _keep_quotes(m: re.Match[str]) -> str:
    """name<sep>value -> name<sep>[REDACTED], keeping the value's quotes or brackets."""
    value = m["v"]
    if "[REDACTED" in value or value.startswith("-----BEGIN"):  # an earlier, more precise shape took it
        return m[0]
    if value.strip("\"'").startswith(WITHHELD):  # withheld at the source (packet objects)
        return m[0]
    if len(value) >= 2 and value[0] in "\"'[" and value[-1] == {"[": "]"}.get(value[0], value[0]):
        masked = value[0] + MASK + value[-1]
    else:
        masked = MASK
    return m["n"] + m["sep"] + masked


def _name_value(m: re.Match[str]) -> str:
    # A bare `key` names many things that are not secrets ("key: appKey", "key: re-install"): only
    # `key=<8+ chars>` (logfmt) or a random-looking value is taken for one.
    name = m["name"].strip("\"'").lower()
    value = m["v"].strip("\"'[]")
    if len(value) < MIN_SECRET or (name == "key" and not (("=" in m["sep"] and len(value) >= 8) or _tokenish(value))):
        return m[0]
    return _keep_quotes(m)


def _url_user(m: re.Match[str]) -> str:
    user = m["user"]
    return m[0] if not _tokenish(user) else m["scheme"] + MASK + "@"


_PATTERNS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # PEM private keys, also on one line with escaped newlines.
    (
        re.compile(r"(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----).*?(-----END [A-Z0-9 ]*PRIVATE KEY-----)", re.S),
        r"\1" + MASK + r"\2",
    ),
    # Authorization headers (HTTP dumps, curl -v, Go maps, JSON): the scheme stays, the rest goes.
    (
        re.compile(
            rf"(?i)(?P<n>[\"']?(?:proxy-)?authorization[\"']?)(?P<sep>\s*(?:[:=]\s*\[?|\":\s*)[\"']?)"
            rf"(?:(?P<s>{_SCHEMES})\s+)?{_NOT_MASKED}(?P<v>{_PARAMS})"
        ),
        lambda m: m["n"] + m["sep"] + (m["s"] + " " if m["s"] else "") + MASK,
    ),
    # Cookie headers: every value; Set-Cookie: the cookie's value, attributes stay.
    (
        re.compile(r"(?im)^(?P<p>[<>*]?\s*(?:[\w-]+:\s+)?)(?P<n>cookie:\s*)(?P<v>[^\r\n]+)"),
        lambda m: m["p"] + m["n"] + MASK,
    ),
    (
        re.compile(r"(?i)(?P<n>set-cookie[\"']?\s*[:=]\s*\[?[\"']?[^=\s;\"]+=)(?P<v>[^;\s\"\]]+)"),
        lambda m: m["n"] + MASK,
    ),
    # Bearer / Basic credentials anywhere.
    (re.compile(r"\b(Bearer|bearer|BEARER)\s+(?!\[REDACTED\])[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + MASK),
    (re.compile(r"\b(Basic|basic)\s+(?!\[REDACTED\])[A-Za-z0-9+/]{8,}={0,2}(?![A-Za-z0-9+/=])"), r"\1 " + MASK),
    # URLs with credentials: the password may hold '@' or '/' (the last '@' before the host ends it).
    (
        re.compile(r"(?i)\b(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^\s:/@\"']+):(?!\[REDACTED\])(?P<pw>[^\s\"']+)@"
                   r"(?P<host>[A-Za-z0-9.\[\]-]+(?::\d+)?)(?=[/\s\"'?#]|$)"),
        lambda m: m["scheme"] + m["user"] + ":" + MASK + "@" + m["host"],
    ),
    # ... or whose user part is the token (https://ghp_xxx@github.com/...).
    (re.compile(r"(?i)\b(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^\s:/@\"'\[]+)@"), _url_user),
    # JWTs and well-known token formats, wherever they stand.
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), MASK),
    (
        re.compile(
            r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,}|"
            r"xox[abprs]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,}|AIza[A-Za-z0-9_-]{35}|(?:AKIA|ASIA)[A-Z0-9]{16})\b"
        ),
        MASK,
    ),
    # Command-line arguments: `--token VALUE`, `--api-key=VALUE`, `-p VALUE`, `curl -u user:pass`.
    (
        re.compile(
            rf"(?P<n>(?<![\w-])--?(?i:(?:[a-z0-9]+-)*(?:{_WORD})))(?P<sep>=|\s+)"
            rf"{_NOT_MASKED}(?P<v>(?!-){_VALUE})"
        ),
        _keep_quotes,
    ),
    (
        re.compile(rf"(?P<n>(?<![\w-])(?:-u|--user))(?P<sep>\s+[\"']?[^\s:\"']+:){_NOT_MASKED}(?P<v>[^\s\"']+)"),
        _keep_quotes,
    ),
    # name=value, name: value, "name":"value", 'name': 'value', name:[value] (Go maps), name="a b c".
    (
        re.compile(
            rf"(?P<n>(?<![\w-])(?P<name>[\"']?{_NAME}[\"']?))(?P<sep>\s*(?:=>|[:=])\s*|\s*:\[)"
            rf"{_NOT_MASKED}(?P<v>{_VALUE})"
        ),
        _name_value,
    ),
)

# Strict mode (the runner's Secret could not be read): random-looking tokens after key-like words,
# with any separator ("key abc...", "token is abc..."), and long random tokens anywhere.
_STRICT_AFTER_NAME = re.compile(
    rf"(?P<n>(?<![\w-])(?i:(?:[a-z0-9]+[_.-])*(?:{_WORD}|apikey|appkey|credential|auth\w*)))"
    r"(?P<sep>[\"']?\s*(?:[:=]|\s)\s*(?:(?:is|was|for|of|with|=)\s+)?[\"']?)"
    r"(?P<v>[A-Za-z0-9+/=_.~-]{12,})"
)
_STRICT_ANYWHERE = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/=_-]{32,}(?![A-Za-z0-9+/=_-])")


def _entropy(text: str) -> float:
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


_TOKEN_CHARS = re.compile(r"[A-Za-z0-9+/=_~.-]+")


def _classes(text: str) -> int:
    return sum(bool(re.search(p, text)) for p in ("[a-z]", "[A-Z]", "[0-9]"))


def _tokenish(text: str, min_len: int = 16, classes: int = 2) -> bool:
    """Long and random-looking: token characters only, digits and letters mixed, high entropy. Names, paths,
    URLs and versions are not."""
    return (
        len(text) >= min_len
        and bool(_TOKEN_CHARS.fullmatch(text))
        and "//" not in text
        and not text.startswith("/")
        and any(ch.isdigit() for ch in text)
        and _classes(text) >= classes
        and _entropy(text) >= 3.3
    )


def _strict_after_name(m: re.Match[str]) -> str:
    return m["n"] + m["sep"] + MASK if _tokenish(m["v"]) else m[0]


def _strict_anywhere(m: re.Match[str]) -> str:
    tok = m[0]
    return MASK if _tokenish(tok, 32, 3) and _entropy(tok) >= 4.0 else tok


# The shapes are applied in three groups: the PEM block (may span lines); those that need no key-like
# word (URLs with credentials, JWTs, token formats); and those that do. On a whole log (the packet's),
# the last group runs only on the lines that hold one of these words.
_PEM = _PATTERNS[:1]
_WORDLESS = _PATTERNS[6:10]
_WORDED = _PATTERNS[1:6] + _PATTERNS[10:]
_HINT = re.compile(r"(?i)key|token|secret|passw|pwd|passphrase|credential|sess|cookie|sig|auth|bearer|basic|-u\b|--us")
_BIG = 64 * 1024


def _apply(patterns: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...], text: str) -> str:
    for pattern, repl in patterns:
        text = pattern.sub(repl, text)
    return text


# ------------------------------------------------------------------ control characters

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: str) -> str:
    """ANSI/OSC escape sequences, NUL, CR, bidi overrides: shown as \\xNN / \\uNNNN, never interpreted."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


# ------------------------------------------------------------------ known values, in every encoding


def _json_escaped(value: str, ascii_only: bool) -> str:
    return json.dumps(value, ensure_ascii=ascii_only)[1:-1]


def encodings(value: str) -> set[str]:
    """The forms a value takes after an encoder: raw, trimmed, per line, JSON / Go-escaped, URL-encoded,
    base64, HTML-escaped. Values shorter than MIN_SECRET are not secrets (and would mask half a report)."""
    bases = {value, value.strip()}
    if "\n" in value.strip():
        bases |= {line.strip() for line in value.splitlines() if len(line.strip()) >= 8}
    out: set[str] = set()
    for v in bases:
        if len(v) < MIN_SECRET:
            continue
        raw = v.encode("utf-8")
        go = _json_escaped(v, True).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        out |= {
            v,
            _json_escaped(v, True),
            _json_escaped(v, False),
            go,
            quote(v, safe=""),
            quote_plus(v, safe=""),
            html.escape(v),
            html.escape(v, quote=False),
            base64.b64encode(raw).decode(),
            base64.urlsafe_b64encode(raw).decode(),
            base64.b64encode(raw).decode().rstrip("="),
            base64.urlsafe_b64encode(raw).decode().rstrip("="),
        }
    return {x for x in out if len(x) >= MIN_SECRET}


class Redactor:
    def __init__(self) -> None:
        self._values: set[str] = set()
        self._forms: set[str] = set()
        self._regex: re.Pattern[str] | None = None
        # Stricter pattern redaction: set when a secret the run should know could not be read.
        self.strict = False

    def add(self, value: str | None) -> None:
        if not value or len(value.strip()) < MIN_SECRET or value.strip() in (WITHHELD, MASK):
            return  # a placeholder (a replayed packet's withheld or masked value) is not a secret
        if value in self._values:
            return
        self._values.add(value)
        self._forms |= encodings(value)
        self._regex = None

    def add_env(self, env: Iterable[str]) -> None:
        """Register the secret values of a container's `NAME=value` environment: those under a secret-looking
        name, and any value that looks like a random token whatever its name."""
        for item in env:
            name, _, value = item.partition("=")
            if SECRET_NAME.search(name) or _tokenish(value.strip(), 20, 3):
                self.add(value)

    def add_args(self, args: Iterable[str]) -> None:
        """Register the values given to secret-looking flags of a command line: `--token VALUE`, `--api-key=V`."""
        items = [str(a) for a in args]
        for i, arg in enumerate(items):
            if not arg.startswith("-"):
                continue
            name, eq, value = arg.lstrip("-").partition("=")
            if not SECRET_NAME.search(name):
                continue
            if eq:
                self.add(value)
            elif i + 1 < len(items) and not items[i + 1].startswith("-"):
                self.add(items[i + 1])

    @property
    def values(self) -> frozenset[str]:
        """Every form of every known secret value (what the leak gate searches for)."""
        return frozenset(self._forms)

    def known(self, text: str) -> str:
        """Replace known values only (no shapes): for whole generated files such as report.html."""
        if not self._forms:
            return text
        if self._regex is None:
            alternatives = sorted(self._forms, key=len, reverse=True)
            self._regex = re.compile("|".join(re.escape(v) for v in alternatives))
        return self._regex.sub(MASK, text)

    def shapes(self, text: str) -> str:
        text = _apply(_WORDLESS, _apply(_PEM, text))
        if len(text) > _BIG:
            text = "\n".join(_apply(_WORDED, line) if _HINT.search(line) else line for line in text.split("\n"))
        else:
            text = _apply(_WORDED, text)
        if self.strict:
            text = _STRICT_AFTER_NAME.sub(_strict_after_name, text)
            text = _STRICT_ANYWHERE.sub(_strict_anywhere, text)
        return text

    def __call__(self, text: str) -> str:
        return escape_controls(self.shapes(self.known(text)))


def env_names(env: Iterable[str]) -> list[str]:
    """Evidence shows which variables are set, never their values."""
    return sorted({item.partition("=")[0] for item in env})


# ------------------------------------------------------------------ the leak gate


def needles(secrets: Iterable[str]) -> set[bytes]:
    """What the gate searches for: each form as written into a JSON string, HTML, or both (pytest-html
    keeps its data as JSON inside an HTML attribute)."""
    out: set[bytes] = set()
    for s in secrets:
        if not s:
            continue
        for form in (s, _json_escaped(s, False), _json_escaped(s, True), html.escape(s)):
            out.add(form.encode("utf-8"))
            out.add(html.escape(form).encode("utf-8"))
            out.add(_json_escaped(html.escape(form), False).encode("utf-8"))
    return {n for n in out if len(n) >= MIN_SECRET}


def read_no_follow(path: Path) -> bytes:
    """A regular file's bytes, never through a symbolic link (OSError when `path` is a link)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def secret_in(data: bytes, secrets: Iterable[str]) -> str:
    """The start of the first secret form found in `data` (text not yet written), or ""."""
    found = next((n for n in sorted(needles(secrets), key=len) if n in data), None)
    return "" if found is None else found.decode("utf-8", "replace")[:3] + "…"


def find_leaks(paths: Iterable[Path], secrets: Iterable[str]) -> list[tuple[Path, str]]:
    """Search every byte of the given artifacts (and every member of an archive) for every secret form.
    Links are never followed: the gate reads only the files the run wrote."""
    wanted = sorted(needles(secrets), key=len)
    hits = []
    for path in paths:
        try:
            data = read_no_follow(path)
        except OSError:
            continue
        try:
            blobs = _archive_blobs(data) if path.name.endswith(".tar.gz") else [data]
        except (OSError, tarfile.TarError, EOFError, zlib.error):  # not a readable archive: its bytes as they are
            blobs = [data]
        found = next((n for n in wanted if any(n in blob for blob in blobs)), None)
        if found is not None:
            hits.append((path, found.decode("utf-8", "replace")[:3] + "…"))
    return hits


def _archive_blobs(data: bytes) -> list[bytes]:
    """Compressed bytes hide nothing from the gate: search each member's content (and its name)."""
    import io

    out = [data]
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            out.append(member.name.encode("utf-8", "replace"))
            f = tar.extractfile(member) if member.isfile() else None
            if f is not None:
                out.append(f.read())
    return out
