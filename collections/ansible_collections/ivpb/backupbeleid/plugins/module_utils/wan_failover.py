# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backend of ivpb.backupbeleid.wan_failover (§3 Internetverbinding).

Renders the daemon, its JSON config, its systemd unit and the sysctl drop-in; writes what
differs (never in check mode); applies loose rp_filter and forwarding; keeps the unit enabled
and running (restarted when its files changed); and reads the daemon's state file as evidence
for the failover and SLA controls the caller names. Standard library only (runs on the target).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time

from ansible_collections.ivpb.backupbeleid.plugins.module_utils import host_program, input_rules, packages
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import wan_failover_daemon as daemon_mod
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import Host, ModuleFailure

SERVICE = "ivpb-wan-failover.service"
DAEMON_PATH = "/usr/local/sbin/ivpb-wan-failover"
CONFIG_PATH = "/etc/ivpb/wan-failover.json"
UNIT_PATH = "/etc/systemd/system/" + SERVICE
SYSCTL_PATH = "/etc/sysctl.d/60-ivpb-wan-failover.conf"
STATE_PATH = "/run/ivpb-wan-failover/state.json"
MASK = "********"
PACKAGES = ("iproute2", "iputils-ping")
PROBE_KEYS = ("reliability", "count", "timeout", "interval", "down", "up")
DEFAULT_PROBE = dict(daemon_mod.DEFAULT_PROBE)

UNIT = """\
# Managed by ivpb.backupbeleid.wan_failover (§3 Internetverbinding). Do not edit.
[Unit]
Description=ivpb dual-WAN failover: probes each uplink and switches the default route (§3)
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=/usr/bin/python3 {daemon} {config}
RuntimeDirectory=ivpb-wan-failover
RuntimeDirectoryPreserve=yes
Restart=always
RestartSec=2
SyslogIdentifier=ivpb-wan-failover

[Install]
WantedBy=multi-user.target
"""


def probe_settings(probe: dict | None) -> dict:
    out = dict(DEFAULT_PROBE)
    for key, value in (probe or {}).items():
        if value is not None:
            out[key] = int(value)
    return out


def check_params(uplinks: list[dict], probe: dict, active_metric: int, webhook=None) -> None:
    """Errors a user can make; each one line naming the option. Every value is checked with the
    shared rules (input_rules), as the controller's schema checks it, so a playbook that calls
    the module directly is held to the same rules."""
    try:
        _check_params(uplinks, probe, active_metric, webhook)
    except ValueError as e:
        raise ModuleFailure(str(e)) from None


def _check_params(uplinks: list[dict], probe: dict, active_metric: int, webhook) -> None:
    if not uplinks or not isinstance(uplinks, list):
        raise ModuleFailure("uplinks: expected at least one uplink (two for an alternative connection)")
    if webhook is not None:
        input_rules.url(webhook, "webhook")
    seen: dict[str, dict] = {"name": {}, "interface": {}, "gateway": {}, "metric": {}}
    for i, u in enumerate(uplinks):
        if not isinstance(u, dict):
            raise ModuleFailure(f"uplinks[{i}]: expected a mapping with name, interface, gateway, metric, track_ip")
        input_rules.identifier(u.get("name"), f"uplinks[{i}].name")
        input_rules.interface(u.get("interface"), f"uplinks[{i}].interface")
        input_rules.ipv4(u.get("gateway"), f"uplinks[{i}].gateway")
        metric = u.get("metric")
        if isinstance(metric, bool) or not isinstance(metric, int) or not 1 <= metric <= 65535:
            raise ModuleFailure(f"uplinks[{i}].metric: expected a whole number 1-65535, "
                                f"got {input_rules.shown(metric)}")
        if not isinstance(u.get("track_ip") or [], list):
            raise ModuleFailure(f"uplinks[{i}].track_ip: expected a list of IPv4 addresses")
        for j, ip in enumerate(u.get("track_ip") or []):
            input_rules.ipv4(ip, f"uplinks[{i}].track_ip[{j}]")
        for key in seen:
            value = u.get(key)
            if value in seen[key]:
                raise ModuleFailure(
                    f"uplinks[{i}].{key}: {value!r} is already used by uplinks[{seen[key][value]}]; "
                    "expected distinct values")
            seen[key][value] = i
        if not u.get("track_ip"):
            raise ModuleFailure(f"uplinks[{i}].track_ip: expected at least one probe target")
        if int(u["metric"]) <= active_metric:
            raise ModuleFailure(
                f"uplinks[{i}].metric: {u['metric']} must be higher than active_metric {active_metric}")
    for key in PROBE_KEYS:
        if probe[key] < 1:
            raise ModuleFailure(f"probe.{key}: expected a whole number of at least 1")
    if probe["timeout"] * probe["count"] >= probe["interval"] * 2:
        raise ModuleFailure("probe.timeout: count x timeout must stay below two intervals")


