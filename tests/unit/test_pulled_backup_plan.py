"""A backup proxy for a system ivpb does not manage (#23), on the controller: the proxy runs the
backup role with the system's data set (its controls, where rclone reads it, never a password),
sends it into its own area of the receiver, restore looks for it there, and validate names a
pull that cannot work."""

from __future__ import annotations

import copy
import json

import pytest

from ivpb import restore
from ivpb.cli import main
from ivpb.inventory import Inventory
from ivpb.plan import plan_inventory
from ivpb.policy import load_policy
from ivpb.roles import reporting_hosts, role_groups, role_inputs
from ivpb.validate import validate

from .helpers import write_inventory

SECRET = "smb 'geheim' wachtwoord"
COMMON = {
    "ivpb_datasets": {"fotos": {"biv": {"b": "laag", "i": "laag", "v": "intern"}},
                      "admin": {"biv": {"b": "noodzakelijk", "i": "laag", "v": "intern"}}},
    "ivpb_sites": {"school": {}, "elders": {}},
    "ivpb_backup_targets": {"off": {"host": "nas2"}},
}
PULL = {"via": "proxy", "source": "smb://syno/fotos", "user": "ivpb"}
HOSTS = {
    "proxy": {"ivpb_site": "school"},
    "nas2": {"ivpb_site": "elders"},
    "syno": {"ivpb_site": "school", "ivpb_managed": False, "ivpb_system_kind": "nas-appliance",
             "ivpb_backup_target": "off", "ivpb_pull_password": SECRET,
             "ivpb_stores": [{"dataset": "fotos", "path": "/volume1/fotos", "pull": PULL}]},
}


def school(hosts=None) -> Inventory:
    return Inventory(hosts={h: {**COMMON, **hv} for h, hv in (hosts or HOSTS).items()})


def test_the_proxy_backs_up_the_systems_data_set_in_its_own_area():
    inv = school()
    plan = plan_inventory(inv, load_policy())
    groups = role_groups(inv, plan)
    assert groups["proxy"] == ["ivpb_backup"] and groups["syno"] == []
    inputs = role_inputs(inv, plan, groups)
    backup = inputs["proxy"]["backup"]
    assert {c["id"] for c in backup["controls"]} >= {"backup.weekly", "backup.best_practice"}
    assert all(c["datasets"] == ["fotos"] for c in backup["controls"])
    [entry] = backup["datasets"]
    assert entry["dataset"] == "fotos" and entry["target"]["receiver"] == "nas2"
    assert entry["pull"] == {"for": "syno", "source": "smb://syno/fotos", "user": "ivpb"}
    assert backup["receivers"] == ["nas2"]
    clients = inputs["nas2"]["backup_target"]["clients"]
    assert [(c["client"], list(c["datasets"])) for c in clients] == [("proxy", ["fotos"])]
    assert SECRET not in json.dumps(inputs)
    assert restore.locate(inv, "syno", "fotos").directory == "/srv/backup/proxy/fotos"
    # an audit of the system alone asks its proxy and the proxy's receiver, never the system
    assert reporting_hosts(inv, plan, ["syno"]) == ["proxy", "nas2"]


def test_a_pull_that_cannot_work_is_named():
    def problems(host, key, value):
        hosts = copy.deepcopy(HOSTS)
        hosts[host][key] = value
        return [str(p) for p in validate(school(hosts), load_policy()) if not p.finding]

    assert problems("syno", "ivpb_system_kind", "nas-appliance") == []
    assert problems("syno", "ivpb_stores", [{"dataset": "fotos", "path": "/f", "pull": {**PULL, "via": "nope"}}]) == [
        "syno: ivpb_stores[0].pull.via: 'nope' is not another host of the inventory; expected the managed Debian "
        "host that pulls this data set (its backup proxy)"]
    assert ("syno: ivpb_stores[0].pull.via: 'proxy' is not managed by ivpb (ivpb_managed: false); "
            "expected a managed Debian host") in problems("proxy", "ivpb_managed", False)
    assert problems("syno", "ivpb_stores", [{"dataset": "fotos", "path": "/f", "pull": {**PULL, "user": ""}}]) == [
        "syno: ivpb_stores[0].pull.user: required with ivpb_pull_password: the account it is for"]
    assert problems("syno", "ivpb_pull_password", "line\nbreak") == [
        "syno: ivpb_pull_password: a character that is not printable ASCII (a line break, a tab, an accent) (value "
        "not shown); expected the password of the account the pull names (pull.user) as one line of printable "
        "ASCII (space to ~), at most 200 characters"]
    synced = problems("syno", "ivpb_stores", [{"dataset": "admin", "path": "/a", "sync_target": "off", "pull": PULL}])
    assert any(p.startswith("syno: ivpb_stores[0].sync_target: a pulled data set cannot be synced continuously")
               for p in synced), synced
    managed = school({**HOSTS, "proxy": {**HOSTS["proxy"], "ivpb_backup_target": "off",
                                         "ivpb_stores": [{"dataset": "admin", "path": "/a", "pull": PULL}]}})
    assert any(str(p).startswith("proxy: ivpb_stores[0].pull: only for a system ivpb does not manage")
               for p in validate(managed, load_policy()))  # checks.unmanaged's word


