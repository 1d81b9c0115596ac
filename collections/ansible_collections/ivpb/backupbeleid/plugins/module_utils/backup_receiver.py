# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backend of ivpb.backupbeleid.backup_receiver: the receiving side of §4 backups and syncs.

One wall per client, built by the operating system: every client of every target on this host
gets a Unix user of its own (receiver_layout.client_user), whose home is its area
<target path>/<client> (root:<user> 0750, so it cannot change its own SSH restrictions), with one
directory per data set (root:<user> 1770: the client may add, never remove what is not its own).
Its key may only run the receiver program's gate (restrict + forced command), which hands the
transfer to rrsync confined to the area and then has root seal what arrived (receiver_program).
Retention runs here, from cron, never from the client. The clients and their data sets come
from the inventory: a client that is not part of this run (--limit) keeps its key."""

from __future__ import annotations

import glob
import grp
import json
import os
import pwd
import shutil
import stat
import time

from ansible_collections.ivpb.backupbeleid.plugins.module_utils import (
    input_rules,
    packages,
    receiver_layout,
    receiver_program,
)
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import ModuleFailure

PACKAGES = ("rsync", "openssh-server", "sudo", "cron")
HEADER = "# ivpb backup client key (IVPB Backupbeleid §4); managed by ivpb.backupbeleid.backup_receiver\n"
MAINT_TIME = "15 4 * * *"
DEFAULT_SYNC_KEEP_FULL = 2


def _user(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def authorized_line(key):
    key = " ".join(str(key).split())
    if not receiver_layout.CLIENT_KEY_RE.fullmatch(key):
        raise ModuleFailure("ssh_public_key is not an OpenSSH public key line")
    return f'restrict,command="{receiver_program.PATH} gate" {key}\n'


def current_key(host, path):
    """The key line an earlier run authorized (kept when the client is not part of this run)."""
    for line in (host.read(path) or "").splitlines():
        if line.startswith("restrict,command=") and '" ' in line:
            return line.split('" ', 1)[1].strip()
    return None


def wanted(p):
    """[(user, entry)] for every client of every target on this host, from the inventory (entries
    of one client and target are merged). Every
    name becomes a path component or a user name: each is checked here, whoever called."""
    try:
        paths = {input_rules.identifier(t["name"], "targets[].name"):
                 input_rules.abs_path(t["path"], f"targets.{t['name']}.path") for t in p.get("targets") or []}
        quotas = {t["name"]: input_rules.quota(t.get("quota"), f"targets.{t['name']}.quota")
                  for t in p.get("targets") or []}
        share = {}  # target -> its clients: the default quota is an equal share of its file system
        for c in p.get("clients") or []:
            share.setdefault(c["target"], set()).add(c["client"])
        out, seen = {}, {}
        for i, c in enumerate(p.get("clients") or []):
            client = input_rules.host_name(c["client"], f"clients[{i}].client")
            if c["target"] not in paths:
                raise ValueError(f"clients[{i}].target: {c['target']!r} is not a target on this host")
            user = receiver_layout.client_user(c["target"], client)
            if seen.setdefault(user, (client, c["target"])) != (client, c["target"]):
                raise ValueError(f"clients {seen[user][0]} and {client} map to the same user {user}")
            datasets = out.get(user, {}).get("datasets", {})
            for ds, rules in sorted((c.get("datasets") or {}).items()):
                input_rules.identifier(ds, f"clients[{i}].datasets")
                rules = rules or {}
                datasets[ds] = {"keep_full": _count(rules.get("keep_full"), input_rules.KEEP_FULL,
                                                    f"clients[{i}].datasets.{ds}.keep_full"),
                                "sync_keep_full": _count(rules.get("sync_keep_full"), DEFAULT_SYNC_KEEP_FULL,
                                                         f"clients[{i}].datasets.{ds}.sync_keep_full"),
                                "min_age_days": _count(rules.get("min_age_days"), 0,
                                                       f"clients[{i}].datasets.{ds}.min_age_days", least=0, most=36500)}
            out[user] = {"client": client, "target": c["target"],
                         "area": receiver_layout.area(paths[c["target"]], client), "datasets": datasets,
                         "quota": quotas[c["target"]], "share": len(share[c["target"]])}
    except ValueError as e:
        raise ModuleFailure(str(e)) from None
    return sorted(out.items())


def _count(value, default, what, least=1, most=1000):
    n = default if value in (None, "") else value
    if isinstance(n, bool) or not isinstance(n, int) and not str(n).isdigit() or not least <= int(n) <= most:
        raise ValueError(f"{what}: {value!r} is not a whole number from {least} to {most}")
    return int(n)


def protected(entry, program=None):
    """data set -> the arrival (this host's clock, ISO UTC) of the newest complete, sealed
    generation of its chain, or None: the receiver program's own judgement (receiver_program)."""
    program = program or receiver_program.load()
    out = {}
    for ds in entry["datasets"]:
        chain = f"{entry['area']}/{ds}/{receiver_layout.CHAIN}"
        try:
            st = os.lstat(chain)
            real = stat.S_ISDIR(st.st_mode) and st.st_uid == program["SEALED_UID"]  # never a client's link
        except OSError:
            real = False
        arrived = program["newest"](chain) if real else None
        out[ds] = None if arrived is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(arrived))
    return out


