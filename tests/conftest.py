"""The project's own tests: reliability rows are asserted by the tests that name them; under CI nothing skips."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from tests.harness import under_ci
from tests.reliability import SEEN, Seen, check_cases, seen_for


@pytest.fixture
def sees(request: pytest.FixtureRequest) -> Seen:
    """Asserts this test's reliability row(s): `sees(run)`, `sees.fact(claim, ok)` (tests/reliability.py)."""
    seen = request.node.stash.get(SEEN, None)
    if seen is None:
        raise pytest.UsageError(f"{request.node.nodeid} uses `sees` but has no @pytest.mark.reliability row")
    return seen


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    check_cases(items)
    for item in items:
        seen = seen_for(item)
        if seen is not None:
            item.stash[SEEN] = seen


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    result = yield
    seen = item.stash.get(SEEN, None)
    missing = seen.missing() if seen is not None else []
    if missing:
        raise AssertionError("the test does not assert its README reliability row:\n" + "\n".join(missing))
    return result


def _no_skip_under_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Under CI=true a skip is a failure: a missing prerequisite (the lab, Chromium, root) must not pass silently."""
    if under_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"CI=true: nothing may be skipped under CI, and this was: {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    _no_skip_under_ci(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    _no_skip_under_ci(report)
    return report
