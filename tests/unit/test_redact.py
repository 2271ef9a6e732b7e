"""Redaction of every artifact, and the leak gate.

The shape table holds lines in the formats runners and their libraries really print (logrus text,
zap/logrus JSON, Go `%v`/`%+v` values, net/http dumps, curl -v, URLs, command lines, config files):
each asserts that the secret is gone and that what a reader needs of the line is still there.
"""

from __future__ import annotations

import base64
import json
import os
import tarfile
from pathlib import Path
from urllib.parse import quote

import pytest

from blinkcheck.catalog import fill, load_catalog
from blinkcheck.redact import MASK, Redactor, encodings, env_names, escape_controls, find_leaks
from tests.reliability import Sees

TOK = "Zk9sQ2x1ZHhQb2ZtN3dqV"  # a random-looking 22-char token
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJydW5uZXIifQ.c2lnbmF0dXJlLWJ5dGVz"

# (name, line, secrets that must be gone, text that must stay)
SHAPES: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = [
    # logrus text (logfmt)
    ("logrus key=", f'time="2024-05-01T10:00:00Z" level=error msg="registration refused" key={TOK}',
     (TOK,), ('level=error', 'msg="registration refused"', "key=")),
    ("logrus api_key inside msg", f'level=error msg="registration refused api_key={TOK} retrying"',
     (TOK,), ("registration refused", "retrying")),
    ("logrus token=quoted", f'level=warn msg="auth" token="{TOK}" runner=blink-runner',
     (TOK,), ('token="', "runner=blink-runner")),
    ("logrus Authorization field", f'level=debug msg="sending" Authorization="Bearer {TOK}" url=https://app.blinkops.com/api',
     (TOK,), ("Bearer", "url=https://app.blinkops.com/api")),
    ("logrus password with spaces", 'level=info msg="db" password="correct horse battery staple" host=db',
     ("correct horse battery staple", "horse battery"), ("host=db", 'password="')),
    ("logfmt env var name", f"level=info msg=env BLINK_RUNNER_GROUP_API_KEY={TOK} RUNNER_MODE=docker",
     (TOK,), ("BLINK_RUNNER_GROUP_API_KEY=", "RUNNER_MODE=docker")),
    # zap / logrus JSON
    ("zap JSON token", f'{{"level":"error","ts":1714557600.1,"msg":"login failed","token":"{TOK}"}}',
     (TOK,), ('"msg":"login failed"', '"token":"')),
    ("zap JSON Authorization Basic", '{"level":"debug","headers":{"Authorization":"Basic dXNlcjpodW50ZXIyMjIy"}}',
     ("dXNlcjpodW50ZXIyMjIy",), ('"level":"debug"', "Basic")),
    ("zap JSON apiKey camel", f'{{"level":"info","msg":"config","apiKey":"{TOK}","ctrlUrl":"https://x.io"}}',
     (TOK,), ('"ctrlUrl":"https://x.io"',)),
    ("zap JSON escaped quote in value", '{"msg":"x","password":"p\\"ss-w0rd-long"}',
     ('p\\"ss-w0rd-long', "ss-w0rd-long"), ('"msg":"x"',)),
    ("zap JSON client_secret", f'{{"msg":"oauth","client_secret":"{TOK}","client_id":"blink-runner"}}',
     (TOK,), ('"client_id":"blink-runner"',)),
    ("JSON spaced", f'{{"access_token": "{TOK}", "expires_in": 3600}}',
     (TOK,), ('"expires_in": 3600',)),
    # Go %v / %+v values
    ("Go map http.Header", f"headers=map[Authorization:[Bearer {TOK}] Content-Type:[application/json]]",
     (TOK,), ("Content-Type:[application/json]", "Bearer")),
    ("Go map of strings", f"config map[api_key:{TOK} mode:docker url:https://app.blinkops.com]",
     (TOK,), ("mode:docker", "url:https://app.blinkops.com")),
    ("Go %+v struct", f"cfg={{URL:https://app.blinkops.com APIKey:{TOK} Timeout:30s}}",
     (TOK,), ("URL:https://app.blinkops.com", "Timeout:30s")),
    ("Go map Cookie", "map[Cookie:[session=abcdef0123456789abcd] Accept:[*/*]]",
     ("abcdef0123456789abcd",), ("Accept:[*/*]",)),
    # HTTP dumps (httputil.DumpRequest), curl -v
    ("HTTP Authorization Bearer", f"Authorization: Bearer {TOK}", (TOK,), ("Authorization: Bearer",)),
    ("HTTP JWT bearer", f"Authorization: Bearer {JWT}", (JWT, "c2lnbmF0dXJlLWJ5dGVz"), ("Authorization:",)),
    ("HTTP Proxy-Authorization", "Proxy-Authorization: Basic YWxpY2U6czNjcjN0LXBhc3M=",
     ("YWxpY2U6czNjcjN0LXBhc3M",), ("Proxy-Authorization: Basic",)),
    ("HTTP Digest", 'Authorization: Digest username="alice", realm="blink", nonce="dcd98b7102dd", response="6629fae49393a05397450978507c4ef1"',
     ("6629fae49393a05397450978507c4ef1", "dcd98b7102dd"), ("Authorization: Digest",)),
    ("HTTP X-Api-Key", f"X-Api-Key: {TOK}", (TOK,), ("X-Api-Key:",)),
    ("HTTP X-Auth-Token", f"X-Auth-Token: {TOK}", (TOK,), ("X-Auth-Token:",)),
    ("HTTP Cookie header", "Cookie: session=9f8e7d6c5b4a39281706; theme=dark", ("9f8e7d6c5b4a39281706",), ("Cookie:",)),
    ("curl -v request header", f"> Authorization: Bearer {TOK}", (TOK,), ("> Authorization: Bearer",)),
    ("curl -v cookie", "> Cookie: sessid=0123456789abcdefABCD", ("0123456789abcdefABCD",), ("> Cookie:",)),
    ("curl -v Set-Cookie", "< Set-Cookie: session=Zm9vYmFyYmF6cXV4MTIz; Path=/; HttpOnly",
     ("Zm9vYmFyYmF6cXV4MTIz",), ("< Set-Cookie: session=", "Path=/; HttpOnly")),
    ("curl command -H", f"curl -sS -H 'Authorization: Bearer {TOK}' https://app.blinkops.com/api/v1/runner",
     (TOK,), ("curl -sS -H", "https://app.blinkops.com/api/v1/runner")),
    ("curl -u user:pass", "curl -u alice:s3cr3t-Passw0rd https://app.blinkops.com",
     ("s3cr3t-Passw0rd",), ("curl -u alice:", "https://app.blinkops.com")),
    # URLs
    ("URL user:password", "proxy http://user:pa55word-x@proxy.corp:3128 unreachable",
     ("pa55word-x",), ("http://user:", "@proxy.corp:3128", "unreachable")),
    ("URL password with @ and /", "dial postgres://blink:p@ss/w0rd@db.internal:5432/blink failed",
     ("p@ss/w0rd", "ss/w0rd"), ("postgres://blink:", "@db.internal:5432/blink failed")),
    ("URL token as user", f"git clone https://ghx{TOK}@github.com/org/repo.git",
     (TOK,), ("github.com/org/repo.git", "git clone https://")),
    ("URL query access_token", f"GET https://api.example.com/v1/me?access_token={TOK}&fields=id",
     (TOK,), ("https://api.example.com/v1/me?access_token=", "&fields=id")),
    ("URL SAS sig", "PUT https://acct.blob.core.windows.net/c/b?sv=2021-08-06&sig=Zm9vYmFyYmF6MTIzNDU2Nzg5MA%3D%3D&se=2030",
     ("Zm9vYmFyYmF6MTIzNDU2Nzg5MA",), ("sv=2021-08-06", "&se=2030")),
    ("URL refresh_token form", f"body: grant_type=refresh_token&refresh_token={TOK}&client_id=runner",
     (TOK,), ("grant_type=refresh_token", "client_id=runner")),
    # Command lines and arguments
    ("--token VALUE", f"exec /blink-runner --token {TOK} --url https://app.blinkops.com",
     (TOK,), ("/blink-runner --token", "--url https://app.blinkops.com")),
    ("--api-key=VALUE", f"args: [--api-key={TOK} --mode=docker]", (TOK,), ("--mode=docker",)),
    ("kubectl from-literal", f"kubectl create secret generic blink-runner-secret --from-literal=appKey={TOK}",
     (TOK,), ("kubectl create secret generic blink-runner-secret",)),
    ("docker run -e", f"docker run -e BLINK_RUNNER_GROUP_API_KEY={TOK} blinkops/blink-runner",
     (TOK,), ("docker run -e BLINK_RUNNER_GROUP_API_KEY=", "blinkops/blink-runner")),
    # Config files and env dumps
    ("YAML password", "  password: hunter2-but-longer", ("hunter2-but-longer",), ("password:",)),
    ("YAML appKey", f"appKey: {TOK}", (TOK,), ("appKey:",)),
    ("export line", f"export AWS_SECRET_ACCESS_KEY={TOK}", (TOK,), ("export AWS_SECRET_ACCESS_KEY=",)),
    ("Python dict repr", f"{{'api_key': '{TOK}', 'mode': 'docker'}}", (TOK,), ("'mode': 'docker'",)),
    ("docker config auth", '{"auths":{"registry.corp":{"auth":"YWxpY2U6cGFzc3dvcmQxMjM="}}}',
     ("YWxpY2U6cGFzc3dvcmQxMjM",), ('"registry.corp"',)),
    ("postgres DSN", "dsn: host=db user=blink password=Sup3rS3cret dbname=blink",
     ("Sup3rS3cret",), ("host=db user=blink", "dbname=blink")),
    # Well-known token formats anywhere
    ("GitHub token", "using ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 for clone",
     ("ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",), ("for clone",)),
    ("Slack token", "posting with xoxb-123456789012-abcdefABCDEF", ("xoxb-123456789012-abcdefABCDEF",), ("posting with",)),
    ("AWS access key id", "aws: AKIAIOSFODNN7EXAMPLE region=us-east-1", ("AKIAIOSFODNN7EXAMPLE",), ("region=us-east-1",)),
    ("bare JWT", f"token exchange returned {JWT}", (JWT,), ("token exchange returned",)),
    ("PEM private key on one line", "key: -----BEGIN RSA PRIVATE KEY-----\\nMIIEpAIBAAKCAQEA7x\\n-----END RSA PRIVATE KEY-----",
     ("MIIEpAIBAAKCAQEA7x",), ("-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----")),
    ("session id", "sessionId=Q2FmZUJhYmUxMjM0NTY3OA user=alice", ("Q2FmZUJhYmUxMjM0NTY3OA",), ("user=alice",)),
]


