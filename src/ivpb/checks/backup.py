"""Cross-references of §4 Backups: where each stored data set's backups and syncs go."""

from __future__ import annotations

from collections.abc import Iterator

from ivpb.errors import Problem


def check(ctx) -> Iterator[Problem]:
    inv = ctx.inventory
    targets = inv.school("ivpb_backup_targets")
    for host, hv in inv.hosts.items():
        controls = ctx.plan.hosts[host].controls
        needs_sync = {c.dataset for c in controls if c.id == "backup.sync_offsite"}
        default = hv.get("ivpb_backup_target")
        site = hv.get("ivpb_site")
        for i, entry in enumerate(hv.get("ivpb_stores") or []):
            target_name = entry.get("backup_target", default)
            if target_name is None:
                yield Problem(host, f"ivpb_stores[{i}].backup_target",
                              "required (or set ivpb_backup_target): every stored data set is backed up (§4)")
            elif target_name in targets and targets[target_name].get("host") == host:
                yield Problem(host, f"ivpb_stores[{i}].backup_target",
                              f"{target_name!r} is this host itself; a backup goes to another location and medium")
            sync = entry.get("sync_target")
            if entry["dataset"] in needs_sync:
                if sync is None:
                    yield Problem(host, f"ivpb_stores[{i}].sync_target",
                                  "required: backup.sync_offsite applies (§4); expected a target at another site")
                elif sync in targets and _site_of(inv, targets[sync]) == site:
                    yield Problem(host, f"ivpb_stores[{i}].sync_target",
                                  f"{sync!r} is at this host's own site {site!r}; expected a target at another site")


def _site_of(inv, target: dict) -> str | None:
    if "host" in target:
        return (inv.hosts.get(target["host"]) or {}).get("ivpb_site")
    return target.get("site")
