"""The kubeconfig credential plugin's token refresh, bounded per API call."""

from __future__ import annotations

import threading
import time

import pytest

from fixtures.kube_client import BoundedRefresh, CredentialPluginTimeout


def test_a_refresh_that_hangs_fails_the_call_in_time_and_later_calls_at_once():
    release = threading.Event()
    calls = []

    def hook(cfg: object) -> None:
        calls.append(cfg)
        release.wait(30)

    bounded = BoundedRefresh(hook, 0.3)
    started = time.monotonic()
    with pytest.raises(CredentialPluginTimeout, match=r"did not finish refreshing the token within 0.3s"):
        bounded("cfg")
    with pytest.raises(CredentialPluginTimeout, match="still running"):
        bounded("cfg")
    assert time.monotonic() - started < 2 and len(calls) == 1
    release.set()


def test_a_refresh_that_finishes_or_fails_is_passed_through():
    seen: list[object] = []
    BoundedRefresh(seen.append, 5)("cfg")
    assert seen == ["cfg"]

    def broken(cfg: object) -> None:
        raise ValueError("exec: process returned 1")

    with pytest.raises(ValueError, match="process returned 1"):
        BoundedRefresh(broken, 5)("cfg")
