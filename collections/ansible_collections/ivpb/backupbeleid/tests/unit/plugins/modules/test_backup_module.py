"""§4: module entries (community.general style: exit_json/fail_json patched)."""

from __future__ import annotations

import json

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.modules import backup_job
from ansible_collections.ivpb.backupbeleid.tests.unit.harness import Exit, Fail
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import asked


def test_backup_job_bad_input_is_one_line(module_main):
    with pytest.raises(Fail) as exc:
        module_main(backup_job, {
            "hostname": "fileserver", "controls": asked("backup.daily", datasets=["ds"]),
            "datasets": [{"dataset": "ds", "path": "/srv", "target": {"name": "nas", "receiver": "fileserver"}}]})
    assert exc.value.args[0]["msg"] == ("fileserver: datasets[0].target: 'nas' is this host itself; "
                                        "a backup goes to another location and medium")


def test_backup_job_passes_check_mode_and_diff(module_main, monkeypatch, tmp_path):
    seen = []

    def fake_apply(host, params):
        seen.append((params["hostname"], host.check_mode, host.want_diff))
        return {"changed": True, "controls": [{"id": "backup.daily", "status": "drift"}],
                "syncs": [], "changed_paths": [], "diff": []}

    monkeypatch.setattr(backup_job.backup_job, "enforce_jobs", fake_apply)
    with pytest.raises(Exit) as exc:
        module_main(backup_job, {"hostname": "h", "controls": [], "datasets": [],
                                 "failure_hook": {"webhook": "https://hook.example/secret-token"}}, check_mode=True,
                    root=tmp_path)
    assert seen == [("h", True, True)]
    assert exc.value.args[0]["controls"][0]["status"] == "drift"


def test_backup_job_reports_the_sync_in_the_same_call(module_main, monkeypatch, tmp_path):
    """backup.sync_offsite comes from the same module call as the jobs (one round trip per host):
    in check mode on a host without lsyncd (this machine) the sync is drift, the config named."""

    def fake_apply(host, params):
        return {"changed": False, "controls": [{"id": "backup.daily", "status": "compliant"}],
                "syncs": [{"id": "backup.sync_offsite", "dataset": "ds", "source": str(tmp_path), "delay": 5,
                           "target": "nas:/b"}],
                "changed_paths": [], "diff": []}

    monkeypatch.setattr(backup_job.backup_job, "enforce_jobs", fake_apply)
    monkeypatch.setattr(backup_job.backup_job.offsite_sync, "CONF", str(tmp_path / "lsyncd.conf.lua"))
    with pytest.raises(Exit) as exc:
        module_main(backup_job, {"hostname": "h", "controls": [], "datasets": []}, check_mode=True,
                    root=tmp_path / "host")
    res = exc.value.args[0]
    assert res["changed"] is True
    assert [(c["id"], c["status"]) for c in res["controls"]] == [("backup.daily", "compliant"),
                                                                 ("backup.sync_offsite", "drift")]
    assert str(tmp_path / "lsyncd.conf.lua") in res["changed_paths"]
    assert any("sync { ivpb_sync(\"ds\")" in d["after"] for d in res["diff"])
    assert not (tmp_path / "lsyncd.conf.lua").exists()


def test_backup_job_never_logs_its_secrets_on_the_host(module_on_host, monkeypatch, tmp_path):
    """The failure hook's webhook and ping URLs are secrets no spec marks (argument_specs.
    backup_job_secrets): AnsibleModule would log its invocation with them to the host's
    journal/syslog before main() could name them, so the module starts with no_log and logs the
    line itself once they are known; the result and its invocation mask them too."""
    secrets = ("https://hook.example/secret-token", "https://hc-ping.example/5f1c-token", "dav 'it\\'s' \"x\"")
    monkeypatch.setattr(backup_job.backup_job, "enforce", lambda host, params: {"changed": False, "controls": []})
    res, logged = module_on_host(backup_job, {
        "hostname": "h", "controls": [], "datasets": [], "pull_passwords": {"cloud": secrets[2]},
        "failure_hook": {"webhook": secrets[0], "ping": secrets[1], "mail": "beheer@school.example"}}, root=tmp_path)
    (line,) = logged
    assert line.startswith("Invoked with ") and "hostname=h" in line and "failure_hook=" in line
    assert not [s for s in secrets if s in line or s in json.dumps(res)], line
    assert "secret-token" not in line and "5f1c-token" not in line
