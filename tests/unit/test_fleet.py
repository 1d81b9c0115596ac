"""`ivpb fleet` (issue #25): the newest audit of three schools in one overview, read from their
audit histories (ivpb.history) and from a job's report: per school the compliance per clause,
what is not in order, the oldest evidence judged, the audits' dates; JSON and HTML (escaped),
Dutch by default. The same over the lab's example school: tests/lab/test_audit_job.py."""

from __future__ import annotations

import json
import shutil

import pytest

from ivpb.cli import main
from ivpb.history.store import Store
from tests.conftest import EXAMPLE, ROOT

REPORT = json.loads((ROOT / "tests" / "fixtures" / "report_example.json").read_text())
HOSTILE = '<script>alert("x")</script>'


def recorded(folder, *reports):
    store = Store.open(folder / ".evidence" / "history.sqlite", create=True)
    try:
        for report in reports:
            store.append(report, None, None)
    finally:
        store.close()


def copy(report, **changes):
    out = json.loads(json.dumps(report))
    out.update(changes)
    return out


@pytest.fixture
def schools(tmp_path):
    """The example school (two audits), sint-jozef (one, compliant, with a hostile detail) and
    de-linde (an inventory without audits)."""
    example = tmp_path / "example"
    shutil.copytree(EXAMPLE, example)
    recorded(example, copy(REPORT, generated_at="2026-10-31T06:00:00Z"), REPORT)
    jozef = tmp_path / "sint-jozef"
    jozef.mkdir()
    good = copy(REPORT, exit_code=0, inventory=[str(jozef)])
    for entry in (*good["hosts"].values(), *good["sites"].values()):
        for c in entry["controls"]:
            c["status"] = "compliant"
    good["hosts"]["nas"]["controls"][0]["status"] = "drift"
    good["hosts"]["nas"]["controls"][0]["detail"] = HOSTILE
    good["exit_code"] = 2
    recorded(jozef, good)
    linde = tmp_path / "de-linde"
    linde.mkdir()
    return [str(example), str(jozef), str(linde)]


def fleet(capsys, *args):
    code = main(["fleet", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_newest_audit_of_each_school_in_one_overview(schools, capsys):
    code, out, _ = fleet(capsys, *[a for s in schools for a in ("-i", s)])
    doc = json.loads(out)
    assert code == 1  # the example's newest audit has an error, de-linde has none yet
    assert [s["school"] for s in doc["schools"]] == ["example", "sint-jozef", "de-linde"]
    assert doc["clauses"] == {"§2": "Stroomvoorziening", "§3": "Internetverbinding", "§4": "Backups",
                              "§5": "Brandveiligheid"}
    example, jozef, linde = doc["schools"]
    assert [a["generated_at"] for a in example["audits"]] == ["2026-10-31T06:00:00Z", "2026-11-30T06:00:00Z"]
    assert example["generated_at"] == "2026-11-30T06:00:00Z" and example["exit_code"] == 1
    assert example["clauses"]["§4"] == {"title": "Backups", "counts": REPORT["summary"]["clauses"]["§4"]["counts"],
                                        "subjects": 3, "subjects_compliant": 1}
    assert [(r["status"], r["subject"], r["control"], r["dataset"]) for r in example["not_in_order"]] == [
        ("error", "secretariaat", "power.ups", None),
        ("missing", "fileserver", "internet.sla", None),
        ("missing", "nas", "backup.annual_full", "fotos"),
        ("missing", "kleuterschool", "fire.protection", None),
        ("drift", "fileserver", "power.redundant_ups", None),
        ("drift", "fileserver", "backup.best_practice", "leerlingenadministratie"),
        ("drift", "fileserver", "backup.daily", "boekhouding"),
        ("drift", "fileserver", "backup.daily", "personeelsdossiers"),
        ("drift", "nas", "backup.annual_full", "lesmateriaal"),
    ]
    # the waived yearly full of 2025-09-07 is old by design; the oldest judged is nas's
    assert example["oldest_evidence"] == {"subject": "nas", "control": "backup.annual_full", "dataset": "lesmateriaal",
                                          "evidence": "last_annual", "at": "2025-09-14T04:00:00Z"}
    assert [(r["subject"], r["status"], r["detail"]) for r in jozef["not_in_order"]] == [("nas", "drift", HOSTILE)]
    assert (linde["audits"], linde["generated_at"], linde["exit_code"]) == ([], None, None)


def test_html_is_dutch_by_default_and_escapes_what_the_reports_hold(schools, capsys, tmp_path):
    code, out, _ = fleet(capsys, *[a for s in schools for a in ("-i", s)], "--format", "html",
                         "-o", str(tmp_path / "fleet.json"))
    assert code == 1
    assert "<h1>Overzicht van de scholen</h1>" in out and "nog geen audit" in out
    assert "30 november 2026, 06:00 UTC" in out and "14 september 2025, 04:00 UTC: nas, backup.annual_full" in out
    assert HOSTILE not in out and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in out
    assert json.loads((tmp_path / "fleet.json").read_text())["schools"][1]["school"] == "sint-jozef"
    _, english, _ = fleet(capsys, *[a for s in schools for a in ("-i", s)], "--format", "html", "--lang", "en")
    assert "<h1>Overview of the schools</h1>" in english and "no audit yet" in english


def test_a_jobs_report_is_a_school_too(tmp_path, capsys):
    path = tmp_path / "job.json"
    path.write_text(json.dumps(copy(REPORT, exit_code=0)))
    code, out, _ = fleet(capsys, "--report", str(path))
    assert code == 0
    assert json.loads(out)["schools"][0]["school"] == "example"  # the report's inventory names it


def test_bad_input_is_one_line(tmp_path, capsys):
    path = tmp_path / "not-a-report.json"
    path.write_text(json.dumps({"hosts": []}))
    code, _, err = fleet(capsys, "--report", str(path))
    assert code == 1
    assert err.startswith(f"{path}: not an ivpb audit report: ") and len(err.strip().splitlines()) == 1
    good = tmp_path / "job.json"
    good.write_text(json.dumps(REPORT))
    code, _, err = fleet(capsys, "--report", str(good), "-o", str(tmp_path / "x.txt"))
    assert code == 64 and err.strip() == f"--output {tmp_path / 'x.txt'}: expected a file name ending in .json or .html"
    assert main(["fleet"]) == 64
