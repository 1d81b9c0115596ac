# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The program that backup_receiver installs at /usr/local/lib/ivpb/backup-receiver (Python 3,
stdlib only; it runs on the receiving host). Kept as data so the module ships it; load() gives
its functions to the module (protected()) and to the tests, so that they live in one place.

Three commands:
  gate   the forced command of a client's key (runs as that client's own Unix user): lets through
         only the rsync calls the ivpb sender makes (an allow-list, parsed as rrsync parses it),
         within the client's quota and a session timeout, confined by rrsync to the client's
         area, then seals
  seal   (root, through sudo from the gate) makes every finished file of the calling client
         immutable to it: owner root, group the client, mode 0440, mtime = the receiver's clock
         at sealing; directories root, 1770
  maint  (root, from cron) seals every area, applies retention to the chains, removes the
         leftovers of interrupted transfers; one client's failure never stops the others

Why sealing by ownership and not chattr +i, snapshots or reflinks: those need a capability or
a file system the receiver may not have (containers lack CAP_LINUX_IMMUTABLE, overlayfs has
neither snapshots nor reflinks). A file owned by root with mode 0440, in a root-owned directory
with the sticky bit, cannot be written, truncated, renamed, replaced or removed by the client's
user, whatever command line reaches the host: the kernel refuses it.

