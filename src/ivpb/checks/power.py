"""Cross-references of §2 Stroomvoorziening: the UPSes that feed each host, and their servers.

- a host with power.ups declares at least one UPS in ivpb_ups_feeds, one with
  power.redundant_ups at least two distinct ones (powered: power_value >= 1);
- each feed names an inventory host with ivpb_nut_server that declares that UPS;
- a host with feeds has a usable ivpb_nut_password (never shown in a message).
"""

from __future__ import annotations

from collections.abc import Iterator

from ivpb.errors import Problem
from ivpb.rules import input_rules

MAX_SECRET = 200


def secret_problem(value) -> str | None:
    """What is wrong with a NUT password, without showing it; None when it is fine."""
    if not isinstance(value, str) or not value:
        return "expected a non-empty string (value not shown)"
    if len(value) > MAX_SECRET:
        return f"at most {MAX_SECRET} characters (value not shown)"
    if any(not 0x20 <= ord(c) <= 0x7E for c in value):
        return "only printable ASCII characters (space to ~) are allowed by NUT (value not shown)"
    return None


def check(ctx) -> Iterator[Problem]:
    inv = ctx.inventory
    for host, hv in inv.hosts.items():
        ids = ctx.plan.hosts[host].control_ids()
        feeds = hv.get("ivpb_ups_feeds") or []
        powered = {(f["server"], f["ups"]) for f in feeds if f.get("power_value", 1) > 0}
        if "power.redundant_ups" in ids and len(powered) < 2:
            yield Problem(host, "ivpb_ups_feeds",
                          f"power.redundant_ups applies (§2): expected at least two distinct UPSes, "
                          f"found {len(powered)}", control="power.redundant_ups",
                          todo=f"ups_feeds|2|{len(powered)}")
        elif "power.ups" in ids and not powered:
            yield Problem(host, "ivpb_ups_feeds",
                          "power.ups applies (§2): expected at least one UPS that feeds this host, found none",
                          control="power.ups", todo="ups_feeds|1|0")
        seen: dict[tuple[str, str], int] = {}
        for i, feed in enumerate(feeds):
            server, ups = feed["server"], feed["ups"]
            if server not in inv.hosts:
                yield Problem(host, f"ivpb_ups_feeds[{i}].server",
                              f"unknown UPS server {server!r}: not a host of this inventory; expected one of: "
                              f"{_servers(inv)}")
            else:
                served = (inv.hosts[server].get("ivpb_nut_server") or {}).get("ups") or {}
                if not served:
                    yield Problem(host, f"ivpb_ups_feeds[{i}].server",
                                  f"{server!r} serves no UPS (no ivpb_nut_server); expected one of: {_servers(inv)}")
                elif ups not in served:
                    yield Problem(host, f"ivpb_ups_feeds[{i}].ups",
                                  f"unknown UPS {ups!r} on {server!r}; expected one of: {', '.join(sorted(served))}")
            if (server, ups) in seen:
                yield Problem(host, f"ivpb_ups_feeds[{i}]",
                              f"{ups}@{server} is already listed as ivpb_ups_feeds[{seen[(server, ups)]}]")
            seen.setdefault((server, ups), i)
        client = hv.get("ivpb_nut_client") or {}
        if feeds or client:
            try:
                input_rules.nut_deadtime(client.get("deadtime", 15), client.get("pollfreq", 5),
                                         "ivpb_nut_client.deadtime")
            except ValueError as e:
                yield Problem(host, "ivpb_nut_client.deadtime", str(e).split(": ", 1)[1])
        if feeds and "user" not in client and not input_rules.matches("nut_name", f"mon-{host}"):
            yield Problem(host, "ivpb_nut_client.user",
                          f"the default NUT user 'mon-{host}' is not a NUT name; expected "
                          f"{input_rules.SCHEMA_DEFS['rule_nut_name']['description']}: set a shorter user")
        if feeds:
            why = secret_problem(hv.get("ivpb_nut_password")) if "ivpb_nut_password" in hv else (
                "required for a host with ivpb_ups_feeds (its NUT monitoring password; keep it in ansible-vault)")
            if why:
                missing = "ivpb_nut_password" not in hv
                yield Problem(host, "ivpb_nut_password", why,
                              control=("power.ups" if missing and "power.ups" in ids else ""),
                              todo="nut_password")
        test_user = (hv.get("ivpb_nut_server") or {}).get("test_user")
        if test_user:
            why = secret_problem(test_user.get("password"))
            if why:
                yield Problem(host, "ivpb_nut_server.test_user.password", why)


def _servers(inv) -> str:
    names = sorted(h for h, hv in inv.hosts.items() if (hv.get("ivpb_nut_server") or {}).get("ups"))
    return ", ".join(names) or "(none: declare ivpb_nut_server on the host the UPS is plugged into)"
