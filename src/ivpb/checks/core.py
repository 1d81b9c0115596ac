"""Cross-references of the foundation: data sets, sites, backup targets."""

from __future__ import annotations

from collections.abc import Iterator

from ivpb.errors import Problem


def check(ctx) -> Iterator[Problem]:
    inv = ctx.inventory
    targets = inv.school("ivpb_backup_targets")
    sites = inv.school("ivpb_sites")
    for host, hv in inv.hosts.items():
        datasets = hv.get("ivpb_datasets") or {}
        host_sites = hv.get("ivpb_sites") or {}
        site = hv.get("ivpb_site")
        if (hv.get("ivpb_stores") or hv.get("ivpb_uses")) and site is None:
            yield Problem(host, "ivpb_site",
                          "required for a host that stores or uses data; expected a key of ivpb_sites")
        elif site is not None and site not in host_sites:
            yield Problem(host, "ivpb_site", f"unknown site {site!r}; expected one of: {_names(host_sites)}")
        seen_paths: dict[str, int] = {}
        for i, entry in enumerate(hv.get("ivpb_stores") or []):
            name = entry["dataset"]
            if name not in datasets:
                yield Problem(host, f"ivpb_stores[{i}].dataset",
                              f"unknown data set {name!r}; expected one of: {_names(datasets)}")
            if entry["path"] in seen_paths:
                first = seen_paths[entry["path"]]
                yield Problem(host, f"ivpb_stores[{i}].path",
                              f"{entry['path']!r} is already used by ivpb_stores[{first}]")
            seen_paths.setdefault(entry["path"], i)
            for key in ("backup_target", "sync_target"):
                if key in entry and entry[key] not in targets:
                    yield Problem(host, f"ivpb_stores[{i}].{key}",
                                  f"unknown target {entry[key]!r}; expected one of: {_names(targets)}")
        for i, name in enumerate(hv.get("ivpb_uses") or []):
            if name not in datasets:
                yield Problem(host, f"ivpb_uses[{i}]",
                              f"unknown data set {name!r}; expected one of: {_names(datasets)}")
        default = hv.get("ivpb_backup_target")
        if default is not None and default not in targets:
            yield Problem(host, "ivpb_backup_target", f"unknown target {default!r}; expected one of: {_names(targets)}")
    for name, target in targets.items():
        if "host" in target and target["host"] not in inv.hosts:
            yield Problem(f"target {name}", f"ivpb_backup_targets.{name}.host",
                          f"{target['host']!r} is not a host of this inventory")
        if "site" in target and target["site"] not in sites:
            yield Problem(f"target {name}", f"ivpb_backup_targets.{name}.site",
                          f"unknown site {target['site']!r}; expected one of: {_names(sites)}")


def _names(mapping) -> str:
    return ", ".join(sorted(mapping)) or "(none defined)"
