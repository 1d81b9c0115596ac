"""§4 Backups: the backend of ivpb.backupbeleid.backup_job - schedules from the plan, targets,
encryption, the crontab, and a full apply on a temporary root (check mode first, then for
real, then a second run without change)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import backup_job as bj
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import offsite_sync as osync
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import packages, receiver_layout
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import ModuleFailure
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import asked, make_host, with_packages

FPR = "0075798249F96224C9B5F02A537B3983D457471C"


def controls(ds, *ids):
    return asked(*ids, datasets=[ds])


NAS = {"name": "nas", "receiver": "nas", "path": "/srv/backup"}
OFF = {"name": "off", "receiver": "nas-offsite", "path": "/srv/offsite", "user": "bk", "port": 2222}
DIRECTIE = {"name": "directie", "fingerprint": " ".join(FPR[i:i + 4] for i in range(0, 40, 4)),
            "public_key": "-----BEGIN PGP PUBLIC KEY BLOCK-----"}


def dataset(name, path, **over):
    """One resolved data set as the plan step hands it (ivpb.resolve.module_input)."""
    return {"dataset": name, "path": path, "target": NAS, "encrypted": False, "recipients": [],
            "keep_full": 4, "full_if_older_than": "1M", "sync_delay": 15, **over}


def params(**over):
    p = {
        "hostname": "fileserver",
        "controls": (controls("les", "backup.daily", "backup.annual_full", "backup.best_practice")
                     + controls("foto", "backup.weekly", "backup.annual_full", "backup.best_practice")
                     + controls("scan", "backup.weekly", "backup.best_practice")
                     + controls("lln", "backup.daily", "backup.sync_offsite", "backup.encrypted",
                                "backup.annual_full", "backup.best_practice")),
        "datasets": [dataset("les", "/srv/les"), dataset("foto", "/srv/foto/"), dataset("scan", "/srv/scan"),
                     dataset("lln", "/srv/lln", sync=OFF, encrypted=True, recipients=[DIRECTIE]),
                     dataset("unplanned", "/srv/x")],
        "window": {"start": "22:00", "end": "02:00", "weekday": 6, "verify_weekday": 0},
        "failure_hook": {},
    }
    p.update(over)
    return p


def by_ds(jobs):
    return {j["dataset"]: j for j in jobs}


def test_schedule_follows_the_plan():
    jobs = by_ds(bj.plan_jobs(params()))
    assert set(jobs) == {"les", "foto", "scan", "lln"}  # the data set without controls is skipped
    assert jobs["les"]["schedule"] == "daily" and jobs["les"]["cron"]["run"].endswith(" * * *")
    assert jobs["foto"]["schedule"] == "weekly" and jobs["foto"]["cron"]["run"].endswith(" * * 6")
    assert not bj.has(jobs["scan"], "annual_full") and jobs["scan"]["cron"]["annual"] is None
    assert bj.has(jobs["les"], "annual_full") and bj.has(jobs["lln"], "annual_full")
    assert jobs["foto"]["source"] == "/srv/foto"


def test_jobs_are_spread_over_a_window_across_midnight():
    assert bj.slots({"start": "22:00", "end": "02:00"}, 4) == [22 * 60, 23 * 60, 0, 60]
    assert bj.slots({"start": "01:00", "end": "01:00"}, 2) == [60, 60 + 720]
    assert bj.cron_time(22 * 60 + 5) == "5 22 * * *"
    assert bj.cron_time(75, 6) == "15 1 * * 6"
    with pytest.raises(ModuleFailure, match="ivpb_backup_window.start"):
        bj.slots({"start": "25:00", "end": "02:00"}, 1)


def test_targets_encryption_and_sync():
    jobs = by_ds(bj.plan_jobs(params()))
    lln = jobs["lln"]
    assert lln["encrypt"] and lln["keys"] == [FPR] and lln["recipients"] == ["directie"]
    # An inventory receiver: the client's own user there, paths inside its own area.
    assert lln["target"] == {"name": "nas", "host": "nas", "address": "nas", "user": "ivpb-nas-fileserver",
                             "port": 22, "managed": True, "host_key": None, "dir": "lln"}
    assert lln["sync"]["port"] == 2222 and lln["sync"]["dir"] == "lln" and lln["sync"]["user"] == "ivpb-off-fileserver"
    assert not jobs["les"]["encrypt"] and jobs["les"]["sync"] is None


def test_an_external_target_keeps_its_user_and_absolute_paths():
    p = params()
    p["datasets"][3]["sync"] = {
        "name": "off", "address": "backup.example.org", "path": "/srv/offsite", "user": "bk",
        "host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA0/vvtrDqJXg5gTi1SUnLsY7ZWNhgPuTdrJkRzidsyt x"}
    sync = by_ds(bj.plan_jobs(p))["lln"]["sync"]
    assert (sync["user"], sync["dir"], sync["managed"]) == ("bk", "/srv/offsite/fileserver/lln", False)
    assert sync["host_key"].startswith("ssh-ed25519 AAAA") and not sync["host_key"].endswith(" x")


def test_plain_data_set_may_choose_encryption():
    p = params(controls=controls("les", "backup.daily", "backup.sync_offsite"),
               datasets=[dataset("les", "/srv/les", sync=OFF)])
    assert not bj.plan_jobs(p)[0]["encrypt"] and bj.plan_jobs(p)[0]["sync"]
    p["datasets"][0].update(encrypted=True, recipients=[DIRECTIE])
    assert bj.plan_jobs(p)[0]["encrypt"]


def test_a_planned_encryption_is_not_dropped():
    p = params()
    p["datasets"][3]["encrypted"] = False
    with pytest.raises(ModuleFailure, match=re.escape("datasets[3].encrypted: false, but backup.encrypted applies")):
        bj.plan_jobs(p)


@pytest.mark.parametrize(("change", "message"), [
    ({"target": None}, "datasets[0].target: required"),
    ({"target": {"name": "self", "receiver": "fileserver"}}, "'self' is this host itself"),
    ({"target": {"name": "out", "path": "/b"}}, "ivpb_backup_targets.out.address: required"),
    ({"target": {**NAS, "port": 70000}}, "ivpb_backup_targets.nas.port: 70000 is not a port number"),
    ({"encrypted": True}, "datasets[0].recipients: encrypt is set"),
    ({"encrypted": True, "recipients": [{"name": "ghost"}]}, "unknown recipient 'ghost'"),
])
def test_bad_input_is_one_line(change, message):
    p = params()
    p["datasets"][0].update(change)
    with pytest.raises(ModuleFailure, match=re.escape(message)):
        bj.plan_jobs(p)


def test_crontab_lines_are_exact():
    text = bj.render_crontab(bj.plan_jobs(params()))
    lines = [ln for ln in text.splitlines() if ln and ln[0].isdigit()]
    assert "0 22 * * * root /usr/local/lib/ivpb/ivpb-backup run les" in lines
    assert "0 23 * * 6 root /usr/local/lib/ivpb/ivpb-backup run foto" in lines
    assert not [ln for ln in lines if ln.endswith("annual scan")]
    assert len([ln for ln in lines if " verify " in ln]) == 4
    beats = [ln.split() for ln in lines if " heartbeat " in ln]
    assert len(beats) == 1 and beats[0][-1] == "lln"  # only the synced data set, twice an hour
    first, second = map(int, beats[0][0].split(","))
    assert second - first == bj.input_rules.SYNC_HEARTBEAT_MINUTES and beats[0][1:5] == ["*", "*", "*", "*"]
    assert all(ln.split()[5] == "root" and ln.split()[6] == "/usr/local/lib/ivpb/ivpb-backup" for ln in lines)


def test_dataset_conf_quotes_for_the_shell(tmp_path):
    p = params(datasets=[dataset("les", "/srv/it's here")], controls=controls("les", "backup.daily"))
    conf = bj.render_dataset_conf(bj.plan_jobs(p)[0])
    out = subprocess.run(["bash", "-c", f'{conf}\nprintf "%s|%s|%s" "$SOURCE" "$TARGET_HOST" "$ANNUAL"'],
                         capture_output=True, text=True, check=True).stdout
    assert out == "/srv/it's here|ivpb-nas-fileserver@nas|0"


@pytest.fixture
def fake_root(tmp_path, monkeypatch):
    """Every path of the backend under tmp_path, dpkg's status file included (the backend's
    packages installed); gpg and ssh-keygen stay real."""
    status = with_packages(tmp_path, *bj.PACKAGES, "gnupg", "lsyncd") / packages.DPKG_STATUS.lstrip("/")
    monkeypatch.setattr(packages, "DPKG_STATUS", str(status))
    for name in ("ETC", "STATE", "LIB_DIR", "LOG_DIR"):
        monkeypatch.setattr(bj, name, str(tmp_path) + getattr(bj, name))
    monkeypatch.setattr(bj, "SCRIPT_PATH", str(tmp_path) + bj.SCRIPT_PATH)
    monkeypatch.setattr(bj, "CRON_PATH", str(tmp_path) + bj.CRON_PATH)
    monkeypatch.setattr(receiver_layout, "CLIENT_KEY", str(tmp_path) + receiver_layout.CLIENT_KEY)
    return tmp_path


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")
def test_apply_check_mode_then_real_then_no_change(fake_root, monkeypatch):
    p = params(controls=controls("les", "backup.daily", "backup.annual_full", "backup.best_practice"),
               datasets=[dataset("les", "/srv/les")])
    monkeypatch.setattr(bj.shutil, "which", lambda tool: "/usr/bin/" + tool)  # duplicity is not on the controller
    p["host_keys"] = {"nas": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA0/vvtrDqJXg5gTi1SUnLsY7ZWNhgPuTdrJkRzidsyt"}
    res = bj.enforce_jobs(make_host(monkeypatch, check_mode=True, diff=True), p)
    changed = res["changed"]
    assert changed and not os.path.exists(fake_root / "etc")
    assert {c["status"] for c in res["controls"]} == {"drift"}
    assert res["ssh_public_key"] == "" and res["diff"]

    res = bj.enforce_jobs(make_host(monkeypatch), p)
    changed = res['changed']
    assert changed
    assert res["ssh_public_key"].startswith("ssh-ed25519 ") and res["target_hosts"] == ["nas"]
    assert {c["status"] for c in res["controls"]} == {"compliant"}
    key = fake_root / "etc/ivpb/backup/ssh/id_ed25519"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert oct((fake_root / "etc/ivpb/backup").stat().st_mode & 0o777) == "0o700"
    assert (fake_root / "etc/cron.d/ivpb-backup").read_text() == bj.render_crontab(bj.plan_jobs(p))
    assert (fake_root / "etc/ivpb/backup/ssh/known_hosts").read_text() == f"nas {p['host_keys']['nas']}\n"
    del p["host_keys"]  # a later run without the receiver keeps the key pinned before

    res = bj.enforce_jobs(make_host(monkeypatch), p)
    changed = res['changed']
    assert not changed and res["changed_paths"] == []
    res = bj.enforce_jobs(make_host(monkeypatch, check_mode=True), p)
    changed = res["changed"]
    assert not changed and {c["status"] for c in res["controls"]} == {"compliant"}


def test_evidence_comes_from_the_status_files(fake_root, monkeypatch):
    status = fake_root / "var/lib/ivpb/backup/status"
    status.mkdir(parents=True)
    (status / "les.last_backup").write_text("2026-11-29T01:00:04Z\n")
    (status / "les.last_verify").write_text("2026-11-29T05:30:00Z\n")
    (status / "les.run_failed").write_text("2026-11-30T01:00:00Z\nsource /srv/les is empty (not mounted?)\n")
    jobs = bj.plan_jobs(params(controls=controls("les", "backup.daily", "backup.best_practice"),
                               datasets=[dataset("les", "/srv/les")]))
    host = make_host(monkeypatch)
    ev = {c["id"]: c["evidence"] for c in bj.evidence(host, jobs, False, False, None, None, [])}
    assert ev["backup.daily"]["last_backup"] == "2026-11-29T01:00:04Z"
    assert ev["backup.best_practice"]["last_verify"] == "2026-11-29T05:30:00Z"
    assert ev["backup.daily"]["run_failed"] == {"at": "2026-11-30T01:00:00Z",
                                                "reason": "source /srv/les is empty (not mounted?)"}


def test_removed_data_set_loses_its_config(fake_root, monkeypatch):
    monkeypatch.setattr(bj.shutil, "which", lambda tool: "/usr/bin/" + tool)
    monkeypatch.setattr(bj, "ssh_key", lambda files, host: "ssh-ed25519 AAAA test")
    p = params(controls=controls("les", "backup.daily") + controls("old", "backup.weekly"),
               datasets=[dataset("les", "/srv/les"), dataset("old", "/srv/old")],
               host_keys={"nas": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA0/vvtrDqJXg5gTi1SUnLsY7ZWNhgPuTdrJkRzidsyt"})
    bj.enforce_jobs(make_host(monkeypatch), p)
    assert (fake_root / "etc/ivpb/backup/datasets/old.conf").exists()
    p["datasets"] = p["datasets"][:1]
    res = bj.enforce_jobs(make_host(monkeypatch), p)
    changed = res['changed']
    assert changed and not (fake_root / "etc/ivpb/backup/datasets/old.conf").exists()
    assert "old" not in (fake_root / "etc/cron.d/ivpb-backup").read_text()


def test_lsyncd_config_runs_the_job_script():
    conf = osync.render([{"dataset": "lln", "source": "/srv/lln", "delay": 5}], bj.SCRIPT_PATH)
    assert 'sync { ivpb_sync("lln"), source = "/srv/lln", delay = 5 }' in conf
    assert 'spawn(event, "/usr/local/lib/ivpb/ivpb-backup", "sync", dataset)' in conf
    assert "insist = true" in conf and "[75] = \"again\"" in conf


def test_job_script_is_valid_bash_and_knows_the_school_year(tmp_path):
    script = tmp_path / "ivpb-backup"
    script.write_text(bj.SCRIPT)
    subprocess.run(["bash", "-n", str(script)], check=True)
    fn = bj.SCRIPT[bj.SCRIPT.index("school_year() {"):bj.SCRIPT.index("url() {")]
    for fake_date, year in (("2026-08-31", "2025-2026"), ("2026-09-01", "2026-2027"), ("2027-01-15", "2026-2027")):
        out = subprocess.run(["bash", "-c", f'date() {{ command date -d {fake_date} "$@"; }}\n{fn}\nschool_year'],
                             capture_output=True, text=True, check=True).stdout.strip()
        assert out == year, fake_date


def test_a_new_duty_is_one_row(monkeypatch, tmp_path):
    """A duty added as a row after the last (CONTRIBUTING.md, "Add a control") is accepted and,
    for the data sets a control asks it of, gets its cron line, config lines, package and evidence,
    leaving every existing line as it was; nothing else names it."""
    before = bj.plan_jobs(params())
    old = bj.render_crontab(before).splitlines()
    old_conf = [bj.render_dataset_conf(j) for j in before]
    row = bj.Duty("an example", action="example", cron=lambda j, w: bj.cron_time(w["slot"], None),
                  conf=lambda j: [f"EXAMPLE={1 if 'example' in j['controls'] else 0}"],
                  reader=lambda host, j, found: {"detail": "example", "evidence": {"last_example": None}},
                  packages=("openssh-server",))
    monkeypatch.setitem(bj.DUTIES, "example", row)
    monkeypatch.setattr(bj, "ACTIONS", (*bj.ACTIONS, "example"))
    p = params()
    p["controls"] += [{"id": "backup.example", "duty": "example", "datasets": ["les"]}]
    after = bj.plan_jobs(p)
    new = bj.render_crontab(after).splitlines()
    added = [ln for ln in new if ln not in old]
    assert [ln for ln in added if not ln.startswith("#")] == [
        "0 22 * * * root /usr/local/lib/ivpb/ivpb-backup example les"]
    assert bj.render_dataset_conf(after[1]) == old_conf[1] + "EXAMPLE=0\n"
    assert bj.render_dataset_conf(after[0]) == \
        old_conf[0].replace("backup.daily);", "backup.daily, backup.example);") + "EXAMPLE=1\n"
    assert bj.needed_packages(after)[-1] == "openssh-server"
    host = make_host(monkeypatch, root=str(tmp_path))
    reported = bj.evidence(host, after, changed=False, check_mode=False, keyring=None, key_error=None, blockers=[])
    assert {"id": "backup.example", "dataset": "les", "status": "compliant", "detail": "example",
            "evidence": {}} in reported
    with pytest.raises(ModuleFailure, match=r"controls\[0\]\.duty: 'exampel' is not one of daily, .*, example"):
        bj.plan_jobs(params(controls=[{"id": "backup.example", "duty": "exampel", "datasets": ["les"]}]))
