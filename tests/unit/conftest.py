"""Fixtures of the unit tests."""

from __future__ import annotations

import pytest

from tests.unit.fake_kube_api import KUBECONFIG, FakeApi, spec_for
from tests.unit.kubernetes_objects import CATALOG


@pytest.fixture
def fake_facts(tmp_path, request):
    from blinkcheck.kubernetes.gather import KubernetesFacts
    from blinkcheck.redact import Redactor

    api = FakeApi(deny=getattr(request, "param", ()))
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG.replace("https://127.0.0.1:1", api.url))
    facts = KubernetesFacts(spec_for(tmp_path, kubeconfig=str(path)), Redactor(), CATALOG)
    yield api, facts
    api.close()
