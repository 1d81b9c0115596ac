"""§2 pulled evidence (#23): a NUT server reports the power controls of a system ivpb does not
manage from the clients upsd lists as logged in to each UPS. Real upsc and getent through a real
AnsibleModule, against a real TCP server on this machine that answers NUT's LIST CLIENT as upsd
2.8.0 does (after refusing STARTTLS, as an upsd without certificates does)."""

from __future__ import annotations

import shutil
import socket
import threading

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import nut_server as backend
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import ModuleFailure
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import make_host

pytestmark = pytest.mark.skipif(not (shutil.which("upsc") and shutil.which("getent")),
                                reason="needs upsc (nut-client) and getent")


class ListClientServer:
    """Answers LIST CLIENT <ups> with the addresses in `clients[ups]`, ERR UNKNOWN-UPS for a UPS
    it does not serve; records every request."""

    def __init__(self, clients):
        self.clients = clients
        self.requests: list[str] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            conn, _addr = self.sock.accept()
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn):
        with conn, conn.makefile("rwb") as f:
            for raw in f:
                line = raw.decode().strip()
                self.requests.append(line)
                words = line.split()
                if words[:2] == ["LIST", "CLIENT"] and words[2] in self.clients:
                    ups = words[2]
                    f.write("".join([f"BEGIN LIST CLIENT {ups}\n", *(f"CLIENT {ups} {a}\n" for a in self.clients[ups]),
                                     f"END LIST CLIENT {ups}\n"]).encode())
                elif words[:2] == ["LIST", "CLIENT"]:
                    f.write(b"ERR UNKNOWN-UPS\n")
                elif line == "LOGOUT":
                    f.write(b"OK Goodbye\n")
                    f.flush()
                    return
                else:
                    f.write(b"ERR FEATURE-NOT-CONFIGURED\n")
                f.flush()


@pytest.fixture
def host(monkeypatch):
    return make_host(monkeypatch, check_mode=True)


def client(ups, duty="ups", address="192.0.2.27"):
    cid = {"ups": "power.ups", "redundant_ups": "power.redundant_ups"}[duty]
    return {"host": "synology", "name": "mon-synology", "controls": [{"id": cid, "duty": duty}], "ups": ups,
            "address": address}


def test_a_system_logged_in_to_each_of_its_upses_is_compliant_and_one_missing_is_drift(host):
    upsd = ListClientServer({"ups-a": ["10.0.0.9", "192.0.2.27"], "ups-b": ["10.0.0.9"]})
    [ok] = backend.pulled_controls(host, {"port": upsd.port, "clients": [client(["ups-a"])]}, running=True)
    assert ok["for"] == "synology" and ok["id"] == "power.ups" and ok["status"] == "compliant"
    assert ok["evidence"]["reachable"] == ["ups-a"] and ok["evidence"]["addresses"] == ["192.0.2.27"]
    [bad] = backend.pulled_controls(host, {"port": upsd.port, "clients": [client(["ups-a", "ups-b"], "redundant_ups")]},
                                    running=True)
    assert bad["status"] == "drift" and bad["id"] == "power.redundant_ups"
    assert bad["evidence"]["status"] == {"ups-a": "connected", "ups-b": "not connected"}
    assert bad["detail"] == "no upsmon from 192.0.2.27 (192.0.2.27) logged in to ups-b (not connected)"
    assert "LIST CLIENT ups-b" in upsd.requests


def test_a_ups_upsd_does_not_serve_and_a_name_that_does_not_resolve_are_drift_saying_so(host):
    upsd = ListClientServer({"ups-a": ["192.0.2.27"]})
    [gone] = backend.pulled_controls(host, {"port": upsd.port, "clients": [client(["ups-x"])]}, running=True)
    assert gone["status"] == "drift" and gone["evidence"]["status"] == {"ups-x": "unreachable"}
    [unknown] = backend.pulled_controls(host, {"port": upsd.port, "clients": [client(["ups-a"], address="nas.invalid")]},
                                        running=True)
    assert unknown["status"] == "drift" and unknown["detail"] == "nas.invalid does not resolve on this NUT server"


def test_managed_clients_are_not_reported_and_bad_input_is_one_line(host):
    assert backend.pulled_controls(host, {"port": 1, "clients": [{"host": "fs", "name": "mon-fs"}]}, running=True) == []
    with pytest.raises(ModuleFailure, match=r"^clients\[0\]\.address: "):
        backend.check_params({"ups": {"ups-a": {"driver": "dummy-ups"}}, "port": 3493,
                              "clients": [client(["ups-a"], address="a b")], "passwords": {"synology": "x"}})
    with pytest.raises(ModuleFailure, match=r"^clients\[0\]\.ups: expected"):
        backend.check_params({"ups": {"ups-a": {"driver": "dummy-ups"}}, "port": 3493,
                              "clients": [client([])], "passwords": {"synology": "x"}})
