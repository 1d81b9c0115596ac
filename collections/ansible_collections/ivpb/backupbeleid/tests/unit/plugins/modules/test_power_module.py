"""§2: the module entry of ivpb.backupbeleid.nut_client (community.general style: exit_json and
fail_json patched), and a real ansible-playbook run whose failure output must not hold the password."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "collections"))

from ansible_collections.ivpb.backupbeleid.plugins.modules import nut_client  # noqa: E402

from .module_harness import Exit, Fail, module_runner  # noqa: E402

SECRET = 'Pw with "quotes" and blanks'


@pytest.fixture
def run_module(monkeypatch):
    run = module_runner(monkeypatch)
    return lambda args, check_mode=False: run(nut_client, args, check_mode)


def test_bad_input_fails_with_one_line_and_error_controls(run_module):
    with pytest.raises(Fail) as exc:
        run_module({"level": "redundant",
                    "ups": [{"name": "ups-a", "server": "nutserver", "user": "m", "password": SECRET}]})
    result = exc.value.args[0]
    assert "at least two distinct UPSes" in result["msg"]
    assert [c["id"] for c in result["controls"]] == ["power.ups", "power.redundant_ups"]
    assert {c["status"] for c in result["controls"]} == {"error"}
    assert SECRET not in json.dumps(result)


def test_check_mode_reports_drift_without_touching_the_host(run_module, monkeypatch, tmp_path):
    calls = []

    def fake_enforce(settings, system, check_mode, want_diff):
        calls.append((settings.level, [u.system for u in settings.ups], check_mode, want_diff))
        return {"changed": True, "controls": [{"id": "power.ups", "status": "drift"}]}

    monkeypatch.setattr(nut_client, "enforce", fake_enforce)
    with pytest.raises(Exit) as exc:
        run_module({"level": "ordinary", "pollfreq": 1, "deadtime": 15,
                    "ups": [{"name": "ups-a", "server": "nutserver", "user": "m", "password": SECRET}]},
                   check_mode=True)
    assert calls == [("ordinary", ["ups-a@nutserver"], True, True)]
    assert exc.value.args[0]["controls"][0]["status"] == "drift"


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
        level: redundant
        ups:
          - {{name: ups-a, server: nosuchserver, user: mon, password: {json.dumps(SECRET)}}}
""")
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    bin_dir = Path(sys.executable).parent
    proc = subprocess.run([str(bin_dir / "ansible-playbook"), "-vvv", "--diff", "--check", "-i", "localhost,",
                           "-e", f"ansible_python_interpreter={sys.executable}",
                           str(play)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "power.redundant_ups (§2) needs at least two distinct UPSes" in out
    assert SECRET not in out and "quotes" not in out