@pytest.mark.reliability(
    "secrets in 50 shapes from real log formats (logrus, zap JSON, Go `%v` maps, HTTP dumps, curl -v, URLs, command lines, config files) (canned lines)",
    Sees(facts=("each secret masked (`[REDACTED]`)", "the rest of the line readable")),
)
@pytest.mark.parametrize(("line", "secrets", "keep"), [s[1:] for s in SHAPES], ids=[s[0] for s in SHAPES])
def test_shape_is_redacted_and_line_stays_readable(line: str, secrets: tuple[str, ...], keep: tuple[str, ...], sees):
    out = Redactor()(line)
    sees.fact("each secret masked (`[REDACTED]`)", MASK in out and not any(s in out for s in secrets), out)
    sees.fact("the rest of the line readable", all(text in out for text in keep), f"{keep} in {out}")


def test_at_least_forty_shapes():
    assert len(SHAPES) >= 40


# Lines a report must keep as they are: no secret in them.
HARMLESS = [
    "level=info msg=\"Starting blink-runner version 1.0.994 (mode docker)\"",
    "Creating new container with name: blink-runner-1.0.995 and configuration from container with id: 3f2a9c1b7d4e",
    "kubectl get secret blink-runner-secret -n blink",
    "secretKeyRef: {name: blink-runner-secret, key: appKey}",
    "dial tcp 172.30.251.1:18080: i/o timeout (Client.Timeout exceeded while awaiting headers)",
    "image sha256:4f1d2c9e8b7a6d5c4f1d2c9e8b7a6d5c4f1d2c9e8b7a6d5c4f1d2c9e8b7a6d5c",
    "docker logs 3f2a9c1b7d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4",
    "ssh://deploy@runner-host.corp",
    "token_expiry=2024-05-01T10:00:00Z",
    "BLINK_RUNNER_GROUP_API_KEY=[withheld]",
    '"Cmd": "[withheld] (2 values)", "apiKey": "[withheld]"',
]


