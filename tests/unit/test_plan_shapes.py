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


def _reference_sites(inventory: Inventory) -> dict:
    """The site plans as planned before hosts were grouped by shape: every control, host, stored data set."""
    from ivpb.i18n import msg
    from ivpb.plan import MAX_REASONS, Reasons, _dataset_ranks, _levels_text

    reasons: dict = {}
    contributors: dict = {}
    for control in POLICY.controls:
        if control.scope != "site":
            continue
        for host, hv in inventory.hosts.items():
            datasets = _dataset_ranks(POLICY, hv)
            for s in hv.get("ivpb_stores") or []:
                if s["dataset"] not in datasets or not control.applies_to(datasets[s["dataset"]][1]):
                    continue
                biv = datasets[s["dataset"]][0]
                site = hv.get("ivpb_site")
                if site:
                    levels = _levels_text(POLICY, control, biv)
                    text = msg(
                        "plan.site_holds", host=host, reason=msg("plan.stores", dataset=s["dataset"], levels=levels)
                    )
                    reasons.setdefault(site, {}).setdefault(control.id, []).append(text)
                    contributors.setdefault(site, set()).add(host)
                if not control.includes_receiving_sites:
                    continue
                for kind, target in (
                    ("plan.kind_backup", s.get("backup_target") or hv.get("ivpb_backup_target")),
                    ("plan.kind_sync", s.get("sync_target")),
                ):
                    t = inventory.school("ivpb_backup_targets").get(target) or {}
                    tsite = (inventory.hosts.get(t["host"]) or {}).get("ivpb_site") if "host" in t else t.get("site")
                    if tsite and tsite != site:
                        text = msg("plan.site_receives", kind=msg(kind), dataset=s["dataset"], host=host)
                        reasons.setdefault(tsite, {}).setdefault(control.id, []).append(text)
                        contributors.setdefault(tsite, set()).add(host)
    return {
        site: (
            {cid: Reasons(tuple(why[:MAX_REASONS]), len(why)) for cid, why in by_control.items()},
            contributors[site],
        )
        for site, by_control in reasons.items()
    }


def test_site_plans_equal_the_plain_loop_over_every_host():
    school = {**SCHOOL, "ivpb_sites": {"campus": {}, "elders": {"external": True}, "annex": {}}}
    school["ivpb_backup_targets"] = {"offsite": {"site": "elders"}, "nas": {"host": "n"}}
    hosts = {}
    for i in range(12):
        site = ("campus", "annex", "elders")[i % 3]
        stores = [("hoog", f"/srv/h{i % 2}"), ("laag", "/srv/l")][: 1 + i % 2]
        hosts[f"h{i}"] = {**_host(site, stores), **school, "ivpb_backup_target": ("offsite", "nas")[i % 2]}
    hosts["n"] = {**school, "ivpb_site": "annex"}
    inventory = Inventory(hosts=hosts)
    plan = plan_inventory(inventory, POLICY)
    got = {site: ({c.id: c.because for c in sp.controls}, sp.hosts) for site, sp in plan.sites.items() if sp.controls}
    assert got == _reference_sites(inventory)
    assert list(got) == list(_reference_sites(inventory))
