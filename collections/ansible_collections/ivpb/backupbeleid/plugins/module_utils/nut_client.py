# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backend of ivpb.backupbeleid.nut_client: NUT upsmon as a network client (§2 Stroomvoorziening).

Pure standard library (runs on the target, Python 3.11). Everything that touches the system goes
through a `System` object, so the logic is unit-tested without a host and the module entry stays
thin.

NUT's configuration parser (common/parseconf.c) splits words on blanks, starts a comment at `#`,
and takes a word in double quotes with backslash escapes; inside quotes an unescaped `#` is a
parse error. upsmon 2.8.0 then sends the password to upsd as `PASSWORD <pw>` *unquoted*, and upsd
parses that network line with the same parser: a password with blanks or quotes arrives as
several words and upsd answers ERR INVALID-ARGUMENT. So a password that needs quoting is written
quoted twice in upsmon.conf (the config parser removes one level, upsd the other); upsd.users
quotes it once. Checked on Debian bookworm's NUT 2.8.0. A plain password is written bare, which
every NUT version reads the same way.
"""

from __future__ import annotations

import grp
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field

from ansible_collections.ivpb.backupbeleid.plugins.module_utils import input_rules

NUT_CONF = "/etc/nut/nut.conf"
UPSMON_CONF = "/etc/nut/upsmon.conf"
NOTIFY_SCRIPT = "/etc/nut/ivpb-notify"
SERVICE = "nut-monitor.service"
MASK = "********"
HEADER = "# Managed by ivpb.backupbeleid.nut_client (IVPB Backupbeleid, §2 Stroomvoorziening). Do not edit.\n"
EVENTS = ("ONLINE", "ONBATT", "LOWBATT", "FSD", "COMMOK", "COMMBAD", "SHUTDOWN", "REPLBATT",
          "NOCOMM", "NOPARENT")
PLAIN_WORD = input_rules.NUT_PLAIN
MAX_SECRET = 200  # upsmon builds "PASSWORD %s\n" in a 512-byte buffer
LEVELS = ("ordinary", "redundant")


class NutClientError(Exception):
    """Bad input: one line that names the option and what is expected (never a secret)."""


quote_word = input_rules.nut_quote  # a NUT config word in quotes ('\\', '"' and '#' escaped)


encode_word = input_rules.nut_word  # one NUT config word: bare if it needs no quoting, else quoted


def encode_monitor_password(password: str) -> str:
    """The password word of a MONITOR line (see the module docstring: quoted twice if needed)."""
    if PLAIN_WORD.fullmatch(password):
        return password
    return encode_word(encode_word(password))


def check_secret(value, what: str) -> None:
    try:
        input_rules.secret(value, what, MAX_SECRET)
    except ValueError as e:
        raise NutClientError(str(e)) from None


@dataclass
class Ups:
    name: str
    server: str
    user: str
    password: str
    port: int = 3493
    power_value: int = 1

    @property
    def system(self) -> str:
        return f"{self.name}@{self.server}" + ("" if self.port == 3493 else f":{self.port}")


@dataclass
class Settings:
    level: str
    ups: list[Ups]
    mode: str = "netclient"
    min_supplies: int = 1
    shutdown_command: str = "/sbin/shutdown -h +0"
    pollfreq: int = 5
    pollfreq_alert: int = 5
    hostsync: int = 15
    deadtime: int = 15
    finaldelay: int = 5
    notify_webhook: str | None = None
    notify_mail: str | None = None
    extra_notify_flags: dict[str, str] = field(default_factory=dict)


def _int(value, what: str, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().lstrip("-").isdigit():
        raise NutClientError(f"{what}: expected a whole number, got {input_rules.shown(value)}")
    return int(value)


def settings_from_params(p: dict) -> Settings:
    """Module parameters to Settings; raises NutClientError (one line) on bad input. Every value
    is checked with the shared rules (input_rules), as the controller's schema checks it, so a
    playbook that calls the module directly is held to the same rules."""
    try:
        return _settings(p)
    except ValueError as e:
        raise NutClientError(str(e)) from None


def _settings(p: dict) -> Settings:
    level = p.get("level")
    if level not in LEVELS:
        raise NutClientError(f"level: expected one of {', '.join(LEVELS)}, got {input_rules.shown(level)}")
    ups_list = []
    ups_param = p.get("ups") or []
    if not isinstance(ups_param, list):
        raise NutClientError("ups: expected a list of UPSes")
    for i, u in enumerate(ups_param):
        where = f"ups[{i}]"
        if not isinstance(u, dict):
            raise NutClientError(f"{where}: expected a mapping with name, server, user, password")
        for key in ("name", "server", "user"):
            if not isinstance(u.get(key), str) or not u.get(key):
                raise NutClientError(f"{where}.{key}: required, a non-empty string")
        input_rules.nut_name(u["name"], f"{where}.name")
        input_rules.host_name(u["server"], f"{where}.server")
        input_rules.nut_name(u["user"], f"{where}.user")
        check_secret(u.get("password"), f"{where}.password")
        port = _int(u.get("port"), f"{where}.port", 3493)
        pv = _int(u.get("power_value"), f"{where}.power_value", 1)
        if not 1 <= port <= 65535:
            raise NutClientError(f"{where}.port: expected 1-65535, got {port}")
        if pv < 0:
            raise NutClientError(f"{where}.power_value: expected 0 or more, got {pv}")
        ups_list.append(Ups(u["name"], u["server"], u["user"], u["password"], port, pv))
    if not ups_list:
        raise NutClientError("ups: at least one UPS is required (power.ups, §2)")
    systems = [u.system for u in ups_list]
    dupes = sorted({s for s in systems if systems.count(s) > 1})
    if dupes:
        raise NutClientError(f"ups: {', '.join(dupes)} listed more than once")
    s = Settings(level=level, ups=ups_list)
    for key in ("min_supplies", "pollfreq", "pollfreq_alert", "hostsync", "deadtime", "finaldelay"):
        setattr(s, key, _int(p.get(key), key, getattr(s, key)))
    for key in ("mode", "shutdown_command", "notify_webhook", "notify_mail"):
        if p.get(key) is not None:
            setattr(s, key, p[key])
    if s.mode not in ("netclient", "netserver", "standalone"):
        raise NutClientError(f"mode: expected netclient, netserver or standalone, got {input_rules.shown(s.mode)}")
    for key in ("pollfreq", "pollfreq_alert", "hostsync", "deadtime"):
        if getattr(s, key) < 1:
            raise NutClientError(f"{key}: expected 1 or more seconds")
    if s.finaldelay < 0:
        raise NutClientError("finaldelay: expected 0 or more seconds")
    input_rules.nut_deadtime(s.deadtime, s.pollfreq, "deadtime")
    if s.min_supplies < 1:
        raise NutClientError("min_supplies: expected 1 or more")
    input_rules.command_line(s.shutdown_command, "shutdown_command")
    if s.notify_webhook is not None:
        input_rules.url(s.notify_webhook, "notify_webhook")
    if s.notify_mail is not None:
        input_rules.mail(s.notify_mail, "notify_mail")
    total = sum(u.power_value for u in ups_list)
    if total < s.min_supplies:
        raise NutClientError(
            f"min_supplies: {s.min_supplies} is more than the power values of all UPSes ({total}): "
            "the host would shut down at once")
    if level == "redundant":
        distinct = {u.system for u in ups_list if u.power_value > 0}
        if len(distinct) < 2:
            raise NutClientError(
                "ups: power.redundant_ups (§2) needs at least two distinct UPSes with power_value >= 1, "
                f"got {len(distinct)}")
        if total - max(u.power_value for u in ups_list) < s.min_supplies:
            raise NutClientError(
                f"min_supplies: with {s.min_supplies} the host does not survive the loss of one UPS "
                "(power.redundant_ups, §2); lower min_supplies or raise the power values")
    return s


# --- rendering -------------------------------------------------------------------------------

def render_nut_conf(s: Settings) -> str:
    return HEADER + f"MODE={s.mode}\n"


def render_upsmon_conf(s: Settings, masked: bool = False) -> str:
    lines = [HEADER.rstrip("\n")]
    if s.level == "redundant":
        lines.append("# Redundant supply (power.redundant_ups): the host survives the loss of any one UPS and")
        lines.append("# shuts down only when the UPSes left cannot give MINSUPPLIES.")
    else:
        lines.append("# Ordinary supply (power.ups): the host shuts down cleanly before its UPS runs out.")
    for u in s.ups:
        pw = MASK if masked else encode_monitor_password(u.password)
        lines.append(f"MONITOR {u.system} {u.power_value} {u.user} {pw} secondary")
    lines += [
        f"MINSUPPLIES {s.min_supplies}",
        f"SHUTDOWNCMD {encode_word(s.shutdown_command)}",
        "POWERDOWNFLAG /etc/killpower",
        f"POLLFREQ {s.pollfreq}",
        f"POLLFREQALERT {s.pollfreq_alert}",
        f"HOSTSYNC {s.hostsync}",
        f"DEADTIME {s.deadtime}",
        f"FINALDELAY {s.finaldelay}",
        "RBWARNTIME 43200",
        "NOCOMMWARNTIME 300",
    ]
    notify = bool(s.notify_webhook or s.notify_mail)
    if notify:
        lines.append(f"NOTIFYCMD {NOTIFY_SCRIPT}")
    flags = "SYSLOG+WALL+EXEC" if notify else "SYSLOG+WALL"
    lines += [f"NOTIFYFLAG {ev} {flags}" for ev in EVENTS]
    return "\n".join(lines) + "\n"


_sh_quote = input_rules.sh_quote


def render_notify_script(s: Settings) -> str:
    return f"""#!/bin/sh
{HEADER}# upsmon NOTIFYCMD: every power event goes to syslog, and to the webhook / mail below if set.
WEBHOOK={_sh_quote(s.notify_webhook or '')}
MAILTO={_sh_quote(s.notify_mail or '')}
MSG="$(hostname): ${{NOTIFYTYPE:-event}} ${{UPSNAME:-}}: $*"
logger -t ivpb-nut -p daemon.warning -- "$MSG"
if [ -n "$WEBHOOK" ]; then
    python3 -c 'import json, sys, urllib.request as u
