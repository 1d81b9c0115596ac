# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backend of ivpb.backupbeleid.nut_client: NUT upsmon as a network client (§2 Stroomvoorziening).

Runs on the target (Python 3.11). Everything that touches the host goes through the toolkit's
`Host` (host.py), so the logic is unit-tested on a temporary root and the module entry stays thin.

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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ansible_collections.ivpb.backupbeleid.plugins.module_utils import input_rules, packages, webhook
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import Host, ModuleFailure

NUT_CONF = "/etc/nut/nut.conf"
UPSMON_CONF = "/etc/nut/upsmon.conf"
NOTIFY_SCRIPT = "/etc/nut/ivpb-notify"
SERVICE = "nut-monitor.service"
GROUP = "nut"
PACKAGES = ("nut-client",)
UPSC_TIMEOUT = 10  # seconds: an unreachable NUT server must not hold the module
MASK = "********"
HEADER = "# Managed by ivpb.backupbeleid.nut_client (IVPB Backupbeleid, §2 Stroomvoorziening). Do not edit.\n"
EVENTS = ("ONLINE", "ONBATT", "LOWBATT", "FSD", "COMMOK", "COMMBAD", "SHUTDOWN", "REPLBATT",
          "NOCOMM", "NOPARENT")
PLAIN_WORD = input_rules.NUT_PLAIN
MAX_SECRET = 200  # upsmon builds "PASSWORD %s\n" in a 512-byte buffer


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
        raise ModuleFailure(str(e)) from None


@dataclass
class Ups:
    name: str
    server: str
    user: str
    password: str
    port: int = input_rules.NUT_PORT
    power_value: int = 1

    @property
    def system(self) -> str:
        return f"{self.name}@{self.server}" + ("" if self.port == input_rules.NUT_PORT else f":{self.port}")


@dataclass
class Settings:
    # duty -> the control id the caller gave for it: "ups" (an ordinary supply), "redundant_ups"
    # (a redundant one: the host survives the loss of any one UPS)
    controls: dict[str, str]
    ups: list[Ups]
    mode: str = "netclient"
    min_supplies: int = 1
    shutdown_command: str = "/sbin/shutdown -h +0"
    pollfreq: int = input_rules.NUT_POLLFREQ
    pollfreq_alert: int = 5
    hostsync: int = 15
    deadtime: int = input_rules.NUT_DEADTIME
    finaldelay: int = 5
    notify_webhook: str | None = None
    notify_mail: str | None = None
    extra_notify_flags: dict[str, str] = field(default_factory=dict)

    @property
    def redundant(self) -> bool:
        return "redundant_ups" in self.controls


