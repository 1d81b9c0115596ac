"""§4 receiver (issues #12, #22): the kernel is the wall. Sealing is run for real on real files, and a
process of the client's uid then tries to damage what was sealed; retention and the receiver's
word (protected) run the shipped program over real directory trees with arrival stamps set
from a fixed NOW; the module's own input checks and check mode. The gate: test_receiver_gate.py."""

from __future__ import annotations

import calendar
import errno
import os
import re
import shutil
import tempfile
import time
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


NOW = calendar.timegm((2026, 12, 1, 12, 0, 0))
DAY = 86400


@pytest.fixture
def program(monkeypatch):
    """The shipped program's functions and constants, by name; "sealed" means owned by whoever
    runs the tests (root seals for real)."""
    monkeypatch.setattr(receiver_program, "SEALED_UID", os.geteuid())
    monkeypatch.setattr(receiver_program, "now", lambda: NOW)
    return vars(receiver_program)


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
def test_sealing_leaves_other_owners_alone_and_seals_a_copy_of_a_linked_file(program, tmp_path):
    """A file uploaded with a second name stays writable through that name: the seal replaces
    the name in the area with a sealed copy instead of skipping it."""
    area = tmp_path / "fs"
    area.mkdir()
    other = area / "other-owner"
    other.write_text("x")
    os.chown(other, 12345, 12345)
    linked = area / "duplicity-full.20261129T010000Z.manifest"
    linked.write_text("y")
    os.chown(linked, CLIENT_UID, CLIENT_GID)
    os.link(linked, tmp_path / "second-name")
    assert program["seal_area"](str(area), {CLIENT_UID}, CLIENT_GID) == 1
    st = linked.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777, st.st_nlink) == (0, CLIENT_GID, 0o440, 1)
    (tmp_path / "second-name").write_text("changed through the other name")
    assert linked.read_text() == "y" and other.stat().st_uid == 12345
    assert sorted(os.listdir(area)) == sorted([other.name, linked.name])  # no copy left beside it


@root_only
def test_the_seal_stamps_each_file_with_its_arrival_on_this_host(program, tmp_path):
    """The arrival stamp (shared with ivpb restore): a sealed file's mtime is the receiver's
    clock at sealing, whatever the client set; files sealed before keep theirs."""
    area = tmp_path / "fs"
    area.mkdir()
    new, old = area / "new", area / "old"
    for f in (new, old):
        f.write_text("x")
    os.chown(new, CLIENT_UID, CLIENT_GID)
    os.utime(new, (4102444800, 4102444800))  # the client set 2100-01-01
    os.utime(old, (NOW - DAY, NOW - DAY))  # root's: sealed yesterday
    assert program["seal_area"](str(area), {CLIENT_UID}, CLIENT_GID) == 1
    assert (new.stat().st_mtime, old.stat().st_mtime) == (NOW, NOW - DAY)


def stamp(day, hour=1):
    return f"202611{day:02d}T{hour:02d}0000Z"


def put(directory, names, arrival, data=b"x"):
    """Files as the seal leaves them: owned by the sealing user, mtime = arrival."""
    for name in names:
        path = Path(directory) / name
        path.write_bytes(data)
        os.utime(path, (arrival, arrival))


def arrived(day):
    """Arrival of the backup named for `day` of November 2026: an hour after its name."""
    return calendar.timegm(time.strptime(stamp(day), "%Y%m%dT%H%M%SZ")) + 3600


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
        days = re.findall(r"202611(\d\d)T", name)  # an increment arrives after its last day
        put(tmp_path, [name], arrived(int(days[-1]) if days else 1))
    assert sorted(program["prune"](str(tmp_path), keep, 0, NOW)) == sorted(removed)
    assert sorted(os.listdir(tmp_path)) == sorted(set(files) - set(removed))


def test_retention_takes_the_manifests_of_the_sets_it_removed(program, tmp_path):
    chain, manifests = tmp_path / "chain", tmp_path / "manifests"
    chain.mkdir()
    manifests.mkdir()
    for day, names in ((1, full(1)), (2, inc(1, 2)), (3, full(3))):
        put(chain, names, arrived(day))
    kept_annual = "20260901T010000Z.json.gpg"  # a yearly full's manifest: never a chain's
    for name in (f"{stamp(1)}.json.gpg", f"{stamp(2)}.json.gpg", f"{stamp(3)}.json.gpg", kept_annual):
        (manifests / name).write_text("x")
    removed = program["prune"](str(chain), 1, 0, NOW)
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
    put(other, full(1), arrived(1))
    put(other, full(2), arrived(2))
    (tmp_path / "chain").symlink_to(other)
    assert program["prune"](str(tmp_path / "chain"), 1, 0, NOW) == []
    assert sorted(os.listdir(other)) == sorted(full(1) + full(2))


