"""Mutation testing of the judging code (mutmut, configured in pyproject.toml [tool.mutmut]): see docs/mutation.md.

    .venv/bin/python -m tests.mutation run             # every mutant of the listed modules (about 30 min, 2 cores)
    .venv/bin/python -m tests.mutation run MODULE ...  # the mutants of some modules (e.g. docker/upgrade)
    .venv/bin/python -m tests.mutation report          # the score per module from the last run, and new survivors
    .venv/bin/python -m tests.mutation report --write  # ... and write it to docs/mutation.json
    .venv/bin/python -m tests.mutation ci              # the CI-sized run: CI_MODULES, fails on a survivor not listed

A mutant is a small change to the code (a `<` made `<=`, a string changed, an argument dropped); the unit tests
(tests/unit, nothing else) run against each one, and a mutant they do not notice "survives". The score is the
share of mutants killed. Every survivor that is accepted is listed in docs/mutation.json with the reason it is
equivalent (no test could tell) or not worth killing; a survivor that is not listed is new, and `ci` fails on it.
Survivors are matched by module, function and the changed line, not by mutmut's number (which shifts when a
function changes).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "mutation.json"
MUTANTS = ROOT / "mutants"
# Paths under blinkcheck/ without .py: the judges of both platforms (facts, parsing, one module per runbook section),
# the blocking rules and the verdict, the log scan and its judge, the probe's judging, the redactor, the catalog.
JUDGES = ("facts", "preconditions", "disconnected", "upgrade", "deployment")
MODULES = (
    *(f"docker/{m}" for m in JUDGES),
    *(f"kubernetes/{m}" for m in (*JUDGES, "parse", "pods")),
    "blocking", "report/verdict", "logs/scan", "logs/judge",
    "probe/result", "probe/judge", "probe/tools", "probe/environment", "probe/clock", "redact", "catalog",
    "blinkview", "docker/beyond", "kubernetes/beyond",
)  # fmt: skip
# The CI-sized run: the Docker judges, the verdict and the blocking rules (about 600 mutants, 2-3 minutes
# on 2 cores); the full run is `run` (about 30 minutes).
CI_MODULES = (*(f"docker/{m}" for m in JUDGES), "blocking", "report/verdict")
KILLED = {1, 3}  # a test failed (3: pytest's internal error counts as a kill)
TYPE_CHECK = 37  # mypy rejects the mutant (CI runs mypy: it cannot land)
TIMEOUT = {36, -24, 24, 152, 255}  # the tests did not finish: an endless loop counts as found (mutmut does too)


def mutmut(*args: str) -> int:
    import os

    bin_dir = Path(sys.executable).parent  # the virtualenv's: mutmut, and the mypy it runs
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([str(bin_dir / "mutmut"), *args], cwd=ROOT, env=env, check=False).returncode


def run(modules: list[str], fresh: bool, jobs: int | None = None) -> float:
    if fresh and MUTANTS.exists():
        shutil.rmtree(MUTANTS)
    names = [f"blinkcheck.{m.replace('/', '.')}.*" for m in modules] if modules else []
    t0 = time.monotonic()
    code = mutmut("run", *(["--max-children", str(jobs)] if jobs else []), *names)
    if code != 0:
        raise SystemExit(f"mutmut run failed (exit {code}): see its output above")
    return time.monotonic() - t0


def _status(code: int | None) -> str:
    if code in KILLED or code in TIMEOUT:
        return "killed"
    if code == TYPE_CHECK:
        return "mypy"
    if code == 0:
        return "survived"
    if code in (5, 33):
        return "no tests"
    return "not run" if code is None else f"exit {code}"


def results(dirs: tuple[Path, ...] = (MUTANTS / "blinkcheck",)) -> dict[str, dict[str, Any]]:
    """mutant name -> module and status, from mutmut's result files (the first directory that ran it wins)."""
    out: dict[str, dict[str, Any]] = {}
    for module in MODULES:
        for d in dirs:
            meta = d / f"{module}.py.meta"
            if not meta.exists():
                continue
            codes = json.loads(meta.read_text())["exit_code_by_key"]
            for name, code in codes.items():
                if name not in out or out[name]["status"] == "not run":
                    out[name] = {"module": module, "status": _status(code)}
    return out


def baseline(dirs: list[str]) -> int:
    """Write the score before this work (mutmut's result files of a run on the base commit) to docs/mutation.json."""
    res = results(tuple(Path(d) for d in dirs))
    doc = load_doc()
    for m, s in scores(res).items():
        doc.setdefault("modules", {}).setdefault(m, {})["before"] = s
    write_doc(doc)
    for m, s in scores(res).items():
        print(f"{m:16} {s['mutants']:6} {s['killed']:6} {pct(s):>7}  (not run: {s['mutants'] - s['killed'] - s['survived'] - s['no_tests']})")
    return 0


