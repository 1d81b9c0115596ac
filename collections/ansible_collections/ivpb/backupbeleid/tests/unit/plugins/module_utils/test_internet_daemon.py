"""§3 Internetverbinding: the failover daemon ivpb-wan-failover (mwan3-style hysteresis, choice of
the active uplink, atomic route commands, switch events, state file). Probes and routes go
through fake runners here; molecule/internet cuts a real ISP."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import wan_failover_daemon as d

PROBE = {"reliability": 1, "count": 1, "timeout": 2, "interval": 5, "down": 3, "up": 3}


def uplink(name="wan1", metric=101, targets=("10.203.15.10",), **probe):
    spec = {"name": name, "interface": name, "gateway": f"10.203.1{name[-1]}.1", "metric": metric,
            "track_ip": list(targets)}
    return d.Uplink(spec, {**PROBE, **probe})


def test_first_round_decides_the_initial_state():
    up, down = uplink(), uplink("wan2", 102)
    assert up.record(True) == "online"
    assert down.record(False) == "offline"


@pytest.mark.parametrize(("rounds", "expected"), [
    ([False, False], "online"),                      # shorter than `down`: no change (a flap)
    ([False, False, True, False, False], "online"),  # a good round resets the count
    ([False, False, False], "offline"),              # `down` failed rounds in a row
])
def test_online_uplink_goes_offline_only_after_down_failed_rounds(rounds, expected):
    u = uplink()
    u.record(True)
    for good in rounds:
        u.record(good)
    assert u.state == expected


def test_offline_uplink_returns_only_after_up_good_rounds():
    u = uplink()
    u.record(False)
    assert [u.record(True) for _round in range(3)] == [None, None, "online"]


def test_choose_prefers_the_lowest_metric_online_and_keeps_the_route_when_all_are_down():
    a, b = uplink("wan1", 101), uplink("wan2", 102)
    a.state, b.state = "online", "online"
    assert d.choose([b, a], None) == "wan1"
    a.state = "offline"
    assert d.choose([a, b], "wan1") == "wan2"
    b.state = "offline"
    assert d.choose([a, b], "wan2") == "wan2"
    assert d.choose([a, b], None) == "wan1"


def test_route_commands_keep_base_routes_and_replace_the_active_one():
    a, b = uplink("wan1", 101), uplink("wan2", 102)
    cmds = [" ".join(c) for c in d.route_commands([a, b], "wan2", 10)]
    assert cmds == [
        "ip -4 route replace default via 10.203.11.1 dev wan1 metric 101 proto static",
        "ip -4 route replace default via 10.203.12.1 dev wan2 metric 102 proto static",
        "ip -4 route replace default via 10.203.12.1 dev wan2 metric 10 proto static",
    ]


def test_ping_probes_through_the_uplinks_own_interface():
    assert d.ping_command(uplink(count=2, timeout=3), "10.203.15.10") == [
        "ping", "-n", "-q", "-I", "wan1", "-c", "2", "-W", "3", "-i", "0.2", "10.203.15.10"]


class FakeNet:
    """Answers ping per interface as told; records route commands."""

    def __init__(self):
        self.up = {"wan1": True, "wan2": True}
        self.routes: list[str] = []

    def popen(self, cmd, **_):
        ok = self.up[cmd[cmd.index("-I") + 1]]
        return type("P", (), {"wait": lambda self: 0 if ok else 1})()

    def run(self, cmd, **_):
        self.routes.append(" ".join(cmd))
        return subprocess.CompletedProcess(cmd, 0, "", "")


@pytest.fixture
def daemon(tmp_path, monkeypatch):
    net = FakeNet()
    config = {
        "uplinks": [
            {"name": "wan1", "interface": "wan1", "gateway": "10.203.11.1", "metric": 101,
             "track_ip": ["10.203.15.10", "10.203.15.11"]},
            {"name": "wan2", "interface": "wan2", "gateway": "10.203.12.1", "metric": 102,
             "track_ip": ["10.203.15.10"]},
        ],
        "probe": {"reliability": 2},
        "state_file": str(tmp_path / "run" / "state.json"),
        "host": "router",
    }
    dm = d.Daemon(config, runner=net.run, popen=net.popen)
    dm.uplinks[1].probe["reliability"] = 1
    events = []
    monkeypatch.setattr(dm, "event", lambda kind, **data: events.append((kind, data)))
    return dm, net, events, tmp_path / "run" / "state.json"


def test_outage_switches_after_down_rounds_and_back_after_up_rounds(daemon):
    dm, net, events, state_file = daemon
    dm.step()
    assert dm.active == "wan1"
    net.up["wan1"] = False
    for _round in range(2):
        dm.step()
    assert dm.active == "wan1"  # still within the hysteresis
    dm.step()
    assert dm.active == "wan2"
    assert ("switch", {"from_uplink": "wan1", "to_uplink": "wan2", "reason": "wan1=offline; wan2=online"}) in events
    assert net.routes[-1] == "ip -4 route replace default via 10.203.12.1 dev wan2 metric 10 proto static"
    net.up["wan1"] = True
    dm.step()
    dm.step()
    assert dm.active == "wan2"
    dm.step()
    assert dm.active == "wan1"
    state = json.loads(state_file.read_text())
    assert state["active"] == "wan1"
    assert state["switches"] == 2
    assert state["last_switch"].endswith("Z")
    assert state["uplinks"]["wan1"]["state"] == "online"
    assert state["uplinks"]["wan1"]["replies"] == "2/2"


def test_reliability_needs_enough_targets(daemon):
    dm, net, events, _sleeps = daemon
    answers = iter([0, 1, 0])  # wan1: first target answers, second not; wan2 answers

    def popen(cmd, **_):
        rc = next(answers)
        return type("P", (), {"wait": lambda self: rc})()

    dm.popen = popen
    dm.step()
    assert dm.uplinks[0].state == "offline"  # reliability 2, only 1 of 2 answered
    assert dm.uplinks[0].last_replies == "1/2"
    assert dm.active == "wan2"


def test_switch_event_logs_to_syslog_and_posts_the_webhook(monkeypatch):
    dm = d.Daemon({"uplinks": [], "webhook": "http://127.0.0.1:9/hook", "host": "router"})
    logged, posted = [], []
    monkeypatch.setattr(dm, "log", lambda message, priority=None: logged.append(message))
    monkeypatch.setattr(dm, "_post", posted.append)
    dm.event("switch", from_uplink="wan1", to_uplink="wan2")
    for _attempt in range(50):
        if posted:
            break
        __import__("time").sleep(0.01)
    assert logged == ["switch: from_uplink=wan1 to_uplink=wan2"]
    assert posted[0]["event"] == "switch" and posted[0]["host"] == "router"


def test_webhook_failure_never_stops_the_daemon(monkeypatch):
    dm = d.Daemon({"uplinks": [], "webhook": "http://127.0.0.1:9/unreachable"})
    logged = []
    monkeypatch.setattr(dm, "log", lambda message, priority=None: logged.append(message))
    dm._post({"event": "switch"})
    assert logged and logged[0].startswith("webhook failed")


def test_unreadable_config_is_one_line(tmp_path, capsys):
    assert d.main([str(tmp_path / "missing.json")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.skipif(shutil.which("ping") is None, reason="iputils-ping not installed")
def test_real_probe_on_loopback():
    u = d.Uplink({"name": "lo", "interface": "lo", "gateway": "127.0.0.1", "metric": 101,
                  "track_ip": ["127.0.0.1"]}, PROBE)
    assert d.probe_round([u]) == {"lo": True}