u.urlopen(u.Request(sys.argv[1], json.dumps({{"text": sys.argv[2]}}).encode(),
          {{"Content-Type": "application/json"}}), timeout=10)' "$WEBHOOK" "$MSG" \\
        || logger -t ivpb-nut -p daemon.err "webhook failed"
fi
if [ -n "$MAILTO" ]; then
    if command -v mail >/dev/null 2>&1; then
        printf '%s\\n' "$MSG" | mail -s "UPS: $MSG" -- "$MAILTO" || logger -t ivpb-nut -p daemon.err "mail failed"
    else
        logger -t ivpb-nut -p daemon.err "no mail command: cannot mail $MAILTO"
    fi
fi
exit 0
"""


MONITOR_PW = re.compile(r'^(\s*MONITOR\s+\S+\s+\S+\s+\S+\s+)("(?:[^"\\]|\\.)*"|\S+)', re.MULTILINE)


WEBHOOK_LINE = re.compile(r"^WEBHOOK=.*$", re.MULTILINE)


def mask_text(text: str) -> str:
    """Mask the password of every MONITOR line in a upsmon.conf text (for diffs)."""
    return MONITOR_PW.sub(lambda m: m.group(1) + MASK, text)


def mask_script(text: str) -> str:
    """Mask the webhook of a notify script as it is written (the whole WEBHOOK= line, whatever
    its quoting, also an older file's webhook)."""
    return WEBHOOK_LINE.sub(lambda m: "WEBHOOK=" + _sh_quote(MASK), text)


def _masked(path: str, text: str) -> str:
    if path == UPSMON_CONF:
        return mask_text(text)
    if path == NOTIFY_SCRIPT:
        return mask_script(text)
    return text


# --- system access ---------------------------------------------------------------------------

class System:
    """The target host; tests pass a root directory and a command runner."""

    def __init__(self, root: str = "/", run=None, group: str = "nut"):
        self.root = root
        self._run = run or self._subprocess
        self.group = group

    @staticmethod
    def _subprocess(argv: list[str], timeout: int = 20) -> tuple[int, str, str]:
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
            return p.returncode, p.stdout, p.stderr
        except FileNotFoundError:
            return 127, "", f"{argv[0]}: not found"
        except subprocess.TimeoutExpired:
            return 124, "", f"{argv[0]}: timed out after {timeout}s"

    def run(self, argv: list[str]) -> tuple[int, str, str]:
        return self._run(argv)

    def path(self, p: str) -> str:
        return os.path.join(self.root, p.lstrip("/"))

    def gid(self) -> int | None:
        try:
            return grp.getgrnam(self.group).gr_gid
        except KeyError:
            return None

    def read(self, p: str) -> tuple[str | None, tuple[int, int, int] | None]:
        """(content, (uid, gid, mode)) or (None, None) when absent."""
        full = self.path(p)
        try:
            with open(full, encoding="utf-8", errors="replace") as fh:
                content = fh.read()
            st = os.stat(full)
            return content, (st.st_uid, st.st_gid, st.st_mode & 0o7777)
        except FileNotFoundError:
            return None, None

    def write(self, p: str, content: str, mode: int, gid: int) -> None:
        full = self.path(p)
        directory = os.path.dirname(full)
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".ivpb-")
        try:
            os.fchmod(fd, mode)
            os.fchown(fd, 0, gid)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(content)
            os.replace(tmp, full)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


