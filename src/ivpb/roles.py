"""Which of the collection's roles each host needs, from its plan: enforce.yml puts the hosts in
these groups once (on the controller) so that every clause's play runs only on its hosts. A
task that is skipped still costs a fork per host; a play that does not target a host costs
nothing."""

from __future__ import annotations

from typing import Any

from ivpb.inventory import Inventory
from ivpb.plan import Plan


def router_of(host: str, hostvars: dict[str, Any]) -> str:
    """The host that routes this host's traffic (ivpb_internet_via, default the host itself): where
    the controls the policy enforces `runs_on: router` are enforced."""
    return hostvars.get("ivpb_internet_via") or host


def role_groups(inventory: Inventory, plan: Plan) -> dict[str, list[str]]:
    """host -> the ivpb_* groups (one per role) it belongs to: the role the policy file names for
    each of its planned controls (`enforced_by`, on its router for `runs_on: router`), and the
    roles of what the inventory declares on it (a NUT server, a backup receiver, uplinks)."""
    policy = plan.policy
    member: dict[str, set[str]] = {h: set() for h in inventory.hosts}
    target_hosts = {t["host"] for t in inventory.school("ivpb_backup_targets").values() if "host" in t}
    routed_roles = {c.role for c in policy.controls if c.routed}
    for host, hv in inventory.hosts.items():
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
                if where in member:
                    member[where].add(f"ivpb_{control.role}")
    return {host: sorted(groups) for host, groups in member.items()}
