"""Judging: module findings + evidence freshness + §5 records + waivers -> statuses and exit code.
The inputs are what modules return (their `controls`), the outputs the report that the JSON
Schema shipped with the project accepts."""

from __future__ import annotations

import copy
import datetime as dt
import json
from importlib import resources

import jsonschema
import pytest

from ivpb.audit.evaluate import RECEIVER_JUDGES, build_report, school_year
from ivpb.audit.results import HostResults, attach_protected, record
from ivpb.inventory import Inventory
from ivpb.plan import plan_inventory
from ivpb.policy import load_policy
from ivpb.roles import receivers_of

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
SCHEMA = json.loads(resources.files("ivpb.schemas").joinpath("report.schema.json").read_text())


def school(waivers=None, safety_date="2026-03-12"):
    common = {
        "ivpb_datasets": {
            "admin": {"biv": {"b": "belangrijk", "i": "laag", "v": "intern"}},
            "scans": {"biv": {"b": "laag", "i": "laag", "v": "intern"}, "archive": False},
        },
        "ivpb_sites": {
            "school": {
                "fire_protection": {
                    "measures": ["rookmelder"],
                    "safety_plan": {"reference": "VP-1", "date": safety_date},
                }
            },
            "filiaal": {
                "fire_protection": {"measures": ["blusser"], "safety_plan": {"reference": "VP-2", "date": "2026-05-01"}}
            },
        },
        "ivpb_backup_targets": {"off": {"host": "nas2"}},
        "ivpb_waivers": waivers or [],
    }
    hosts = {
        "srv1": {
            **common,
            "ivpb_site": "school",
            "ivpb_backup_target": "off",
            "ivpb_stores": [{"dataset": "admin", "path": "/srv/admin"}, {"dataset": "scans", "path": "/srv/scans"}],
        },
        "nas2": {**common, "ivpb_site": "filiaal"},
    }
    return Inventory(hosts=hosts)


def finding(cid, status="compliant", dataset=None, **evidence):
    out = {"id": cid, "status": status, "detail": f"{cid} {status}", "evidence": evidence}
    if dataset:
        out["dataset"] = dataset
    return out


FRESH = "2026-11-29T01:00:00Z"
UPS_OK = {"monitored": ["ups1@nut"], "reachable": ["ups1@nut"], "status": {"ups1@nut": "OL"}}
PRACTICE_OK = {"keep_full": 4, "last_verify": "2026-11-26T03:00:00Z", "protected_generation": FRESH}


def all_good():
    return [
        {"id": "power.ups", "status": "compliant", "detail": "upsmon", "evidence": UPS_OK},
        finding("backup.daily", dataset="admin", last_backup=FRESH),
        finding("backup.weekly", dataset="scans", last_backup="2026-11-25T01:00:00Z"),
        finding("backup.annual_full", dataset="admin", last_annual="2026-2027 2026-09-14T02:00:00Z"),
        finding("backup.best_practice", dataset="admin", **PRACTICE_OK),
        finding("backup.best_practice", dataset="scans", **PRACTICE_OK),
    ]


def report(controls, inv=None, reachable=True, failures=()):
    inv = inv or school()
    policy = load_policy()
    results = {
        "srv1": HostResults(
            reachable=reachable, unreachable_msg="ssh: connect refused", failures=list(failures), controls=controls,
            host_time="2026-11-29T12:00:30Z",
        ),
        # the receiver answered: its newest sealed backups are the client's newest ones
        "nas2": HostResults(reachable=True, protected={"srv1": {"admin": FRESH, "scans": "2026-11-25T01:00:00Z"}}),
    }
    attach_protected(results, {c.id for c in policy.controls if c.judge in RECEIVER_JUDGES}, receivers_of(inv))
    rep = build_report(policy, inv, plan_inventory(inv, policy), results, list(inv.hosts), NOW)
    jsonschema.validate(rep, SCHEMA)
    return rep


def status(rep, cid, dataset=None, host="srv1"):
    [entry] = [c for c in rep["hosts"][host]["controls"] if c["id"] == cid and c.get("dataset") == dataset]
    return entry


