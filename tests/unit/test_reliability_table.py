"""README's reliability table is exactly what the tests assert (regenerate: python -m tests.reliability_table --write)."""

from tests.reliability_table import END, ROOT, START, readme_with_table, rows


def test_readme_table_is_current():
    readme = (ROOT / "README.md").read_text()
    assert START in readme and END in readme
    assert readme == readme_with_table(readme), "run: .venv/bin/python -m tests.reliability_table --write"


def test_every_row_names_a_test():
    assert all(fault and sees and test for fault, sees, test in rows())
