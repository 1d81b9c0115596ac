# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The continuous-sync part of ivpb.backupbeleid.backup_job: sync to another site (§4,
backup.sync_offsite) with lsyncd, in the same module call as the backup jobs (one round trip).

lsyncd watches each data set (inotify), collects the changes for `delay` seconds and then runs
the same job script as the backups, which takes the data set's lock: `ivpb-backup sync
<dataset>`. That script pushes duplicity increments - plain, or GPG-encrypted for a confidential
data set (backup.encrypted), so no plaintext of it leaves the host and no FUSE is needed - to an
append-only receiver: a deletion or ransomware damage at the source is one more version at the
target, never the loss of the earlier ones. A cron heartbeat proves the copy current while the
data is quiet. One script for backups and syncs means one place for SSH key, logs, syslog,
failure hook and status (last transfer) - and the lock keeps a sync and a backup of the same
data set from running at once."""

from __future__ import annotations

import shutil
import subprocess

from ansible_collections.ivpb.backupbeleid.plugins.module_utils import input_rules
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.backup_files import Files
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.backup_job import (
    SCRIPT_PATH,
    read_failure,
    read_status,
)

CONF = "/etc/lsyncd/lsyncd.conf.lua"
SERVICE = "lsyncd"


def _lua(s):
    return input_rules.lua_string(str(s))


def render(syncs):
    """The lsyncd configuration for [{dataset, source, delay}]."""
    out = [
        "-- IVPB Backupbeleid §4 Backups: continuous sync to another site (backup.sync_offsite).",
        "-- Managed by ivpb.backupbeleid.offsite_sync; changes here are overwritten.",
        "settings {",
        '    logfile = "/var/log/lsyncd/lsyncd.log",',
        '    statusFile = "/var/log/lsyncd/lsyncd.status",',
        "    insist = true,        -- keep trying when a target is unreachable at start",
        "    maxProcesses = 4,",
        "}",
        "",
        "-- Every collected batch of changes runs the job script once (it takes the data set's lock).",
        "local function ivpb_sync(dataset)",
        "    local run = function(event)",
        f'        spawn(event, {_lua(SCRIPT_PATH)}, "sync", dataset)',
        "    end",
        "    return {",
        "        maxProcesses = 1,",
        "        -- any failure (target unreachable at start, network gone): retry after the delay;",
        "        -- the job script alerts once per outage (syslog every time)",
        "        exitcodes = { [0] = \"ok\", [1] = \"again\", [75] = \"again\" },",
        "        action = function(inlet)",
        "            run(inlet.getEvents(function(event) return true end))",
        "        end,",
        "        init = function(event) run(event) end,",
        "    }",
        "end",
        "",
    ]
    for s in syncs:
        out.append(f"sync {{ ivpb_sync({_lua(s['dataset'])}), source = {_lua(s['source'])}, "
                   f"delay = {int(s['delay'])} }}")
    return "\n".join(out) + "\n"


def _systemctl(*args):
    return subprocess.run(["systemctl", *args], capture_output=True, text=True, check=False)


def service_state():
    if shutil.which("systemctl") is None or shutil.which("lsyncd") is None:
        return {"installed": False, "enabled": False, "active": False}
    enabled = _systemctl("is-enabled", SERVICE).stdout.strip()
    # Debian's lsyncd has a SysV script only: its generated unit stays "active (exited)" when
    # the daemon dies, so the process itself is what counts.
    running = subprocess.run(["pgrep", "-x", "lsyncd"], capture_output=True, check=False).returncode == 0
    return {"installed": True, "enabled": enabled in ("enabled", "generated", "alias", "static"),
            "active": running and _systemctl("is-active", SERVICE).stdout.strip() == "active"}


def apply(p, check_mode=False, want_diff=False):
    syncs = [{"dataset": s["dataset"], "source": s["source"], "delay": int(s.get("delay") or 15),
              "heartbeat_minutes": s.get("heartbeat_minutes"), "target": s.get("target", "")}
             for s in p.get("syncs") or []]
    files = Files(check_mode, want_diff)
    before = service_state()
    actions = []
    if syncs and not before["installed"] and not check_mode:
        return False, {"failed": True, "msg": "lsyncd is not installed"}
    if syncs:
        files.directory("/var/log/lsyncd", 0o750)
    conf_changed = files.file(CONF, render(syncs), 0o644) if syncs else files.absent(CONF)
    if syncs:
        if not before["enabled"]:
            actions.append("enable")
        if not before["active"] or conf_changed:
            actions.append("restart")
    elif before["installed"] and before["active"]:
        actions.append("stop")
    if actions and not check_mode:
        for a in actions:
            r = _systemctl(a, SERVICE)
            if r.returncode != 0:
                return True, {"failed": True, "msg": f"systemctl {a} {SERVICE} failed: {r.stderr.strip()[:200]}"}
    after = service_state() if not check_mode else before
    changed = bool(files.changed or actions)
    controls = []
    for s in syncs:
        ok = after["active"] and not (check_mode and changed)
        controls.append({
            "id": "backup.sync_offsite", "dataset": s["dataset"],
            "status": "compliant" if ok else ("drift" if check_mode else "error"),
            "detail": f"lsyncd pushes {s['source']} to {s['target']} after {s['delay']} s of changes; "
                      f"checked every {s['heartbeat_minutes']} min",
            "evidence": {k: v for k, v in {"delay": s["delay"], "target": s["target"],
                                           "heartbeat_minutes": s["heartbeat_minutes"],
                                           "last_sync": read_status(s["dataset"], "last_sync"),
                                           "sync_failed": read_failure(s["dataset"], "sync"),
                                           "lsyncd_active": after["active"]}.items() if v is not None},
        })
    result = {"changed": changed, "controls": controls,
              "service": {"name": SERVICE, **after, "actions": actions},
              "changed_paths": files.changed}
    if want_diff:
        result["diff"] = files.diffs
    return changed, result
