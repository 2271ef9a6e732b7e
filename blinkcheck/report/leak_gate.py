"""The leak gate: after every report is written, no file this run wrote may hold a known secret."""

from __future__ import annotations

import sys

from blinkcheck.redact import find_leaks
from blinkcheck.run import RunState


def leak_gate(state: RunState) -> list[str]:
    """Search every file this run wrote (and every member of its packet) for every form of every secret
    value known; remove those that hold one. Nothing else is read or touched, no link is followed."""
    hits = find_leaks(state.artifacts.paths, state.redactor.values)
    removed = [p for p, _ in hits if state.artifacts.remove(p)]
    messages = [f"LEAK GATE: a secret value was found in {p}; the file was removed" for p in removed]
    for m in messages:
        print(m, file=sys.stderr, flush=True)
    return messages
