"""Any character a host can send back (a non-UTF-8 file name decodes to lone surrogates, terminal
escapes, line separators, NUL) renders in every format and is written whole: no exception, no
0-byte report, the JSON parses back and the JUnit XML parses."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivpb import cli

ROOT = Path(__file__).resolve().parents[2]
REPORT = json.loads((ROOT / "tests" / "fixtures" / "report_example.json").read_text(encoding="utf-8"))
ANY = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40)


def hostile(detail: str, value: str) -> dict:
    report = copy.deepcopy(REPORT)
    for host in report["hosts"].values():
        for c in host["controls"]:
            c["detail"] = detail
            c["evidence"] = {"path": value, "nested": {"file": value}}
    return report


@settings(max_examples=40, deadline=None)
@given(detail=ANY, value=ANY)
def test_every_format_renders_and_is_written_whole(tmp_path_factory, detail, value):
    report = hostile(detail + "\udcff", value + "\ud800")
    out = tmp_path_factory.mktemp("out")
    for fmt, ext in (("table", ".txt"), ("json", ".json"), ("junit", ".xml"), ("markdown", ".md"), ("html", ".html"),
                     ("metrics", ".prom")):
        path = out / f"report{ext}"
        cli.write_file(path, cli.render(report, fmt, "nl"))
        data = path.read_bytes()
        assert data and data.decode("utf-8")  # whole, valid UTF-8
        if fmt == "json":
            back = json.loads(data)
            first = next(iter(back["hosts"].values()))["controls"][0]
            # Escaped, a lone surrogate reads back as itself; a high one before a low one reads back
            # as the pair's one character, as in any JSON reader.
            assert first["detail"] == json.loads(json.dumps(detail + "\udcff"))
        if fmt == "junit":
            ET.fromstring(data)


def test_a_line_break_in_a_detail_does_not_fake_a_result_line():
    report = hostile("disk full\n    conform      §4  backup.daily: fine", "x")
    text = cli.render(report, "table", "nl")
    assert not any(line.lstrip().startswith("conform      §4  backup.daily: fine") for line in text.splitlines())


def test_a_report_that_cannot_be_written_is_one_line(tmp_path):
    from ivpb.errors import UserError

    (tmp_path / "dir.md").mkdir()
    with pytest.raises(UserError, match="cannot write the report"):
        cli.write_file(tmp_path / "dir.md", "x")
    assert [p.name for p in tmp_path.iterdir()] == ["dir.md"]  # no temporary file left behind
