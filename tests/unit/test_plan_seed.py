"""The engine, table-driven from the seed's sentences: one row per sentence, the BIV levels that
trigger it, those just below, and the controls each must produce."""

from __future__ import annotations

import pytest

from ivpb.plan import plan_inventory
from ivpb.policy import load_policy

from .helpers import one_host

LOW = {"b": "laag", "i": "laag", "v": "publiek"}


def controls(biv, **kw) -> set[str]:
    plan = plan_inventory(one_host({**LOW, **biv}, **kw), load_policy())
    return {c.id for c in plan.hosts["srv1"].controls}


def site_controls(biv, **kw) -> dict[str, set[str]]:
    plan = plan_inventory(one_host({**LOW, **biv}, **kw), load_policy())
    return {s: {c.id for c in sp.controls} for s, sp in plan.sites.items()}


# (seed sentence, levels that make it apply, levels just below, control)
SENTENCES = [
    ("§2 ... belangrijk en/of ... vereist, worden voorzien van een (gewone) noodstroomvoorziening",
     [{"b": "belangrijk"}, {"i": "vereist"}, {"b": "noodzakelijk"}], [{"v": "geheim"}], "power.ups"),
    ("§2 ... noodzakelijk en/of ... absoluut ... redundante noodstroomvoorziening",
     [{"b": "noodzakelijk"}, {"i": "absoluut"}], [{"b": "belangrijk", "i": "vereist"}], "power.redundant_ups"),
    ("§3 ... internetverbinding nodig ... noodzakelijk en/of ... absoluut ... alternatieve internetverbinding",
     [{"b": "noodzakelijk"}, {"i": "absoluut"}], [{"b": "belangrijk", "i": "vereist"}], "internet.failover"),
    ("§3 Indien mogelijk ... SLA's", [{"i": "absoluut"}], [{"i": "vereist"}], "internet.sla"),
    ("§4 ... belangrijk en/of ... vereist, worden minstens dagelijks gebackupt",
     [{"b": "belangrijk"}, {"i": "vereist"}, {"i": "absoluut"}], [{"v": "geheim"}], "backup.daily"),
    ("§4 ... noodzakelijk en/of ... absoluut, worden simultaan gesynchroniseerd",
     [{"b": "noodzakelijk"}, {"i": "absoluut"}], [{"b": "belangrijk", "i": "vereist"}], "backup.sync_offsite"),
    ("§4 Alle andere gegevens worden minstens één keer per week gebackupt",
     [{}, {"v": "geheim"}], [{"b": "belangrijk"}, {"i": "vereist"}], "backup.weekly"),
    ("§4 ... vertrouwelijk of geheim, worden geëncrypteerd gebackupt",
     [{"v": "vertrouwelijk"}, {"v": "geheim"}], [{"v": "intern"}], "backup.encrypted"),
    ("§4 Minstens één keer per schooljaar vindt een volledige backup ... plaats",
     [{}, {"b": "noodzakelijk"}], [], "backup.annual_full"),
    ("§4 Alle backups worden conform de gangbare best practices bewaard",
     [{}, {"v": "geheim"}], [], "backup.best_practice"),
]


@pytest.mark.parametrize(("sentence", "applies", "below", "control"), SENTENCES, ids=[s[3] for s in SENTENCES])
def test_sentence_applies_exactly_from_its_levels(sentence, applies, below, control):
    for biv in applies:
        assert control in controls(biv), f"{sentence}: expected for {biv}"
    for biv in below:
        assert control not in controls(biv), f"{sentence}: not expected for {biv}"


def test_failover_only_for_hosts_that_need_internet():
    assert "internet.failover" not in controls({"b": "noodzakelijk"}, needs_internet=False)
    assert "internet.sla" not in controls({"b": "noodzakelijk"}, needs_internet=False)


def test_annual_full_skips_data_that_is_not_archived():
    # "behoudens die gegevens die niet verder (in een archief) bewaard worden"
    assert "backup.annual_full" not in controls({}, archive=False)
    assert "backup.weekly" in controls({}, archive=False)


def test_daily_supersedes_weekly_and_sync_keeps_the_daily_backup():
    ids = controls({"b": "noodzakelijk"})
    assert "backup.weekly" not in ids
    assert {"backup.daily", "backup.sync_offsite"} <= ids


def test_used_data_drives_host_controls_but_not_backups():
    ids = controls({"b": "noodzakelijk", "v": "geheim"}, uses=True)
    assert {"power.ups", "power.redundant_ups", "internet.failover"} <= ids
    assert not {i for i in ids if i.startswith("backup.")}


def test_fire_protection_for_the_data_site_and_the_sites_receiving_its_copies():
    # §5: "De plaatsen ... waar gegevens bewaard worden die behoren tot ... belangrijk en/of ...
    # vereist, of hoger" and, for other locations, "gelijkaardige eisen".
    assert site_controls({"b": "belangrijk"}) == {"hoofdgebouw": {"fire.protection"}, "elders": {"fire.protection"}}
    assert site_controls({"i": "absoluut"})["elders"] == {"fire.protection"}
    assert site_controls({"v": "geheim"}) == {"hoofdgebouw": set(), "elders": set()}


def test_effective_classification_is_the_highest_level_per_aspect(example_inventory):
    from ivpb.inventory import load_inventory

    plan = plan_inventory(load_inventory([str(example_inventory)]), load_policy())
    assert plan.hosts["fileserver"].biv == {"b": "noodzakelijk", "i": "absoluut", "v": "geheim"}
    assert plan.hosts["nas"].biv == {"b": "belangrijk", "i": "laag", "v": "intern"}
    assert plan.hosts["router"].controls == []
