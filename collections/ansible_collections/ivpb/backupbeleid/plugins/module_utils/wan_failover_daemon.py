# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ivpb-wan-failover: the dual-WAN health-probing daemon of §3 Internetverbinding.

Installed on the routing host by the module ivpb.backupbeleid.wan_failover (which writes this
very file to /usr/local/sbin/ivpb-wan-failover) and run as a systemd unit. Standard library
only: it runs on the target (Debian bookworm, Python 3.11), never on the controller.

Modelled on OpenWrt mwan3:
- every `interval` seconds each uplink is probed through its own interface
  (`ping -I IFACE -c count -W timeout TARGET` for each of its `track_ip`); the round is good
  when at least `reliability` targets answered;
- hysteresis: an online uplink goes offline after `down` consecutive failed rounds, an offline
  one comes back after `up` consecutive good rounds; the first round decides the initial state;
- routes: one base default route per uplink at its own metric (so probes on a standby link
  work), and one "active" default route at the fixed lower `active_metric`, switched atomically
  with `ip route replace` to the online uplink with the lowest metric;
- every switch (and every uplink going up or down) is logged to syslog and, when configured,
  posted as JSON to a webhook; the state is written atomically to a JSON state file that the
  module reads as audit evidence.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import signal
import subprocess
import sys
import threading
import time

# The webhook sender (module_utils/webhook.py): wan_failover writes this file to the host with the
# next line replaced by the function's own text, so the daemon still needs nothing but Python.
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.webhook import post  # ivpb: inline

try:
    import syslog
except ImportError:  # pragma: no cover - not on Linux
    syslog = None

NAME = "ivpb-wan-failover"
DEFAULT_CONFIG = "/etc/ivpb/wan-failover.json"
DEFAULT_PROBE = {"reliability": 1, "count": 1, "timeout": 2, "interval": 5, "down": 3, "up": 3}


def utcnow() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Uplink:
    """Probe state of one uplink, with mwan3's hysteresis."""

    def __init__(self, spec: dict, probe: dict):
        self.name = spec["name"]
        self.interface = spec["interface"]
        self.gateway = spec["gateway"]
        self.metric = int(spec["metric"])
        self.track_ip = list(spec.get("track_ip") or [])
        self.probe = {**probe, **{k: spec[k] for k in DEFAULT_PROBE if k in spec}}
        self.state = "unknown"
        self.ok_streak = 0
        self.fail_streak = 0
        self.last_replies = ""
        self.last_probe = None
        self.since = None

    def record(self, good: bool) -> str | None:
        """Account one probe round; return the new state when it changed."""
        if good:
            self.ok_streak += 1
            self.fail_streak = 0
        else:
            self.fail_streak += 1
            self.ok_streak = 0
        new = self.state
        if self.state == "unknown":
            new = "online" if good else "offline"
        elif self.state == "online" and self.fail_streak >= self.probe["down"]:
            new = "offline"
        elif self.state == "offline" and self.ok_streak >= self.probe["up"]:
            new = "online"
        if new != self.state:
            self.state = new
            self.since = utcnow()
            return new
        return None

    def as_dict(self) -> dict:
        return {
            "interface": self.interface, "gateway": self.gateway, "metric": self.metric,
            "state": self.state, "since": self.since, "ok_streak": self.ok_streak,
            "fail_streak": self.fail_streak, "last_probe": self.last_probe, "replies": self.last_replies,
        }


def choose(uplinks: list[Uplink], current: str | None) -> str | None:
    """The online uplink with the lowest metric; with none online keep the current one."""
    online = sorted((u for u in uplinks if u.state == "online"), key=lambda u: u.metric)
    if online:
        return online[0].name
    return current if current else (min(uplinks, key=lambda u: u.metric).name if uplinks else None)


def ping_command(uplink: Uplink, target: str) -> list[str]:
    p = uplink.probe
    return ["ping", "-n", "-q", "-I", uplink.interface, "-c", str(p["count"]), "-W", str(p["timeout"]),
            "-i", "0.2", target]


