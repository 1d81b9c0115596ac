"""§4 for a system ivpb does not manage (#23): the backup proxy's pulled data set in backup_job -
where rclone reads it (checked, written for the shell), the folder its backup saves, the
password in a root-only file that no diff or result shows, the controls reported for the system."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import backup_job as bj
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import ModuleFailure
from ansible_collections.ivpb.backupbeleid.tests.unit.plugins.module_utils.test_backup_backend import (  # noqa: F401 pylint: disable=unused-import
    controls,
    dataset,
    fake_root,  # the fixture: every path of the backend under tmp_path
    params,
)
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import make_host, with_packages

SECRET = "Geheim 'wachtwoord' $(reboot) ;#"
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA0/vvtrDqJXg5gTi1SUnLsY7ZWNhgPuTdrJkRzidsyt"


def pulled(source="smb://synology/fotoarchief/2025_map", **over):
    p = params(controls=controls("foto", "backup.weekly", "backup.best_practice"),
               datasets=[dataset("foto", r"C:\Users\x", pull={"for": "synology", "source": source, "user": "ivpb"})],
               **over)
    return p


def test_a_pulled_data_set_is_saved_from_the_proxys_own_folder_with_rclones_settings():
    [job] = bj.plan_jobs(pulled("smb://synology:4450/fotoarchief/$(reboot);x/"))
    assert job["source"] == "/var/lib/ivpb/backup/pulled/foto"
    conf = bj.render_dataset_conf(job)
    out = subprocess.run(["bash", "-c", f'{conf}\nprintf "%s|" "$SOURCE" "$PULL_TYPE" "$PULL_HOST" "$PULL_PORT" '
                                        '"$PULL_PATH" "$PULL_USER" "$PULL_SOURCE"'],
                         capture_output=True, text=True, check=True).stdout
    assert out == ("/var/lib/ivpb/backup/pulled/foto|smb|synology|4450|fotoarchief/$(reboot);x|ivpb|"
                   "smb://synology:4450/fotoarchief/$(reboot);x/|")
    [dav] = bj.plan_jobs(pulled("https://drive.example:8443/remote.php/dav/files/school"))
    assert dav["pull"] == {"for": "synology", "source": "https://drive.example:8443/remote.php/dav/files/school",
                           "type": "webdav", "host": "drive.example", "port": 8443, "path": "",
                           "url": "https://drive.example:8443/remote.php/dav/files/school", "user": "ivpb"}
    assert "rclone" in bj.needed_packages([job]) and "rclone" not in bj.needed_packages(bj.plan_jobs(params()))
    # a data set that is not pulled writes its config byte for byte as before
    assert "PULL_" not in "".join(bj.render_dataset_conf(j) for j in bj.plan_jobs(params()))


@pytest.mark.parametrize(("source", "message"), [
    ("ftp://nas/x", "datasets[0].pull.source: 'ftp://nas/x' is not smb://server[:port]/share[/folder], "
                    "http(s)://server[:port]/path or sftp://server[:port]/path (no blanks, quotes or backslashes)"),
    ("smb://nas/share with blank", "datasets[0].pull.source: 'smb://nas/share with blank' is not smb://"),
    ("smb://nas/a\nb", "datasets[0].pull.source: "),
    ("smb://nas:99999/x", "datasets[0].pull.source: port 99999 is not from 1 to 65535"),
    ("https://-oProxyCommand/x", "datasets[0].pull.source: the server: '-oProxyCommand' is not a host name"),
    ("smb://a..b/share", "datasets[0].pull.source: the server: 'a..b' is not a host name"),
    ("smb://ivpb@nas/share", "datasets[0].pull.source: the server: 'ivpb@nas' is not a host name"),
    ("https://ivpb:geheim@nas/dav", "datasets[0].pull.source: 'https://(account not shown)@nas/dav' is not smb://"),
    ("file:///etc/shadow", "datasets[0].pull.source: 'file:///etc/shadow' is not smb://"),
    ("/srv/data", "datasets[0].pull.source: '/srv/data' is not smb://"),
])
def test_a_source_rclone_cannot_take_is_one_line(source, message):
    with pytest.raises(ModuleFailure) as exc:
        bj.plan_jobs(pulled(source))
    assert str(exc.value).startswith(message) and "\n" not in str(exc.value)


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")
@pytest.mark.usefixtures("fake_root")
def test_the_password_is_in_a_root_only_file_never_in_a_diff_or_result(tmp_path, monkeypatch):
    monkeypatch.setattr(bj.shutil, "which", lambda tool: "/usr/bin/" + tool)
    with_packages(tmp_path, *bj.PACKAGES, "rclone")  # installed: the runs below change no package
    p = pulled(host_keys={"nas": HOST_KEY}, pull_passwords={"synology": SECRET})
    res = bj.enforce_jobs(make_host(monkeypatch, check_mode=True, diff=True), p)
    assert SECRET not in repr(res) and not (tmp_path / "etc").exists()
    assert {d["after"] for d in res["diff"] if d["after_header"].endswith("foto.pass")} == {"(password, not shown)\n"}
    res = bj.enforce_jobs(make_host(monkeypatch, diff=True), p)
    secret = tmp_path / "etc/ivpb/backup/pull/foto.pass"
    assert secret.read_text() == SECRET and oct(secret.stat().st_mode & 0o777) == "0o600"
    assert oct(secret.parent.stat().st_mode & 0o777) == "0o700"
    assert SECRET not in repr(res)
    # its controls are the system's, reported by this host
    assert {(c["id"], c["for"]) for c in res["controls"]} == {("backup.weekly", "synology"),
                                                              ("backup.best_practice", "synology")}
    assert all(c["evidence"]["pulled_from"] == "smb://synology/fotoarchief/2025_map" for c in res["controls"])
    again = bj.enforce_jobs(make_host(monkeypatch), p)
    assert not again["changed"], again["changed_paths"]
    # no password (a share open to the proxy's address): no file; no pull at all: no folder content
    res = bj.enforce_jobs(make_host(monkeypatch), {**p, "pull_passwords": {}})
    assert res["changed"] and not secret.exists()
    assert os.listdir(secret.parent) == []


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")
@pytest.mark.usefixtures("fake_root")
def test_a_bad_password_is_one_line_in_the_pulls_own_words(tmp_path, monkeypatch):
    monkeypatch.setattr(bj.shutil, "which", lambda tool: "/usr/bin/" + tool)
    with_packages(tmp_path, *bj.PACKAGES, "rclone")
    bad = "geheim\nreboot"
    with pytest.raises(ModuleFailure) as exc:
        bj.enforce_jobs(make_host(monkeypatch), pulled(host_keys={"nas": HOST_KEY}, pull_passwords={"synology": bad}))
    assert str(exc.value) == (
        "pull_passwords.synology: a character that is not printable ASCII (a line break, a tab, an accent) (value "
        "not shown); expected the password of the account the pull names (pull.user) as one line of printable ASCII "
        "(space to ~), at most 200 characters")
    assert not (tmp_path / "etc/ivpb/backup/pull/foto.pass").exists()


def sftp(host_key=HOST_KEY, **pull):
    return params(controls=controls("foto", "backup.weekly", "backup.best_practice"),
                  datasets=[dataset("foto", "/volume1/fotoarchief", pull={
                      "for": "synology", "source": "sftp://nas.school:2222/volume1/fotoarchief/$(reboot);x/",
                      "user": "ivpb", "host_key": host_key, **pull})])


def test_an_sftp_source_logs_in_as_its_account_to_a_pinned_host_key():
    [job] = bj.plan_jobs(sftp(host_key=HOST_KEY + " root@nas"))
    assert job["pull"] == {"for": "synology", "source": "sftp://nas.school:2222/volume1/fotoarchief/$(reboot);x/",
                           "type": "sftp", "host": "nas.school", "port": 2222,
                           "path": "/volume1/fotoarchief/$(reboot);x", "url": "", "user": "ivpb",
                           "host_key": HOST_KEY}
    out = subprocess.run(["bash", "-c", f'{bj.render_dataset_conf(job)}\nprintf "%s|" "$PULL_TYPE" "$PULL_HOST" '
                                        '"$PULL_PORT" "$PULL_PATH" "$PULL_USER"'],
                         capture_output=True, text=True, check=True).stdout
    assert out == "sftp|nas.school|2222|/volume1/fotoarchief/$(reboot);x|ivpb|"
    # the server's key is pinned beside the targets' (no trust on first use), on its port
    known, missing = bj.render_known_hosts([job], {"nas": HOST_KEY}, [])
    assert known.splitlines() == [f"nas {HOST_KEY}", f"[nas.school]:2222 {HOST_KEY}"] and missing == []


OTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcJkG3M1vBFlnQJ3qjWqQ1pYdT6c9cR8wJ2m5a0lJ0x"


def test_a_pull_from_a_targets_server_must_name_the_key_pinned_for_it():
    """The NAS the proxy pulls from is also its backup target (same name, port 22): its one host
    key is pinned once; a second, different key would be trusted for the target too, so it is
    refused, whichever job comes first."""
    [job] = bj.plan_jobs(sftp(source="sftp://nas/volume1/fotoarchief"))
    known, _missing = bj.render_known_hosts([job], {"nas": HOST_KEY}, [])
    assert known.splitlines() == [f"nas {HOST_KEY}"]
    [odd] = bj.plan_jobs(sftp(source="sftp://nas/volume1/fotoarchief", host_key=OTHER_KEY))
    other = {**odd, "dataset": "admin", "pull": None}
    for jobs in ([odd], [odd, other], [other, odd]):
        with pytest.raises(ModuleFailure) as exc:
            bj.render_known_hosts(jobs, {"nas": HOST_KEY}, [])
        assert str(exc.value) == ("data set foto: pull.host_key is not the key pinned for nas (a backup target's or "
                                  "another pull's on the same server and port); expected that server's one host key "
                                  "in both places")
    # another port of the same server is another name in known_hosts: its own key
    [port] = bj.plan_jobs(sftp(source="sftp://nas:2222/volume1", host_key=OTHER_KEY))
    assert bj.render_known_hosts([port], {"nas": HOST_KEY}, [])[0].splitlines() == [
        f"nas {HOST_KEY}", f"[nas]:2222 {OTHER_KEY}"]


@pytest.mark.parametrize(("over", "message"), [
    ({"host_key": None}, "datasets[0].pull.host_key: required for an sftp:// source: the server's SSH host public "
                         "key ('ssh-ed25519 AAAA...'), pinned in this host's known_hosts"),
    ({"user": ""}, "datasets[0].pull.user: required for an sftp:// source: the account the proxy logs in as"),
    ({"host_key": "ssh-ed25519 not$base64"}, "datasets[0].pull.host_key: "),
    ({"host_key": f"{HOST_KEY}\n@revoked * {HOST_KEY}"}, "datasets[0].pull.host_key: 'ssh-ed25519 AAAAC3"),
    ({"host_key": f"{HOST_KEY}\r\nnas {HOST_KEY}"}, "datasets[0].pull.host_key: 'ssh-ed25519 AAAAC3"),
    ({"host_key": f"@cert-authority * {HOST_KEY}"}, "datasets[0].pull.host_key: '@cert-authority *' is not an SSH"),
    ({"host_key": f"ssh-ed25519\t{HOST_KEY.split()[1]}"}, "datasets[0].pull.host_key: 'ssh-ed25519\\t"),
    ({"source": "sftp://nas"}, "datasets[0].pull.source: 'sftp://nas' is not smb://server[:port]/share[/folder], "
                               "http(s)://server[:port]/path or sftp://server[:port]/path"),
])
def test_an_sftp_source_without_its_account_or_key_is_one_line(over, message):
    with pytest.raises(ModuleFailure) as exc:
        bj.plan_jobs(sftp(**over))
    assert str(exc.value).startswith(message) and "\n" not in str(exc.value)


def _pull_source():
    """The job script's pull_source function, as the script ships it."""
    start = bj.SCRIPT.index("pull_source() {")
    return bj.SCRIPT[start:bj.SCRIPT.index("\n}\n", start) + 3]


