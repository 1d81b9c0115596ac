"""module_utils/host.py, the host toolkit of every backend, over a real AnsibleModule: files through
atomic_move with owner and mode, the diff beside the change with secrets masked, check mode that
changes nothing, commands through run_command, systemd units through a recording systemctl."""

from __future__ import annotations

import errno
import grp
import os
import pwd
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import ModuleFailure
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import make_host


def test_a_file_is_written_with_its_mode_then_left_alone(monkeypatch, tmp_path):
    host = make_host(monkeypatch, diff=True)
    path = str(tmp_path / "etc/x/secret.conf")
    assert host.file(path, "password = s3cret\n", 0o640, show=lambda _t: "(masked)\n") == ["content"]
    assert os.stat(path).st_mode & 0o7777 == 0o640
    assert (tmp_path / "etc/x/secret.conf").read_text() == "password = s3cret\n"
    assert host.diffs == [{"before_header": path, "after_header": path, "before": "", "after": "(masked)\n"}]
    assert sorted(os.listdir(tmp_path / "etc/x")) == ["secret.conf"]  # no temporary file left
    assert host.file(path, "password = s3cret\n", 0o640) == []
    assert host.file(path, "password = s3cret\n", 0o600) == ["owner/mode (want root:root 0600)"]
    assert os.stat(path).st_mode & 0o7777 == 0o600


def test_check_mode_records_the_change_and_touches_nothing(monkeypatch, tmp_path):
    host = make_host(monkeypatch, check_mode=True, diff=True)
    path = str(tmp_path / "a/b.conf")
    assert host.file(path, "x\n", 0o644) and host.directory(str(tmp_path / "d"), 0o700)
    assert host.changed == [path, str(tmp_path / "d")] and os.listdir(tmp_path) == []


def test_a_user_made_by_this_run_is_drift_in_check_mode_and_an_error_otherwise(monkeypatch, tmp_path):
    host = make_host(monkeypatch, check_mode=True)
    assert host.file(str(tmp_path / "f"), "x", 0o600, group="no-such-group-ivpb") == ["content"]
    with pytest.raises(ModuleFailure, match=f"^{tmp_path}/f: the group no-such-group-ivpb does not exist "):
        make_host(monkeypatch).file(str(tmp_path / "f"), "x", 0o600, group="no-such-group-ivpb")


CASES = yaml.safe_load(Path(__file__).with_suffix(".yaml").read_text(encoding="utf-8"))


def _masked(text):
    return f"(masked: {len(text)} characters)\n"


def _state(full, kind):
    st = os.lstat(full)
    state = {"mode": f"{stat.S_IMODE(st.st_mode):04o}", "owner": pwd.getpwuid(st.st_uid).pw_name,
             "group": grp.getgrgid(st.st_gid).gr_name}
    if kind == "file":
        state["content"] = Path(full).read_text(encoding="utf-8")
    return state


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_files_and_directories(monkeypatch, tmp_path, case):
    """One case of test_host.yaml: a Host call under a temporary root (Host.path)."""
    if case.get("needs_root") and os.geteuid() != 0:
        pytest.skip("sets or checks an owner other than the one running the tests")
    for path, before in (case.get("before") or {}).items():
        full = tmp_path / path.lstrip("/")
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text(before["content"], encoding="utf-8")
        full.chmod(int(before["mode"], 8))
    host = make_host(monkeypatch, check_mode=case.get("check_mode", False), diff=True, root=str(tmp_path))
    args = {**case["call"]["args"], "mode": int(case["call"]["args"]["mode"], 8)}
    if args.get("show") == "masked":
        args["show"] = _masked
    call, expect = getattr(host, case["call"]["method"]), case["expect"]
    if "failure" in expect:
        with pytest.raises(ModuleFailure) as exc:
            call(**args)
        assert str(exc.value) == expect["failure"]
    else:
        assert call(**args) == expect["result"]
    assert host.changed == expect.get("changed", [])
    assert host.diffs == expect.get("diffs", [])
    files = {"/" + os.path.relpath(os.path.join(folder, name), tmp_path): os.path.join(folder, name)
             for folder, _dirs, names in os.walk(tmp_path) for name in names}
    assert sorted(files) == sorted(expect["files"])  # nothing else, no temporary file left
    for path, want in expect["files"].items():
        got = _state(files[path], "file")
        assert {k: got[k] for k in want} == want
    for path, want in (expect.get("directories") or {}).items():
        full = host.path(path)
        assert (_state(full, "directory") if os.path.isdir(full) else "absent") == want


