"""Which of the collection's roles each host needs, from its plan: enforce.yml puts the hosts in
these groups once (on the controller) so that every clause's play runs only on its hosts. A
task that is skipped still costs a fork per host; a play that does not target a host costs
nothing."""

from __future__ import annotations

import math
from typing import Any

from ivpb.inventory import Inventory, managed
from ivpb.plan import Plan
from ivpb.policy import Control
from ivpb.resolve import module_input, sent_by
from ivpb.rules import input_rules
from ivpb.unmanaged import reporters


def router_of(host: str, hostvars: dict[str, Any]) -> str:
    """The host that routes this host's traffic (ivpb_internet_via, default the host itself): where
    the controls the policy enforces `runs_on: router` are enforced."""
    return hostvars.get("ivpb_internet_via") or host


def role_groups(inventory: Inventory, plan: Plan) -> dict[str, list[str]]:
    """host -> the ivpb_* groups (one per role) it belongs to: the role the policy file names for
    each of its planned controls (`enforced_by`, on its router for `runs_on: router`), and the
    roles of what the inventory declares on it (a NUT server, a backup receiver, uplinks). A
    system ivpb does not manage is in no group, so no play of enforce.yml (nor the audit's check
    run of it) ever targets it."""
    policy = plan.policy
    member: dict[str, set[str]] = {h: set() for h in inventory.hosts}
    target_hosts = {t["host"] for t in inventory.school("ivpb_backup_targets").values() if "host" in t}
    routed_roles = {c.role for c in policy.controls if c.routed}
    for host, hv in inventory.hosts.items():
        if not managed(hv):  # never connected to: in no role's group
            continue
        if hv.get("ivpb_nut_server"):
            member[host].add("ivpb_nut_server")
        if host in target_hosts:
            member[host].add("ivpb_backup_target")
        if hv.get("ivpb_uplinks"):  # a router enforces its uplinks' controls even for no planned host
            member[host].update(f"ivpb_{role}" for role in routed_roles)
        for cid in plan.hosts[host].control_ids():
            control = policy.control(cid)
            if control.role:
                where = router_of(host, hv) if control.routed else host
                if where in member and managed(inventory.hosts[where]):
                    member[where].add(f"ivpb_{control.role}")
    for proxy, hv in inventory.hosts.items():
        if managed(hv) and pulled_controls(inventory, plan, proxy):
            member[proxy].add("ivpb_backup")
    return {host: sorted(groups) for host, groups in member.items()}


def pulled_controls(inventory: Inventory, plan: Plan, proxy: str) -> list[dict[str, Any]]:
    """The backup controls of the data sets `proxy` pulls from systems ivpb does not manage
    (ivpb_stores[].pull.via, #23), each with its data set: the proxy's backup_job enforces and
    reports them (under `for`, the system)."""
    out = []
    for s in sent_by(inventory, proxy):
        if s.host != proxy:
            out += [{**c, "datasets": [s.dataset]} for c in _own_controls(plan, s.host, "backup")
                    if s.dataset in (c.get("datasets") or [])]
    return out


