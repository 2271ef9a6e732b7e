"""Fixtures shared by the integration tests."""

from tests.integration.k8s_lab import lab  # noqa: F401 - the lab cluster, a module-scoped fixture