def test_commands_run_through_run_command_and_a_missing_one_is_rc_127(monkeypatch):
    host = make_host(monkeypatch)
    assert host.run(["cat"], data="in") == (0, "in\n", "")
    # Whatever locale runs the tests (ansible-test sets LC_ALL=C.UTF-8), a command runs under C.
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    assert host.run(["sh", "-c", "echo $TZ $LC_ALL"], env={"TZ": "UTC"})[1] == "UTC C\n"
    # Arguments reach the program as given: run_command's own expansion of $VAR and ~ is off.
    assert host.run(["printf", "%s", "$LC_ALL ~"])[1] == "$LC_ALL ~"
    # A missing program is rc 127 with one line naming it, never an exception; the reason of a
    # failed exec is the system's own words (os.strerror, in the locale of this process).
    assert host.run(["no-such-program-ivpb"]) == (127, "", "no-such-program-ivpb: not installed")
    assert host.run(["/nonexistent-ivpb/prog", "-x"]) == (127, "", f"/nonexistent-ivpb/prog: {os.strerror(errno.ENOENT)}")
    with pytest.raises(ModuleFailure, match="^no-such-program-ivpb failed: no-such-program-ivpb: not installed$"):
        host.must(["no-such-program-ivpb"])
    with pytest.raises(ModuleFailure, match="^sh -c failed: boom$"):
        host.must(["sh", "-c", "echo boom >&2; exit 3"])


class Systemctl:
    def __init__(self, enabled, active, fail=None):
        self.enabled, self.active, self.fail, self.calls = enabled, active, fail, []

    def __call__(self, argv):
        self.calls.append(" ".join(argv[1:]))
        verb = argv[1]
        if verb == "is-enabled":
            return (0, "enabled\n", "") if self.enabled else (1, "disabled\n", "")
        if verb == "is-active":
            return (0, "active\n", "") if self.active else (3, "inactive\n", "")
        if verb == self.fail:
            return 1, "", "Job failed.\nSee journalctl -xeu u.service\n"
        self.enabled |= verb == "enable"
        self.active |= verb in ("start", "restart")
        return 0, "", ""


@pytest.mark.parametrize(("enabled", "active", "restart", "actions"), [
    (False, False, False, [("daemon-reload", None), ("enable", "u.service"), ("start", "u.service")]),
    (True, True, True, [("daemon-reload", None), ("restart", "u.service")]),
    (True, True, False, [("daemon-reload", None)]),
])
def test_a_unit_is_enabled_started_or_restarted_and_never_in_check_mode(monkeypatch, enabled, active, restart,
                                                                        actions):
    systemctl = Systemctl(enabled, active)
    got, now_enabled, now_active = make_host(monkeypatch, run=systemctl).unit("u.service", restart, True)
    assert got == actions and now_enabled and now_active
    systemctl = Systemctl(enabled, active)
    got, _e, _a = make_host(monkeypatch, check_mode=True, run=systemctl).unit("u.service", restart, True)
    assert got == actions and systemctl.calls == ["is-enabled u.service", "is-active u.service"]


@pytest.mark.skipif(shutil.which("pgrep") is None, reason="needs pgrep (procps)")
def test_a_process_runs_when_pgrep_x_finds_it(tmp_path, monkeypatch):
    """process_running against pgrep -x, on a process of the test's own (a copy of sleep under a
    name no other process has): found while it runs, not by a part of its name, gone after."""
    name = f"ivpb{os.getpid() % 100000}zz"
    program = tmp_path / name
    shutil.copy(shutil.which("sleep"), program)
    host = make_host(monkeypatch)

    def pgrep(pattern):
        return subprocess.run(["pgrep", "-x", pattern], capture_output=True, check=False).returncode == 0

    proc = subprocess.Popen([str(program), "30"])
    try:
        for _try in range(50):  # exec'd: comm is the program's name
            if pgrep(name):
                break
            time.sleep(0.02)
        assert host.process_running(name) and pgrep(name)
        assert not host.process_running(name[:-1]) and not pgrep(name[:-1])
    finally:
        proc.kill()
        proc.wait()
    assert not host.process_running(name) and not pgrep(name)
    assert not make_host(monkeypatch, root=str(tmp_path / "no-proc")).process_running(name)


def test_a_failed_systemctl_is_one_line(monkeypatch):
    host = make_host(monkeypatch, run=Systemctl(False, False, fail="start"))
    with pytest.raises(ModuleFailure, match="^systemctl start u.service failed: See journalctl -xeu u.service$"):
        host.unit("u.service")


# Links planted in the managed tree (issue #22): the toolkit sets owner and mode, and reads, only
# through descriptors it opened without following a link another user could have put there. The
# target of each link is a file or directory outside the root, which must keep owner, mode and
# content whatever the toolkit is asked.

def _outside(tmp_path):
    """A file and a directory outside the managed root, root's and private; the root (tmp/root)."""
    (tmp_path / "outside").mkdir()
    secret = tmp_path / "outside/shadow"
    secret.write_text("root:secret-hash\n", encoding="utf-8")
    secret.chmod(0o600)
    (tmp_path / "outside").chmod(0o700)
    (tmp_path / "root/etc/ivpb").mkdir(parents=True)
    return secret, tmp_path / "root"


