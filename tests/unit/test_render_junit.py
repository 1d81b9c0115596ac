"""JUnit XML: parses, one suite per clause, outcomes match the report's statuses."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from ivpb.render import junit

# The common JUnit schema (Jenkins/Ant junit-10.xsd): what each element may hold.
ALLOWED = {
    "testsuites": ({"name", "time", "tests", "failures", "errors", "skipped", "disabled"}, {"testsuite"}),
    "testsuite": (
        {
            "name",
            "tests",
            "failures",
            "errors",
            "skipped",
            "time",
            "timestamp",
            "hostname",
            "id",
            "package",
            "disabled",
        },
        {"properties", "testcase", "system-out", "system-err"},
    ),
    "properties": (set(), {"property"}),
    "property": ({"name", "value"}, set()),
    "testcase": (
        {"name", "classname", "time", "assertions", "status"},
        {"skipped", "error", "failure", "system-out", "system-err"},
    ),
    "failure": ({"message", "type"}, set()),
    "error": ({"message", "type"}, set()),
    "skipped": ({"message"}, set()),
    "system-out": (set(), set()),
    "system-err": (set(), set()),
}


def expected(report):
    """What each result must become: advisory drift/missing never fails the pipeline."""
    out = Counter()
    for subject in [*report["hosts"].values(), *report["sites"].values()]:
        for c in subject["controls"]:
            s = c["status"]
            if s in ("drift", "missing") and not c.get("advisory"):
                out["failures"] += 1
            elif s == "error":
                out["errors"] += 1
            elif s in ("waived", "not_applicable") or c.get("advisory") and s in ("drift", "missing"):
                out["skipped"] += 1
            out["tests"] += 1
    return out


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_parses_and_counts_match_the_statuses(report, lang):
    root = ET.fromstring(junit.render(report, lang).encode())
    assert root.tag == "testsuites"
    cases = root.findall("testsuite/testcase")
    found = Counter(
        tests=len(cases),
        failures=sum(1 for c in cases if c.find("failure") is not None),
        errors=sum(1 for c in cases if c.find("error") is not None),
        skipped=sum(1 for c in cases if c.find("skipped") is not None),
    )
    assert found == expected(report)
    assert found == Counter({"tests": 31, "failures": 7, "errors": 1, "skipped": 4})
    for key in ("tests", "failures", "errors", "skipped"):
        assert int(root.get(key)) == found[key]
        assert sum(int(s.get(key)) for s in root.findall("testsuite")) == found[key]


def test_one_suite_per_clause_and_names(report):
    root = ET.fromstring(junit.render(report, "nl"))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "§2 Stroomvoorziening",
        "§3 Internetverbinding",
        "§4 Backups",
        "§5 Brandveiligheid",
    ]
    for suite in suites:
        assert {c.get("classname") for c in suite.findall("testcase")} == {suite.get("name")}
    names = [c.get("name") for c in root.iter("testcase")]
    assert "fileserver: backup.daily [leerlingenadministratie]" in names
    assert "kleuterschool: fire.protection" in names
    assert len(names) == len(set(names))


def test_outcomes_carry_detail_diff_and_waiver(report):
    root = ET.fromstring(junit.render(report, "nl"))
    case = {c.get("name"): c for c in root.iter("testcase")}
    failure = case["fileserver: backup.best_practice [leerlingenadministratie]"].find("failure")
    assert failure.get("type") == "drift"
    assert failure.get("message") == "failure hook is not the managed one; enforcing would change it"
    assert "<script>alert('xss')</script>" in failure.text and "Backup & sync" in failure.text
    assert "+++ /etc/ivpb/hooks/on-failure.sh" in failure.text
    skipped = case["fileserver: backup.annual_full [boekhouding]"].find("skipped")
    assert skipped.get("message").startswith("uitzondering: De boekhouding wordt sinds 1 september 2026")
    assert "E. Vandersmissen" in skipped.get("message")
    expired = case["nas: backup.annual_full [fotos]"].find("failure")
    assert expired.get("type") == "missing" and "VERLOPEN" in expired.text
    unreachable = case["secretariaat: power.ups"].find("error")
    assert unreachable.get("message") == "not checked: host unreachable"
    assert unreachable.text == ("host onbereikbaar; technische details: ssh: connect to host secretariaat port 22: No route to host "
                                "(bounded by: SSH ConnectTimeout 10 s, task timeout 60 s)")
    assert case["fileserver: internet.sla"].find("skipped").get("message").startswith("advies, niet blokkerend")
    out = case["fileserver: backup.daily [leerlingenadministratie]"].find("system-out").text
    assert "Gegevens die behoren tot het beschikbaarheidsniveau belangrijk" in out
    assert '"last_backup": "2026-11-29T01:00:12Z"' in out


def test_common_junit_schema_elements_only(report):
    root = ET.fromstring(junit.render(report, "en"))
    for el in root.iter():
        attrs, children = ALLOWED[el.tag]
        assert set(el.attrib) <= attrs, (el.tag, el.attrib)
        assert {c.tag for c in el} <= children, el.tag
    for suite in root.findall("testsuite"):
        assert {"name", "tests", "failures", "errors", "time", "timestamp", "hostname"} <= set(suite.attrib)
        assert "Z" not in suite.get("timestamp")  # the schema's timestamp has no zone
        order = [c.tag for c in suite]
        assert order[0] == "properties" and order[-2:] == ["system-out", "system-err"]


def test_characters_xml_cannot_hold_still_parse(report):
    evil = copy.deepcopy(report)
    evil["hosts"]["nas"]["controls"][4]["detail"] = "bad \x00\x1b[31m\x0b bytes ]]> </failure>"
    root = ET.fromstring(junit.render(evil, "nl"))
    failure = next(c for c in root.iter("testcase") if c.get("name") == "nas: backup.annual_full [lesmateriaal]")
    assert failure.find("failure").get("message") == "bad \\x00\\x1b[31m\\x0b bytes ]]> </failure>"


def test_junitparser_reads_it_when_installed(report, tmp_path):
    junitparser = pytest.importorskip("junitparser")
    path = tmp_path / "report.xml"
    path.write_text(junit.render(report, "nl"), encoding="utf-8")
    xml = junitparser.JUnitXml.fromfile(str(path))
    assert sum(1 for suite in xml for _ in suite) == 31


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_written_exactly_as_elementtree_would_write_it(report, lang):
    """The renderer writes XML as text (fast for 200,000 test cases); ElementTree, reading it and
    writing it back with ET.indent, must produce the same bytes, awkward characters included (not CR
    in text: a parser turns CR LF into LF, as XML says)."""
    evil = copy.deepcopy(report)
    ctl = evil["hosts"]["nas"]["controls"][4]
    ctl["detail"] = 'tab\there "quoted" & <tag>\nnew line \x00 \U0001f600'
    ctl["evidence"] = {"b": "x\ty", "a": ["<", ">", "&"]}
    evil["hosts"]['we"ird & <host>'] = copy.deepcopy(evil["hosts"]["nas"])
    out = junit.render(evil, lang)
    root = ET.fromstring(out.encode())
    ET.indent(root)
    # ElementTree writing Latin-1 (with its own declaration): characters beyond it as references, as here
    written = ET.tostring(root, encoding="latin-1").decode("latin-1")
    assert written.split("\n", 1)[1] + "\n" == out.split("\n", 1)[1]
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n') and "&#128512;" in out and "’" not in out


def test_an_empty_policy_is_one_empty_testsuites_element():
    report = {
        "generated_at": "2026-11-30T06:00:00Z",
        "policy": {"id": "p", "title": "T", "clauses": {}},
        "summary": {"clauses": {}},
        "hosts": {},
        "sites": {},
    }
    root = ET.fromstring(junit.render(report, "nl").encode())
    assert root.tag == "testsuites" and len(root) == 0 and root.get("tests") == "0"


def test_each_case_carries_its_own_evidence_when_evidence_repeats(report):
    """Evidence is encoded once per distinct value (hashable or not); each case still shows its own."""
    evil = copy.deepcopy(report)
    controls = evil["hosts"]["fileserver"]["controls"]
    for n, c in enumerate(controls):
        c["evidence"] = {"n": n % 3, "s": "<same>"} if n % 2 else {"n": [n % 3]}
    root = ET.fromstring(junit.render(evil, "nl").encode())
    out = {c.get("name"): c.find("system-out").text for c in root.iter("testcase")}
    for c in controls:
        name = f"fileserver: {c['id']}" + (f" [{c['dataset']}]" if c.get("dataset") else "")
        assert out[name].endswith(json.dumps(c["evidence"], ensure_ascii=False, sort_keys=True))
