"""§3 Internetverbinding in `ivpb validate`: who enforces a host's failover (ivpb_internet_via),
at least two uplinks on distinct interfaces and gateways, a probe target each; internet.sla never
blocks. Real inventories read by Ansible's loader; one line per mistake."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml

from ivpb.cli import main
from ivpb.inventory import load_inventory
from ivpb.policy import load_policy
from ivpb.validate import validate

from .helpers import validation_problems, with_var, write_inventory

ROOT = Path(__file__).resolve().parents[2]
SCHOOL = {
    "ivpb_datasets": {"leerlingen": {"biv": {"b": "noodzakelijk", "i": "absoluut", "v": "vertrouwelijk"}},
                      "lesmateriaal": {"biv": {"b": "belangrijk", "i": "laag", "v": "intern"}}},
    "ivpb_sites": {"school": {}},
    "ivpb_site": "school",
    "ivpb_needs_internet": True,
}
UPLINKS = [
    {"name": "wan1", "interface": "eth1", "gateway": "192.0.2.1", "metric": 101, "track_ip": ["198.51.100.53"],
     "isp": "ISP een", "sla": {"reference": "SLA-1", "ends": "2028-08-31"}},
    {"name": "wan2", "interface": "eth2", "gateway": "198.51.100.1", "metric": 102, "track_ip": ["203.0.113.53"]},
]
# The fileserver's data needs internet.failover (and §2's redundant power, declared to keep the
# inventory valid for that clause).
POWER = {"ivpb_ups_feeds": [{"server": "router", "ups": "a"}, {"server": "router", "ups": "b"}],
         "ivpb_nut_password": "lab-pw"}
HOSTS = {
    "router": {"ivpb_uplinks": UPLINKS, "ivpb_nut_server": {"ups": {"a": {"driver": "dummy-ups"},
                                                                     "b": {"driver": "dummy-ups"}}}},
    "fileserver": {"ivpb_uses": ["leerlingen"], "ivpb_internet_via": "router", **POWER},
    "pc": {"ivpb_uses": ["lesmateriaal"], "ivpb_internet_via": "router",
           "ivpb_ups_feeds": [{"server": "router", "ups": "a"}], "ivpb_nut_password": "lab-pw"},
}


def test_valid_internet_inventory(tmp_path):
    assert validation_problems(tmp_path / "inv", SCHOOL, HOSTS) == []


def test_example_inventory_is_valid_and_routes_the_fileserver_via_the_router(capsys):
    assert main(["validate", "-i", str(ROOT / "inventories/example")]) == 0


@pytest.mark.parametrize(("host", "key", "value", "expected"), [
    ("router", "ivpb_uplinks", UPLINKS[:1],
     "fileserver: ivpb_internet_via: internet.failover applies (§3): expected at least two uplinks in "
     "ivpb_uplinks on its router 'router', found 1"),
    ("fileserver", "ivpb_internet_via", KeyError,
     "fileserver: ivpb_uplinks: internet.failover applies (§3): expected at least two uplinks in "
     "ivpb_uplinks on this host, found 0; or set ivpb_internet_via to the host that routes it"),
    ("fileserver", "ivpb_internet_via", "gateway",
     "fileserver: ivpb_internet_via: 'gateway' is not a host of this inventory; expected the host that "
     "routes this host's traffic"),
    ("router", "ivpb_uplinks", [UPLINKS[0], {**UPLINKS[1], "interface": "eth1"}],
     "router: ivpb_uplinks[1].interface: 'eth1' is already used by ivpb_uplinks[0]; two uplinks need their "
     "own interface"),
    ("router", "ivpb_uplinks", [UPLINKS[0], {**UPLINKS[1], "gateway": "192.0.2.1"}],
     "router: ivpb_uplinks[1].gateway: '192.0.2.1' is already used by ivpb_uplinks[0]; two uplinks need "
     "their own gateway"),
    ("router", "ivpb_uplinks", [UPLINKS[0], {**UPLINKS[1], "track_ip": []}],
     "router: ivpb_uplinks[1].track_ip: expected at least one probe target: an outage beyond the ISP's "
     "modem is only seen by probing through the uplink"),
    ("router", "ivpb_uplinks", [UPLINKS[0], {**UPLINKS[1], "gateway": "198.51.100.300"}],
     "router: ivpb_uplinks[1].gateway: '198.51.100.300' is not an IPv4 address"),
    ("router", "ivpb_uplinks", [UPLINKS[0], {**UPLINKS[1], "sla": {"reference": "X"}}],
     "router: ivpb_uplinks[1].sla.ends: required but missing"),
    ("router", "ivpb_wan_failover", {"interval": 1, "timeout": 5},
     "router: ivpb_wan_failover.timeout: count x timeout must stay below two intervals"),
])
def test_each_mistake_is_one_clear_line(tmp_path, host, key, value, expected):
    assert validation_problems(tmp_path / "inv", SCHOOL, with_var(HOSTS, host, key, value)) == [expected]


def test_missing_sla_record_never_blocks(tmp_path):
    hosts = with_var(HOSTS, "router", "ivpb_uplinks", [{k: v for k, v in u.items() if k not in ("isp", "sla")}
                                               for u in UPLINKS])
    assert validation_problems(tmp_path / "inv", SCHOOL, hosts) == []


def test_host_without_failover_needs_no_uplinks(tmp_path):
    hosts = with_var(HOSTS, "fileserver", "ivpb_uses", ["lesmateriaal"])
    hosts["fileserver"]["ivpb_ups_feeds"] = hosts["fileserver"]["ivpb_ups_feeds"][:1]
    hosts = {**hosts, "router": {**hosts["router"], "ivpb_uplinks": []}}
    assert validation_problems(tmp_path / "inv", SCHOOL, hosts) == []


def test_a_school_policy_that_asks_three_uplinks_asks_the_router_for_three(tmp_path):
    """The count is the policy file's (evidence.uplinks_online_min), here and in the audit."""
    raw = yaml.safe_load(resources.files("ivpb.policies").joinpath("backupbeleid.yml").read_text(encoding="utf-8"))
    raw["evidence"]["uplinks_online_min"] = 3
    own = tmp_path / "eigen.yml"
    own.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    inventory = load_inventory([str(write_inventory(tmp_path / "inv", SCHOOL, HOSTS))])
    assert [str(p) for p in validate(inventory, load_policy()) if not p.finding] == []
    assert [str(p) for p in validate(inventory, load_policy(str(own))) if not p.finding] == [
        "fileserver: ivpb_internet_via: internet.failover applies (§3): expected at least three uplinks in "
        "ivpb_uplinks on its router 'router', found 2"]