@pytest.mark.parametrize("line", HARMLESS)
def test_harmless_lines_stay(line: str):
    assert Redactor()(line) == line


@pytest.mark.parametrize("line", HARMLESS)
def test_harmless_lines_stay_in_strict_mode(line: str):
    r = Redactor()
    r.strict = True
    assert r(line) == line


def test_strict_mode_masks_random_tokens_after_key_words_only():
    key = "q7Rk2ZpX9vLm4TnB8wYc3HdF"
    line = f'level=fatal msg="registration refused for key {key}" runner=blink-runner-1.0.994'
    r = Redactor()
    assert key in r(line)  # no separator the normal patterns know: only a known value or strict mode
    r.strict = True
    out = r(line)
    assert key not in out and "registration refused for key" in out and "runner=blink-runner-1.0.994" in out
    assert r(f"registering with {key}{key}") == f"registering with {MASK}"  # a long random token anywhere


def test_env_values_of_secret_names_are_registered():
    r = Redactor()
    r.add_env(["BLINK_RUNNER_GROUP_API_KEY=abcdef123456", "RUNNER_MODE=docker", "DB_PASSWORD=hunter22x"])
    assert r("key abcdef123456 and hunter22x, mode docker") == f"key {MASK} and {MASK}, mode docker"


def test_random_env_values_are_registered_whatever_their_name():
    r = Redactor()
    r.add_env([f"BLINK_RUNNER_REG={TOK}", "BLINK_URL=https://app.blinkops.com", "RUNNER_VERSION=1.0.994"])
    assert r(f"got {TOK} from https://app.blinkops.com 1.0.994") == f"got {MASK} from https://app.blinkops.com 1.0.994"


