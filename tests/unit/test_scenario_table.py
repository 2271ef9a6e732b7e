"""The lab scenarios' outcome tables (tests/scenario_table.py): complete, every condition made to fail somewhere
or said why it cannot, and README's scenario tables generated from them (python -m tests.scenario_table --write)."""

import pytest

from blinkcheck.catalog import load_catalog
from lab.docker.scenarios import SCENARIOS as DOCKER_SCENARIOS
from lab.k8s.scenario import SCENARIOS as K8S_SCENARIOS
from tests.scenario_table import CANNOT_FAIL, LETTERS, ROOT, TABLES, differences, readme_with_tables


def test_readme_scenario_tables_are_current():
    readme = (ROOT / "README.md").read_text()
    assert readme == readme_with_tables(readme), "run: .venv/bin/python -m tests.scenario_table --write"


@pytest.mark.parametrize("platform", list(TABLES))
def test_every_row_has_every_condition_of_its_platform(platform):
    t = TABLES[platform]
    assert t.columns == tuple(c.id for c in load_catalog().conditions if c.platform == platform)
    for row in t.rows.values():
        assert set(row.outcomes) == set(t.columns), row.name
        assert all(row.outcomes[c] and set(row.outcomes[c]) <= set(LETTERS.values()) for c in t.columns)
        failing = any(o in ("failed", "not-evaluable") for c in t.columns for o in row.outcomes[c])
        assert row.exit == (1 if failing else 0), f"{row.name}: exit {row.exit}, but failing={failing}"


@pytest.mark.parametrize("platform", list(TABLES))
def test_every_condition_fails_in_a_scenario_or_says_why_it_cannot(platform):
    t = TABLES[platform]
    for cid in t.columns:
        failing_in = [r.name for r in t.rows.values() if r.fails(cid)]
        if cid in CANNOT_FAIL:
            assert not failing_in, f"{cid} is listed as unable to fail, but fails in {failing_in}"
        else:
            assert failing_in, f"{cid} fails in no {platform} scenario: add one, or say in CANNOT_FAIL why it cannot"


def test_rows_name_real_lab_scenarios():
    assert {r.scenario for r in TABLES["docker"].rows.values()} == set(DOCKER_SCENARIOS)
    # every Kubernetes lab scenario is run through checks/
    assert {r.scenario for r in TABLES["kubernetes"].rows.values()} == set(K8S_SCENARIOS)


def test_a_run_that_differs_anywhere_is_caught():
    t = TABLES["kubernetes"]
    row = t["hpa"]
    checks = [{"id": cid, "outcome": o} for cid in t.columns for o in row.outcomes[cid]]
    assert differences({"checks": checks, "exit_code": 1}, row, t) == []
    one_pod_missing = list(checks)
    one_pod_missing.remove({"id": "k8s.disconnected.pods-ready", "outcome": "passed"})
    assert differences({"checks": one_pod_missing, "exit_code": 1}, row, t) == [
        "k8s.disconnected.pods-ready: P+F, the table says P+P+F"]
    assert differences({"checks": checks, "exit_code": 0}, row, t) == ["exit code 0, the table says 1"]
