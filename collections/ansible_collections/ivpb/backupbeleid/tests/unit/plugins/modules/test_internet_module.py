"""§3: the module entry of ivpb.backupbeleid.wan_failover (community.general style: exit_json
and fail_json patched): bad input is one line, check mode and diff reach the backend."""

from __future__ import annotations

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.modules import wan_failover
from ansible_collections.ivpb.backupbeleid.tests.unit.harness import Exit, Fail

HOOK = "https://hooks.example.org/ivpb?token=s3cret"
UPLINKS = [
    {"name": "wan1", "interface": "wan1", "gateway": "10.203.11.1", "metric": 101, "track_ip": ["10.203.15.10"]},
    {"name": "wan2", "interface": "wan2", "gateway": "10.203.12.1", "metric": 102, "track_ip": ["10.203.15.10"]},
]


@pytest.fixture
def run_module(module_main):
    return lambda args, check_mode=False, diff=True: module_main(wan_failover, args, check_mode, diff)


def test_duplicate_interface_fails_with_one_line(run_module):
    with pytest.raises(Fail) as exc:
        run_module({"uplinks": [UPLINKS[0], {**UPLINKS[1], "interface": "wan1"}]})
    msg = exc.value.args[0]["msg"]
    assert msg == "uplinks[1].interface: 'wan1' is already used by uplinks[0]; expected distinct values"


def test_missing_required_suboption_is_reported_by_ansible(run_module):
    with pytest.raises(Fail) as exc:
        run_module({"uplinks": [{"name": "wan1", "interface": "wan1", "metric": 101, "track_ip": []}]})
    assert "gateway" in exc.value.args[0]["msg"]


def test_check_mode_diff_and_parameters_reach_the_backend(run_module, monkeypatch):
    seen = {}

    def fake_enforce(host, params):
        seen.update(params=params, check_mode=host.check_mode, want_diff=host.want_diff, wait=params["wait"])
        return {"changed": True, "changes": ["file x"], "state": {},
                "controls": [{"id": "internet.failover", "status": "drift", "detail": "would change: file x"}]}

    monkeypatch.setattr(wan_failover, "enforce", fake_enforce)
    with pytest.raises(Exit) as exc:
        run_module({"uplinks": UPLINKS, "probe": {"interval": 3}, "webhook": HOOK}, check_mode=True)
    assert seen["check_mode"] is True and seen["want_diff"] is True and seen["wait"] == 15
    assert seen["params"]["probe"]["interval"] == 3 and seen["params"]["probe"]["down"] is None
    assert exc.value.args[0]["controls"][0]["status"] == "drift"


def test_webhook_is_no_log():
    assert wan_failover.argument_spec()["webhook"]["no_log"] is True
