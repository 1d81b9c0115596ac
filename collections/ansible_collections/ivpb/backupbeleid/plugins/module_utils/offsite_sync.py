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

# backup_job runs this part in its own call and hands it the job script and the status reader:
# the import points one way (backup_job -> offsite_sync).
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import input_rules
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import ModuleFailure

CONF = "/etc/lsyncd/lsyncd.conf.lua"
SERVICE = "lsyncd"


def _lua(s):
    return input_rules.lua_string(str(s))


def render(syncs, script):
    """The lsyncd configuration for [{dataset, source, delay}]; script: the job script's path."""
    out = [
        "-- IVPB Backupbeleid §4 Backups: continuous sync to another site.",
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
        f'        spawn(event, {_lua(script)}, "sync", dataset)',
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


def service_state(host):
    if shutil.which("systemctl") is None or shutil.which("lsyncd") is None:
        return {"installed": False, "enabled": False, "active": False}
    enabled, active = host.unit_state(SERVICE)
    # Debian's lsyncd has a SysV script only: its generated unit stays "active (exited)" when
    # the daemon dies, so the process itself is what counts.
    running = host.process_running("lsyncd")
    return {"installed": True, "enabled": enabled, "active": running and active}


def enforce(host, sync_list, script, status):
    """The lsyncd part of backup_job's call for its syncs [{id, dataset, source, delay,
    heartbeat_minutes, target}] (id: the control the sync is reported under); script: the job
    script lsyncd runs; status(dataset) -> (last sync, failure or None), read from the job's
    status files. Returns {changed, controls, service} of this part alone."""
    syncs = [{"id": s["id"], "dataset": s["dataset"], "source": s["source"], "delay": int(s.get("delay") or 15),
              "heartbeat_minutes": s.get("heartbeat_minutes"), "target": s.get("target", "")}
             for s in sync_list or []]
    check_mode = host.check_mode
    before_changes = len(host.changed)
    before = service_state(host)
    actions = []
    if syncs and not before["installed"] and not check_mode:
        raise ModuleFailure("lsyncd is not installed")
    if syncs:
        host.directory("/var/log/lsyncd", 0o750)
    conf_changed = host.file(CONF, render(syncs, script), 0o644) if syncs else host.absent(CONF)
    if syncs:
        if not before["enabled"]:
            actions.append("enable")
        if not before["active"] or conf_changed:
            actions.append("restart")
    elif before["installed"] and before["active"]:
        actions.append("stop")
    host.systemctl([(a, SERVICE) for a in actions])
    after = service_state(host) if not check_mode else before
    changed = bool(len(host.changed) > before_changes or actions)
    controls = []
    for s in syncs:
        last, failed = status(s["dataset"])
        ok = after["active"] and not (check_mode and changed)
        controls.append({
            "id": s["id"], "dataset": s["dataset"],
            "status": "compliant" if ok else ("drift" if check_mode else "error"),
            "detail": f"lsyncd pushes {s['source']} to {s['target']} after {s['delay']} s of changes; "
                      f"checked every {s['heartbeat_minutes']} min",
            "message": {"id": "offsite_sync.pushes", "params": {
                "source": s["source"], "target": s["target"], "delay": s["delay"],
                "heartbeat": s["heartbeat_minutes"]}},
            "evidence": {k: v for k, v in {"delay": s["delay"], "target": s["target"],
                                           "heartbeat_minutes": s["heartbeat_minutes"],
                                           "last_sync": last, "sync_failed": failed,
                                           "lsyncd_active": after["active"]}.items() if v is not None},
        })
    return {"changed": changed, "controls": controls, "service": {"name": SERVICE, **after, "actions": actions}}
