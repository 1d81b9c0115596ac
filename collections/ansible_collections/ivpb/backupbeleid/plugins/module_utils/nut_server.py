# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backend of ivpb.backupbeleid.nut_server: the NUT server on the host the UPSes are plugged into
(§2 Stroomvoorziening), in one call - configuration, services and the UPSes' status.

Stdlib only (targets run Python 3.11 on Debian bookworm)."""

from __future__ import annotations

import shutil
import time

from ansible_collections.ivpb.backupbeleid.plugins.module_utils import input_rules, packages
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import ModuleFailure

ETC = "/etc/nut"
HEADER = "# Managed by ivpb.backupbeleid.nut_server (IVPB Backupbeleid, §2 Stroomvoorziening). Do not edit.\n"
MASKED_USERS = "(upsd.users: one user per client, passwords masked)\n"
DRIVERS = "nut-driver-enumerator.service"
UPSD = "nut-server.service"
DRIVER_TARGET = "nut-driver.target"
PACKAGES = ("nut-server", "nut-client")
GROUP = "nut"  # made by NUT's packages; upsd reads its files as this group
UPSC_TIMEOUT = 10  # seconds: a UPS's status from this server's own upsd (a hung upsd must not hold the module)


def word(value):
    """A value in NUT's configuration syntax: quoted, with backslash, quote and '#' escaped."""
    s = str(value)
    if input_rules.CONTROL_RE.search(s):
        raise ModuleFailure("a NUT configuration value may not contain a line break or control character")
    return input_rules.nut_quote(s)


def port_of(name, ups):
    return ups.get("port") or (f"{name}.dev" if ups["driver"] == "dummy-ups" else "auto")


def render_ups_conf(ups):
    out = [HEADER, "maxretry = 3\n"]
    for name, u in ups.items():
        driver, port = input_rules.nut_word(u["driver"]), input_rules.nut_word(port_of(name, u))
        out.append(f"\n[{name}]\n\tdriver = {driver}\n\tport = {port}\n")
        if u.get("description") is not None:
            out.append(f"\tdesc = {word(u['description'])}\n")
        for key, value in (u.get("options") or {}).items():
            out.append(f"\t{key} = {word(value)}\n")
    return "".join(out)


def render_dummy(name):
    """State file of a dummy-ups UPS (the lab): on line power; upsrw changes it at run time."""
    return (f"{HEADER}ups.status: OL\nbattery.charge: 100\nbattery.runtime: 1800\n"
            f"ups.mfr: ivpb-lab\nups.model: dummy-ups {name}\n")


def render_upsd_conf(listen, port):
    return HEADER + "".join(f"LISTEN {addr} {port}\n" for addr in listen)


def render_users(users):
    """One section per user: a client's upsmon user (no admin rights, no SET, no instant
    commands), or a test user that may SET variables (upsrw simulates a power cut)."""
    out = [HEADER]
    for u in users:
        out.append(f"\n[{u['name']}]\n\tpassword = {word(u['password'])}\n")
        if u.get("upsmon"):
            out.append(f"\tupsmon {u['upsmon']}\n")
        if u.get("actions"):
            out.append(f"\tactions = {' '.join(u['actions'])}\n")
    return "".join(out)


def ups_status(host, names, settle=0.0):
    """ups.status of each UPS as upsd serves it; after a restart, wait up to settle seconds
    for the drivers to come back."""
    out = {}
    deadline = time.monotonic() + settle
    for name in names:
        while True:
            rc, stdout, _err = host.run(["upsc", f"{name}@localhost", "ups.status"], timeout=UPSC_TIMEOUT)
            status = stdout.strip() if rc == 0 else None
            if status or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
        out[name] = status or "unreachable"
    return out


def connected(host, ups, port):
    """The addresses upsd lists as logged in to a UPS (`upsc -c`, NUT's LIST CLIENT: every
    upsmon that monitors it), or None when upsd does not answer."""
    rc, stdout, _err = host.run(["upsc", "-c", f"{ups}@localhost:{port}"], timeout=UPSC_TIMEOUT)
    return {line.strip() for line in stdout.splitlines() if line.strip()} if rc == 0 else None


def addresses_of(host, name):
    """The addresses `name` resolves to on this server (getent ahosts: /etc/hosts and DNS, as
    upsd's clients are seen), empty when it does not resolve."""
    rc, stdout, _err = host.run(["getent", "ahosts", name], timeout=UPSC_TIMEOUT)
    return sorted({line.split()[0] for line in stdout.splitlines() if line.strip()}) if rc == 0 else []


