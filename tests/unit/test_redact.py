"""Redaction of every artifact, and the leak gate."""

from __future__ import annotations

from pathlib import Path

from blinkcheck.redact import MASK, Redactor, env_names, find_leaks


def test_env_values_of_secret_names_are_registered():
    r = Redactor()
    r.add_env(["BLINK_RUNNER_GROUP_API_KEY=abcdef123456", "RUNNER_MODE=docker", "DB_PASSWORD=hunter22x"])
    assert r("key abcdef123456 and hunter22x, mode docker") == f"key {MASK} and {MASK}, mode docker"


def test_known_shapes_are_redacted_without_registration():
    r = Redactor()
    text = r(
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc\n"
        "proxy http://user:pa55word@proxy:3128\n"
        "token=abcd1234efgh api_key: 'zzzz9999'"
    )
    for secret in ("eyJhbGciOiJIUzI1NiJ9", "pa55word", "abcd1234efgh", "zzzz9999"):
        assert secret not in text
    assert "user:" in text  # who, not the password


def test_short_values_are_not_treated_as_secrets():
    r = Redactor()
    r.add("1")
    assert r("exit code 1") == "exit code 1"


def test_env_names_only():
    assert env_names(["A=1", "B=secret", "A=2"]) == ["A", "B"]


def test_leak_gate_finds_planted_value(tmp_path: Path):
    (tmp_path / "ok.txt").write_text("nothing here")
    (tmp_path / "bad.json").write_text('{"x": "lab-secret-123456"}')
    hits = find_leaks(tmp_path.iterdir(), {"lab-secret-123456"})
    assert [p.name for p, _ in hits] == ["bad.json"]
