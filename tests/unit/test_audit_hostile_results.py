"""Whatever a host sends back as its modules' results: a compromised host sends what it likes,
any JSON value in any field, NaN and Infinity included (Python's json, and so Ansible and
ansible-runner, reads them). The audit still judges every host, gives each control a status of
its vocabulary, never turns a claim that is not `compliant` into one, renders every format, and
its JSON report stays strict JSON that the shipped schema accepts."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET

import jsonschema
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ivpb import cli
from ivpb.audit.evaluate import build_report
from ivpb.audit.results import HostResults, attach_protected, record
from ivpb.plan import plan_inventory
from ivpb.policy import load_policy
from ivpb.statuses import STATUSES

from .test_audit_evaluate import NOW, SCHEMA, all_good, school

SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(10**400), max_value=10**400)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12))
ANY = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=3), max_leaves=8)
# The evidence keys the judges read, so that hostile values reach them and not only the report.
KEYS = ("last_backup", "last_annual", "last_verify", "protected_generation", "last_sync", "heartbeat_minutes",
        "sync_failed", "backup_failed", "verify_failed", "reachable", "status", "probes", "route", "keep_full")
EVIDENCE = st.dictionaries(st.sampled_from(KEYS), ANY, max_size=6) | ANY


def _strict(text: str) -> dict:
    def refuse(constant: str):
        raise ValueError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


@settings(max_examples=60, deadline=None)
@given(fields=st.lists(st.tuples(st.sampled_from(("id", "dataset", "status", "detail", "evidence", "diff")),
                                 EVIDENCE), max_size=4),
       evidence=st.lists(EVIDENCE, min_size=6, max_size=6), extra=st.lists(ANY, max_size=2),
       protected=ANY, host_time=ANY)
def test_any_result_a_host_sends_is_judged_and_reported(fields, evidence, extra, protected, host_time):
    sent = []
    for good, ev in zip(all_good(), evidence, strict=True):
        entry = {**good, "evidence": ev}
        for key, value in fields:
            entry[key] = copy.deepcopy(value)
        sent.append(entry)
    results: dict[str, HostResults] = {}
    record(results, "runner_on_ok", "srv1", {"controls": sent + extra, "host_time": host_time}, "backup")
    record(results, "runner_on_ok", "nas2", {"protected": protected, "controls": extra}, "receiver")
    for hr in results.values():
        hr.reachable = True
    inv, policy = school(), load_policy()
    attach_protected(results, {"backup.best_practice"}, {"srv1": ["nas2"]})
    report = build_report(policy, inv, plan_inventory(inv, policy), results, list(inv.hosts), NOW, "en")

    jsonschema.validate(report, SCHEMA)
    claimed = {(c["id"], c.get("dataset")) for c in sent if c.get("status") == "compliant" and isinstance(c["id"], str)
               and isinstance(c.get("dataset"), str | None)}
    for host in report["hosts"].values():
        for c in host["controls"]:
            assert c["status"] in STATUSES
            if c["status"] == "compliant":
                assert (c["id"], c.get("dataset")) in claimed, c
    assert _strict(cli.render(report, "json", "en")) == _strict(json.dumps(report, allow_nan=False))
    ET.fromstring(cli.render(report, "junit", "nl"))
    for fmt in ("table", "markdown", "html"):
        assert cli.render(report, fmt, "nl")


def test_a_drill_file_holding_nan_infinity_or_deep_nesting_keeps_the_report_json(tmp_path):
    import datetime as dt

    from .test_drills import with_drills

    inv = with_drills(school(), tmp_path, {("srv1", "admin"): NOW - dt.timedelta(days=3),
                                           ("srv1", "scans"): NOW - dt.timedelta(days=2)})
    [admin] = (tmp_path / ".evidence" / "drills" / "srv1" / "admin").glob("*.json")
    admin.write_text(json.dumps({**json.loads(admin.read_text()), "rto_seconds": float("nan"),
                                 "bytes_checked": float("-inf")}))  # Python's json writes NaN, -Infinity
    [scans] = (tmp_path / ".evidence" / "drills" / "srv1" / "scans").glob("*.json")
    scans.write_text(scans.read_text().rstrip()[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}")
    results = {"srv1": HostResults(reachable=True, controls=all_good(), host_time="2026-11-29T12:00:30Z"),
               "nas2": HostResults(reachable=True)}
    policy = load_policy()
    report = build_report(policy, inv, plan_inventory(inv, policy), results, list(inv.hosts), NOW, "en")
    practice = {c["dataset"]: c for c in report["hosts"]["srv1"]["controls"] if c["id"] == "backup.best_practice"}
    assert practice["admin"]["evidence"]["last_drill"]["rto_seconds"] == "NaN"  # shown as the file holds it
    assert "last_drill" not in practice["scans"]["evidence"]  # an unreadable file is no drill
    assert practice["scans"]["status"] == "drift"
    _strict(cli.render(report, "json", "en"))
    assert cli.render(report, "table", "en")


@settings(max_examples=60, deadline=None)
@given(event=st.sampled_from(("runner_on_unreachable", "runner_on_failed", "runner_on_ok")),
       res=st.dictionaries(st.sampled_from(("msg", "stderr", "controls", "protected", "host_time", "diff")), ANY))
@example(event="runner_on_unreachable", res={"msg": " \n "})  # blank: no first line to keep
def test_any_event_a_host_causes_is_recorded_in_one_line(event, res):
    results: dict[str, HostResults] = {}
    record(results, event, "srv1", res, "task")
    hr = results["srv1"]
    assert "\n" not in hr.unreachable_msg and all("\n" not in f for f in hr.failures)
    assert event != "runner_on_unreachable" or hr.unreachable_msg
