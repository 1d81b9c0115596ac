# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backend of ivpb.backupbeleid.backup_receiver: the receiving side of §4 backups and syncs.

A system user (default ivpb-backup, shell /bin/sh, home = the base path, owned by root so the
user cannot change its own SSH restrictions), one directory per client (owned by the user,
0700), and authorized_keys with one line per client key:
`restrict,command="/usr/local/lib/ivpb/backup-gate <base>/<client>" <key>` - no pty, no
forwarding, and the gate only lets `rsync --server` through, with every path inside that
client's own directory. A client can neither read nor damage another client's backups."""

from __future__ import annotations

import pwd
import re
import shutil
import subprocess

from ansible_collections.ivpb.backupbeleid.plugins.module_utils import packages
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.backup_files import Files

GATE_PATH = "/usr/local/lib/ivpb/backup-gate"
GATE = r'''#!/usr/bin/python3
# ivpb backup gate (IVPB Backupbeleid §4): the forced command of every client key in the
# backup user's authorized_keys. Lets only rsync's server side through, with every path inside
# the client's own directory (argv[1]). Managed by ivpb.backupbeleid.backup_receiver.
import os
import shlex
import sys
import syslog

base = os.path.realpath(sys.argv[1])
command = os.environ.get("SSH_ORIGINAL_COMMAND", "")


def deny(why):
    syslog.openlog("ivpb-backup-gate")
    syslog.syslog(syslog.LOG_WARNING, f"denied for {base}: {why}: {command[:200]!r}")
    print(f"ivpb-backup-gate: denied: {why}", file=sys.stderr)
    sys.exit(1)


def inside(path):
    real = os.path.realpath(path)
    return real == base or real.startswith(base + "/")


try:
    argv = shlex.split(command)
except ValueError:
    deny("unparsable command")
if len(argv) < 3 or argv[0] != "rsync" or argv[1] != "--server":
    deny("only rsync is allowed")
for arg in argv[2:]:
    if arg.startswith("--") and "=" in arg:
        value = arg.split("=", 1)[1]
        if value.startswith("/") and not inside(value):
            deny(f"path outside {base}")
    elif arg.startswith("-") or arg == ".":
        continue
    elif not inside(arg if arg.startswith("/") else os.path.join(base, arg)):
        deny(f"path outside {base}")
os.execv("/usr/bin/rsync", argv)
'''

PACKAGES = ("rsync", "openssh-server")
KEY_RE = re.compile(r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+( .*)?$")


def _user_exists(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def clients_for(me, clients):
    """From {host: registered backup_job result}: [(host, key)] of the hosts that send here."""
    out = []
    for host, res in sorted((clients or {}).items()):
        if not isinstance(res, dict) or me not in (res.get("target_hosts") or []):
            continue
        key = (res.get("ssh_public_key") or "").strip()
        if key:
            out.append((host, key))
    return out


def render_keys(base, clients):
    lines = ["# ivpb backup clients (IVPB Backupbeleid §4); managed by ivpb.backupbeleid.backup_receiver"]
    for host, key in clients:
        if not KEY_RE.match(key):
            raise ValueError(f"{host}: ssh_public_key is not an OpenSSH public key line")
        lines.append(f'restrict,command="{GATE_PATH} {base}/{host}" {key}')
    return "\n".join(lines) + "\n"


def apply(p, check_mode=False, want_diff=False):
    me, user, base = p["hostname"], p["user"], p["path"].rstrip("/")
    clients = clients_for(me, p.get("clients"))
    files = Files(check_mode, want_diff)
    if p.get("install_packages", True):
        try:
            packages.into_files(files, PACKAGES)
        except packages.PackageError as e:
            raise ValueError(str(e)) from None
    actions = []
    if _user_exists(user) is None:
        actions.append(f"create user {user}")
        files.changed.append(f"user {user}")
        if not check_mode:
            if shutil.which("useradd") is None:
                raise ValueError("useradd is missing")
            subprocess.run(["useradd", "--system", "--home-dir", base, "--no-create-home",
                            "--shell", "/bin/sh", "--user-group", user], check=True, capture_output=True)
    if shutil.which("rsync") is None and not check_mode:
        raise ValueError("rsync is missing on the receiver")
    files.directory(base, 0o755)
    files.directory(f"{base}/.ssh", 0o755)
    files.file(GATE_PATH, GATE, 0o755)
    files.file(f"{base}/.ssh/authorized_keys", render_keys(base, clients), 0o644)
    for host, _key in clients:
        files.directory(f"{base}/{host}", 0o700, owner=user, group=user)
    changed = bool(files.changed)
    result = {"changed": changed, "user": user, "path": base,
              "clients": [h for h, _key in clients], "changed_paths": files.changed,
              "controls": []}
    if want_diff:
        result["diff"] = files.diffs
    return changed, result
