"""Where every classified data set lives, for the herstelplan (#23 item 4): on a managed host
(restored with ivpb restore from its backup target, with the GPG key of its recipients), on a
declared system ivpb does not manage (restored as its store's `restore` says: by whom, from
where, with which key or account), or nowhere (ivpb.plan.stored_nowhere, which validation and
the audit report as missing; the herstelplan names it too, so no data set is left out).
"""

from __future__ import annotations

from typing import Any

from ivpb.i18n import t
from ivpb.inventory import Inventory
from ivpb.plan import Plan


def declared_entry(host: str, hostvars: dict[str, Any], store: dict[str, Any], meta: dict[str, Any],
                   biv: dict[str, str]) -> dict[str, Any]:
    """A herstelplan entry of a data set on a system ivpb does not manage: no backup ivpb makes,
    no key of ivpb's, no drill; who restores it and how, as declared."""
    restore = store.get("restore") if isinstance(store.get("restore"), dict) else {}
    return {
        "host": host, "site": hostvars.get("ivpb_site") or "?", "dataset": store["dataset"],
        "description": meta.get("description") or "", "biv": biv, "source": store.get("path") or "",
        "target": None, "backup": None, "annual": None, "offsite": None, "encrypted": False, "keys": [],
        "drill": None, "kind": hostvars.get("ivpb_system_kind") or "?",
        "declared": {k: str(restore.get(k) or "-") for k in ("by", "from", "with")},
    }


def declared_items(e: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """The definition list of a declared system's data set in its host's section."""
    return [
        (t("herstelplan.description", lang), e["description"] or "-"),
        (t("herstelplan.biv", lang), ", ".join(f"{a}={e['biv'].get(a, '?')}" for a in "biv")),
        (t("herstelplan.lives", lang), f"{e['host']} ({e['kind']}): {e['source'] or '-'}"),
        (t("herstelplan.by", lang), e["declared"]["by"]),
        (t("herstelplan.from", lang), e["declared"]["from"]),
        (t("herstelplan.with", lang), e["declared"]["with"]),
    ]


def systems(es: list[dict[str, Any]], holder_of, lang: str) -> tuple:
    """One row per system and data set: where the data lives, who restores it, from where, with
    which key or account. `holder_of(entry)` writes the keys of a managed host's data set."""
    rows = []
    for e in sorted(es, key=lambda e: (e["host"], e["dataset"])):
        if "declared" in e:
            d = e["declared"]
            rows.append([f"{e['host']} ({e['kind']})", e["dataset"], e["source"] or "-", d["by"], d["from"], d["with"]])
        else:
            who = t("herstelplan.pulled_by", lang, kind=e["kind"], proxy=e["pulled_by"]) if e.get("pulled_by") \
                else t("herstelplan.managed", lang)
            rows.append([f"{e['host']} ({who})", e["dataset"], e["source"] or "-",
                         t("herstelplan.by_ivpb", lang), e["backup"] or t("herstelplan.no_target", lang),
                         holder_of(e)])
    return ("table", t("herstelplan.systems_cols", lang), rows)


def nowhere(plan: Plan, inventory: Inventory, lang: str) -> list[tuple]:
    """The classified data sets stored nowhere (with --limit: those a chosen host uses)."""
    chosen = set(inventory.chosen())
    shown = {ds: users for ds, users in plan.stored_nowhere.items()
             if inventory.selected is None or chosen.intersection(users)}
    if not shown:
        return []
    return [("p", t("herstelplan.nowhere", lang)),
            ("table", t("herstelplan.nowhere_cols", lang), [[ds, ", ".join(users) or "-"]
                                                            for ds, users in shown.items()])]