def test_all_compliant_exits_0_and_lists_every_control(tmp_path):
    from .test_drills import with_drills  # a restore drill of each data set (#16)

    drilled = NOW - dt.timedelta(days=7)
    rep = report(all_good(), inv=with_drills(school(), tmp_path, {("srv1", "admin"): drilled, ("srv1", "scans"): drilled}))
    assert rep["exit_code"] == 0
    ids = {c["id"] for c in rep["hosts"]["srv1"]["controls"]}
    assert ids == {c.id for c in load_policy().controls if c.scope != "site"}
    assert status(rep, "internet.failover")["status"] == "not_applicable"
    assert rep["sites"]["school"]["controls"][0]["status"] == "compliant"
    assert rep["sites"]["filiaal"]["controls"][0]["status"] == "compliant"  # receives srv1's backups
    assert rep["summary"]["clauses"]["§4"]["subjects_compliant"] == 1


def test_stale_daily_backup_is_drift_even_with_a_right_cron_line():
    controls = all_good()
    controls[1] = finding("backup.daily", dataset="admin", last_backup="2026-11-28T09:00:00Z")  # 27 h
    rep = report(controls)
    entry = status(rep, "backup.daily", "admin")
    assert entry["status"] == "drift" and "27" in entry["detail"]
    assert rep["exit_code"] == 2


def test_weekly_allows_eight_days_and_no_backup_at_all_is_drift():
    controls = all_good()
    controls[2] = finding("backup.weekly", dataset="scans", last_backup="2026-11-20T13:00:00Z")  # 8 d 23 h
    assert status(report(controls), "backup.weekly", "scans")["status"] == "drift"
    controls[2] = finding("backup.weekly", dataset="scans")
    assert status(report(controls), "backup.weekly", "scans")["status"] == "drift"


def test_annual_full_must_be_in_the_current_school_year():
    assert school_year(dt.date(2026, 8, 31))[2] == "2025-2026"
    assert school_year(dt.date(2026, 9, 1))[2] == "2026-2027"
    controls = all_good()
    controls[3] = finding("backup.annual_full", dataset="admin", last_annual="2025-2026 2026-06-30T02:00:00Z")
    entry = status(report(controls), "backup.annual_full", "admin")
    assert entry["status"] == "drift" and "2026-2027" in entry["detail"]


def test_unreachable_host_is_error_and_exit_1():
    rep = report([], reachable=False)
    assert status(rep, "power.ups")["status"] == "error"
    assert status(rep, "power.ups")["detail"] == "niet gecontroleerd: host onbereikbaar"
    assert rep["hosts"]["srv1"]["unreachable_reason"] == "ssh: connect refused"
    assert rep["exit_code"] == 1


def test_control_nobody_reported_is_error_not_compliant():
    rep = report(all_good()[1:])
    assert status(rep, "power.ups")["status"] == "error"


def test_drift_carries_the_diff_from_the_module_result():
    results: dict[str, HostResults] = {}
    res = {
        "changed": True,
        "controls": [finding("power.ups", "drift")],
        "diff": [{"before_header": "/etc/nut/upsmon.conf", "before": "MONITOR a", "after": "MONITOR b"}],
    }
    record(results, "runner_on_ok", "srv1", res, "nut_client")
    rep = report(results["srv1"].controls + all_good()[1:])
    entry = status(rep, "power.ups")
    assert entry["status"] == "drift"
    assert entry["diff"] == [{"path": "/etc/nut/upsmon.conf", "before": "MONITOR a", "after": "MONITOR b"}]


@pytest.mark.parametrize(("expires", "expected"), [("2027-01-31", "waived"), ("2026-11-28", "drift")])
def test_waiver_applies_until_it_expires(expires, expected):
    waiver = {
        "control": "power.ups",
        "host": "srv1",
        "justification": "UPS wordt in januari geleverd",
        "approver": "directie",
        "expires": expires,
    }
    controls = [finding("power.ups", "drift"), *all_good()[1:]]
    entry = status(report(controls, inv=school([waiver])), "power.ups")
    assert entry["status"] == expected
    assert entry["waiver"]["active"] is (expected == "waived")
    assert entry["waiver"]["underlying_status"] == "drift"


