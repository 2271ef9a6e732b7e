"""The redactor and the leak gate, exactly: the text a report shows after redaction (what is masked, which quotes
and brackets stay, which values are too short or too plain to be secrets), strict mode's limits, the encoded forms
of a known value, the secrets read from a container's environment and command line, and what the gate finds."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest

from blinkcheck.redact import MASK, Redactor, encodings, env_names, find_leaks, read_no_follow

TOK = "q7Rk2ZpX9vLm4TnB"  # 16 characters, random-looking

# (id, line, the line as a report shows it)
EXACT: list[tuple[str, str, str]] = [
    ("double quotes stay", 'token="q7Rk2ZpX9vLm"', f'token="{MASK}"'),
    ("single quotes stay", "token='q7Rk2ZpX9vLm'", f"token='{MASK}'"),
    ("brackets stay", "password=[hunter2 horse]", f"password=[{MASK}]"),
    ("a bare value: no quotes added", "password=s3cr3t-pass", f"password={MASK}"),
    ("an empty quoted argument keeps its quotes", '--token ""', f'--token "{MASK}"'),
    ("an empty single-quoted argument", "--password ''", f"--password '{MASK}'"),
    ("Go map", f"map[api_key:{TOK} mode:docker]", f"map[api_key:{MASK} mode:docker]"),
    ("Go slice", "api_key:[q7Rk2ZpX9vLm]", f"api_key:[{MASK}]"),
    # too short to be a secret (MIN_SECRET = 6), quotes not counted
    ("five characters stay", "password=abc12", "password=abc12"),
    ("five quoted characters stay", 'password="abc12"', 'password="abc12"'),
    ("six characters are masked", "password=abc123", f"password={MASK}"),
    # a bare `key` names many things: only logfmt `key=` with 8+ characters, or a random-looking value
    ("logfmt key= with 8 characters", "key=abcdefgh", f"key={MASK}"),
    ("logfmt key= with 7 characters", "key=abcdefg", "key=abcdefg"),
    ("quoted key='...'", "'key'='abcdefgh'", f"'key'='{MASK}'"),
    ("key: a plain word", "key: abcdefgh12", "key: abcdefgh12"),
    ("JSON key: a plain name", '{"key": "blink-runner-secret"}', '{"key": "blink-runner-secret"}'),
    ("key: a random-looking value", f"key: {TOK}", f"key: {MASK}"),
    # PEM blocks: the body goes, the armour stays; a public key is no secret
    ("private key under a key name", "tls_key: -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg\n-----END EC PRIVATE KEY-----",
     f"tls_key: -----BEGIN EC PRIVATE KEY-----{MASK}-----END EC PRIVATE KEY-----"),
    ("public key", "public_key: -----BEGIN PUBLIC KEY----- MIIBIjANBg", "public_key: -----BEGIN PUBLIC KEY----- MIIBIjANBg"),
    # withheld at the source: left as it is
    ("withheld", 'token: "[withheld]"', 'token: "[withheld]"'),
    ("withheld, counted", "apiKey='[withheld] (2 values)'", "apiKey='[withheld] (2 values)'"),
    # URLs: a token as the user part goes whole; a plain user name stays
    ("URL token user, 16 characters", f"git clone https://{TOK}@github.com/org/repo.git",
     f"git clone https://{MASK}@github.com/org/repo.git"),
    ("URL user of 15 characters is a name", "https://q7Rk2ZpX9vLm4Tn@github.com/x", "https://q7Rk2ZpX9vLm4Tn@github.com/x"),
    ("URL plain user", "https://deploy-bot@github.com/x", "https://deploy-bot@github.com/x"),
    ("URL password", "proxy http://user:pa55word-x@proxy.corp:3128 down", f"proxy http://user:{MASK}@proxy.corp:3128 down"),
    # headers
    ("Authorization: the scheme stays", f"Authorization: Bearer {TOK}", f"Authorization: Bearer {MASK}"),
    ("Authorization without a scheme", f"Authorization: {TOK}", f"Authorization: {MASK}"),
    ("Cookie: every value", "Cookie: a=1; b=2", f"Cookie: {MASK}"),
    ("Set-Cookie: the value, not its attributes", "Set-Cookie: sid=abc123; Path=/", f"Set-Cookie: sid={MASK}; Path=/"),
    ("curl -u", "curl -u alice:hunter22 https://x", f"curl -u alice:{MASK} https://x"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "shown"), [e[1:] for e in EXACT], ids=[e[0] for e in EXACT])
def test_the_line_a_report_shows(line: str, shown: str):
    assert Redactor()(line) == shown


# ------------------------------------------------------------------ strict mode (the runner's Secret could not be read)


def strict(text: str) -> str:
    r = Redactor()
    r.strict = True
    return r(text)


STRICT: list[tuple[str, str, str]] = [
    ("a random token after a key word", f"registration refused for key {TOK}", f"registration refused for key {MASK}"),
    ("lower case and digits are enough after a key word", "token is q7rk2zpx9vlm4tnb", f"token is {MASK}"),
    ("15 characters are not a token", "token is q7Rk2ZpX9vLm4Tn", "token is q7Rk2ZpX9vLm4Tn"),
    ("a repetitive value is not random", "token is aaaaaaaaaaaaaaaa1111", "token is aaaaaaaaaaaaaaaa1111"),
    ("a key's file path is not the key", "key /etc/blink/keys/q7Rk2ZpX9vLm4.pem", "key /etc/blink/keys/q7Rk2ZpX9vLm4.pem"),
    # anywhere: 32+ characters, all three classes, entropy 4 bits per character or more
    ("32 characters at entropy 4.0", "sent aB3dE6gH9jK2mN5paB3dE6gH9jK2mN5p upstream", f"sent {MASK} upstream"),
    ("31 characters", "sent aB3dE6gH9jK2mN5paB3dE6gH9jK2mN5 upstream", "sent aB3dE6gH9jK2mN5paB3dE6gH9jK2mN5 upstream"),
    ("an id of lower case and digits", "request req9x3k2m8q1w7e4r6t0y5u2i9o3p8a1s6d4 done",
     "request req9x3k2m8q1w7e4r6t0y5u2i9o3p8a1s6d4 done"),
    ("a long name without digits", "kind KubernetesControllerManagerConfiguration", "kind KubernetesControllerManagerConfiguration"),
    ("three classes but below entropy 4", "id Ab1Cd2Ef3Gh4Ab1Cd2Ef3Gh4Ab1Cd2Ef3Gh4", "id Ab1Cd2Ef3Gh4Ab1Cd2Ef3Gh4Ab1Cd2Ef3Gh4"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "shown"), [s[1:] for s in STRICT], ids=[s[0] for s in STRICT])
def test_strict_mode_masks_random_tokens_only(line: str, shown: str):
    assert strict(line) == shown


def test_strict_mode_is_off_until_a_secret_could_not_be_read():
    assert Redactor().strict is False
    assert Redactor()(f"registration refused for key {TOK}") == f"registration refused for key {TOK}"


# ------------------------------------------------------------------ known values in every form an encoder gives them


def test_every_form_of_a_known_value():
    assert encodings("p/ss wörd<&>\"x'") == {
        "p/ss wörd<&>\"x'",  # as it is
        "p/ss w\\u00f6rd<&>\\\"x'",  # JSON, ASCII only
        "p/ss wörd<&>\\\"x'",  # JSON keeping non-ASCII
        "p/ss w\\u00f6rd\\u003c\\u0026\\u003e\\\"x'",  # Go's encoding/json
        "p%2Fss%20w%C3%B6rd%3C%26%3E%22x%27",  # URL-encoded, '/' too
        "p%2Fss+w%C3%B6rd%3C%26%3E%22x%27",  # form-encoded
        "p/ss wörd&lt;&amp;&gt;&quot;x&#x27;",  # HTML attribute
        "p/ss wörd&lt;&amp;&gt;\"x'",  # HTML text
        "cC9zcyB3w7ZyZDwmPiJ4Jw==",  # base64
        "cC9zcyB3w7ZyZDwmPiJ4Jw",  # base64 without padding
    }
    assert {"WsO8cmljaD4+Pj8=", "WsO8cmljaD4-Pj8=", "WsO8cmljaD4+Pj8", "WsO8cmljaD4-Pj8"} <= encodings("Zürich>>>?")


def test_known_values_are_masked_whole_in_each_form():
    r = Redactor()
    r.add('Grüße"Passw0rd')
    assert r('{"pw":"Grüße\\"Passw0rd"}') == f'{{"pw":"{MASK}"}}'  # zap JSON keeping non-ASCII
    r.add("p<ss\"w0rd-x")
    assert r("<pre>p&lt;ss\"w0rd-x</pre>") == f"<pre>{MASK}</pre>"  # HTML text: quotes stay
    r.add("hunter22-pass")
    assert r("basic aHVudGVyMjItcGFzcw== and aHVudGVyMjItcGFzcw.") == f"basic {MASK} and {MASK}."
    r.add("abc123")  # six characters: the shortest secret
    assert r("got abc123") == f"got {MASK}"


def test_a_longer_secret_is_masked_whole_not_by_a_shorter_one_inside_it():
    r = Redactor()
    r.add("runner-key")
    r.add("runner-key-2024-b")
    assert r("using runner-key-2024-b and runner-key") == f"using {MASK} and {MASK}"


def test_a_multiline_secret_is_known_whole_and_by_its_longer_lines():
    r = Redactor()
    r.add("short1\nexactly8\nline-three-xyz\n")
    assert r('{"v":"short1\\nexactly8\\nline-three-xyz\\n"}') == f'{{"v":"{MASK}"}}'
    assert r("exactly8 alone, line-three-xyz alone") == f"{MASK} alone, {MASK} alone"
    assert r("short1 alone") == "short1 alone"  # a line under 8 characters is not a secret by itself


def test_values_that_cannot_be_secrets_are_not_registered():
    r = Redactor()
    r.add(None)
    r.add("")
    r.add("  abc12  ")
    assert r.values == frozenset() and r("abc12") == "abc12"


# ------------------------------------------------------------------ a container's environment and command line


def test_env_values_are_split_at_the_first_equals_sign():
    r = Redactor()
    r.add_env(["DB_PASSWORD=abc=def123", "MODE=a=b"])
    assert r("pw abc=def123 mode a=b") == f"pw {MASK} mode a=b"
    assert env_names(["DB_PASSWORD=abc=def123", "MODE=a=b", "MODE=c"]) == ["DB_PASSWORD", "MODE"]


@pytest.mark.parametrize(
    ("value", "registered"),
    [("q7Rk2ZpX9vLm4TnB8wYc", True), ("q7Rk2ZpX9vLm4TnB8wY", False), ("q7rk2zpx9vlm4tnb8wyc", False)],
    ids=["20 characters, three classes", "19 characters", "two classes"],
)
def test_a_random_value_under_any_name_is_a_secret_from_20_characters_of_three_classes(value: str, registered: bool):
    r = Redactor()
    r.add_env([f"RUNNER_REGISTRATION={value}"])
    assert bool(r.values) is registered


# (id, the command line, the values registered)
ARGS: list[tuple[str, list[Any], set[str]]] = [  # a JSON command line may hold numbers
    ("--token VALUE", ["blink-runner", "--token", "abcdef123456", "--url", "https://app.blinkops.com"], {"abcdef123456"}),
    ("--api-key=VALUE", ["blink-runner", "--api-key=abcdef123456", "--mode=docker"], {"abcdef123456"}),
    ("split at the first =", ["run", "--password=a=b=cdef12"], {"a=b=cdef12"}),
    ("a flag with no value after it", ["blink-runner", "--token"], set()),
    ("the next word is another flag", ["blink-runner", "--token", "--verbose-mode"], set()),
    ("a plain word is no flag", ["token", "abcdef123456", "secret=abcdef123456"], set()),
    ("a flag that names no secret", ["blink-runner", "--url", "https://app.blinkops.com/x", "--mode=docker-host"], set()),
    ("several", ["run", "-p", "1", "--client-secret", "s3cret-value", "--auth=b64value=="], {"s3cret-value", "b64value=="}),
    ("not strings", ["run", 8080, "--session", 12345678], {"12345678"}),
]  # fmt: skip


@pytest.mark.parametrize(("args", "secrets"), [a[1:] for a in ARGS], ids=[a[0] for a in ARGS])
def test_command_line_secrets_are_registered(args: list, secrets: set[str]):
    r = Redactor()
    r.add_args(args)
    expected: set[str] = set()
    for s in secrets:
        expected |= encodings(s)
    assert r.values == frozenset(expected)


# ------------------------------------------------------------------ the leak gate


# Each way a value can be written into an artifact (a JSON string, HTML, or both: pytest-html keeps its data as JSON
# inside an HTML attribute), for a secret with non-ASCII, a quote and a newline.
SECRET = 'Grüße"Pw0rd\n'
WRITTEN = {
    "raw": 'Grüße"Pw0rd\n',
    "JSON": 'Grüße\\"Pw0rd\\n',
    "JSON, ASCII only": 'Gr\\u00fc\\u00dfe\\"Pw0rd\\n',
    "HTML": "Grüße&quot;Pw0rd\n",
    "HTML of JSON": "Grüße\\&quot;Pw0rd\\n",
    "HTML of ASCII JSON": "Gr\\u00fc\\u00dfe\\&quot;Pw0rd\\n",
    "JSON of HTML": "Grüße&quot;Pw0rd\\n",
}


@pytest.mark.parametrize("form", WRITTEN)
def test_the_gate_finds_the_secret_however_it_was_written(tmp_path: Path, form: str):
    (tmp_path / "report.html").write_text(f"<td>{WRITTEN[form]}</td>", encoding="utf-8")
    (tmp_path / "clean.txt").write_text("Grüße Pw0rd", encoding="utf-8")
    hits = find_leaks(sorted(tmp_path.iterdir()), [SECRET])
    assert [p.name for p, _ in hits] == ["report.html"]


def test_the_gate_names_the_file_and_only_the_start_of_the_secret(tmp_path: Path):
    bad = tmp_path / "results.json"
    bad.write_text('{"x": "lab-secret-123456"}')
    assert find_leaks([bad], ["", "lab-secret-123456"]) == [(bad, "lab…")]  # an empty secret is no secret
    six = tmp_path / "six.txt"
    six.write_text("key abc123 end")
    assert find_leaks([six], ["abc123"]) == [(six, "abc…")]


def test_the_gate_goes_on_past_files_it_may_not_read(tmp_path: Path):
    outside = tmp_path / "outside.txt"
    outside.write_text("lab-secret-123456")
    (tmp_path / "link.json").symlink_to(outside)
    bad = tmp_path / "junit.xml"
    bad.write_text("<x>lab-secret-123456</x>")
    hits = find_leaks([tmp_path / "link.json", tmp_path / "missing.txt", bad], ["lab-secret-123456"])
    assert [p.name for p, _ in hits] == ["junit.xml"]


def test_the_gate_reads_big_files_whole(tmp_path: Path):
    """A secret across the 1 MiB read boundary is found; the bytes read are the file's."""
    big = tmp_path / "report.html"
    data = b"x" * ((1 << 20) - 5) + b"lab-secret-123456" + b"y" * (2 << 20)
    big.write_bytes(data)
    assert read_no_follow(big) == data
    assert [p.name for p, _ in find_leaks([big], ["lab-secret-123456"])] == ["report.html"]
    with pytest.raises(OSError, match="is not a regular file"):
        read_no_follow(tmp_path)


