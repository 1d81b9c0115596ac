"""§4 receiver (issue #12): the kernel is the wall. Sealing is run for real on real files, and a
process of the client's uid then tries to damage what was sealed; retention is table-driven over
duplicity's file names; the module's own input checks and check mode."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import backup_receiver as br
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import receiver_layout, receiver_program
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import ModuleFailure
from ansible_collections.ivpb.backupbeleid.plugins.modules import backup_receiver
from ansible_collections.ivpb.backupbeleid.tests.unit.harness import Exit, Fail

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA0/vvtrDqJXg5gTi1SUnLsY7ZWNhgPuTdrJkRzidsyt ivpb-backup@fs"
CLIENT_UID = 64999  # no account needed: the kernel checks numbers
CLIENT_GID = 64999
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="sealing hands files to root: run as root (CI does)")


@pytest.fixture(scope="module")
def program():
    ns: dict = {"__name__": "ivpb_receiver_program"}
    exec(compile(receiver_program.PROGRAM, receiver_program.PATH, "exec"), ns)  # noqa: S102 - the shipped program
    return ns


def as_client(action) -> int:
    """Run action() in a child with the client's uid and gid; the errno it met, 0 for none."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(CLIENT_GID)
            os.setuid(CLIENT_UID)
            action()
            os._exit(0)
        except OSError as e:
            os._exit(e.errno or 99)
        except BaseException:
            os._exit(98)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


