# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backend of ivpb.backupbeleid.backup_job: all backup jobs of one host (§4 Backups).

From the controls the plan step hands it (per control its id, its duty and its data sets) and
the host's ivpb_stores it derives, per stored data set, the schedule the classification demands
(duty daily or weekly), the yearly full (annual_full), encryption (encrypt), the continuous
sync (offsite_sync) and the best-practice parts (retention, verify, lock, logs, failure hook:
best_practice), and reports each under the control id it was given. It
writes one crontab (/etc/cron.d/ivpb-backup), one config file per data set, the job script,
the host's dedicated SSH key and the recipients' public keyring, and reports evidence read
from the status files the jobs write (times in UTC, taken from the target's file names)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from ansible_collections.ivpb.backupbeleid.plugins.module_utils import (
    gpg_target,
    input_rules,
    offsite_sync,
    packages,
    receiver_layout,
)
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.backup_script import SCRIPT
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import ModuleFailure

ETC = "/etc/ivpb/backup"
STATE = "/var/lib/ivpb/backup"
LIB_DIR = "/usr/local/lib/ivpb"
LOG_DIR = "/var/log/ivpb"
SCRIPT_PATH = "/usr/local/lib/ivpb/ivpb-backup"
CRON_PATH = "/etc/cron.d/ivpb-backup"
DEFAULT_USER = "ivpb-backup"
DEFAULT_WINDOW = {"start": "01:00", "end": "05:00", "weekday": 6, "verify_weekday": 0}
FULL_IF_OLDER_THAN = "1M"  # duplicity starts a new full chain after this
# util-linux (flock) and bsdutils (logger) are essential on Debian, named for other images.
PACKAGES = ("duplicity", "rsync", "openssh-client", "util-linux", "bsdutils", "cron")


def _minutes(hhmm, what):
    m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", str(hhmm))
    if not m:
        raise ModuleFailure(f"ivpb_backup_window.{what}: {hhmm!r} is not a time HH:MM")
    return int(m.group(1)) * 60 + int(m.group(2))


