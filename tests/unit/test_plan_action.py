"""The plan action inside ansible-playbook reads the inventory the fast way (ivpb.inventory.
from_play) unless something beyond the inventory could set an ivpb_* value; both ways, and the
`ivpb plan` CLI, must give the same plan - with extra vars (-e) on top where Ansible puts them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
INV = ["-i", str(ROOT / "inventories/example"), "-i", str(ROOT / "inventories/lab")]
PLAY = """
- name: Plan only
  hosts: all
  gather_facts: false
  tasks:
    - name: Plan
      ivpb.backupbeleid.plan:
      run_once: true
      delegate_to: localhost
      register: ivpb_plan
    - name: Keep it
      ansible.builtin.copy:
        content: "{{ ivpb_plan.plan | to_json }}"
        dest: "{{ out }}"
        mode: "0600"
      run_once: true
      delegate_to: localhost
"""


def plan_play(folder: Path, inventories: list[str], *extra: str) -> subprocess.CompletedProcess:
    """ansible-playbook of PLAY (written into folder) over the inventories: the plan step, whose
    plan it keeps in folder/plan.json."""
    (folder / "play.yml").write_text(PLAY)
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run([str(BIN / "ansible-playbook"), *inventories, str(folder / "play.yml"),
                           "-e", f"out={folder / 'plan.json'}", *extra],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def plan_in_playbook(tmp_path: Path, *extra: str, beside_playbook: bool = False) -> dict:
    """The registered plan; beside_playbook puts an (empty) group_vars next to the playbook,
    which Ansible would read too, so the action must take the hostvars way."""
    folder = tmp_path / ("hostvars-way" if beside_playbook else "fast-way")
    folder.mkdir(parents=True)
    if beside_playbook:
        (folder / "group_vars").mkdir()
    proc = plan_play(folder, INV, *extra)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return json.loads((folder / "plan.json").read_text())


def cli_plan() -> dict:
    proc = subprocess.run([str(BIN / "ivpb"), "plan", *INV, "--format", "json"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("plan-action")


def test_fast_way_hostvars_way_and_cli_give_one_plan(tmp):
    fast = plan_in_playbook(tmp / "a")
    assert fast == plan_in_playbook(tmp / "b", beside_playbook=True)
    # the CLI adds the school's attestations still to be made (#23): its to-do, not enforce.yml's
    assert fast == {k: v for k, v in cli_plan().items() if k != "to_attest"}


def test_extra_vars_count_on_both_ways(tmp):
    extra = ["-e", json.dumps({"ivpb_needs_internet": False})]
    fast = plan_in_playbook(tmp / "c", *extra)
    assert fast == plan_in_playbook(tmp / "d", *extra, beside_playbook=True)
    # applied, not only read: without internet need the file server has no §3 control left
    ids = {c["id"] for c in fast["hosts"]["fileserver"]["controls"]}
    assert "internet.failover" in {c["id"] for c in cli_plan()["hosts"]["fileserver"]["controls"]}
    assert "internet.failover" not in ids and "backup.daily" in ids


@pytest.fixture
def play_hostvars(monkeypatch):
    """The objects a running play hands the action (HostVars over the play's inventory)."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.vars.hostvars import HostVars
    from ansible.vars.manager import VariableManager

    monkeypatch.chdir(ROOT)  # the loader's base directory: no group_vars next to it
    loader = DataLoader()
    manager = InventoryManager(loader=loader, sources=[INV[1], INV[3]])
    variables = VariableManager(loader=loader, inventory=manager)
    return HostVars(inventory=manager, variable_manager=variables, loader=loader), variables


def test_from_play_reads_the_inventory_like_the_cli(play_hostvars):
    from ivpb.inventory import from_play, load_inventory

    hostvars, _ = play_hostvars
    assert from_play(hostvars).hosts == load_inventory([INV[1], INV[3]]).hosts


def test_from_play_leaves_facts_and_templated_extra_vars_to_hostvars(play_hostvars):
    from ivpb.inventory import from_play

    hostvars, variables = play_hostvars
    variables.set_nonpersistent_facts("nas", {"ivpb_site": "kleuterschool"})
    assert from_play(hostvars) is None
    variables._nonpersistent_fact_cache.clear()
    variables._extra_vars = {"ivpb_site": "{{ some_site }}"}
    assert from_play(hostvars) is None
