# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host toolkit of every backend: commands, files, systemd units and packages, check mode
and diff included, in one place.

Every backend has one shape, `enforce(host, params) -> result dict`, and raises one error type,
`ModuleFailure`; `run_module` is the entry point's whole body. A `Host` wraps the AnsibleModule:
commands go through `module.run_command` (tests pass a recording runner for systemctl), files are
written to a temporary file given its owner and mode, then renamed over the path, never through a
link another user could plant (see "files" below), and the diff of a change is built beside the
change (secrets through `show`). In check mode nothing on the host changes; what would
change is recorded all the same.

Stdlib and ansible.module_utils only (targets run Python 3.11 on Debian bookworm)."""

from __future__ import annotations

import contextlib
import errno
import grp
import os
import pwd
import stat
import sys

# `systemctl is-enabled` answers that mean the unit starts at boot (generated: a SysV script).
ENABLED = ("enabled", "enabled-runtime", "static", "alias", "generated")


class ModuleFailure(Exception):
    """Bad input or a failed step: one line naming the variable or the step, never a secret.
    result: fields the module returns beside msg (e.g. the controls in error)."""

    def __init__(self, msg, **result):
        super().__init__(msg)
        self.result = result


def last_line(text, fallback):
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return (lines[-1] if lines else fallback)[:200]


class Host:
    """One module call on one host: what it changed (or would change) and the diffs."""

    def __init__(self, module, run=None, root="/"):
        self.module = module
        self.check_mode = bool(module.check_mode)
        self.want_diff = bool(module._diff)
        self.root = root
        self._run = run or self._run_command
        self.changed = []
        self.diffs = []
        self.missing_packages = []

    # -- commands ---------------------------------------------------------------------------

    def _run_command(self, argv, data=None, env=None):
        path = argv[0] if "/" in argv[0] else self.module.get_bin_path(argv[0])
        if path is None:
            return 127, "", f"{argv[0]}: not installed"
        try:
            # expand_user_and_vars=False: the program gets its arguments as given, as from exec;
            # by default run_command would expand $VAR and ~ in them from this module's own
            # environment (a path or a name holding "$" or "~" would reach it changed).
            return self.module.run_command([path, *argv[1:]], data=data, handle_exceptions=False,
                                           expand_user_and_vars=False,
                                           environ_update={"LC_ALL": "C", **(env or {})})
        except OSError as e:
            return 127, "", f"{argv[0]}: {e.strerror}"

    def run(self, argv, data=None, env=None, timeout=None):
        """(rc, stdout, stderr); a missing program is rc 127, never an exception. timeout: seconds,
        through timeout(1)."""
        if timeout and self._run == self._run_command and self.module.get_bin_path("timeout"):
            argv = ["timeout", str(timeout), *argv]
        extra = {k: v for k, v in (("data", data), ("env", env)) if v is not None}
        return self._run(list(argv), **extra)

    def must(self, argv, **kwargs):
        """stdout of a command that has to succeed; else ModuleFailure naming it."""
        rc, out, err = self.run(argv, **kwargs)
        if rc != 0:
            raise ModuleFailure(f"{' '.join(argv[:2])} failed: {last_line(err or out, f'exit {rc}')}")
        return out

    # -- files ------------------------------------------------------------------------------
    # No owner or mode is ever set, and no file read, through a link another user could plant:
    # each directory on the way is opened one name at a time from the root (O_NOFOLLOW), and the
    # file or directory itself through a descriptor (fchown/fchmod). A link at a directory above
    # the path is followed only when root (or the user running the module) made it, as an
    # admin's /srv -> /data/srv: no other user can make such a link (fs.protected_hardlinks keeps
    # them from linking one of root's), so what ivpb writes never lands where they point it.

    def path(self, path):
        return path if self.root == "/" else os.path.join(self.root, path.lstrip("/"))

    @contextlib.contextmanager
    def _folder(self, path, create):
        """(descriptor of the directory that holds path, its last name); the descriptor is None when
        a directory on the way is absent and not create (then made as os.makedirs would)."""
        # The walk opens each name relative to its directory: an audit hook (the unit tests' guard
        # against reading this machine's own state, conftest.py) sees the whole path here.
        sys.audit("ivpb.host.path", self.path(path))
        names = [n for n in path.split("/") if n]
        if create:
            os.makedirs(self.root, exist_ok=True)  # the root itself is the caller's (a test's folder)
        try:
            fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            fd = None
        try:
            if fd is None:
                yield None, names[-1]
                return
            for depth, name in enumerate(names[:-1], 1):
                try:
                    inner = os.open(name, _DIR_NOFOLLOW, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        os.close(fd)
                        fd = None
                        break
                    os.mkdir(name, 0o777, dir_fd=fd)  # the umask decides, as for os.makedirs
                    inner = os.open(name, _DIR_NOFOLLOW, dir_fd=fd)
                except NotADirectoryError:
                    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                    if not stat.S_ISLNK(st.st_mode):
                        raise
                    if st.st_uid not in (0, os.geteuid()):
                        raise ModuleFailure(f"{path}: /{'/'.join(names[:depth])} is a symbolic link made by "
                                            f"{_user(st.st_uid)}, not by root: ivpb does not follow it") from None
                    inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
                os.close(fd)
                fd = inner
            yield fd, names[-1]
        finally:
            if fd is not None:
                os.close(fd)

    def read(self, path):
        """Text of a file, or None when it is absent, a link (never followed) or not UTF-8."""
        try:
            with self._folder(path, create=False) as (folder, name):
                old, _st = _current(folder, name, path)
            return None if old in (None, LINK) else old.decode("utf-8")
        except (NotADirectoryError, UnicodeDecodeError):
            return None

    def _ids(self, path, owner, group, hint):
        """(uid, gid) of owner and group (root when None). In check mode a user or group that does
        not exist yet is (-1, -1): this very run may make it (a package not installed yet, a user
        the backend adds first). Otherwise it is a failure naming the path and what is missing.
        hint: what the backend knows a missing owner means (which package lacks); only the backend
        knows where its users and groups come from, so it says so and the toolkit says the rest."""
        uid = gid = 0
        missing = []
        if owner:
            try:
                uid = pwd.getpwnam(owner).pw_uid
            except KeyError:
                missing.append(f"the user {owner}")
        if group:
            try:
                gid = grp.getgrnam(group).gr_gid
            except KeyError:
                missing.append(f"the group {group}")
        if not missing:
            return uid, gid
        if self.check_mode:
            return -1, -1
        verb = "do" if len(missing) > 1 else "does"
        raise ModuleFailure(f"{path}: {' and '.join(missing)} {verb} not exist "
                            f"({hint or 'expected before its files: made by a package or an earlier step'})")

    def _record(self, path, before, after):
        self.changed.append(path)
        if self.want_diff:
            self.diffs.append({"before_header": path, "after_header": path, "before": before, "after": after})

    def file(self, path, content, mode=0o644, owner=None, group=None, show=None, hint=None):
        """Exact content, mode and owner. show(text) -> what a diff shows of a text (secrets
        masked); hint: why owner or group would be missing (see _ids). Returns why it changed (or
        would): [] when it is right. A link at the path is replaced by the file, as Ansible's copy
        does (follow: false): the link's target is neither read nor changed."""
        data = content.encode("utf-8")
        uid, gid = self._ids(path, owner, group, hint)
        with self._folder(path, create=not self.check_mode) as (folder, name):
            old, st = _current(folder, name, path)
            show = show or (lambda text: text)
            if old is LINK:
                reasons, before = ["symbolic link (replaced by the file)"], "(a symbolic link, not followed)\n"
            else:
                reasons = [] if old == data else ["content"]
                before = "" if old is None else show(old.decode("utf-8", "replace"))
            if st is not None and (stat.S_IMODE(st.st_mode) != mode
                                   or uid != -1 and (st.st_uid, st.st_gid) != (uid, gid)):
                reasons.append(f"owner/mode (want {owner or 'root'}:{group or 'root'} {mode:04o})")
            if not reasons:
                return reasons
            self._record(path, before, show(content))
            if not self.check_mode:
                _write(folder, name, data, mode, uid, gid)
        return reasons

    def directory(self, path, mode=0o700, owner=None, group=None, hint=None):
        """A directory with mode and owner (hint: as for file). Returns True when it changed (or
        would). A link at the path is refused, as Ansible's file does (state: directory, follow:
        false): it is someone's choice ivpb cannot know, and never a place to hand owner or mode."""
        uid, gid = self._ids(path, owner, group, hint)
        with self._folder(path, create=not self.check_mode) as (folder, name):
            try:
                st = None if folder is None else os.stat(name, dir_fd=folder, follow_symlinks=False)
            except FileNotFoundError:
                st = None
            if st is not None and stat.S_ISLNK(st.st_mode):
                raise ModuleFailure(f"{path} is a symbolic link: ivpb sets owner and mode only on a real directory, "
                                    "never through a link (remove it, or give the directory it points to)")
            if st is not None and not stat.S_ISDIR(st.st_mode):
                raise ModuleFailure(f"{path} exists and is not a directory")
            if st is not None and stat.S_IMODE(st.st_mode) == mode \
                    and (uid == -1 or (st.st_uid, st.st_gid) == (uid, gid)):
                return False
            before = "absent" if st is None else f"directory mode {stat.S_IMODE(st.st_mode):04o}"
            self._record(path, before + "\n", f"directory mode {mode:04o}\n")
            if not self.check_mode:
                if st is None:
                    os.mkdir(name, mode, dir_fd=folder)
                fd = os.open(name, _DIR_NOFOLLOW, dir_fd=folder)
                try:
                    os.fchown(fd, uid, gid)
                    os.fchmod(fd, mode)  # after the owner: the mode is the one asked, umask or not
                finally:
                    os.close(fd)
        return True

    def absent(self, path):
        with self._folder(path, create=False) as (folder, name):
            try:
                if folder is None:
                    return False
                os.stat(name, dir_fd=folder, follow_symlinks=False)
            except FileNotFoundError:
                return False
            self._record(path, "present\n", "absent\n")
            if not self.check_mode:
                os.unlink(name, dir_fd=folder)  # a link itself, never what it points to
        return True

    # -- systemd ----------------------------------------------------------------------------

    def unit_state(self, unit):
        """(enabled, active) of a systemd unit."""
        rc, out, _err = self.run(["systemctl", "is-enabled", unit])
        enabled = out.strip() in ENABLED
        rc, _out, _err = self.run(["systemctl", "is-active", unit])
        return enabled, rc == 0

    def process_running(self, name):
        """Whether a process named name (at most 15 bytes: what the kernel keeps) runs: a
        /proc/PID/comm that is name, the match of `pgrep -x name` without starting pgrep."""
        proc = self.path("/proc")
        try:
            pids = [entry for entry in os.listdir(proc) if entry.isdigit()]
        except FileNotFoundError:
            return False
        want = name.encode() + b"\n"
        for pid in pids:
            try:
                with open(os.path.join(proc, pid, "comm"), "rb") as f:
                    if f.read() == want:
                        return True
            except OSError:  # the process ended meanwhile
                continue
        return False

    def systemctl(self, actions):
        """Run [(verb, unit)] in order (not in check mode); a failure is one line."""
        for verb, unit in actions if not self.check_mode else ():
            rc, out, err = self.run(["systemctl", verb, *([unit] if unit else [])])
            if rc != 0:
                raise ModuleFailure(f"systemctl {verb} {unit or ''}".rstrip()
                                    + f" failed: {last_line(err or out, f'exit {rc}')}")

    def unit(self, unit, restart=False, daemon_reload=False):
        """Enabled and running; restarted when restart (its files changed) and it already ran.
        Returns (actions [(verb, unit)], enabled, active) after the call (as found in check mode)."""
        enabled, active = self.unit_state(unit)
        actions = [("daemon-reload", None)] if daemon_reload else []
        if not enabled:
            actions.append(("enable", unit))
        if not active:
            actions.append(("start", unit))
        elif restart:
            actions.append(("restart", unit))
        if actions and not self.check_mode:
            self.systemctl(actions)
            enabled, active = self.unit_state(unit)
        return actions, enabled, active


