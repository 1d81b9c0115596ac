"""`ivpb plan` as a table for the school's ICT coordinator, with its shopping list."""

from __future__ import annotations

from ivpb.i18n import t
from ivpb.plan import Plan
from ivpb.render.report_table import _clean
from ivpb.render.text_table import text_table
from ivpb.shopping import ShoppingList, todo_text


def _headers(lang: str) -> tuple[str, ...]:
    return (
        t("report.host", lang),
        t("report.site", lang),
        "B",
        "I",
        "V",
        t("report.control", lang),
        "§",
        t("report.dataset", lang),
        t("plan_table.because", lang),
    )


def render_plan_table(plan: Plan, lang: str = "nl", shopping: ShoppingList | None = None,
                      hosts: list[str] | None = None, sites: list[str] | None = None,
                      to_attest: list[dict] | None = None) -> str:
    """The plan of `hosts` and `sites` (default all); with a shopping list, a column says per
    control what must still be configured; after the tables the attestations still to be made
    (ivpb.attest.to_make), then the list."""
    todo = shopping.notes if shopping else {}
    headers = _headers(lang)
    extra = (t("plan_table.to_configure", lang),) if todo else ()
    advisory = f" ({t('report.advisory_short', lang)})"
    none = t("report.none", lang)
    rows: list[tuple[str, ...]] = [(*headers[:-1], *extra, headers[-1])]
    for host in sorted(plan.hosts) if hosts is None else hosts:
        hp = plan.hosts[host]
        first = (host, hp.site or "-", hp.biv["b"], hp.biv["i"], hp.biv["v"])
        if not hp.controls:
            rows.append((*first, none, "", "", *("",) * len(extra), ""))
        for n, c in enumerate(hp.controls):
            lead = first if n == 0 else ("",) * 5
            notes = ("; ".join(todo_text(n, lang) for n in todo.get((host, c.id, c.dataset or ""), ())),) \
                if todo else ()
            name = c.id + (advisory if c.advisory else "")
            rows.append((*lead, name, c.clause, c.dataset or "", *notes, c.because.text(lang)))
    out = [text_table(rows), "", t("plan_table.sites", lang)]
    site_rows: list[tuple[str, ...]] = [(headers[1], headers[5], "§", headers[8])]
    for site in sorted(plan.sites) if sites is None else sites:
        sp = plan.sites[site]
        if not sp.controls:
            site_rows.append((site, none, "", ""))
        for n, c in enumerate(sp.controls):
            site_rows.append((site if n == 0 else "", c.id, c.clause, c.because.text(lang)))
    out.append(text_table(site_rows))
    if to_attest:
        out += ["", t("plan_table.to_attest", lang, n=len(to_attest))]
        for a in to_attest:
            subject = f"{a['system']}/{a['dataset']}" if a["dataset"] else a["system"]
            # why may quote an evidence file's name from the store: no terminal escape sequences
            out.append(_clean(f"- {subject}: {a['control']}: {a['why']} ({a['command']} ...)"))
    if shopping and shopping.items:
        out += ["", t("plan_table.shopping", lang, n=len(shopping.items))]
        for item in shopping.items:
            p = item.problem
            line = f"- {p.where + ': ' if p.where else ''}{p.subject}: {p.path}: {item.text(lang)}"
            out.append(line + ("" if item.blocks_validate else f" ({t('plan_table.evidence', lang)})"))
    for dataset, users in plan.stored_nowhere.items():  # no host stores it: no control applies to it anywhere
        out.append(t("plan_table.stored_nowhere", lang, dataset=dataset, users=", ".join(users) or "-"))
    return "\n".join(out)
