"""Strict judging of the modules' evidence (issue #13), one row per rule, with an injected clock.

Each row is what a module reports for one control as `compliant` (its configuration is right);
the audit must still say drift, with the reason, whenever the evidence does not hold: a failed
run since the last success, a too old or future timestamp, a missing key the judging needs, too
few uplinks or no default route, a UPS not reached through NUT. Thresholds come from the policy
file (its `evidence` section), and a school's own policy file may change them."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml

from ivpb.audit.evaluate import Limits, Verdict, _judge, build_report, clock_skew, school_year
from ivpb.audit.results import HostResults, attach_protected, record
from ivpb.i18n import Message, msg
from ivpb.inventory import Inventory
from ivpb.plan import plan_inventory
from ivpb.policy import load_policy
from ivpb.roles import receivers_of

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
YEAR = school_year(NOW.date())
LIMITS = Limits.of(load_policy())
FAIL = {"at": "2026-11-29T02:00:00Z", "reason": "duplicity: volume 3 corrupt"}
PRACTICE = {"keep_full": 4, "last_verify": "2026-11-26T03:00:00Z", "protected_generation": "2026-11-29T01:00:00Z"}
SYNC = {"last_sync": "2026-11-29T11:30:00Z", "heartbeat_minutes": 30}
FAILOVER = {
    "active": "wan1",
    "route": "via 10.203.21.1 dev wan1",
    "probes": {"wan1": {"state": "online", "since": "2026-11-01T00:00:00Z"}, "wan2": {"state": "online"}},
}
UPS = {"monitored": ["a@nut", "b@nut"], "reachable": ["a@nut", "b@nut"], "status": {"a@nut": "OL", "b@nut": "OL"}}


def both(stamp: str, **more) -> dict:
    """A backup's evidence: the client's last successful backup and the receiver's newest sealed
    one (results.attach_protected), the same time."""
    return {"last_backup": stamp, "protected_generation": stamp, **more}


def judged(cid: str, evidence: dict, lang: str = "en", limits: Limits = LIMITS, skew: Message | None = None) -> dict:
    verdict = Verdict("compliant", (msg("finding.module_quoted", detail="configured"),), evidence=evidence)
    got = _judge(cid, verdict, limits, NOW, YEAR, skew)
    return {"status": got.status, "detail": got.detail(lang)}


CASES = [
    # backup.daily / backup.weekly: last_backup, run_failed
    ("daily fresh", "backup.daily", both("2026-11-29T01:00:00Z"), "compliant", "configured"),
    ("daily at the bound", "backup.daily", both("2026-11-28T10:00:00Z"), "compliant", "configured"),
    ("daily 27 h", "backup.daily", both("2026-11-28T09:00:00Z"), "drift", "27 h old, at most 26 h"),
    ("daily none", "backup.daily", {}, "drift", "no successful backup found"),
    ("daily failed since", "backup.daily", both("2026-11-29T01:00:00Z", run_failed=FAIL), "drift",
     "last backup run failed at 2026-11-29 02:00 UTC, after the last success: duplicity: volume 3 corrupt"),
    ("daily future beyond skew", "backup.daily", both("2026-11-29T12:06:00Z"), "drift",
     "lies 6 min in the future"),
    ("daily future within skew", "backup.daily", both("2026-11-29T12:04:00Z"), "compliant",
     "configured"),
    ("daily far future", "backup.daily", both("2099-01-01T00:00:00Z"), "drift", "in the future"),
    ("weekly 7 d", "backup.weekly", both("2026-11-22T13:00:00Z"), "compliant", "configured"),
    ("weekly 9 d", "backup.weekly", both("2026-11-20T11:00:00Z"), "drift", "9 d 1 h old, at most 8 d"),
    # the receiver's word: the newest backup it sealed out of the client's reach must be as recent
    ("daily fresh, the receiver's copy 2 days old", "backup.daily",
     {"last_backup": "2026-11-29T01:00:00Z", "protected_generation": "2026-11-27T01:00:00Z"}, "drift",
     "newest generation held out of the client's reach 2026-11-27 01:00 UTC is 59 h old, at most 26 h"),
    ("daily fresh, the receiver holds none", "backup.daily", {"last_backup": "2026-11-29T01:00:00Z"}, "drift",
     "no generation held out of the client's reach reported (protected_generation missing)"),
    ("weekly failed", "backup.weekly", both("2026-11-25T01:00:00Z", run_failed=FAIL), "drift",
     "failed at"),
    # backup.annual_full: last_annual, annual_failed
    ("annual this year", "backup.annual_full", {"last_annual": "2026-2027 2026-09-14T02:00:00Z"}, "compliant",
     "configured"),
    ("annual last year", "backup.annual_full", {"last_annual": "2025-2026 2026-06-30T02:00:00Z"}, "drift",
     "no full backup in school year 2026-2027"),
    ("annual failed", "backup.annual_full", {"last_annual": "2026-2027 2026-09-14T02:00:00Z", "annual_failed": FAIL},
     "drift", "annual full backup failed at"),
    ("annual future", "backup.annual_full", {"last_annual": "2026-2027 2027-03-01T00:00:00Z"}, "drift",
     "in the future"),
    # backup.best_practice: verify_failed, last_verify, protected_generation
    ("practice ok", "backup.best_practice", PRACTICE, "compliant", "configured"),
    ("practice old 'ok <ISO>' form", "backup.best_practice", {**PRACTICE, "last_verify": "ok 2026-11-26T03:00:00Z"},
     "compliant", "configured"),
    ("verify failed", "backup.best_practice", {**PRACTICE, "verify_failed": FAIL}, "drift",
     "verify failed at 2026-11-29 02:00 UTC, after the last success: duplicity: volume 3 corrupt"),
    ("verify months old", "backup.best_practice", {**PRACTICE, "last_verify": "2026-08-01T03:00:00Z"}, "drift",
     "last successful verify 2026-08-01 03:00 UTC is 120 d 9 h old, at most 8 d"),
    ("verify 9 days", "backup.best_practice", {**PRACTICE, "last_verify": "2026-11-20T11:00:00Z"}, "drift",
     "at most 8 d"),
    ("verify never", "backup.best_practice", {"keep_full": 4, "protected_generation": "2026-11-29T01:00:00Z"},
     "drift", "no successful verify reported (last_verify missing)"),
    ("verify future", "backup.best_practice", {**PRACTICE, "last_verify": "2027-01-01T00:00:00Z"}, "drift",
     "in the future"),
    ("no protected generation", "backup.best_practice", {"keep_full": 4, "last_verify": "2026-11-26T03:00:00Z"},
     "drift", "no generation held out of the client's reach reported (protected_generation missing)"),
    ("protected generation old", "backup.best_practice",
     {**PRACTICE, "protected_generation": "2026-10-01T00:00:00Z"}, "drift", "newest generation held out"),
    # backup.sync_offsite: sync_failed, last_sync, heartbeat_minutes
    ("sync current", "backup.sync_offsite", SYNC, "compliant", "configured"),
    ("sync at the bound (2 x 30 + 15 min)", "backup.sync_offsite", {**SYNC, "last_sync": "2026-11-29T10:45:00Z"},
     "compliant", "configured"),
    ("sync too old", "backup.sync_offsite", {**SYNC, "last_sync": "2026-11-29T10:44:00Z"}, "drift",
     "last complete offsite sync 2026-11-29 10:44 UTC is 1 h 16 min old, at most 1 h 15 min"),
    ("a faster heartbeat judges stricter", "backup.sync_offsite", {"heartbeat_minutes": 10, "last_sync": "2026-11-29T11:20:00Z"},
     "drift", "is 40 min old, at most 35 min"),
    ("sync failed since", "backup.sync_offsite", {**SYNC, "sync_failed": FAIL}, "drift", "offsite sync failed at"),
    ("sync never", "backup.sync_offsite", {"heartbeat_minutes": 30, "sync_failed": FAIL}, "drift",
     "no successful complete offsite sync reported (last_sync missing)"),
    ("lsyncd runs, nothing else known", "backup.sync_offsite", {"service": "lsyncd"}, "drift",
     "heartbeat_minutes -; expected more than 0, at most 30"),
    # a host claiming a slower heartbeat than the module sets (to stretch the bound), or one no
    # time span can be made of, is no heartbeat at all
    *[(f"heartbeat {value!r}", "backup.sync_offsite", {**SYNC, "heartbeat_minutes": value}, "drift",
       f"heartbeat_minutes {str(value)[:40]}; expected")
      for value in (60, 1e300, 10**400, float("nan"), float("inf"), "30", True, 0, -5)],
    ("sync future", "backup.sync_offsite", {**SYNC, "last_sync": "2026-12-01T00:00:00Z"}, "drift", "in the future"),
    # internet.failover: probes, route
    ("two uplinks online", "internet.failover", FAILOVER, "compliant", "configured"),
    ("both uplinks down", "internet.failover",
     {"active": "wan1", "route": None, "probes": {"wan1": {"state": "offline", "since": "2026-11-02T00:00:00Z"},
                                                   "wan2": {"state": "offline", "since": "2026-11-03T00:00:00Z"}}},
     "drift", "0 of 2 uplinks online, at least 2 needed: wan1 offline (since 2026-11-02T00:00:00Z), "
              "wan2 offline (since 2026-11-03T00:00:00Z); no active default route"),
    ("one uplink down", "internet.failover",
     {**FAILOVER, "probes": {"wan1": {"state": "online"}, "wan2": {"state": "offline"}}}, "drift",
     "1 of 2 uplinks online"),
    ("no default route", "internet.failover", {**FAILOVER, "route": None}, "drift", "no active default route"),
    ("no probe states", "internet.failover", {"route": "via x dev wan1"}, "drift", "no uplink probe states"),
    # power: reached through NUT now
    ("ups reached", "power.ups", UPS, "compliant", "configured"),
    ("redundant, both reached", "power.redundant_ups", UPS, "compliant", "configured"),
    ("redundant, one reached", "power.redundant_ups", {**UPS, "reachable": ["a@nut"],
                                                      "status": {"a@nut": "OL", "b@nut": "unreachable"}},
     "drift", "1 of 2 UPS(es) reached through NUT now, 2 needed: a@nut OL, b@nut unreachable"),
    ("ups not reached", "power.ups", {**UPS, "reachable": [], "status": {"a@nut": "unreachable"}}, "drift",
     "0 of 1 UPS(es) reached"),
    ("ups only configured", "power.ups", {"monitored": ["a@nut"]}, "drift", "no UPS status read"),
    # controls without evidence rules stay as the module said
    ("encrypted", "backup.encrypted", {}, "compliant", "configured"),
]


@pytest.mark.parametrize(("name", "cid", "evidence", "expected", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_evidence_rule(name, cid, evidence, expected, fragment):
    entry = judged(cid, evidence)
    assert entry["status"] == expected, entry["detail"]
    assert fragment in entry["detail"]


@pytest.mark.parametrize(("name", "cid", "evidence", "expected", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_every_reason_has_a_dutch_sentence(name, cid, evidence, expected, fragment):
    entry = judged(cid, evidence, lang="nl")
    assert entry["status"] == expected
    assert "{" not in entry["detail"]


def test_every_failing_reason_is_named_not_only_the_first():
    entry = judged("backup.best_practice", {"verify_failed": FAIL, "keep_full": 4})
    assert entry["detail"].count(";") == 2
    assert "verify failed" in entry["detail"] and "last_verify missing" in entry["detail"]
    assert "protected_generation missing" in entry["detail"]


def test_a_module_finding_other_than_compliant_is_left_as_it_is():
    verdict = Verdict("error", (msg("finding.module_failed", detail="missing: duplicity"),), evidence={})
    assert _judge("backup.daily", verdict, LIMITS, NOW, YEAR) is verdict


@pytest.mark.parametrize(
    ("host_time", "finding"),
    [
        ("2026-11-29T12:04:59Z", None),
        ("2026-11-29T11:55:00Z", None),
        ("2026-11-29T13:00:00Z", "host clock (2026-11-29 13:00 UTC) is 1 h off"),
        ("2026-11-27T12:00:00Z", "host clock (2026-11-27 12:00 UTC) is 48 h off"),
        ("not a time", "host clock not reported (host_time missing or not a time: not a time)"),
        (None, "host clock not reported (host_time missing or not a time: -)"),
    ],
)
def test_clock_skew(host_time, finding):
    got = clock_skew(host_time, NOW, LIMITS)
    assert got == finding if finding is None else got.text("en").startswith(finding)


def test_a_host_clock_far_off_is_a_finding_on_each_timestamped_control():
    skew = clock_skew("2026-11-29T15:00:00Z", NOW, LIMITS)
    entry = judged("backup.daily", {"last_backup": "2026-11-29T01:00:00Z"}, skew=skew)
    assert entry["status"] == "drift" and entry["detail"].startswith("host clock")
    assert judged("power.ups", UPS, skew=skew)["status"] == "compliant"


def test_thresholds_come_from_the_policy_file_and_a_school_may_change_them(tmp_path: Path):
    from importlib import resources

    raw = yaml.safe_load(resources.files("ivpb.policies").joinpath("backupbeleid.yml").read_text())
    raw["evidence"] = {"verify_max_age_days": 35, "backup_max_age_hours": {"backup.daily": 30}}
    own = tmp_path / "eigen.yml"
    own.write_text(yaml.safe_dump(raw, allow_unicode=True))
    policy = load_policy(str(own))
    limits = Limits.of(policy)
    assert limits.verify_max_age == dt.timedelta(days=35)
    assert limits.backup_age("backup.daily") == dt.timedelta(hours=30)
    assert limits.backup_age("backup.weekly") == dt.timedelta(hours=192)  # the shipped value
    assert policy.evidence["waiver_max_days"] == 365
    old_verify = {**PRACTICE, "last_verify": "2026-11-01T00:00:00Z"}
    assert judged("backup.best_practice", old_verify)["status"] == "drift"
    assert judged("backup.best_practice", old_verify, limits=limits)["status"] == "compliant"
    assert judged("backup.daily", both("2026-11-28T07:00:00Z"), limits=limits)["status"] == "compliant"


def test_a_bad_threshold_in_a_school_policy_is_one_clear_error(tmp_path: Path):
    from importlib import resources

    from ivpb.errors import UserError

    raw = yaml.safe_load(resources.files("ivpb.policies").joinpath("backupbeleid.yml").read_text())
    raw["evidence"] = {"verify_max_age_days": "weekly"}
    own = tmp_path / "bad.yml"
    own.write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(UserError) as err:
        load_policy(str(own))
    assert any("verify_max_age_days" in p.path for p in err.value.problems)


# End to end through the report: the host_time of a backup_job result, errors and waivers.


def school(waivers=None):
    common = {
        "ivpb_datasets": {"admin": {"biv": {"b": "belangrijk", "i": "laag", "v": "intern"}}},
        "ivpb_sites": {"school": {}, "filiaal": {}},
        "ivpb_backup_targets": {"off": {"host": "nas2"}},
        "ivpb_waivers": waivers or [],
    }
    return Inventory(hosts={
        "srv1": {**common, "ivpb_site": "school", "ivpb_backup_target": "off",
                 "ivpb_stores": [{"dataset": "admin", "path": "/srv/admin"}]},
        "nas2": {**common, "ivpb_site": "filiaal"},
    })


def _report(results, inv=None):
    """The report of a check run whose receiver nas2 answered: its newest sealed backup of srv1's
    admin is the one the client reports (results.attach_protected, as run_check calls it)."""
    inv = inv or school()
    policy = load_policy()
    results.setdefault("nas2", HostResults(reachable=True, protected={"srv1": {"admin": "2026-11-29T01:00:00Z"}}))
    attach_protected(results, {"backup.daily", "backup.best_practice"}, receivers_of(inv))
    return build_report(policy, inv, plan_inventory(inv, policy), results, list(inv.hosts), NOW, "en")


def _entry(rep, cid, host="srv1"):
    [entry] = [c for c in rep["hosts"][host]["controls"] if c["id"] == cid]
    return entry


def test_host_time_of_the_backup_module_result_is_judged():
    results: dict[str, HostResults] = {}
    res = {
        "host_time": "2026-11-29T18:00:00Z",
        "controls": [{"id": "backup.daily", "dataset": "admin", "status": "compliant", "detail": "cron",
                      "evidence": {"last_backup": "2026-11-29T01:00:00Z"}}],
    }
    record(results, "runner_on_ok", "srv1", res, "Backup jobs")
    entry = _entry(_report(results), "backup.daily")
    assert entry["status"] == "drift" and "host clock (2026-11-29 18:00 UTC) is 6 h off" in entry["detail"]


def test_a_missing_host_time_is_a_finding_on_each_timestamped_control():
    """A backup result without host_time (an older module version): the host's clock cannot be
    judged, so neither can its timestamps."""
    results: dict[str, HostResults] = {}
    res = {"controls": [{"id": "backup.daily", "dataset": "admin", "status": "compliant", "detail": "cron",
                         "evidence": {"last_backup": "2026-11-29T01:00:00Z"}}]}
    record(results, "runner_on_ok", "srv1", res, "Backup jobs")
    entry = _entry(_report(results), "backup.daily")
    assert entry["status"] == "drift", entry
    assert entry["detail"].startswith("host clock not reported (host_time missing or not a time: -)"), entry
    res["host_time"] = "2026-11-29T12:01:00Z"
    results = {}
    record(results, "runner_on_ok", "srv1", res, "Backup jobs")
    assert _entry(_report(results), "backup.daily")["status"] == "compliant"


@pytest.mark.parametrize("expires", ["2027-01-31", "9999-12-31"])
def test_an_error_is_never_waived(expires):
    """'missing duplicity' made the task fail: could not check is never 'waived', exit stays 1."""
    waiver = {"control": "backup.daily", "host": "srv1", "justification": "nieuwe NAS in januari",
              "approver": "directie", "expires": expires}
    results = {"srv1": HostResults(reachable=True, failures=["Backup jobs: missing duplicity"])}
    rep = _report(results, inv=school([waiver]))
    entry = _entry(rep, "backup.daily")
    assert entry["status"] == "error"
    assert "missing duplicity" in entry["detail"] and "never waived" in entry["detail"]
    assert rep["exit_code"] == 1


def test_a_waiver_still_covers_drift():
    waiver = {"control": "backup.daily", "host": "srv1", "justification": "nieuwe NAS in januari",
              "approver": "directie", "expires": "2027-01-31"}
    ctl = {"id": "backup.daily", "dataset": "admin", "status": "compliant", "detail": "cron",
           "evidence": {"last_backup": "2026-11-20T01:00:00Z"}}
    rep = _report({"srv1": HostResults(reachable=True, controls=[copy.deepcopy(ctl)], host_time="2026-11-29T12:00:00Z")},
                  inv=school([waiver]))
    entry = _entry(rep, "backup.daily")
    assert entry["status"] == "waived" and entry["waiver"]["underlying_status"] == "drift"


def test_an_unreachable_host_names_the_timeouts_that_bounded_the_attempt():
    from ivpb.audit.run import bounds

    root = Path(__file__).resolve().parents[2]
    named = bounds(root)
    assert named == "SSH ConnectTimeout 10 s, ServerAliveInterval 5 s x ServerAliveCountMax 3, task timeout 60 s"
    results = {"srv1": HostResults(reachable=False, unreachable_msg="ssh: connect to host srv1 port 22: "
                                   "Connection timed out", bounds=named)}
    rep = _report(results)
    assert rep["hosts"]["srv1"]["reachable"] is False
    entry = _entry(rep, "backup.daily")
    assert entry["status"] == "error"
    assert entry["detail"] == "not checked: host unreachable"  # the reason once, for the host:
    assert rep["hosts"]["srv1"]["unreachable_reason"] == ("ssh: connect to host srv1 port 22: Connection timed out "
                                                          f"(bounded by: {named})")


def test_a_client_that_stopped_its_backups_cannot_report_them_fresh():
    """A compromised client reports a fresh last backup (and claims the protected copy too, in its
    evidence and as a receiver's `protected` of its own); its receiver sealed nothing for three
    days: backup.daily is drift on the receiver's word."""
    results: dict[str, HostResults] = {}
    record(results, "runner_on_ok", "srv1", {
        "host_time": "2026-11-29T12:00:00Z", "protected": {"srv1": {"admin": "2026-11-29T01:00:00Z"}}, "controls": [
        {"id": "backup.daily", "dataset": "admin", "status": "compliant", "detail": "cron",
         "evidence": {"last_backup": "2026-11-29T01:00:00Z", "protected_generation": "2026-11-29T01:00:00Z"}}]},
        "Backup jobs")
    results["nas2"] = HostResults(reachable=True, protected={"srv1": {"admin": "2026-11-26T01:00:00Z"}})
    entry = _entry(_report(results), "backup.daily")
    assert entry["status"] == "drift", entry
    assert entry["evidence"]["protected_generation"] == "2026-11-26T01:00:00Z"
    assert "newest generation held out of the client's reach 2026-11-26 01:00 UTC is 3 d 11 h old" in entry["detail"]
