"""A backup proxy pulling a cloud drive over WebDAV (#23), on the lab's real parts.

The example school's cloud drive `cloudschijf` (a system ivpb does not manage, kind
cloud-service) is declared in the lab overlay with
`pull: {via: fileserver, source: http://synology:8080/oudercommunicatie, user: ivpb-backup}`:
the synology container stands in for the drive with `rclone serve webdav` (read-only, htpasswd;
configured by hand in lab/appliances/synology.sh), and fileserver's backup job copies the folder
with rclone's webdav backend into the same duplicity + receiver chain as its own data. lab/demo
ran the night's jobs and drilled it; here: a restore is byte for byte the drive's files, the
password is nowhere but its root-only file (files, logs, cron, the process list during a pull,
the audit's diff), and a drive that cannot be reached fails the job (exit code, status, audit)
until it answers again.

Run under the shared lab lock:
    flock -o /tmp/ivpb-lab.lock .venv/bin/pytest -q -m lab tests/lab/test_pulled_webdav.py
"""

from __future__ import annotations

import json

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.backup_job import ETC, STATE

from tests.lab.conftest import ROOT
from tests.lab.test_enforce_audit import audit, ok, on, run
from tests.lab.test_pulled_backup import JOB, appliance, restores_byte_for_byte

pytestmark = pytest.mark.lab

DRIVE = "/volume1/cloudschijf/oudercommunicatie"
SOURCE = "http://synology:8080/oudercommunicatie"
PASS_FILE = f"{ETC}/pull/oudercommunicatie.pass"
PASSWORD = "lab-cloudschijf-webdav-wijzig-mij"  # ivpb_pull_password in inventories/lab/host_vars/cloudschijf.yml
FAILED = f"{STATE}/status/oudercommunicatie.run_failed"


def pulled_controls(report: dict) -> list[dict]:
    return [c for c in report["hosts"]["cloudschijf"]["controls"] if c.get("dataset") == "oudercommunicatie"]


def test_a_cloud_drive_pulled_over_webdav_restores_byte_for_byte(demo_lab, tmp_path):
    assert "== ivpb audit AFTER" in demo_lab.stdout, demo_lab.stdout[-3000:] + demo_lab.stderr[-2000:]
    # the demo's audit after: the drive's controls are compliant on the proxy's word, pulled
    after = json.loads((ROOT / "reports/audit-after.json").read_text())
    controls = pulled_controls(after)
    assert {c["id"] for c in controls} == {"backup.weekly", "backup.annual_full", "backup.best_practice"}
    assert all(c["status"] == "compliant" and c["basis"] == "pulled" for c in controls), controls
    restores_byte_for_byte("cloudschijf", "oudercommunicatie", DRIVE, tmp_path)


def test_the_webdav_password_is_only_in_its_root_only_file(demo_lab, tmp_path):
    assert on("fileserver", f"stat -c '%U %a' {PASS_FILE}").strip() == "root 600"
    # a pull now, the process list sampled while it runs (the password must not be on any
    # command line; the sampler itself does not name it)
    seen = on("fileserver", f"{JOB} run oudercommunicatie & job=$!; "
                            "while kill -0 $job 2>/dev/null; do ps -eo args; done; wait $job")
    assert "rclone sync" in seen and PASSWORD not in seen
    found = on("fileserver", f"grep -rlF -- '{PASSWORD}' /etc /var/log /var/lib/ivpb /usr/local /root /tmp "
                             "2>/dev/null || true")
    assert found.split() == [PASS_FILE], found  # /etc/cron.d and the job's config among them
    # a changed password file: the audit names the change, its diff hides both passwords
    on("fileserver", f"cp -p {PASS_FILE} {PASS_FILE}.keep && printf 'door-iemand-gewijzigd' > {PASS_FILE}")
    try:
        rc, report = audit(tmp_path, "--limit", "cloudschijf", name="password-changed")
    finally:
        on("fileserver", f"mv {PASS_FILE}.keep {PASS_FILE}")
    text = json.dumps(report, ensure_ascii=False)
    assert rc == 2 and all(c["status"] == "drift" for c in pulled_controls(report)), text[-3000:]
    assert PASS_FILE in text and "(password, not shown)" in text, text[-3000:]
    assert PASSWORD not in text and "door-iemand-gewijzigd" not in text


def test_a_cloud_drive_that_cannot_be_reached_fails_the_backup_loudly(demo_lab, tmp_path):
    appliance("systemctl stop cloudschijf-webdav.service")
    try:
        failed = run("lab/lab", "ssh", "fileserver", f"{JOB} run oudercommunicatie")
        status = on("fileserver", f"cat {FAILED}")
        _rc, report = audit(tmp_path, "--limit", "cloudschijf", name="drive-unreachable")
    finally:
        appliance("systemctl start cloudschijf-webdav.service")
    assert failed.returncode == 1, (failed.stdout, failed.stderr)
    assert f"pull from {SOURCE} failed: " in status and "connection refused" in status, status
    controls = [c for c in pulled_controls(report) if c["id"] == "backup.weekly"]
    assert controls and all(c["status"] == "drift" for c in controls), json.dumps(controls, indent=1)
    assert all(f"pull from {SOURCE} failed" in c["detail"] for c in controls), controls
    # the drive answers again: the next run succeeds and clears the failure
    ok(run("lab/lab", "ssh", "fileserver", f"{JOB} run oudercommunicatie"))
    assert on("fileserver", f"test -e {FAILED} && echo left || echo gone").strip() == "gone"