def render_config(uplinks: list[dict], probe: dict, active_metric: int, webhook: str | None,
                  state_file: str = STATE_PATH) -> dict:
    config = {
        "uplinks": [
            {"name": u["name"], "interface": u["interface"], "gateway": u["gateway"],
             "metric": int(u["metric"]), "track_ip": list(u["track_ip"])}
            for u in uplinks
        ],
        "probe": probe,
        "active_metric": active_metric,
        "state_file": state_file,
    }
    if webhook:
        config["webhook"] = webhook
    return config


def dump(config: dict) -> str:
    return json.dumps(config, indent=2, sort_keys=True) + "\n"


def sysctls(uplinks: list[dict], forwarding: bool) -> dict[str, str]:
    """rp_filter=2 (loose): strict 1 drops replies to probes on the standby uplink."""
    keys = {"net.ipv4.conf.all.rp_filter": "2", "net.ipv4.conf.default.rp_filter": "2"}
    for u in uplinks:
        # an interface named eth0.10 needs the '/' form (sysctl.d(5)): input_rules.sysctl_name
        keys[input_rules.sysctl_name(["net", "ipv4", "conf", u["interface"], "rp_filter"])] = "2"
    if forwarding:
        keys["net.ipv4.ip_forward"] = "1"
    return keys


def sysctl_text(keys: dict[str, str]) -> str:
    lines = ["# Managed by ivpb.backupbeleid.wan_failover (§3 Internetverbinding). Do not edit."]
    lines += [f"{k} = {v}" for k, v in keys.items()]
    return "\n".join(lines) + "\n"


def sla_status(uplinks: list[dict], today: dt.date) -> dict:
    """internet.sla ("indien mogelijk", advisory): an SLA per uplink or why there is none. The
    entry's `message` is a list: one message per gap, or the one that names every record (detail
    for Ansible's output; message, ids of ivpb's words catalogue, for the report)."""
    evidence, gaps = {}, []
    for u in uplinks:
        sla, isp, name = u.get("sla"), u.get("isp"), u["name"]
        entry = {"isp": isp}
        if isinstance(sla, dict) and sla.get("reference") and sla.get("ends"):
            entry.update(sla=sla["reference"], ends=str(sla["ends"]))
            try:
                ends = dt.date.fromisoformat(str(sla["ends"]))
            except ValueError:
                gaps.append((f"{name}: SLA end date {sla['ends']!r} is not YYYY-MM-DD",
                             {"id": "wan_failover.sla_bad_date", "params": {"uplink": name, "ends": str(sla["ends"])}}))
            else:
                if ends < today:
                    gaps.append((f"{name}: SLA {sla['reference']} ended {ends.isoformat()}",
                                 {"id": "wan_failover.sla_ended", "params": {
                                     "uplink": name, "reference": str(sla["reference"]), "ends": ends.isoformat()}}))
        elif sla == "none" and u.get("reason"):
            entry.update(sla="none", reason=u["reason"])
        elif sla == "none":
            gaps.append((f"{name}: 'no SLA' recorded without a reason",
                         {"id": "wan_failover.sla_no_reason", "params": {"uplink": name}}))
        else:
            gaps.append((f"{name}: no SLA record", {"id": "wan_failover.sla_no_record", "params": {"uplink": name}}))
        if not isp:
            gaps.append((f"{name}: no ISP recorded", {"id": "wan_failover.sla_no_isp", "params": {"uplink": name}}))
        evidence[name] = entry
    if gaps:
        return {"status": "missing", "detail": "; ".join(d for d, _m in gaps), "evidence": evidence,
                "message": [m for _d, m in gaps]}
    records = [f"{n} ({e['isp']}: {e['sla']})" for n, e in evidence.items()]
    return {"status": "compliant", "detail": "SLA or recorded reason for every uplink: " + ", ".join(records),
            "evidence": evidence, "message": [{"id": "wan_failover.sla_recorded", "params": {"uplinks": records}}]}


