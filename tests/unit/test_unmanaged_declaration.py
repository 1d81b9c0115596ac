"""Systems ivpb does not manage (#23 item 1): declared in the inventory (ivpb_managed: false and a
kind), planned exactly like a managed host, never connected to, and validation names what each
one lacks. Inventories are real Ansible inventories on disk, read by Ansible's loader."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path

import pytest

from ivpb.inventory import load_inventory
from ivpb.plan import plan_inventory
from ivpb.policy import load_policy
from ivpb.roles import reporting_hosts, role_groups, role_inputs
from ivpb.validate import validate

from .helpers import with_var, write_inventory

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "example"

SCHOOL = {
    "ivpb_datasets": {
        "lvs": {"biv": {"b": "noodzakelijk", "i": "absoluut", "v": "vertrouwelijk"}},
        "fotos": {"biv": {"b": "laag", "i": "laag", "v": "intern"}},
    },
    "ivpb_sites": {"school": {}, "cloud": {"external": True}},
    "ivpb_backup_targets": {"offsite": {"site": "cloud", "address": "backup.example.org"}},
}


def applying(biv: dict[str, str]) -> list[str]:
    """The ids of the host's and data set's controls that apply to data of these levels (on a host
    that needs the internet, archived), in the policy file's order: what a system storing it declares."""
    policy = load_policy()
    ranks = {aspect: policy.ladders[aspect].index(level) for aspect, level in biv.items()}
    found = {c.id for c in policy.controls if c.scope != "site" and c.applies_to(ranks)}
    return [c.id for c in policy.controls if c.id in found and c.superseded_by not in found]


ALL_LVS = applying(SCHOOL["ivpb_datasets"]["lvs"]["biv"])
HOSTS = {
    "informat": {
        "ivpb_managed": False, "ivpb_system_kind": "cloud-service", "ivpb_site": "cloud",
        "ivpb_needs_internet": True,
        "ivpb_stores": [{"dataset": "lvs", "path": "https://informat.example/lvs",
                         "restore": {"by": "helpdesk", "from": "Informat", "with": "directieaccount"}}],
        "ivpb_attested": ALL_LVS,
    },
    "pc": {
        "ivpb_managed": False, "ivpb_system_kind": "windows", "ivpb_site": "school",
        "ivpb_stores": [{"dataset": "fotos", "path": "D:\\Fotos",
                         "restore": {"by": "ICT", "from": "OneDrive", "with": "account ict"}}],
        "ivpb_attested": ["backup.weekly", "backup.annual_full", "backup.best_practice"],
    },
}


def problems(tmp_path, hosts, school=SCHOOL) -> list[str]:
    inv = write_inventory(tmp_path / "inv", school, hosts)
    return [str(p) for p in validate(load_inventory([str(inv)]), load_policy()) if not p.finding]


def test_the_example_declares_one_valid_system_of_each_kind():
    kinds = json.loads(resources.files("ivpb.schemas").joinpath("vars", "ivpb_system_kind.json").read_text())["enum"]
    inventory = load_inventory([str(EXAMPLE)])
    declared = {hv["ivpb_system_kind"] for hv in inventory.hosts.values() if hv.get("ivpb_managed") is False}
    assert declared == set(kinds)
    assert validate(inventory, load_policy()) == []


def test_a_valid_declaration_has_no_problems(tmp_path):
    assert problems(tmp_path, HOSTS) == []


def test_the_plan_is_the_managed_hosts_plan(tmp_path):
    """The policy does not care about the operating system: the same stores and uses give the same
    controls, managed or not."""
    unmanaged = load_inventory([str(write_inventory(tmp_path / "a", SCHOOL, HOSTS))])
    managed_hosts = copy.deepcopy(HOSTS)
    for hv in managed_hosts.values():
        for key in ("ivpb_managed", "ivpb_system_kind", "ivpb_attested"):
            hv.pop(key)
        for store in hv["ivpb_stores"]:
            store.pop("restore")
            store["path"] = "/srv/data"
    managed = load_inventory([str(write_inventory(tmp_path / "b", SCHOOL, managed_hosts))])
    policy = load_policy()
    for host in HOSTS:
        mine = plan_inventory(unmanaged, policy).hosts[host]
        theirs = plan_inventory(managed, policy).hosts[host]
        assert [(c.id, c.dataset) for c in mine.controls] == [(c.id, c.dataset) for c in theirs.controls]
        assert mine.controls and mine.biv == theirs.biv
        assert (mine.managed, theirs.managed) == (False, True)
    assert plan_inventory(unmanaged, policy).as_dict()["hosts"]["pc"]["managed"] is False


