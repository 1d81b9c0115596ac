"""What the plan step hands each role (roles.role_inputs, issue #15): normalised on the controller
once, so the roles build nothing in Jinja; the controls from the policy file, no secret in it."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path

import yaml

from ivpb.inventory import Inventory, load_inventory
from ivpb.plan import plan_inventory
from ivpb.policy import load_policy
from ivpb.roles import role_groups, role_inputs

ROOT = Path(__file__).resolve().parents[2]


def inputs_of(inventory: Inventory, policy=None) -> dict:
    plan = plan_inventory(inventory, policy or load_policy())
    return role_inputs(inventory, plan, role_groups(inventory, plan))


def test_example_school_inputs():
    inventory = load_inventory([str(ROOT / "inventories/example"), str(ROOT / "inventories/lab")])
    inputs = inputs_of(inventory)
    assert inputs["fileserver"]["power"] == {
        "controls": [{"id": "power.ups", "duty": "ups"}, {"id": "power.redundant_ups", "duty": "redundant_ups"}],
        "mode": "netclient",
        "ups": [{"name": u, "server": "nutserver", "port": 3493, "power_value": 1, "user": "mon-fileserver"}
                for u in ("ups-a", "ups-b")],
    }
    assert inputs["secretariaat"]["power"]["controls"] == [{"id": "power.ups", "duty": "ups"}]
    assert inputs["router"] == {"internet": {"controls": [{"id": "internet.failover", "duty": "failover"},
                                                          {"id": "internet.sla", "duty": "sla"}],
                                             "serves": ["fileserver"]}}
    # each §4 control once, with its duty and the data sets it applies to
    backup = {c["id"]: c for c in inputs["fileserver"]["backup"]["controls"]}
    assert backup["backup.daily"] == {"id": "backup.daily", "duty": "daily",
                                      "datasets": ["leerlingenadministratie", "personeelsdossiers", "boekhouding"]}
    assert backup["backup.encrypted"]["duty"] == "encrypt" and "secretariaat" not in [
        h for h, i in inputs.items() if "backup" in i]
    # the lab's unmanaged synology (#23): its NUT server reports its power controls (upsd's clients)
    assert inputs["nutserver"]["nut_server"] == {"port": 3493, "clients": [
        *({"host": h, "name": f"mon-{h}"} for h in ("fileserver", "nas", "secretariaat")),
        {"host": "synology", "name": "mon-synology", "controls": [{"id": "power.ups", "duty": "ups"}],
         "ups": ["ups-a"], "address": "synology"}]}
    assert inputs["synology"] == {}  # nothing connects to it
    receiver = inputs["nas-offsite"]["backup_target"]
    assert receiver["targets"] == [{"name": "nas-offsite", "path": "/srv/backup"}]
    assert [(c["client"], c["target"], sorted(c["datasets"])) for c in receiver["clients"]] == [
        # fotoarchief and oudercommunicatie: the lab's synology's and cloudschijf's, pulled by
        # fileserver as their backup proxy (#23)
        ("fileserver", "nas-offsite", ["boekhouding", "fotoarchief", "leerlingenadministratie", "oudercommunicatie",
                                       "personeelsdossiers"]),
        ("nas", "nas-offsite", ["fotos", "lesmateriaal", "scans"]),
    ]
    pulled = [d for d in inputs["fileserver"]["backup"]["datasets"] if "pull" in d]
    assert [(d["dataset"], d["pull"]) for d in pulled] == [
        ("fotoarchief", {"for": "synology", "source": "smb://synology/fotoarchief", "user": "ivpb"}),
        ("oudercommunicatie", {"for": "cloudschijf", "source": "http://synology:8080/oudercommunicatie",
                               "user": "ivpb-backup"})]
    assert set(inputs) == set(inventory.hosts) and inputs["nas-offsite"].keys() == {"backup_target"}
    # the plan is registered and shown with -v: no secret in it
    passwords = [str(hv[var]) for hv in inventory.hosts.values()
                 for var in ("ivpb_nut_password", "ivpb_pull_password") if var in hv]
    assert len(passwords) == 6 and not any(p in json.dumps(inputs) for p in passwords)


def test_inputs_follow_the_policy_and_the_inventory(tmp_path: Path):
    """A school policy without power.redundant_ups: the fileserver's upsmon is an ordinary one. A
    router that serves no planned host but declares uplinks still gets the routed controls; a
    NUT server's own port and address reach its clients; a target's own path its receiver."""
    raw = yaml.safe_load(resources.files("ivpb.policies").joinpath("backupbeleid.yml").read_text(encoding="utf-8"))
    raw = copy.deepcopy(raw)
    raw["controls"] = [c for c in raw["controls"] if c["id"] != "power.redundant_ups"]
    own = tmp_path / "eigen.yml"
    own.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    common = {
        "ivpb_datasets": {"admin": {"biv": {"b": "noodzakelijk", "i": "laag", "v": "intern"}}},
        "ivpb_sites": {"school": {}},
        "ivpb_backup_targets": {"off": {"host": "nas", "path": "/data/ivpb", "quota": {"bytes": "2T"}}},
    }
    inventory = Inventory(hosts={
        "srv": {**common, "ivpb_site": "school", "ivpb_backup_target": "off",
                "ivpb_backup_retention": {"keep_full": 6, "full_if_older_than": "14D"},
                "ivpb_stores": [{"dataset": "admin", "path": "/srv/admin"}],
                "ivpb_ups_feeds": [{"server": "ups", "ups": "a"}, {"server": "ups", "ups": "b", "power_value": 2}],
                "ivpb_nut_client": {"user": "upsmon-srv"}},
        "ups": {**common, "ivpb_nut_server": {"address": "10.0.0.5", "port": 3500, "ups": {"a": {}, "b": {}}}},
        "nas": {**common},
        "gw": {**common, "ivpb_uplinks": [{"name": "wan1"}, {"name": "wan2"}]},
    })
    shipped, mine = inputs_of(inventory), inputs_of(inventory, load_policy(str(own)))
    assert [c["duty"] for c in shipped["srv"]["power"]["controls"]] == ["ups", "redundant_ups"]
    assert mine["srv"]["power"]["controls"] == [{"id": "power.ups", "duty": "ups"}]
    assert [u["power_value"] for u in shipped["srv"]["power"]["ups"]] == [1, 2]
    assert {(u["server"], u["port"], u["user"]) for u in shipped["srv"]["power"]["ups"]} == {
        ("10.0.0.5", 3500, "upsmon-srv")}
    assert shipped["ups"]["nut_server"] == {"port": 3500, "clients": [{"host": "srv", "name": "upsmon-srv"}]}
    assert shipped["gw"]["internet"] == {"controls": [{"id": "internet.failover", "duty": "failover"},
                                                      {"id": "internet.sla", "duty": "sla"}], "serves": []}
    assert shipped["nas"]["backup_target"] == {
        "targets": [{"name": "off", "path": "/data/ivpb", "quota": {"bytes": "2T"}}],
        "clients": [{"client": "srv", "target": "off", "datasets": {"admin": {"keep_full": 6, "min_age_days": 84}}}],
    }


def test_backup_senders_get_the_receivers_their_data_sets_go_to():
    """Each host that runs the backup role is handed the inventory hosts its stores' backups and
    syncs go to (backup.receivers): the store's own backup_target, else the host's
    ivpb_backup_target, and its sync_target, each once; a target outside the inventory (address
    only) has no receiver host to read a key on; a host without the backup role gets nothing."""
    common = {
        "ivpb_datasets": {"admin": {"biv": {"b": "noodzakelijk", "i": "laag", "v": "intern"}},
                          "fotos": {"biv": {"b": "laag", "i": "laag", "v": "intern"}}},
        "ivpb_sites": {"school": {}, "filiaal": {}},
        "ivpb_backup_targets": {"nas": {"host": "nas"}, "off": {"host": "off"}, "off2": {"host": "off"},
                                "cloud": {"site": "filiaal", "address": "backup.example.org"}},
        "ivpb_needs_internet": False,
    }
    stores = {
        "srv": [{"dataset": "admin", "path": "/srv/admin", "sync_target": "off"},
                {"dataset": "fotos", "path": "/srv/fotos", "backup_target": "off2"}],
        "nas": [{"dataset": "fotos", "path": "/srv/nasfotos", "backup_target": "cloud"}],
    }
    inventory = Inventory(hosts={
        "srv": {**common, "ivpb_site": "school", "ivpb_backup_target": "nas", "ivpb_stores": stores["srv"]},
        "nas": {**common, "ivpb_site": "school", "ivpb_stores": stores["nas"]},
        "off": {**common, "ivpb_site": "filiaal"},
    })
    plan = plan_inventory(inventory, load_policy())
    groups = role_groups(inventory, plan)
    assert "ivpb_backup" in groups["srv"] and "ivpb_backup" in groups["nas"]
    inputs = role_inputs(inventory, plan, groups)
    assert inputs["srv"]["backup"]["receivers"] == ["nas", "off"]
    assert inputs["nas"]["backup"]["receivers"] == []
    assert "backup" not in inputs["off"]
    # the example school: every sender's receivers, as the backup role pins their host keys
    example = inputs_of(load_inventory([str(ROOT / "inventories/example"), str(ROOT / "inventories/lab")]))
    assert {h: i["backup"]["receivers"] for h, i in example.items() if "backup" in i} == {
        "fileserver": ["nas-offsite"], "nas": ["nas-offsite"]}


def test_a_limited_audit_asks_the_hosts_that_report_on_the_chosen_ones():
    """fileserver's internet.failover is reported by its router, its backups' protected copy by
    the receiver nas-offsite: an audit of fileserver alone asks both. nas-offsite reports on no
    one else's controls (it stores nothing), so an audit of it asks it alone."""
    from ivpb.roles import reporting_hosts

    inventory = load_inventory([str(ROOT / "inventories/example"), str(ROOT / "inventories/lab")])
    plan = plan_inventory(inventory, load_policy())
    assert reporting_hosts(inventory, plan, ["fileserver"]) == [
        h for h in inventory.hosts if h in {"fileserver", "router", "nas-offsite"}]
    assert reporting_hosts(inventory, plan, ["nas-offsite"]) == ["nas-offsite"]
