"""`ivpb plan --format markdown|html`: the plan, its shopping list and the attestations still to
make, for the school's director.

The same tables as the terminal's (ivpb.render.plan_table), as a document: every value from the
inventory (host, site, data set, reason, variable, note) is escaped for the format, with the
escaping of the audit's reports (ivpb.render.markdown.md; markupsafe and latin1 as in
ivpb.render.html), so no value makes a link, a tag or a code block.
"""

from __future__ import annotations

from markupsafe import escape

from ivpb.i18n import check_lang, t
from ivpb.plan import Plan
from ivpb.render.latin1 import latin1
from ivpb.render.markdown import md
from ivpb.shopping import ShoppingList, todo_text


def _tables(plan: Plan, lang: str, shopping: ShoppingList, hosts: list[str], sites: list[str],
            to_attest: list[dict]):
    """(headers, rows) of the hosts, the sites, the shopping list and the attestations still to
    make (ivpb.attest.to_make): plain text, not yet escaped."""
    advisory = f" ({t('report.advisory_short', lang)})"
    host_rows = []
    for host in hosts:
        hp = plan.hosts[host]
        lead = [host, hp.site or "-", "/".join(hp.biv[a] for a in "biv")]
        if not hp.controls:
            host_rows.append([*lead, t("report.none", lang), "", "", "", ""])
        for c in hp.controls:
            notes = "; ".join(todo_text(n, lang) for n in shopping.notes.get((host, c.id, c.dataset or ""), ()))
            host_rows.append([*lead, c.id + (advisory if c.advisory else ""), c.clause, c.dataset or "", notes,
                              c.because.text(lang)])
    host_head = [t("report.host", lang), t("report.site", lang), "B/I/V", t("report.control", lang), "§",
                 t("report.dataset", lang), t("plan_table.to_configure", lang), t("plan_table.because", lang)]
    site_rows = [[site, c.id, c.clause, c.because.text(lang)] for site in sites for c in plan.sites[site].controls]
    site_rows += [[site, t("report.none", lang), "", ""] for site in sites if not plan.sites[site].controls]
    site_head = [t("report.site", lang), t("report.control", lang), "§", t("plan_table.because", lang)]
    todo_rows = [[i.problem.subject, i.problem.path,
                  i.text(lang) + ("" if i.blocks_validate else f" ({t('plan_table.evidence', lang)})")]
                 for i in shopping.items]
    todo_head = [t("plan_table.subject", lang), t("plan_table.variable", lang), t("plan_table.todo", lang)]
    attest_rows = [[a["system"], a["dataset"] or "", a["control"], a["why"], a["command"]] for a in to_attest]
    attest_head = list(t("plan_table.attest_cols", lang))
    return (host_head, host_rows), (site_head, site_rows), (todo_head, todo_rows), (attest_head, attest_rows)


def _intro(plan: Plan, sources: list[str], lang: str) -> str:
    return t("plan_table.intro", lang, inv=", ".join(sources), policy=plan.policy.title)


def render_markdown(plan: Plan, lang: str, shopping: ShoppingList, hosts: list[str], sites: list[str],
                    sources: list[str], to_attest: list[dict]) -> str:
    check_lang(lang)
    hosts_t, sites_t, todo_t, attest_t = _tables(plan, lang, shopping, hosts, sites, to_attest)

    def table(head: list[str], rows: list[list[str]]) -> list[str]:
        return ["| " + " | ".join(md(h) for h in head) + " |", "|" + "---|" * len(head),
                *("| " + " | ".join(md(c) for c in row) + " |" for row in rows), ""]

    out = [f"# {md(t('plan_table.title', lang))}", "", md(_intro(plan, sources, lang)), "",
           f"## {md(t('plan_table.shopping', lang, n=len(shopping.items)))}", ""]
    out += table(*todo_t) if shopping.items else [md(t("plan_table.complete", lang)), ""]
    if to_attest:
        out += [f"## {md(t('plan_table.to_attest', lang, n=len(to_attest)))}", "", *table(*attest_t)]
    out += [f"## {md(t('plan_table.hosts', lang))}", "", *table(*hosts_t)]
    out += [f"## {md(t('plan_table.sites', lang))}", "", *table(*sites_t)]
    return "\n".join(out).rstrip("\n") + "\n"


def _h(text: str) -> str:
    return latin1(escape(text))


def render_html(plan: Plan, lang: str, shopping: ShoppingList, hosts: list[str], sites: list[str],
                sources: list[str], to_attest: list[dict]) -> str:
    check_lang(lang)
    hosts_t, sites_t, todo_t, attest_t = _tables(plan, lang, shopping, hosts, sites, to_attest)

    def table(head: list[str], rows: list[list[str]]) -> str:
        return ("<table><thead><tr>" + "".join(f"<th>{_h(h)}</th>" for h in head) + "</tr></thead><tbody>"
                + "".join("<tr>" + "".join(f"<td>{_h(c)}</td>" for c in row) + "</tr>" for row in rows)
                + "</tbody></table>")

    title = _h(t("plan_table.title", lang))
    body = [f"<h1>{title}</h1>", f"<p>{_h(_intro(plan, sources, lang))}</p>",
            f"<h2>{_h(t('plan_table.shopping', lang, n=len(shopping.items)))}</h2>",
            table(*todo_t) if shopping.items else f"<p>{_h(t('plan_table.complete', lang))}</p>",
            *([f"<h2>{_h(t('plan_table.to_attest', lang, n=len(to_attest)))}</h2>", table(*attest_t)]
              if to_attest else []),
            f"<h2>{_h(t('plan_table.hosts', lang))}</h2>", table(*hosts_t),
            f"<h2>{_h(t('plan_table.sites', lang))}</h2>", table(*sites_t)]
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #999;padding:.2em .5em;text-align:left;vertical-align:top}")
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