def test_known_value_in_every_encoding_an_encoder_gives_it():
    """--from-file leaves a trailing newline; JSON loggers escape non-ASCII as \\uXXXX and newlines as \\n."""
    secret = "Schlüssel-7Hq2<&>x\n"
    r = Redactor()
    r.add(secret)
    lines = [
        "key Schlüssel-7Hq2<&>x used",  # trimmed
        '{"msg":"auth","v":"Schl\\u00fcssel-7Hq2<&>x\\n"}',  # JSON, ASCII only
        '{"msg":"auth","v":"Schl\\u00fcssel-7Hq2\\u003c\\u0026\\u003ex"}',  # Go's encoding/json
        f"url ?k={quote(secret.strip(), safe='')}",
        f"b64 {base64.b64encode(secret.strip().encode()).decode()}",
        "html Schlüssel-7Hq2&lt;&amp;&gt;x",
    ]
    for line in lines:
        out = r(line)
        assert "ssel-7Hq2" not in out and "c3NlbC03SHEy" not in out, out
        assert MASK in out


def test_multiline_secret_is_known_line_by_line():
    r = Redactor()
    r.add("-----BEGIN CERT-----\nMIIBszCCAVmgAwIBAgIUX\nQ29udGludWVkTGluZTI=\n-----END CERT-----\n")
    assert "QRtZWQ" not in r("line two: Q29udGludWVkTGluZTI=") and MASK in r("line two: Q29udGludWVkTGluZTI=")