@pytest.mark.parametrize(("host", "key", "value", "expected"), [
    ("pc", "ivpb_system_kind", KeyError,
     "pc: ivpb_system_kind: required for a system ivpb does not manage: what it is"),
    ("pc", "ivpb_system_kind", "nas",
     "pc: ivpb_system_kind: 'nas' is not one of nas-appliance, windows, macos, laptop, byod, cloud-service"),
    ("pc", "ivpb_attested", ["backup.weekly", "backup.annual_full"],
     "pc: ivpb_attested: backup.best_practice applies (§4) for data set fotos, but nothing meets it on a system "
     "ivpb does not manage; expected a managed host that pulls the data set (the store's pull) or "
     "backup.best_practice in ivpb_attested (then: ivpb attest)"),
    ("pc", "ivpb_attested", ["backup.weekly", "backup.anual_full", "backup.best_practice"],
     "pc: ivpb_attested: backup.annual_full applies (§4) for data set fotos, but nothing meets it on a system "
     "ivpb does not manage; expected a managed host that pulls the data set (the store's pull) or "
     "backup.annual_full in ivpb_attested (then: ivpb attest)"),
    ("informat", "ivpb_attested", [c for c in ALL_LVS if c != "power.redundant_ups"],
     "informat: ivpb_attested: power.redundant_ups applies (§2), but nothing meets it on a system ivpb does not "
     "manage; expected ivpb_ups_feeds (a UPS on a managed NUT server that the system monitors) or "
     "power.redundant_ups in ivpb_attested (then: ivpb attest)"),
    ("informat", "ivpb_attested", [c for c in ALL_LVS if c != "internet.failover"],
     "informat: ivpb_attested: internet.failover applies (§3), but nothing meets it on a system ivpb does not "
     "manage; expected ivpb_internet_via naming the managed router that routes its traffic or internet.failover "
     "in ivpb_attested (then: ivpb attest)"),
    ("pc", "ivpb_nut_server", {"ups": {"ups-a": {"driver": "usbhid-ups"}}},
     "pc: ivpb_nut_server: a system ivpb does not manage cannot serve UPSes for ivpb (nothing is configured on it); "
     "expected it on a managed host"),
])
def test_validation_names_what_a_system_lacks(tmp_path, host, key, value, expected):
    assert problems(tmp_path, with_var(HOSTS, host, key, value)) == [expected]


def test_a_store_without_a_restore_says_who_restores_it(tmp_path):
    hosts = copy.deepcopy(HOSTS)
    del hosts["pc"]["ivpb_stores"][0]["restore"]
    assert problems(tmp_path, hosts) == [
        "pc: ivpb_stores[0].restore: required on a system ivpb does not manage (unless a managed host pulls it): who "
        "restores the data set, from where and with which key or account ({by, from, with}), for the herstelplan"]


def test_the_keys_of_an_unmanaged_system_are_refused_on_a_managed_host(tmp_path):
    hosts = {"srv": {"ivpb_site": "school", "ivpb_system_kind": "windows", "ivpb_attested": ["backup.weekly"],
                     "ivpb_backup_target": "offsite",
                     "ivpb_stores": [{"dataset": "fotos", "path": "/srv/fotos",
                                      "pull": {"via": "srv", "source": "smb://nas/fotos"},
                                      "restore": {"by": "a", "from": "b", "with": "c"}}]}}
    found = problems(tmp_path, hosts, {**SCHOOL, "ivpb_datasets": {"fotos": SCHOOL["ivpb_datasets"]["fotos"]}})
    only = "only for a system ivpb does not manage (ivpb_managed: false)"
    assert found == [
        f"srv: ivpb_attested: {only}; this host is managed",
        f"srv: ivpb_stores[0].pull: {only}; this host's data set is backed up and restored by ivpb",
        f"srv: ivpb_stores[0].restore: {only}; this host's data set is backed up and restored by ivpb",
        f"srv: ivpb_system_kind: {only}; this host is managed",
    ]


