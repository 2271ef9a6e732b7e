"""results.json is written once, after the leak gate, and its own text is gated before it reaches the disk."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from blinkcheck.catalog import load_catalog
from blinkcheck.redact import Redactor
from blinkcheck.report.results_json import write_results_json
from blinkcheck.run import RunState

SECRET = "rk_live_5f2b9c1e7a3d4b6f"


def _state(tmp_path: Path) -> RunState:
    class Spec:
        report_dir = tmp_path

    red = Redactor()
    red.add(SECRET)
    state = RunState(spec=Spec(), catalog=load_catalog(), redactor=red, enabled=True)  # type: ignore[arg-type]
    state.reports["results.json"] = tmp_path / "results.json"
    return state


def test_results_without_a_secret_are_written_once(tmp_path, capsys):
    state = _state(tmp_path)
    assert write_results_json(state, {"exit_code": 3, "leak_gate": ["LEAK GATE: … report.html …"]}) is True
    assert json.loads((tmp_path / "results.json").read_text())["exit_code"] == 3
    assert "LEAK GATE" not in capsys.readouterr().err


def test_results_holding_a_secret_in_any_form_never_reach_the_disk(tmp_path, capsys):
    for form in (SECRET, base64.b64encode(SECRET.encode()).decode()):
        state = _state(tmp_path)
        assert write_results_json(state, {"checks": [{"summary": f"key was {form}"}]}) is False
        assert not (tmp_path / "results.json").exists()
        err = capsys.readouterr().err
        assert f"LEAK GATE: a secret value ({form[:3]}…) was found in results.json; it was not written" in err
        assert SECRET not in err
