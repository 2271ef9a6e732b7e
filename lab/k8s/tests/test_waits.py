"""Every wait of the lab has a deadline and names the component and the tail of its log (no cluster needed)."""
from __future__ import annotations

import time

import pytest

from lab.k8s.cluster import LabError, Procs, wait_for
from lab.k8s.settings import Settings


@pytest.fixture()
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("BLINK_LAB_STATE", str(tmp_path))
    s = Settings()
    s.state.mkdir(parents=True)
    return s


def test_wait_names_component_that_exited_with_its_log_tail(settings):
    procs = Procs(settings)
    procs.spawn("etcd", ["/bin/sh", "-c", "echo 'etcd: bind: address already in use' >&2; exit 1"])
    t0 = time.monotonic()
    with pytest.raises(LabError) as e:
        wait_for("etcd /health", "etcd", lambda: False, 30, settings, procs)
    assert time.monotonic() - t0 < 10
    assert "etcd exited while waiting for etcd /health" in str(e.value)
    assert "address already in use" in str(e.value)


def test_wait_deadline_names_component_and_last_error(settings):
    procs = Procs(settings)
    procs.spawn("kubelet", ["/bin/sh", "-c", "echo 'kubelet: node not registered yet'; sleep 30"])

    def never():
        raise ConnectionError("connection refused")
    try:
        with pytest.raises(LabError) as e:
            wait_for("node Ready", "kubelet", never, 1.5, settings, procs)
        msg = str(e.value)
        assert "timed out after 2 s waiting for node Ready [kubelet]" in msg
        assert "connection refused" in msg and "node not registered yet" in msg
    finally:
        procs.stop("kubelet", 2)
    assert procs.pid("kubelet") is None