def enforce(host: Host, params: dict) -> dict:
    """The module's whole work on the routing host; raises ModuleFailure (one line)."""
    run = WanFailover(host, params)
    packages.for_params(host, params, PACKAGES)
    return run.run()


def mask_config(text: str | None, webhook: str | None) -> str:
    """A config text for a diff with the webhook masked as it is written: the JSON's "webhook"
    value, whatever it is (also an older file's), not a search for the raw text."""
    if not text:
        return text or ""
    try:
        config = json.loads(text)
    except ValueError:
        config = None
    if isinstance(config, dict):
        if "webhook" in config:
            return dump({**config, "webhook": MASK})
        return text
    for form in filter(None, (webhook, json.dumps(webhook)[1:-1] if webhook else None)):
        text = text.replace(form, MASK)
    return text


class WanFailover:
    """One run of the module: desired files -> changes -> service -> evidence."""

    def __init__(self, host: Host, params: dict, today: dt.date | None = None):
        self.probe = probe_settings(params.get("probe"))
        self.active_metric = int(params.get("active_metric") or input_rules.ACTIVE_METRIC)
        self.uplinks = params["uplinks"]
        check_params(self.uplinks, self.probe, self.active_metric, params.get("webhook"))
        try:
            self.asked = input_rules.duties(params.get("controls"), "wan_failover")
        except ValueError as e:
            raise ModuleFailure(str(e)) from None
        self.params = params
        self.host = host
        self.check_mode = host.check_mode
        self.want_diff = host.want_diff
        self.wait = float(params.get("wait") or 0)
        self.today = today or dt.datetime.now(dt.UTC).date()
        self.sysctls = sysctls(self.uplinks, params.get("forwarding", True))
        self.config = render_config(self.uplinks, self.probe, self.active_metric, params.get("webhook"),
                                    host.path(STATE_PATH))
        self.changes: list[str] = []

    def _masked(self, text: str | None) -> str:
        return mask_config(text, self.params.get("webhook"))

    def desired_files(self) -> list[tuple[str, str, int]]:
        return [
            (DAEMON_PATH, host_program.text(daemon_mod), 0o755),
            (CONFIG_PATH, dump(self.config), 0o600),
            (UNIT_PATH, UNIT.format(daemon=DAEMON_PATH, config=CONFIG_PATH), 0o644),
            (SYSCTL_PATH, sysctl_text(self.sysctls), 0o644),
        ]

    # -- steps ----------------------------------------------------------------------------
    def files(self) -> list[str]:
        changed = []
        for path, text, mode in self.desired_files():
            if path == DAEMON_PATH:
                def show(t, text=text):
                    return f"(daemon, {len(text)} bytes)\n" if t == text else "(previous daemon)\n"
            else:
                show = self._masked
            if self.host.file(path, text, mode, show=show):
                changed.append(path)
        self.changes += [f"file {p}" for p in changed]
        return changed

    def apply_sysctls(self) -> list[str]:
        wrong = []
        for key, value in self.sysctls.items():
            proc = self.host.path("/proc/sys/" + (key if "/" in key else key.replace(".", "/")))
            try:
                with open(proc, encoding="ascii") as fh:
                    current = fh.read().strip()
            except FileNotFoundError:
                current = None  # interface not there yet: the drop-in applies when it appears
                continue
            if current == value:
                continue
            wrong.append(key)
            if not self.check_mode:
                try:
                    with open(proc, "w", encoding="ascii") as fh:
                        fh.write(value)
                except OSError as exc:
                    raise ModuleFailure(f"cannot set {key}={value} ({exc.strerror}); "
                                        "/proc/sys must be writable (a container needs NET_ADMIN and a "
                                        "writable /proc/sys)") from None
        self.changes += [f"sysctl {k}" for k in wrong]
        return wrong

    def service(self, restart: bool, reload: bool) -> dict:
        actions, enabled, active = self.host.unit(SERVICE, restart=restart, daemon_reload=reload)
        names = [" ".join(filter(None, a)) for a in actions]
        self.changes += [f"service {n}" for n in names if n != "daemon-reload"]
        return {"enabled": enabled, "active": active, "actions": names}

    def read_state(self, newer_than: float | None) -> dict | None:
        deadline = time.monotonic() + (self.wait if newer_than is not None else 0)
        while True:
            path = self.host.path(STATE_PATH)
            try:
                if newer_than is None or os.stat(path).st_mtime > newer_than:
                    with open(path, encoding="utf-8") as fh:
                        return json.load(fh)
            except (OSError, ValueError):
                pass
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.5)

    def routes(self) -> list[dict]:
        rc, out, _err = self.host.run(["ip", "-4", "-j", "route", "show", "default"])
        if rc != 0:
            return []
        try:
            return json.loads(out or "[]")
        except ValueError:
            return []

    # -- the run --------------------------------------------------------------------------
    def run(self) -> dict:
        started = time.time()
        changed_files = self.files()
        self.apply_sysctls()
        restart = bool(changed_files)
        svc = self.service(restart=restart, reload=UNIT_PATH in changed_files)
        state = self.read_state(started if svc["actions"] and not self.check_mode else None)
        controls = self.controls(state, svc)
        result = {"changed": bool(self.changes), "changes": self.changes, "controls": controls,
                  "state": state or {}}
        if self.want_diff:
            result["diff"] = self.host.diffs
        return result

    def controls(self, state: dict | None, svc: dict) -> list[dict]:
        """An entry per control the caller asked for, under the id it gave (the policy's)."""
        out = []
        if "failover" in self.asked:
            out.append({"id": self.asked["failover"][""], **self.failover_control(state, svc)})
        if "sla" in self.asked:
            out.append({"id": self.asked["sla"][""], **sla_status(self.uplinks, self.today)})
        return out

    def failover_control(self, state: dict | None, svc: dict) -> dict:
        evidence = {"uplinks": [u["name"] for u in self.uplinks], "service": SERVICE}
        if self.params.get("serves"):
            evidence["serves"] = list(self.params["serves"])
        if state:
            evidence.update(
                active=state.get("active"), last_switch=state.get("last_switch"),
                switches=state.get("switches"), updated=state.get("updated"),
                probes={n: {"state": s.get("state"), "replies": s.get("replies"), "since": s.get("since")}
                        for n, s in (state.get("uplinks") or {}).items()})
        # detail for Ansible's output; message (an id of ivpb's words catalogue) for the report.
        # How many uplinks an alternative connection needs is the policy's (uplinks_online_min),
        # judged by ivpb audit from `uplinks` and `probes`.
        if self.check_mode and self.changes:
            return {"status": "drift", "evidence": evidence,
                    "detail": "would change: " + ", ".join(self.changes),
                    "message": {"id": "wan_failover.would_change", "params": {"n": len(self.changes)}}}
        if not state:
            return {"status": "error", "evidence": evidence,
                    "detail": f"{SERVICE} wrote no state to {STATE_PATH}",
                    "message": {"id": "wan_failover.no_state", "params": {"service": SERVICE, "path": STATE_PATH}}}
        stale = self._stale(state)
        if stale:
            detail, message = stale
            return {"status": "error", "evidence": evidence, "detail": detail, "message": message}
        active = state.get("active")
        route = next((r for r in self.routes() if r.get("metric") == self.active_metric), None)
        evidence["route"] = f"via {route.get('gateway')} dev {route.get('dev')}" if route else None
        online = [n for n, s in (state.get("uplinks") or {}).items() if s.get("state") == "online"]
        return {"status": "compliant", "evidence": evidence,
                "detail": f"active uplink {active}; {len(online)} of {len(self.uplinks)} online "
                          f"({', '.join(online) or 'none'}); {state.get('switches', 0)} switch(es), "
                          f"last {state.get('last_switch') or 'never'}",
                "message": {"id": "wan_failover.active" if state.get("last_switch") else "wan_failover.never_switched",
                            "params": {"active": str(active), "online": len(online), "total": len(self.uplinks),
                                       "names": ", ".join(online) or "-", "switches": state.get("switches") or 0,
                                       "last": str(state.get("last_switch") or "")}}}

    def _stale(self, state: dict) -> tuple[str, dict] | None:
        try:
            updated = dt.datetime.fromisoformat(str(state.get("updated")).replace("Z", "+00:00"))
        except ValueError:
            return (f"state file {STATE_PATH} has no valid 'updated' time",
                    {"id": "wan_failover.no_updated", "params": {"path": STATE_PATH}})
        age = (dt.datetime.now(dt.UTC) - updated).total_seconds()
        limit = 3 * self.probe["interval"] + self.probe["count"] * self.probe["timeout"] + 5
        if age > limit:
            return (f"state file {STATE_PATH} is {int(age)} s old (limit {limit} s): the daemon is not probing",
                    {"id": "wan_failover.stale", "params": {"path": STATE_PATH, "age": int(age), "limit": limit}})
        return None
