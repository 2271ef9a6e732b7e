"""results.json is written once, after the leak gate, and its own text is gated before it reaches the disk."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

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


def test_results_say_how_many_api_requests_each_platform_made(tmp_path):
    import jsonschema

    from blinkcheck.report.results_json import results_data
    from tests.unit.fake_kube_api import spec_for

    state = RunState(spec=spec_for(tmp_path, log_window="last 2000 lines, since 1h"), catalog=load_catalog(),
                     redactor=Redactor(), enabled=True)  # fmt: skip
    made = [55]
    state.api_requests["kubernetes"] = lambda: made[0]
    made[0] += 2  # counted when results.json is built, not when the counter was registered
    data = results_data(state)
    assert data["target"]["api_requests"] == {"kubernetes": 57}
    schema = json.loads((Path(__file__).resolve().parents[2] / "blinkcheck" / "results.schema.json").read_text())
    jsonschema.validate(data, schema)
    for wrong in ({"kubernetes": -1}, {"kubernetes": "57"}, {"vmware": 1}):
        data["target"]["api_requests"] = wrong
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(data, schema)
