"""Cross-references of the foundation: data sets, sites, backup targets."""

from __future__ import annotations

from collections.abc import Iterator

from ivpb.errors import Problem, did_you_mean
from ivpb.rules import input_rules


def check(ctx) -> Iterator[Problem]:
    inv = ctx.inventory
    targets = inv.school("ivpb_backup_targets")
    sites = inv.school("ivpb_sites")
    for host, hv in inv.hosts.items():
        try:
            input_rules.host_name(host, "inventory_hostname")
        except ValueError as e:
            yield Problem(host, "inventory_hostname", str(e).removeprefix("inventory_hostname: "))
        datasets = hv.get("ivpb_datasets") or {}
        host_sites = hv.get("ivpb_sites") or {}
        site = hv.get("ivpb_site")
        if (hv.get("ivpb_stores") or hv.get("ivpb_uses")) and site is None:
            yield Problem(host, "ivpb_site",
                          "required for a host that stores or uses data; expected a key of ivpb_sites", todo="site")
        elif site is not None and site not in host_sites:
            yield Problem(host, "ivpb_site", _unknown("site", site, host_sites), todo=f"site_unknown|{site}")
        stores = hv.get("ivpb_stores") or []
        yield from _overlaps(host, stores, datasets)
        for i, entry in enumerate(stores):
            name = entry["dataset"]
            if name not in datasets:
                yield Problem(host, f"ivpb_stores[{i}].dataset",
                              _unknown("data set", name, datasets), todo=f"dataset|{name}")
            for key in ("backup_target", "sync_target"):
                if key in entry and entry[key] not in targets:
                    yield Problem(host, f"ivpb_stores[{i}].{key}",
                                  _unknown("target", entry[key], targets), todo=f"target|{entry[key]}")
        for i, name in enumerate(hv.get("ivpb_uses") or []):
            if name not in datasets:
                yield Problem(host, f"ivpb_uses[{i}]",
                              _unknown("data set", name, datasets), todo=f"dataset|{name}")
        default = hv.get("ivpb_backup_target")
        if default is not None and default not in targets:
            yield Problem(host, "ivpb_backup_target", _unknown("target", default, targets),
                          todo=f"target|{default}")
    for name, target in targets.items():
        if "host" in target and target["host"] not in inv.hosts:
            yield Problem(f"target {name}", f"ivpb_backup_targets.{name}.host",
                          f"{target['host']!r} is not a host of this inventory"
                          f"{did_you_mean(target['host'], inv.hosts)}",
                          todo=f"target_host|{name}|{target['host']}")
        if "site" in target and target["site"] not in sites:
            yield Problem(f"target {name}", f"ivpb_backup_targets.{name}.site",
                          _unknown("site", target['site'], sites), todo=f"site_unknown|{target['site']}")


def _overlaps(host: str, stores: list, datasets: dict) -> Iterator[Problem]:
    """Two store paths on one host that are equal or contain each other: the outer data set's
    backup would carry the inner one's data (confidential data in a less protected backup), and
    the inner one would be backed up twice. An error naming both data sets."""
    paths = sorted(((entry["path"].rstrip("/") or "/", i) for i, entry in enumerate(stores)))
    for a in range(len(paths)):
        outer, i = paths[a]
        prefix = outer if outer.endswith("/") else outer + "/"
        for b in range(a + 1, len(paths)):
            inner, j = paths[b]
            if inner != outer and not inner.startswith(prefix):
                if inner > prefix:
                    break  # sorted: no later path lies inside `outer`
                continue
            first, second = sorted((i, j))
            ds_i, ds_j = stores[i]["dataset"], stores[j]["dataset"]
            if inner == outer:
                why = f"{inner!r} is already the path of ivpb_stores[{first}] (data set {stores[first]['dataset']!r})"
                yield Problem(host, f"ivpb_stores[{second}].path", why)
                continue
            v = ((datasets.get(ds_j) or {}).get("biv") or {}).get("v")
            yield Problem(
                host, f"ivpb_stores[{j}].path",
                f"{inner!r} (data set {ds_j!r}{f', v={v}' if v else ''}) lies inside ivpb_stores[{i}].path "
                f"{outer!r} (data set {ds_i!r}): the backup of {ds_i!r} would carry {ds_j!r}'s data; "
                "expected store paths that do not contain each other")


def _unknown(what: str, name: str, known) -> str:
    return f"unknown {what} {name!r}{did_you_mean(name, known)}; expected one of: {_names(known)}"


def _names(mapping) -> str:
    return ", ".join(sorted(mapping)) or "(none defined)"
