"""Cross-references of waivers: the control, host, site and data set they name must exist."""

from __future__ import annotations

from collections.abc import Iterator

from ivpb.errors import Problem


def check(ctx) -> Iterator[Problem]:
    inv, policy = ctx.inventory, ctx.policy
    sites = inv.school("ivpb_sites")
    seen: set[int] = set()
    for host, hv in inv.hosts.items():
        for i, waiver in enumerate(hv.get("ivpb_waivers") or []):
            key = hash(repr(sorted(waiver.items())))
            if key in seen:  # the same group_vars/all list seen from every host
                continue
            seen.add(key)
            path = f"ivpb_waivers[{i}]"
            if waiver["control"] not in policy.by_id:
                yield Problem(host, f"{path}.control",
                              f"unknown control {waiver['control']!r}; expected one of: {', '.join(policy.by_id)}")
            if "host" in waiver and waiver["host"] not in inv.hosts:
                yield Problem(host, f"{path}.host", f"{waiver['host']!r} is not a host of this inventory")
            if "site" in waiver and waiver["site"] not in sites:
                yield Problem(host, f"{path}.site", f"unknown site {waiver['site']!r}")
