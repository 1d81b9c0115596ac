"""Attestations (#23 item 3): `ivpb attest` records the school's statement for a control of a
system ivpb does not manage, with its evidence file's SHA-256, who, when and how long it holds;
the audit judges it like any control (holds: compliant and marked attested, expired or its file
changed or gone: drift, none: missing) and every report format says which results were attested.
On real inventories on disk, read by Ansible's loader; the time is a fixed NOW."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from ivpb import attest
from ivpb.audit.evaluate import build_report
from ivpb.cli import main, render
from ivpb.inventory import load_inventory
from ivpb.isotime import iso
from ivpb.plan import plan_inventory
from ivpb.policy import load_policy

from .helpers import write_inventory
from .test_unmanaged_declaration import ALL_LVS, HOSTS, SCHOOL

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture
def school(tmp_path) -> Path:
    inv = write_inventory(tmp_path / "school", SCHOOL, HOSTS)
    (inv / ".evidence" / "bewijs").mkdir(parents=True)
    (inv / ".evidence" / "bewijs" / "hyperbackup.txt").write_text("Hyper Backup: laatste taak geslaagd\n")
    return inv


def report(inv: Path, now: dt.datetime = NOW, lang: str = "nl") -> dict:
    inventory = load_inventory([str(inv)])
    policy = load_policy()
    return build_report(policy, inventory, plan_inventory(inventory, policy), {}, inventory.chosen(), now, lang)


def result(rep: dict, host: str, control: str, dataset: str | None = None) -> dict:
    return next(c for c in rep["hosts"][host]["controls"] if c["id"] == control and c.get("dataset") == dataset)


def attested(inv: Path, control: str = "backup.weekly", dataset: str | None = "fotos", system: str = "pc",
             at: dt.datetime = NOW - 10 * DAY, frequency: str = "quarterly", file: str = ".evidence/bewijs/hyperbackup.txt"):
    return attest.record([str(inv)], system, control, dataset, "Hyper Backup naar nas-offsite, elke nacht",
                         inv / file, "ict-coordinator", frequency, at)


def test_a_statement_that_holds_is_compliant_and_marked_attested(school):
    path, entry = attested(school)
    assert path == school / ".evidence" / "attestations.json"
    stored = json.loads(path.read_text())
    assert stored["format"] == "ivpb-attestations/1"
    assert stored["attestations"] == [{
        "control": "backup.weekly", "system": "pc", "dataset": "fotos",
        "statement": "Hyper Backup naar nas-offsite, elke nacht",
        "evidence": {"file": ".evidence/bewijs/hyperbackup.txt",
                     "sha256": hashlib.sha256(b"Hyper Backup: laatste taak geslaagd\n").hexdigest()},
        "by": "ict-coordinator", "at": "2026-11-21T09:00:00Z", "frequency": "quarterly", "valid_days": 92}]
    rep = report(school)
    r = result(rep, "pc", "backup.weekly", "fotos")
    assert (r["status"], r["basis"]) == ("compliant", "attested")
    assert r["detail"] == ("verklaard door ict-coordinator op 2026-11-21T09:00:00Z, geldig tot 2027-02-21T09:00:00Z: "
                           "Hyper Backup naar nas-offsite, elke nacht")
    assert r["evidence"]["attestation"]["sha256"] == entry["evidence"]["sha256"]
    # the other attested controls of the system have no statement yet: missing, attested too
    assert (result(rep, "pc", "backup.annual_full", "fotos")["status"], rep["hosts"]["pc"]["system_kind"]) == \
        ("missing", "windows")
    schema = json.loads(resources.files("ivpb.schemas").joinpath("report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(rep)


def test_expiry_is_drift_from_the_moment_it_has_passed(school):
    attested(school, at=NOW - 92 * DAY, frequency="quarterly")
    assert result(report(school), "pc", "backup.weekly", "fotos")["status"] == "compliant"
    later = report(school, NOW + dt.timedelta(seconds=1))
    r = result(later, "pc", "backup.weekly", "fotos")
    assert (r["status"], r["basis"]) == ("drift", "attested")
    assert r["detail"] == "verklaring van 2026-08-31T09:00:00Z verlopen op 2026-12-01T09:00:00Z"


def test_a_newer_statement_supersedes_an_older_one(school):
    attested(school, at=NOW - 100 * DAY, frequency="monthly")
    attested(school, at=NOW - 5 * DAY, frequency="weekly")
    assert result(report(school), "pc", "backup.weekly", "fotos")["status"] == "compliant"
    assert len(json.loads((school / ".evidence" / "attestations.json").read_text())["attestations"]) == 2


def test_a_changed_evidence_file_voids_it(school):
    attested(school)
    (school / ".evidence" / "bewijs" / "hyperbackup.txt").write_text("Hyper Backup: laatste taak MISLUKT\n")
    r = result(report(school, lang="en"), "pc", "backup.weekly", "fotos")
    assert r["status"] == "drift"
    assert r["detail"].startswith(f"evidence file {school}/.evidence/bewijs/hyperbackup.txt has changed (SHA-256 ")
    assert r["detail"].endswith("the attestation no longer holds")


def test_a_missing_evidence_file_voids_it(school):
    attested(school)
    (school / ".evidence" / "bewijs" / "hyperbackup.txt").unlink()
    r = result(report(school, lang="en"), "pc", "backup.weekly", "fotos")
    assert (r["status"], r["detail"]) == (
        "drift", f"evidence file {school}/.evidence/bewijs/hyperbackup.txt is missing or unreadable: the attestation no "
                 "longer holds")


def test_a_statement_for_another_data_set_or_control_counts_for_nothing(school):
    attested(school, dataset="lvs")  # the wrong data set (stored on another system)
    attested(school, control="backup.annual_full")  # the wrong control
    attested(school, system="informat", control="backup.weekly", dataset="fotos")  # the wrong system
    r = result(report(school), "pc", "backup.weekly", "fotos")
    assert (r["status"], r["detail"], r["basis"]) == (
        "missing", "geen verklaring (ivpb attest) voor deze maatregel", "attested")
    assert result(report(school), "pc", "backup.annual_full", "fotos")["status"] == "compliant"


def test_a_statement_in_the_future_does_not_hold(school):
    attested(school, at=NOW + DAY)
    r = result(report(school, lang="en"), "pc", "backup.weekly", "fotos")
    assert (r["status"], r["detail"]) == ("drift", "attestation of 2026-12-02T09:00:00Z lies in the future")


def test_the_summary_counts_checked_and_attested_results_and_every_format_says_which(school):
    attested(school)
    rep = report(school)
    applicable = sum(1 for h in rep["hosts"].values() for c in h["controls"] if c["status"] != "not_applicable")
    applicable += sum(1 for s in rep["sites"].values() for c in s["controls"] if c["status"] != "not_applicable")
    attested_n = sum(1 for h in rep["hosts"].values() for c in h["controls"] if c.get("basis") == "attested")
    assert rep["summary"]["basis"] == {"checked": applicable - attested_n, "attested": attested_n, "pulled": 0}
    assert attested_n == 3 + len(ALL_LVS)  # every applicable result of the two systems
    counts = f"Op basis van: {applicable - attested_n} gecontroleerd, {attested_n} verklaard, 0 opgehaald"
    table = render(rep, "table", "nl")
    assert counts in table and "ontbreekt (verklaard) §4  backup.annual_full [fotos]" in table
    assert "[NIET BEHEERD DOOR IVPB: WINDOWS]" in table
    markdown = render(rep, "markdown", "nl")
    assert f"**{counts}**" in markdown
    assert "#### ✔ voldoet (verklaard): `backup.weekly` [fotos]" in markdown
    assert "### pc (niet beheerd door ivpb: windows)" in markdown
    html = render(rep, "html", "nl")
    assert f"<strong>{counts}</strong>" in html and '<small class="basis">verklaard</small>' in html
    junit = render(rep, "junit", "nl")
    assert f'<property name="basis" value="{counts}" />' in junit and "Op basis van: verklaard" in junit
    metrics = render(rep, "metrics", "nl")
    assert f'ivpb_results_by_basis{{basis="attested"}} {attested_n}' in metrics
    assert 'ivpb_evidence_age_seconds{host="pc",site="school",control="backup.weekly",dataset="fotos",' \
           'evidence="attestation"} 864000' in metrics
    assert json.loads(render(rep, "json", "nl"))["summary"]["basis"]["attested"] == attested_n


def test_ivpb_attest_records_what_the_audit_asks_for(school, capsys):
    evidence = school / ".evidence" / "bewijs" / "hyperbackup.txt"
    base = ["attest", "-i", str(school), "--statement", "Hyper Backup, nachtelijk", "--evidence", str(evidence),
            "--frequency", "annually", "--by", "directie"]
    assert main([*base, "--system", "pc", "--control", "backup.weekly", "--dataset", "fotos"]) == 0
    assert "ivpb attest: backup.weekly voor pc/fotos verklaard, geldig tot " in capsys.readouterr().err
    entry = json.loads((school / ".evidence" / "attestations.json").read_text())["attestations"][0]
    assert {k: entry[k] for k in ("control", "system", "dataset", "by", "frequency", "valid_days")} == {
        "control": "backup.weekly", "system": "pc", "dataset": "fotos", "by": "directie", "frequency": "annually",
        "valid_days": 366}
    assert entry["evidence"]["file"] == ".evidence/bewijs/hyperbackup.txt"


@pytest.mark.parametrize(("args", "expected"), [
    (["--system", "pc", "--control", "backup.weekly", "--dataset", "lvs"],
     "--dataset lvs: backup.weekly applies on pc to data set fotos; expected --dataset fotos"),
    (["--system", "pc", "--control", "backup.weekly"],
     "--dataset (none): backup.weekly applies on pc to data set fotos; expected --dataset fotos"),
    (["--system", "pc", "--control", "backup.daily", "--dataset", "fotos"],
     "--control backup.daily: not planned for pc; expected one of: backup.annual_full, backup.best_practice, "
     "backup.weekly"),
    (["--system", "informat", "--control", "power.ups", "--dataset", "lvs"],
     "--dataset lvs: power.ups is a control of the system as a whole; leave --dataset out"),
    (["--system", "webserver", "--control", "backup.weekly"], "--system webserver: not a host of this inventory"),
    (["--system", "pc", "--control", "backup.weekly", "--dataset", "fotos", "--statement", "ok\nbackup.daily ok"],
     "--statement: 'ok\\nbackup.daily ok' contains a control character ('\\n' at position 2); expected one line "
     "of text"),
    (["--system", "pc", "--control", "backup.weekly", "--dataset", "fotos", "--evidence", "bewijs\x1b[2J\nok.pdf"],
     "--evidence: 'bewijs\\x1b[2J\\nok.pdf' contains a control character ('\\x1b' at position 6); expected one "
     "line of text"),
])
def test_ivpb_attest_refuses_a_statement_the_audit_does_not_ask_for(school, capsys, args, expected):
    evidence = school / ".evidence" / "bewijs" / "hyperbackup.txt"
    code = main(["attest", "-i", str(school), "--statement", "x", "--evidence", str(evidence),
                 "--frequency", "annually", *args])  # a second --statement replaces the first
    assert (code, capsys.readouterr().err) == (1, expected + "\n")
    assert not (school / ".evidence" / "attestations.json").exists()


def test_ivpb_attest_refuses_a_missing_evidence_file_and_a_managed_host(tmp_path, capsys):
    hosts = {**HOSTS, "srv": {"ivpb_site": "school", "ivpb_backup_target": "offsite",
                              "ivpb_stores": [{"dataset": "fotos2", "path": "/srv/fotos"}]}}
    school = {**SCHOOL, "ivpb_datasets": {**SCHOOL["ivpb_datasets"], "fotos2": {"biv": {"b": "laag", "i": "laag",
                                                                                          "v": "intern"}}}}
    inv = write_inventory(tmp_path / "school", school, hosts)
    base = ["attest", "-i", str(inv), "--statement", "x", "--frequency", "annually"]
    assert main([*base, "--evidence", str(tmp_path / "nope.pdf"), "--system", "pc", "--control", "backup.weekly",
                 "--dataset", "fotos"]) == 1
    assert capsys.readouterr().err == f"--evidence {tmp_path}/nope.pdf: not a readable regular file\n"
    assert main([*base, "--evidence", str(inv / "hosts.yml"), "--system", "srv", "--control", "backup.weekly",
                 "--dataset", "fotos2"]) == 1
    assert capsys.readouterr().err == ("--system srv: a managed host; its controls are checked, not attested "
                                       "(attest only for a system with ivpb_managed: false)\n")


def test_the_plans_attestations_to_make_print_no_terminal_escape_from_the_store(school, capsys):
    """A store's evidence file name (written before ivpb attest checked it, or by hand) is quoted
    in why: the table shows its control characters as \\xNN, one line per attestation, as the
    audit's text report does."""
    bad = school / ".evidence" / "x\x1b[2J\nfake: compliant.txt"
    bad.write_text("x")
    attested(school, file=f".evidence/{bad.name}")
    bad.unlink()
    assert main(["plan", "-i", str(school), "--limit", "pc"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    [line] = [line for line in out.splitlines() if line.startswith("- pc/fotos: backup.weekly: ")]
    assert "x\\x1b[2J fake: compliant.txt" in line and line.endswith("--dataset fotos ...)")


def test_one_writer_at_a_time_loses_no_statement(school):
    threads = [threading.Thread(target=attested, args=(school,), kwargs={"at": NOW - n * DAY}) for n in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    stored = json.loads((school / ".evidence" / "attestations.json").read_text())["attestations"]
    assert sorted(a["at"] for a in stored) == sorted(iso(NOW - n * DAY) for n in range(16))


def test_a_broken_store_is_one_line_not_a_silent_loss(school, capsys):
    (school / ".evidence" / "attestations.json").write_text("{not json")
    with pytest.raises(Exception) as caught:
        report(school)
    assert str(caught.value) == (f"{school}/.evidence/attestations.json: not a JSON document; expected the "
                                 "attestations ivpb attest writes")


def test_ivpb_audit_of_systems_ivpb_does_not_manage_asks_no_host(school, capsys):
    """ivpb attest then ivpb audit --limit on the system alone: nothing to check on any host, so
    no check run at all; the school's statements make it compliant, each marked attested."""
    evidence = school / ".evidence" / "bewijs" / "hyperbackup.txt"
    for control in ("backup.weekly", "backup.annual_full", "backup.best_practice"):
        assert main(["attest", "-i", str(school), "--system", "pc", "--control", control, "--dataset", "fotos",
                     "--statement", "Hyper Backup, nachtelijk", "--evidence", str(evidence),
                     "--frequency", "monthly", "--by", "directie"]) == 0
    capsys.readouterr()
    code = main(["audit", "-i", str(school), "--limit", "pc", "--no-history", "-q", "--format", "json",
                 "--project", str(Path(__file__).resolve().parents[2])])
    rep = json.loads(capsys.readouterr().out)
    assert code == 0 and list(rep["hosts"]) == ["pc"]
    assert {(c["id"], c["status"], c.get("basis")) for c in rep["hosts"]["pc"]["controls"]
            if c["status"] != "not_applicable"} == {
        ("backup.weekly", "compliant", "attested"), ("backup.annual_full", "compliant", "attested"),
        ("backup.best_practice", "compliant", "attested")}


def test_the_plan_lists_the_attestations_still_to_make_as_the_audit_judges_them(school):
    """#23: `ivpb plan` names each attested control without a statement that holds now (none,
    expired), with why in the school's words and the command that records one; a statement that
    holds is left out."""
    attested(school)  # pc backup.weekly: holds until 2027-02-21
    attested(school, control="backup.annual_full", at=NOW - 100 * DAY, frequency="quarterly")  # expired
    inventory = load_inventory([str(school)])
    plan = plan_inventory(inventory, load_policy())
    todo = attest.to_make(inventory, plan, sorted(plan.hosts), NOW, "nl")
    assert [(a["system"], a["control"], a["dataset"]) for a in todo] == [
        *(("informat", c, "lvs" if c.startswith("backup.") else None) for c in ALL_LVS),
        ("pc", "backup.annual_full", "fotos"), ("pc", "backup.best_practice", "fotos")]
    expired = todo[-2]
    assert expired["why"] == "verklaring van 2026-08-23T09:00:00Z verlopen op 2026-11-23T09:00:00Z"
    assert expired["command"] == "ivpb attest --system pc --control backup.annual_full --dataset fotos"
    assert todo[0]["command"] == "ivpb attest --system informat --control power.ups"
    assert attest.to_make(inventory, plan, ["pc"], NOW, "en")[-1]["why"] == \
        "no attestation (ivpb attest) for this control"
    # the audit at the same moment: exactly these are not compliant among the attested results
    rep = report(school)
    assert {(h, c["id"], c.get("dataset")) for h in ("informat", "pc") for c in rep["hosts"][h]["controls"]
            if c.get("basis") == "attested" and c["status"] != "compliant"} == \
        {(a["system"], a["control"], a["dataset"]) for a in todo}


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_ivpb_plans_document_for_the_director_lists_them_too(school, capsys, fmt):
    assert main(["plan", "-i", str(school), "--limit", "pc", "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert "Nog te verklaren (3)" in out and "Commando" in out
    assert "ivpb attest --system pc --control backup.weekly --dataset fotos" in out
    # the why is the audit's word, escaped for the format like every other cell
    assert "geen verklaring (ivpb attest) voor deze maatregel" in out


def test_ivpb_plan_shows_them_in_the_table_and_the_json(school, capsys):
    assert main(["plan", "-i", str(school), "--limit", "pc"]) == 0
    out = capsys.readouterr().out
    assert ("Nog te verklaren (3): maatregelen van systemen die ivpb niet beheert, zonder geldige verklaring "
            "(de audit vraagt ze)") in out
    assert ("- pc/fotos: backup.weekly: geen verklaring (ivpb attest) voor deze maatregel (ivpb attest --system pc "
            "--control backup.weekly --dataset fotos ...)") in out
    assert "informat" not in out
    assert main(["plan", "-i", str(school), "--format", "json", "--lang", "en"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["to_attest"]) == len(ALL_LVS) + 3
    assert doc["to_attest"][0] == {"system": "informat", "control": "power.ups", "dataset": None,
                                   "why": "no attestation (ivpb attest) for this control",
                                   "command": "ivpb attest --system informat --control power.ups"}