def _untouched(path, mode, content=None):
    st = os.lstat(path)
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (mode, 0, 0)
    if content is not None:
        assert path.read_text(encoding="utf-8") == content


def test_a_link_at_a_file_is_replaced_and_its_target_neither_read_nor_changed(monkeypatch, tmp_path):
    secret, root = _outside(tmp_path)
    (root / "etc/ivpb/x.conf").symlink_to(secret)
    host = make_host(monkeypatch, diff=True, root=str(root))
    assert host.read("/etc/ivpb/x.conf") is None  # not the target's text
    assert host.file("/etc/ivpb/x.conf", "mine\n", 0o644) == ["symbolic link (replaced by the file)"]
    assert host.diffs[0]["before"] == "(a symbolic link, not followed)\n"
    _untouched(secret, 0o600, "root:secret-hash\n")
    st = os.lstat(root / "etc/ivpb/x.conf")
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o644
    assert (root / "etc/ivpb/x.conf").read_text(encoding="utf-8") == "mine\n"
    assert sorted(os.listdir(root / "etc/ivpb")) == ["x.conf"]


def test_a_link_at_a_directory_is_refused_in_one_line_and_its_target_keeps_its_mode(monkeypatch, tmp_path):
    secret, root = _outside(tmp_path)
    (root / "etc/ivpb/area").symlink_to(secret.parent)
    for check_mode in (True, False):
        host = make_host(monkeypatch, check_mode=check_mode, root=str(root))
        with pytest.raises(ModuleFailure) as exc:
            host.directory("/etc/ivpb/area", 0o1777)
        assert str(exc.value) == ("/etc/ivpb/area is a symbolic link: ivpb sets owner and mode only on a real "
                                  "directory, never through a link (remove it, or give the directory it points to)")
    _untouched(secret.parent, 0o700)
    _untouched(secret, 0o600, "root:secret-hash\n")


def test_absent_removes_a_link_and_not_its_target(monkeypatch, tmp_path):
    secret, root = _outside(tmp_path)
    (root / "etc/ivpb/x.conf").symlink_to(secret)
    assert make_host(monkeypatch, root=str(root)).absent("/etc/ivpb/x.conf")
    assert os.listdir(root / "etc/ivpb") == []
    _untouched(secret, 0o600, "root:secret-hash\n")


def _planted(link, target):
    """A link made by an unprivileged user (nobody), as a client could make one in its area."""
    link.symlink_to(target)
    os.lchown(link, pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid)


@pytest.mark.skipif(os.geteuid() != 0, reason="plants a link owned by another user")
def test_a_link_another_user_planted_above_the_path_is_never_followed(monkeypatch, tmp_path):
    secret, root = _outside(tmp_path)
    _planted(root / "etc/ivpb/area", secret.parent)
    host = make_host(monkeypatch, root=str(root))
    why = "/etc/ivpb/area is a symbolic link made by nobody, not by root: ivpb does not follow it"
    with pytest.raises(ModuleFailure, match=f"^/etc/ivpb/area/shadow: {why}$"):
        host.file("/etc/ivpb/area/shadow", "attacker's\n", 0o644, owner="nobody")
    with pytest.raises(ModuleFailure, match=f"^/etc/ivpb/area/shadow: {why}$"):
        host.directory("/etc/ivpb/area/shadow", 0o777, owner="nobody")
    with pytest.raises(ModuleFailure, match=f"^/etc/ivpb/area/shadow: {why}$"):
        host.read("/etc/ivpb/area/shadow")
    with pytest.raises(ModuleFailure, match=f"^/etc/ivpb/area/shadow: {why}$"):
        host.absent("/etc/ivpb/area/shadow")
    assert host.changed == []
    assert os.listdir(secret.parent) == ["shadow"]
    _untouched(secret.parent, 0o700)
    _untouched(secret, 0o600, "root:secret-hash\n")


def test_a_link_root_made_above_the_path_is_followed(monkeypatch, tmp_path):
    """An admin's own link (/srv -> /data/srv, a bigger disk) keeps working."""
    root = tmp_path / "root"
    (root / "data/srv").mkdir(parents=True)
    (root / "srv").symlink_to(root / "data/srv")
    host = make_host(monkeypatch, root=str(root))
    assert host.directory("/srv/backup", 0o750) and host.file("/srv/backup/x", "x\n", 0o640) == ["content"]
    assert (root / "data/srv/backup/x").read_text(encoding="utf-8") == "x\n"
    assert stat.S_IMODE(os.stat(root / "data/srv/backup").st_mode) == 0o750
