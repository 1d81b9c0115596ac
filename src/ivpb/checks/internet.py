"""Cross-references of §3 Internetverbinding: who enforces a host's failover, and its uplinks.

A host that requires internet.failover is routed by the host named in ivpb_internet_via (itself
when unset); that host declares at least as many uplinks (ivpb_uplinks) as the policy file's
uplinks_online_min (two: an alternative connection), on distinct interfaces and gateways, each
with a probe target. internet.sla is advisory: a missing SLA record is reported by
the audit, never here.
"""

from __future__ import annotations

from collections.abc import Iterator

from ivpb.checks.power import NUMBERS
from ivpb.errors import Problem, did_you_mean
from ivpb.inventory import managed
from ivpb.roles import router_of
from ivpb.rules import input_rules


def check(ctx) -> Iterator[Problem]:
    inv = ctx.inventory
    # the controls whose evidence is the uplinks' failover (the policy file's judge), on the router
    failover = [c for c in ctx.policy.controls if c.judge == "failover"]
    need = int(ctx.policy.evidence["uplinks_online_min"])
    for host, hv in inv.hosts.items():
        via = hv.get("ivpb_internet_via")
        if via is not None and via not in inv.hosts:
            yield Problem(host, "ivpb_internet_via", f"{via!r} is not a host of this inventory"
                          f"{did_you_mean(via, inv.hosts)}; expected the host that routes this host's traffic",
                          todo=f"router_host|{via}")
            continue
        if via is not None and via != host and inv.hosts[via].get("ivpb_internet_via") not in (None, via):
            yield Problem(host, "ivpb_internet_via", f"{via!r} is itself routed via "
                          f"{inv.hosts[via]['ivpb_internet_via']!r}; expected the host that declares ivpb_uplinks")
            continue
        yield from _uplinks(host, hv.get("ivpb_uplinks") or [], hv.get("ivpb_wan_failover") or {})
        ids = ctx.plan.hosts[host].control_ids()
        control = next((c for c in failover if c.id in ids), None)
        if control is None or (not managed(hv) and via is None):  # no router of its own: checks/unmanaged.py
            continue
        router = router_of(host, hv) if control.routed else host
        uplinks = inv.hosts[router].get("ivpb_uplinks") or []
        if len(uplinks) < need:
            where = "ivpb_uplinks" if router == host else "ivpb_internet_via"
            on = "this host" if router == host else f"its router {router!r}"
            yield Problem(host, where, f"{control.id} applies ({control.clause}): expected at least "
                          f"{NUMBERS.get(need, need)} uplinks in ivpb_uplinks on {on}, found {len(uplinks)}"
                          + ("" if router != host else "; or set ivpb_internet_via to the host that routes it"),
                          control=control.id,
                          todo=f"uplinks|{need}|{len(uplinks)}|{router}")


def _uplinks(host: str, uplinks: list[dict], settings: dict) -> Iterator[Problem]:
    seen: dict[str, dict] = {"name": {}, "interface": {}, "gateway": {}, "metric": {}}
    active_metric = settings.get("active_metric", input_rules.ACTIVE_METRIC)
    for i, uplink in enumerate(uplinks):
        for key, values in seen.items():
            value = uplink.get(key)
            if value in values:
                yield Problem(host, f"ivpb_uplinks[{i}].{key}", f"{value!r} is already used by ivpb_uplinks"
                              f"[{values[value]}]; two uplinks need their own {key}")
            values.setdefault(value, i)
        if not uplink.get("track_ip"):
            yield Problem(host, f"ivpb_uplinks[{i}].track_ip", "expected at least one probe target: an outage "
                          "beyond the ISP's modem is only seen by probing through the uplink")
        if uplink.get("metric", active_metric + 1) <= active_metric:
            yield Problem(host, f"ivpb_uplinks[{i}].metric", f"{uplink['metric']} must be higher than the active "
                          f"route's metric {active_metric} (ivpb_wan_failover.active_metric)")
    probe = {k: settings.get(k, d) for k, d in (("count", 1), ("timeout", 2), ("interval", 5))}
    if probe["count"] * probe["timeout"] >= 2 * probe["interval"]:
        yield Problem(host, "ivpb_wan_failover.timeout", "count x timeout must stay below two intervals")
