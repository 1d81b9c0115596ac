"""A playbook that calls nut_client, nut_server or wan_failover directly (no plan step, no
schema): hostile values fail the task with one line naming the option, before anything on the
host is read or written."""

from __future__ import annotations

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import nut_server as ns_backend
from ansible_collections.ivpb.backupbeleid.plugins.modules import nut_client, nut_server, wan_failover
from ansible_collections.ivpb.backupbeleid.tests.unit.harness import Fail
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import asked

UPS = {"name": "ups-a", "server": "nutserver", "user": "mon-fs", "password": "pw"}
UPLINKS = [{"name": "wan1", "interface": "eth1", "gateway": "192.0.2.1", "metric": 101, "track_ip": ["198.51.100.1"]},
           {"name": "wan2", "interface": "eth2", "gateway": "192.0.2.5", "metric": 102, "track_ip": ["198.51.100.2"]}]


@pytest.fixture
def run(module_main, monkeypatch, tmp_path):
    monkeypatch.setattr(ns_backend, "ETC", str(tmp_path / "nut"))

    def call(module, args):
        with pytest.raises(Fail) as exc:
            module_main(module, {"install_packages": False, **args})
        assert not (tmp_path / "nut").exists()
        return exc.value.args[0]["msg"]
    return call


@pytest.mark.parametrize(("args", "expected"), [
    ({"ups": [{**UPS, "name": "ups-a;curl x|sh"}]}, "ups[0].name: 'ups-a;curl x|sh' is not a NUT name"),
    ({"ups": [{**UPS, "server": "-oProxyCommand=x"}]}, "ups[0].server: '-oProxyCommand=x' is not a host name"),
    ({"ups": [UPS], "shutdown_command": "/sbin/shutdown -h +0\n/bin/evil"}, "shutdown_command: "),
    ({"ups": [UPS], "notify_webhook": "{'url': 'x'}"}, "notify_webhook: "),
    ({"ups": [UPS], "notify_mail": "-oQ/tmp/x@y"}, "notify_mail: "),
    ({"ups": [UPS], "pollfreq": 10, "deadtime": 15}, "deadtime: expected at least 3 x pollfreq (30), got 15"),
    ({"ups": [{**UPS, "password": "a\nMONITOR evil"}]}, "ups[0].password: only printable ASCII"),
])
def test_nut_client(run, args, expected):
    msg = run(nut_client, {"controls": asked("power.ups"), **args})
    assert msg.startswith(expected) and "\n" not in msg and "MONITOR evil" not in msg


@pytest.mark.parametrize(("ups", "expected"), [
    ({"ups-a]\n[evil": {"driver": "usbhid-ups"}}, "ivpb_nut_server.ups key: "),
    ({"ups-a": {"driver": "usbhid-ups", "port": "../../etc/shadow"}}, "ivpb_nut_server.ups.ups-a.port: "),
    ({"ups-a": {"driver": "dummy-ups", "port": "/dev/../etc/shadow"}}, "ivpb_nut_server.ups.ups-a.port: "),
    ({"ups-a": {"driver": "dummy-ups", "port": "upsd.users"}}, "ivpb_nut_server.ups.ups-a.port: "),
    ({"ups-a": {"driver": "usbhid-ups", "options": {"driver": "x"}}}, "ivpb_nut_server.ups.ups-a.options key: "),
    ({"ups-a": {"driver": "usbhid-ups", "options": {"x": "1\n[evil]"}}}, "ivpb_nut_server.ups.ups-a.options.x: "),
    ({"ups-a": {"driver": "usb hid"}}, "ivpb_nut_server.ups.ups-a.driver: "),
])
def test_nut_server(run, ups, expected):
    msg = run(nut_server, {"ups": ups})
    assert msg.startswith(expected) and "\n" not in msg


@pytest.mark.parametrize(("change", "expected"), [
    ({"interface": "eth1/../../lo"}, "uplinks[0].interface: "),
    ({"interface": "-x"}, "uplinks[0].interface: "),
    ({"name": "wan1\nx"}, "uplinks[0].name: "),
    ({"gateway": "192.0.2.1 dev lo"}, "uplinks[0].gateway: "),
    ({"track_ip": ["-f"]}, "uplinks[0].track_ip[0]: "),
])
def test_wan_failover(run, change, expected):
    msg = run(wan_failover, {"uplinks": [{**UPLINKS[0], **change}, UPLINKS[1]]})
    assert msg.startswith(expected) and "\n" not in msg


def test_wan_failover_webhook(run):
    msg = run(wan_failover, {"uplinks": UPLINKS, "webhook": "https://x/?token=geheim\nX-Evil: 1"})
    assert msg.startswith("webhook: ") and "\n" not in msg and "geheim" not in msg and "not shown" in msg
