"""Bad inventories: one line per problem naming host, variable path and what is expected; exit 1;
no traceback. Inventories are real Ansible inventories on disk, read by Ansible's loader."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest

from ivpb.cli import main
from ivpb.inventory import load_inventory
from ivpb.policy import load_policy
from ivpb.validate import validate

from .helpers import write_inventory


def _recipient():
    """The example school's public key: backup.encrypted needs a recipient with a valid fingerprint."""
    import yaml

    from tests.conftest import EXAMPLE

    return yaml.safe_load((EXAMPLE / "group_vars" / "all" / "backup.yml").read_text())["ivpb_gpg_recipients"]


SCHOOL = {
    "ivpb_datasets": {
        "leerlingen": {"biv": {"b": "noodzakelijk", "i": "absoluut", "v": "vertrouwelijk"}},
        "fotos": {"biv": {"b": "laag", "i": "laag", "v": "intern"}},
    },
    "ivpb_sites": {"school": {}, "filiaal": {}},
    "ivpb_backup_targets": {"offsite": {"host": "nas2"}, "local": {"host": "srv1"}},
    "ivpb_gpg_recipients": _recipient(),
    "ivpb_backup_encrypt_to": ["directie"],
}
HOSTS = {
    "srv1": {
        "ivpb_site": "school",
        "ivpb_backup_target": "offsite",
        "ivpb_stores": [
            {"dataset": "leerlingen", "path": "/srv/leerlingen", "sync_target": "offsite"},
            {"dataset": "fotos", "path": "/srv/fotos"},
        ],
        # §2: noodzakelijk data needs two UPSes (power.redundant_ups)
        "ivpb_ups_feeds": [{"server": "ups1", "ups": "ups-a"}, {"server": "ups1", "ups": "ups-b"}],
        "ivpb_nut_password": "geheim",
    },
    "nas2": {"ivpb_site": "filiaal"},
    "ups1": {
        "ivpb_site": "school",
        "ivpb_nut_server": {"ups": {"ups-a": {"driver": "usbhid-ups"}, "ups-b": {"driver": "usbhid-ups"}}},
    },
}


def problems(tmp_path, school=None, hosts=None) -> list[str]:
    inv = write_inventory(tmp_path / "inv", school or SCHOOL, hosts or HOSTS)
    # without the findings (a data set stored on no host once a store is misspelt): test_scoping.py
    return [str(p) for p in validate(load_inventory([str(inv)]), load_policy()) if not p.finding]


def with_change(tree, path, value):
    tree = copy.deepcopy(tree)
    node = tree
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return tree


def test_valid_inventory_has_no_problems(tmp_path):
    assert problems(tmp_path) == []


@pytest.mark.parametrize(
    ("school_change", "host_change", "expected"),
    [
        ((["ivpb_datasets", "fotos", "biv", "b"], "hoog"), None,
         "nas2 (and 2 more hosts): ivpb_datasets.fotos.biv.b: 'hoog' is not one of laag, belangrijk, noodzakelijk"),
        ((["ivpb_datasets", "fotos", "biv", "v"], KeyError), None,
         "nas2 (and 2 more hosts): ivpb_datasets.fotos.biv.v: required but missing"),
        ((["ivpb_datasets", "fotos", "archief"], True), None,
         "nas2 (and 2 more hosts): ivpb_datasets.fotos.archief: unknown key (did you mean 'archive'?) (expected one of: archive, biv, "
         "description, owner)"),
        (None, (["srv1", "ivpb_stores", 1, "path"], "srv/fotos"),
         "srv1: ivpb_stores[1].path: 'srv/fotos' is not an absolute, normalised path (starting with '/', no '//', '.' or '..' components, no trailing '/', no control characters)"),
        (None, (["srv1", "ivpb_stores", 1, "dataset"], "fotoos"),
         "srv1: ivpb_stores[1].dataset: unknown data set 'fotoos' (did you mean 'fotos'?); expected one of: fotos, "
         "leerlingen"),
        (None, (["srv1", "ivpb_site"], "kelder"),
         "srv1: ivpb_site: unknown site 'kelder'; expected one of: filiaal, school"),
        (None, (["srv1", "ivpb_needs_internet"], "ja"),
         "srv1: ivpb_needs_internet: expected true or false, got 'ja'"),
        (None, (["srv1", "ivpb_stores", 1, "backup_target"], "local"),
         "srv1: ivpb_stores[1].backup_target: 'local' is this host itself; a backup goes to another location and medium"),
        (None, (["nas2", "ivpb_site"], "school"),
         "srv1: ivpb_stores[0].sync_target: 'offsite' is at this host's own site 'school'; expected a target at another site"),
        (None, (["srv1", "ivpb_stores", 0, "sync_target"], KeyError),
         "srv1: ivpb_stores[0].sync_target: required: backup.sync_offsite applies (§4); expected a target at another site"),
        ((["ivpb_contacts"], {"ict": {"name": "ICT", "role": "herstel", "mail": "geen mail"}}), None,
         "nas2 (and 2 more hosts): ivpb_contacts.ict.mail: 'geen mail' is not a mail address such as ict@school.example"),
        (None, (["srv1", "ivpb_uses"], ["boekhouding"]),
         "srv1: ivpb_uses[0]: unknown data set 'boekhouding'; expected one of: fotos, leerlingen"),
    ],
)
def test_each_kind_of_bad_input_gets_one_clear_line(tmp_path, school_change, host_change, expected):
    school = with_change(SCHOOL, *school_change) if school_change else SCHOOL
    hosts = with_change(HOSTS, *host_change) if host_change else HOSTS
    assert problems(tmp_path, school, hosts) == [expected]


