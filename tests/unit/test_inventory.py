"""The inventory is read with Ansible's own machinery: the fast path (group combinations read
once) must give exactly what Ansible's VariableManager gives, for every host."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivpb.inventory import PREFIX, load_inventory, plain

from .helpers import write_inventory

ROOT = Path(__file__).resolve().parents[2]


def reference(sources: list[str]) -> dict[str, dict]:
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    from ansible.vars.manager import VariableManager

    loader = DataLoader()
    manager = InventoryManager(loader=loader, sources=sources)
    variables = VariableManager(loader=loader, inventory=manager)
    out = {}
    for host in manager.get_hosts():
        hv = variables.get_vars(host=host, include_hostvars=False)
        templar = Templar(loader=loader, variables=hv)
        out[host.name] = {k: plain(templar.template(v)) for k, v in hv.items() if k.startswith(PREFIX)}
    return out


@pytest.mark.parametrize("sources", [["inventories/example"], ["inventories/example", "inventories/lab"]])
def test_fast_path_equals_variable_manager(sources):
    sources = [str(ROOT / s) for s in sources if (ROOT / s).exists()]
    assert load_inventory(sources).hosts == reference(sources)


def test_group_precedence_and_templates(tmp_path):
    inv = write_inventory(tmp_path / "inv", {"ivpb_site": "school", "ivpb_needs_internet": False},
                          {"a": {}, "b": {"ivpb_needs_internet": True}, "c": {"ivpb_site": "{{ 'fil' ~ 'iaal' }}"}})
    (inv / "hosts.yml").write_text("all:\n  hosts: {a: , b: , c: }\n  children:\n    kantoor:\n      hosts: {a: }\n")
    (inv / "group_vars" / "kantoor.yml").write_text("ivpb_site: kantoor\n")
    hosts = load_inventory([str(inv)]).hosts
    assert hosts == reference([str(inv)])
    assert hosts["a"]["ivpb_site"] == "kantoor"  # a child group beats all
    assert hosts["b"]["ivpb_needs_internet"] is True  # host_vars beat group_vars
    assert hosts["c"]["ivpb_site"] == "filiaal"  # templates are rendered


def test_limit_chooses_hosts_but_reads_all(tmp_path):
    inv = write_inventory(tmp_path / "inv", {}, {"a": {}, "b": {}})
    loaded = load_inventory([str(inv)], limit="b")
    assert set(loaded.hosts) == {"a", "b"} and loaded.chosen() == ["b"]
