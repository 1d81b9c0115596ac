"""Restore drills: the evidence ivpb restore --drill records, and the audit's judging of it
under backup.best_practice, with an injected clock (never the real one)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

from ivpb import drills
from ivpb.audit.evaluate import build_report
from ivpb.audit.results import HostResults
from ivpb.inventory import Inventory
from ivpb.isotime import iso
from ivpb.plan import plan_inventory
from ivpb.policy import load_policy
from ivpb.restore import Restored

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


def with_drills(inv: Inventory, folder: Path, drilled: dict[tuple[str, str], dt.datetime],
                result: str = "ok", sample: str | None = None) -> Inventory:
    """inv with an inventory directory holding one recorded drill per (host, data set) at the time given."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / drills.FOLDER).mkdir(exist_ok=True)
    out = dataclasses.replace(inv, sources=(str(folder),))
    for (host, ds), when in drilled.items():
        r = Restored(host=host, dataset=ds, kind="chain", generation=when - dt.timedelta(hours=9), started=when,
                     finished=when + dt.timedelta(seconds=83), receiver="nas2", directory=f"/srv/backup/{host}/{ds}/chain",
                     manifest="nas2:/srv/backup/x.json", files=12, bytes=34567, sample=sample)
        if result != "ok":
            r.problems = ["1 file(s) differ"]
        drills.record(out.sources, r, "tester@laptop")
    return out


def school(b="belangrijk"):
    common = {
        "ivpb_datasets": {"admin": {"biv": {"b": b, "i": "laag", "v": "intern"}}},
        "ivpb_sites": {"school": {}, "filiaal": {}},
        "ivpb_backup_targets": {"off": {"host": "nas2"}},
    }
    return Inventory(hosts={
        "srv1": {**common, "ivpb_site": "school", "ivpb_backup_target": "off",
                 "ivpb_stores": [{"dataset": "admin", "path": "/srv/admin"}]},
        "nas2": {**common, "ivpb_site": "filiaal"},
    })


def practice_ok(now: dt.datetime) -> dict:
    """Fresh verify and protected generation at the injected time: only the drill decides."""
    return {"keep_full": 4, "last_verify": iso(now - dt.timedelta(days=3)),
            "protected_generation": iso(now - dt.timedelta(hours=11))}


def practice(inv: Inventory, now: dt.datetime = NOW, lang: str = "nl") -> dict:
    policy = load_policy()
    results = {"srv1": HostResults(controls=[{"id": "backup.best_practice", "dataset": "admin", "status": "compliant",
                                              "detail": "keep 4", "evidence": practice_ok(now)}],
                                   host_time=now.strftime("%Y-%m-%dT%H:%M:%SZ")),
               "nas2": HostResults()}
    rep = build_report(policy, inv, plan_inventory(inv, policy), results, list(inv.hosts), now, lang)
    [entry] = [c for c in rep["hosts"]["srv1"]["controls"] if c["id"] == "backup.best_practice"]
    return entry


def test_a_drill_records_its_evidence_in_the_inventory(tmp_path):
    inv = with_drills(school(), tmp_path / "inv", {("srv1", "admin"): NOW})
    [f] = list((tmp_path / "inv" / ".evidence" / "drills" / "srv1" / "admin").glob("*.json"))
    assert f.name == "20261129T120000Z.json"
    doc = json.loads(f.read_text())
    assert (doc["result"], doc["rto_seconds"], doc["rpo_seconds"], doc["files_checked"], doc["bytes_checked"]) == \
        ("ok", 83.0, 9 * 3600.0, 12, 34567)
    assert doc["generation"] == "2026-11-29T03:00:00Z" and doc["by"] == "tester@laptop"
    assert drills.load(inv.sources, "srv1", "admin")[0]["started"] == "2026-11-29T12:00:00Z"


def test_written_into_the_source_that_has_an_evidence_folder(tmp_path):
    a, b = tmp_path / "school", tmp_path / "extra"
    a.mkdir()
    (b / drills.FOLDER).mkdir(parents=True)
    assert drills.home((str(a), str(b))) == b / drills.FOLDER
    assert drills.home((str(a), str(tmp_path / "x.yml"))) == a / drills.FOLDER


def test_no_drill_is_drift_a_recent_one_compliant_with_rto_and_rpo(tmp_path):
    entry = practice(school())
    assert entry["status"] == "drift" and "geen geslaagde hersteltest" in entry["detail"]
    inv = with_drills(school(), tmp_path / "inv", {("srv1", "admin"): NOW - dt.timedelta(days=30)})
    entry = practice(inv)
    assert entry["status"] == "compliant", entry["detail"]
    assert "RTO 1 min 23 s" in entry["detail"] and "RPO 9 u 0 min" in entry["detail"]
    assert entry["evidence"]["last_drill"]["rto_seconds"] == 83.0
    assert entry["evidence"]["drill_max_age_days"] == 365