def test_cli_exit_codes_and_no_traceback(tmp_path, capsys):
    good = write_inventory(tmp_path / "good", SCHOOL, HOSTS)
    assert main(["validate", "-i", str(good)]) == 0
    bad = write_inventory(tmp_path / "bad", with_change(SCHOOL, ["ivpb_datasets", "fotos", "biv", "i"], "hoog"), HOSTS)
    assert main(["validate", "-i", str(bad)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{bad}/group_vars/all.yml:12:10: nas2 (and 2 more hosts): ivpb_datasets.fotos.biv.i: 'hoog' is not "
                   "one of laag, vereist, absoluut"]


@pytest.mark.parametrize("content", ["- bad: [", "all: {hosts: {a: {ivpb_site: [}}}"])
def test_unparsable_inventory_is_one_line(tmp_path, content):
    path = tmp_path / "hosts.yml"
    path.write_text(content)
    proc = subprocess.run(
        [sys.executable, "-m", "ivpb.cli", "validate", "-i", str(path)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_missing_inventory(capsys):
    assert main(["plan", "-i", "/nonexistent/inv"]) == 1
    assert capsys.readouterr().err.strip() == "inventory '/nonexistent/inv' does not exist"


def test_vaulted_variable_is_decrypted_and_validated(tmp_path):
    from ansible.parsing.vault import VaultLib, VaultSecret

    secret = VaultSecret(b"geheim-wachtwoord")
    vault = VaultLib([("default", secret)])
    inv = write_inventory(tmp_path / "inv", SCHOOL, HOSTS)
    encrypted = vault.encrypt("school").decode()
    (inv / "host_vars" / "srv1.yml").write_text(
        (inv / "host_vars" / "srv1.yml")
        .read_text()
        .replace("ivpb_site: school", "ivpb_site: !vault |\n  " + encrypted.replace("\n", "\n  "))
    )
    inventory = load_inventory([str(inv)], [("default", secret)])
    assert inventory.hosts["srv1"]["ivpb_site"] == "school"
    assert validate(inventory, load_policy()) == []


def test_equal_values_on_many_hosts_share_a_verdict_but_each_host_is_named():
    """Schema verdicts are memoised by a value's JSON text: equal values give each host its problem,
    values that differ (also only in type: 1 vs true vs "1") are each judged on their own."""
    from ivpb.inventory import Inventory
    from ivpb.validate import schema_problems

    bad = [{"dataset": "leerlingen", "path": "relative"}]
    hosts = {
        "a": {"ivpb_stores": copy.deepcopy(bad), "ivpb_needs_internet": True},
        "b": {"ivpb_stores": copy.deepcopy(bad), "ivpb_needs_internet": 1},
        "c": {"ivpb_stores": [{"dataset": "leerlingen", "path": "/ok"}], "ivpb_needs_internet": "1"},
    }
    problems = schema_problems(Inventory(hosts=hosts), load_policy())
    assert [(p.subject, p.path) for p in problems] == [
        ("a", "ivpb_stores[0].path"),
        ("b", "ivpb_stores[0].path"),
        ("b", "ivpb_needs_internet"),
        ("c", "ivpb_needs_internet"),
    ]
