"""§2: the UPS probes of nut_client against a NUT server that hangs (issue #13). Real upsc and
timeout(1) through a real AnsibleModule, against a real TCP server on this machine that takes
every connection and never answers, as a paused NUT server does: each probe ends at the named
upsc timeout, says so, and all of a host's UPSes are probed at the same time, so the hung server
costs one timeout, not one per UPS."""

from __future__ import annotations

import shutil
import socket
import threading

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import nut_client as nc
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import asked, make_host

pytestmark = pytest.mark.skipif(not (shutil.which("upsc") and shutil.which("timeout")),
                                reason="needs upsc (nut-client) and timeout(1)")


class SilentServer:
    """Accepts connections and never answers; records, in order, every connection opened and
    closed by its client."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.events: list[str] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            conn, _addr = self.sock.accept()
            with self.lock:
                self.events.append("open")
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn):
        with conn:
            while conn.recv(4096):  # swallow the request, answer nothing, until the client goes
                pass
        with self.lock:
            self.events.append("close")


@pytest.fixture
def host(monkeypatch):
    return make_host(monkeypatch, check_mode=True)


def test_a_hung_nut_server_costs_one_named_upsc_timeout_for_all_its_upses(host, monkeypatch):
    monkeypatch.setattr(nc, "UPSC_TIMEOUT", 2)
    server = SilentServer()
    s = nc.settings_from_params({"controls": asked("power.ups", "power.redundant_ups"), "ups": [
        {"name": name, "server": "127.0.0.1", "port": server.port, "user": "mon-x", "password": "pw"}
        for name in ("ups-a", "ups-b")]})
    probes = nc.probe_all(host, s.ups)
    assert [p["ups"] for p in probes] == [f"ups-a@127.0.0.1:{server.port}", f"ups-b@127.0.0.1:{server.port}"]
    for p in probes:
        assert p["reachable"] is False
        assert p["error"] == "no answer within the upsc timeout of 2 s"
    assert server.events[:2] == ["open", "open"], server.events  # both waited at the same time
    evidence = nc.controls(s, probes, drift=False, enabled=True, active=True)[0]["evidence"]
    assert evidence["probe_timeout_s"] == 2 and evidence["reachable"] == []
