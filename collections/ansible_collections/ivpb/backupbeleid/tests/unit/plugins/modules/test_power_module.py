"""§2: the module entry of ivpb.backupbeleid.nut_client (community.general style: exit_json and
fail_json patched). The real ansible-playbook run whose output must not hold the password is in
tests/unit/plugins/test_playbook_runs.py (it needs the controller)."""

from __future__ import annotations

import json

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import nut_client as nc
from ansible_collections.ivpb.backupbeleid.plugins.modules import nut_client
from ansible_collections.ivpb.backupbeleid.tests.unit.harness import Exit, Fail
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import asked

SECRET = 'Pw with "quotes" and blanks'


@pytest.fixture
def run_module(module_main):
    return lambda args, check_mode=False: module_main(nut_client, args, check_mode)


def test_bad_input_fails_with_one_line_and_error_controls(run_module):
    with pytest.raises(Fail) as exc:
        run_module({"controls": asked("power.ups", "power.redundant_ups"),
                    "ups": [{"name": "ups-a", "server": "nutserver", "user": "m", "password": SECRET}]})
    result = exc.value.args[0]
    assert "at least two distinct UPSes" in result["msg"]
    assert [c["id"] for c in result["controls"]] == ["power.ups", "power.redundant_ups"]
    assert {c["status"] for c in result["controls"]} == {"error"}
    assert SECRET not in json.dumps(result)


def test_check_mode_reports_drift_without_touching_the_host(run_module, monkeypatch, tmp_path):
    calls = []

    def fake_enforce(host, params):
        settings = nc.settings_from_params(params)
        calls.append((settings.controls, [u.system for u in settings.ups], host.check_mode, host.want_diff))
        return {"changed": True, "controls": [{"id": "power.ups", "status": "drift"}]}

    monkeypatch.setattr(nut_client, "enforce", fake_enforce)
    with pytest.raises(Exit) as exc:
        run_module({"controls": asked("power.ups"), "pollfreq": 1, "deadtime": 15,
                    "ups": [{"name": "ups-a", "server": "nutserver", "user": "m", "password": SECRET}]},
                   check_mode=True)
    assert calls == [({"ups": "power.ups"}, ["ups-a@nutserver"], True, True)]
    assert exc.value.args[0]["controls"][0]["status"] == "drift"
