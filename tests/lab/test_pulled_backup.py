"""A backup proxy for a system ivpb does not manage (#23), on the lab's real parts.

The lab's synology container shares its folder fotoarchief over SMB, as a Synology's DSM does
(Samba, user ivpb read-only; lab/appliances/synology.sh). The example school's Synology is
declared with `pull: {via: fileserver, source: smb://synology/fotoarchief}` in the lab overlay:
fileserver's backup job copies the share with rclone (its smb backend) into a folder of its own
and saves that in the same duplicity + receiver chain as its own data. lab/demo ran the night's
jobs and drilled it; here: a restore of the pulled data set is byte for byte the share's
files, the password is nowhere but its root-only file, and a share that cannot be read fails the
job (exit code, status, audit) until it can be read again.

Run under the shared lab lock:
    flock -o /tmp/ivpb-lab.lock .venv/bin/pytest -q -m lab tests/lab/test_pulled_backup.py
"""

from __future__ import annotations

import json

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.backup_job import SCRIPT_PATH as JOB

from tests.lab.conftest import ESCROW, ROOT
from tests.lab.test_enforce_audit import INV, audit, ok, on, run
from tests.lab.test_restore import SUMS, sums_of
from tests.lab.test_restore import run as run_as_directie

pytestmark = pytest.mark.lab

SHARE = "/volume1/fotoarchief"
PASSWORD = "lab-synology-smb-wijzig-mij"  # ivpb_pull_password in inventories/lab/host_vars/synology.yml


def appliance(command: str) -> str:
    return ok(run("podman", "exec", "ivpb-lab-synology", "sh", "-c", command))


def restores_byte_for_byte(system: str, dataset: str, folder: str, tmp_path) -> None:
    """A data set the proxy fileserver pulls from `system`'s `folder` (on the appliance
    container): the demo drilled it, `ivpb restore` gives exactly the folder's files, and the
    chain lies in the proxy's area of the receiver, under the data set's name."""
    drills = sorted((ROOT / f"inventories/lab/.evidence/drills/{system}/{dataset}").glob("*.json"))
    assert drills and json.loads(drills[-1].read_text())["result"] == "ok", drills
    out = tmp_path / dataset
    proc = run_as_directie("ivpb", "restore", *INV, "--host", system, "--dataset", dataset,
                           "--to", str(out), gnupghome=ESCROW)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    source = sums_of(appliance(SUMS.format(path=f"'{folder}'")))
    restored = sums_of(ok(run("bash", "-c", SUMS.format(path=f"'{out}'"))))
    assert len(source) == 4 and restored == source
    assert on("nas-offsite", f"ls /srv/backup/fileserver/{dataset}/chain | grep -c manifest").strip() != "0"


def backup_controls(report: dict) -> list[dict]:
    return [c for c in report["hosts"]["synology"]["controls"]
            if c.get("dataset") == "fotoarchief" and c["id"] in ("backup.weekly", "backup.daily")]


def test_a_pulled_data_set_restores_byte_for_byte_from_the_proxys_chain(demo_lab, tmp_path):
    assert "== ivpb audit AFTER" in demo_lab.stdout, demo_lab.stdout[-3000:] + demo_lab.stderr[-2000:]  # enforced, backed up
    restores_byte_for_byte("synology", "fotoarchief", SHARE, tmp_path)
    # the password is in its root-only file on the proxy and nowhere else it writes
    assert on("fileserver", "stat -c '%U %a' /etc/ivpb/backup/pull/fotoarchief.pass").strip() == "root 600"
    found = on("fileserver", f"grep -rlF -- '{PASSWORD}' /etc /var/log /var/lib/ivpb /usr/local 2>/dev/null || true")
    assert found.split() == ["/etc/ivpb/backup/pull/fotoarchief.pass"], found


def test_a_share_that_cannot_be_read_fails_the_backup_loudly(demo_lab, tmp_path):
    appliance(f"chmod 000 {SHARE}")
    try:
        failed = run("lab/lab", "ssh", "fileserver", f"{JOB} run fotoarchief")
        status = on("fileserver", "cat /var/lib/ivpb/backup/status/fotoarchief.run_failed")
        _rc, report = audit(tmp_path, "--limit", "synology", name="share-unreadable")
    finally:
        appliance(f"chmod 750 {SHARE}")
    assert failed.returncode == 1, (failed.stdout, failed.stderr)
    assert "pull from smb://synology/fotoarchief failed: " in status, status
    controls = backup_controls(report)
    assert controls and all(c["status"] == "drift" for c in controls), json.dumps(controls, indent=1)
    assert all("pull from smb://synology/fotoarchief failed" in c["detail"] for c in controls), controls
    # readable again: the next run succeeds and clears the failure
    ok(run("lab/lab", "ssh", "fileserver", f"{JOB} run fotoarchief"))
    assert on("fileserver", "test -e /var/lib/ivpb/backup/status/fotoarchief.run_failed && echo left || echo gone"
              ).strip() == "gone"
