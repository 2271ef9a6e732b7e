"""A pytest plugin for replay runs (`pytest checks/ --from-packet … -p tests.no_network`): every socket connect and
every child process (but `uname`) is refused and written to $BLINK_NO_NETWORK_LOG, so a test proves a replay reaches nothing (no
engine, no API server, no probe), whatever the recorded run's options name."""

from __future__ import annotations

import os
import socket
import subprocess
from typing import Any

_LOG = os.environ.get("BLINK_NO_NETWORK_LOG", "")


def _refuse(what: str) -> None:
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as f:
            f.write(what + "\n")
    raise OSError(f"a replay may not reach anything: {what}")


def _connect(self: socket.socket, address: Any) -> None:
    _refuse(f"socket connect to {address!r}")


def _connect_ex(self: socket.socket, address: Any) -> int:
    _refuse(f"socket connect to {address!r}")
    return 1


_HARMLESS = ("uname",)  # the platform module asks it for pytest-html's environment rows
_Popen = subprocess.Popen


class _NoChild(_Popen):  # type: ignore[type-arg,unused-ignore]
    def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
        first = args[0] if isinstance(args, (list, tuple)) and args else args
        if first not in _HARMLESS:
            _refuse(f"child process {args!r}")
        super().__init__(args, *rest, **kwargs)


socket.socket.connect = _connect  # type: ignore[method-assign,assignment]
socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign,assignment]
subprocess.Popen = _NoChild  # type: ignore[misc]