_DIR_NOFOLLOW = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
LINK = object()  # what _current finds at a path that is a symbolic link


def _user(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _current(folder, name, path):
    """(bytes, stat) of the file name in the directory folder: (None, None) when absent, (LINK,
    None) for a link, which is never followed; anything else than a file is a failure naming path."""
    if folder is None:
        return None, None
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    except FileNotFoundError:
        return None, None
    except OSError as e:
        if e.errno != errno.ELOOP:
            raise
        return LINK, None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise ModuleFailure(f"{path} exists and is not a regular file")
        return f.read(), st


def _write(folder, name, data, mode, uid, gid):
    """data as name in the directory folder, with owner and mode set on the new file's descriptor
    before it takes the name (rename: atomic, and over a link it replaces the link). Not through
    AnsibleModule.atomic_move: that one sets mode and owner by path after the rename (following
    a link put there meanwhile) and gives a new file the module's own owner."""
    for _try in range(100):
        tmp = f".ivpb-{os.urandom(6).hex()}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=folder)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(errno.EEXIST, "no free temporary name", name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            os.fchown(f.fileno(), uid, gid)
            os.fchmod(f.fileno(), mode)  # after the owner: chown drops setuid/setgid bits
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=folder)
        raise


def run_module(module, enforce, prefix=None, host=None):
    """The whole body of a module's main(): enforce(host, params) -> exit_json, or fail_json with
    one line (prefixed by the host name when given)."""
    host = host or Host(module)
    lead = f"{prefix}: " if prefix else ""
    try:
        result = enforce(host, module.params)
    except ModuleFailure as e:
        module.fail_json(msg=lead + str(e), **e.result)
    except OSError as e:
        where = f" ({e.filename})" if e.filename else ""
        module.fail_json(msg=f"{lead}{e.strerror or e}{where}")
    if host.missing_packages:
        result["changed"] = True
        result["packages"] = host.missing_packages
    module.exit_json(**result)