@pytest.mark.parametrize(("value", "why"), [
    ("", "empty or not a string"),
    ("x" * 201, "longer than 200 characters"),
    ("wachtwoord\t2", "a character that is not printable ASCII (a line break, a tab, an accent)"),
    ("één", "a character that is not printable ASCII (a line break, a tab, an accent)"),
])
def test_a_bad_pull_password_is_one_line_of_its_own(tmp_path, capsys, value, why):
    """`ivpb validate`: the file and line, the system, the variable, what is wrong and what is
    expected, in the pull's own words (not the NUT password's); the value never shown; exit 1."""
    inv = write_inventory(tmp_path / "school", COMMON, {**HOSTS, "syno": {**HOSTS["syno"], "ivpb_pull_password": value}})
    assert main(["validate", "-i", str(inv)]) == 1
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if "ivpb_pull_password" in line]
    at = next(n for n, line in enumerate((inv / "host_vars/syno.yml").read_text().splitlines(), 1)
              if line.startswith("ivpb_pull_password:"))
    assert lines == [f"{inv}/host_vars/syno.yml:{at}:1: syno: ivpb_pull_password: {why} (value not shown); expected the "
                     "password of the account the pull names (pull.user) as one line of printable ASCII (space to "
                     "~), at most 200 characters"], err
    assert "NUT" not in err and "Traceback" not in err and (not value.strip() or value not in out + err)


@pytest.mark.parametrize(("source", "why"), [
    ("https://-x/dav", "the server: '-x' is not a host name or IPv4 address"),
    ("smb://a..b/share", "the server: 'a..b' is not a host name or IPv4 address"),
    ("sftp://syno:0/volume1", "port 0 is not from 1 to 65535"),
    ("smb://syno:70000/share", "port 70000 is not from 1 to 65535"),
])
def test_validate_refuses_a_source_server_the_proxy_would_refuse(source, why):
    """The schema's pattern lets these through; the proxy's backup_job refuses them. validate
    checks a source with the module's own check (backup_job.check_pull_source), so a tired
    contractor's typo is one line before anything runs, not a failed enforce on the proxy."""
    hosts = copy.deepcopy(HOSTS)
    pull = {**PULL, "source": source}
    if source.startswith("sftp://"):
        pull.update(host_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA0/vvtrDqJXg5gTi1SUnLsY7ZWNhgPuTdrJkRzidsyt")
    hosts["syno"]["ivpb_stores"] = [{"dataset": "fotos", "path": "/volume1/fotos", "pull": pull}]
    found = [str(p) for p in validate(school(hosts), load_policy()) if not p.finding]
    assert len(found) == 1 and found[0].startswith(f"syno: ivpb_stores[0].pull.source: {why}"), found


def test_a_password_pasted_into_the_source_is_refused_without_showing_it():
    """A contractor who writes the account into the URL (https://user:password@...) gets the line
    that says where the account goes, never the password on the terminal or in a CI log."""
    hosts = copy.deepcopy(HOSTS)
    hosts["syno"]["ivpb_stores"][0]["pull"] = {**PULL, "source": "https://ivpb:Geheim-123@syno/dav"}
    [line] = [str(p) for p in validate(school(hosts), load_policy()) if not p.finding]
    assert line.startswith("syno: ivpb_stores[0].pull.source: 'https://(account not shown)@syno/dav' is not where")
    assert "Geheim" not in line


def test_an_sftp_pull_names_its_account_and_pins_the_servers_key():
    """A NAS over SFTP (rclone's sftp backend): validate asks for the account and the server's
    host key (no trust on first use), and the proxy's backup role gets both, never the password."""
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA0/vvtrDqJXg5gTi1SUnLsY7ZWNhgPuTdrJkRzidsyt"
    sftp = {"via": "proxy", "source": "sftp://syno:2222/volume1/fotos", "user": "ivpb", "host_key": key}

    def problems(pull, **hv):
        hosts = copy.deepcopy(HOSTS)
        hosts["syno"].update(ivpb_stores=[{"dataset": "fotos", "path": "/volume1/fotos", "pull": pull}], **hv)
        return [str(p) for p in validate(school(hosts), load_policy()) if not p.finding]

    assert problems(sftp) == []
    assert problems({k: v for k, v in sftp.items() if k != "host_key"}) == [
        "syno: ivpb_stores[0].pull.host_key: required for an sftp:// source: the server's SSH host public key "
        "('ssh-ed25519 AAAA...'), pinned in the proxy's known_hosts"]
    assert problems({k: v for k, v in sftp.items() if k != "user"}) == [
        "syno: ivpb_stores[0].pull.user: required for an sftp:// source: the account the proxy logs in as"]
    assert problems({**sftp, "source": "sftp://syno"})[0].startswith("syno: ivpb_stores[0].pull.source: ")
    hosts = copy.deepcopy(HOSTS)
    hosts["syno"]["ivpb_stores"] = [{"dataset": "fotos", "path": "/volume1/fotos", "pull": sftp}]
    inv = school(hosts)
    plan = plan_inventory(inv, load_policy())
    inputs = role_inputs(inv, plan, role_groups(inv, plan))["proxy"]
    assert inputs["backup"]["datasets"][0]["pull"] == {"for": "syno", "source": "sftp://syno:2222/volume1/fotos",
                                                       "user": "ivpb", "host_key": key}
    assert SECRET not in json.dumps(inputs)
