"""Build small inventories in memory (for the engine) or on disk (through Ansible's loader)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from ivpb.inventory import Inventory, load_inventory
from ivpb.policy import load_policy
from ivpb.validate import validate

SITES = {"hoofdgebouw": {}, "elders": {"external": True}}


def one_host(biv: dict[str, str], *, uses: bool = False, needs_internet: bool = True,
             archive: bool = True) -> Inventory:
    """A school with one data set, stored (or only used) on one host."""
    dataset: dict[str, Any] = {"biv": biv}
    if not archive:
        dataset["archive"] = False
    common = {
        "ivpb_datasets": {"ds": dataset},
        "ivpb_sites": SITES,
        "ivpb_backup_targets": {"offsite": {"site": "elders"}},
    }
    host = {**common, "ivpb_site": "hoofdgebouw", "ivpb_needs_internet": needs_internet,
            "ivpb_backup_target": "offsite"}
    if uses:
        host["ivpb_uses"] = ["ds"]
    else:
        host["ivpb_stores"] = [{"dataset": "ds", "path": "/srv/ds", "sync_target": "offsite"}]
    return Inventory(hosts={"srv1": host})


def write_inventory(root: Path, group_all: dict[str, Any], host_vars: dict[str, dict[str, Any]]) -> Path:
    """An ordinary Ansible inventory directory: hosts.yml, group_vars/all.yml, host_vars/*."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {h: None for h in host_vars}}}))
    (root / "group_vars").mkdir(exist_ok=True)
    (root / "group_vars" / "all.yml").write_text(yaml.safe_dump(group_all, allow_unicode=True))
    (root / "host_vars").mkdir(exist_ok=True)
    for host, hv in host_vars.items():
        (root / "host_vars" / f"{host}.yml").write_text(yaml.safe_dump(hv, allow_unicode=True))
    return root


def validation_problems(root: Path, group_all: dict[str, Any], host_vars: dict[str, dict[str, Any]]) -> list[str]:
    """`ivpb validate`'s lines for that inventory, written to root and read by Ansible's loader;
    without the findings (a data set used but stored on no host, as in these small schools:
    tests/unit/test_scoping.py has them)."""
    inv = write_inventory(root, group_all, host_vars)
    return [str(p) for p in validate(load_inventory([str(inv)]), load_policy()) if not p.finding]


def with_var(hosts: dict[str, dict[str, Any]], host: str, key: str, value: Any) -> dict[str, dict[str, Any]]:
    """A deep copy of hosts with host's key set to value (KeyError as value: the key removed)."""
    hosts = copy.deepcopy(hosts)
    if value is KeyError:
        del hosts[host][key]
    else:
        hosts[host][key] = value
    return hosts
