"""Pulled evidence (#23): the power controls of a system ivpb does not manage are judged from what
its NUT servers report `for` it (upsd's LIST CLIENT), never from anything the system or another
host says; a NUT server that could not be checked leaves them an error naming it."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources

import jsonschema

from ivpb.audit.evaluate import build_report
from ivpb.audit.results import HostResults, record
from ivpb.inventory import Inventory
from ivpb.plan import plan_inventory
from ivpb.policy import load_policy
from ivpb.roles import reporting_hosts, role_groups, role_inputs

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
SCHEMA = json.loads(resources.files("ivpb.schemas").joinpath("report.schema.json").read_text())
UPS = {"driver": "dummy-ups"}


def school(biv_b: str = "belangrijk") -> Inventory:
    common = {"ivpb_datasets": {"admin": {"biv": {"b": biv_b, "i": "laag", "v": "intern"}}},
              "ivpb_sites": {"school": {}}}
    return Inventory(hosts={
        "nut1": {**common, "ivpb_site": "school", "ivpb_nut_server": {"ups": {"ups-a": UPS}}},
        "nut2": {**common, "ivpb_site": "school", "ivpb_nut_server": {"ups": {"ups-b": UPS}}},
        "syno": {**common, "ivpb_site": "school", "ivpb_managed": False, "ivpb_system_kind": "nas-appliance",
                 "ivpb_uses": ["admin"], "ivpb_nut_password": "x", "ivpb_nut_client": {"address": "192.0.2.27"},
                 "ivpb_ups_feeds": [{"server": "nut1", "ups": "ups-a"}, {"server": "nut2", "ups": "ups-b"}]},
    })


def said(cid: str, status: str, ups: str, connected: bool, host: str = "syno") -> HostResults:
    """A NUT server's result as the check run records it (results.record), `for` the system."""
    results: dict[str, HostResults] = {}
    ev = {"reachable": [ups] if connected else [], "status": {ups: "connected" if connected else "not connected"}}
    cids = ["power.ups", "power.redundant_ups"] if cid == "power.redundant_ups" else [cid]
    record(results, "runner_on_ok", "h", {"controls": [
        {"id": c, "for": host, "status": status, "detail": f"{ups} {status}", "evidence": ev} for c in cids]},
        "nut_server", action="ivpb.backupbeleid.nut_server")
    return results["h"]


def power(results: dict[str, HostResults], inv: Inventory | None = None, cid: str = "power.ups") -> dict:
    inv = inv or school()
    policy = load_policy()
    rep = build_report(policy, inv, plan_inventory(inv, policy), results, list(inv.hosts), NOW, "en")
    jsonschema.validate(rep, SCHEMA)
    [entry] = [c for c in rep["hosts"]["syno"]["controls"] if c["id"] == cid]
    return entry


def test_the_nut_servers_of_an_unmanaged_system_are_its_reporters_and_get_its_controls():
    inv = school()
    plan = plan_inventory(inv, load_policy())
    groups = role_groups(inv, plan)
    assert groups["syno"] == []  # nothing ever connects to it
    inputs = role_inputs(inv, plan, groups)
    assert inputs["nut1"]["nut_server"]["clients"] == [
        {"host": "syno", "name": "mon-syno", "controls": [{"id": "power.ups", "duty": "ups"}], "ups": ["ups-a"],
         "address": "192.0.2.27"}]
    assert reporting_hosts(inv, plan, ["syno"]) == ["nut1", "nut2"]  # never the system itself


def test_connected_to_each_ups_on_both_servers_is_compliant():
    entry = power({"nut1": said("power.ups", "compliant", "ups-a", True),
                   "nut2": said("power.ups", "compliant", "ups-b", True)})
    assert entry["status"] == "compliant", entry
    assert entry["evidence"]["reachable"] == ["ups-a", "ups-b"]


def test_one_server_that_does_not_list_it_is_drift_with_its_reason():
    entry = power({"nut1": said("power.ups", "compliant", "ups-a", True),
                   "nut2": said("power.ups", "drift", "ups-b", False)})
    assert entry["status"] == "drift" and "ups-b drift" in entry["detail"]
    assert entry["evidence"]["status"] == {"ups-a": "connected", "ups-b": "not connected"}


def test_redundant_needs_two_connected_upses_over_its_servers():
    inv = school("noodzakelijk")
    ok = {"nut1": said("power.redundant_ups", "compliant", "ups-a", True),
          "nut2": said("power.redundant_ups", "compliant", "ups-b", True)}
    assert power(ok, inv, "power.redundant_ups")["status"] == "compliant"
    one = {"nut1": said("power.redundant_ups", "compliant", "ups-a", True),
           "nut2": said("power.redundant_ups", "compliant", "ups-b", False)}
    entry = power(one, inv, "power.redundant_ups")  # a server claiming compliant with nothing connected: the judge counts
    assert entry["status"] == "drift" and "1 of 2" in entry["detail"], entry


def test_a_silent_or_unreachable_server_is_an_error_naming_it():
    entry = power({"nut1": said("power.ups", "compliant", "ups-a", True)})
    assert entry["status"] == "error" and "nut2" in entry["detail"]
    down = HostResults(reachable=False, unreachable_msg="timed out")
    entry = power({"nut1": said("power.ups", "compliant", "ups-a", True), "nut2": down})
    assert entry["status"] == "error" and "nut2" in entry["detail"]


def test_only_its_nut_servers_word_counts_and_no_host_speaks_for_itself():
    stranger = said("power.ups", "compliant", "ups-b", True)
    entry = power({"nut1": said("power.ups", "compliant", "ups-a", True), "other": stranger,
                   "syno": said("power.ups", "compliant", "ups-b", True)})
    assert entry["status"] == "error" and "nut2" in entry["detail"]
    # an entry `for` a managed host about itself is not its own finding
    rep = build_report(load_policy(), school(), plan_inventory(school(), load_policy()),
                       {"nut1": said("power.ups", "compliant", "ups-a", True, host="nut1")}, ["nut1"], NOW, "en")
    assert all(c["status"] != "compliant" for c in rep["hosts"]["nut1"]["controls"])