def change_of(name: str, module: str) -> tuple[str, str]:
    """(function, the changed lines) of a mutant: what identifies it across runs."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    cwd = Path.cwd()
    try:
        import os

        os.chdir(ROOT)
        diff = get_diff_for_mutant(name, path=f"blinkcheck/{module}.py")
    finally:
        os.chdir(cwd)
    lines = [ln for ln in diff.splitlines() if ln[:1] in "-+" and not ln.startswith(("---", "+++"))]
    function = name.rsplit(".", 1)[-1].split("__mutmut_")[0]
    function = function[2:] if function.startswith("x_") else function
    function = function.replace("ǁ", ".")
    return function, "\n".join(ln[:1] + " " + ln[1:].strip() for ln in lines)


# Survivors that are equivalent by construction, recognised by module, function and the changed line (regular
# expressions), with the reason. A survivor none of these matches needs its own reason in docs/mutation.json.
_SPLIT_FIRST = "equivalent: only the first field is used, and every way of splitting off the first separator gives " \
    "the same first field for these values (one separator between kind and name)"  # fmt: skip
EQUIVALENT: tuple[tuple[str, str, str, str], ...] = (
    ("blocking|report/verdict", "covers|_kind|namespace_of", r"\+ .*\.r?split\((None|\"[ /]\"), ?[12]?\)\[0\]", _SPLIT_FIRST),
    ("report/verdict", "per_object_html", r'\+ .*\.r?split\(" container ", ?[12]?\)\[0\]',
     "equivalent: an object names at most one container (\"pod ns/name container c\")"),
    ("blocking", "namespace_of", r'\+ ns = f\.values\.get\("namespace", (None)?\)',
     "equivalent: a missing namespace gives a false value either way, and only its truth is used next"),
    ("blocking", "namespace_of", r"\+ kind, _, rest = f\.object\.rpartition",
     "equivalent for objects with one space; a pod's container object is covered by test_namespace_of_a_container"),
    ("docker/facts", "is_runner", r"\+ repo = (image|repo)\.",
     "equivalent: the result is compared with blinkops/blink-runner and docker.io/blinkops/blink-runner, which hold "
     "no ':' or '@'; a reference with a registry port, a second '@' or no tag matches neither way"),
    ("report/verdict", "_kind", r'\+ return .* if \(r\.object\) or True else ""',
     "equivalent: an empty object splits to the empty kind as well"),
    ("report/verdict", "_kind", r'else "XXXX"',
     "equivalent: an objectless result's kind is only compared with the lead's; objectless results are all one "
     "group either way, and a single group shows no per-object list"),
    ("report/verdict", "some_of", r"\+ return .*_noun\(_kind\(lead\), None\)",
     "equivalent: some_of gets here only with two or more objects, and any count but 1 gives the plural"),
    ("report/verdict", "verdict_html", r"\+ results = by_section\.get\(section, (None)?\)",
     "equivalent: a section without results is skipped by `if not results`, whether the default is [] or None"),
    ("kubernetes/parse", ".*", r"""^\+ .*\.get\((["'])(name|namespace|type|status|kind|key)\1, ?(None|(["'])XXXX\4)?\)""",
     "equivalent: the default of a field the API server requires or always sets (a namespaced object's name and namespace, a "
     "container's and an env variable's name, a condition's type and status, a scale target's kind and name, an "
     "event's involved object, a key or envFrom reference's name and key): every object it returns has the field, "
     "so the default is never used"),
    ("kubernetes/parse", "deployment_facts", r'^\+ images=tuple\(str\(c\.get\("image", ?(None|"XXXX")?\)\)',
     "equivalent: the template's images are read only for the operator's version tag (OperatorFacts.version), and "
     "a container without an image gives no tag whether its text is '', 'None' or 'XXXX' (no ':' in any)"),
    # probe/tools
    ("probe/tools", ".*", r"\+ .*Step\((name|\"\w+\"), None, ",
     "equivalent: a step's `ok` is only tested for truth (ProbeResult.failed_step, Step.layer, the evidence lines), "
     "where None reads as False"),
    ("probe/tools", "_from_wget", r"\+ .*_steps_before\(name, (None, proxied|https, None)\), Step\(name, False, text, ",
     "equivalent: the step here is TCP connect or the proxy, and the only steps before them are DNS and TCP connect: "
     "neither https (TLS comes later) nor the proxy flag (it adds the proxy step, the one failing) changes them"),
    ("probe/tools", "_is_proxy", r'\.rstrip\("XX\.XX"\)',
     "equivalent: the name was lowered first, so it holds no capital X to strip besides the dot"),
    ("probe/tools", "_is_proxy", r'\+ .*\.split\(None\)\[0\]\.strip\(\)',
     "equivalent: wget writes a blank before '(' (`host:port (ip:port)`, `host (host)|ip|`), so splitting at blanks "
     "leaves the same first word as splitting at '('"),
    ("probe/tools", "_steps_from_nc|tool_commands", r'\+ .*hostname or "XXXX"',
     "unreachable: --blink-url is refused without a host name (options._url), so the URL always has one"),
    ("probe/tools", "issuer_command", r"\+ skip = None",
     "equivalent: `skip` is only tested for truth, where None reads as False"),
    ("probe/tools", "with_issuer", r'\+ .*\.r?split\("SSL certificate problem: ", ?[12]?\)\[-1\]',
     "equivalent: curl's line holds 'SSL certificate problem: ' once, so every way of splitting at it leaves the same "
     "last part"),
    ("probe/tools", "steps_from_curl", r'\+ .*or "(XXFailed to connectXX|failed to connect|FAILED TO CONNECT)" in stderr',
     "not worth killing: curl ends a failed connect with its error line 'curl: (28) Failed to connect to ...', which "
     "the next test (`'connect' in msg`) takes; only a curl stopped right after a verbose 'Failed to connect' and "
     "before its error line would tell, and the probes give curl more time than its own --max-time"),
    # probe/environment
    ("probe/environment", "parse_resolv_conf|hosts_lookup",
     r"\+ .*\.(r?split\(\"[#;%]\", ?[12]?\)\[0\]|split\(\"[#;]\", 1\)\[0\]\.r?split\(\"[#;]\", ?[12]?\)\[0\])",
     "equivalent: only the part before the first '#', ';' or '%' is used, and every way of splitting keeps it"),
    ("probe/environment", "parse_resolv_conf", r'\+ key, _, val = opt\.rpartition\(":"\)',
     "equivalent: a resolver option holds one ':' (ndots:5, timeout:2, attempts:3)"),
    ("probe/environment", "bypasses", r'\+ name, _, eport = entry\.(partition\(":"\) if|rpartition\(":"\) if .*"XXXX")',
     "equivalent: the entry holds exactly one ':' here, and the separator itself is not used"),
    ("probe/environment", "bypasses", r'\.lstrip\("XX[*.]XX"\)',
     "equivalent: the entry was lowered first, so it holds no capital X to strip"),
    # beyond the runbook
    ("docker/beyond", "nameservers", r'\+ words = line\.(r?split\("#", ?[12]?\)|split\("XX#XX", 1\))\[0\]',
     "equivalent: only the words before a comment matter, a nameserver's address holds no '#', and a commented-out "
     "line's first word is never 'nameserver' either way"),
    ("kubernetes/beyond", "_limit_block", r'_pod_need\(d, res, "(XXlimitsXX|LIMITS)"\)',
     "equivalent: _pod_need reads the limits for any kind but \"requests\""),
    ("kubernetes/beyond", "_peer_reaches", r'\.strip\("XX\[\]XX"\)',
     "equivalent: an IP address holds no X, and a name is no address either way"),
    ("kubernetes/beyond", "_peer_reaches", r"ip_network\((peer\.cidr|ex), strict=None\)",
     "equivalent: `strict` is only tested for truth, where None reads as False"),
    ("kubernetes/beyond", "_pod_need", r'quantity\(value or "XX0XX"\) or 0\.0',
     "equivalent: an unreadable quantity is None, and `or 0.0` makes it the same 0 as \"0\""),
    ("kubernetes/beyond", "judge_network_policy", r'_rule_allows\(r, None, 53',
     "equivalent: the host is only tested for truth (`if not host`), where None reads as \"\""),
    ("kubernetes/beyond", "judge_node", r'problems\[0\]\.split\((None, 1|" ", ?2?)\)\[0\]',
     "equivalent: the first word is the same whatever the number of splits"),
    ("kubernetes/beyond", "judge_quota", r'refused\.message\), None\)',
     "equivalent: the name is only used through `named or ...`, where None reads as \"\""),
    ("kubernetes/beyond", "not_granted", r'\.r?split\("To enable this check: ", ?[12]?\)\[-1\]',
     "equivalent: the advice holds \"To enable this check: \" once"),
    # blinkview
    ("blinkview", "judge_ready", r"\+ .*zip\(from_runners, seen, (strict=(False|None))?\)",
     "equivalent: `seen` is made from `from_runners` one for one, so the two always have the same length and "
     "zip's strictness is never tested"),
    ("probe/environment", "bypasses", r"\+ .*ip_network\(entry, strict=None\)",
     "equivalent: `strict` is only tested for truth, where None reads as False"),
    ("probe/environment", r"hosts_lookup|x\.ResolvConf\.candidates", r'\.rstrip\("XX\.XX"\)',
     "equivalent: the name is a URL's host as urlsplit gives it (lower case), with no capital X to strip"),
    ("probe/environment", "is_ip", r'\.strip\("XX\[\]XX"\)',
     "equivalent: an address holds no X, so stripping it too leaves every address as it was and no name becomes one"),
    ("probe/environment", "_skip_name|dns_answer", r'\+ raise ValueError\("XX',
     "not worth killing: the message is never shown (the namespace probe takes any ValueError for a stray datagram "
     "and keeps listening)"),
    ("probe/environment", "dns_answer|dns_query", r'\+ .*struct\.(un)?pack\(">(hhih|hh)"',
     "equivalent: qtype and class are 1 or 28 and 1; an answer's type and length are below 32768 in a 4096-byte "
     "datagram (a private type above reads as neither A nor AAAA either way), and its TTL is not used"),
    ("probe/environment", "dns_query", r'\.encode\("IDNA"\)', "equivalent: codec names are case-insensitive"),
    ("probe/environment", "proxy_for", r'\+ (host = \(parts\.hostname or "XXXX"\)|source, value = .*\("XXXX", ""\))',
     "unreachable: --blink-url is refused without a host name (options._url); with no proxy value the function "
     "returns None before the source is used"),
    ("probe/environment", "proxy_for", r'\+ no_proxy = .* or "XXXX"',
     "equivalent unless Blink's host is named 'xxxx' or ends in '.xxxx': an empty NO_PROXY and the entry 'xxxx' "
     "bypass nothing else"),
    ("probe/environment", "proxy_for", r'\+ p = urlsplit\(value if "://" in value else "HTTP://" \+ value\)',
     "equivalent: urlsplit lowers the scheme"),
    # redact
    ("redact", ".*", r'\+ .*\.(en|de)code\("UTF-8"', "equivalent: codec names are case-insensitive"),
    ("redact", "find_leaks", r'\+ .*found\.decode\("utf-8", ("XXreplaceXX"|"REPLACE")?\)',
     "equivalent: a needle is a str encoded to UTF-8, so decoding it meets no error for the handler to handle"),
    ("redact", "find_leaks", r"\+ wanted = sorted\(needles\(secrets\), (key=None)?\)",
     "not worth killing: the order only decides which of several forms found in one file is named, and only its "
     "first three characters are shown (a hint, never the secret)"),
    ("redact", "read_no_follow", r'getattr\((None|os), "(O_CLOEXEC|XXO_CLOEXECXX|o_cloexec)", ?(None|0|1)?\)',
     "not worth killing: O_CLOEXEC keeps the descriptor from a program started while the gate reads, and the gate "
     "starts none; on Linux os.O_CLOEXEC exists, so the default is never used"),
    ("redact", "read_no_follow", r"\+ while chunk := os\.read\(fd, (2 << 20|1 << 21)\)",
     "equivalent: the size of each read; the chunks are joined whole"),
    ("redact", r"x\.Redactor\.__init__", r'\+ self\.(_regex: .* = ""|strict = None)',
     "equivalent: `strict` is only tested for truth (None reads as False); `_regex` is reset to None by add(), the "
     "only way to forms, before known() compiles it"),
    ("redact", r"x\.Redactor\.add", r"\+ self\._values\.add\(None\)",
     "equivalent: the set only spares recomputing a value's forms when it is added again; the forms are the same"),
    ("redact", r"x\.Redactor\.add_args", r'\+ name, eq, value = arg\.(lstrip\((None|"XX-XX")\)|rstrip\("-"\))\.partition',
     "equivalent: SECRET_NAME is searched anywhere in the name, and no secret word holds '-', so dashes left on "
     "the name change nothing"),
    ("redact", r"x\.Redactor\.known", r"\+ alternatives = sorted\(self\._forms, (key=None, )?reverse=True\)",
     "equivalent: the order matters only between forms that can match at one position, where one is a prefix of "
     "the other, and reverse text order also puts the longer first"),
    ("redact", r"x\.Redactor\.shapes", r'\+ (if len\(text\) >= _BIG:|text = "\\n"\.join\(.*(or True|"XX\\nXX").*)',
     "not worth killing: the line-by-line pass over a big text is there for speed; these make it the whole-text pass "
     "(or apply the shapes to lines without a key-like word, which _HINT lists for every shape), which differs only "
     "for a shape spanning a line break (a name at a line's end, its value on the next)"),
    ("redact", "encodings|needles", r"\+ .*_json_escaped\((v|s|html\.escape\(form\)), None\)",
     "equivalent: json.dumps tests ensure_ascii for truth, where None reads as False"),
    ("redact", "find_leaks", r'\+ blobs = _archive_blobs\(data\) if \(path\.name\.endswith\("\.tar\.gz"\)\) or True',
     "equivalent for the run's artifacts: a file that is not a gzip archive is searched byte for byte either way "
     "(the fallback); only a gzip tar under another name would have its members searched too"),
    ("redact", "encodings", r"\+ break$",
     "equivalent through Redactor.add, the only caller: it refuses values whose trimmed form is under MIN_SECRET and "
     "line bases have 8 characters or more, so no base is ever skipped"),
    ("redact", "encodings", r'\+ (quote\(v, safe="XXXX"\)|quote_plus\(v, (safe="XXXX")?\)|html\.escape\(v, quote=None\))',
     "equivalent: letters are never percent-encoded, so safe='XXXX' is safe=''; quote_plus's default safe is ''; "
     "html.escape tests `quote` for truth (None reads as False)"),
    ("redact", "encodings", r'\.rstrip\("XX=XX"\)',
     "equivalent unless a value's base64 ends in 'X' before its padding (then that last character would be left "
     "beside the mask); stripping '=' is what matters"),
    ("redact", "escape_controls", r"\+ .*if ord\(m\[0\]\) (<= 0x100|< 257) else",
     "equivalent: _CONTROL holds no code point from 0xa0 to 0x200a, so U+0100 never reaches the choice"),
    ("redact", "_keep_quotes", r'\+ if value\.strip\("XX\\"\'XX"\)\.startswith\(WITHHELD\)',
     "not worth killing: stripping 'X' too only differs for a value written as X[withheld], which nothing writes"),
    ("redact", "_keep_quotes", r'\+ .*value\[0\] in "XX\\"\'\[XX"',
     "not worth killing: only a bare value beginning and ending with a capital X would keep those as if quotes"),
    ("redact", "_name_value", r'\+ name = m\["name"\]\.strip\("XX\\"\'XX"\)',
     "equivalent: the name only counts when it is 'key', and no name the pattern takes turns into 'key' by losing "
     "a capital X (a word boundary comes before a name, and a separator after it)"),
    ("redact", "_name_value", r'\+ value = m\["v"\]\.strip\("XX\\"\'\[\]XX"\)',
     "not worth killing: only a value beginning or ending with capital Xs could fall under MIN_SECRET by losing them"),
    ("redact", "_tokenish", r'\+ and "XX//XX" not in text',
     "not worth killing: a URL holds ':', which the token characters refuse before this test; only a value with '//' "
     "but no scheme and no leading '/' reaches it"),
    ("redact", "_tokenish", r"\+ and _entropy\(text\) > 3\.3",
     "equivalent: no text has entropy exactly 3.3 (the nearest for 16 to 40 characters is 4.5e-5 away)"),
    ("redact", "_archive_blobs", r'\+ with tarfile\.open\(fileobj=io\.BytesIO\(data\), \) as tar:',
     "equivalent: mode 'r' opens gzip as 'r:gz' does; a plain tar named .tar.gz is searched either way (its bytes "
     "hold the members as they are)"),
    # logs/scan, logs/judge
    ("logs/scan|logs/judge", ".*", r'\+ .*\.(en|de)code\("UTF-8"', "equivalent: codec names are case-insensitive"),
    ("logs/judge", "judge_network_errors", r"\+ assert t\.first_error is not None or t\.last_error is not None",
     "equivalent: with errors counted both are set; the assert only states it"),
    ("logs/judge", "timeline_text", r'\+ \("(first|last) error", t\.\w+\.render\(\) if (\(t\.\w+\) or True|t\.\w+) else '
     r'"(XX-XX|-)"\)',
     "unreachable: the timeline is shown only when there are errors, and then the first and last are set"),
    ("logs/scan", "_compile_fast", r'\+ .* or b"(XX\(\?!x\)xXX|\(\?!X\)X)"$',
     "equivalent: both still match nothing, as the expression for no patterns must"),
    ("logs/scan", "_compile_fast", r"\+ if engine is not None or engine is not re:",
     "equivalent: with engine re, re.compile is what the fallback calls too; with no RE2 (None), None.compile raises "
     "and the fallback takes over"),
    ("logs/scan", "_decode", r"\+ text = raw\[: MAX_LINE_CHARS \* 5\]",
     "equivalent: the text is cut at MAX_LINE_CHARS characters after decoding, and 4 bytes per character is the most "
     "UTF-8 takes, so decoding more bytes keeps the same characters; a longer line is marked cut either way"),
    ("logs/scan", "_plain_groups", r"\[ailmsux\]",
     "equivalent: (?L) is refused for text patterns, which the catalog's are, so no pattern starts with it"),
    ("logs/scan", r"x\.LogScan\.(__init__|start_current|_keep_tail)", r"\+ self\._tail_size = (1|len\(self\._tail\.popleft\(\)\))",
     "not worth killing: the byte count of the kept tail off by one byte, or reset when a block is dropped, lets the "
     "tail hold up to twice TAIL_BYTES; the lines shown (the newest 50) are the same"),
    ("logs/scan", r"x\.LogScan\.(__init__|feed)", r"\+ self\._carry = None",
     "equivalent: the carry is only tested for truth or replaced before use, and None reads as empty"),
    ("logs/scan", r"x\.LogScan\.feed", r"\+ data = self\._carry \+ chunk if \(self\._carry\) or True else chunk",
     "equivalent: an empty carry joined to the chunk is the chunk"),
    ("logs/scan", r"x\.LogScan\.feed", r"\+ if end (<= 0|< 1):",
     "equivalent: a chunk whose only newline is its first byte is carried instead of ended; the empty line is ended "
     "with the next newline or at the window's end, with the same lines, matches and tail"),
    ("logs/scan", r"x\.LogScan\.(feed|_block)", r"(complete=(None|True)\)|if \(complete\) or True else 0)",
     "equivalent: a giant line's piece holds no newline, so counting its newlines adds nothing either way"),
    ("logs/scan", r"x\.LogScan\._tail_lines", r"\+ if raw or raw\[-1\] == b\"\":",
     "equivalent: split always gives at least one element, so `raw` is always true"),
    ("logs/scan", r"x\.LogScan\._block", r"\+ .*\[:65\]",
     "equivalent: an engine timestamp is at most 36 bytes, well inside the first 64"),
    ("logs/scan", r"x\.LogScan\._block", r'\+ last = block\.rstrip\((None|b"XX\\nXX")\)',
     "equivalent: only the start of the last line (its timestamp) is read, which stripping more at its end keeps"),
    ("logs/scan", r"x\.LogScan\._block", r"\+ (frequent_ok = |finder = )",
     "equivalent: which of the two search paths a block takes (successes frequent in its newest bytes, or rare) "
     "changes only the speed; both find the same errors, recovery and last success (test_timeline_order_with_few_or_"
     "many_successes, test_recovery_when_successes_are_rare)"),
    ("logs/scan", r"x\.LogScan\._block", r"\+ (error_end = -2|while pos <= len\(block\):)",
     "equivalent: error_end is used as max(error_end, 0); a search from the block's end finds nothing"),
    ("logs/scan", r"x\.LogScan\._block", r"\+ whole = \(parse_stamp\(raw\)\[1\] if \(self\.stamped\) (and False|or True) else",
     "equivalent: no catalog pattern is anchored, so a timestamp before the text changes no match; parse_stamp gives "
     "an unstamped line back as it is"),
    ("logs/scan", r"x\.LogScan\._block", r"\+ elif finder is pats\.any or pats\.is_success\(whole\):",
     "equivalent: with the errors-only search (successes frequent), a success found here is found again as the "
     "block's last success by _frequent_successes, and recovery is set there from the last error on"),
    ("logs/scan", r"x\._Cursor\.line_at", r'\+ (s = block\.rfind\(b"\\n", None, start\)|e = len\(block\) if e (<= 0|< 1) else e)',
     "equivalent: rfind from None is from 0; find from a match's end never gives 0 (a match is not empty)"),
    ("logs/scan", r"x\._Cursor\.line_at", r"\+ return self\.index, block\[s:e\], e - 1",
     "equivalent: the next search starts at the newline ending the line instead of after it, and no match starts "
     "at a newline"),
    ("logs/scan", r"x\._Cursor\.__init__", r"\+ self\.pos = None",
     "equivalent: count from None counts from the block's start, as from 0"),
    ("logs/scan", r"x\.LogScan\._flush", r"\+ self\._carry = None",
     "equivalent: the carry is only tested for truth or replaced before use, and None reads as empty"),
    ("logs/scan", r"x\.LogScan\._frequent_successes", r"\+ (last = \"\"|for last in ok\.finditer\(block, (None)?\):)",
     "equivalent: this path is taken only when the newest 4 KiB hold a success, so the loop always finds one (the "
     "start value is never read); searching the whole block ends at the same last success, only slower"),
    ("logs/scan", r"x\.NewestBytes\.feed", r"\+ while self\._size - len\(self\._kept\[0\]\) > self\.max_bytes:",
     "equivalent: one more chunk kept at the exact limit; text() cuts to max_bytes and drops the partial line either "
     "way"),
    ("probe/judge", "_advice", r'\+ text = advice\.get\(key, (None)?\)',
     "equivalent: a missing key gives a false value either way, and only its truth is tested before use"),
    ("probe/judge", "_evidence", r"\+ after = .* STEPS\.index\(n\) >= STEPS\.index",
     "equivalent: the failed step is always among the steps tried, so 'not in tried' already leaves it out"),
)


def reason_for(module: str, function: str, change: str) -> str:
    import re

    for mod, func, pattern, reason in EQUIVALENT:
        if re.fullmatch(mod, module) and re.fullmatch(func, function) and re.search(pattern, change, re.M):
            return reason
    return ""


def load_doc() -> dict[str, Any]:
    return json.loads(DOC.read_text()) if DOC.exists() else {"modules": {}, "survivors": []}


def scores(res: dict[str, dict[str, Any]], modules: tuple[str, ...] = MODULES) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for m in modules:
        c = Counter(r["status"] for r in res.values() if r["module"] == m)
        if c and c["not run"] < sum(c.values()):  # a module this run did not touch keeps its last numbers
            out[m] = {"mutants": sum(c.values()), "killed": c["killed"], "mypy": c["mypy"], "survived": c["survived"],
                      "no_tests": c["no tests"]}  # fmt: skip
    return out


def pct(s: dict[str, int], mypy: bool = False) -> str:
    caught = s["killed"] + (s.get("mypy", 0) if mypy else 0)
    return f"{100 * caught / s['mutants']:.1f}%" if s["mutants"] else "-"


def score_table(doc: dict[str, Any]) -> str:
    """The score section of docs/mutation.md: per module of today's layout, before this work (measured after the
    redesign) and after; then the audit's score of the layout before the redesign, for the record."""
    rows = ["| module | mutants | before: killed | after: killed | after: survived | after: no test runs it |",
            "|---|---|---|---|---|---|"]  # fmt: skip
    before_t: Counter[str] = Counter()
    after_t: Counter[str] = Counter()
    for m in MODULES:
        entry = doc.get("modules", {}).get(m, {})
        before, after = entry.get("before"), entry.get("after")
        if after:
            after_t.update(after)
            before_t.update(before or after)
        rows.append(f"| `{m}` | {(after or before or {}).get('mutants', '-')} | {pct(before) if before else '-'} | "
                    f"{pct(after) if after else 'not measured yet'} | {after['survived'] if after else '-'} | "
                    f"{after['no_tests'] if after else '-'} |")  # fmt: skip
    if after_t:
        rows.append(f"| **the modules measured after** | {after_t['mutants']} | {pct(dict(before_t))} | "
                    f"{pct(dict(after_t))} | {after_t['survived']} | {after_t['no_tests']} |")  # fmt: skip
    audit = doc.get("audit")
    if audit:
        rows.append(f"\nThe audit's score ({audit['what']}): {pct({**audit, 'mypy': 0})} of {audit['mutants']} "
                    "mutants killed.")  # fmt: skip
    if doc.get("last_run_s"):
        rows.append(f"\nLast run: {doc['last_run_s'] // 60} min {doc['last_run_s'] % 60} s on 2 cores.")
    return "\n".join(rows)


def write_doc(doc: dict[str, Any]) -> None:
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    md = DOC.with_suffix(".md")
    text = md.read_text(encoding="utf-8")
    begin, end = "<!-- score:begin -->", "<!-- score:end -->"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        md.write_text(head + begin + "\n" + score_table(doc) + "\n" + end + rest.split(end, 1)[1], encoding="utf-8")


def report(write: bool, modules: tuple[str, ...] = MODULES, seconds: float | None = None) -> int:
    res = results()
    doc = load_doc()
    accepted = {(s["module"], s["function"], s["change"]): s for s in doc.get("survivors", [])}
    now = scores(res, modules)
    total = {k: sum(s[k] for s in now.values()) for k in ("mutants", "killed", "survived", "no_tests")}
    print(f"{'module':16} {'mutants':>8} {'killed':>7} {'survived':>9} {'no tests':>9} {'score':>7}   before")
    for m, s in now.items():
        before = doc.get("modules", {}).get(m, {}).get("before")
        print(f"{m:16} {s['mutants']:8} {s['killed']:7} {s['survived']:9} {s['no_tests']:9} {pct(s):>7}   "
              f"{pct(before) if before else '-'}")  # fmt: skip
    print(f"{'all':16} {total['mutants']:8} {total['killed']:7} {total['survived']:9} {total['no_tests']:9} "
          f"{pct(total):>7}")  # fmt: skip
    not_killed = sorted(n for n, r in res.items()
                        if r["status"] not in ("killed", "mypy", "not run") and r["module"] in now)  # fmt: skip
    new, kept = [], []
    for name in not_killed:
        module = res[name]["module"]
        function, change = change_of(name, module)
        entry = accepted.get((module, function, change))
        if entry is None:
            new.append({"module": module, "function": function, "mutant": name, "change": change,
                        "status": res[name]["status"], "reason": reason_for(module, function, change)})  # fmt: skip
        else:
            reason = entry.get("reason") or reason_for(module, function, change)  # a reason written since
            kept.append({**entry, "mutant": name, "status": res[name]["status"], "reason": reason})
    for e in new:
        if not e["reason"]:
            print(f"\nNOT LISTED: {e['mutant']} ({e['status']})\n{e['change']}")
    if write:
        mods = doc.setdefault("modules", {})
        for m, s in now.items():
            mods.setdefault(m, {})["after"] = s
        if seconds is not None:
            doc["last_run_s"] = round(seconds)
        others = [s for s in doc.get("survivors", []) if s["module"] not in now]
        doc["survivors"] = sorted(others + kept + new, key=lambda s: (s["module"], s["function"], s["mutant"]))
        write_doc(doc)
        print(f"\nwrote {DOC.relative_to(ROOT)}")
    unexplained = [e for e in new if not e["reason"]] + [e for e in kept if not e.get("reason")]
    print(f"\n{len(not_killed)} not killed: {len(kept)} listed with a reason, {len(new)} new")
    return 1 if unexplained else 0


# ------------------------------------------------------------------ named mutants: plausible bugs, each must be caught

# Bugs an audit of the tests (issue 19) planted by hand, kept as a regression list: (id, file, the exact text, what
# replaces it, the unit tests to run). Some are outside what mutmut makes (catalog.yaml is data, a remedy
# placeholder, a changed comprehension); `named` applies each to a copy of the repository and runs those tests.
NAMED: tuple[tuple[str, str, str, str, str], ...] = (
    ("socket judged by its host path", "blinkcheck/docker/deployment.py",
     "any(dest == DOCKER_SOCKET for _, dest in c.mounts)", "any(src == DOCKER_SOCKET for src, _ in c.mounts)",
     "tests/unit/test_docker_deployment.py"),
    ("upgrade indicators read the first line", "blinkcheck/docker/upgrade.py", "last = lines[-1]", "last = lines[0]",
     "tests/unit/test_docker_upgrade.py"),
    ("a restarting upgraded container is healthy", "blinkcheck/docker/upgrade.py",
     '    if new.status == "running":', '    if new.status in ("running", "restarting"):',
     "tests/unit/test_docker_upgrade.py"),
    ("a giant line is kept whole (memory unbounded)", "blinkcheck/logs/scan.py",
     "if len(self._carry) > MAX_CARRY:", "if len(self._carry) > MAX_CARRY * 1000:",
     "tests/unit/test_logs_and_probe.py"),
    ("the probe warns only on 503", "blinkcheck/probe/judge.py", 'if status.startswith("5"):', 'if status == "503":',
     "tests/unit/test_probe.py"),
    ("the redactor's password= shape removed", "blinkcheck/redact.py", "|token|secret|password|passwd|",
     "|token|secret|passwd|", "tests/unit/test_redact.py"),
    ("startup grace for restarted pods", "blinkcheck/kubernetes/pods.py",
     " < STARTUP_GRACE_S and p.restarts == 0:", " < STARTUP_GRACE_S:", "tests/unit/test_kubernetes_disconnected.py"),
    ("operator handoff without its namespace filter", "blinkcheck/kubernetes/upgrade.py",
     "alive = [o for o in operators if o.alive and o.namespace == p.namespace]",
     "alive = [o for o in operators if o.alive]", "tests/unit/test_kubernetes_upgrade.py"),
    ("catalog: 'context deadline exceeded' removed", "blinkcheck/catalog.yaml",
     "      - 'context deadline exceeded'\n", "", "tests/unit/test_logs_and_probe.py"),
    ("catalog: 'connection reset by peer' removed", "blinkcheck/catalog.yaml",
     "      - 'connection reset by peer'\n", "", "tests/unit/test_logs_and_probe.py"),
    ("a judge chooses a remedy key the catalog lacks", "blinkcheck/kubernetes/disconnected.py",
     'variant="scaled-to-zero"', 'variant="scaled-to-nil"', "tests/unit/test_catalog.py"),
    ("a condition id written into a judge again", "blinkcheck/kubernetes/deployment.py",
     "return Finding(cid, Outcome.FAILED, summary, label, values=values", "return Finding("
     '"k8s.runner.secret-present", Outcome.FAILED, summary, label, values=values', "tests/unit/test_architecture.py"),
    ("a Kubernetes remedy names a placeholder no judge fills", "blinkcheck/catalog.yaml",
     "{pod} -n {namespace}`", "{pod} -n {namespace}` {never_filled}", "tests/unit/test_kubernetes_preconditions.py"),
)


def named() -> int:
    """Apply each named mutant to a copy of the repository and run its unit tests: every one must fail them."""
    import tempfile

    survived = []
    keep = ("blinkcheck", "fixtures", "checks", "lab", "tests", "rbac", "bench", "scripts", ".ci", "deploy")
    with tempfile.TemporaryDirectory(prefix="blink-named-") as tmp:
        copy = Path(tmp) / "repo"
        copy.mkdir()
        for name in keep:
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        for name in ("conftest.py", "pyproject.toml", "README.md"):
            shutil.copy2(ROOT / name, copy / name)
        def pytest(tests: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "pytest", tests, "-x", "-q", "-p", "no:cacheprovider"],
                                  cwd=copy, capture_output=True, text=True, check=False)  # fmt: skip

        for tests in sorted({n[4] for n in NAMED}):  # a mutant counts as caught only where the code passes
            clean = pytest(tests)
            if clean.returncode != 0:
                print(f"{tests} fails without any mutant: fix that first\n{clean.stdout[-2000:]}")
                return 2
        for what, path, old, new, tests in NAMED:
            target = copy / path
            original = target.read_text(encoding="utf-8")
            if original.count(old) < 1:
                print(f"STALE  {what}: {path} no longer has {old!r}: update NAMED")
                survived.append(what)
                continue
            target.write_text(original.replace(old, new), encoding="utf-8")
            t0 = time.monotonic()
            r = pytest(tests)
            target.write_text(original, encoding="utf-8")
            killed = r.returncode == 1
            print(f"{'killed ' if killed else 'SURVIVED'} {what} ({time.monotonic() - t0:.1f}s)")
            if not killed:
                survived.append(what)
                print(r.stdout[-1500:])
    print(f"\n{len(NAMED) - len(survived)} of {len(NAMED)} named mutants killed")
    return 1 if survived else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run mutmut (fresh) over all modules or the ones named")
    r.add_argument("modules", nargs="*", help=f"any of: {', '.join(MODULES)} (default: all)")
    r.add_argument("--keep", action="store_true", help="keep mutants/ from the last run (named modules rerun)")
    r.add_argument("--jobs", type=int, help="mutants tested at once (default: mutmut's, one per core)")
    rep = sub.add_parser("report", help="the score per module, and survivors not listed in docs/mutation.json")
    rep.add_argument("--write", action="store_true")
    b = sub.add_parser("baseline", help="write the score of a run on the base commit (its result dirs) as 'before'")
    b.add_argument("dirs", nargs="+")
    sub.add_parser("named", help="the plausible bugs of NAMED, each applied to a copy: every one must be caught")
    sub.add_parser("ci", help=f"the CI-sized run ({', '.join(CI_MODULES)}): fails on a survivor not listed")
    a = ap.parse_args(argv)
    if a.cmd == "run":
        unknown = [m for m in a.modules if m not in MODULES]
        if unknown:
            ap.error(f"unknown module(s) {', '.join(unknown)}; one of {', '.join(MODULES)}")
        seconds = run(a.modules, fresh=not a.keep, jobs=a.jobs)
        print(f"\nmutmut took {seconds:.0f}s")
        return report(False, tuple(a.modules) or MODULES, seconds)
    if a.cmd == "report":
        return report(a.write)
    if a.cmd == "named":
        return named()
    if a.cmd == "baseline":
        return baseline(a.dirs)
    seconds = run(list(CI_MODULES), fresh=True)
    print(f"\nmutmut took {seconds:.0f}s")
    return report(False, CI_MODULES, seconds)


if __name__ == "__main__":
    raise SystemExit(main())
