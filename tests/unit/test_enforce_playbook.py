"""enforce.yml's shape as ansible-playbook itself reads it (issue #13): after the plan play, the
clauses run in ONE play over every planned host, so one host failing or unreachable ends no
play for the others (Ansible ends the playbook when every host of a play has failed), and the
order between tasks holds across hosts: every key read before any clause, and a key a sender
makes in the §2+§4 task authorized by its receivers in the task after it (a NUT server's, a UPS
client's, a sender's and a receiver's work is one task, ivpb.backupbeleid.power_backup). The lab
test tests/lab/test_audit_faults.py proves the behaviour on real hosts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def list_tasks() -> str:
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(["ansible-playbook", "playbooks/enforce.yml", "-i", "inventories/example", "--list-tasks"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_clauses_are_one_play_over_every_planned_host_in_dependency_order():
    """Every planned host in one play (reached there first), then a last play over only the hosts
    of the clauses no other host waits for: §3 on the routers, and the receivers authorizing a
    key their senders made in the clauses' play."""
    out = list_tasks()
    plays = re.findall(r"^\s+play #\d+ \(([^)]*)\)", out, flags=re.M)
    assert plays == ["all", "ivpb_nut_server:ivpb_power:ivpb_internet:ivpb_backup:ivpb_backup_target",
                     "ivpb_internet:ivpb_backup_target"]
    clauses, last = out.split("play #2", 1)[1].split("play #3", 1)
    order = [clauses.index(s) for s in ("Reach every host of the clauses once", "backup : The receivers' SSH host keys",
                                        "power : NUT server and upsmon for the UPSes of this host (§2); backup jobs")]
    assert "nut_server : " not in clauses  # the NUT server is a part of power_backup's one module run
    assert "backup_target : " not in clauses and "internet : " not in clauses
    assert order == sorted(order)
    assert last.index("internet : Uplink failover") < last.index("backup_target : One user and area")


def test_every_host_of_the_clauses_is_reached_first_all_at_once_in_every_run():
    """The first task of the clauses' play reaches every host (reach, also in check mode and under
    any --tags), so hosts that do not answer all leave the play in that one task, after one SSH
    ConnectTimeout together, and the audit knows each host that answered. A receiver of backups
    says its SSH host key and a sender its backup key in that round trip (read by the backup role
    and power_backup's action: test_role_filters)."""
    out = list_tasks()
    clauses = out.split("play #2", 1)[1]
    first = re.search(r"^\s+(\S.*?)\tTAGS: \[([^\]]*)\]", clauses.split("tasks:", 1)[1], flags=re.M)
    assert first is not None, clauses
    assert first.group(1).startswith("Reach every host of the clauses once"), first.group(0)
    assert "always" in first.group(2)
    playbook = (ROOT / "collections/ansible_collections/ivpb/backupbeleid/playbooks/enforce.yml").read_text()
    task = playbook.split("- name: Reach every host of the clauses once", 1)[1].split("\n\n", 1)[0]
    assert "ivpb.backupbeleid.reach:\n        host_key: \"{{ 'ivpb_backup_target' in group_names }}\"\n" \
        "        backup_key: \"{{ 'ivpb_backup' in group_names }}\"" in task
    assert "check_mode: false" in task and "register: ivpb_reach" in task


def test_every_connection_and_task_is_bounded():
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(["ansible-config", "dump", "--only-changed", "-t", "all"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    settings = dict(re.findall(r"^(\w+)\([^)]*\) = (.*)$", proc.stdout, flags=re.M))
    assert settings["DEFAULT_TIMEOUT"] == "10"
    assert settings["TASK_TIMEOUT"] == "900"
    assert "ServerAliveInterval=5" in proc.stdout and "ServerAliveCountMax=3" in proc.stdout