def test_fire_safety_plan_older_than_a_year_is_missing():
    rep = report(all_good(), inv=school(safety_date="2025-10-01"))
    entry = rep["sites"]["school"]["controls"][0]
    assert entry["status"] == "missing" and "365" in entry["detail"]
    assert rep["exit_code"] == 2


def test_several_findings_for_one_control_the_worst_stands_and_odd_entries_match_nothing():
    controls = [
        *all_good(),
        finding("backup.daily", "drift", dataset="admin", last_backup=FRESH),
        finding("backup.daily", "compliant", dataset="admin", last_backup=FRESH),
        {"id": ["power.ups"], "status": "error"},
        {"id": "power.ups", "dataset": ["x"], "status": "error"},
    ]
    rep = report(controls)
    assert status(rep, "backup.daily", "admin")["status"] == "drift"
    assert status(rep, "power.ups")["status"] == "compliant"


def test_failover_is_judged_from_the_router_the_host_goes_through():
    inv = school()
    srv1 = inv.hosts["srv1"] = copy.deepcopy(inv.hosts["srv1"])
    srv1["ivpb_datasets"]["admin"]["biv"]["b"] = "noodzakelijk"
    srv1.update(ivpb_needs_internet=True, ivpb_internet_via="nas2")
    policy = load_policy()
    plan = plan_inventory(inv, policy)
    assert "internet.failover" in plan.hosts["srv1"].control_ids()
    results = {
        "srv1": HostResults(controls=all_good()),
        "nas2": HostResults(controls=[finding("internet.failover", "drift")]),
    }
    rep = build_report(policy, inv, plan, results, list(inv.hosts), NOW)
    assert status(rep, "internet.failover")["status"] == "drift"
    assert status(rep, "internet.failover")["detail"] == "internet.failover drift"


def test_evidence_of_the_wrong_type_is_no_backup_not_a_traceback():
    controls = all_good()
    controls[1] = finding("backup.daily", dataset="admin", last_backup=["2026-11-29T01:00:00Z"])
    controls[3] = finding("backup.annual_full", dataset="admin", last_annual={"year": "2026-2027"})
    rep = report(controls)
    assert status(rep, "backup.daily", "admin")["detail"] == "geen geslaagde backup gevonden"
    assert status(rep, "backup.annual_full", "admin")["status"] == "drift"
    assert status(rep, "backup.weekly", "scans")["status"] == "compliant"


@pytest.mark.parametrize("enabled", [True, False])
def test_judging_and_rendering_leave_the_cyclic_collector_as_they_found_it(enabled):
    import gc

    from ivpb.render.formats import render

    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        rep = report(all_good())
        assert gc.isenabled() is enabled
        for fmt in ("json", "table", "junit", "markdown", "html"):
            assert render(rep, fmt, "nl")
            assert gc.isenabled() is enabled
        with pytest.raises(KeyError):
            render(rep, "pdf", "nl")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_a_finding_gets_the_diffs_its_module_names_and_the_result_carries_each_text_once():
    """backup_job names the paths of its drift's changes (diff_paths) instead of copying the diff
    texts into every control: a fresh host's result stays under ansible-runner's MAX_EVENT_RES,
    above which the event arrives without a result and every control is "not checked"."""
    diff = [{"before_header": p, "after_header": p, "before": "", "after": f"new {p}\n"} for p in ("/a", "/b", "/c")]
    controls = [{"id": "backup.daily", "dataset": "x", "status": "drift", "diff_paths": ["/a", "/c"]},
                {"id": "backup.encrypted", "dataset": "x", "status": "drift", "diff_paths": []},
                {"id": "power.ups", "status": "drift"}]  # a module that names nothing: every diff
    results: dict[str, HostResults] = {}
    record(results, "runner_on_ok", "h", {"changed": True, "controls": controls, "diff": diff}, "task")
    got = {c["id"]: [d["path"] for d in c.get("diff", [])] for c in results["h"].controls}
    assert got == {"backup.daily": ["/a", "/c"], "backup.encrypted": [], "power.ups": ["/a", "/b", "/c"]}
    assert all("diff_paths" not in c for c in results["h"].controls)