def _int(value, what: str, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().lstrip("-").isdigit():
        raise ModuleFailure(f"{what}: expected a whole number, got {input_rules.shown(value)}")
    return int(value)


def settings_from_params(p: dict) -> Settings:
    """Module parameters to Settings; raises ModuleFailure (one line) on bad input. Every value
    is checked with the shared rules (input_rules), as the controller's schema checks it, so a
    playbook that calls the module directly is held to the same rules."""
    try:
        return _settings(p)
    except ValueError as e:
        raise ModuleFailure(str(e)) from None


def _settings(p: dict) -> Settings:
    asked = {duty: by_ds[""] for duty, by_ds in input_rules.duties(p.get("controls"), "nut_client").items()}
    if not asked:
        raise ModuleFailure("controls: expected at least one control (duty ups or redundant_ups)")
    ups_list = []
    ups_param = p.get("ups") or []
    if not isinstance(ups_param, list):
        raise ModuleFailure("ups: expected a list of UPSes")
    for i, u in enumerate(ups_param):
        where = f"ups[{i}]"
        if not isinstance(u, dict):
            raise ModuleFailure(f"{where}: expected a mapping with name, server, user, password")
        for key in ("name", "server", "user"):
            if not isinstance(u.get(key), str) or not u.get(key):
                raise ModuleFailure(f"{where}.{key}: required, a non-empty string")
        input_rules.nut_name(u["name"], f"{where}.name")
        input_rules.host_name(u["server"], f"{where}.server")
        input_rules.nut_name(u["user"], f"{where}.user")
        check_secret(u.get("password"), f"{where}.password")
        port = _int(u.get("port"), f"{where}.port", input_rules.NUT_PORT)
        pv = _int(u.get("power_value"), f"{where}.power_value", 1)
        if not 1 <= port <= 65535:
            raise ModuleFailure(f"{where}.port: expected 1-65535, got {port}")
        if pv < 0:
            raise ModuleFailure(f"{where}.power_value: expected 0 or more, got {pv}")
        ups_list.append(Ups(u["name"], u["server"], u["user"], u["password"], port, pv))
    if not ups_list:
        raise ModuleFailure("ups: at least one UPS is required (§2)")
    systems = [u.system for u in ups_list]
    dupes = sorted({s for s in systems if systems.count(s) > 1})
    if dupes:
        raise ModuleFailure(f"ups: {', '.join(dupes)} listed more than once")
    s = Settings(controls=asked, ups=ups_list)
    for key in ("min_supplies", *input_rules.NUT_TIMINGS):
        setattr(s, key, _int(p.get(key), key, getattr(s, key)))
    for key in ("mode", "shutdown_command", "notify_webhook", "notify_mail"):
        if p.get(key) is not None:
            setattr(s, key, p[key])
    if s.mode not in ("netclient", "netserver", "standalone"):
        raise ModuleFailure(f"mode: expected netclient, netserver or standalone, got {input_rules.shown(s.mode)}")
    for key, least in input_rules.NUT_TIMINGS.items():
        input_rules.nut_seconds(getattr(s, key), key, least)
    input_rules.nut_deadtime(s.deadtime, s.pollfreq, "deadtime")
    if s.min_supplies < 1:
        raise ModuleFailure("min_supplies: expected 1 or more")
    input_rules.command_line(s.shutdown_command, "shutdown_command")
    if s.notify_webhook is not None:
        input_rules.url(s.notify_webhook, "notify_webhook")
    if s.notify_mail is not None:
        input_rules.mail(s.notify_mail, "notify_mail")
    total = sum(u.power_value for u in ups_list)
    if total < s.min_supplies:
        raise ModuleFailure(
            f"min_supplies: {s.min_supplies} is more than the power values of all UPSes ({total}): "
            "the host would shut down at once")
    # A redundant supply survives the loss of any one UPS (upsmon's MINSUPPLIES arithmetic): the
    # meaning of the duty, not a count. How many UPSes must be reached is the policy file's
    # (ups_reachable_min), judged by ivpb audit from this module's `reachable`.
    if s.redundant and total - max(u.power_value for u in ups_list) < s.min_supplies:
        powered = len({u.system for u in ups_list if u.power_value > 0})
        if powered < 2:  # one powered UPS is a single point of failure whatever min_supplies says
            raise ModuleFailure(
                f"ups: {asked['redundant_ups']} (§2) needs at least two distinct UPSes with power_value >= 1, "
                f"got {powered}")
        raise ModuleFailure(
            f"min_supplies: with {s.min_supplies} the host does not survive the loss of one UPS "
            f"({asked['redundant_ups']}, §2); lower min_supplies or raise the power values")
    return s


# --- rendering -------------------------------------------------------------------------------

def render_nut_conf(s: Settings) -> str:
    return HEADER + f"MODE={s.mode}\n"


def render_upsmon_conf(s: Settings, masked: bool = False) -> str:
    lines = [HEADER.rstrip("\n")]
    if s.redundant:
        lines.append(f"# Redundant supply ({s.controls['redundant_ups']}): the host survives the loss of any one "
                     "UPS and")
        lines.append("# shuts down only when the UPSes left cannot give MINSUPPLIES.")
    else:
        lines.append(f"# Ordinary supply ({s.controls['ups']}): the host shuts down cleanly before its UPS runs out.")
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
    IVPB_WEBHOOK=$WEBHOOK python3 - text="$MSG" <<'PY' || logger -t ivpb-nut -p daemon.err "webhook failed"
{webhook.program(10).strip()}
PY
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


# --- the host --------------------------------------------------------------------------------

def _want_files(s: Settings) -> list[tuple[str, str, int]]:
    """(path, content, mode)"""
    files = [(NUT_CONF, render_nut_conf(s), 0o640), (UPSMON_CONF, render_upsmon_conf(s), 0o640)]
    if s.notify_webhook or s.notify_mail:
        files.append((NOTIFY_SCRIPT, render_notify_script(s), 0o750))
    return files


def probe_ups(host: Host, u: Ups) -> dict:
    """`upsc ups@server ups.status` from this host: reachable and current status."""
    rc, out, err = host.run(["upsc", u.system, "ups.status"], timeout=UPSC_TIMEOUT)
    if rc == 0 and out.strip():
        return {"ups": u.system, "reachable": True, "status": out.strip().splitlines()[-1].strip()}
    if rc == 124:  # timeout(1): the server took the connection and did not answer
        return {"ups": u.system, "reachable": False, "error": f"no answer within the upsc timeout of {UPSC_TIMEOUT} s"}
    msg = " ".join(line for line in (err or out).strip().splitlines() if "Init SSL" not in line)
    return {"ups": u.system, "reachable": False, "error": (msg or f"upsc exited {rc}")[:200]}


def probe_all(host: Host, ups: list[Ups]) -> list[dict]:
    """Every UPS probed at the same time: a NUT server that hangs costs one UPSC_TIMEOUT, not one
    per UPS it serves."""
    with ThreadPoolExecutor(max_workers=max(1, len(ups))) as pool:
        return list(pool.map(lambda u: probe_ups(host, u), ups))


def enforce(host: Host, p: dict) -> dict:
    """Make the files and the service right (or only say what would change); return the result.
    A failure names the controls it leaves in error."""
    try:
        return _enforce(host, p)
    except ModuleFailure as e:
        # a failure the report can say in its own words carries its message; any other (bad input:
        # the option and value) is shown by ivpb audit as the module's technical details
        message = e.result.pop("message", None)
        ids = [c["id"] for c in p.get("controls") or [] if isinstance(c, dict) and isinstance(c.get("id"), str)]
        said = {"message": message} if message else {}
        raise ModuleFailure(str(e), controls=[{"id": i, "status": "error", "detail": str(e), "evidence": {}, **said}
                                              for i in ids]) from None


def _enforce(host: Host, p: dict) -> dict:
    s = settings_from_params(p)
    packages.for_params(host, p, PACKAGES)
    try:
        grp.getgrnam(GROUP)
        installed = os.path.isdir(host.path("/etc/nut"))
    except KeyError:
        installed = False
    if not installed and not host.check_mode:
        raise ModuleFailure("NUT is not installed on this host (no /etc/nut or no group nut): "
                            "install nut-client before this module runs",
                            message={"id": "nut_client.not_installed_run", "params": {"package": PACKAGES[0]}})
    files = []
    for path, content, mode in _want_files(s):
        reasons = host.file(path, content, mode, owner="root", group=GROUP,
                            show=lambda text, path=path: _masked(path, text))
        files.append({"path": path, "changed": bool(reasons), "reason": ", ".join(reasons)})
    config_changed = any(f["changed"] for f in files)
    actions, enabled, active = host.unit(SERVICE, restart=config_changed)
    changed = config_changed or bool(actions)
    probes = probe_all(host, s.ups)
    result = {
        "changed": changed,
        "files": files,
        "service": {"name": SERVICE, "enabled": enabled, "active": active,
                    "actions": [verb for verb, _unit in actions]},
        "ups": probes,
        "controls": controls(s, probes, drift=host.check_mode and changed, enabled=enabled, active=active,
                             installed=installed),
    }
    if host.want_diff:
        result["diff"] = host.diffs
    return result


def controls(s: Settings, probes: list[dict], drift: bool, enabled: bool, active: bool,
             installed: bool = True) -> list[dict]:
    """The evidence for ivpb audit: an entry per control asked, under its id. The module reports
    what it configured and which UPSes it reached; how many must be reached is the policy's
    (its controls' `ups_reachable_min`), judged by ivpb audit from `reachable`."""
    reachable = [p for p in probes if p["reachable"]]
    evidence = {
        "monitored": [u.system for u in s.ups],
        "reachable": [p["ups"] for p in reachable],
        "status": {p["ups"]: p.get("status", "unreachable") for p in probes},
        "min_supplies": s.min_supplies,
        "service_active": active,
        "probe_timeout_s": UPSC_TIMEOUT,
    }
    unreached = {p["ups"]: p.get("error", "?") for p in probes if not p["reachable"]}
    if unreached:  # why upsc could not reach them, for the contractor
        evidence["unreached"] = unreached
    # detail for Ansible's output; message (an id of ivpb's words catalogue) for the report
    if drift:
        why = "NUT not installed" if not installed else "upsmon configuration or service differs"
        found = {"status": "drift", "detail": f"{why}; enforcing would change it",
                 "message": {"id": "nut_client.not_installed" if not installed else "nut_client.differs",
                             "params": {}}}
    elif not (enabled and active):
        found = {"status": "error", "detail": f"{SERVICE} is not running",
                 "message": {"id": "nut_client.not_running", "params": {"service": SERVICE}}}
    else:
        statuses = ", ".join(f"{p['ups']} {p['status']}" for p in reachable) or "-"
        found = {"status": "compliant",
                 "detail": f"upsmon monitors {len(s.ups)} UPS(es), reachable: {statuses}",
                 "message": {"id": "nut_client.monitors", "params": {"n": len(s.ups), "statuses": statuses}}}
    return [{"id": cid, **found, "evidence": evidence} for cid in s.controls.values()]