def _tar_gz(members: list[tarfile.TarInfo], contents: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for m in members:
            data = contents.get(m.name)
            if data is not None:
                m.size = len(data)
            tar.addfile(m, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def test_the_gate_searches_packet_members_whatever_their_names_and_links(tmp_path: Path):
    """A member name that is not UTF-8 and a link to outside the archive neither stop nor fool the gate."""
    link = tarfile.TarInfo("packet/ca.pem")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/ssl/certs/ca-certificates.crt"
    odd = tarfile.TarInfo("packet/logs-\udcff.txt")  # tarfile keeps undecodable bytes as surrogates
    folder = tarfile.TarInfo("packet/objects")
    folder.type = tarfile.DIRTYPE
    data = _tar_gz([link, folder, odd], {"packet/logs-\udcff.txt": b"runner said lab-secret-123456"})
    packet = tmp_path / "blink-escalation.tar.gz"
    packet.write_bytes(data)
    assert [p.name for p, _ in find_leaks([packet], ["lab-secret-123456"])] == ["blink-escalation.tar.gz"]
    named = tmp_path / "named.tar.gz"
    named.write_bytes(_tar_gz([tarfile.TarInfo("lab-secret-123456.txt")], {"lab-secret-123456.txt": b"x"}))
    assert [p.name for p, _ in find_leaks([named], ["lab-secret-123456"])] == ["named.tar.gz"]


@pytest.mark.parametrize(
    "content",
    [b"not an archive: lab-secret-123456", b"\x1f\x8b\x08\x00broken gzip lab-secret-123456"],
    ids=["not gzip", "broken gzip"],
)
def test_a_packet_that_is_not_a_readable_archive_is_searched_byte_for_byte(tmp_path: Path, content: bytes):
    packet = tmp_path / "blink-escalation.tar.gz"
    packet.write_bytes(content)
    assert [p.name for p, _ in find_leaks([packet], ["lab-secret-123456"])] == ["blink-escalation.tar.gz"]
