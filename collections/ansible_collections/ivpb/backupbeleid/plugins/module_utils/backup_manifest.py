# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ivpb manifest of one backup (issue #16): written on the host by the job script after each
backup, yearly full and offsite sync, and checked against a restored tree both by the host's
weekly verify of plain data sets (issue #13) and by `ivpb restore` on the controller. One
program (Python 3, stdlib only) for both sides, so writer and checker cannot disagree; the job
script embeds it (backup_script), the controller runs the same text (ivpb.restore): a host
program, shipped as host_program.py says (TEXT below is host_program.text of this file).

    python3 -c TEXT write SOURCE DATASET HOST KIND STAMP SCHOOL_YEAR STARTED_NS CACHE > manifest
    python3 -c TEXT check MANIFEST TREE [SAMPLE]   JSON result; exit 1 when the tree fails it
    python3 -c TEXT line  MANIFEST TREE            one line for the job's log; exit 1 on failure

Why a manifest made after the backup can still describe what the backup saved: duplicity reads
the files while the school works with them, and the manifest is hashed from the source once
duplicity is done, so a file may change in between. Hashing during duplicity's own read is not
possible, and restoring the backup on the host to hash it is not either (no secret key for
encrypted data, and a daily full download). Instead each entry records the file's ctime. The
kernel sets ctime on every change of content or metadata and no program can set it back, so a
file whose ctime is older than the moment the backup started (STARTED_NS) was not touched from
before duplicity read it until it was hashed: its restore must match the manifest exactly, or
the check fails. A file with a newer ctime may have changed during the backup: when its restore
differs (or is missing) it is counted and listed as "changed during the backup", never a silent
pass and never a false failure. The same holds for a directory whose ctime is newer (a file
added, removed or renamed in it during the backup). mtime is not the criterion because any
program can set it (touch -d, cp -p, rsync -a) and duplicity itself keeps it in whole seconds.
MARGIN_NS covers file systems whose timestamps are coarse (the kernel's coarse clock, and whole
seconds on some file systems): a file changed within 2 s before the start counts as changed.

The hash cache (CACHE, root's, one per data set) keeps each file's sha256 with its inode, size,
mtime and ctime; a file whose four are unchanged is not read again (its ctime would have moved
with any write). So a manifest costs a walk of the source plus the changed files' bytes, which
is what makes a manifest per offsite sync affordable.

Every entry has its type (ivpb-manifest/3, issue #22): a folder and a file with their mode, a
file with its size and sha256, a symbolic link with its target (device files, fifos and sockets
are not listed: a restore refuses them). The check walks the restored tree by lstat, never
through a link, and compares all of it; a setuid or setgid bit passes only where the manifest
lists that very mode. Manifests of format /1 and /2 are still read, strictly: a link or a
setuid/setgid bit they cannot list is refused."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import sys

FORMAT = "ivpb-manifest/3"
FORMATS = ("ivpb-manifest/1", "ivpb-manifest/2", FORMAT)
MARGIN_NS = 2 * 10**9
LISTED = 5


def sha256_of(fd):
    h, size = hashlib.sha256(), 0
    for block in iter(lambda: os.read(fd, 1 << 20), b""):
        h.update(block)
        size += len(block)
    return h.hexdigest(), size


def key(st):
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def write(src, ds, host, kind, stamp, sy, started_ns, cache):
    """The manifest on stdout, entry by entry as the files are read (small memory for any size)."""
    started_ns = int(started_ns)
    new = cache + ".new"
    if os.path.exists(new):
        os.unlink(new)
    old = sqlite3.connect(cache) if os.path.exists(cache) else None
    db = sqlite3.connect(new)
    db.execute("CREATE TABLE h (path TEXT PRIMARY KEY, ino INT, size INT, mtime INT, ctime INT, sha TEXT)")
    out, dump = sys.stdout, json.dumps
    out.write("{" + dump({"format": FORMAT, "host": host, "dataset": ds, "source": src, "kind": kind,
                          "backup_time": stamp, "school_year": sy or None, "started_ns": started_ns})[1:-1]
              + ',"entries":[')
    first, files, total = True, 0, 0

    def emit(entry):
        nonlocal first
        out.write(("" if first else ",") + dump(entry, separators=(",", ":")))
        first = False

    cut = len(os.path.join(src, ""))  # relative paths by slicing: os.path.relpath costs a quarter of the run
    for root, dirs, names in os.walk(src):
        dirs.sort()
        try:
            st = os.lstat(root)
            emit({"path": root[cut:] or ".", "type": "dir", "dir": True, "mode": stat.S_IMODE(st.st_mode),
                  "ctime": st.st_ctime_ns})
        except FileNotFoundError:
            continue  # removed since the backup: its parent's ctime says so
        # os.walk lists a symbolic link to a folder among the folders (and does not enter it)
        for n in sorted(names + [d for d in dirs if os.path.islink(os.path.join(root, d))]):
            p = os.path.join(root, n)
            rel = p[cut:]
            try:
                st = os.lstat(p)
                if stat.S_ISLNK(st.st_mode):
                    emit({"path": rel, "type": "link", "target": os.readlink(p), "ctime": st.st_ctime_ns})
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue  # devices, fifos, sockets: a restore refuses them
                row = old.execute("SELECT ino, size, mtime, ctime, sha FROM h WHERE path = ?", (rel,)).fetchone() \
                    if old else None
                if row and tuple(row[:4]) == key(st):
                    digest, size = row[4], st.st_size
                else:
                    fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW)
                    try:
                        before = os.fstat(fd)
                        digest, size = sha256_of(fd)
                        after = os.fstat(fd)
                    finally:
                        os.close(fd)
                    st, row = after, None
                    # a file that changed while being read is not cached (its ctime is newer than
                    # the start anyway, so the check is lenient with it)
                    if key(before) == key(after) and size == after.st_size:
                        db.execute("INSERT INTO h VALUES (?, ?, ?, ?, ?, ?)", (rel, *key(after), digest))
                if row:
                    db.execute("INSERT INTO h VALUES (?, ?, ?, ?, ?, ?)", (rel, *row))
            except (FileNotFoundError, PermissionError):
                continue  # removed since the backup: its directory's ctime says so
            emit({"path": rel, "type": "file", "mode": stat.S_IMODE(st.st_mode), "size": size,
                  "mtime": st.st_mtime_ns // 10**9, "ctime": st.st_ctime_ns, "sha256": digest})
            files += 1
            total += size
    out.write(f'],"files":{files},"bytes":{total}}}')
    out.flush()
    db.commit()
    db.close()
    if old:
        old.close()
    os.replace(new, cache)


def _opened(path, st, flags):
    """An fd of an entry of the restored tree; a file or folder the restore made without read
    (or search) permission for its owner, the user this check runs as, gets it for the read."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW)
    except PermissionError:
        if st.st_uid != os.getuid():
            raise
        os.chmod(path, stat.S_IMODE(st.st_mode) | (0o500 if flags & os.O_DIRECTORY else 0o400))
        try:
            return os.open(path, flags | os.O_NOFOLLOW)
        finally:
            os.chmod(path, stat.S_IMODE(st.st_mode))  # a file or folder by lstat, in a tree only we write


def tree(root):
    """Every entry below root by lstat, never through a symbolic link: path -> (type, mode,
    size, sha256 of a file or target of a link). Types: dir, file, link, special (a device file,
    fifo or socket)."""
    st = os.lstat(root)
    out = {".": ("dir", stat.S_IMODE(st.st_mode), 0, None)}
    todo = [("", st)]
    while todo:
        rel, st = todo.pop()
        fd = _opened(os.path.join(root, rel), st, os.O_RDONLY | os.O_DIRECTORY)
        try:
            names = os.listdir(fd)
        finally:
            os.close(fd)
        for n in names:
            p = os.path.join(rel, n)
            full = os.path.join(root, p)
            st = os.lstat(full)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISDIR(st.st_mode):
                out[p] = ("dir", mode, 0, None)
                todo.append((p, st))
            elif stat.S_ISLNK(st.st_mode):
                out[p] = ("link", None, 0, os.readlink(full))
            elif stat.S_ISREG(st.st_mode):
                fd = _opened(full, st, os.O_RDONLY)
                try:
                    digest, size = sha256_of(fd)
                finally:
                    os.close(fd)
                out[p] = ("file", mode, size, digest)
            else:
                out[p] = ("special", mode, 0, None)
    return out


def load(path):
    with open(path, "rb") as f:
        doc = json.loads(f.read())
    if not isinstance(doc, dict) or doc.get("format") not in FORMATS or not isinstance(doc.get("entries"), list):
        raise ValueError("not an ivpb manifest")
    return doc


def wanted(e):
    """(type, mode, size, sha256 or link target) of one manifest entry, or None when malformed.
    Entries of ivpb-manifest/1 and /2 have no type: a file (sha256) or a folder (dir), no mode."""
    kind = e.get("type", "dir" if e.get("dir") is True else "file")
    mode = e.get("mode")
    if mode is not None and not (isinstance(mode, int) and 0 <= mode <= 0o7777):
        return None
    if kind == "file" and isinstance(e.get("sha256"), str):
        return kind, mode, e.get("size"), e["sha256"]
    if kind == "link" and isinstance(e.get("target"), str):
        return kind, None, 0, e["target"]
    if kind == "dir":
        return kind, mode, 0, None
    return None


def within(p, sample):
    return not sample or p == sample or p.startswith(sample + "/")


def check(doc, restored, shown, sample=None):
    """A restored tree against its manifest: files and bytes that match, the problems (each a
    line naming the manifest and the first paths), the entries changed during the backup.
    Every entry is compared by type, mode, size and sha256 or link target; a device file, fifo
    or socket is always refused, and a file's setuid or setgid bit only passes when the manifest
    lists that very mode (never for a manifest without modes, nor for a file changed during the
    backup; a folder's setgid bit, a shared folder's group, is a mode like any other). Folders
    are compared only with a manifest that types its entries (/3)."""
    started = doc.get("started_ns")  # absent in ivpb-manifest/1: every entry is held exactly
    settle = started - MARGIN_NS if isinstance(started, int) else None
    typed = doc.get("format") == FORMAT
    want, dirs = {}, {}
    for e in doc["entries"]:
        w = wanted(e) if isinstance(e, dict) and isinstance(e.get("path"), str) else None
        if w is None:
            return {"files": 0, "bytes": 0, "changed": 0, "changed_paths": [],
                    "problems": [f"{shown}: an entry is malformed (altered?)"]}
        p = os.path.normpath(e["path"])
        moved = settle is not None and not (isinstance(e.get("ctime"), int) and e["ctime"] < settle)
        if w[0] == "dir":
            dirs[p] = moved
            if not typed:
                continue
        if within(p, sample):
            want[p] = (w, moved)
    have = tree(restored)

    def dir_moved(path):
        d = os.path.dirname(path)
        while True:
            if os.path.normpath(d or ".") in dirs:
                return dirs[os.path.normpath(d or ".")]
            if not d:
                return False
            d = os.path.dirname(d)

    missing, differ, extra, changed, ok, setuid, special = [], [], [], [], [], [], []
    for p, ((kind, mode, size, what), moved) in want.items():
        got = have.get(p)
        if got and got[0] == kind and got[3] == what and (kind != "file" or got[2] == size) \
                and (mode is None or got[1] == mode):
            if kind == "file":
                ok.append(p)
        elif moved:
            changed.append(p)
        elif got is None:
            missing.append(p)
        else:
            differ.append(p)
    for p, (kind, mode, _size, _what) in have.items():
        listed = want.get(p, ((None, None),))[0]
        if kind == "special":
            special.append(p)
        elif kind == "file" and mode & 0o6000 and not (listed[0] == kind and listed[1] == mode and p not in changed):
            setuid.append(p)
        elif p not in want and within(p, sample) and (typed or kind != "dir"):
            (changed if dir_moved(p) and (typed or kind == "file") else extra).append(p)

    def listed(items):
        items = sorted(items)
        more = f" and {len(items) - LISTED} more" if len(items) > LISTED else ""
        return ", ".join(repr(i) for i in items[:LISTED]) + more

    problems = [f"{len(items)} file(s) {label} ({shown}): {listed(items)}"
                for label, items in (("missing", missing), ("differ", differ), ("not in the manifest", extra),
                                     ("with a setuid or setgid bit the manifest does not list", setuid),
                                     ("that are device files, fifos or sockets (refused)", special))
                if items]
    return {"files": len(ok), "bytes": sum(have[p][2] for p in ok), "changed": len(changed),
            "changed_paths": sorted(changed)[:LISTED], "problems": problems}


def main(argv):
    if argv[:1] == ["write"] and len(argv) == 9:
        write(*argv[1:])
        return 0
    if argv[:1] in (["check"], ["line"]) and len(argv) in (3, 4):
        try:
            doc = load(argv[1])
        except (OSError, ValueError) as e:
            sys.stderr.write(f"{argv[1]}: not a valid manifest (altered?): {e}\n")
            return 1
        r = check(doc, argv[2], os.path.basename(argv[1]), argv[3] if len(argv) == 4 else None)
        if argv[0] == "check":
            sys.stdout.write(json.dumps(r) + "\n")
        elif r["problems"]:
            sys.stdout.write("; ".join(r["problems"]) + "\n")
        else:
            also = (f"; {r['changed']} changed during the backup ({', '.join(map(repr, r['changed_paths']))}"
                    f"{', ...' if r['changed'] > len(r['changed_paths']) else ''})") if r["changed"] else ""
            sys.stdout.write(f"{r['files']} files, {r['bytes']} bytes as backed up{also}\n")
        return 1 if r["problems"] else 0
    sys.stderr.write("usage: write SOURCE DATASET HOST KIND STAMP SCHOOL_YEAR STARTED_NS CACHE | check|line MANIFEST "
                     "TREE [SAMPLE]\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
