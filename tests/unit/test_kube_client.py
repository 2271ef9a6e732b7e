"""The Kubernetes client: the kubeconfig's context and namespace, and the credential plugin's token refresh,
bounded per API call."""

from __future__ import annotations

import threading
import time

import pytest

from blinkcheck.kubernetes.client import BoundedRefresh, CredentialPluginTimeout
from tests.unit.fake_kube_api import KUBECONFIG, spec_for


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


def test_client_takes_context_and_its_namespace(tmp_path):
    from blinkcheck.kubernetes.client import KubeConfigError, connect

    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    kube = connect(spec_for(tmp_path, kubeconfig=str(path)))
    assert (kube.target.context, kube.target.namespace, kube.target.server) == ("a", "blink", "https://127.0.0.1:1")
    assert kube.request_timeout == (2.0, 2.0)
    assert kube.api_client.configuration.retries is False  # one attempt: --api-timeout is the budget
    other = connect(spec_for(tmp_path, kubeconfig=str(path), kube_context="b"))
    assert other.target.namespace == "default"
    with pytest.raises(KubeConfigError, match="context 'nope' is not in"):
        connect(spec_for(tmp_path, kubeconfig=str(path), kube_context="nope"))