def test_a_path_in_the_systems_own_terms_only_where_ivpb_does_not_manage(tmp_path):
    """D:\\Fotos is where a Windows PC keeps the data; on a managed host a store path is absolute."""
    managed = with_var(HOSTS, "pc", "ivpb_managed", True)
    found = problems(tmp_path, managed)
    assert "pc: ivpb_stores[0].path: 'D:\\\\Fotos' is not an absolute, normalised path (starting with '/', no '//', " \
           "'.' or '..' components, no trailing '/', no control characters)" in found
    hosts = copy.deepcopy(HOSTS)
    hosts["pc"]["ivpb_stores"][0]["path"] = "D:\\Fotos\nrm -rf /"
    assert problems(tmp_path / "2", hosts) == [
        "pc: ivpb_stores[0].path: 'D:\\\\Fotos\\nrm -rf /' contains a control character ('\\n' at position 8); "
        "expected one line of text"]


def test_nothing_makes_an_unmanaged_system_a_receiver_or_a_router(tmp_path):
    hosts = copy.deepcopy(HOSTS)
    hosts["srv"] = {"ivpb_site": "school", "ivpb_internet_via": "pc", "ivpb_needs_internet": True}
    school = {**SCHOOL, "ivpb_backup_targets": {"offsite": {"host": "pc"}}}
    assert problems(tmp_path, hosts, school) == [
        "srv: ivpb_internet_via: 'pc' is a system ivpb does not manage, so it cannot enforce this host's failover; "
        "expected the managed host that routes its traffic",
        "target offsite: ivpb_backup_targets.offsite.host: 'pc' is a system ivpb does not manage, so ivpb cannot "
        "make it a receiver; expected a managed host, or the target as {site, address, host_key}",
    ]


def test_no_play_targets_an_unmanaged_system():
    """enforce.yml's clauses run on the role groups only (ivpb.roles): a system ivpb does not
    manage is in none, is asked by no limited audit, sends to no receiver."""
    inventory = load_inventory([str(EXAMPLE)])
    plan = plan_inventory(inventory, load_policy())
    groups = role_groups(inventory, plan)
    unmanaged = [h for h, hv in inventory.hosts.items() if hv.get("ivpb_managed") is False]
    assert len(unmanaged) == 7
    assert all(groups[h] == [] for h in unmanaged)
    assert reporting_hosts(inventory, plan, unmanaged) == []
    inputs = role_inputs(inventory, plan, groups)
    clients = {c["client"] for entry in inputs.values() for c in entry.get("backup_target", {}).get("clients", [])}
    assert clients == {"fileserver", "nas"}


def test_the_audits_check_run_never_connects_to_one(tmp_path):
    """The real check run of enforce.yml (ivpb audit's, through ansible-runner) over systems ivpb
    does not manage: their SSH program is one that records every call, so any attempt to reach
    them would leave its mark; no task runs on them, none is unreachable, the program never ran."""
    from ivpb.audit.run import run_check

    marks = tmp_path / "connected"
    ssh = tmp_path / "ssh"
    ssh.write_text(f"#!/bin/sh\necho \"$@\" >> {marks}\nexit 255\n")
    ssh.chmod(0o755)
    inv = write_inventory(tmp_path / "inv", SCHOOL, HOSTS)
    for host in HOSTS:
        with (inv / "host_vars" / f"{host}.yml").open("a") as f:
            f.write(f"ansible_connection: ssh\nansible_ssh_executable: {ssh}\n")
    results = run_check(ROOT, [str(inv)], None, None, progress=None)
    assert set(results) <= set(HOSTS)
    assert all(hr.reachable is None and not hr.unreachable_msg and not hr.failures and not hr.controls
               for hr in results.values()), results
    assert not marks.exists()
