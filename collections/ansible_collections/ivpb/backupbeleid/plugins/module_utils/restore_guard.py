# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pre-scan of a duplicity chain before it is restored (issue #22): whoever writes the
volumes (a hostile receiver, or a client through its newest sealed chain) also writes the SHA1s
duplicity checks them against, and duplicity 0.8 restores a symbolic link `a -> /etc/cron.d`
followed by a file `a/x` by writing through the link. So before duplicity runs, this program
reads every tar entry of the sets the restore will use and refuses the chain when an entry
would land outside the restore's folder or is something a restore must never make: a path
below a symbolic link, an absolute path or one with `..` (or `.`, or an empty part), a hard
link, a device file or a fifo, an entry duplicity does not write, a path twice in one set.
Only the sets it scanned stay in the folder (every other duplicity file there is removed), so
duplicity cannot pick a set this program did not read. One program (Python 3, stdlib only) for
the host's weekly verify (backup_script embeds it) and for `ivpb restore` (ivpb.restore runs
the same text; a host program, shipped as host_program.py says: TEXT below).

    python3 -c TEXT scan DIR STAMP   the chain in DIR holding the backup STAMP
                                        (YYYYMMDDTHHMMSSZ); one line; exit 1 when refused

Which path a restore writes is decided by the last set that names it (duplicity patches the
sets in order, path by path, and writes each path once): a path is refused when, in that final
state, a folder above it (the restore's own top folder included) is a symbolic link. A link
that a later set turns back into a folder, or whose children a later set deletes, is fine.
Encrypted volumes are read through `gpg --decrypt` with the caller's keys."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
import tarfile

NAME = re.compile(r"^duplicity-(full|inc|full-signatures|new-signatures)\.(\d{8}T\d{6}Z)(?:\.to\.(\d{8}T\d{6}Z))?"
                  r"\.(manifest|vol(\d+)\.difftar(?:\.gz)?|sigtar(?:\.gz)?)(\.gpg)?$")
STAMP = re.compile(r"^\d{8}T\d{6}Z$")
KINDS = {"snapshot", "diff", "deleted", "multivol_snapshot", "multivol_diff"}


class Refused(Exception):
    pass


def select(folder, stamp):
    """The files of the sets a restore of STAMP uses: the newest full at or before it, and the
    increments chained after it up to STAMP (duplicity's own rule). Every other duplicity file
    in the folder is removed."""
    files = {}
    for n in sorted(os.listdir(folder)):
        p = os.path.join(folder, n)
        if os.path.islink(p) or not os.path.isfile(p):
            raise Refused(f"{n}: not a regular file")
        m = NAME.fullmatch(n)
        if not m:
            os.unlink(p)  # duplicity ignores it anyway; nothing but the scanned sets stays
            continue
        kind, start, end = m.group(1), m.group(2), m.group(3) or m.group(2)
        key = ("full" if kind.startswith("full") else "inc", start, end)
        files.setdefault(key, []).append((n, m.group(4), m.group(5), bool(m.group(6))))
    fulls = [k for k in files if k[0] == "full" and k[1] <= stamp]
    if not fulls:
        raise Refused(f"no full backup at or before {stamp}")
    chain = [max(fulls)]
    while chain[-1][2] != stamp:
        nxt = [k for k in files if k[0] == "inc" and k[1] == chain[-1][2] and k[2] <= stamp]
        if len(nxt) != 1:
            raise Refused(f"no single increment after {chain[-1][2]} towards {stamp}" +
                          (" (two overlap)" if nxt else ""))
        chain.append(nxt[0])
    keep = set()
    for key in chain:
        if len({entry[-1] for entry in files[key]}) > 1:
            raise Refused(f"the set {key[1]}-{key[2]} is both encrypted and plain")
        keep.update(entry[0] for entry in files[key])
    for names in files.values():
        for entry in names:
            if entry[0] not in keep:
                os.unlink(os.path.join(folder, entry[0]))
    return [(key, sorted(((int(vol), n, enc) for n, what, vol, enc in files[key] if vol), key=lambda v: v[0]))
            for key in chain]


class Rest:
    """A stream whose first bytes were read already (to tell an empty volume from a tar)."""

    def __init__(self, head, stream):
        self.head, self.stream = head, stream

    def read(self, size=-1):
        if not self.head:
            return self.stream.read(size)
        if size < 0:
            out, self.head = self.head + self.stream.read(), b""
            return out
        out, self.head = self.head[:size], self.head[size:]
        return out


def stream_entries(stream):
    """The tar entries of a stream; none when it holds nothing at all: duplicity writes an
    incremental volume of no bytes for a night without changes (tarfile calls that an error)."""
    head = stream.read(1)
    if head:
        with tarfile.open(fileobj=Rest(head, stream), mode="r|") as tar:
            yield from tar


def entries(path, encrypted):
    """The tar entries of one volume, read as a stream (gpg decrypts it for an encrypted set)."""
    if not encrypted:
        with (gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")) as f:
            yield from stream_entries(f)
        return
    gpg = subprocess.Popen(["gpg", "--batch", "--quiet", "--decrypt", path], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
    try:
        yield from stream_entries(gpg.stdout)
    finally:  # also when the scan stops early: gpg is never left behind
        gpg.stdout.close()
        rc = gpg.wait()
    if rc != 0:
        raise Refused(f"{os.path.basename(path)}: cannot be decrypted")


def parse(member, shown):
    """(kind, path parts) of one entry; the root of the backup is the empty path."""
    kind, _sep, rest = member.name.partition("/")
    if kind not in KINDS or not rest:
        raise Refused(f"{shown}: entry {member.name!r} is none duplicity writes")
    parts = rest.split("/")
    if kind.startswith("multivol"):
        if len(parts) < 2 or not parts[-1].isdigit():
            raise Refused(f"{shown}: entry {member.name!r} is none duplicity writes")
        parts = parts[:-1]
    if parts == ["."]:
        return kind, ()
    if any(p in ("", ".", "..") or "\0" in p for p in parts):
        raise Refused(f"{shown}: entry {member.name!r} is an absolute path or passes '..', '.' or '//'")
    return kind, tuple(parts)


def kind_of(member, kind, shown):
    if kind == "deleted":
        return "deleted"
    if member.islnk():
        raise Refused(f"{shown}: entry {member.name!r} is a hard link (to {member.linkname!r})")
    if member.ischr() or member.isblk():
        raise Refused(f"{shown}: entry {member.name!r} is a device file")
    if member.isfifo():
        raise Refused(f"{shown}: entry {member.name!r} is a fifo")
    if member.isreg():
        return "file"
    if member.isdir() and not kind.startswith("multivol"):
        return "dir"
    if member.issym() and not kind.startswith("multivol"):
        return "link"
    raise Refused(f"{shown}: entry {member.name!r} is of a type a restore does not make")


def scan(folder, stamp):
    final, count, volumes = {}, 0, 0
    chain = select(folder, stamp)
    for _key, vols in chain:
        seen = {}
        for _n, name, enc in vols:
            volumes += 1
            for member in entries(os.path.join(folder, name), enc):
                kind, path = parse(member, name)
                what = kind_of(member, kind, name)
                count += 1
                if path in seen and not (kind.startswith("multivol") and seen[path][0] == "multivol"):
                    raise Refused(f"{name}: {'/'.join(path) or '.'} appears twice in one set")
                seen[path] = ("multivol" if kind.startswith("multivol") else kind, what, name)
        final.update({p: (what, name) for p, (_kind, what, name) in seen.items()})
    if final.get((), ("dir",))[0] != "dir":
        raise Refused(f"{final[()][1]}: the top folder of the backup is no folder")
    for path, (what, name) in sorted(final.items()):
        if what == "deleted":
            continue
        for i in range(len(path)):
            above = final.get(path[:i])
            if above and above[0] == "link":
                raise Refused(f"{name}: {'/'.join(path)!r} lies below the symbolic link "
                              f"{'/'.join(path[:i])!r} of {above[1]}: a restore would write through it")
    return f"{count} entries in {volumes} volume(s) of {len(chain)} set(s) scanned: nothing leaves the folder"


def main(argv):
    if len(argv) != 3 or argv[0] != "scan" or not STAMP.fullmatch(argv[2]):
        sys.stderr.write("usage: scan DIR YYYYMMDDTHHMMSSZ\n")
        return 2
    try:
        sys.stdout.write(scan(argv[1], argv[2]) + "\n")
    except Refused as e:
        sys.stdout.write(f"refused: {e}\n")
        return 1
    except (OSError, tarfile.TarError, EOFError) as e:
        sys.stdout.write(f"refused: a volume cannot be read as a tar archive: {e}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
