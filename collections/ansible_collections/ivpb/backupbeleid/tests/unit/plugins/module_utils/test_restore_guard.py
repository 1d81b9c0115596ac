"""The restore guard (restore_guard.py as host_program ships it, issue #22) on hostile duplicity volumes built here
with Python's tarfile, as a hostile receiver (or a client, through its newest sealed chain)
could write them: duplicity 0.8 writes a file `a/x` through a symbolic link `a`, and the SHA1s
it checks sit in the same attacker-written manifests. No duplicity needed: the guard reads the
volumes itself, before any restore."""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import host_program, restore_guard

PROGRAM = host_program.text(restore_guard)  # what the hosts and ivpb restore run
FULL = "20261129T220000Z"
INC = "20261130T220000Z"


def entry(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", link: str = "", mode: int = 0o644):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.linkname, info.size = kind, mode, link, len(data) if kind == tarfile.REGTYPE else 0
    return info, data


def volume(folder: Path, name: str, entries) -> None:
    with tarfile.open(folder / name, "w:gz", format=tarfile.GNU_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if info.size else None)


def full(folder: Path, *entries, stamp: str = FULL) -> None:
    (folder / f"duplicity-full.{stamp}.manifest").write_text("Volume 1:\n")
    (folder / f"duplicity-full-signatures.{stamp}.sigtar.gz").write_bytes(b"")
    volume(folder, f"duplicity-full.{stamp}.vol1.difftar.gz", [entry("snapshot/.", tarfile.DIRTYPE, mode=0o755),
                                                               *entries])


def inc(folder: Path, start: str, end: str, *entries) -> None:
    stem = f"duplicity-inc.{start}.to.{end}"
    (folder / f"{stem}.manifest").write_text("Volume 1:\n")
    (folder / f"duplicity-new-signatures.{start}.to.{end}.sigtar.gz").write_bytes(b"")
    volume(folder, f"{stem}.vol1.difftar.gz", [entry("snapshot/.", tarfile.DIRTYPE, mode=0o755), *entries])


def scan(folder: Path, stamp: str = FULL) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROGRAM, "scan", str(folder), stamp], capture_output=True,
                          text=True, check=False)


def test_an_ordinary_chain_passes_and_only_its_scanned_sets_stay(tmp_path):
    full(tmp_path, entry("snapshot/sub", tarfile.DIRTYPE), entry("snapshot/sub/f", data=b"hi\n", mode=0o4755),
         entry("snapshot/lnk", tarfile.SYMTYPE, link="/etc"), entry("multivol_snapshot/big/1", data=b"x" * 10),
         entry("multivol_snapshot/big/2", data=b"y"))
    # the link becomes a folder with a file in it: fine, the link is gone before the file is written
    inc(tmp_path, FULL, INC, entry("snapshot/lnk", tarfile.DIRTYPE), entry("snapshot/lnk/new", data=b"n"),
        entry("diff/sub/f", data=b"delta"), entry("deleted/big"))
    inc(tmp_path, INC, "20261201T220000Z", entry("snapshot/later", data=b"l"))
    (tmp_path / "stray.txt").write_text("not duplicity's")
    proc = scan(tmp_path, INC)
    assert proc.returncode == 0 and proc.stdout == (
        "11 entries in 2 volume(s) of 2 set(s) scanned: nothing leaves the folder\n"), proc.stdout + proc.stderr
    left = sorted(p.name for p in tmp_path.iterdir())
    assert not any("20261201" in n for n in left) and "stray.txt" not in left and len(left) == 6, left


