"""README's reliability table is exactly what the tests assert (regenerate: python -m tests.reliability_table --write)."""

import pytest

from blinkcheck.model import Finding, Outcome
from tests.reliability import Seen, Sees
from tests.reliability_table import END, ROOT, START, readme_with_table, rows


def test_readme_table_is_current():
    readme = (ROOT / "README.md").read_text()
    assert START in readme and END in readme
    assert readme == readme_with_table(readme), "run: .venv/bin/python -m tests.reliability_table --write"


def test_every_row_names_a_test():
    assert all(fault and sees and test for fault, sees, test in rows())


ROW = Sees(outcomes={"docker.disconnected.container-running": "failed"},
           says={"docker.disconnected.container-running": "restarting"}, facts=("a claim",))
FAILED = Finding("docker.disconnected.container-running", Outcome.FAILED, "c is restarting (restart count 3).", "c")


def test_the_row_text_is_built_from_what_is_asserted():
    assert ROW.text() == '`docker.disconnected.container-running` failed ("restarting"); a claim'
    assert Sees(exit=1, within_s=20, calls={"the list": 1}, report=True).text() == (
        "the list: once; exit 1 within 20 s; every report written")


def test_a_row_is_asserted_part_by_part():
    seen = Seen([ROW], "")
    assert seen.missing() == ["row 0: sees(run) was never called", "row 0: fact not asserted: a claim"]
    seen(FAILED)
    seen.fact("a claim", True)
    assert seen.missing() == []


def test_a_row_that_does_not_hold_fails():
    seen = Seen([ROW], "")
    with pytest.raises(AssertionError, match="the row says failed"):
        seen(Finding("docker.disconnected.container-running", Outcome.PASSED, "c is running.", "c"))
    with pytest.raises(AssertionError, match="a claim"):
        seen.fact("a claim", False)
    with pytest.raises(AssertionError, match="is not a claim"):
        seen.fact("another claim", True)