def pulled_controls(host, p, running):
    """The power controls of the unmanaged systems among the clients (those handed `controls`):
    nothing runs on such a system, so its word is what upsd says - compliant only when an
    upsmon from one of its addresses is logged in to each UPS of this server that feeds it."""
    out = []
    for c in p.get("clients") or []:
        if not c.get("controls"):
            continue
        asked = input_rules.duties(c["controls"], "nut_client")  # checked in check_params
        address = c.get("address") or c["host"]
        mine = addresses_of(host, address) if running else []
        states, reachable = {}, []
        for ups in c.get("ups") or []:
            seen = connected(host, ups, p["port"]) if running else None
            if seen is None:
                states[ups] = "unreachable"
            elif seen & set(mine):
                states[ups] = "connected"
                reachable.append(ups)
            else:
                states[ups] = "not connected"
        evidence = {"reachable": reachable, "status": states, "address": address, "addresses": mine,
                    "pulled_from": "upsd LIST CLIENT"}
        missing = [u for u, s in states.items() if s != "connected"]
        if not running:
            status, detail = "drift", f"{UPSD} is not running: its clients cannot be listed"
        elif not mine:
            status, detail = "drift", f"{address} does not resolve on this NUT server"
        elif missing:
            status = "drift"
            detail = f"no upsmon from {address} ({', '.join(mine)}) logged in to " + ", ".join(
                f"{u} ({states[u]})" for u in missing)
        else:
            status = "compliant"
            detail = f"upsmon from {address} ({', '.join(mine)}) logged in to {', '.join(reachable)}"
        for _duty, by_ds in asked.items():
            out.append({"id": by_ds[""], "for": c["host"], "status": status, "detail": detail, "evidence": evidence})
    return out


ACTIONS = ("SET", "FSD")
ALLOWED_UPS_KEYS = ("driver", "port", "description", "options")


def check_params(p):
    """Every parameter against the shared rules (input_rules), as the controller's schema checks
    them: a playbook that calls the module directly is held to the same rules. Raises
    ModuleFailure with one line (never a password)."""
    try:
        _check_params(p)
    except ValueError as e:
        raise ModuleFailure(str(e)) from None


def _check_params(p):
    ups = p.get("ups")
    if not isinstance(ups, dict) or not ups:
        raise ModuleFailure("ups: expected a mapping of UPS name -> {driver, port, ...}")
    for name, u in ups.items():
        input_rules.nut_name(name, "ivpb_nut_server.ups key")
        where = f"ivpb_nut_server.ups.{name}"
        if not isinstance(u, dict) or not u.get("driver"):
            raise ModuleFailure(f"{where}.driver: expected a NUT driver name")
        extra = sorted(set(u) - set(ALLOWED_UPS_KEYS))
        if extra:
            raise ModuleFailure(f"{where}.{extra[0]}: unknown key (expected one of: {', '.join(ALLOWED_UPS_KEYS)})")
        input_rules.nut_driver(u["driver"], f"{where}.driver")
        port = port_of(name, u)
        input_rules.nut_port(port, f"{where}.port")
        if u["driver"] == "dummy-ups" and "/" in port:
            raise ModuleFailure(f"{where}.port: {input_rules.shown(port)}: a dummy-ups port is a file name "
                                "ending in .dev (written in /etc/nut)")
        if u.get("description") is not None:
            input_rules.text(str(u["description"]), f"{where}.description")
        options = u.get("options") or {}
        if not isinstance(options, dict):
            raise ModuleFailure(f"{where}.options: expected a mapping of option -> value")
        for key, value in options.items():
            input_rules.nut_option(key, f"{where}.options key")
            if isinstance(value, (dict, list)) or value is None:
                raise ModuleFailure(f"{where}.options.{key}: expected a string, number or boolean")
            input_rules.text(str(value), f"{where}.options.{key}")
    listen = p.get("listen") or []
    for i, addr in enumerate(listen):
        input_rules.host_name(addr, f"listen[{i}]")
    port = p.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ModuleFailure(f"port: expected a TCP port 1-65535, got {input_rules.shown(port)}")
    for i, c in enumerate(p.get("clients") or []):
        if c.get("controls"):  # an unmanaged system whose power controls this server reports
            input_rules.duties(c["controls"], "nut_client", f"clients[{i}].controls")
            input_rules.host_name(c.get("address") or c.get("host"), f"clients[{i}].address")
            if not c.get("ups"):
                raise ModuleFailure(f"clients[{i}].ups: expected the UPSes of this server that feed it")
            for j, name in enumerate(c["ups"]):
                input_rules.nut_name(name, f"clients[{i}].ups[{j}]")
    names = set()
    for where, u in users_of(p):
        input_rules.nut_name(u.get("name"), f"{where}.name")
        if u["name"] in names:
            raise ModuleFailure(f"{where}.name: {u['name']!r} is listed more than once")
        names.add(u["name"])
        input_rules.secret(u.get("password"), f"{where}.password")
        if u.get("upsmon") not in (None, "primary", "secondary"):
            raise ModuleFailure(f"{where}.upsmon: expected primary or secondary")
        for j, action in enumerate(u.get("actions") or []):
            if action not in ACTIONS:
                raise ModuleFailure(f"{where}.actions[{j}]: expected one of {', '.join(ACTIONS)}, "
                                    f"got {input_rules.shown(action)}")