def test_maintenance_prunes_the_offsite_copys_manifests_with_its_sync_chains(program, tmp_path, monkeypatch):
    """Each offsite sync stores a manifest in <ds>/sync-manifests (issue #16); retention of the
    sync chains takes those of the sets it removed, and never a backup chain's manifest."""
    ds = tmp_path / "area" / "ds"
    for sub in ("chain", "manifests", "sync", "sync-manifests"):
        (ds / sub).mkdir(parents=True)
    for day, names in ((1, full(1)), (2, inc(1, 2)), (3, full(3)), (5, full(5))):
        put(ds / "sync", names, arrived(day))
    put(ds / "chain", full(1), arrived(1))
    put(ds / "chain", inc(1, 2), arrived(2))
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


def run_maint(program, monkeypatch, areas, seal=None):
    """maint() over areas {client: (area, {ds: rules})}; the logs it wrote."""
    logs = []
    monkeypatch.setitem(program, "clients", lambda: {
        f"u-{c}": {"area": str(a), "client": c, "datasets": ds} for c, (a, ds) in areas.items()})
    monkeypatch.setitem(program, "seal_entry", seal or (lambda user, entry: None))
    monkeypatch.setitem(program, "log", lambda prio, msg: logs.append(msg))
    program["maint"]()
    return logs


def real_chains(chain):
    """Four complete chains, November 2026, each with an increment."""
    for day in (1, 3, 5, 7):
        put(chain, full(day), arrived(day))
        put(chain, inc(day, day + 1), arrived(day + 1))
    return sorted(os.listdir(chain))


FUTURE = "20991231T235959Z"


def forged(chain):
    """What a client can upload in a minute: five empty fulls dated in the future, five complete
    looking ones dated in the future, an empty file named 'now', an empty manifest of today."""
    for year in range(2095, 2100):
        put(chain, [f"duplicity-full.{year}0101T000000Z.manifest"], NOW, b"")
        put(chain, [f"duplicity-full.{year}0601T000000Z.{p}" for p in ("manifest.gpg", "vol1.difftar.gpg")]
            + [f"duplicity-full-signatures.{year}0601T000000Z.sigtar.gpg"], NOW)
    put(chain, ["now", "duplicity-full.20261201T110000Z.manifest"], NOW, b"")


@root_only
def test_future_named_and_empty_manifests_change_neither_retention_nor_protection(program, tmp_path, monkeypatch):
    """Reported: five empty future-named manifests made maintenance delete every real chain, and
    an empty file made backup.daily compliant. Only complete generations count, by arrival."""
    area = tmp_path / "fs"
    chain = area / "ds" / "chain"
    chain.mkdir(parents=True)
    real = real_chains(chain)
    entry = {"area": str(area), "client": "fs", "datasets": {"ds": {}}}
    before = br.protected(entry)
    assert before == {"ds": "2026-11-08T02:00:00Z"}  # the arrival of the newest increment
    forged(chain)
    assert br.protected(entry) == before
    logs = run_maint(program, monkeypatch, {"fs": (area, {"ds": {"keep_full": 4, "sync_keep_full": 2}})})
    assert set(real) <= set(os.listdir(chain))
    assert not any("retention removed" in line for line in logs)


def test_retention_orders_chains_by_arrival_not_by_name(program, tmp_path):
    """A full named after a newer one (the client's clock set back) does not push a real chain
    out, nor does a full whose name is dated ahead of its arrival."""
    real = real_chains(tmp_path)
    put(tmp_path, full(6), arrived(9))  # dated inside the chain of day 5, arrived after day 7's
    put(tmp_path, [n.replace(stamp(1), FUTURE) for n in full(1)], arrived(9))
    assert program["prune"](str(tmp_path), 4, 0, NOW) == []
    assert set(real) <= set(os.listdir(tmp_path))
    assert program["newest"](str(tmp_path), NOW) == arrived(8)


