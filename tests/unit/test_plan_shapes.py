"""Hosts of the same shape share one planned computation: a host's plan must be exactly the plan it
gets when planned on its own, whatever the other hosts are."""

from __future__ import annotations

import copy

from ivpb.inventory import Inventory
from ivpb.plan import plan_inventory
from ivpb.policy import load_policy

POLICY = load_policy()
SCHOOL = {
    "ivpb_datasets": {
        "hoog": {"biv": {"b": "noodzakelijk", "i": "absoluut", "v": "geheim"}},
        "laag": {"biv": {"b": "laag", "i": "laag", "v": "publiek"}, "archive": False},
    },
    "ivpb_sites": {"campus": {}, "elders": {"external": True}},
    "ivpb_backup_targets": {"offsite": {"site": "elders"}},
}


def _host(site: str, stores: list[tuple[str, str]], **extra) -> dict:
    return {
        **SCHOOL,
        "ivpb_site": site,
        "ivpb_backup_target": "offsite",
        "ivpb_stores": [{"dataset": d, "path": p, "sync_target": "offsite"} for d, p in stores],
        **extra,
    }


def test_each_host_plans_as_if_alone():
    school = copy.deepcopy(SCHOOL)  # a second data sets object: same content, planned on its own
    hosts = {
        "a": _host("campus", [("hoog", "/srv/h"), ("laag", "/srv/l")]),
        "b": _host("elders", [("hoog", "/srv/h"), ("laag", "/srv/l")]),  # a's shape, another site
        "c": _host("campus", [("hoog", "/data/h"), ("laag", "/srv/l")]),  # another path
        "d": _host("campus", [("hoog", "/srv/h"), ("laag", "/srv/l")], ivpb_needs_internet=True),
        "e": _host("campus", [("laag", "/srv/l")], ivpb_uses=["hoog"]),
        "f": {**_host("campus", [("hoog", "/srv/h")]), **school},
        "g": _host("campus", []),
    }
    shared = plan_inventory(Inventory(hosts=hosts), POLICY)
    for name, hv in hosts.items():
        alone = plan_inventory(Inventory(hosts={name: hv}), POLICY)
        assert shared.hosts[name] == alone.hosts[name], name
    assert shared.hosts["b"].site == "elders" and shared.hosts["a"].site == "campus"
    assert {c.path for c in shared.hosts["c"].controls if c.path} == {"/data/h", "/srv/l"}
    assert shared.hosts["a"].controls != shared.hosts["d"].controls  # the host flag counts


def test_plan_json_of_a_host_is_its_own_copy():
    hosts = {"a": _host("campus", [("hoog", "/srv/h")]), "b": _host("campus", [("hoog", "/srv/h")])}
    plan = plan_inventory(Inventory(hosts=hosts), POLICY)
    plan.hosts["a"].controls.pop()
    plan.hosts["a"].biv["b"] = "laag"
    assert len(plan.hosts["b"].controls) == len(plan.hosts["a"].controls) + 1
    assert plan.hosts["b"].biv["b"] == "noodzakelijk"
