"""The JSON report: the report itself, one line per control result."""

from __future__ import annotations

import copy
import json

import pytest

from ivpb.render import json_report

from .test_render_synthetic import load_example, synthetic, validate_report


@pytest.mark.parametrize("make", [load_example, lambda: synthetic(50)])
def test_is_the_report_one_line_per_result(make):
    report = make()
    out = json_report.render(report)
    assert json.loads(out) == report
    validate_report(json.loads(out))
    results = [c for s in [*report["hosts"].values(), *report["sites"].values()] for c in s["controls"]]
    lines = [line.strip().rstrip(",") for line in out.splitlines() if line.lstrip().startswith('{"id": ')]
    assert [json.loads(line) for line in lines] == results
    assert out.endswith("}\n") and out.startswith('{\n  "schema_version": 1,\n')


def test_awkward_text_empty_subjects_and_newlines_stay_valid():
    report = copy.deepcopy(load_example())
    report["hosts"]["nas"]["controls"][0]["detail"] = 'line\nbreak "quoted" \\ \u2028 é'
    report["hosts"]["leeg"] = {
        "site": None,
        "biv": {"b": "laag", "i": "laag", "v": "publiek"},
        "reachable": True,
        "controls": [],
    }
    report["sites"] = {}
    out = json_report.render(report)
    assert json.loads(out) == report
    assert '"controls": []' in out and '"sites": {}' in out


def test_characters_beyond_latin1_are_escaped_and_read_back_the_same():
    """One ’ or ✔ would make the whole report two bytes a character in memory; é stays readable."""
    report = copy.deepcopy(load_example())
    report["hosts"]["nas"]["controls"][0]["detail"] = "SLA’s ✔ é § \U0001f600"
    report["policy"]["title"] = "Back-upbeleid — één"
    out = json_report.render(report)
    assert json.loads(out) == report
    assert all(ord(ch) <= 0xFF for ch in out)
    assert "SLA\\u2019s \\u2714 é § \\ud83d\\ude00" in out and "\\u2014 één" in out
