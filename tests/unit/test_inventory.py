"""The inventory is read with Ansible's own machinery: the fast path (group combinations read
once) must give exactly what Ansible's VariableManager gives, for every host."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivpb.inventory import PREFIX, load_inventory, plain

from .helpers import write_inventory

ROOT = Path(__file__).resolve().parents[2]


def reference(sources: list[str], secrets=None) -> dict[str, dict]:
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    from ansible.vars.manager import VariableManager

    loader = DataLoader()
    loader.set_vault_secrets(secrets)
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
    inv = write_inventory(
        tmp_path / "inv",
        {"ivpb_site": "school", "ivpb_needs_internet": False},
        {"a": {}, "b": {"ivpb_needs_internet": True}, "c": {"ivpb_site": "{{ 'fil' ~ 'iaal' }}"}},
    )
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


def reference_with_vault(sources: list[str], password_file: str) -> dict[str, dict]:
    """Ansible's own result with a vault password, as ansible-playbook --vault-password-file reads it."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.vault import get_file_vault_secret

    from ivpb.vault import apply

    secret = get_file_vault_secret(filename=password_file, loader=DataLoader())
    secret.load()
    apply(DataLoader(), [("default", secret)])
    return reference(sources, [("default", secret)])


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_plain_files_in_directories_as_ansible_reads_them(tmp_path):
    """Directories read recursively in sorted order, later files winning; hidden, backup and
    other-extension files ignored; JSON files; dates; merge keys; empty files."""
    inv = _tree(
        tmp_path / "inv",
        {
            "hosts.yml": "all:\n  hosts: {a: , b: , c: }\n  children:\n    kantoor:\n      hosts: {a: , b: }\n",
            "group_vars/all/10-school.yml": "ivpb_site: school\nivpb_datasets: {x: {biv: {b: laag}}}\n",
            "group_vars/all/20-later.yaml": "ivpb_site: later\nivpb_plan_date: 2026-03-01\n",
            "group_vars/all/sub/30-deeper.json": '{"ivpb_sites": {"school": {"n": 1e3}}, "ivpb_x": [1, 2.5, null]}',
            "group_vars/all/.hidden.yml": "ivpb_site: hidden\n",
            "group_vars/all/99-backup.yml~": "ivpb_site: backup\n",
            "group_vars/all/notes.txt": "ivpb_site: text\n",
            "group_vars/all/empty.yml": "",
            "group_vars/kantoor.yml": "base: &base {dataset: d, path: /d}\nivpb_stores: [{<<: *base, sync_target: t}]\n",
            "host_vars/a/main.yml": "ivpb_needs_internet: true\nivpb_when: 2026-03-01 10:00:00+01:00\n",
            "host_vars/a/more.yml": "ivpb_site: a-own\nivpb_uses: [x]\n",
            "host_vars/b.yml": "ivpb_site: 'b ''quoted'''\nivpb_list: [yes, no, ~, 0o17, 1_000]\n",
        },
    )
    hosts = load_inventory([str(inv)]).hosts
    assert hosts == reference([str(inv)])
    assert hosts["c"]["ivpb_site"] == "later" and hosts["a"]["ivpb_site"] == "a-own"
    assert hosts["c"]["ivpb_plan_date"] == "2026-03-01"


@pytest.mark.parametrize(
    "text",
    [
        "ivpb_site: !unsafe '{{ not templated }}'\n",
        "ivpb_site: \"{{ 'fil' ~ 'iaal' }}\"\n",
        "ivpb_sites: {1: x, true: y}\n",  # keys that are not strings
        "ivpb_blob: !!binary aGFsbG8=\n",
        '{"ivpb_site": {"__ansible_unsafe": "{{ raw }}"}}',
    ],
)
def test_files_that_are_not_plain_read_by_ansible(tmp_path, text):
    inv = write_inventory(tmp_path / "inv", {"ivpb_needs_internet": False}, {"a": {}, "b": {}})
    (inv / "host_vars" / "a.yml").write_text(text)
    assert load_inventory([str(inv)]).hosts == reference([str(inv)])


def test_vaulted_file_and_value_read_by_ansible(tmp_path):
    from ansible.parsing.vault import VaultLib, VaultSecret

    password = tmp_path / "pw"
    password.write_text("geheim\n")
    vault = VaultLib([("default", VaultSecret(b"geheim"))])
    inv = write_inventory(tmp_path / "inv", {"ivpb_needs_internet": False}, {"a": {}, "b": {}, "c": {}})
    (inv / "host_vars" / "a.yml").write_bytes(vault.encrypt("ivpb_nut_password: kluis\n"))
    inline = vault.encrypt("inline").decode()
    (inv / "host_vars" / "b.yml").write_text(
        "ivpb_nut_password: !vault |\n" + "".join(f"  {line}\n" for line in inline.splitlines())
    )
    hosts = load_inventory([str(inv)], [("default", VaultSecret(b"geheim"))]).hosts
    assert hosts == reference_with_vault([str(inv)], str(password))
    assert hosts["a"]["ivpb_nut_password"] == "kluis" and hosts["b"]["ivpb_nut_password"] == "inline"


def test_plain_loader_gives_plain_values_and_defers_the_rest(tmp_path):
    """The fast path is really taken for plain files (plain dicts, no Ansible tags) and not for others."""
    from ansible.parsing.dataloader import DataLoader

    from ivpb.inventory import _is_plain, _plain_vars_loader

    loader = _plain_vars_loader(DataLoader())
    plain_file = tmp_path / "plain.yml"
    plain_file.write_text("ivpb_stores: [{dataset: d, path: /d}]\nivpb_date: 2026-03-01\n")
    templated = tmp_path / "templated.yml"
    templated.write_text("ivpb_site: '{{ x }}'\n")
    value = loader.load_from_file(str(plain_file), unsafe=True)
    assert value == {"ivpb_stores": [{"dataset": "d", "path": "/d"}], "ivpb_date": "2026-03-01"}
    assert type(value["ivpb_stores"][0]["path"]) is str and type(value) is dict
    assert _is_plain(value)  # so the hosts take it as it is (inventory._plain_vars), neither copied nor walked again
    assert type(loader.load_from_file(str(templated), unsafe=True)["ivpb_site"]) is not str


def test_synthetic_federation_equals_variable_manager(tmp_path):
    from synthetic_inventory import write  # benchmarks/ (pyproject's pytest pythonpath)

    inv = write(tmp_path / "inv", hosts=5, datasets=4)
    hosts = load_inventory([str(inv)]).hosts
    assert hosts == reference([str(inv)])
    # group_vars/all is one object shared by every host, not a copy per host
    assert len({id(hv["ivpb_datasets"]) for hv in hosts.values()}) == 1
