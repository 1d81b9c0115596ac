"""§2 Stroomvoorziening in `ivpb validate`: UPS feeds per required level, unknown servers and
UPSes, passwords checked without ever being shown. Real inventories read by Ansible's loader."""

from __future__ import annotations

import pytest

from ivpb.cli import main

from .helpers import validation_problems, with_var, write_inventory

SECRET = 'zeer "geheim" wachtwoord'
SCHOOL = {
    "ivpb_datasets": {
        "leerlingen": {"biv": {"b": "noodzakelijk", "i": "absoluut", "v": "vertrouwelijk"}},
        "boekhouding": {"biv": {"b": "belangrijk", "i": "vereist", "v": "vertrouwelijk"}},
    },
    "ivpb_sites": {"school": {}},
    "ivpb_site": "school",
}
HOSTS = {
    "nutserver": {"ivpb_nut_server": {"ups": {"ups-a": {"driver": "usbhid-ups"}, "ups-b": {"driver": "usbhid-ups"}}}},
    "fileserver": {"ivpb_uses": ["leerlingen"], "ivpb_nut_password": SECRET,
                   "ivpb_ups_feeds": [{"server": "nutserver", "ups": "ups-a"}, {"server": "nutserver", "ups": "ups-b"}]},
    "pc": {"ivpb_uses": ["boekhouding"], "ivpb_nut_password": SECRET,
           "ivpb_ups_feeds": [{"server": "nutserver", "ups": "ups-a"}]},
    "printer": {},
}


def test_valid_power_inventory(tmp_path):
    assert validation_problems(tmp_path / "inv", SCHOOL, HOSTS) == []


@pytest.mark.parametrize(("host", "key", "value", "expected"), [
    ("fileserver", "ivpb_ups_feeds", [{"server": "nutserver", "ups": "ups-a"}],
     "fileserver: ivpb_ups_feeds: power.redundant_ups applies (§2): expected at least two distinct UPSes, found 1"),
    ("fileserver", "ivpb_ups_feeds", [{"server": "nutserver", "ups": "ups-a"},
                                      {"server": "nutserver", "ups": "ups-b", "power_value": 0}],
     "fileserver: ivpb_ups_feeds: power.redundant_ups applies (§2): expected at least two distinct UPSes, found 1"),
    ("pc", "ivpb_ups_feeds", KeyError,
     "pc: ivpb_ups_feeds: power.ups applies (§2): expected at least one UPS that feeds this host, found none"),
    ("pc", "ivpb_ups_feeds", [{"server": "nutserverr", "ups": "ups-a"}],
     "pc: ivpb_ups_feeds[0].server: unknown UPS server 'nutserverr': not a host of this inventory (did you mean 'nutserver'?); "
     "expected one of: nutserver"),
    ("pc", "ivpb_ups_feeds", [{"server": "printer", "ups": "ups-a"}],
     "pc: ivpb_ups_feeds[0].server: 'printer' serves no UPS (no ivpb_nut_server); expected one of: nutserver"),
    ("pc", "ivpb_ups_feeds", [{"server": "nutserver", "ups": "ups-c"}],
     "pc: ivpb_ups_feeds[0].ups: unknown UPS 'ups-c' on 'nutserver'; expected one of: ups-a, ups-b"),
    ("pc", "ivpb_nut_password", KeyError,
     "pc: ivpb_nut_password: required for a host fed by a UPS (its NUT monitoring password; "
     "keep it in ansible-vault)"),
    ("pc", "ivpb_nut_password", "wachtwoord met é",
     "pc: ivpb_nut_password: only printable ASCII characters (space to ~) are allowed by NUT (value not shown)"),
    ("pc", "ivpb_nut_password", 12345678,
     "pc: ivpb_nut_password: expected a non-empty string (value not shown)"),
    # a mistyped timing: the battery would be empty before the host shuts down
    ("pc", "ivpb_nut_client", {"deadtime": 1500},
     "pc: ivpb_nut_client.deadtime: expected whole seconds from 1 to 300, got 1500"),
    ("pc", "ivpb_nut_client", {"finaldelay": 301},
     "pc: ivpb_nut_client.finaldelay: expected whole seconds from 0 to 300, got 301"),
])
def test_power_problems_one_line_each(tmp_path, host, key, value, expected):
    found = validation_problems(tmp_path / "inv", SCHOOL, with_var(HOSTS, host, key, value))
    assert found == [expected]
    assert "wachtwoord met" not in " ".join(found) and "12345678" not in " ".join(found)


def test_cli_validate_names_host_and_variable_never_the_password(tmp_path, capsys):
    hosts = with_var(HOSTS, "pc", "ivpb_ups_feeds", [{"server": "nosuchserver", "ups": "ups-a"}])
    hosts["fileserver"]["ivpb_nut_server"] = {"ups": {}, "test_user": {"name": "t", "password": "tést"}}
    inv = write_inventory(tmp_path / "inv", SCHOOL, hosts)
    rc = main(["validate", "-i", str(inv)])
    out = capsys.readouterr()
    text = out.out + out.err
    assert rc == 1
    assert "Traceback" not in text and SECRET not in text and "tést" not in text
