"""Cross-references of §2 Stroomvoorziening: the UPSes that feed each host, and their servers.

- a host declares in ivpb_ups_feeds at least as many distinct UPSes (powered: power_value >= 1)
  as its planned `ups`-judged controls need reached (the policy file's ups_reachable_min:
  power.ups one, power.redundant_ups two);
- each feed names an inventory host with ivpb_nut_server that declares that UPS;
- a host with feeds, or with a planned `ups`-judged control, has a usable ivpb_nut_password
  (never shown in a message);
- while no host declares ivpb_nut_server and no feed names one, a host's missing feeds say
  that the NUT server is missing too.

Each missing piece carries a `todo` note, so `ivpb plan` lists it on the shopping list.
"""

from __future__ import annotations

from collections.abc import Iterator

from ivpb.errors import Problem, did_you_mean
from ivpb.inventory import managed
from ivpb.rules import input_rules

NUMBERS = {1: "one", 2: "two", 3: "three", 4: "four"}


def secret_problem(value) -> str | None:
    """What is wrong with a NUT password (the modules' own rule), without showing it; None when
    it is fine."""
    try:
        input_rules.secret(value, "value")
    except ValueError as e:
        return str(e).removeprefix("value: ")
    return None


def check(ctx) -> Iterator[Problem]:
    inv = ctx.inventory
    ups_controls = sorted((c for c in ctx.policy.controls if c.judge == "ups"), key=lambda c: c.ups_reachable_min)
    # nothing names a NUT server yet: a host's missing feeds say that a server is missing too
    no_server = not any((hv.get("ivpb_nut_server") or {}).get("ups") or hv.get("ivpb_ups_feeds")
                        for hv in inv.hosts.values())
    for host, hv in inv.hosts.items():
        ids = ctx.plan.hosts[host].control_ids()
        feeds = hv.get("ivpb_ups_feeds") or []
        # fewest UPSes needed first; a system ivpb does not manage without feeds meets them otherwise
        # (an attestation), or checks/unmanaged.py says what is missing
        planned = [c for c in ups_controls if c.id in ids] if feeds or managed(hv) else []
        powered = {(f["server"], f["ups"]) for f in feeds if f.get("power_value", 1) > 0}
        if planned and len(powered) < planned[-1].ups_reachable_min:
            c, need = planned[-1], planned[-1].ups_reachable_min
            why = (f"expected at least {NUMBERS.get(need, need)} distinct UPSes, found {len(powered)}" if need > 1
                   else "expected at least one UPS that feeds this host, found none")
            if no_server:
                why += ("; and no host declares ivpb_nut_server yet: declare it on the host the UPSes are "
                        "plugged into")
            yield Problem(host, "ivpb_ups_feeds", f"{c.id} applies ({c.clause}): {why}", control=c.id,
                          todo=f"ups_feeds_no_server|{need}|{len(powered)}" if no_server
                          else f"ups_feeds|{need}|{len(powered)}")
        seen: dict[tuple[str, str], int] = {}
        for i, feed in enumerate(feeds):
            server, ups = feed["server"], feed["ups"]
            if server not in inv.hosts:
                yield Problem(host, f"ivpb_ups_feeds[{i}].server",
                              f"unknown UPS server {server!r}: not a host of this inventory"
                              f"{did_you_mean(server, inv.hosts)}; expected one of: "
                              f"{_servers(inv)}", todo=f"nut_server_host|{server}")
            else:
                served = (inv.hosts[server].get("ivpb_nut_server") or {}).get("ups") or {}
                if not served:
                    yield Problem(host, f"ivpb_ups_feeds[{i}].server",
                                  f"{server!r} serves no UPS (no ivpb_nut_server); expected one of: {_servers(inv)}",
                                  todo=f"nut_server|{server}")
                elif ups not in served:
                    yield Problem(host, f"ivpb_ups_feeds[{i}].ups",
                                  f"unknown UPS {ups!r} on {server!r}; expected one of: {', '.join(sorted(served))}",
                                  todo=f"nut_ups|{ups}|{server}")
            if (server, ups) in seen:
                yield Problem(host, f"ivpb_ups_feeds[{i}]",
                              f"{ups}@{server} is already listed as ivpb_ups_feeds[{seen[(server, ups)]}]")
            seen.setdefault((server, ups), i)
        client = hv.get("ivpb_nut_client") or {}
        for key, least in input_rules.NUT_TIMINGS.items():
            if key not in client:
                continue
            try:
                input_rules.nut_seconds(client[key], f"ivpb_nut_client.{key}", least)
            except ValueError as e:
                yield Problem(host, f"ivpb_nut_client.{key}", str(e).split(": ", 1)[1])
        if feeds or client:
            try:
                input_rules.nut_deadtime(client.get("deadtime", input_rules.NUT_DEADTIME),
                                         client.get("pollfreq", input_rules.NUT_POLLFREQ),
                                         "ivpb_nut_client.deadtime")
            except ValueError as e:
                yield Problem(host, "ivpb_nut_client.deadtime", str(e).split(": ", 1)[1])
        if feeds and "user" not in client and not input_rules.matches("nut_name", input_rules.nut_user(host)):
            yield Problem(host, "ivpb_nut_client.user",
                          f"the default NUT user {input_rules.nut_user(host)!r} is not a NUT name; expected "
                          f"{input_rules.SCHEMA_DEFS['rule_nut_name']['description']}: set a shorter user")
        if feeds or planned:
            why = secret_problem(hv.get("ivpb_nut_password")) if "ivpb_nut_password" in hv else (
                "required for a host fed by a UPS (its NUT monitoring password; keep it in ansible-vault)")
            if why:
                missing = "ivpb_nut_password" not in hv
                yield Problem(host, "ivpb_nut_password", why,
                              control=(planned[0].id if missing and planned else ""),
                              todo="nut_password")
        test_user = (hv.get("ivpb_nut_server") or {}).get("test_user")
        if test_user:
            why = secret_problem(test_user.get("password"))
            if why:
                yield Problem(host, "ivpb_nut_server.test_user.password", why)


def _servers(inv) -> str:
    names = sorted(h for h, hv in inv.hosts.items() if (hv.get("ivpb_nut_server") or {}).get("ups"))
    return ", ".join(names) or "(none: declare ivpb_nut_server on the host the UPS is plugged into)"
