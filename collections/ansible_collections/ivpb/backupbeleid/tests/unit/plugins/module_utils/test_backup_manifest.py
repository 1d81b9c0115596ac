"""The manifest program (backup_manifest.py as host_program ships it, issue #16) on real files with the kernel's own
ctime: what it writes, and how it judges a restored tree. The "backup" here is a copy of the
source taken after the start time was read, like duplicity's read in the job; a change made
after that copy and before the manifest is written is the race the manifest must survive."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import backup_manifest, host_program
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.backup_manifest import FORMAT
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.backup_script import SCRIPT

PROGRAM = host_program.text(backup_manifest)  # what the hosts and ivpb restore run


def tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROGRAM, *args], capture_output=True, text=True, check=False)


def write(src: Path, out: Path, started_ns: int, cache: Path) -> dict:
    proc = tool("write", str(src), "ds", "srv1", "chain", "2026-11-29T22:00:00Z", "", str(started_ns), str(cache))
    assert proc.returncode == 0, proc.stderr
    out.write_text(proc.stdout)
    return json.loads(proc.stdout)


def check(manifest: Path, tree: Path, *sample: str) -> tuple[int, dict]:
    proc = tool("check", str(manifest), str(tree), *sample)
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture
def source(tmp_path):
    src = tmp_path / "src"
    (src / "sub dir").mkdir(parents=True)
    (src / "sub dir" / "file with blanks.txt").write_text("naam met spaties\n")
    (src / "random.bin").write_bytes(os.urandom(50000))
    (src / "sub dir" / "\u00e9t\u00e9.txt").write_text("zomer\n")
    (src / "keep.txt").write_text("untouched\n")
    old = time.time() - 3600  # made an hour ago (mtime); ctime is now, so start the backup later
    for p in src.rglob("*"):
        os.utime(p, (old, old))
    return src


def backup(src: Path, tmp_path: Path) -> tuple[int, Path]:
    """Start time, then the backup's read of the source (a copy, as duplicity restores it)."""
    time.sleep(2.1)  # past the 2 s margin for coarse timestamps: the fixture's files are settled
    started = time.time_ns()
    saved = tmp_path / "restored"
    shutil.copytree(src, saved, copy_function=shutil.copy2)
    return started, saved


def test_a_file_changed_during_the_backup_is_counted_never_a_failure(source, tmp_path):
    started, restored = backup(source, tmp_path)
    # between duplicity's read and the manifest: changed, added, removed
    (source / "random.bin").write_bytes(os.urandom(1000))
    (source / "sub dir" / "new.txt").write_text("new\n")
    (source / "sub dir" / "file with blanks.txt").unlink()
    doc = write(source, tmp_path / "m.json", started, tmp_path / "cache")
    assert doc["format"] == FORMAT and doc["started_ns"] == started and doc["files"] == 4
    assert {e["path"] for e in doc["entries"] if e.get("dir")} == {".", "sub dir"}
    rc, r = check(tmp_path / "m.json", restored)
    assert rc == 0 and r["problems"] == [], r
    assert r["changed"] == 3 and r["changed_paths"] == ["random.bin", "sub dir/file with blanks.txt",
                                                        "sub dir/new.txt"]
    assert r["files"] == 2  # keep.txt and été.txt, byte for byte
    line = tool("line", str(tmp_path / "m.json"), str(restored))
    assert line.returncode == 0 and "2 files" in line.stdout and "3 changed during the backup" in line.stdout


