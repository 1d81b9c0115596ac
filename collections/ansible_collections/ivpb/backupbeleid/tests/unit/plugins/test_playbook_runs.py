"""The collection's modules run by a real ansible-playbook (controller tests: ansible-test units runs
tests/unit/plugins/modules and module_utils without the controller, these with it)."""

from __future__ import annotations

import json
import subprocess
import sys

from ansible_collections.ivpb.backupbeleid.tests.unit.harness import ansible_cli, ansible_env

SECRET = 'Pw with "quotes" and blanks'


def test_failed_run_output_holds_no_password(tmp_path):
    """A real ansible-playbook run (-vvv, --diff) that fails on bad input: the password given to
    the module appears nowhere in stdout or stderr (no_log on the option)."""
    play = tmp_path / "play.yml"
    play.write_text(f"""
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ivpb.backupbeleid.nut_client:
        controls: [{{id: power.ups, duty: ups}}, {{id: power.redundant_ups, duty: redundant_ups}}]
        ups:
          - {{name: ups-a, server: nosuchserver, user: mon, password: {json.dumps(SECRET)}}}
""")
    env = ansible_env()
    proc = subprocess.run([ansible_cli("ansible-playbook"), "-vvv", "--diff", "--check", "-i", "localhost,",
                           "-e", f"ansible_python_interpreter={sys.executable}",
                           str(play)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "power.redundant_ups (§2) needs at least two distinct UPSes" in out
    assert SECRET not in out and "quotes" not in out