def probe_round(uplinks: list[Uplink], run=subprocess.Popen) -> dict[str, bool]:
    """Probe every target of every uplink in parallel; per uplink: enough targets answered?"""
    procs = []
    for u in uplinks:
        for target in u.track_ip:
            try:
                proc = run(ping_command(u, target), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            except OSError:
                proc = None
            procs.append((u, proc))
    answered: dict[str, int] = {u.name: 0 for u in uplinks}
    for u, proc in procs:
        if proc is not None and proc.wait() == 0:
            answered[u.name] += 1
    now = utcnow()
    result = {}
    for u in uplinks:
        u.last_probe = now
        u.last_replies = f"{answered[u.name]}/{len(u.track_ip)}"
        result[u.name] = answered[u.name] >= min(u.probe["reliability"], len(u.track_ip) or 1)
    return result


def route_commands(uplinks: list[Uplink], active: str | None, active_metric: int) -> list[list[str]]:
    cmds = [["ip", "-4", "route", "replace", "default", "via", u.gateway, "dev", u.interface,
             "metric", str(u.metric), "proto", "static"] for u in uplinks]
    for u in uplinks:
        if u.name == active:
            cmds.append(["ip", "-4", "route", "replace", "default", "via", u.gateway, "dev", u.interface,
                         "metric", str(active_metric), "proto", "static"])
    return cmds


class Daemon:
    def __init__(self, config: dict, runner=subprocess.run, popen=subprocess.Popen, sleep=time.sleep):
        probe = {**DEFAULT_PROBE, **(config.get("probe") or {})}
        self.config = config
        self.uplinks = [Uplink(u, probe) for u in config["uplinks"]]
        self.interval = probe["interval"]
        self.active_metric = int(config.get("active_metric", 10))
        self.state_file = config.get("state_file", "/run/ivpb-wan-failover/state.json")
        self.webhook = config.get("webhook")
        self.host = config.get("host") or os.uname().nodename
        self.active = None
        self.last_switch = None
        self.switches = 0
        self.started = utcnow()
        self.runner = runner
        self.popen = popen
        self.sleep = sleep
        self.stopping = False

    # -- events ---------------------------------------------------------------------------
    def log(self, message: str, priority: int | None = None) -> None:
        if syslog is None:
            sys.stdout.write(f"{message}\n")
            sys.stdout.flush()
        else:
            syslog.syslog(priority if priority is not None else syslog.LOG_NOTICE, message)

    def event(self, kind: str, **data) -> None:
        payload = {"event": kind, "host": self.host, "time": utcnow(), **data}
        self.log(f"{kind}: " + " ".join(f"{k}={v}" for k, v in data.items()),
                 syslog.LOG_WARNING if syslog is not None and kind == "switch" else None)
        if self.webhook:
            threading.Thread(target=self._post, args=(payload,), daemon=True).start()

    def _post(self, payload: dict) -> None:
        try:
            post(self.webhook, payload, timeout=5)
        except Exception as exc:  # noqa: BLE001 - a webhook must never stop the failover
            self.log(f"webhook failed: {exc.__class__.__name__}")

    # -- routes ---------------------------------------------------------------------------
    def apply_routes(self) -> None:
        for cmd in route_commands(self.uplinks, self.active, self.active_metric):
            res = self.runner(cmd, capture_output=True, text=True, check=False)
            if res.returncode != 0:
                self.log(f"route command failed: {' '.join(cmd)}: {res.stderr.strip()}")

    def step(self) -> None:
        results = probe_round(self.uplinks, self.popen)
        for u in self.uplinks:
            changed = u.record(results[u.name])
            if changed:
                self.event("uplink", uplink=u.name, state=changed, replies=u.last_replies)
        new = choose(self.uplinks, self.active)
        if new != self.active:
            old = self.active
            self.active = new
            if old is not None:
                self.last_switch = utcnow()
                self.switches += 1
                self.event("switch", from_uplink=old, to_uplink=new,
                           reason="; ".join(f"{u.name}={u.state}" for u in self.uplinks))
            else:
                self.event("active", uplink=new)
        if not any(u.state == "online" for u in self.uplinks):
            self.log("no uplink online; keeping the active route")
        self.apply_routes()
        self.write_state()

    def state(self) -> dict:
        return {
            "daemon": NAME, "pid": os.getpid(), "started": self.started, "updated": utcnow(),
            "interval": self.interval, "active": self.active, "active_metric": self.active_metric,
            "last_switch": self.last_switch, "switches": self.switches,
            "uplinks": {u.name: u.as_dict() for u in self.uplinks},
        }

    def write_state(self) -> None:
        folder = os.path.dirname(self.state_file)
        os.makedirs(folder, exist_ok=True)
        tmp = f"{self.state_file}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.state(), fh, indent=1, sort_keys=True)
        os.replace(tmp, self.state_file)

    def run(self) -> None:
        self.log(f"{NAME} started: uplinks "
                 + ", ".join(f"{u.name}({u.interface} via {u.gateway}, metric {u.metric})" for u in self.uplinks))
        self.apply_routes()  # the base routes first: a probe through an uplink needs its route
        while not self.stopping:
            t0 = time.monotonic()
            self.step()
            self.sleep(max(0.0, self.interval - (time.monotonic() - t0)))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = argv[0] if argv else DEFAULT_CONFIG
    try:
        with open(path, encoding="utf-8") as fh:
            config = json.load(fh)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"{NAME}: cannot read {path}: {exc}\n")
        return 2
    if syslog is not None:
        syslog.openlog(NAME, 0, syslog.LOG_DAEMON)
    daemon = Daemon(config)

    def stop(*_):
        daemon.stopping = True
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    daemon.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
