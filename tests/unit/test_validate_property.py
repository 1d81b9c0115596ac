"""Property-based, at the controller: a hostile string in any field that reaches a host is
refused by `ivpb validate` with one line naming the host and that field exactly when the shared
rule (input_rules, which the module applies too) refuses it - the two cannot disagree."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivpb.inventory import Inventory, load_inventory
from ivpb.policy import load_policy
from ivpb.rules import input_rules
from ivpb.validate import schema_problems

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = load_inventory([str(ROOT / "inventories" / "example")])

# (host, variable path as keys/indexes, rule)
FIELDS = [
    ("fileserver", ("ivpb_stores", 0, "path"), "abs_path"),
    ("fileserver", ("ivpb_stores", 1, "dataset"), "identifier"),
    ("fileserver", ("ivpb_backup_targets", "nas-offsite", "path"), "abs_path"),
    ("fileserver", ("ivpb_backup_targets", "nas-offsite", "address"), "host_name"),
    ("fileserver", ("ivpb_backup_targets", "nas-offsite", "user"), "unix_user"),
    ("fileserver", ("ivpb_backup_failure_hook", "mail"), "mail"),
    ("fileserver", ("ivpb_backup_failure_hook", "webhook"), "url"),
    ("fileserver", ("ivpb_backup_failure_hook", "command"), "text"),
    ("nutserver", ("ivpb_nut_server", "ups", "ups-a", "port"), "nut_port"),
    ("nutserver", ("ivpb_nut_server", "ups", "ups-a", "driver"), "nut_driver"),
    ("nutserver", ("ivpb_nut_server", "ups", "ups-a", "description"), "text"),
    ("fileserver", ("ivpb_ups_feeds", 1, "ups"), "nut_name"),
    ("fileserver", ("ivpb_nut_client", "shutdown_command"), "command_line"),
    ("fileserver", ("ivpb_nut_client", "notify_mail"), "mail"),
    ("fileserver", ("ivpb_nut_client", "notify_webhook"), "url"),
    ("router", ("ivpb_uplinks", 1, "name"), "identifier"),
    ("router", ("ivpb_uplinks", 1, "interface"), "interface"),
    ("router", ("ivpb_uplinks", 1, "gateway"), "ipv4"),
    ("router", ("ivpb_wan_failover", "webhook"), "url"),
]
HOSTILE = st.text(max_size=24) | st.sampled_from([
    "a\n", "/srv/x\n", "x;curl e|sh;#", "-oProxyCommand=x", "../../etc/shadow", "ups]\n[evil", "\u2028",
    "\udcff", "/srv/./x", "eth0/1", "https://x/'", "-x@y", "a b",
])


def shown(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


@pytest.mark.parametrize(("host", "path", "rule"), FIELDS, ids=[shown(f[1]) for f in FIELDS])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=HOSTILE)
def test_schema_and_module_rule_agree(host, path, rule, value):
    hosts = copy.deepcopy(EXAMPLE.hosts)
    node = hosts[host]
    node.setdefault(path[0], {})
    node = node[path[0]]
    for key in path[1:-1]:
        node = node[key]
    node[path[-1]] = value
    lines = [p for p in schema_problems(Inventory(hosts=hosts), load_policy()) if p.path == shown(path)]
    if input_rules.matches(rule, value) and (value or path[-1] != "command"):  # a failure command is not empty
        assert not lines, lines
    else:
        assert len({p.subject for p in lines}) == len(lines) and lines, lines  # one line per host
        assert host in {p.subject for p in lines} and all("\n" not in str(p) for p in lines)