def test_an_incomplete_generation_does_not_count(program, tmp_path):
    """Plain manifest listing volume 2 while only volume 1 arrived; encrypted set with a gap in
    its volumes; a set without signatures: none is protected, none makes room."""
    put(tmp_path, full(1), arrived(1))
    t3 = stamp(3)
    put(tmp_path, [f"duplicity-full.{t3}.vol1.difftar.gz", f"duplicity-full-signatures.{t3}.sigtar.gz"], arrived(3))
    put(tmp_path, [f"duplicity-full.{t3}.manifest"], arrived(3), b"Volume 1:\n x\nVolume 2:\n y\n")
    t4 = stamp(4)
    put(tmp_path, [f"duplicity-full.{t4}.vol1.difftar.gpg", f"duplicity-full.{t4}.vol3.difftar.gpg",
                   f"duplicity-full.{t4}.manifest.gpg", f"duplicity-full-signatures.{t4}.sigtar.gpg"], arrived(4))
    put(tmp_path, [n for n in full(5) if "signatures" not in n], arrived(5))
    assert program["newest"](str(tmp_path), NOW) == arrived(1)
    assert program["prune"](str(tmp_path), 1, 0, NOW) == []
    put(tmp_path, [f"duplicity-full.{t3}.vol2.difftar.gz"], arrived(6))  # now complete, by its last part
    assert program["newest"](str(tmp_path), NOW) == arrived(6)
    assert sorted(program["prune"](str(tmp_path), 1, 0, NOW)) == sorted(full(1))


def test_a_chain_younger_than_the_minimum_age_is_never_deleted(program, tmp_path, monkeypatch):
    """Reported: forcing several real fulls in minutes deleted the history. keep_full 1,
    min_age_days 7: the chain of 2 days ago stays, only the one of 30 days ago goes."""
    chain = tmp_path / "fs" / "ds" / "chain"
    chain.mkdir(parents=True)
    put(chain, full(1), NOW - 30 * DAY)
    put(chain, full(29), NOW - 2 * DAY)
    for minute in (1, 2, 3):  # three fulls forced within minutes, today
        put(chain, [n.replace(stamp(29), f"20261201T10{minute}000Z") for n in full(29)], NOW - 3600 + minute * 60)
    logs = run_maint(program, monkeypatch, {"fs": (tmp_path / "fs", {"ds": {
        "keep_full": 1, "sync_keep_full": 2, "min_age_days": 7}})})
    assert set(full(29)) <= set(os.listdir(chain)) and not set(full(1)) & set(os.listdir(chain))
    assert logs == ["retention removed 3 file(s) of client fs"]


def test_a_deep_tree_in_one_area_leaves_the_maintenance_of_the_others_intact(program, tmp_path, monkeypatch):
    """Reported: an 1,100-deep tree raised RecursionError and aborted maintenance for every client
    sorting after it. The walk is iterative and bounded; the deep area itself is maintained too."""
    deep, other = tmp_path / "a-deep", tmp_path / "b-other"
    deep.mkdir()
    fd = os.open(deep, os.O_RDONLY)
    for _level in range(1100):  # os.makedirs recurses too
        os.mkdir("d", dir_fd=fd)
        fd, parent = os.open("d", os.O_RDONLY, dir_fd=fd), fd
        os.close(parent)
    os.close(fd)
    for area in (deep, other):
        (area / "ds" / "chain").mkdir(parents=True)
        put(area / "ds" / "chain", full(1), arrived(1))
        put(area / "ds" / "chain", full(3), arrived(3))
    rules = {"ds": {"keep_full": 1, "sync_keep_full": 2}}
    try:
        logs = run_maint(program, monkeypatch, {"a-deep": (deep, rules), "b-other": (other, rules)},
                         seal=lambda user, entry: program["seal_area"](entry["area"], {CLIENT_UID}, CLIENT_GID))
    finally:  # pytest's own clean-up of tmp_path recurses: the tree goes here, from the bottom
        for level in range(1100, 0, -1):
            os.rmdir(os.path.join(deep, *["d"] * level))
    for area in (deep, other):
        assert sorted(os.listdir(area / "ds" / "chain")) == sorted(full(3))
    assert logs == [f"{deep}: a tree deeper than 64 levels is left unsealed",
                    "retention removed 3 file(s) of client a-deep", "retention removed 3 file(s) of client b-other"]


def test_a_failure_in_one_area_is_logged_and_the_others_are_maintained(program, tmp_path, monkeypatch):
    other = tmp_path / "b"
    (other / "ds" / "chain").mkdir(parents=True)
    put(other / "ds" / "chain", full(1), arrived(1))
    put(other / "ds" / "chain", full(3), arrived(3))
    rules = {"ds": {"keep_full": 1, "sync_keep_full": 2}}

    def seal(user, entry):
        if entry["client"] == "a":
            raise ValueError("broken")
    logs = run_maint(program, monkeypatch, {"a": (tmp_path / "a", rules), "b": (other, rules)}, seal=seal)
    assert logs == ["maintenance of client a failed: ValueError: broken", "retention removed 3 file(s) of client b"]