def test_a_file_untouched_since_before_the_backup_must_match_exactly(source, tmp_path):
    started, restored = backup(source, tmp_path)
    (source / "random.bin").write_bytes(os.urandom(1000))  # changed during the backup: allowed
    write(source, tmp_path / "m.json", started, tmp_path / "cache")
    (restored / "keep.txt").write_text("altered\n")  # a volume that restores other bytes
    (restored / "sub dir" / "\u00e9t\u00e9.txt").unlink()
    (restored / "planted.txt").write_text("x\n")  # in a directory nobody changed during the backup
    rc, r = check(tmp_path / "m.json", restored)
    assert rc == 1 and r["changed"] == 1, r
    assert r["problems"] == ["1 file(s) missing (m.json): 'sub dir/\u00e9t\u00e9.txt'",
                             "1 file(s) differ (m.json): 'keep.txt'",
                             "1 file(s) not in the manifest (m.json): 'planted.txt'"]
    line = tool("line", str(tmp_path / "m.json"), str(restored))
    assert line.returncode == 1 and line.stdout.startswith("1 file(s) missing")


def test_a_tampered_manifest_fails_and_an_older_manifest_is_judged_strictly(source, tmp_path):
    started, restored = backup(source, tmp_path)
    doc = write(source, tmp_path / "m.json", started, tmp_path / "cache")
    assert check(tmp_path / "m.json", restored) == (0, {"files": 4, "bytes": doc["bytes"], "changed": 0,
                                                        "changed_paths": [], "problems": []})
    keep = next(e for e in doc["entries"] if e["path"] == "keep.txt")
    keep["sha256"] = "0" * 64
    (tmp_path / "t.json").write_text(json.dumps(doc))
    rc, r = check(tmp_path / "t.json", restored)
    assert rc == 1 and r["problems"] == ["1 file(s) differ (t.json): 'keep.txt'"]
    (tmp_path / "bad.json").write_text("{not json")
    bad = tool("line", str(tmp_path / "bad.json"), str(restored))
    assert bad.returncode == 1 and "not a valid manifest" in bad.stderr
    # ivpb-manifest/1 (before #16's ctimes): every entry must match
    v1 = {"format": "ivpb-manifest/1", "entries": [{"path": e["path"], "size": e["size"], "sha256": e["sha256"]}
                                                   for e in json.loads((tmp_path / "m.json").read_text())["entries"]
                                                   if not e.get("dir")]}
    (tmp_path / "v1.json").write_text(json.dumps(v1))
    assert check(tmp_path / "v1.json", restored)[0] == 0
    (restored / "random.bin").write_bytes(b"other")
    assert check(tmp_path / "v1.json", restored)[1]["problems"] == ["1 file(s) differ (v1.json): 'random.bin'"]


def test_a_sample_is_checked_alone(source, tmp_path):
    started, restored = backup(source, tmp_path)
    write(source, tmp_path / "m.json", started, tmp_path / "cache")
    part = tmp_path / "part"
    (part / "sub dir").mkdir(parents=True)
    for name in ("file with blanks.txt", "\u00e9t\u00e9.txt"):
        shutil.copy2(restored / "sub dir" / name, part / "sub dir" / name)
    rc, r = check(tmp_path / "m.json", part, "sub dir")
    assert rc == 0 and r["files"] == 2 and r["problems"] == []


def test_the_hash_cache_skips_unchanged_files_and_never_a_changed_one(source, tmp_path):
    cache = tmp_path / "cache"
    write(source, tmp_path / "m1.json", time.time_ns(), cache)
    with sqlite3.connect(cache) as db:  # a planted hash shows the cache is what the next run uses
        db.execute("UPDATE h SET sha = ? WHERE path = 'keep.txt'", ("c" * 64,))
        db.execute("UPDATE h SET sha = ? WHERE path = 'random.bin'", ("c" * 64,))
    db.close()
    # random.bin rewritten with the same size and its old mtime put back: only its ctime moved
    st = os.stat(source / "random.bin")
    (source / "random.bin").write_bytes(os.urandom(st.st_size))
    os.utime(source / "random.bin", ns=(st.st_atime_ns, st.st_mtime_ns))
    entries = {e["path"]: e for e in write(source, tmp_path / "m2.json", time.time_ns(), cache)["entries"]}
    assert entries["keep.txt"]["sha256"] == "c" * 64
    assert entries["random.bin"]["sha256"] != "c" * 64
    assert not (tmp_path / "cache.new").exists()