def test_short_values_are_not_treated_as_secrets():
    r = Redactor()
    r.add("1")
    r.add("abc\n")
    assert r("exit code 1 abc") == "exit code 1 abc"
    assert not encodings("12345")


def test_control_characters_are_shown_escaped():
    line = "\x1b]52;c;ZWNobyBoaQ==\x07 red \x1b[31mERROR\x1b[0m nul\x00 cr\rhidden \u202eevil"
    out = Redactor()(line)
    assert "\x1b" not in out and "\x00" not in out and "\r" not in out and "\u202e" not in out
    assert "\\x1b[31mERROR" in out and "\\x00" in out and "\\u202e" in out
    assert escape_controls("tab\tand\nnewline") == "tab\tand\nnewline"


def test_env_names_only():
    assert env_names(["A=1", "B=secret", "A=2"]) == ["A", "B"]


def test_leak_gate_finds_planted_value(tmp_path: Path):
    (tmp_path / "ok.txt").write_text("nothing here")
    (tmp_path / "bad.json").write_text('{"x": "lab-secret-123456"}')
    hits = find_leaks(sorted(tmp_path.iterdir()), {"lab-secret-123456"})
    assert [p.name for p, _ in hits] == ["bad.json"]


def test_leak_gate_finds_encoder_changed_values(tmp_path: Path):
    """A value that reached a file through JSON (\\uXXXX, \\n) or HTML escaping is still found."""
    secret = "Schlüssel-7Hq2<&>x\n"
    r = Redactor()
    r.add(secret)
    files = {
        "results.json": json.dumps({"t": "Schl\\u00fcssel-7Hq2<&>x\\n"}),  # an escaped form, JSON-encoded again
        "report.html": "<pre>Schl&#252;ssel</pre>" + "Schlüssel-7Hq2&lt;&amp;&gt;x",
        "junit.xml": json.dumps({"t": secret}, ensure_ascii=True),
        "clean.txt": "nothing",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    hits = {p.name for p, _ in find_leaks(sorted(tmp_path.iterdir()), r.values)}
    assert hits == {"results.json", "report.html", "junit.xml"}


def test_leak_gate_searches_archive_members_and_never_follows_links(tmp_path: Path):
    member = tmp_path / "m.txt"
    member.write_text("x lab-secret-123456 x")
    with tarfile.open(tmp_path / "p.tar.gz", "w:gz") as tar:
        tar.add(member, "p/m.txt")
    member.unlink()
    outside = tmp_path / "outside.txt"
    outside.write_text("lab-secret-123456")
    os.symlink(outside, tmp_path / "link.json")
    hits = find_leaks([tmp_path / "p.tar.gz", tmp_path / "link.json"], {"lab-secret-123456"})
    assert [p.name for p, _ in hits] == ["p.tar.gz"]


@pytest.mark.parametrize(
    "value",
    ["http://172.30.251.1:18080", "https://app.blinkops.com/api/v1", "/var/run/docker.sock",
     "blink-runner-7d9f8b5c4-x2k9p", "1.0.994", "3f2a9c1b7d4e5f60718293a4b5c6d7e8", "kubernetes"],
)
def test_plain_env_values_are_not_taken_for_secrets(value: str):
    r = Redactor()
    r.add_env([f"SOME_SETTING={value}"])
    assert not r.values


def test_a_whole_log_is_redacted_like_its_lines():
    """The packet's logs (megabytes) take the line-by-line path: same result as line by line."""
    lines = [s[1] for s in SHAPES] * 60
    big = "\n".join(lines)
    assert len(big) > 64 * 1024
    r = Redactor()
    assert r(big) == "\n".join(r(line) for line in lines)


def test_k8s_remedies_survive_the_redactor():
    """The report redacts key-looking text; a remedy's own commands must not look like a secret."""
    from blinkcheck.catalog import placeholders
    from blinkcheck.redact import Redactor

    for c in load_catalog().conditions:
        if c.platform != "kubernetes":
            continue
        text = fill(c.remedy, {name: f"value-of-{name}" for name in placeholders(c.remedy)})
        assert Redactor()(text) == text, c.id

