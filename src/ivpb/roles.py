"""Which of the collection's roles each host needs, from its plan: enforce.yml puts the hosts in
these groups once (on the controller) so that every clause's play runs only on its hosts. A
task that is skipped still costs a fork per host; a play that does not target a host costs
nothing."""

from __future__ import annotations

from ivpb.inventory import Inventory
from ivpb.plan import Plan

GROUPS = ("ivpb_nut_server", "ivpb_power", "ivpb_internet", "ivpb_backup", "ivpb_backup_target")


def role_groups(inventory: Inventory, plan: Plan) -> dict[str, list[str]]:
    """host -> the ivpb_* groups (one per role) it belongs to."""
    member: dict[str, set[str]] = {h: set() for h in inventory.hosts}
    target_hosts = {t["host"] for t in inventory.school("ivpb_backup_targets").values() if "host" in t}
    for host, hv in inventory.hosts.items():
        ids = plan.hosts[host].control_ids()
        if hv.get("ivpb_nut_server"):
            member[host].add("ivpb_nut_server")
        if any(i.startswith("power.") for i in ids):
            member[host].add("ivpb_power")
        if any(i.startswith("backup.") for i in ids):
            member[host].add("ivpb_backup")
        if host in target_hosts:
            member[host].add("ivpb_backup_target")
        if hv.get("ivpb_uplinks"):
            member[host].add("ivpb_internet")
        if "internet.failover" in ids:
            via = hv.get("ivpb_internet_via") or host
            if via in member:
                member[via].add("ivpb_internet")
    return {host: sorted(groups) for host, groups in member.items()}