@pytest.mark.skipif(shutil.which("rclone") is None or shutil.which("ssh-keygen") is None,
                    reason="needs rclone (Debian's, as the proxy installs it) and ssh-keygen")
@pytest.mark.parametrize("password", ["", SECRET])
def test_rclone_itself_takes_the_sftp_settings_from_the_script(tmp_path, password):
    """The real rclone, handed the settings as the script hands them: it reads the pinned
    known_hosts, then dials the server's port (closed here), and says so in the job's failure."""
    [job] = bj.plan_jobs(sftp())
    job["pull"]["host"], job["pull"]["port"] = "127.0.0.1", 9  # the discard port: nothing listens
    etc = tmp_path / "etc"
    (etc / "ssh").mkdir(parents=True)
    (etc / "pull").mkdir()
    if password:
        (etc / "pull" / "foto.pass").write_text(password)
    # the host's own backup key (ssh_key makes it so), which logs in when no password is set
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(etc / "ssh" / "id_ed25519")], check=True)
    script = (f"{bj.render_dataset_conf(job)}\nETC={tmp_path}/etc DS=foto SOURCE={tmp_path}/pulled JOB_TIMEOUT=60\n"
              'log() { :; }\nfailed() { echo "FAILED: $1"; exit 1; }\n' + _pull_source() + "pull_source\n")
    (etc / "ssh" / "known_hosts").write_text("no key here\n")
    broken = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert broken.returncode == 1 and "known_hosts" in broken.stdout, broken.stdout + broken.stderr
    (etc / "ssh" / "known_hosts").write_text(bj.render_known_hosts([job], {"nas": HOST_KEY}, [])[0])
    refused = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert refused.stdout.startswith("FAILED: pull from sftp://nas.school:2222/") and "127.0.0.1:9" in refused.stdout
    assert (password or SECRET) not in refused.stdout + refused.stderr
