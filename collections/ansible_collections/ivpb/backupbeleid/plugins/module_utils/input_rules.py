# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The field rules of ivpb, written once: the controller's schema (`ivpb validate`, the plan
step) and every module's own parameter checks use these, so they cannot disagree.

Standard library only (runs on the target, Python 3.11). Import on a host as

    from ansible_collections.ivpb.backupbeleid.plugins.module_utils import input_rules

API
---
Checkers: `rule(value, what)` returns the value unchanged when it is acceptable and raises
`ValueError` with ONE line otherwise: `"<what>: <value, shortened> is not <description>"`
(`what` is the caller's name for the field, e.g. `"ivpb_stores[0].path"` or `"ups[1].name"`).
A checker never shows a secret: `secret()` says only what is wrong.

    identifier(v, what)   data set, site, target, recipient, uplink names: [a-z0-9][a-z0-9_-]*, <= 64
    nut_name(v, what)     UPS and NUT user names: [A-Za-z0-9][A-Za-z0-9_.-]*, <= 64
    host_name(v, what)    an inventory host / DNS name or IPv4 address, <= 253, no leading '-'
    interface(v, what)    a Linux network interface name (<= 15, no '/', ':', blanks; not . or ..)
    unix_user(v, what)    a Unix account name: [a-z_][a-z0-9_-]*, <= 32
    ipv4(v, what)         a dotted IPv4 address
    ssh_public_key(v, what)  an SSH public key, type and base64 body only (no options, no comment)
    abs_path(v, what)     absolute, normalised path: starts with '/', no '//', no '.' or '..'
                          component, no trailing '/', no control character, <= 4095
    nut_driver(v, what)   a NUT driver name: [a-z0-9][a-z0-9_-]*
    nut_port(v, what)     a NUT driver port: 'auto', an absolute path under /dev/, a bare file
                          name ending in .dev (dummy-ups: in /etc/nut), or host:port
    nut_option(v, what)   a ups.conf option name: [a-z][a-z0-9_.-]*, not driver, port or desc
    url(v, what)          an http(s) URL of printable ASCII without blanks, quotes or backslash
                          (its message never shows the value: a webhook may hold a token)
    mail(v, what)         a mail address that cannot be read as a command option (no leading '-')
    multiline(v, what)    text that may hold line breaks and tabs, no other control character, <= 5000
    armored_key(v, what)  an ASCII-armored OpenPGP public key block
    text(v, what)         one line of text: no control character (C0, DEL, C1, U+2028/9, lone
                          surrogates), <= 1000 characters
    no_control(v, what)   the same without the length limit
    not_option(v, what)   a value that does not start with '-' (never read as an option)
    secret(v, what, max_len=200)  a non-empty printable-ASCII secret; the message never shows it
    pull_secret(v, what)  the same for a pulled data set's account (ivpb_pull_password), in its own words
    command_line(v, what) a one-line command whose program is an absolute path, <= 1000
    nut_deadtime(deadtime, pollfreq, what)  DEADTIME >= 3 x POLLFREQ (upsmon.conf(5))
    nut_seconds(v, what, least=1)  one of upsmon's timings (NUT_TIMINGS: name -> least), least
                          to NUT_SECONDS_MAX seconds
    duties(controls, module, what, names=None)  a module's `controls` parameter as duty -> data
                          set -> control id, each duty one of DUTIES[module] (or of names:
                          backup_job's own table; DATASET_MODULES: per data set)

Escapers (quote a value for the format it is written into; they do not validate, call a checker
first where the value has a rule):

    nut_quote(v)          a NUT config word in double quotes ('\\', '"' and '#' escaped)
    nut_word(v)           a NUT config word: bare if plain, else nut_quote(v)
    sh_quote(v)           a POSIX shell word in single quotes
    lua_string(v)         a Lua string literal in double quotes (every byte outside printable
                          ASCII as a decimal escape)
    systemd_quote(v)      a word for a systemd unit's ExecStart= ('\\', '"', '%' and '$' escaped)
    sysctl_name(parts)    a sysctl.d key from its components, '/'-separated when a component
                          holds a '.' (an interface named eth0.10)

`SCHEMA_DEFS` holds the JSON Schema form of the rules (whole-value `pattern`s, `maxLength`,
`description`); the controller's variable schemas refer to them as `#/$defs/rule_<name>`.
`PATTERNS` maps each rule name to its regular expression (matched with `re.fullmatch`).
"""

from __future__ import annotations

import re

# Characters that are never allowed in a value written into a file or command line: C0 controls,
# DEL, C1 controls, the Unicode line and paragraph separators and lone surrogates (a non-UTF-8
# byte decoded with surrogateescape).
CONTROL = "\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
CONTROL_RE = re.compile(f"[{CONTROL}]")

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"

# name -> (regular expression for re.fullmatch, maximum length, description)
_RULES: dict[str, tuple[str, int, str]] = {
    "identifier": (r"[a-z0-9][a-z0-9_-]*", 64,
                   "a name of lower case letters, digits, '-' and '_' (starting with a letter or digit, "
                   "at most 64)"),
    "nut_name": (r"[A-Za-z0-9][A-Za-z0-9_.-]*", 64,
                 "a NUT name of letters, digits, '.', '_' and '-' (starting with a letter or digit, at most 64)"),
    "host_name": (rf"{_LABEL}(?:\.{_LABEL})*", 253,
                  "a host name or IPv4 address (letters, digits, '-', '_' and dots, at most 253)"),
    "interface": (r"[A-Za-z0-9][A-Za-z0-9_.@-]*", 15,
                  "a network interface name (letters, digits, '.', '@', '_', '-', at most 15)"),
    "unix_user": (r"[a-z_][a-z0-9_-]*", 32,
                  "a Unix user name (lower case letters, digits, '_', '-', at most 32)"),
    "ipv4": (rf"{_OCTET}(?:\.{_OCTET}){{3}}", 15, "an IPv4 address"),
    "abs_path": (rf"/|(?:/(?!\.\.?(?:/|$))[^/{CONTROL}]+)+", 4095,
                 "an absolute, normalised path (starting with '/', no '//', '.' or '..' components, "
                 "no trailing '/', no control characters)"),
    "nut_driver": (r"[a-z0-9][a-z0-9_-]*", 64, "a NUT driver name such as usbhid-ups"),
    "nut_port": (rf"auto|/dev/(?!\.\.?(?:/|$))[A-Za-z0-9_.:+-]+(?:/(?!\.\.?(?:/|$))[A-Za-z0-9_.:+-]+)*"
                 rf"|[A-Za-z0-9][A-Za-z0-9_.+-]*\.dev|{_LABEL}(?:\.{_LABEL})*:[0-9]{{1,5}}", 255,
                 "a NUT driver port: 'auto', a device under /dev/, a file name ending in .dev (dummy-ups, "
                 "in /etc/nut) or host:port"),
    "nut_option": (r"(?!(?:driver|port|desc)$)[a-z][a-z0-9_.-]*", 64,
                   "a ups.conf option name (lower case letters, digits, '.', '_', '-'; not driver, port or desc)"),
    "url": (r"https?://[A-Za-z0-9._~:/?#\[\]@!$&()*+,;=%-]+", 2000,
            "an http(s) URL (printable ASCII, no blanks, quotes or backslash)"),
    "mail": (r"[A-Za-z0-9._%+=][A-Za-z0-9._%+=-]*@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?", 254,
             "a mail address such as ict@school.example"),
    "command_line": (f" */[^{CONTROL}]*", 1000,
                     "one command line starting with an absolute program path (no control characters)"),
    "multiline": ("[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]*", 5000,
                  "text without control characters other than line breaks and tabs (at most 5000)"),
    "armored_key": (r"\s*-----BEGIN PGP PUBLIC KEY BLOCK-----[\x20-\x7e\t\r\n]*-----END PGP PUBLIC KEY BLOCK-----\s*",
                    200_000, "an ASCII-armored OpenPGP public key block (-----BEGIN PGP PUBLIC KEY BLOCK----- ...)"),
    "ssh_public_key": (r"(?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)) [A-Za-z0-9+/]+={0,3}", 8192,
                       "an SSH public key: its type and base64 body, such as 'ssh-ed25519 AAAA...'"),
    "text": (f"[^{CONTROL}]*", 1000, "one line of text without control characters (at most 1000)"),
    "size": (r"[1-9][0-9]{0,12}[KMGT]?", 14,
             "a size in bytes, optionally with K, M, G or T (powers of 1024), such as 500G"),
}

PATTERNS: dict[str, str] = {name: rule[0] for name, rule in _RULES.items()}

# JSON Schema fragments. jsonschema evaluates `pattern` with Python's re.search, where `$` also
# matches before a final "\n"; the ivpb validator therefore matches every pattern with
# re.fullmatch (the anchors stay for readers and other JSON Schema tools).
SCHEMA_DEFS: dict[str, dict] = {
    f"rule_{name}": {"type": "string", "minLength": 1, "maxLength": max_len,
                     "pattern": f"^(?:{pattern})$", "description": description}
    for name, (pattern, max_len, description) in _RULES.items()
}
SCHEMA_DEFS["rule_text"]["minLength"] = 0
SCHEMA_DEFS["rule_multiline"]["minLength"] = 0
SCHEMA_DEFS["rule_multiline"]["x-multiline"] = True  # the one-line check of every other string is off
SCHEMA_DEFS["rule_armored_key"]["x-multiline"] = True
SCHEMA_DEFS["rule_url"]["x-secret"] = True  # messages do not show the value (a webhook may hold a token)


# The account part of a URL (scheme://user:password@): a password pasted into a source or hook
# URL by mistake would otherwise be quoted in the message that refuses it.
_USERINFO = re.compile(r"(?i)([a-z][a-z0-9+.-]*://)[^/?#\s]*@")


def shown(value, limit: int = 60) -> str:
    """A value as an error message shows it: repr, shortened (never the whole of a huge value),
    a URL's account part (user:password@) not shown."""
    if isinstance(value, str):
        value = _USERINFO.sub(r"\1(account not shown)@", value)
    text = repr(value)
    if len(text) <= limit:
        return text
    return text[:limit] + "..." + (f" ({len(value)} characters)" if isinstance(value, str) else "")


def _check(name: str, value, what: str):
    pattern, max_len, description = _RULES[name]
    if not isinstance(value, str):
        raise ValueError(f"{what}: expected {description}, got {type(value).__name__} {shown(value)}")
    if len(value) > max_len:
        raise ValueError(f"{what}: {shown(value)} is too long: expected {description}")
    # compiled on first use (re's own cache): a module run checks a few of the rules, and
    # compiling them all on import cost it more than its checks
    if not re.fullmatch(pattern, value):
        raise ValueError(f"{what}: {shown(value)} is not {description}")
    return value


def matches(name: str, value) -> bool:
    """True when value satisfies rule `name` (no exception)."""
    try:
        _check(name, value, "value")
    except ValueError:
        return False
    return True


def identifier(value, what: str):
    return _check("identifier", value, what)


def nut_name(value, what: str):
    return _check("nut_name", value, what)


def host_name(value, what: str):
    return _check("host_name", value, what)


def interface(value, what: str):
    return _check("interface", value, what)


def unix_user(value, what: str):
    return _check("unix_user", value, what)


def ipv4(value, what: str):
    return _check("ipv4", value, what)


def ssh_public_key(value, what: str):
    return _check("ssh_public_key", value, what)


def abs_path(value, what: str):
    return _check("abs_path", value, what)


def nut_driver(value, what: str):
    return _check("nut_driver", value, what)


def nut_port(value, what: str):
    return _check("nut_port", value, what)


def nut_option(value, what: str):
    return _check("nut_option", value, what)


def url(value, what: str):
    """A URL may hold a token: the message never shows it."""
    try:
        return _check("url", value, what)
    except ValueError:
        raise ValueError(f"{what}: expected {_RULES['url'][2]} (value not shown: it may hold a token)") from None


def mail(value, what: str):
    return _check("mail", value, what)


def multiline(value, what: str):
    return _check("multiline", value, what)


def armored_key(value, what: str):
    return _check("armored_key", value, what)


def text(value, what: str):
    if isinstance(value, str):
        no_control(value, what)
    return _check("text", value, what)


def no_control(value, what: str):
    if not isinstance(value, str):
        raise ValueError(f"{what}: expected a string, got {type(value).__name__}")
    m = CONTROL_RE.search(value)
    if m:
        raise ValueError(f"{what}: {shown(value)} contains a control character ({m.group()!r} at "
                         f"position {m.start()}); expected one line of text")
    return value


def not_option(value, what: str):
    if isinstance(value, str) and value.startswith("-"):
        raise ValueError(f"{what}: {shown(value)} starts with '-' and could be read as a command option")
    return value


def secret(value, what: str, max_len: int = 200):
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what}: expected a non-empty string (value not shown)")
    if len(value) > max_len:
        raise ValueError(f"{what}: at most {max_len} characters (value not shown)")
    if any(not (0x20 <= ord(c) <= 0x7E) for c in value):
        raise ValueError(f"{what}: only printable ASCII characters (space to ~) are allowed by NUT (value not shown)")
    return value


def pull_secret(value, what: str, max_len: int = 200):
    """The password of the account a backup proxy pulls a data set with (ivpb_pull_password, #23):
    rclone reads it as one line from its root-only file. Same limits as secret(), its own words."""
    if not isinstance(value, str) or not value:
        why = "empty or not a string"
    elif len(value) > max_len:
        why = f"longer than {max_len} characters"
    elif any(not (0x20 <= ord(c) <= 0x7E) for c in value):
        why = "a character that is not printable ASCII (a line break, a tab, an accent)"
    else:
        return value
    raise ValueError(f"{what}: {why} (value not shown); expected the password of the account the pull names "
                     f"(pull.user) as one line of printable ASCII (space to ~), at most {max_len} characters")


def command_line(value, what: str):
    """A one-line command whose program is an absolute path (never an option, never a PATH lookup)."""
    if isinstance(value, str):
        no_control(value, what)
    return _check("command_line", value, what)


def size(value, what: str):
    return _check("size", value, what)


def size_bytes(value, what: str) -> int:
    """A size (rule "size") in bytes."""
    size(value, what)
    unit = value[-1] if value[-1] in "KMGT" else ""
    return int(value[: len(value) - len(unit)]) * 1024 ** (" KMGT".index(unit) if unit else 0)


def quota(value, what: str) -> dict:
    """A receiver's per-client quota {bytes: <size>, files: <whole number>}, either or both;
    missing ones are None (the receiver then gives each client of the target an equal share of
    its file system)."""
    if value in (None, ""):
        return {"bytes": None, "files": None}
    if not isinstance(value, dict) or set(value) - {"bytes", "files"}:
        raise ValueError(f"{what}: expected a mapping with bytes (a size such as 500G) and/or files, "
                         f"got {shown(value)}")
    files = value.get("files")
    if files is not None and (isinstance(files, bool) or not isinstance(files, int)
                              or not 1 <= files <= QUOTA_FILES_MAX):
        raise ValueError(f"{what}.files: {shown(files)} is not a whole number from 1 to {QUOTA_FILES_MAX}")
    most = value.get("bytes")
    return {"bytes": None if most is None else size_bytes(most, f"{what}.bytes"), "files": files}


def interval_days(value) -> float:
    """Days in a duplicity interval such as 1M or 14D (--full-if-older-than)."""
    m = re.fullmatch(r"([0-9]+)([smhDWMY])", str(value))
    if not m:
        raise ValueError(f"{shown(value)} is not an interval such as 1M or 14D")
    return int(m.group(1)) * DAYS_PER[m.group(2)]


def nut_seconds(value: int, what: str, least: int = 1):
    """One of upsmon's timings in whole seconds: at least `least` (NUT_TIMINGS), at most
    NUT_SECONDS_MAX. A UPS on battery lasts minutes: a timing beyond that (a mistyped 1500 for
    15) lets the battery run empty before the host shuts down."""
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= NUT_SECONDS_MAX:
        raise ValueError(f"{what}: expected whole seconds from {least} to {NUT_SECONDS_MAX}, got {shown(value)}")
    return value


def nut_deadtime(deadtime: int, pollfreq: int, what: str = "deadtime"):
    """upsmon's DEADTIME must be at least 3 x POLLFREQ (upsmon.conf(5)), or a slow answer marks
    the UPS stale and the host may shut down for nothing."""
    if deadtime < 3 * pollfreq:
        raise ValueError(f"{what}: expected at least 3 x pollfreq ({3 * pollfreq}), got {deadtime}")
    return deadtime


# --- escapers ---------------------------------------------------------------------------------

def nut_quote(value: str) -> str:
    """A NUT config word in double quotes, with backslash, quote and '#' escaped (NUT's
    parseconf.c takes the next character after '\\' literally; an unescaped '#' in quotes is an
    error). The value must pass no_control() first: a line break cannot be escaped in NUT."""
    return '"' + "".join("\\" + c if c in '\\"#' else c for c in value) + '"'


NUT_PLAIN = re.compile(r"[A-Za-z0-9_.:@+/%^~,!?*-]+")


def nut_word(value: str) -> str:
    """One NUT config word: bare when it holds only characters NUT's parser takes literally,
    else nut_quote(value)."""
    return value if NUT_PLAIN.fullmatch(value) else nut_quote(value)


def sh_quote(value: str) -> str:
    """A POSIX shell word: single quotes, each ' written as '\"'\"'."""
    return "'" + value.replace("'", "'\"'\"'") + "'"


def lua_string(value: str) -> str:
    """A Lua 5.x string literal: double quotes; '\\' and '"' escaped; every byte of the UTF-8
    form outside printable ASCII as a three-digit decimal escape (so no line break, NUL or
    ']]' can end or bend the literal)."""
    out = ['"']
    for byte in value.encode("utf-8", "surrogateescape"):
        ch = chr(byte)
        if ch in '\\"':
            out.append("\\" + ch)
        elif 0x20 <= byte <= 0x7E:
            out.append(ch)
        else:
            out.append(f"\\{byte:03d}")
    out.append('"')
    return "".join(out)


def systemd_quote(value: str) -> str:
    """One word of a systemd unit's ExecStart=: double quotes with '\\' and '"' escaped, '%'
    doubled (specifiers) and '$' doubled (environment expansion). The value must pass
    no_control() first."""
    body = value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{body}"'


def sysctl_name(parts: list[str]) -> str:
    """A sysctl.d key: components joined by '.', or by '/' when one holds a '.' (an interface
    named eth0.10, see sysctl.d(5)). Each component must be non-empty without '/', '=' or blanks."""
    for p in parts:
        if not p or any(c in p for c in "/= \t") or CONTROL_RE.search(p):
            raise ValueError(f"sysctl key component {shown(p)}: expected a name without '/', '=' or blanks")
    return "/".join(parts) if any("." in p for p in parts) else ".".join(parts)


# Defaults the controller (ivpb validate, the planner's role inputs) and the modules share:
# written once here, beside the rules their values obey.
NUT_PORT = 3493  # upsd's TCP port
ACTIVE_METRIC = 10  # the failover's one "active" default route; every uplink's own metric is higher
BACKUP_PATH = "/srv/backup"  # a backup target's directory on its receiver
KEEP_FULL = 4  # full chains a data set keeps on its target
QUOTA_FILES_MAX = 100_000_000  # files a receiver's quota may allow one client
DAYS_PER = {"s": 1 / 86400, "m": 1 / 1440, "h": 1 / 24, "D": 1, "W": 7, "M": 30, "Y": 365}  # duplicity's units
NUT_POLLFREQ = 5  # upsmon POLLFREQ, seconds (nut_deadtime() holds DEADTIME to at least 3 x this)
NUT_DEADTIME = 15  # upsmon DEADTIME, seconds
# upsmon's timings in seconds, each with its least value (FINALDELAY may be 0), and the longest
# any may be (nut_seconds)
NUT_TIMINGS = {"pollfreq": 1, "pollfreq_alert": 1, "hostsync": 1, "deadtime": 1, "finaldelay": 0}
NUT_SECONDS_MAX = 300
# The offsite sync's heartbeat, minutes: the audit judges a sync older than a few heartbeats
# stale, and no host may report a slower one than the module sets.
SYNC_HEARTBEAT_MINUTES = 30


# What each enforcing module can be asked to do: the policy file names, per control, the module
# and its duty (enforced_by.duty); the planner hands a module its controls as
# [{id, duty, datasets}] and the module reports under the ids it was given. So a control's id is
# written in the policy file only and a module's duties once: here for the host modules, and for
# backup_job as the rows of its own DUTIES table (module_utils/backup_job.py, which imports this
# file). The controller checks a policy's duties against both (ivpb.rules.duties), and each
# module's argument spec takes its choices from them.
DUTIES = {
    "nut_client": ("ups", "redundant_ups"),
    "wan_failover": ("failover", "sla"),
}
# The modules whose controls apply per data set (each with its `datasets`); the others' per host.
DATASET_MODULES = ("backup_job",)


def duties(controls, module: str, what: str = "controls", names=None) -> dict:
    """A module's `controls` parameter as duty -> {data set ('' for a host's control) -> the
    control id}; `names`: the module's duties where DUTIES does not list them (backup_job's
    table). Raises ValueError (one line) for an unknown duty, a control without an id, or two
    controls that ask the same duty of the same data set."""
    names = tuple(names if names is not None else DUTIES[module])
    out: dict = {}
    for i, c in enumerate(controls or []):
        where = f"{what}[{i}]"
        if not isinstance(c, dict) or not isinstance(c.get("id"), str) or not c["id"]:
            raise ValueError(f"{where}: expected a mapping with id (the policy's control id) and duty")
        text(c["id"], f"{where}.id")
        if c.get("duty") not in names:
            raise ValueError(f"{where}.duty: {shown(c.get('duty'))} is not one of {', '.join(names)}")
        for ds in c.get("datasets") or [""]:
            seen = out.setdefault(c["duty"], {})
            if ds in seen and seen[ds] != c["id"]:
                raise ValueError(f"{where}: {c['id']} and {seen[ds]} both ask {c['duty']}"
                                 + (f" of data set {ds}" if ds else ""))
            seen[ds] = c["id"]
    return out


def nut_user(host: str) -> str:
    """The NUT monitoring user of an inventory host that names none (ivpb_nut_client.user)."""
    return f"mon-{host}"
