"""`ivpb plan` is the shopping list: from the classification alone and at every stage after it,
every missing or half-filled piece at once (ivpb.shopping), from the same checks validate runs;
validate passes exactly when nothing but the §5 evidence is left, and once the inventory is
complete the list is empty."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from ivpb.inventory import Inventory
from ivpb.policy import load_policy
from ivpb.shopping import shopping_list
from ivpb.validate import validate

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = yaml.safe_load((ROOT / "inventories/example/group_vars/all/backup.yml").read_text())["ivpb_gpg_recipients"]
UPLINKS = [
    {"name": "wan1", "interface": "eth1", "gateway": "192.0.2.1", "metric": 101, "track_ip": ["198.51.100.53"]},
    {"name": "wan2", "interface": "eth2", "gateway": "198.51.100.1", "metric": 102, "track_ip": ["203.0.113.53"]},
]
FIRE = {"measures": ["CO2-blusser"], "safety_plan": {"reference": "VP-1", "date": "2026-03-12"}}


def _lines(school: dict, hosts: dict) -> set[tuple[str, str, str, bool]]:
    """(subject, variable, the note's key or validate's message, blocks validate) per item."""
    inventory = Inventory(hosts={h: {**school, **hv} for h, hv in hosts.items()})
    items = shopping_list(inventory, load_policy()).items
    return {(i.problem.subject, i.problem.path, i.problem.todo.split("|")[0] or i.problem.message,
             i.blocks_validate) for i in items}


def _validates(school: dict, hosts: dict) -> bool:
    return not validate(Inventory(hosts={h: {**school, **hv} for h, hv in hosts.items()}), load_policy())


def stages():
    """(name, school vars, host vars, the expected list): the inventory grows one piece a stage."""
    school = {"ivpb_datasets": {"leerlingen": {"biv": {"b": "noodzakelijk", "i": "absoluut", "v": "vertrouwelijk"}}}}
    hosts = {"server": {"ivpb_stores": [{"dataset": "leerlingen", "path": "/srv/leerlingen"}],
                        "ivpb_needs_internet": True},
             "offsite": {}}
    todo = {
        ("server", "ivpb_ups_feeds", "ups_feeds_no_server", True),
        ("server", "ivpb_nut_password", "nut_password", True),
        ("server", "ivpb_uplinks", "uplinks", True),
        ("server", "ivpb_stores[0].backup_target", "backup_target", True),
        ("server", "ivpb_stores[0].sync_target", "sync_target", True),
        ("server", "ivpb_stores[0].encrypt_to", "recipients", True),
        ("server", "ivpb_site", "site", True),
    }
    yield "classification only", school, hosts, set(todo)

    school = {**school, "ivpb_sites": {"school": {}, "elders": {}}}
    hosts = copy.deepcopy(hosts)
    hosts["server"]["ivpb_site"], hosts["offsite"]["ivpb_site"] = "school", "elders"
    todo -= {("server", "ivpb_site", "site", True)}
    todo |= {("site school", "ivpb_sites.school.fire_protection.measures", "fire_measures", False),
             ("site school", "ivpb_sites.school.fire_protection.safety_plan", "fire_safety_plan", False)}
    yield "sites", school, hosts, set(todo)

    hosts = copy.deepcopy(hosts)
    hosts["server"]["ivpb_ups_feeds"] = [{"server": "nut", "ups": "a"}, {"server": "nut", "ups": "b"}]
    todo -= {("server", "ivpb_ups_feeds", "ups_feeds_no_server", True)}
    todo |= {("server", "ivpb_ups_feeds[0].server", "nut_server_host", True),
             ("server", "ivpb_ups_feeds[1].server", "nut_server_host", True)}
    yield "UPS feeds naming an undeclared NUT server", school, hosts, set(todo)

    hosts = copy.deepcopy(hosts)
    hosts["nut"] = {"ivpb_site": "school", "ivpb_nut_server": {"ups": {"a": {"driver": "usbhid-ups"}}}}
    todo -= {("server", "ivpb_ups_feeds[0].server", "nut_server_host", True),
             ("server", "ivpb_ups_feeds[1].server", "nut_server_host", True)}
    todo |= {("server", "ivpb_ups_feeds[1].ups", "nut_ups", True)}
    yield "NUT server serving one of the two UPSes, no password", school, hosts, set(todo)

    hosts = copy.deepcopy(hosts)
    hosts["nut"]["ivpb_nut_server"]["ups"]["b"] = {"driver": "usbhid-ups"}
    hosts["server"]["ivpb_nut_password"] = "een-lang-geheim-wachtwoord"
    todo -= {("server", "ivpb_ups_feeds[1].ups", "nut_ups", True), ("server", "ivpb_nut_password", "nut_password", True)}
    yield "NUT server and password", school, hosts, set(todo)

    hosts = copy.deepcopy(hosts)
    hosts["server"]["ivpb_uplinks"] = UPLINKS
    todo -= {("server", "ivpb_uplinks", "uplinks", True)}
    yield "uplinks", school, hosts, set(todo)

    school = {**school, "ivpb_backup_targets": {"offsite": {"host": "offsite", "path": "/srv/backup"}}}
    hosts = copy.deepcopy(hosts)
    hosts["server"]["ivpb_backup_target"] = "offsite"
    hosts["server"]["ivpb_stores"][0]["sync_target"] = "elsewhere"
    todo -= {("server", "ivpb_stores[0].backup_target", "backup_target", True),
             ("server", "ivpb_stores[0].sync_target", "sync_target", True)}
    todo |= {("server", "ivpb_stores[0].sync_target", "target", True),
             ("site elders", "ivpb_sites.elders.fire_protection.measures", "fire_measures", False),
             ("site elders", "ivpb_sites.elders.fire_protection.safety_plan", "fire_safety_plan", False)}
    yield "backup target, and a sync target not declared", school, hosts, set(todo)

    hosts = copy.deepcopy(hosts)
    hosts["server"]["ivpb_stores"][0]["sync_target"] = "offsite"
    hosts["server"]["ivpb_backup_encrypt_to"] = ["directie"]
    todo -= {("server", "ivpb_stores[0].sync_target", "target", True),
             ("server", "ivpb_stores[0].encrypt_to", "recipients", True)}
    todo |= {("server", "ivpb_backup_encrypt_to", "recipient", True)}
    yield "targets, a recipient named but not declared", school, hosts, set(todo)

    school = {**school, "ivpb_gpg_recipients": {"directie": {"fingerprint": RECIPIENTS["directie"]["fingerprint"]}}}
    # the recipient without its key is one line: not again as an unknown recipient
    todo -= {("server", "ivpb_backup_encrypt_to", "recipient", True)}
    todo |= {("nut (and 2 more hosts)", "ivpb_gpg_recipients.directie.public_key", "required", True)}
    yield "a recipient without its key", school, hosts, set(todo)

    school = {**school, "ivpb_gpg_recipients": RECIPIENTS}
    todo -= {("nut (and 2 more hosts)", "ivpb_gpg_recipients.directie.public_key", "required", True)}
    yield "recipients", school, hosts, set(todo)

    school = {**school, "ivpb_sites": {"school": {"fire_protection": FIRE}, "elders": {"fire_protection": FIRE}}}
    yield "fire records: complete", school, hosts, set()


STAGES = list(stages())


@pytest.mark.parametrize(("school", "hosts", "expected"), [s[1:] for s in STAGES], ids=[s[0] for s in STAGES])
def test_every_missing_piece_at_every_stage(school, hosts, expected):
    assert _lines(school, hosts) == expected
    # validate passes exactly when only the §5 evidence is left: it runs the same checks
    assert _validates(school, hosts) == all(not blocks for *_, blocks in expected)


def test_the_recipient_without_key_hides_nothing_else():
    """A schema problem (a recipient without its public key) leaves the cross-references of the
    rest to run: validate names the missing key and the other missing pieces at once."""
    name, school, hosts, _ = next(s for s in STAGES if s[0] == "a recipient without its key")
    hosts = copy.deepcopy(hosts)
    del hosts["server"]["ivpb_uplinks"]
    lines = [str(p) for p in validate(Inventory(hosts={h: {**school, **hv} for h, hv in hosts.items()}),
                                      load_policy())]
    assert "nut (and 2 more hosts): ivpb_gpg_recipients.directie.public_key: required but missing" in lines
    assert any(line.startswith("server: ivpb_uplinks: internet.failover applies") for line in lines)
