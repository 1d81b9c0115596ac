"""Systems ivpb does not manage (ivpb_managed: false, ivpb.unmanaged): what each declaration lacks.

- such a system says what it is (ivpb_system_kind); the keys that only mean something there
  (ivpb_system_kind, ivpb_attested, a store's `pull` and `restore`) are refused on a managed host;
- nothing configures it: it serves no UPS (ivpb_nut_server), routes nothing (ivpb_uplinks, the
  ivpb_internet_via of another host) and receives no backups (a target's `host`; a target
  outside ivpb's reach is `{site, address, host_key}`);
- every planned result has a way it is met (ivpb.unmanaged.means), else one problem per
  control naming the ways there are; an ivpb_attested entry names a planned control that
  nothing else meets;
- each data set it stores says who restores it, from where and with which key or account
  (`restore`), unless a managed proxy pulls it (then ivpb restore restores the proxy's copy).
"""

from __future__ import annotations

from collections.abc import Iterator

from ivpb.errors import Problem
from ivpb.inventory import managed
from ivpb.unmanaged import ATTESTED, means

ONLY_UNMANAGED = "only for a system ivpb does not manage (ivpb_managed: false)"


def check(ctx) -> Iterator[Problem]:
    inv, plan, policy = ctx.inventory, ctx.plan, ctx.policy
    target_hosts = {t["host"]: name for name, t in inv.school("ivpb_backup_targets").items() if "host" in t}
    for host, hv in inv.hosts.items():
        stores = [s for s in hv.get("ivpb_stores") or [] if isinstance(s, dict)]
        if managed(hv):
            for key in ("ivpb_system_kind", "ivpb_attested"):
                if key in hv:
                    yield Problem(host, key, f"{ONLY_UNMANAGED}; this host is managed")
            for i, store in enumerate(stores):
                for key in ("pull", "restore"):
                    if key in store:
                        yield Problem(host, f"ivpb_stores[{i}].{key}",
                                      f"{ONLY_UNMANAGED}; this host's data set is backed up and restored by ivpb")
            via = hv.get("ivpb_internet_via")
            if via in inv.hosts and via != host and not managed(inv.hosts[via]):
                yield Problem(host, "ivpb_internet_via", f"{via!r} is a system ivpb does not manage, so it cannot "
                              "enforce this host's failover; expected the managed host that routes its traffic")
            continue
        if "ivpb_system_kind" not in hv:
            yield Problem(host, "ivpb_system_kind", "required for a system ivpb does not manage: what it is",
                          todo="system_kind")
        for key, what in (("ivpb_nut_server", "serve UPSes"), ("ivpb_uplinks", "route traffic")):
            if hv.get(key):
                yield Problem(host, key, f"a system ivpb does not manage cannot {what} for ivpb (nothing is "
                              "configured on it); expected it on a managed host")
        if host in target_hosts:
            name = target_hosts[host]
            yield Problem(f"target {name}", f"ivpb_backup_targets.{name}.host",
                          f"{host!r} is a system ivpb does not manage, so ivpb cannot make it a receiver; "
                          "expected a managed host, or the target as {site, address, host_key}")
        yield from _means(inv, plan, policy, host, hv)
        for i, store in enumerate(stores):
            if "pull" not in store and "restore" not in store:
                yield Problem(host, f"ivpb_stores[{i}].restore",
                              "required on a system ivpb does not manage (unless a managed host pulls it): who "
                              "restores the data set, from where and with which key or account "
                              "({by, from, with}), for the herstelplan", dataset=store.get("dataset", ""),
                              todo=f"restore|{store.get('dataset', '')}")


def _means(inv, plan, policy, host: str, hv: dict) -> Iterator[Problem]:
    """A problem per planned control with a result nothing meets, and per ivpb_attested entry
    naming a planned control met otherwise for all its results. An entry naming a control not
    planned here (a classification or a school's policy that asks less) is let be; a misspelt
    one leaves its control unmet, which is named."""
    unmet: dict[str, list] = {}
    attested: set[str] = set()
    for planned in plan.hosts[host].controls:
        how = means(inv, plan, host, planned)
        if how is None:
            unmet.setdefault(planned.id, []).append(planned)
        elif how == ATTESTED:
            attested.add(planned.id)
    for cid, results in unmet.items():
        control = policy.control(cid)
        datasets = [p.dataset for p in results if p.dataset]
        ways = [f"{cid} in ivpb_attested (then: ivpb attest)"]
        if control.routed:
            ways.insert(0, "ivpb_internet_via naming the managed router that routes its traffic")
        elif control.judge == "ups":
            ways.insert(0, "ivpb_ups_feeds (a UPS on a managed NUT server that the system monitors)")
        elif datasets:
            ways.insert(0, "a managed host that pulls the data set (the store's pull)")
        on = f" for data set{'s' if len(datasets) > 1 else ''} {', '.join(datasets)}" if datasets else ""
        yield Problem(host, "ivpb_attested", f"{cid} applies ({control.clause}){on}, but nothing meets it on a "
                      f"system ivpb does not manage; expected {' or '.join(ways)}",
                      control=cid, dataset=datasets[0] if len(datasets) == 1 else "", todo=f"unmanaged_means|{cid}")
    planned_ids = plan.hosts[host].control_ids()
    for i, cid in enumerate(hv.get("ivpb_attested") or []):
        if cid in planned_ids and cid not in attested:
            yield Problem(host, f"ivpb_attested[{i}]", f"{cid} is met otherwise on this system (a managed "
                          "router, UPS feeds or a pull), so no attestation is asked for; remove it")