def role_inputs(inventory: Inventory, plan: Plan, groups: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    """host -> role -> the role's input, normalised here once for the whole inventory so that a
    role only hands it to its module: the controls the policy has the role enforce on the host,
    the UPSes that feed a host, a NUT server's clients, the hosts a router serves, a receiver's
    targets and clients with their data sets, the receiver hosts a backup sender sends to.
    Secrets (NUT passwords) stay out of it, so the registered plan holds none: the roles add them
    from the hosts' vars. `groups` is role_groups(): a host gets the input of each role it runs."""
    policy = plan.policy
    hosts = inventory.hosts
    served: dict[str, list[str]] = {}
    routed: dict[str, dict[str, None]] = {}  # router -> the routed control ids of the hosts it serves
    nut_clients: dict[str, list[dict[str, str]]] = {}
    routed_ids = {c.id for c in policy.controls if c.routed}
    for host, hv in hosts.items():
        ids = [c.id for c in plan.hosts[host].controls if c.id in routed_ids]
        if ids:
            router = router_of(host, hv)
            served.setdefault(router, []).append(host)
            routed.setdefault(router, {}).update(dict.fromkeys(ids))
    for host in sorted(hosts):
        feeds = hosts[host].get("ivpb_ups_feeds") or []
        for server in dict.fromkeys(f["server"] for f in feeds):
            client = {"host": host, "name": _nut_user(host, hosts[host])}
            if not managed(hosts[host]):  # nothing runs on it: its NUT server reports its power controls
                client.update(controls=_own_controls(plan, host, "power"),
                              ups=[f["ups"] for f in feeds if f["server"] == server],
                              address=(hosts[host].get("ivpb_nut_client") or {}).get("address", host))
            nut_clients.setdefault(server, []).append(client)
    receivers = _receivers(inventory)
    sends_to = _sends_to(receivers)
    out: dict[str, dict[str, Any]] = {}
    for host, hv in hosts.items():
        roles = {g.removeprefix("ivpb_") for g in groups.get(host, ())}
        mine: dict[str, Any] = {}
        if "power" in roles:
            mine["power"] = {
                "controls": _own_controls(plan, host, "power"),
                "mode": "netserver" if "ivpb_nut_server" in hv else "netclient",
                "ups": [_ups(inventory, host, feed) for feed in hv.get("ivpb_ups_feeds") or []],
            }
        if "internet" in roles:
            ids = list(routed.get(host, {})) or [c.id for c in policy.controls if c.routed and c.role == "internet"]
            mine["internet"] = {
                # a router that serves no planned host still enforces its own uplinks' controls
                "controls": [_asked(policy.control(i)) for i in ids],
                "serves": served.get(host, []),
            }
        if "nut_server" in roles:
            mine["nut_server"] = {
                "port": hv["ivpb_nut_server"].get("port", input_rules.NUT_PORT),
                "clients": nut_clients.get(host, []),
            }
        if "backup_target" in roles:
            mine["backup_target"] = receivers.get(host, {"targets": [], "clients": []})
        if "backup" in roles:
            mine["backup"] = {"controls": _own_controls(plan, host, "backup") + pulled_controls(inventory, plan, host),
                              "receivers": sends_to.get(host, []),
                              "datasets": module_input(inventory, host, plan.duties)}
        out[host] = mine
    return out


def _asked(control: Control, datasets: list[str] | None = None) -> dict[str, Any]:
    """A control as its module takes it: its id, and its duty, what it asks of the module (the
    policy's enforced_by.duty), with the data sets it applies to for a data set's control."""
    out: dict[str, Any] = {"id": control.id, "duty": control.duty}
    if datasets is not None:
        out["datasets"] = datasets
    return out


def _own_controls(plan: Plan, host: str, role: str) -> list[dict[str, Any]]:
    """The host's planned controls that the policy has `role` enforce on the host itself, in
    the plan's order, each once with the data sets it applies to."""
    found: dict[str, tuple[Control, list[str]]] = {}
    for c in plan.hosts[host].controls:
        control = plan.policy.control(c.id)
        if control.role == role and not control.routed:
            datasets = found.setdefault(c.id, (control, []))[1]
            if c.dataset:
                datasets.append(c.dataset)
    return [_asked(control, datasets if control.scope == "dataset" else None) for control, datasets in found.values()]


def _nut_user(host: str, hostvars: dict[str, Any]) -> str:
    return (hostvars.get("ivpb_nut_client") or {}).get("user", input_rules.nut_user(host))


def _ups(inventory: Inventory, host: str, feed: dict[str, Any]) -> dict[str, Any]:
    """A UPS that feeds the host, as nut_client takes it (the password left out): the server's
    address and port from the NUT server's inventory entry."""
    server = (inventory.hosts.get(feed["server"]) or {}).get("ivpb_nut_server") or {}
    return {
        "name": feed["ups"],
        "server": server.get("address", feed["server"]),
        "port": server.get("port", input_rules.NUT_PORT),
        "power_value": feed.get("power_value", 1),
        "user": _nut_user(host, inventory.hosts[host]),
    }


def reporting_hosts(inventory: Inventory, plan: Plan, hosts: list[str]) -> list[str]:
    """The hosts whose modules report on `hosts`: the hosts themselves, the routers that enforce
    their routed controls (`runs_on: router`), the receivers of their backups and syncs (whose
    word on the protected copy the audit judges) and, for a system ivpb does not manage, the
    hosts that pull its evidence (audit.pulled). An audit of some hosts asks these too, or their
    controls would be errors for want of a reporter. In the inventory's order."""
    routed = {c.id for c in plan.policy.controls if c.routed}
    sends_to = receivers_of(inventory)
    wanted = {h for h in hosts if managed(inventory.hosts[h])}  # nothing asks a system ivpb does not manage
    for host in hosts:
        router = router_of(host, inventory.hosts[host])
        if routed & plan.hosts[host].control_ids() and managed(inventory.hosts[router]):
            wanted.add(router)
        wanted.update(sends_to.get(host, ()))
        if not managed(inventory.hosts[host]):  # the managed hosts that pull its evidence, and their receivers
            for c in plan.hosts[host].controls:
                for reporter in reporters(inventory, host, plan.policy.control(c.id), c.dataset):
                    wanted.add(reporter)
                    if c.dataset:  # a backup proxy: the receivers' word on the copy it sends
                        wanted.update(sends_to.get(reporter, ()))
    return [h for h in inventory.hosts if h in wanted]


def receivers_of(inventory: Inventory) -> dict[str, list[str]]:
    """client -> the inventory hosts its data sets' backups and syncs go to: the only hosts whose
    word on its protected copy the audit takes (results.attach_protected)."""
    return _sends_to(_receivers(inventory))


def _sends_to(receivers: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """client -> the receiver hosts its data sets' backups and syncs go to, read from _receivers()
    (which owns which target names which host, and each store's target): the backup role reads
    these receivers' SSH host keys once per play and pins them on the senders."""
    out: dict[str, dict[str, None]] = {}
    for receiver, entry in receivers.items():
        for c in entry["clients"]:
            out.setdefault(c["client"], {})[receiver] = None
    return {client: list(hosts) for client, hosts in out.items()}


def _receivers(inventory: Inventory) -> dict[str, dict[str, Any]]:
    """Each receiver's targets (the ivpb_backup_targets entries that name it as host) and every
    client of them in the whole inventory (not only the hosts of a run: --limit revokes nobody):
    one entry per client and target with the data sets it sends and their retention. One pass
    over all stores."""
    out: dict[str, dict[str, Any]] = {}
    receiver_of = {}
    for name, t in inventory.school("ivpb_backup_targets").items():
        if "host" in t:
            receiver_of[name] = t["host"]
            entry = out.setdefault(t["host"], {"targets": [], "clients": []})
            entry["targets"].append({"name": name, "path": t.get("path", input_rules.BACKUP_PATH),
                                     **({"quota": t["quota"]} if t.get("quota") else {})})
    for client, hv in inventory.hosts.items():
        if not managed(hv):  # sends nothing itself (a managed proxy pulls its data)
            continue
        sends: dict[str, dict[str, Any]] = {}  # target -> data set -> its retention
        for s in sent_by(inventory, client):  # a backup proxy sends what it pulls (#23)
            # the receiver never removes a chain younger than the retention the client asks for
            full_days = input_rules.interval_days(s.full_if_older_than)
            for copy in s.copies():
                if copy.target in receiver_of:
                    sends.setdefault(copy.target, {})[s.dataset] = {
                        "keep_full": s.keep_full, "min_age_days": math.ceil(s.keep_full * full_days)}
        for target, datasets in sends.items():
            out[receiver_of[target]]["clients"].append({"client": client, "target": target, "datasets": datasets})
    return out