@dataclass
class FileResult:
    path: str
    changed: bool
    before: str | None
    after: str
    reason: str = ""


def _want_files(s: Settings) -> list[tuple[str, str, str, int]]:
    """(path, content, masked content, mode)"""
    files = [
        (NUT_CONF, render_nut_conf(s), render_nut_conf(s), 0o640),
        (UPSMON_CONF, render_upsmon_conf(s), render_upsmon_conf(s, masked=True), 0o640),
    ]
    if s.notify_webhook or s.notify_mail:
        script = render_notify_script(s)
        files.append((NOTIFY_SCRIPT, script, mask_script(script), 0o750))
    return files


def _service_state(system: System) -> tuple[bool, bool]:
    rc_en, out_en, _err = system.run(["systemctl", "is-enabled", SERVICE])
    rc_ac, _out, _err = system.run(["systemctl", "is-active", "--quiet", SERVICE])
    return (rc_en == 0 and out_en.strip() in ("enabled", "enabled-runtime", "alias")), rc_ac == 0


def probe_ups(system: System, u: Ups) -> dict:
    """`upsc ups@server ups.status` from this host: reachable and current status."""
    rc, out, err = system.run(["upsc", u.system, "ups.status"])
    if rc == 0 and out.strip():
        return {"ups": u.system, "reachable": True, "status": out.strip().splitlines()[-1].strip()}
    msg = " ".join(line for line in (err or out).strip().splitlines() if "Init SSL" not in line)
    return {"ups": u.system, "reachable": False, "error": (msg or f"upsc exited {rc}")[:200]}