def test_the_job_script_carries_this_very_program():
    assert PROGRAM.strip("\n") in SCRIPT and "@MANIFEST_PROGRAM@" not in SCRIPT


def special_source(source: Path) -> Path:
    """The fixture's source plus what a restore must judge by type and mode (issue #22): a
    symbolic link pointing outside the data set, a setuid program, a private file, a shared
    folder."""
    (source / "naar etc").symlink_to("/etc")
    (source / "sub dir" / "tool").write_bytes(b"#!/bin/sh\n")
    (source / "sub dir" / "tool").chmod(0o4755)
    (source / "geheim.txt").write_text("alleen de eigenaar\n")
    (source / "geheim.txt").chmod(0o600)
    (source / "gedeeld").mkdir()
    (source / "gedeeld").chmod(0o2775)  # a shared folder's setgid bit: a mode, never refused as such
    return source


def backup_keeping_links(src: Path, tmp_path: Path) -> tuple[int, Path]:
    time.sleep(2.1)
    started = time.time_ns()
    saved = tmp_path / "restored"
    shutil.copytree(src, saved, symlinks=True, copy_function=shutil.copy2)
    return started, saved


def test_every_entry_is_recorded_with_type_and_mode_and_the_restore_is_walked_without_following_links(
        source, tmp_path):
    started, restored = backup_keeping_links(special_source(source), tmp_path)
    doc = write(source, tmp_path / "m.json", started, tmp_path / "cache")
    entries = {e["path"]: e for e in doc["entries"]}
    assert {k: entries["naar etc"][k] for k in ("type", "target")} == {"type": "link", "target": "/etc"}
    assert (entries["sub dir/tool"]["type"], entries["sub dir/tool"]["mode"]) == ("file", 0o4755)
    assert entries["geheim.txt"]["mode"] == 0o600 and entries["gedeeld"]["mode"] == 0o2775
    assert check(tmp_path / "m.json", restored)[0] == 0  # the listed setuid bit and link pass
    # a link pointed elsewhere, one planted, a mode widened, a setuid bit added, a fifo
    (restored / "naar etc").unlink()
    (restored / "naar etc").symlink_to("/etc/cron.d")
    (restored / "sub dir" / "planted").symlink_to("/root/.ssh")
    (restored / "geheim.txt").chmod(0o666)
    (restored / "keep.txt").chmod(0o4755)
    os.mkfifo(restored / "sub dir" / "pipe")
    rc, r = check(tmp_path / "m.json", restored)
    assert rc == 1 and r["problems"] == [
        "3 file(s) differ (m.json): 'geheim.txt', 'keep.txt', 'naar etc'",
        "1 file(s) not in the manifest (m.json): 'sub dir/planted'",
        "1 file(s) with a setuid or setgid bit the manifest does not list (m.json): 'keep.txt'",
        "1 file(s) that are device files, fifos or sockets (refused) (m.json): 'sub dir/pipe'"], r
    assert (restored / "naar etc").is_symlink()  # judged by lstat, never through the link


def test_a_manifest_without_types_is_strict_about_links_setuid_and_devices(source, tmp_path):
    started, restored = backup_keeping_links(special_source(source), tmp_path)
    doc = write(source, tmp_path / "m.json", started, tmp_path / "cache")
    v2 = {**doc, "format": "ivpb-manifest/2",
          "entries": [{k: v for k, v in e.items() if k not in ("type", "mode", "target")}
                      for e in doc["entries"] if e["type"] != "link"]}
    (tmp_path / "v2.json").write_text(json.dumps(v2))
    rc, r = check(tmp_path / "v2.json", restored)
    assert rc == 1 and r["problems"] == [
        "1 file(s) not in the manifest (v2.json): 'naar etc'",
        "1 file(s) with a setuid or setgid bit the manifest does not list (v2.json): 'sub dir/tool'"], r
    assert r["files"] == 6  # the contents still match