@pytest.mark.parametrize(("entries", "said"), [
    ([entry("snapshot/a", tarfile.SYMTYPE, link="/etc/cron.d"), entry("snapshot/a/x", data=b"* * * * * root id\n")],
     "'a/x' lies below the symbolic link 'a'"),
    ([entry("snapshot/a/x", data=b"first\n"), entry("snapshot/a", tarfile.SYMTYPE, link="/etc/cron.d")],
     "'a/x' lies below the symbolic link 'a'"),  # order in the archive does not matter
    ([entry("snapshot/d", tarfile.DIRTYPE), entry("snapshot/d/l", tarfile.SYMTYPE, link="../../.."),
      entry("multivol_snapshot/d/l/passwd/1", data=b"x")], "'d/l/passwd' lies below the symbolic link 'd/l'"),
    ([entry("snapshot/h", tarfile.LNKTYPE, link="/etc/shadow")], "is a hard link (to '/etc/shadow')"),
    ([entry("snapshot/dev", tarfile.CHRTYPE)], "is a device file"),
    ([entry("snapshot/disk", tarfile.BLKTYPE)], "is a device file"),
    ([entry("snapshot/pipe", tarfile.FIFOTYPE)], "is a fifo"),
    ([entry("snapshot/../../etc/cron.d/x", data=b"x")], "passes '..'"),
    ([entry("snapshot//etc/cron.d/x", data=b"x")], "is an absolute path"),
    ([entry("/etc/cron.d/x", data=b"x")], "is none duplicity writes"),
    ([entry("snapshot/x", data=b"1"), entry("snapshot/x", tarfile.SYMTYPE, link="/etc")], "appears twice in one set"),
])
def test_a_hostile_full_is_refused_naming_its_volume_and_entry(tmp_path, entries, said):
    full(tmp_path, *entries)
    proc = scan(tmp_path)
    assert proc.returncode == 1 and proc.stdout.startswith(f"refused: duplicity-full.{FULL}.vol1.difftar.gz: "), \
        proc.stdout + proc.stderr
    assert said in proc.stdout and "Traceback" not in proc.stderr, proc.stdout


def test_a_link_planted_by_an_increment_is_refused_across_the_chain(tmp_path):
    full(tmp_path, entry("snapshot/a", tarfile.DIRTYPE), entry("snapshot/a/x", data=b"old\n"))
    inc(tmp_path, FULL, INC, entry("snapshot/a", tarfile.SYMTYPE, link="/etc/cron.d"))  # a/x not deleted
    proc = scan(tmp_path, INC)
    assert proc.returncode == 1 and "'a/x' lies below the symbolic link 'a'" in proc.stdout, proc.stdout
    # the top folder itself a link: everything would land where it points
    other = tmp_path / "top"
    other.mkdir()
    (other / f"duplicity-full.{FULL}.manifest").write_text("")
    volume(other, f"duplicity-full.{FULL}.vol1.difftar.gz",
           [entry("snapshot/.", tarfile.SYMTYPE, link="/etc"), entry("snapshot/cron.d", tarfile.DIRTYPE)])
    proc = scan(other)
    assert proc.returncode == 1 and "the top folder of the backup is no folder" in proc.stdout, proc.stdout


def test_no_full_or_a_broken_volume_is_one_line(tmp_path):
    proc = scan(tmp_path)
    assert (proc.returncode, proc.stdout) == (1, f"refused: no full backup at or before {FULL}\n")
    (tmp_path / f"duplicity-full.{FULL}.manifest").write_text("")
    (tmp_path / f"duplicity-full.{FULL}.vol1.difftar.gz").write_bytes(b"not a tar")
    proc = scan(tmp_path)
    assert proc.returncode == 1 and proc.stdout.startswith("refused: a volume cannot be read") and not proc.stderr
    assert subprocess.run([sys.executable, "-c", PROGRAM, "scan", str(tmp_path), "yesterday"],
                          capture_output=True, check=False).returncode == 2


def test_a_night_without_changes_is_an_increment_of_no_bytes_and_passes(tmp_path):
    """duplicity writes an incremental volume that holds no bytes at all (gzip of nothing) when
    nothing changed; a data set that did not change all week must still pass its verify."""
    full(tmp_path, entry("snapshot/a.txt", data=b"a"))
    stem = f"duplicity-inc.{FULL}.to.{INC}"
    (tmp_path / f"{stem}.manifest").write_text("Volume 1:\n")
    (tmp_path / f"duplicity-new-signatures.{FULL}.to.{INC}.sigtar.gz").write_bytes(b"")
    with gzip.open(tmp_path / f"{stem}.vol1.difftar.gz", "wb"):
        pass
    proc = scan(tmp_path, INC)
    assert proc.returncode == 0 and "nothing leaves the folder" in proc.stdout, proc.stdout + proc.stderr
    # a volume that is no tar at all is still refused
    with gzip.open(tmp_path / f"{stem}.vol1.difftar.gz", "wb") as f:
        f.write(b"not a tar archive, but some bytes" * 20)
    proc = scan(tmp_path, INC)
    assert proc.returncode == 1 and "cannot be read as a tar archive" in proc.stdout, proc.stdout