def test_drift_once_the_drill_is_older_than_the_interval_of_its_availability_level(tmp_path):
    drilled = NOW - dt.timedelta(days=100)
    inv = with_drills(school("belangrijk"), tmp_path / "a", {("srv1", "admin"): drilled})
    assert practice(inv)["status"] == "compliant"                          # once per school year
    assert practice(inv, now=drilled + dt.timedelta(days=366))["status"] == "drift"
    inv = with_drills(school("noodzakelijk"), tmp_path / "b", {("srv1", "admin"): drilled})
    entry = practice(inv)                                                  # each term (92 days)
    assert entry["status"] == "drift" and "100 d oud, meer dan 92 d" in entry["detail"], entry["detail"]
    assert practice(inv, now=drilled + dt.timedelta(days=91))["status"] == "compliant"
    en = practice(inv, lang="en")
    assert "last successful restore drill" in en["detail"] and "availability noodzakelijk" in en["detail"]


def test_a_failed_drill_does_not_count_and_other_findings_stay(tmp_path):
    inv = with_drills(school(), tmp_path / "inv", {("srv1", "admin"): NOW - dt.timedelta(days=1)}, result="failed")
    entry = practice(inv)
    assert entry["status"] == "drift" and "MISLUKT" in entry["detail"]
    # a drill in the future (a wrong clock) is no proof either
    inv = with_drills(school(), tmp_path / "f", {("srv1", "admin"): NOW + dt.timedelta(days=2)})
    assert practice(inv)["status"] == "drift"


def test_a_sample_drill_is_recorded_as_partial_and_never_counts(tmp_path):
    """A --sample drill restored one path, not the data set (issue #22 item 7): it is shown as
    the last drill, marked as a sample, and the data set stays without a drill."""
    inv = with_drills(school(), tmp_path / "inv", {("srv1", "admin"): NOW - dt.timedelta(days=1)}, sample="sub dir")
    [doc] = drills.load(inv.sources, "srv1", "admin")
    assert doc["result"] == "ok" and doc["partial"] is True and doc["sample"] == "sub dir"
    entry = practice(inv)
    assert entry["status"] == "drift" and "geen geslaagde hersteltest" in entry["detail"], entry["detail"]
    assert "alleen sub dir geslaagd (gedeeltelijk" in entry["detail"], entry["detail"]
    # an older evidence file with only the sample named counts no more
    Path(doc["file"]).write_text(json.dumps({k: v for k, v in doc.items() if k not in ("partial", "file")}))
    assert practice(with_drills(inv, tmp_path / "inv", {}))["status"] == "drift"


def test_a_broken_evidence_file_is_skipped_not_trusted(tmp_path):
    inv = with_drills(school(), tmp_path / "inv", {})
    d = tmp_path / "inv" / drills.FOLDER / "drills" / "srv1" / "admin"
    d.mkdir(parents=True)
    (d / "20261128T000000Z.json").write_text("{broken")
    (d / "20261127T000000Z.json").write_text(json.dumps({"format": drills.FORMAT, "host": "other",
                                                          "dataset": "admin", "started": "2026-11-27T00:00:00Z",
                                                          "result": "ok"}))
    assert practice(inv)["status"] == "drift"


def test_a_drill_files_value_that_is_no_number_is_written_as_unknown_and_the_audit_goes_on(tmp_path):
    """Findings are Messages until the result is written; a parameter read from a drill file that
    no cache can key on (a list) is still written, as '?'."""
    inv = with_drills(school(), tmp_path / "inv", {})
    d = tmp_path / "inv" / drills.FOLDER / "drills" / "srv1" / "admin"
    d.mkdir(parents=True)
    (d / "20261129T100000Z.json").write_text(json.dumps({
        "format": drills.FORMAT, "host": "srv1", "dataset": "admin", "started": "2026-11-29T10:00:00Z",
        "result": "ok", "rto_seconds": [1, 2], "rpo_seconds": {"a": 1}}))
    entry = practice(inv, lang="en")
    assert entry["status"] == "compliant", entry
    assert "RTO ?, RPO ?" in entry["detail"], entry["detail"]


def test_a_sample_drill_is_partial_and_never_makes_best_practice_compliant(tmp_path):
    """--drill --sample restores and checks one path: it is recorded (with the path), shown as
    partial, and never counts as the data set's drill, however recent and successful."""
    folder = tmp_path / "inv"
    inv = with_drills(school(), folder, {})
    when = NOW - dt.timedelta(days=1)
    r = Restored(host="srv1", dataset="admin", kind="chain", generation=when - dt.timedelta(hours=9), started=when,
                 finished=when + dt.timedelta(seconds=5), receiver="nas2", directory="/srv/backup/srv1/admin/chain",
                 manifest="nas2:/srv/backup/x.json", files=1, bytes=10, sample="leerlingen/2026.pdf")
    drills.record(inv.sources, r, "tester@laptop")
    entry = practice(inv)
    assert entry["status"] == "drift"
    [doc] = drills.load(inv.sources, "srv1", "admin")
    assert doc["result"] == "ok" and doc["sample"] == "leerlingen/2026.pdf" and drills.partial(doc)
    assert "geen geslaagde hersteltest (ivpb restore --drill, zonder --sample)" in entry["detail"]
    assert "alleen leerlingen/2026.pdf geslaagd (gedeeltelijk" in entry["detail"]
    assert entry["evidence"]["last_drill"]["sample"] == "leerlingen/2026.pdf"
    # a full drill before it still counts: the sample neither replaces nor adds to it
    full = with_drills(inv, folder, {("srv1", "admin"): NOW - dt.timedelta(days=30)})
    assert practice(full)["status"] == "compliant"
    assert "passed for leerlingen/2026.pdf only" in practice(full, lang="en")["detail"]
