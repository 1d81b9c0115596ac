# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The program that backup_receiver installs at /usr/local/lib/ivpb/backup-receiver (Python 3,
stdlib only; it runs on the receiving host). Kept as data so the module ships it.

Three commands:
  gate   the forced command of a client's key (runs as that client's own Unix user): lets only
         `rsync --server` through, confined by rrsync to the client's area, then seals
  seal   (root, through sudo from the gate) makes every finished file of the calling client
         immutable to it: owner root, group the client, mode 0440; directories root, 1770
  maint  (root, from cron) seals every area, applies retention to the chains, removes the
         leftovers of interrupted transfers

Why sealing by ownership and not chattr +i, snapshots or reflinks: those need a capability or
a file system the receiver may not have (containers lack CAP_LINUX_IMMUTABLE, overlayfs has
neither snapshots nor reflinks). A file owned by root with mode 0440, in a root-owned directory
with the sticky bit, cannot be written, truncated, renamed, replaced or removed by the client's
user, whatever command line reaches the host: the kernel refuses it."""

from __future__ import annotations

PATH = "/usr/local/lib/ivpb/backup-receiver"
CONFIG = "/etc/ivpb/receiver/clients.json"
SUDOERS = "/etc/sudoers.d/ivpb-backup-receiver"
CRON = "/etc/cron.d/ivpb-backup-receiver"
GROUP = "ivpb-clients"

PROGRAM = r'''#!/usr/bin/python3
# ivpb backup receiver (IVPB Backupbeleid §4, backup.best_practice): gate, seal, maint.
# Managed by ivpb.backupbeleid.backup_receiver: changes here are overwritten.
import errno
import json
import os
import pwd
import re
import shlex
import signal
import stat
import subprocess
import sys
import syslog
import time

CONFIG = "/etc/ivpb/receiver/clients.json"
RRSYNC = "/usr/bin/rrsync"
# Options the gate refuses before rrsync sees them (rrsync refuses --daemon, deletes and paths
# outside the area itself): writing into an existing file, or renaming existing files aside.
REFUSED = ("--daemon", "--config", "--inplace", "--append", "--append-verify", "--write-devices",
           "--backup", "--backup-dir", "--suffix", "--remove-source-files", "--copy-devices")
DUPLICITY = re.compile(r"^duplicity-(full|inc|full-signatures|new-signatures)\."
                       r"(\d{8}T\d{6}Z)(?:\.to\.(\d{8}T\d{6}Z))?\.")
RSYNC_TEMP = re.compile(r"^\..+\.[A-Za-z0-9]{6}$")


def log(prio, msg):
    syslog.openlog("ivpb-backup-receiver", 0, syslog.LOG_AUTH)
    syslog.syslog(prio, msg)


def clients():
    with open(CONFIG, encoding="utf-8") as f:
        return json.load(f)


def gate():
    me = pwd.getpwuid(os.getuid()).pw_name
    entry = clients().get(me)
    command = os.environ.get("SSH_ORIGINAL_COMMAND", "")
    if entry is None:
        log(syslog.LOG_WARNING, f"denied for unknown user {me}: {command[:200]!r}")
        sys.exit(1)
    who = f"client {entry['client']} (target {entry['target']}, user {me})"

    def deny(why):
        log(syslog.LOG_WARNING, f"denied for {who}: {why}: {command[:200]!r}")
        print(f"ivpb backup receiver: denied: {why}", file=sys.stderr)
        sys.exit(1)

    try:
        argv = shlex.split(command)
    except ValueError:
        deny("unparsable command")
    if len(argv) < 3 or argv[0] != "rsync" or argv[1] != "--server":
        deny("only rsync is allowed")
    for arg in argv[2:]:
        if arg == ".":
            break
        if arg.split("=", 1)[0] in REFUSED:
            deny(f"option {arg.split('=', 1)[0]} is refused")
    os.umask(0o077)
    proc = subprocess.run([RRSYNC, "-no-del", "-munge", "-no-lock", entry["area"]],
                          stderr=subprocess.PIPE, check=False)
    err = proc.stderr.decode("utf-8", "replace")
    sys.stderr.write(err)
    if proc.returncode != 0:
        lines = [line for line in err.splitlines() if line.strip()]
        deny(f"rsync exited {proc.returncode}: {' | '.join(lines[-3:])[:300] or 'no message'}")
    subprocess.run(["sudo", "-n", sys.argv[0], "seal"], stdin=subprocess.DEVNULL, check=False)


def writers(uid):
    """(device, inode) -> pids: the files processes of uid hold open for writing."""
    out = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat(f"/proc/{pid}").st_uid != uid:
                continue
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with open(f"/proc/{pid}/fdinfo/{fd}", encoding="ascii") as f:
                    flags = int(f.read().split("flags:")[1].split()[0], 8)
                if flags & (os.O_WRONLY | os.O_RDWR):
                    st = os.stat(f"/proc/{pid}/fd/{fd}")
                    out.setdefault((st.st_dev, st.st_ino), set()).add(int(pid))
        except (OSError, IndexError, ValueError):
            continue
    return out


def seal_area(area, uids, gid):
    """Hand every finished file and directory that a client user owns under area to root.
    Never follows a link; files with other links or other owners are left alone."""
    busy = writers_of(uids)
    sealed = []

    def walk(dfd, rel):
        for name in os.listdir(dfd):
            try:
                st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    if not (name == ".ssh" and rel == area):
                        fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dfd)
                        try:
                            if os.fstat(fd).st_uid in uids:
                                os.fchown(fd, 0, gid)
                                os.fchmod(fd, 0o1770)
                            walk(fd, f"{rel}/{name}")
                        finally:
                            os.close(fd)
                elif stat.S_ISREG(st.st_mode):
                    if st.st_uid in uids and st.st_nlink == 1 and (st.st_dev, st.st_ino) not in busy:
                        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dfd)
                        try:
                            st = os.fstat(fd)
                            if st.st_uid in uids and st.st_nlink == 1 and stat.S_ISREG(st.st_mode):
                                os.fchown(fd, 0, gid)
                                os.fchmod(fd, 0o440)
                                sealed.append((st.st_dev, st.st_ino))
                        finally:
                            os.close(fd)
                elif st.st_uid in uids:
                    os.unlink(name, dir_fd=dfd)  # links, fifos, sockets: nothing a backup needs
                    log(syslog.LOG_WARNING, f"removed {rel}/{name}: not a regular file or directory")
            except FileNotFoundError:
                continue  # removed meanwhile (a finished transfer's temporary file)

    top = os.open(area, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        walk(top, area)
    finally:
        os.close(top)
    # A writer that opened a file between the scan and the seal keeps its descriptor: end it,
    # so that what is sealed stays as it is.
    late = writers_of(uids)
    for key in sealed:
        for pid in late.get(key, ()):
            try:
                os.kill(pid, signal.SIGKILL)
                log(syslog.LOG_WARNING, f"killed pid {pid}: it held a sealed file of {area} open for writing")
            except ProcessLookupError:
                pass
    return len(sealed)


def writers_of(uids):
    out = {}
    for uid in uids:
        for key, pids in writers(uid).items():
            out.setdefault(key, set()).update(pids)
    return out


def seal_entry(user, entry):
    pw = pwd.getpwnam(user)
    uids = {pw.pw_uid}
    for legacy in entry.get("adopt_users", []):
        try:
            uids.add(pwd.getpwnam(legacy).pw_uid)
        except KeyError:
            pass
    n = seal_area(entry["area"], uids, pw.pw_gid)
    if n:
        log(syslog.LOG_INFO, f"sealed {n} file(s) of client {entry['client']} in {entry['area']}")


def seal():
    user = os.environ.get("SUDO_USER", "")
    entry = clients().get(user)
    if os.geteuid() != 0 or entry is None:
        print("ivpb backup receiver: seal is run by the gate through sudo", file=sys.stderr)
        sys.exit(2)
    seal_entry(user, entry)


def chains(names):
    """duplicity file names -> [(full stamp, [names])] oldest first; a chain is a full and the
    increments after it, up to the next full."""
    parsed = []
    for n in names:
        m = DUPLICITY.match(n)
        if m:
            parsed.append((m.group(2), m.group(1), n))
    fulls = sorted({start for start, kind, _n in parsed if kind in ("full", "full-signatures")})
    out = {f: [] for f in fulls}
    for start, _kind, n in parsed:
        owner = max((f for f in fulls if f <= start), default=None)
        if owner is not None:
            out[owner].append(n)
    return sorted(out.items())


def _open_dir(directory):
    """A directory opened without following a link (a client may have made the last
    component), or None."""
    try:
        return os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        if e.errno == errno.ELOOP:
            return None
        raise


def prune(directory, keep):
    """Keep the newest `keep` full chains of a duplicity directory; remove the older ones.
    Returns the names removed."""
    fd = _open_dir(directory)
    if fd is None:
        return []
    try:
        old = chains(os.listdir(fd))[:-keep] if keep > 0 else []
        removed = [name for _full, files in old for name in files]
        for name in removed:
            os.unlink(name, dir_fd=fd)
        return removed
    finally:
        os.close(fd)


def prune_manifests(directory, removed):
    """The ivpb manifests (<stamp>.json[.gpg], issue #16) of the backup sets retention removed
    (manifests/ for the chains, sync-manifests/ for the offsite copy)."""
    stamps = set()
    for name in removed:
        m = DUPLICITY.match(name)
        if m and m.group(1) in ("full", "inc"):
            stamps.add(m.group(3) or m.group(2))
    fd = _open_dir(directory) if stamps else None
    if fd is None:
        return []
    try:
        gone = [n for n in os.listdir(fd) if n.split(".json", 1)[0] in stamps and n.endswith((".json", ".json.gpg"))]
        for name in gone:
            os.unlink(name, dir_fd=fd)
        return gone
    finally:
        os.close(fd)


def leftovers(area, max_age=86400):
    """Temporary files of interrupted transfers, older than a day."""
    now, n = time.time(), 0
    for root, dirs, files in os.walk(area):
        dirs[:] = [d for d in dirs if d != ".ssh"]
        for name in files:
            p = os.path.join(root, name)
            st = os.lstat(p)
            if RSYNC_TEMP.match(name) and now - st.st_mtime > max_age:
                os.unlink(p)
                n += 1
    return n


def maint():
    for user, entry in sorted(clients().items()):
        try:
            seal_entry(user, entry)
            removed = 0
            for ds, rules in sorted(entry.get("datasets", {}).items()):
                base = os.path.join(entry["area"], ds)
                chain = prune(os.path.join(base, "chain"), int(rules["keep_full"]))
                removed += len(chain) + len(prune_manifests(os.path.join(base, "manifests"), chain))
                sync = prune(os.path.join(base, "sync"), int(rules["sync_keep_full"]))
                removed += len(sync) + len(prune_manifests(os.path.join(base, "sync-manifests"), sync))
            removed += leftovers(entry["area"])
            if removed:
                log(syslog.LOG_INFO, f"retention removed {removed} file(s) of client {entry['client']}")
        except OSError as e:
            log(syslog.LOG_ERR, f"maintenance of client {entry['client']} failed: {e}")


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    {"gate": gate, "seal": seal, "maint": maint}.get(action, lambda: sys.exit(2))()
'''