def enforce(s: Settings, system: System, check_mode: bool, want_diff: bool) -> dict:
    """Make the files and the service right (or only say what would change); return the result."""
    gid = system.gid()
    installed = os.path.isdir(system.path("/etc/nut")) and gid is not None
    if not installed and not check_mode:
        raise NutClientError("NUT is not installed on this host (no /etc/nut or no group nut): "
                             "install nut-client before this module runs")
    results = []
    for path, content, masked, mode in _want_files(s):
        before, meta = system.read(path)
        reasons = []
        if before != content:
            reasons.append("content")
        if meta is not None and (meta[0] != 0 or meta[1] != gid or meta[2] != mode):
            reasons.append(f"owner/mode (want root:{system.group} {mode:04o})")
        changed = bool(reasons)
        if changed and not check_mode:
            system.write(path, content, mode, gid)
        results.append(FileResult(path, changed, None if before is None else _masked(path, before),
                                  masked, ", ".join(reasons)))
    config_changed = any(r.changed for r in results)
    enabled, active = _service_state(system)
    service_actions = []
    if not enabled:
        service_actions.append("enable")
    if config_changed and active:
        service_actions.append("restart")
    elif not active:
        service_actions.append("start")
    if service_actions and not check_mode:
        if "enable" in service_actions:
            rc, _out, err = system.run(["systemctl", "enable", SERVICE])
            if rc != 0:
                raise NutClientError(f"systemctl enable {SERVICE} failed: {err.strip()[:200]}")
        verb = "restart" if "restart" in service_actions else "start"
        if verb in service_actions:
            rc, _out, err = system.run(["systemctl", verb, SERVICE])
            if rc != 0:
                raise NutClientError(f"systemctl {verb} {SERVICE} failed: {err.strip()[:200]}")
        enabled, active = _service_state(system)
    changed = config_changed or bool(service_actions)
    probes = [probe_ups(system, u) for u in s.ups]
    result = {
        "changed": changed,
        "files": [{"path": r.path, "changed": r.changed, "reason": r.reason} for r in results],
        "service": {"name": SERVICE, "enabled": enabled, "active": active, "actions": service_actions},
        "ups": probes,
        "controls": controls(s, probes, drift=check_mode and changed, enabled=enabled, active=active,
                             installed=installed),
    }
    if want_diff:
        result["diff"] = [
            {"before_header": r.path, "after_header": r.path, "before": r.before or "", "after": r.after}
            for r in results if r.changed
        ]
    return result