def merged_protected(entries):
    """client -> data set -> newest sealed backup over all of this host's targets."""
    out, program = {}, receiver_program.load()
    for _user, entry in entries:
        mine = out.setdefault(entry["client"], {})
        for ds, stamp in (protected(entry, program) if os.path.isdir(entry["area"]) else {}).items():
            mine[ds] = max(filter(None, (mine.get(ds), stamp)), default=None)
    return out


def host_keys(host):
    """This receiver's SSH host keys, which its clients pin."""
    keys = []
    for path in sorted(glob.glob(host.path("/etc/ssh/ssh_host_*_key.pub"))):
        with open(path, encoding="utf-8") as f:
            keys.append(" ".join(f.read().split()[:2]))
    return keys


def enforce(host, p):
    """The backup_receiver module: users, areas, keys, the receiver program, sudoers and cron."""
    check_mode = host.check_mode
    packages.for_params(host, p, PACKAGES)
    if not check_mode:
        missing = [t for t in ("rsync", "rrsync", "sudo", "useradd") if shutil.which(t) is None]
        if missing:
            raise ModuleFailure(f"missing on the receiver: {', '.join(missing)}")
    entries = wanted(p)
    keys = p.get("keys") or {}
    legacy = p.get("legacy_user") or ""
    legacy_pw = _user(legacy) if legacy else None
    group = receiver_program.GROUP
    try:
        grp.getgrnam(group)
    except KeyError:
        host.changed.append(f"group {group}")
        if not check_mode:
            host.must(["groupadd", "--system", group])

    config = {}
    authorized, pending = [], []
    for user, entry in entries:
        if _user(user) is None:
            host.changed.append(f"user {user}")
            if not check_mode:
                host.must(["useradd", "--system", "--home-dir", entry["area"], "--no-create-home",
                           "--shell", "/bin/sh", "--user-group", "--groups", group, user])
        base = os.path.dirname(entry["area"])
        host.directory(base, 0o755)
        host.directory(entry["area"], 0o750, group=user)
        host.directory(f"{entry['area']}/.ssh", 0o755)
        akeys = f"{entry['area']}/.ssh/authorized_keys"
        key = keys.get(entry["client"]) or current_key(host, akeys)
        try:
            line = authorized_line(key) if key else ""
        except ModuleFailure as e:
            raise ModuleFailure(f"client {entry['client']}: {e}") from None
        host.file(akeys, HEADER + line, 0o644)
        (authorized if line else pending).append(entry["client"])
        for ds in entry["datasets"]:
            host.directory(f"{entry['area']}/{ds}", 0o1770, group=user)
        if legacy_pw is not None:
            entry = {**entry, "adopt_users": [legacy]}
        config[user] = entry

    # Clients that the inventory no longer sends here lose their key (their data stays).
    old = _read_json(host, receiver_program.CONFIG)
    for user, entry in sorted(old.items()):
        if user not in config and os.path.isdir(host.path(f"{entry.get('area', '')}/.ssh")):
            host.file(f"{entry['area']}/.ssh/authorized_keys", HEADER, 0o644)
    # The shared backup user of collection 0.2 is no way in any more.
    if legacy_pw is not None:
        host.absent(f"{legacy_pw.pw_dir.rstrip('/')}/.ssh/authorized_keys")

    host.directory("/etc/ivpb", 0o755)
    host.directory("/etc/ivpb/receiver", 0o755)
    host.directory(os.path.dirname(receiver_program.PATH), 0o755)
    host.file(receiver_program.PATH, receiver_program.PROGRAM, 0o755)
    host.file(receiver_program.CONFIG, json.dumps(config, indent=1, sort_keys=True) + "\n", 0o644)
    sudoers = (f"# ivpb backup receiver: the gate of every client seals what it sent; managed by ivpb\n"
               f"%{group} ALL=(root) NOPASSWD: {receiver_program.PATH} seal\n")
    if host.file(receiver_program.SUDOERS, sudoers, 0o440) and not check_mode:
        host.must(["visudo", "-c", "-q", "-f", receiver_program.SUDOERS])
    host.file(receiver_program.CRON,
              "# ivpb backup receiver: seal, retention; managed by ivpb.backupbeleid.backup_receiver\n"
              f"{MAINT_TIME} root {receiver_program.PATH} maint\n", 0o644)

    changed = bool(host.changed)
    result = {
        "changed": changed,
        "clients": sorted({e["client"] for _u, e in entries}),
        "authorized": sorted(set(authorized)),
        "waiting_for_key": sorted(set(pending)),
        "users": {u: e["client"] + "@" + e["target"] for u, e in entries},
        "protected": merged_protected(entries),
        "host_keys": host_keys(host),
        "changed_paths": host.changed,
        "controls": [],
    }
    if host.want_diff:
        result["diff"] = host.diffs
    return result


def _read_json(host, path):
    try:
        data = json.loads(host.read(path) or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
