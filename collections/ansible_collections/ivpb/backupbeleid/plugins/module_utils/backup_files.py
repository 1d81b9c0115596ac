# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by the §4 backup modules: idempotent, check-mode aware files and directories.

Stdlib only (targets run Python 3.11 on Debian bookworm)."""

from __future__ import annotations

import grp
import os
import pwd
import stat
import tempfile


class Files:
    """Collects what a module changes (or would change, in check mode) and the diffs."""

    def __init__(self, check_mode=False, want_diff=False):
        self.check_mode = check_mode
        self.want_diff = want_diff
        self.changed = []
        self.diffs = []

    @staticmethod
    def _ids(owner, group):
        uid = pwd.getpwnam(owner).pw_uid if owner else 0
        gid = grp.getgrnam(group).gr_gid if group else 0
        return uid, gid

    def directory(self, path, mode=0o700, owner=None, group=None):
        """Ensure a directory with mode and owner. Returns True when it changed (or would)."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            st = None
        try:
            uid, gid = self._ids(owner, group)
        except KeyError:
            if not self.check_mode:
                raise
            uid = gid = -1  # the user is created by this very run; in check mode report drift
        if st is not None and stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == mode \
                and (uid == -1 or (st.st_uid, st.st_gid) == (uid, gid)):
            return False
        self.changed.append(path)
        if self.want_diff:
            before = "absent" if st is None else f"directory mode {stat.S_IMODE(st.st_mode):04o}"
            self.diffs.append({"before_header": path, "after_header": path,
                               "before": before + "\n", "after": f"directory mode {mode:04o}\n"})
        if not self.check_mode:
            os.makedirs(path, exist_ok=True)
            os.chmod(path, mode)
            os.chown(path, uid, gid)
        return True

    def file(self, path, content, mode=0o644, owner=None, group=None, masked=None):
        """Ensure a file's exact content, mode and owner. masked: the content to show in diffs
        instead of the real one (secrets). Returns True when it changed (or would)."""
        data = content.encode("utf-8")
        try:
            with open(path, "rb") as f:
                old = f.read()
            st = os.stat(path)
        except FileNotFoundError:
            old, st = None, None
        try:
            uid, gid = self._ids(owner, group)
        except KeyError:
            if not self.check_mode:
                raise
            uid = gid = -1
        same = old == data and st is not None and stat.S_IMODE(st.st_mode) == mode \
            and (uid == -1 or (st.st_uid, st.st_gid) == (uid, gid))
        if same:
            return False
        self.changed.append(path)
        if self.want_diff:
            shown_old = "" if old is None else old.decode("utf-8", "replace")
            shown_new = content
            if masked is not None:
                shown_old = masked if old is not None else ""
                shown_new = masked if old != data else masked
            self.diffs.append({"before_header": path, "after_header": path,
                               "before": shown_old, "after": shown_new})
        if not self.check_mode:
            folder = os.path.dirname(path)
            os.makedirs(folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".ivpb-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.chmod(tmp, mode)
                os.chown(tmp, uid, gid)
                os.replace(tmp, path)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
        return True

    def absent(self, path):
        if not os.path.lexists(path):
            return False
        self.changed.append(path)
        if self.want_diff:
            self.diffs.append({"before_header": path, "after_header": path,
                               "before": "present\n", "after": "absent\n"})
        if not self.check_mode:
            os.unlink(path)
        return True