def controls(s: Settings, probes: list[dict], drift: bool, enabled: bool, active: bool,
             installed: bool = True) -> list[dict]:
    """The evidence for ivpb audit: power.ups, and power.redundant_ups for a redundant host."""
    reachable = [p for p in probes if p["reachable"]]
    evidence = {
        "monitored": [u.system for u in s.ups],
        "reachable": [p["ups"] for p in reachable],
        "status": {p["ups"]: p.get("status", "unreachable") for p in probes},
        "min_supplies": s.min_supplies,
        "service_active": active,
    }
    out = []

    def entry(cid: str, need: int) -> dict:
        if drift:
            why = "NUT not installed" if not installed else "upsmon configuration or service differs"
            return {"id": cid, "status": "drift", "detail": f"{why}; enforcing would change it", "evidence": evidence}
        if not (enabled and active):
            return {"id": cid, "status": "error", "detail": f"{SERVICE} is not running", "evidence": evidence}
        if len(reachable) < need:
            bad = ", ".join(f"{p['ups']} ({p.get('error', '?')})" for p in probes if not p["reachable"])
            return {"id": cid, "status": "error",
                    "detail": f"{len(reachable)} of {len(probes)} UPSes reachable, need {need}: {bad}",
                    "evidence": evidence}
        statuses = ", ".join(f"{p['ups']} {p['status']}" for p in reachable)
        return {"id": cid, "status": "compliant",
                "detail": f"upsmon monitors {len(s.ups)} UPS(es), reachable: {statuses}", "evidence": evidence}

    out.append(entry("power.ups", 1))
    if s.level == "redundant":
        out.append(entry("power.redundant_ups", 2))
    return out