def users_of(p):
    """(where, user) for every upsd user: one upsmon secondary per client as the planner hands
    them (host and NUT user; roles.role_inputs) with the host's password from `passwords`, then
    `users` as given (a test user, or a playbook's own)."""
    passwords = p.get("passwords") or {}
    out = []
    for i, c in enumerate(p.get("clients") or []):
        if c.get("host") not in passwords:
            raise ModuleFailure(f"clients[{i}]: no password for {input_rules.shown(c.get('host'))} in passwords "
                                "(its ivpb_nut_password)")
        out.append((f"clients[{i}]", {"name": c.get("name"), "password": passwords[c["host"]], "upsmon": "secondary"}))
    return out + [(f"users[{i}]", u) for i, u in enumerate(p.get("users") or [])]


def enforce(host, p):
    """Returns the module result; raises ModuleFailure."""
    check_params(p)
    packages.for_params(host, p, PACKAGES)
    ups = p["ups"]
    installed = shutil.which("upsd", path="/usr/sbin:/sbin") is not None
    # Where the group comes from is this backend's knowledge, not the toolkit's: a missing group
    # is reported by the toolkit (naming the file) with this backend's reason as its hint.
    own = {"owner": "root", "group": GROUP, "hint": "nut-server is not installed"}
    nut_conf = host.file(f"{ETC}/nut.conf", HEADER + "MODE=netserver\n", 0o640, **own)
    ups_conf = host.file(f"{ETC}/ups.conf", render_ups_conf(ups), 0o640, **own)
    dummies = [host.file(f"{ETC}/{port_of(n, u)}", render_dummy(n), 0o640, **own)
               for n, u in ups.items() if u["driver"] == "dummy-ups"]
    upsd_conf = host.file(f"{ETC}/upsd.conf", render_upsd_conf(p["listen"], p["port"]), 0o640, **own)
    users = host.file(f"{ETC}/upsd.users", render_users([user for _where, user in users_of(p)]), 0o640,
                      show=lambda _text: MASKED_USERS, **own)
    actions = []
    # Order matters. NUT 2.8.0's drivers keep the socket of the upsd they served: after a restart
    # of upsd their next broadcast hits the dead socket and dummy-ups aborts (seen in the lab), so
    # the drivers are restarted again after upsd.
    if nut_conf or ups_conf or any(dummies):
        actions.append(("restart", DRIVERS))
    if nut_conf or ups_conf or upsd_conf:
        actions += [("restart", UPSD), ("restart", DRIVER_TARGET)]
    elif users:
        actions.append(("reload", UPSD))
    enabled, active = host.unit_state(UPSD) if installed else (False, False)
    if not enabled:
        actions.append(("enable", UPSD))
    if not active and ("restart", UPSD) not in actions:
        actions.append(("start", UPSD))
    if actions and not host.check_mode:
        host.systemctl(actions)
        enabled, active = host.unit_state(UPSD)
    changed = bool(host.changed or actions)
    result = {
        "changed": changed,
        "changed_paths": host.changed,
        "service": {"name": UPSD, "enabled": enabled, "active": active,
                    "actions": [f"{verb} {unit}" for verb, unit in actions]},
        "ups": ups_status(host, list(ups), settle=10.0 if actions and not host.check_mode else 0.0)
        if installed else {},
        "controls": pulled_controls(host, p, installed and active),
    }
    if host.want_diff:
        result["diff"] = host.diffs
    return result
