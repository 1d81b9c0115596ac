"""Waivers: the control, host, site and data set they name must exist, the expiry must be a real
date, and no waiver may run longer than the policy's maximum (`evidence.waiver_max_days`,
counted from the day the inventory is validated): an exception is reviewed, not granted for
good."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from ivpb.errors import Problem


def too_long(waiver: dict[str, Any], today: dt.date, max_days: int) -> str | None:
    """Why a waiver's expiry date is not acceptable on `today` (not a date, or further away than
    max_days), or None."""
    try:
        expires = dt.date.fromisoformat(str(waiver.get("expires")))
    except ValueError:
        return f"{waiver.get('expires')!r} is not a date (YYYY-MM-DD)"
    last = today + dt.timedelta(days=max_days)
    if expires > last:
        return (f"waiver of {waiver.get('control')} for {waiver.get('host') or waiver.get('site')} runs until "
                f"{expires.isoformat()}, {(expires - today).days} days from {today.isoformat()}; "
                f"the policy allows at most {max_days} days (until {last.isoformat()}): review and renew it instead")
    return None


def check(ctx) -> Iterator[Problem]:
    inv, policy = ctx.inventory, ctx.policy
    sites = inv.school("ivpb_sites")
    today = getattr(ctx, "today", None) or dt.date.today()
    max_days = int(policy.evidence.get("waiver_max_days", 365))
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
            why = too_long(waiver, today, max_days)
            if why:
                yield Problem(host, f"{path}.expires", why)