def slots(window, count):
    """count start times (minute of day) spread evenly over the window [start, end); a window
    may cross midnight. The same inventory always gives the same times."""
    start = _minutes(window["start"], "start")
    end = _minutes(window["end"], "end")
    span = (end - start) % 1440 or 1440
    return [(start + (span * i) // max(count, 1)) % 1440 for i in range(count)]


def cron_time(minute_of_day, weekday=None):
    dow = "*" if weekday is None else str(weekday)
    return f"{minute_of_day % 60} {minute_of_day // 60} * * {dow}"


def command(action, dataset):
    """The exact command a cron line runs (the script takes the data set's lock itself)."""
    return f"{SCRIPT_PATH} {action} {dataset}"


def _target(t, hostname, what, dataset):
    """Where one data set goes (a resolved target: datasets[].target or .sync). On a receiver
    that ivpb manages (an inventory host) the host connects as its own user there and names paths
    inside its area; on an external one, as the target's user, with absolute paths."""
    if not isinstance(t, dict) or not t.get("name"):
        raise ModuleFailure(f"{what}: required (ivpb_stores[].backup_target or ivpb_backup_target)")
    name = t["name"]
    address = t.get("address") or t.get("receiver")
    if not address:
        raise ModuleFailure(f"ivpb_backup_targets.{name}.address: required for a target outside the inventory")
    if t.get("receiver") == hostname:
        raise ModuleFailure(f"{what}: {name!r} is this host itself; a backup goes to another location and medium")
    where = f"ivpb_backup_targets.{name}"
    try:
        input_rules.identifier(name, f"{what}.name")
        input_rules.host_name(address, f"{where}.address")
        base = input_rules.abs_path(t.get("path") or input_rules.BACKUP_PATH, f"{where}.path")
        port = t.get("port") or 22
        if isinstance(port, bool) or not str(port).isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(f"{where}.port: {port!r} is not a port number from 1 to 65535")
        managed = bool(t.get("receiver"))
        user = receiver_layout.client_user(name, hostname) if managed else \
            input_rules.unix_user(t.get("user") or DEFAULT_USER, f"{where}.user")
        key = t.get("host_key")
        if key is not None:
            key = host_key_line(key, f"{where}.host_key")
    except ValueError as e:
        raise ModuleFailure(str(e)) from None
    return {"name": name, "host": t.get("receiver"), "address": address, "user": user, "port": int(port),
            "managed": managed, "host_key": key,
            "dir": receiver_layout.sender_dir(base, hostname, dataset, managed)}


def host_key_line(key, what):
    """'type base64' of an SSH host public key (a comment is dropped). A second line is refused,
    not cut off: a key given as two lines (a marker such as @revoked or @cert-authority, another
    key) is a mistake to name, never a line of known_hosts."""
    parts = input_rules.no_control(str(key), what).split()
    line = " ".join(parts[:2])
    return input_rules.ssh_public_key(line, what)


def _recipients(d, duties, what):
    """The recipients' keys of an encrypted data set: each with its name, fingerprint and key."""
    if not d.get("encrypted"):
        if "encrypt" in duties:
            raise ModuleFailure(f"{what}.encrypted: false, but {duties['encrypt']} applies")
        return []
    given = d.get("recipients") or []
    if not given:
        why = f"{duties['encrypt']} applies" if "encrypt" in duties else "encrypt is set"
        raise ModuleFailure(f"{what}.recipients: {why}; name at least one recipient "
                            "of ivpb_gpg_recipients (or set ivpb_backup_encrypt_to)")
    for r in given:
        if not isinstance(r, dict) or not r.get("fingerprint"):
            name = r.get("name") if isinstance(r, dict) else r
            raise ModuleFailure(f"{what}.recipients: unknown recipient {name!r}; "
                                "expected a key of ivpb_gpg_recipients")
    return given


def plan_jobs(p):
    """The jobs of this host from the module parameters. Pure: no I/O. Returns a list of dicts,
    one per resolved data set (datasets) that has planned §4 controls, in the order given."""
    hostname = p["hostname"]
    try:
        input_rules.host_name(hostname, "hostname")
        asked = input_rules.duties(p.get("controls"), "backup_job", names=DUTIES)
    except ValueError as e:
        raise ModuleFailure(str(e)) from None
    by_ds = {}  # data set -> duty -> the control id asked for it
    for duty, per_ds in asked.items():
        for ds, cid in per_ds.items():
            if ds:
                by_ds.setdefault(ds, {})[duty] = cid
    window = {**DEFAULT_WINDOW, **(p.get("window") or {})}
    jobs = []
    for i, d in enumerate(p.get("datasets") or []):
        ds = d["dataset"]
        duties = by_ds.get(ds)
        if not duties:
            continue
        what = f"datasets[{i}]"
        try:
            input_rules.identifier(ds, f"{what}.dataset")
            pull = _pull(d["pull"], f"{what}.pull") if d.get("pull") else None
            path = d.get("path")
            path = (path.rstrip("/") or "/") if isinstance(path, str) else path
            # a pulled data set's path is where it lives on the system; its backup saves the copy here
            source = f"{STATE}/pulled/{ds}" if pull else input_rules.abs_path(path, f"{what}.path")
        except ValueError as e:
            raise ModuleFailure(str(e)) from None
        target = _target(d.get("target"), hostname, f"{what}.target", ds)
        keys = _recipients(d, duties, what)
        sync = None
        if d.get("sync") and "offsite_sync" in duties:
            sync = _target(d["sync"], hostname, f"{what}.sync", ds)
            sync["delay"] = _whole(d.get("sync_delay") or 15, f"{what}.sync_delay", 86400)
        jobs.append({
            "dataset": ds, "source": source, "controls": duties,
            "schedule": "daily" if "daily" in duties else "weekly",
            "encrypt": bool(keys),
            "keys": sorted({gpg_target.normalise_fpr(r["fingerprint"]) for r in keys}),
            "recipients": [r["name"] for r in keys], "keyring": keys, "target": target, "sync": sync, "pull": pull,
            "keep_full": _whole(d.get("keep_full") or input_rules.KEEP_FULL, f"{what}.keep_full"),
            "full_if_older_than": _interval(d.get("full_if_older_than") or FULL_IF_OLDER_THAN),
        })
    when = {k: _whole(window[k], f"ivpb_backup_window.{k}", 6, 0) for k in ("weekday", "verify_weekday")}
    when["end"] = _minutes(window["end"], "end")
    for i, (job, t) in enumerate(zip(jobs, slots(window, len(jobs)), strict=True)):
        job["cron"] = dict.fromkeys(ACTIONS)
        for name, duty in DUTIES.items():
            if duty.cron and has(job, name):
                job["cron"][duty.action] = duty.cron(job, {**when, "slot": t, "index": i})
    return jobs


SMB_RE = re.compile(r"smb://([^/:]+)(?::([0-9]{1,5}))?/([^/\s\"'\\][^\s\"'\\]*)")
WEBDAV_RE = re.compile(r"(https?)://([^/:]+)(?::([0-9]{1,5}))?(/[^\s\"'\\]*)?")
SFTP_RE = re.compile(r"sftp://([^/:]+)(?::([0-9]{1,5}))?(/[^\s\"'\\]+)")


def check_pull_source(source, what):
    """(smb, webdav, sftp match - one of them, server, port or None) of a pull's source, checked as
    rclone takes it; `ivpb validate` (ivpb.checks.pull) checks a source with this very function,
    so the controller never accepts a server or port the module refuses. Raises ValueError (one
    line, starting with `what`)."""
    source = input_rules.text(str(source or ""), what)
    smb, dav, sftp = SMB_RE.fullmatch(source), WEBDAV_RE.fullmatch(source), SFTP_RE.fullmatch(source)
    if not (smb or dav or sftp):
        raise ValueError(f"{what}: {input_rules.shown(source)} is not smb://server[:port]/share[/folder], "
                         "http(s)://server[:port]/path or sftp://server[:port]/path (no blanks, quotes or backslashes)")
    host, port = (smb.group(1), smb.group(2)) if smb else (sftp.group(1), sftp.group(2)) if sftp else \
        (dav.group(2), dav.group(3))
    input_rules.host_name(host, f"{what}: the server")
    if port is not None and not 1 <= int(port) <= 65535:
        raise ValueError(f"{what}: port {port} is not from 1 to 65535")
    return smb, dav, sftp, host, port


def _pull(pull, what):
    """Where rclone reads a pulled data set (#23): its backend and settings, each checked here as
    the controller's schema checks them (they reach rclone through the sourced config file and
    its environment, never a command line). Raises ValueError."""
    source = str(pull.get("source") or "")
    smb, dav, sftp, host, port = check_pull_source(source, f"{what}.source")
    user = pull.get("user")
    if user is not None:
        input_rules.no_control(input_rules.text(str(user), f"{what}.user"), f"{what}.user")
    host_for = input_rules.host_name(pull.get("for"), f"{what}.for")
    if smb:
        return {"for": host_for, "source": source, "type": "smb", "host": host, "port": int(port or 445),
                "path": smb.group(3).rstrip("/"), "url": "", "user": user}
    if sftp:  # a NAS over SSH: its host key pinned (no trust on first use), an account to log in as
        if not pull.get("host_key"):
            raise ValueError(f"{what}.host_key: required for an sftp:// source: the server's SSH host public key "
                             "('ssh-ed25519 AAAA...'), pinned in this host's known_hosts")
        if not user:
            raise ValueError(f"{what}.user: required for an sftp:// source: the account the proxy logs in as")
        return {"for": host_for, "source": source, "type": "sftp", "host": host, "port": int(port or 22),
                "path": sftp.group(3).rstrip("/") or "/", "url": "", "user": user,
                "host_key": host_key_line(pull["host_key"], f"{what}.host_key")}
    return {"for": host_for, "source": source, "type": "webdav", "host": host, "port": int(port) if port else None,
            "path": "", "url": source, "user": user}


def _whole(value, what, most=1000, least=1):
    if isinstance(value, bool) or not str(value).isdigit() or not least <= int(value) <= most:
        raise ModuleFailure(f"{what}: {value!r} is not a whole number from {least} to {most}")
    return int(value)


def _interval(value):
    """duplicity's time interval (--full-if-older-than): a number and a unit, e.g. 1M, 14D."""
    if not re.fullmatch(r"[1-9][0-9]{0,3}[smhDWMY]", str(value)):
        raise ModuleFailure(f"ivpb_backup_retention.full_if_older_than: {value!r} is not an interval such as 1M or 14D")
    return str(value)


# --- the duties ----------------------------------------------------------------------------
# A duty is what a control asks of this module for a data set (the policy's enforced_by.duty).
# Everything the module knows of one duty is its row in DUTIES: whether a job has it, the cron
# line it schedules, the lines it writes into the data set's config, the evidence it reports,
# the packages and the files that concern it alone, and what it does in a sentence (the module's
# documentation of its duties, doc_fragments/backup_duties.py, is built from the rows). Adding a
# duty is adding a row: its name is one of the duties the module accepts and documents, and the
# controller checks a policy against them.


@dataclass(frozen=True)
class Duty:
    doc: str  # what the duty does, for ansible-doc (C(name) - doc)
    # job -> whether the job has this duty's cron line, packages and files; None: when a control
    # asks it of the job's data set (has())
    wanted: Callable | None = None
    action: str | None = None  # the job script's action its cron line runs (ivpb-backup <action> <dataset>)
    cron: Callable | None = None  # (job, when) -> the cron time of that line; when: slot, end, weekday, ...
    conf: Callable = lambda job: []  # job -> its lines of the data set's config (always written: the script reads them)
    # (host, job, found) -> {detail, evidence[, status, message]}: its evidence (message: the words
    # catalogue's id and parameters of the detail, for the report); None: reported elsewhere
    reader: Callable | None = None
    packages: tuple = ()
    own: tuple = ()  # files below ETC that concern this duty alone
    shared: bool = True  # the job script, its settings and the data set's config concern it


def has(job, name):
    """Whether the job has duty `name`: its row's wanted(job), else whether a control asks it."""
    row = DUTIES[name]
    return row.wanted(job) if row.wanted else name in job["controls"]


def _day(job, when):
    return None if job["schedule"] == "daily" else when["weekday"]


def _backup_evidence(host, job, found):
    ds = job["dataset"]
    return {"detail": f"duplicity {job['schedule']} at {job['cron']['run']} (cron) to {job['target']['address']}",
            "message": {"id": f"backup_job.{job['schedule']}", "params": {"target": job["target"]["address"]}},
            "evidence": {"schedule": job["cron"]["run"], "last_backup": read_status(host, ds, "last_backup"),
                         "run_failed": read_failure(host, ds, "run")}}


def _annual_evidence(host, job, found):
    ds = job["dataset"]
    return {"detail": "yearly full per school year (1 Sep-31 Aug) in a chain of its own, kept",
            "message": {"id": "backup_job.annual_full", "params": {"target": job["target"]["address"]}},
            "evidence": {"schedule": job["cron"]["annual"], "last_annual": read_status(host, ds, "last_annual"),
                         "annual_failed": read_failure(host, ds, "annual")}}


def _encrypt_evidence(host, job, found):
    keyring = found["keyring"]
    expires = {f: keyring["keys"][f]["expires"] for f in job["keys"] if f in keyring["keys"]} if keyring else None
    out = {"detail": f"GPG public-key encryption to {', '.join(job['recipients'])}",
           "message": {"id": "backup_job.encrypt", "params": {"recipients": list(job["recipients"])}},
           "evidence": {"fingerprints": job["keys"], "expires": expires}}
    if found["key_error"]:
        out.update(status="drift", detail=found["key_error"], message=None)
    return out


def _best_practice_evidence(host, job, found):
    ds = job["dataset"]
    verify = read_status(host, ds, "last_verify")
    retention = "by the receiver" if job["target"]["managed"] else "by this host"
    return {"detail": (f"keep {job['keep_full']} full chains ({retention}), verify at {job['cron']['verify']}, "
                       "lock, log + syslog, failure hook"),
            "message": {"id": f"backup_job.best_practice_{'receiver' if job['target']['managed'] else 'host'}",
                        "params": {"keep": job["keep_full"]}},
            "evidence": {"keep_full": job["keep_full"], "verify_schedule": job["cron"]["verify"],
                         "last_verify": verify[3:] if verify and verify.startswith("ok ") else verify,
                         "verify_failed": read_failure(host, ds, "verify")}}


def _sync_conf(job):
    s = job["sync"]
    if not s:
        return ["SYNC_HOST=''"]
    return [f"SYNC_HOST={_q(s['user'] + '@' + s['address'])}", f"SYNC_PORT={s['port']}",
            f"SYNC_DIR={_q(s['dir'])}", f"SYNC_RECEIVER_RETENTION={1 if s['managed'] else 0}"]


def _pull_conf(job):
    """The rclone settings of a pulled data set (the job script hands them to rclone in its
    environment; the password comes from its root-only file)."""
    p = job["pull"]
    if not p:
        return []
    return [f"PULL_SOURCE={_q(p['source'])}", f"PULL_TYPE={_q(p['type'])}", f"PULL_HOST={_q(p['host'])}",
            f"PULL_PORT={_q(p['port'] or '')}", f"PULL_URL={_q(p['url'])}", f"PULL_PATH={_q(p['path'])}",
            f"PULL_USER={_q(p['user'] or '')}"]


def _heartbeat(job, when):
    beat = (7 + 11 * when["index"]) % input_rules.SYNC_HEARTBEAT_MINUTES
    return ",".join(str(m) for m in range(beat, 60, input_rules.SYNC_HEARTBEAT_MINUTES)) + " * * * *"


# In this order: the crontab's lines of a data set and its config's duty lines follow it.
DUTIES = {
    "daily": Duty("a backup at least every day (daily wins over weekly)",
                  wanted=lambda j: j["schedule"] == "daily", action="run",
                  cron=lambda j, w: cron_time(w["slot"], _day(j, w)), reader=_backup_evidence),
    "weekly": Duty("a backup at least every week, on I(window.weekday)",
                   wanted=lambda j: j["schedule"] == "weekly", action="run",
                   cron=lambda j, w: cron_time(w["slot"], _day(j, w)), reader=_backup_evidence),
    "annual_full": Duty("a full backup per school year in a chain of its own", action="annual",
                        cron=lambda j, w: cron_time(w["end"], _day(j, w)),
                        conf=lambda j: [f"ANNUAL={1 if 'annual_full' in j['controls'] else 0}"],
                        reader=_annual_evidence),
    # every job is verified weekly, asked or not
    "best_practice": Duty("retention, weekly verify, lock, logs and failure hook",
                          wanted=lambda j: True, action="verify",
                          cron=lambda j, w: cron_time((w["end"] + 30) % 1440, w["verify_weekday"]),
                          reader=_best_practice_evidence),
    "encrypt": Duty("GPG public-key encryption of all that leaves the host",
                    wanted=lambda j: j["encrypt"], reader=_encrypt_evidence, packages=("gnupg",),
                    own=("gnupg",), shared=False),
    # lsyncd's part (offsite_sync.enforce) reports the sync; its heartbeat proves quiet data current
    "offsite_sync": Duty("continuous sync to the data set's I(datasets[].sync)",
                         wanted=lambda j: bool(j["sync"]), action="heartbeat", cron=_heartbeat, conf=_sync_conf,
                         packages=("lsyncd",)),
    # a data set of a system ivpb does not manage (#23): no control asks it, the backup needs it;
    # the run and the yearly full pull the data first (the script), their controls report it
    "pull": Duty("the data set is pulled first (I(datasets[].pull); no control of the shipped policy asks it)",
                 wanted=lambda j: bool(j["pull"]), conf=_pull_conf, packages=("rclone",)),
}
ACTIONS = tuple(dict.fromkeys(d.action for d in DUTIES.values() if d.action))


def render_crontab(jobs):
    lines = [
        "# IVPB Backupbeleid §4 Backups: the backup jobs of this host.",
        "# Managed by ivpb.backupbeleid.backup_job; changes here are overwritten.",
        "SHELL=/bin/sh",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "",
    ]
    for j in jobs:
        often = "minstens dagelijks" if j["schedule"] == "daily" else "minstens één keer per week"
        ctl = f"{j['controls'].get(j['schedule'], j['schedule'])} ({often})"
        lines.append(f"# {j['dataset']}: {ctl}; {', '.join(sorted(j['controls'].values()))}")
        lines += cron_lines(j).values()
    return "\n".join(lines) + "\n"


def cron_lines(job):
    """duty -> the crontab line it gives the job, in DUTIES order."""
    return {name: f"{job['cron'][d.action]} root {command(d.action, job['dataset'])}"
            for name, d in DUTIES.items() if d.cron and has(job, name)}


def _q(value):
    """A value for the sourced (bash) config files."""
    return input_rules.sh_quote(str(value))


def render_dataset_conf(job):
    t = job["target"]
    lines = [
        f"# {job['dataset']} ({', '.join(sorted(job['controls'].values()))}); managed by ivpb.backupbeleid.backup_job",
        f"DATASET={_q(job['dataset'])}",
        f"SOURCE={_q(job['source'])}",
        f"TARGET_HOST={_q(t['user'] + '@' + t['address'])}",
        f"TARGET_PORT={t['port']}",
        f"TARGET_DIR={_q(t['dir'])}",
        f"ENCRYPT_KEYS={_q(' '.join(job['keys']))}",
        f"KEEP_FULL={job['keep_full']}",
        f"RECEIVER_RETENTION={1 if t['managed'] else 0}",
        f"FULL_IF_OLDER_THAN={_q(job['full_if_older_than'])}",
    ]
    for d in DUTIES.values():
        lines += d.conf(job)
    return "\n".join(lines) + "\n"


def check_hook(hook):
    """The failure hook as the module writes it: a URL, a mail address that cannot be read as an
    option, a one-line command (run by bash as root, so it is the contractor's own)."""
    hook = hook or {}
    rules = {"webhook": input_rules.url, "mail": input_rules.mail, "command": input_rules.text, "ping": input_rules.url}
    try:
        for key, value in hook.items():
            if key not in rules:
                raise ValueError(f"ivpb_backup_failure_hook.{key}: unknown; expected webhook, mail, command or ping")
            if value not in (None, ""):
                rules[key](value, f"ivpb_backup_failure_hook.{key}")
    except ValueError as e:
        raise ModuleFailure(str(e)) from None
    return hook


def render_backup_conf(hook):
    hook = hook or {}
    return "\n".join([
        "# Failure hook of the backup jobs; managed by ivpb.backupbeleid.backup_job",
        f"HOOK_WEBHOOK={_q(hook.get('webhook') or '')}",
        f"HOOK_MAIL={_q(hook.get('mail') or '')}",
        f"HOOK_COMMAND={_q(hook.get('command') or '')}",
        f"HOOK_PING={_q(hook.get('ping') or '')}",
    ]) + "\n"


def read_status(host, dataset, key):
    """A status file the jobs write on the host, read through the host toolkit (its root)."""
    return (host.read(f"{STATE}/status/{dataset}.{key}") or "").strip() or None


def ssh_key(host, hostname):
    """The host's dedicated backup key (ed25519, made on the host, never leaves it). Returns
    the public key line, or None in check mode when it does not exist yet."""
    key = receiver_layout.CLIENT_KEY
    host.directory(os.path.dirname(key), 0o700)
    private, public = host.read(key), host.read(key + ".pub")
    if private is not None and public is not None:
        host.file(key, private, 0o600, show=lambda _text: "(private key, not shown)\n")
        return public.strip()
    host.changed.append(key)
    if host.check_mode:
        return None
    if shutil.which("ssh-keygen") is None:
        raise ModuleFailure("ssh-keygen is missing: install openssh-client")
    host.must(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"ivpb-backup@{hostname}", "-f", host.path(key)])
    return (host.read(key + ".pub") or "").strip()


def render_known_hosts(jobs, given, current):
    """The pinned host keys of every target: from the inventory (host_key), from this run
    (host_keys, read on the receivers by the role), else the ones pinned before; and of each
    sftp:// pull source, always the inventory's (pull.host_key). Returns
    (content, [targets without a key]); an unknown key is never trusted on first use. A pull
    whose server is also a target (or another pull's) on the same port must name the key pinned
    there: one server has one key, and a second one would be trusted for both."""
    lines, missing = [], []
    pinned = {}  # (address, port) -> the keys pinned for it
    for j in jobs:
        for t in (j["target"], j["sync"]):
            if not t or (t["address"], t["port"]) in pinned:
                continue
            name = t["address"] if t["port"] == 22 else f"[{t['address']}]:{t['port']}"
            keys = [t["host_key"]] if t["host_key"] else []
            offered = given.get(t["host"] or "") or given.get(t["address"]) or []
            try:
                keys = keys or [host_key_line(k, f"host_keys.{t['address']}")
                                for k in ([offered] if isinstance(offered, str) else offered)]
            except ValueError as e:
                raise ModuleFailure(str(e)) from None
            keys = keys or [line.split(" ", 1)[1] for line in current if line.split(" ", 1)[0] == name]
            if not keys:
                missing.append(t["name"])
            pinned[(t["address"], t["port"])] = keys
            lines += [f"{name} {k}" for k in keys]
    for j in jobs:
        pull = j["pull"] or {}
        if pull.get("type") != "sftp":
            continue
        name = pull["host"] if pull["port"] == 22 else f"[{pull['host']}]:{pull['port']}"
        keys = pinned.setdefault((pull["host"], pull["port"]), [])
        if keys and pull["host_key"] not in keys:
            raise ModuleFailure(f"data set {j['dataset']}: pull.host_key is not the key pinned for {name} (a backup "
                                "target's or another pull's on the same server and port); expected that server's "
                                "one host key in both places")
        if not keys:  # its key: the inventory's
            keys.append(pull["host_key"])
            lines.append(f"{name} {pull['host_key']}")
    return "".join(line + "\n" for line in lines), missing


def enforce(host, p):
    """The backup_job module: the jobs, then the continuous sync (offsite_sync) in the same call.
    Every input is checked before anything changes."""
    result = enforce_jobs(host, p)
    try:
        sync = offsite_sync.enforce(host, result["syncs"], SCRIPT_PATH, lambda ds: (
            read_status(host, ds, "last_sync"), read_failure(host, ds, "sync")))
    except ModuleFailure as e:
        raise ModuleFailure(str(e), **result) from None
    result["changed"] = result["changed"] or sync["changed"]
    result["controls"] += sync["controls"]
    result["changed_paths"] = host.changed
    result["sync_service"] = sync["service"]
    if host.want_diff:
        result["diff"] = host.diffs
    return result


def enforce_jobs(host, p):
    """The backup jobs of the host; returns the result (its own changes only)."""
    jobs = plan_jobs(p)
    hook = check_hook(p.get("failure_hook"))
    check_mode = host.check_mode
    if jobs:
        packages.for_params(host, p, needed_packages(jobs))
    tools = {t: shutil.which(t) is not None for t in ("duplicity", "rsync", "flock", "gpg", "logger", "rclone")}
    optional = {"gpg": any(j["encrypt"] for j in jobs), "rclone": any(j["pull"] for j in jobs)}
    missing_tools = sorted(t for t, ok in tools.items() if not ok and optional.get(t, True))
    if missing_tools and not check_mode:
        off = "" if p.get("install_packages", True) else " (install_packages is off)"
        raise ModuleFailure(f"missing on the host: {', '.join(missing_tools)}{off}")
    for d, mode in ((ETC, 0o700), (f"{ETC}/datasets", 0o700), (STATE, 0o700), (f"{STATE}/status", 0o700),
                    (f"{STATE}/cache", 0o700), (LOG_DIR, 0o750), (LIB_DIR, 0o755)):
        host.directory(d, mode)
    pubkey = ssh_key(host, p["hostname"]) if jobs else None
    known_hosts = f"{ETC}/ssh/known_hosts"
    known, unpinned = render_known_hosts(jobs, p.get("host_keys") or {}, (host.read(known_hosts) or "").splitlines())
    if unpinned and not check_mode:
        raise ModuleFailure(f"no SSH host key for target(s) {', '.join(sorted(set(unpinned)))}: set "
                            "ivpb_backup_targets.<name>.host_key, or run enforce with the receiving host reachable")
    if jobs:
        host.file(known_hosts, known, 0o644)
    host.file(SCRIPT_PATH, SCRIPT, 0o755)
    host.file(f"{ETC}/backup.conf", render_backup_conf(hook), 0o600,
              show=(lambda _text: "(failure hook settings, masked)\n") if hook.get("webhook") or hook.get("ping")
              else None)
    wanted = set()
    for j in jobs:
        path = f"{ETC}/datasets/{j['dataset']}.conf"
        wanted.add(path)
        host.file(path, render_dataset_conf(j), 0o600)
    if os.path.isdir(f"{ETC}/datasets"):
        for name in sorted(os.listdir(f"{ETC}/datasets")):
            if f"{ETC}/datasets/{name}" not in wanted and name.endswith(".conf"):
                host.absent(f"{ETC}/datasets/{name}")
    pull_passwords(host, jobs, p.get("pull_passwords") or {})
    keyring = None
    key_error = None
    used = {r["name"]: r for j in jobs for r in j["keyring"]}
    if used:
        try:
            keyring = gpg_target.ensure_keyring(host, f"{ETC}/gnupg", [used[n] for n in sorted(used)])
        except FileNotFoundError:
            key_error = "gnupg is not installed yet"
            if not check_mode:
                raise ModuleFailure("gpg is missing on the host: install gnupg") from None
        except ModuleFailure as e:
            raise ModuleFailure(f"ivpb_gpg_recipients: {e}") from None
    crontab = render_crontab(jobs) if jobs else None
    cron_before = host.read(CRON_PATH)
    if crontab:
        host.file(CRON_PATH, crontab, 0o644)
    else:
        host.absent(CRON_PATH)
    changed = bool(host.changed)
    blockers = ([f"missing: {', '.join(missing_tools)}"] if missing_tools else []) + \
        ([f"no pinned SSH host key for target {', '.join(sorted(set(unpinned)))}"] if unpinned else [])
    controls = evidence(host, jobs, changed, check_mode, keyring, key_error, blockers)
    if check_mode and not (key_error or blockers):
        attribute(controls, jobs, host, cron_before)
    result = {
        "changed": changed,
        "controls": controls,
        "host_time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ssh_public_key": pubkey or "",
        "target_hosts": sorted({x["host"] for j in jobs for x in (j["target"], j["sync"] or {}) if x.get("host")}),
        "jobs": [{"dataset": j["dataset"], "schedule": j["schedule"], "cron": j["cron"]["run"],
                  "annual": has(j, "annual_full"), "encrypted": j["encrypt"],
                  "target": f"{j['target']['address']}:{j['target']['dir']}"} for j in jobs],
        "syncs": [{"id": j["controls"]["offsite_sync"], "dataset": j["dataset"], "source": j["source"],
                   "delay": j["sync"]["delay"],
                   "heartbeat_minutes": input_rules.SYNC_HEARTBEAT_MINUTES,
                   "target": f"{j['sync']['address']}:{j['sync']['dir']}"} for j in jobs if j.get("sync")],
        "changed_paths": list(host.changed),
    }
    if host.want_diff:
        result["diff"] = host.diffs
    return result


def pull_passwords(host, jobs, passwords):
    """Each pulled data set's password (its system's ivpb_pull_password), alone in a root-only
    file that the job script reads into rclone's environment; a file no job needs is removed."""
    folder = f"{ETC}/pull"  # root's alone, like ETC
    wanted = set()
    if any(j["pull"] for j in jobs):
        host.directory(folder, 0o700)
    for j in jobs:
        system = (j["pull"] or {}).get("for")
        if system and passwords.get(system):  # '' or none: the source asks for no password
            try:
                secret = input_rules.pull_secret(passwords[system], f"pull_passwords.{system}")
            except ValueError as e:
                raise ModuleFailure(str(e)) from None
            path = f"{folder}/{j['dataset']}.pass"
            wanted.add(path)
            host.file(path, secret, 0o600, show=lambda _text: "(password, not shown)\n")
    if os.path.isdir(host.path(folder)):
        for name in sorted(os.listdir(host.path(folder))):
            if f"{folder}/{name}" not in wanted:
                host.absent(f"{folder}/{name}")


def needed_packages(jobs):
    """Debian packages the jobs need: the base ones and those of the duties a job has (gnupg for
    encrypted data sets, lsyncd for synced ones)."""
    extra = [package for name, d in DUTIES.items() if any(has(j, name) for j in jobs) for package in d.packages]
    return [*PACKAGES, *dict.fromkeys(extra)]


def _touches(jobs, host, cron_before):
    """(data set, control id) -> the changed paths that concern it, so that the audit names
    exactly the control a change on the host broke, not every control of the host."""
    by_control = {}
    cron_lines_before = set((cron_before or "").splitlines())
    own = {duty: tuple(f"{ETC}/{p}" for p in d.own) for duty, d in DUTIES.items()}
    for j in jobs:
        ds = j["dataset"]
        asked = j["controls"]
        lines = cron_lines(j)
        for path in host.changed:
            mine = [duty for duty, prefixes in own.items() if any(path.startswith(p) for p in prefixes)]
            if path == CRON_PATH:
                hit = [duty for duty, line in lines.items() if line not in cron_lines_before]
            elif mine:
                hit = [duty for duty in mine if has(j, duty)]
            elif path == f"{ETC}/datasets/{ds}.conf":
                hit = list(asked)
            elif path.startswith(f"{ETC}/datasets/"):
                hit = []  # another data set's job
            else:  # the job script, shared settings, key, directories: every job depends on them
                hit = [duty for duty in asked if DUTIES[duty].shared]
            for duty in hit:
                if duty in asked:
                    by_control.setdefault((ds, asked[duty]), []).append(path)
    return by_control


def attribute(controls, jobs, host, cron_before):
    """Check mode: drift only for the controls a pending change concerns, each naming the paths of
    its diffs (diff_paths); the texts are in the result's diff once (copied into every entry, the
    job script's diff made a fresh host's result larger than ansible-runner passes on)."""
    touched = _touches(jobs, host, cron_before)
    # gpg_target records a keyring change as "<dir> (keys)" and its diff under "<dir> keys".
    diffs = {d.get("before_header", "").replace(" keys", " (keys)"): d for d in host.diffs}
    for entry in controls:
        paths = touched.get((entry["dataset"], entry["id"]))
        if entry["status"] == "drift" and not paths:
            entry["status"] = "compliant"
        elif entry["status"] == "drift" and host.want_diff:
            found = [diffs[p] for p in paths if p in diffs]
            entry["diff_paths"] = [d["before_header"] for d in found]


def read_failure(host, dataset, kind):
    """{at, reason} of the newest failed attempt of a kind of job (run, annual, verify, sync),
    present only while no later attempt succeeded (the script removes it on success)."""
    raw = read_status(host, dataset, f"{kind}_failed")
    if raw is None:
        return None
    at, _sep, reason = raw.partition("\n")
    return {"at": at.strip(), "reason": reason.strip()[:300]}


def evidence(host, jobs, changed, check_mode, keyring, key_error, blockers):
    """One entry per planned control and data set, status after the call (found state in check
    mode), small evidence from the status files the jobs write, read by its duty's row in
    DUTIES. The audit judges the evidence (ages, failures) against the policy."""
    base = "drift" if check_mode and changed else "compliant"
    found = {"keyring": keyring, "key_error": key_error}
    out = []
    for j in jobs:
        for cid, duty in sorted((cid, duty) for duty, cid in j["controls"].items()):
            row = DUTIES[duty]
            if row.reader is None:
                continue
            got = row.reader(host, j, found)
            status, detail, message = got.get("status", base), got["detail"], got.get("message")
            if blockers and row.shared:
                status, detail, message = "drift" if check_mode else "error", "; ".join(blockers), None
            entry = {"id": cid, "dataset": j["dataset"], "status": status, "detail": detail,
                     "evidence": {k: v for k, v in got["evidence"].items() if v is not None},
                     **({"message": message} if message else {})}
            if j["pull"]:  # this host's word on the system it pulls from (#23)
                entry["for"] = j["pull"]["for"]
                entry["evidence"]["pulled_from"] = j["pull"]["source"]
            out.append(entry)
    return out