@pytest.fixture
def open_dir():
    """A directory every user can traverse (pytest's tmp_path is root's 0700)."""
    path = Path(tempfile.mkdtemp(prefix="ivpb-seal-", dir="/var/tmp"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path)


@root_only
def test_a_sealed_file_cannot_be_changed_or_removed_by_its_client(program, open_dir):
    tmp_path = open_dir
    area = tmp_path / "fs"
    chain = area / "ds" / "chain"
    chain.mkdir(parents=True)
    os.chmod(tmp_path, 0o755)
    os.chown(area, 0, CLIENT_GID)
    os.chmod(area, 0o750)
    os.chown(area / "ds", 0, CLIENT_GID)
    os.chmod(area / "ds", 0o1770)
    os.chown(chain, CLIENT_UID, CLIENT_GID)  # the client made it with rsync --mkpath
    vol = chain / "duplicity-full.20261129T010000Z.vol1.difftar.gz"
    vol.write_bytes(b"backup")
    os.chown(vol, CLIENT_UID, CLIENT_GID)
    (chain / "evil").symlink_to("/etc")
    os.lchown(chain / "evil", CLIENT_UID, CLIENT_GID)

    assert program["seal_area"](str(area), {CLIENT_UID}, CLIENT_GID) == 1
    st = vol.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (0, CLIENT_GID, 0o440)
    assert (chain.stat().st_uid, chain.stat().st_mode & 0o7777) == (0, 0o1770)
    assert not (chain / "evil").is_symlink()

    attempts = {
        "delete": lambda: os.unlink(vol),
        "rename": lambda: os.rename(vol, chain / "moved"),
        "overwrite": lambda: open(vol, "wb").close(),
        "truncate": lambda: os.truncate(vol, 0),
        "chmod": lambda: os.chmod(vol, 0o666),
        "replace": lambda: (open(chain / "new", "wb").close(), os.rename(chain / "new", vol)),
        "remove the directory": lambda: os.rename(chain, area / "ds" / "gone"),
    }
    refused = {name: as_client(fn) for name, fn in attempts.items()}
    assert all(code in (errno.EPERM, errno.EACCES) for code in refused.values()), refused
    assert vol.read_bytes() == b"backup"
    assert as_client(lambda: open(chain / "duplicity-inc.new", "wb").close()) == 0  # adding still works
    assert as_client(vol.read_bytes) == 0  # and reading (restore, verify)


@root_only
def test_sealing_leaves_other_owners_and_hard_links_alone(program, tmp_path):
    area = tmp_path / "fs"
    area.mkdir()
    other = area / "other-owner"
    other.write_text("x")
    os.chown(other, 12345, 12345)
    linked = area / "linked"
    linked.write_text("y")
    os.chown(linked, CLIENT_UID, CLIENT_GID)
    os.link(linked, tmp_path / "second-name")
    assert program["seal_area"](str(area), {CLIENT_UID}, CLIENT_GID) == 0
    assert other.stat().st_uid == 12345 and linked.stat().st_uid == CLIENT_UID


def stamp(day, hour=1):
    return f"202611{day:02d}T{hour:02d}0000Z"


def full(day):
    return [f"duplicity-full.{stamp(day)}.vol1.difftar.gpg", f"duplicity-full.{stamp(day)}.manifest.gpg",
            f"duplicity-full-signatures.{stamp(day)}.sigtar.gpg"]


def inc(day_from, day_to):
    a, b = stamp(day_from), stamp(day_to)
    return [f"duplicity-inc.{a}.to.{b}.vol1.difftar.gpg", f"duplicity-inc.{a}.to.{b}.manifest.gpg",
            f"duplicity-new-signatures.{a}.to.{b}.sigtar.gpg"]


@pytest.mark.parametrize(("files", "keep", "removed"), [
    (full(1) + inc(1, 2) + full(3) + inc(3, 4), 1, full(1) + inc(1, 2)),
    (full(1) + inc(1, 2) + full(3) + inc(3, 4), 2, []),
    (full(1) + full(2) + full(3), 1, full(1) + full(2)),
    (full(1) + inc(1, 2) + ["unrelated.txt"], 1, []),
    ([], 4, []),
])
def test_retention_keeps_the_newest_full_chains(program, tmp_path, files, keep, removed):
    for name in files:
        (tmp_path / name).write_text("x")
    assert sorted(program["prune"](str(tmp_path), keep)) == sorted(removed)
    assert sorted(os.listdir(tmp_path)) == sorted(set(files) - set(removed))


def test_retention_takes_the_manifests_of_the_sets_it_removed(program, tmp_path):
    chain, manifests = tmp_path / "chain", tmp_path / "manifests"
    chain.mkdir()
    manifests.mkdir()
    for name in full(1) + inc(1, 2) + full(3):
        (chain / name).write_text("x")
    kept_annual = "20260901T010000Z.json.gpg"  # a yearly full's manifest: never a chain's
    for name in (f"{stamp(1)}.json.gpg", f"{stamp(2)}.json.gpg", f"{stamp(3)}.json.gpg", kept_annual):
        (manifests / name).write_text("x")
    removed = program["prune"](str(chain), 1)
    assert sorted(program["prune_manifests"](str(manifests), removed)) == [f"{stamp(1)}.json.gpg",
                                                                           f"{stamp(2)}.json.gpg"]
    assert sorted(os.listdir(manifests)) == sorted([f"{stamp(3)}.json.gpg", kept_annual])


def test_each_client_of_each_target_gets_its_own_user():
    users = {receiver_layout.client_user(t, c) for t in ("nas", "offsite") for c in ("fs", "pc")}
    assert len(users) == 4 and all(len(u) <= 32 for u in users)
    long = receiver_layout.client_user("offsite", "a-very-long-host-name.school.example")
    assert len(long) <= 32 and long.startswith("ivpb-")


@pytest.mark.parametrize("key", [
    "rm -rf /",
    KEY + "\nssh-ed25519 AAAA other",
    'command="/bin/sh" ' + KEY,
    KEY.replace("ivpb-backup@fs", 'x" ,no-restrict'),
])
def test_a_key_line_cannot_carry_options_or_a_second_key(key):
    with pytest.raises(ModuleFailure):
        br.authorized_line(key)


def test_a_key_line_is_restricted_to_the_gate():
    assert br.authorized_line(KEY) == f'restrict,command="{receiver_program.PATH} gate" {KEY}\n'


@pytest.mark.parametrize(("params", "message"), [
    ({"clients": [{"client": "fs", "target": "nas", "datasets": {"../x": {}}}]}, "clients[0].datasets"),
    ({"clients": [{"client": "fs/../x", "target": "nas"}]}, "clients[0].client"),
    ({"targets": [{"name": "nas", "path": "/srv/../etc"}]}, "targets.nas.path"),
    ({"clients": [{"client": "fs", "target": "elsewhere"}]}, "not a target on this host"),
    ({"clients": [{"client": "fs", "target": "nas", "datasets": {"ds": {"keep_full": 0}}}]}, "keep_full"),
])
def test_receiver_module_refuses_bad_input_in_one_line(module_main, params, message):
    base = {"hostname": "nas", "targets": [{"name": "nas", "path": "/srv/backup"}], "install_packages": False}
    with pytest.raises(Fail) as exc:
        module_main(backup_receiver, {**base, **params}, check_mode=True)
    msg = exc.value.args[0]["msg"]
    assert message in msg and "\n" not in msg


def test_receiver_module_check_mode_changes_nothing(module_main, tmp_path):
    with pytest.raises(Exit) as exc:
        module_main(backup_receiver, {
            "hostname": "nas", "targets": [{"name": "nas", "path": str(tmp_path / "b")}],
            "clients": [{"client": "fs", "target": "nas", "datasets": {"ds": {"keep_full": 2}}}],
            "keys": {"fs": KEY}, "install_packages": False}, check_mode=True, root=tmp_path / "host")
    res = exc.value.args[0]
    assert res["changed"] and res["clients"] == ["fs"] and res["authorized"] == ["fs"]
    assert not (tmp_path / "b").exists()


def test_retention_never_follows_a_link_a_client_planted(program, tmp_path):
    """A client may create the last component of <ds>/chain itself: a link to another client's
    chain must not make root prune that chain."""
    other = tmp_path / "other-client-chain"
    other.mkdir()
    for name in full(1) + full(2):
        (other / name).write_text("x")
    (tmp_path / "chain").symlink_to(other)
    assert program["prune"](str(tmp_path / "chain"), 1) == []
    assert sorted(os.listdir(other)) == sorted(full(1) + full(2))


def test_maintenance_prunes_the_offsite_copys_manifests_with_its_sync_chains(program, tmp_path, monkeypatch):
    """Each offsite sync stores a manifest in <ds>/sync-manifests (issue #16); retention of the
    sync chains takes those of the sets it removed, and never a backup chain's manifest."""
    ds = tmp_path / "area" / "ds"
    for sub in ("chain", "manifests", "sync", "sync-manifests"):
        (ds / sub).mkdir(parents=True)
    for name in full(1) + inc(1, 2) + full(3) + full(5):
        (ds / "sync" / name).write_text("x")
    for name in full(1) + inc(1, 2):
        (ds / "chain" / name).write_text("x")
    for day in (1, 2, 3, 5):
        (ds / "sync-manifests" / f"{stamp(day)}.json").write_text("x")
    for day in (1, 2):  # the backup chain's own manifests, with the same stamps
        (ds / "manifests" / f"{stamp(day)}.json").write_text("x")
    logs = []
    monkeypatch.setitem(program, "clients", lambda: {"u": {"area": str(tmp_path / "area"), "client": "c",
                                                           "datasets": {"ds": {"keep_full": 4, "sync_keep_full": 2}}}})
    monkeypatch.setitem(program, "seal_entry", lambda user, entry: None)
    monkeypatch.setitem(program, "log", lambda prio, msg: logs.append(msg))
    program["maint"]()
    assert sorted(os.listdir(ds / "sync-manifests")) == [f"{stamp(3)}.json", f"{stamp(5)}.json"]
    assert sorted(os.listdir(ds / "manifests")) == [f"{stamp(1)}.json", f"{stamp(2)}.json"]
    assert sorted(os.listdir(ds / "sync")) == sorted(full(3) + full(5))
    assert logs == ["retention removed 8 file(s) of client c"]
