"""No SIGPIPE races in the repo's shell scripts.

Under `set -o pipefail`, `cmd | grep -q x` fails at random: grep exits at its first match, `cmd`'s
next write gets SIGPIPE (exit 141), and the pipeline fails although the text was there (issue 9:
"etcd does not report v3.6.16" on 1 cold build in 6). Any reader that stops early does it: `grep
-q/-m/-l`, `head`, `awk '… exit'`, `sed … q`, `read`. Read the output whole instead: capture it in a
variable and test that, or use a reader that reads to the end (`sed -n 1p`, `grep … >/dev/null`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.harness import ROOT

SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "reports", "__pycache__", ".mypy_cache", ".ruff_cache"}

_GREP = re.compile(r"^[ef]?grep\b(?P<args>.*)$", re.S)
_GREP_EARLY = re.compile(
    r"(?:^|\s)(?:-[a-zA-Z]*[qlm][a-zA-Z0-9]*|--quiet|--silent|--max-count\S*|--files-with-matches)\b"
)
_SED_QUIT = re.compile(r"(?:^|[\s;{'\"/])\d*\$?[qQ]\d*\s*(?:[;}'\"]|$)")
_AWK = re.compile(r"^[gm]?awk\b")
_CASE_ARM = re.compile(r"^\s*\(?[^\s()|;]+(?:\|[^\s()|;]+)+\)")  # `all|k8s)`: alternatives, not a pipe


def shell_scripts(root: Path = ROOT) -> list[Path]:
    """Every shell script in the repository: *.sh, and files whose first line is an sh/bash shebang."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not (d.startswith(".") and d != ".ci")]
        for name in filenames:
            path = Path(dirpath) / name
            if name.endswith(".sh"):
                found.append(path)
                continue
            try:
                with path.open("rb") as f:
                    first = f.readline(200)
            except OSError:
                continue
            if re.match(rb"^#!\s*/\S*(?:/env\s+)?(?:ba|da|k)?sh\b", first):
                found.append(path)
    return sorted(found)


def _pipe_readers(text: str) -> list[tuple[int, str]]:
    """(offset, reader) for every unquoted single `|` in `text`: the command that reads the pipe."""
    out: list[tuple[int, str]] = []
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch == "\\":
            i += 2
            continue
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t\n;"):
            i = text.find("\n", i)  # a comment, to the end of its line
            if i < 0:
                break
            continue
        elif ch == "|":
            if text[i + 1 : i + 2] == "|" or (i and text[i - 1] == "|"):
                i += 2 if text[i + 1 : i + 2] == "|" else 1
                continue
            out.append((i, _command_at(text, i + 1)))
        i += 1
    return out


def _command_at(text: str, start: int) -> str:
    """The simple command starting at `start`, up to the next unquoted separator."""
    while start < len(text) and text[start] in " \t\n":  # a pipe may end its line
        start += 1
    quote = ""
    i = start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "\\" and text[i + 1 : i + 2] == "\n":
            i += 2
            continue
        elif ch in "|;&)\n":
            break
        i += 1
    return text[start:i].replace("\\\n", " ").strip()


def early_exit_reason(reader: str) -> str | None:
    """Why this pipe reader may stop before its writer is done, or None when it reads to the end."""
    words = reader.split()
    if not words:
        return None
    m = _GREP.match(reader)
    if m and _GREP_EARLY.search(m["args"]):
        return "grep -q/-m/-l stops at its first match"
    if words[0] == "head":
        return "head stops after its lines"
    if _AWK.match(reader) and re.search(r"\bexit\b", reader):
        return "awk exits early"
    if words[0] == "sed" and _SED_QUIT.search(reader[3:]):
        return "sed quits early (q)"
    if words[0] == "read":
        return "read takes one line"
    return None


def sigpipe_races(text: str, name: str = "<script>") -> list[str]:
    """file:line messages for every early-exiting pipe reader in a script that sets pipefail."""
    if not re.search(r"^\s*set\s+(?:-\w+\s+)*-?\w*o\s+pipefail\b|^\s*set\s+-o\s+pipefail\b", text, re.M):
        return []
    found = []
    for offset, reader in _pipe_readers(text):
        line_no = text.count("\n", 0, offset) + 1
        line = text.splitlines()[line_no - 1]
        arm = _CASE_ARM.match(line)
        why = early_exit_reason(reader)
        if why and not (arm and offset - (text.rfind("\n", 0, offset) + 1) < arm.end()):
            line = line.strip()
            found.append(
                f"{name}:{line_no}: `{line}`: {why}; under pipefail the writer then dies of SIGPIPE (exit 141) "
                "at random. Read the output whole: capture it in a variable and test that, or use a reader that "
                "reads to the end (`sed -n 1p`, `grep … >/dev/null`)."
            )
    return found


def test_repo_shell_scripts_have_no_sigpipe_race():
    scripts = shell_scripts()
    names = {str(p.relative_to(ROOT)) for p in scripts}
    assert {"scripts/setup.sh", "lab/k8s/build.sh", "lab/images/build.sh", ".ci/run"} <= names, names
    problems = [msg for p in scripts for msg in sigpipe_races(p.read_text(errors="replace"), str(p.relative_to(ROOT)))]
    assert not problems, "\n".join(problems)


STRICT = "#!/usr/bin/env bash\nset -euo pipefail\n"


def test_finds_the_races_of_issue_9():
    script = STRICT + (
        '"$out/etcd" --version | grep -q "${ETCD_VERSION#v}" || die "etcd does not report $ETCD_VERSION"\n'
        "x=$(busybox --help | head -1)\n"
        "commit=$(go mod download -json k | sed -n 's/x/y/p' | head -n 1)\n"
        "ldd /bin/sh | awk '/=>/ {print $3; exit}'\n"
        "v=$(cmd | sed -n '/version/{p;q}')\n"
        "cmd | grep -m1 foo\n"
        "cmd |\n  grep --quiet foo\n"
        "cmd | read -r first\n"
    )
    found = sigpipe_races(script, "build.sh")
    assert [m.split(":")[1] for m in found] == ["3", "4", "5", "6", "7", "8", "9", "11"], found
    assert found[0].startswith('build.sh:3: `"$out/etcd" --version | grep -q')
    assert "SIGPIPE" in found[0]


def test_safe_pipelines_pass():
    script = STRICT + (
        "a=$(cmd | sed -n 's/a/b/p' | sed -n 1p)\n"
        "cmd | grep foo >/dev/null || die x\n"
        "cmd || other | true\n"
        "ldd /bin/sh | awk '/=>/ {print $3}' | while read -r lib; do echo \"$lib\"; done\n"
        "echo 'a | head -1 and | grep -q inside quotes'\n"
        "# a comment: cmd | head -1\n"
        "case $x in\n  all|head) build ;;\nesac\n"
        "tar -c . | docker import - tag >/dev/null\n"
        "grep -q foo file && cmd | sha256sum | cut -c1-16\n"
    )
    assert sigpipe_races(script) == []


def test_without_pipefail_the_writer_status_is_ignored():
    assert sigpipe_races("#!/bin/sh\nset -eu\ncmd | head -1\n") == []
    assert sigpipe_races("#!/bin/bash\nset -o pipefail\ncmd | head -1\n") != []