The arrival stamp (a contract with `ivpb restore`): the seal sets each file it seals to the
receiver's own clock at that moment, so a sealed file's mtime IS its arrival time on this host.
The client names its files (duplicity's dates are the client's clock); the receiver vouches only
for what it checked, by its own clock: a generation counts (the newest protected backup,
retention, restore's "newest") only when it is complete and sealed, ordered by arrival."""

from __future__ import annotations

from ansible_collections.ivpb.backupbeleid.plugins.module_utils import receiver_layout

PATH = "/usr/local/lib/ivpb/backup-receiver"
CONFIG = "/etc/ivpb/receiver/clients.json"
SUDOERS = "/etc/sudoers.d/ivpb-backup-receiver"
CRON = "/etc/cron.d/ivpb-backup-receiver"
GROUP = "ivpb-clients"


def load() -> dict:
    """The program's functions, without running it (its __name__ is not __main__)."""
    ns: dict = {"__name__": "ivpb_backup_receiver"}
    exec(compile(PROGRAM, PATH, "exec"), ns)  # noqa: S102 - the program this module ships
    return ns


PROGRAM = r'''#!/usr/bin/python3
# ivpb backup receiver (IVPB Backupbeleid §4, backup.best_practice): gate, seal, maint.
# Managed by ivpb.backupbeleid.backup_receiver: changes here are overwritten.
# Arrival stamp: the seal sets every file it seals to this host's clock at sealing; a sealed
# file's mtime is its arrival time here (ivpb restore and the retention below rely on it).
import calendar
import errno
import json
import os
import pwd
import re
import select
import signal
import stat
import subprocess
import sys
import syslog
import time

CONFIG = "/etc/ivpb/receiver/clients.json"
RRSYNC = "/usr/bin/rrsync"
SEALED_UID = 0  # the owner of a sealed file
SESSION_TIMEOUT = 21600  # seconds; the sender's whole duplicity run is killed after as long
QUOTA_EVERY = 10  # seconds between two quota checks during a receiving session
ERR_KEEP = 4096  # bytes of rsync's stderr the gate keeps (for its log line); the rest only passes
MAX_DEPTH = 64  # directory levels walked; ivpb's layout has four (deeper is a quota breach)
SKEW = 900  # seconds a file name's date may be ahead of this host's clock
FILES_DEFAULT = 200000  # files per client when the file system reports no inode count
DIRFLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW

# The gate's allow-list: exactly the rsync calls of the ivpb sender (backup_script: duplicity's
# rsync backend with --timeout, --list-only, -r --mkpath, single files, -r fetches and the
# verify's fetch of one chain by a list of names, -t --files-from). Their server side is
# `rsync --server [--sender] -[dr]e.<capabilities> [--list-only|--mkpath] [--timeout=N] . <one
# path>`, and for that fetch `rsync --server --sender -tRe.<capabilities> --files-from=- --from0
# . <one path>`. A command is accepted only in a form that rrsync splits the same way: printable
# ASCII without backslash, quotes, braces or wildcards, words separated by one space (rrsync
# splits on any Unicode white space and removes backslashes).
LINE = re.compile(r"[A-Za-z0-9._/=-]+(?: [A-Za-z0-9._/=-]+)*")
SHORT = {False: re.compile(r"-(?=.)[dr]*(?:e\d*\.[A-Za-z]*)?"),  # receiving
         True: re.compile(r"-(?=.)[dtrR]*(?:e\d*\.[A-Za-z]*)?")}  # sending: times, relative names
LONG = {False: re.compile(r"--mkpath|--timeout=\d{1,6}"),  # receiving
        True: re.compile(r"--list-only|--timeout=\d{1,6}|--files-from=-|--from0")}  # sending
ARG = re.compile(r"(?!-)(?!(?:.*/)?\.\.(?:/|$))[A-Za-z0-9._/=-]+")
DUPLICITY = re.compile(r"^duplicity-(full|inc|full-signatures|new-signatures)\."
                       r"(\d{8}T\d{6}Z)(?:\.to\.(\d{8}T\d{6}Z))?\.(.+)$")
VOLUME = re.compile(r"^vol(\d+)\.difftar(?:\.gz|\.gpg)?$")
RSYNC_TEMP = re.compile(r"^\..+\.[A-Za-z0-9]{6}$")


def now():
    return time.time()


def log(prio, msg):
    syslog.openlog("ivpb-backup-receiver", 0, syslog.LOG_AUTH)
    syslog.syslog(prio, msg)


def clients():
    with open(CONFIG, encoding="utf-8") as f:
        return json.load(f)


class Refused(Exception):
    pass


def parse(command):
    """(sender, options, path) of an allowed command line, or Refused(why)."""
    if len(command) > 1000 or not LINE.fullmatch(command):
        raise Refused("not a command line of the ivpb sender (characters or spacing)")
    words = command.split(" ")
    if words[:2] != ["rsync", "--server"]:
        raise Refused("only rsync --server is allowed")
    rest = words[2:]
    sender = rest[:1] == ["--sender"]
    rest = rest[1:] if sender else rest
    if "." not in rest:
        raise Refused("no '.' argument")
    dot = rest.index(".")
    for word in rest[:dot]:
        if not (SHORT[sender].fullmatch(word) or LONG[sender].fullmatch(word)):
            raise Refused(f"option {word} is not one the ivpb sender uses")
    args = rest[dot + 1:]
    if len(args) != 1 or not ARG.fullmatch(args[0]):
        raise Refused("exactly one path inside the area is allowed")
    return sender, rest[:dot], args[0]


def stamp_seconds(name_stamp):
    return calendar.timegm(time.strptime(name_stamp, "%Y%m%dT%H%M%SZ"))


def future_name(path, t):
    """The duplicity date in a file name that lies ahead of this host's clock, or None."""
    m = DUPLICITY.match(os.path.basename(path))
    late = m and max(stamp_seconds(s) for s in m.group(2, 3) if s)
    return m.group(3) or m.group(2) if late and late > t + SKEW else None


def walk(area, visit):
    """visit(dir_fd, rel, name, st) for every entry under area, depth first without recursion,
    never following a link nor entering the area's .ssh; False when a directory deeper than
    MAX_DEPTH was left unvisited."""
    whole = True
    top = os.open(area, DIRFLAGS)
    stack = [(top, area, iter(sorted(os.listdir(top))))]
    try:
        while stack:
            dfd, rel, names = stack[-1]
            name = next(names, None)
            if name is None:
                os.close(stack.pop()[0])
                continue
            try:
                st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
                visit(dfd, rel, name, st)
                if not stat.S_ISDIR(st.st_mode) or (name == ".ssh" and len(stack) == 1):
                    continue
                if len(stack) >= MAX_DEPTH:
                    whole = False
                    continue
                fd = os.open(name, DIRFLAGS, dir_fd=dfd)
                stack.append((fd, f"{rel}/{name}", iter(sorted(os.listdir(fd)))))
            except (FileNotFoundError, NotADirectoryError):
                continue  # removed or replaced meanwhile (a finished transfer's temporary file)
    finally:
        for fd, _rel, _names in stack:
            os.close(fd)
    return whole


def usage(area):
    """(bytes, files, whole) under area: allocated or apparent size, whichever is larger."""
    total = [0, 0]

    def visit(_dfd, _rel, _name, st):
        if not stat.S_ISDIR(st.st_mode):
            total[0] += max(st.st_size, st.st_blocks * 512)
            total[1] += 1
    whole = walk(area, visit)
    return total[0], total[1], whole


def quota(entry):
    """(bytes, files) a client may hold: the inventory's quota, else an equal share of the file
    system among the clients of its target (entry["share"])."""
    q = entry.get("quota") or {}
    share = max(1, int(entry.get("share") or 1))
    fs = os.statvfs(entry["area"])
    return (int(q.get("bytes") or fs.f_blocks * fs.f_frsize // share),
            int(q.get("files") or (fs.f_files // share if fs.f_files else FILES_DEFAULT)))


def over_quota(entry):
    """Why the client's area is over its quota, or None."""
    used, files, whole = usage(entry["area"])
    most, most_files = quota(entry)
    if not whole:
        return f"quota: a tree deeper than {MAX_DEPTH} levels"
    if used > most or files > most_files:
        return f"quota exceeded: {used} of {most} bytes, {files} of {most_files} files"
    return None


def run_bounded(argv, timeout, check=None, out=None):
    """Run argv, passing its stderr on to out and keeping only the last ERR_KEEP bytes; kill it
    (its process group) after timeout seconds or when check() names a reason.
    Returns (exit code, kept stderr, reason or None)."""
    out = out if out is not None else sys.stderr.buffer
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, start_new_session=True)
    fd, tail, why = proc.stderr.fileno(), b"", None
    deadline = time.monotonic() + timeout
    next_check = time.monotonic() + QUOTA_EVERY
    while True:
        wait = max(0.0, min(deadline, next_check if check else deadline) - time.monotonic())
        ready, _w, _x = select.select([fd], [], [], wait)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            try:
                out.write(chunk)
                out.flush()
            except OSError:
                pass  # the client went away; rsync notices on its own
            tail = (tail + chunk)[-ERR_KEEP:]
        t = time.monotonic()
        if t >= deadline:
            why = f"session longer than {timeout}s"
        elif check and t >= next_check:
            next_check = t + QUOTA_EVERY
            why = check()
        if why:
            os.killpg(proc.pid, signal.SIGKILL)
            break
    try:
        rc = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        rc = proc.wait()
        why = why or f"session longer than {timeout}s"
    proc.stderr.close()
    return rc, tail, why


def seal_self():
    subprocess.run(["sudo", "-n", sys.argv[0], "seal"], stdin=subprocess.DEVNULL, check=False)


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
        sender, _options, path = parse(command)
    except Refused as e:
        deny(str(e))
    ahead = None if sender else future_name(path, now())
    if ahead:
        deny(f"file name dated {ahead}, ahead of this host's clock")
    why = None if sender else over_quota(entry)
    if why:
        deny(why)
    os.umask(0o077)
    rc, err, why = run_bounded([RRSYNC, "-no-del", "-munge", "-no-lock", entry["area"]], SESSION_TIMEOUT,
                               None if sender else (lambda: over_quota(entry)))
    if not sender:
        seal_self()
        why = why or over_quota(entry)
    if why:
        deny(why)
    if rc != 0:
        lines = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
        deny(f"rsync exited {rc}: {' | '.join(lines[-3:])[-300:] or 'no message'}")


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


def seal_copy(dfd, name, src, gid, ns):
    """A sealed copy of the open file src replaces name (another name of it stays writable)."""
    tmp = f".ivpb-seal.{os.urandom(8).hex()}"
    out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o400, dir_fd=dfd)
    try:
        while True:
            chunk = os.read(src, 1 << 20)
            if not chunk:
                break
            view = memoryview(chunk)
            while view:
                view = view[os.write(out, view):]
        os.fchown(out, SEALED_UID, gid)
        os.fchmod(out, 0o440)
        os.utime(out, ns=(ns, ns))
        os.fsync(out)
        st = os.fstat(out)
    except BaseException:
        os.unlink(tmp, dir_fd=dfd)
        raise
    finally:
        os.close(out)
    os.rename(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
    return st.st_dev, st.st_ino


def seal_file(dfd, name, uids, gid, ns):
    """Seal one regular file of a client: owner root, 0440, mtime = arrival. (device, inode) of
    what is sealed now, or None."""
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dfd)
    try:
        st = os.fstat(fd)
        if st.st_uid not in uids or not stat.S_ISREG(st.st_mode):
            return None
        if st.st_nlink > 1:
            return seal_copy(dfd, name, fd, gid, ns)
        os.fchown(fd, SEALED_UID, gid)
        os.fchmod(fd, 0o440)
        os.utime(fd, ns=(ns, ns))
        return st.st_dev, st.st_ino
    finally:
        os.close(fd)


def seal_area(area, uids, gid):
    """Hand every finished file and directory that a client user owns under area to root, with
    this host's clock as the files' mtime (their arrival). Never follows a link; a file with
    more than one link is sealed as a copy; files of other owners are left alone."""
    busy = writers_of(uids)
    sealed = []
    ns = int(now() * 1e9)

    def visit(dfd, rel, name, st):
        if stat.S_ISDIR(st.st_mode):
            if not (name == ".ssh" and rel == area) and st.st_uid in uids:
                fd = os.open(name, DIRFLAGS, dir_fd=dfd)
                try:
                    if os.fstat(fd).st_uid in uids:
                        os.fchown(fd, SEALED_UID, gid)
                        os.fchmod(fd, 0o1770)
                finally:
                    os.close(fd)
        elif stat.S_ISREG(st.st_mode):
            if st.st_uid in uids and (st.st_dev, st.st_ino) not in busy:
                key = seal_file(dfd, name, uids, gid, ns)
                if key:
                    sealed.append(key)
        elif st.st_uid in uids:
            os.unlink(name, dir_fd=dfd)  # links, fifos, sockets: nothing a backup needs
            log(syslog.LOG_WARNING, f"removed {rel}/{name}: not a regular file or directory")

    if not walk(area, visit):
        log(syslog.LOG_WARNING, f"{area}: a tree deeper than {MAX_DEPTH} levels is left unsealed")
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


def generations(fd):
    """The duplicity generations of a directory: (kind, start, end) -> its files, whether it is
    complete and its arrival. Complete means: what the receiver can check is there and sealed.
    A plain manifest names its volumes: every one must be present. An encrypted manifest
    (.manifest.gpg) cannot be read here: then the volumes must run 1..n without a gap. In both
    cases the manifest, the signatures and every volume must be sealed (owner root, one link),
    regular and non-empty; the arrival is the latest seal among them."""
    gens = {}
    for name in os.listdir(fd):
        m = DUPLICITY.match(name)
        if not m:
            continue
        kind, start, end, part = m.groups()
        full = kind in ("full", "full-signatures")
        if full == bool(end):
            continue  # a full "to" something, or an increment without an end: not duplicity's
        try:
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            continue
        g = gens.setdefault(("full" if full else "inc", start, end or start),
                            {"files": [], "vols": set(), "manifest": None, "sig": False, "ok": True, "arrival": 0.0})
        g["files"].append(name)
        g["arrival"] = max(g["arrival"], st.st_mtime)
        sound = (stat.S_ISREG(st.st_mode) and st.st_uid == SEALED_UID and st.st_nlink == 1 and st.st_size > 0)
        g["ok"] = g["ok"] and sound
        vol = VOLUME.match(part)
        if kind in ("full-signatures", "new-signatures"):
            g["sig"] = g["sig"] or part.startswith("sigtar")
        elif vol:
            g["vols"].add(int(vol.group(1)))
        elif part in ("manifest", "manifest.gpg"):
            g["manifest"] = name
    for g in gens.values():
        g["complete"] = g["ok"] and g["sig"] and g["manifest"] is not None and g["vols"] == listed(fd, g)
    return gens


def listed(fd, g):
    """The volume numbers a generation must have: those its plain manifest lists, else 1..n."""
    if g["manifest"].endswith(".manifest"):
        try:
            mfd = os.open(g["manifest"], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
            with os.fdopen(mfd, "rb") as f:
                text = f.read(4 << 20).decode("utf-8", "replace")
            return {int(n) for n in re.findall(r"^Volume (\d+):", text, re.M)} or {-1}
        except OSError:
            return {-1}
    return set(range(1, max(g["vols"], default=0) + 1)) or {-1}


def chains_in(fd, t, where=""):
    """The complete chains of a directory in arrival order: [{"full", "first", "last", "gens"}].
    A generation counts only when complete, dated no later than this host's clock, and in
    order: a full must be named after every full that arrived before it, an increment must
    extend the newest chain from its current end. The rest is ignored and logged."""
    chains = []
    for (kind, start, end), g in sorted(generations(fd).items(), key=lambda kv: (kv[1]["arrival"], kv[0][2])):
        if not g["complete"]:
            continue
        why = None
        if stamp_seconds(end) > min(t, g["arrival"]) + SKEW:
            why = "dated ahead of its arrival"
        elif kind == "full" and chains and start <= chains[-1]["end"]:
            why = "a full dated before the end of the chain before it"
        elif kind == "inc" and (not chains or start != chains[-1]["end"] or end <= start):
            why = "an increment that does not extend the newest chain"
        if why:
            log(syslog.LOG_WARNING, f"{where}: ignored {kind} {start}..{end}: {why}")
        elif kind == "full":
            chains.append({"full": start, "end": end, "first": g["arrival"], "last": g["arrival"], "gens": [g]})
        else:
            chains[-1].update(end=end, last=g["arrival"])
            chains[-1]["gens"].append(g)
    return chains


def _open_dir(directory):
    """A directory opened without following a link (a client may have made the last
    component), or None."""
    try:
        return os.open(directory, DIRFLAGS)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        if e.errno == errno.ELOOP:
            return None
        raise


def newest(directory, t=None):
    """The arrival (seconds) of the newest complete generation in directory, or None."""
    fd = _open_dir(directory)
    if fd is None:
        return None
    try:
        chains = chains_in(fd, now() if t is None else t, directory)
        return max((c["last"] for c in chains), default=None)
    finally:
        os.close(fd)


def prune(directory, keep, min_age=0, t=None):
    """Keep the newest `keep` complete chains (by arrival) of a duplicity directory and every
    chain whose last generation arrived less than min_age seconds ago; remove the older ones
    with every file named within them. Returns the names removed."""
    fd = _open_dir(directory)
    if fd is None:
        return []
    try:
        t = now() if t is None else t
        chains = chains_in(fd, t, directory) if keep > 0 else []
        bounds = [c["full"] for c in chains] + ["99999999T999999Z"]
        gone = {i for i, c in enumerate(chains[:-keep]) if t - c["last"] >= min_age}
        removed = []
        for name in os.listdir(fd):
            m = DUPLICITY.match(name)
            if m and any(bounds[i] <= m.group(2) < bounds[i + 1] for i in gone):
                os.unlink(name, dir_fd=fd)
                removed.append(name)
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
    """Temporary files of interrupted transfers, a day after they were sealed."""
    t, gone = now(), []

    def visit(dfd, _rel, name, st):
        if stat.S_ISREG(st.st_mode) and RSYNC_TEMP.match(name) and t - st.st_mtime > max_age:
            os.unlink(name, dir_fd=dfd)
            gone.append(name)
    walk(area, visit)
    return len(gone)


def maint_entry(user, entry, t):
    seal_entry(user, entry)
    removed = 0
    for ds, rules in sorted(entry.get("datasets", {}).items()):
        base = os.path.join(entry["area"], ds)
        min_age = int(rules.get("min_age_days", 0)) * 86400
        for sub, keep, manifests in (("@CHAIN@", "keep_full", "@MAN@"), ("@SYNC@", "sync_keep_full", "@SYNC_MAN@")):
            gone = prune(os.path.join(base, sub), int(rules[keep]), min_age, t)
            removed += len(gone) + len(prune_manifests(os.path.join(base, manifests), gone))
    removed += leftovers(entry["area"])
    if removed:
        log(syslog.LOG_INFO, f"retention removed {removed} file(s) of client {entry['client']}")


def maint():
    t = now()
    for user, entry in sorted(clients().items()):
        try:
            maint_entry(user, entry, t)
        except Exception as e:  # noqa: BLE001 - one client's area never stops the others'
            log(syslog.LOG_ERR, f"maintenance of client {entry.get('client', user)} failed: {type(e).__name__}: {e}")


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    {"gate": gate, "seal": seal, "maint": maint}.get(action, lambda: sys.exit(2))()
'''
# The folders of a data set at the receiver are receiver_layout's (the sender and restore read them there).
for _mark, _name in (("CHAIN", "CHAIN"), ("SYNC", "SYNC"), ("MAN", "MANIFESTS"), ("SYNC_MAN", "SYNC_MANIFESTS")):
    PROGRAM = PROGRAM.replace(f"@{_mark}@", getattr(receiver_layout, _name))
