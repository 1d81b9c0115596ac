"""Pulled evidence for a system ivpb does not manage (#23), on the lab's real parts.

The lab's synology container stands in for the school's Synology NAS: plain upsmon of Debian's
nut-client, configured by hand (lab/appliances/synology.sh), monitors ups-a on nutserver; no
playbook connects to it (its sshd is off). Its power.ups is what the NUT server's upsd lists as
logged in to ups-a (upsc -c, NUT's LIST CLIENT), matched by the address `synology` resolves to on
the NUT server. Disconnected (upsmon stopped), the audit says so; connected again, compliant.

Run under the shared lab lock:
    flock -o /tmp/ivpb-lab.lock .venv/bin/pytest -q -m lab tests/lab/test_pulled_power.py
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.lab.test_enforce_audit import audit, ok, on, run

pytestmark = pytest.mark.lab

APPLIANCE = "ivpb-lab-synology"
SYNOLOGY = "10.203.20.27"  # its fixed lab address (lab/lab LAB_HOSTS)


def power(tmp_path: Path, name: str) -> dict:
    _rc, report = audit(tmp_path, "--limit", "synology", name=name)
    assert set(report["hosts"]) == {"synology"}
    return next(c for c in report["hosts"]["synology"]["controls"] if c["id"] == "power.ups")


def logged_in() -> set[str]:
    return set(on("nutserver", "upsc -c ups-a@localhost 2>/dev/null").split())


def appliance(command: str) -> str:
    return ok(run("podman", "exec", APPLIANCE, "sh", "-c", command))


def wait_for(connected: bool, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while (SYNOLOGY in logged_in()) != connected:
        assert time.monotonic() < deadline, f"synology still {'dis' if connected else ''}connected after {seconds}s"
        time.sleep(1)


def test_an_unmanaged_nas_monitoring_its_ups_is_compliant_and_disconnected_is_drift(demo_lab, tmp_path):
    assert "== ivpb audit AFTER" in demo_lab.stdout, demo_lab.stdout[-3000:] + demo_lab.stderr[-2000:]  # enforced, backed up
    # nothing ivpb ran ever logged in to it: its sshd is off and never accepted anyone
    assert appliance("systemctl is-active ssh.service || true").strip() == "inactive"
    assert "Accepted" not in appliance("journalctl -u ssh.service --no-pager -q || true")
    wait_for(connected=True)
    entry = power(tmp_path, "connected")
    assert entry["status"] == "compliant", entry
    assert entry["evidence"]["reachable"] == ["ups-a"] and entry["evidence"]["addresses"] == [SYNOLOGY], entry
    appliance("systemctl stop nut-monitor.service")
    try:
        wait_for(connected=False)
        entry = power(tmp_path, "disconnected")
    finally:
        appliance("systemctl start nut-monitor.service")
    assert entry["status"] == "drift", entry
    assert entry["detail"] == f"no upsmon from synology ({SYNOLOGY}) logged in to ups-a (not connected)", entry
    assert entry["evidence"]["status"] == {"ups-a": "not connected"} and entry["evidence"]["reachable"] == []
    wait_for(connected=True)  # put back: the next lab test starts from a compliant school
