"""`ivpb plan` as a table for the school's ICT coordinator."""

from __future__ import annotations

from ivpb.plan import Plan
from ivpb.render.text_table import text_table

HEADERS = {
    "nl": ("Host", "Locatie", "B", "I", "V", "Maatregel", "§", "Dataset", "Waarom"),
    "en": ("Host", "Site", "B", "I", "V", "Control", "§", "Data set", "Because"),
}
SITE_TITLE = {"nl": "Locaties (§5 Brandveiligheid)", "en": "Sites (§5 fire safety)"}
NONE = {"nl": "(geen)", "en": "(none)"}


def render_plan_table(plan: Plan, lang: str = "nl") -> str:
    rows: list[tuple[str, ...]] = [HEADERS[lang]]
    for host, hp in sorted(plan.hosts.items()):
        first = (host, hp.site or "-", hp.biv["b"], hp.biv["i"], hp.biv["v"])
        if not hp.controls:
            rows.append((*first, NONE[lang], "", "", ""))
        for n, c in enumerate(hp.controls):
            lead = first if n == 0 else ("",) * 5
            suffix = " (advies)" if c.advisory and lang == "nl" else (" (advisory)" if c.advisory else "")
            rows.append((*lead, c.id + suffix, c.clause, c.dataset or "", c.because))
    out = [text_table(rows), "", SITE_TITLE[lang]]
    site_rows: list[tuple[str, ...]] = [(HEADERS[lang][1], HEADERS[lang][5], "§", HEADERS[lang][8])]
    for site, sp in sorted(plan.sites.items()):
        if not sp.controls:
            site_rows.append((site, NONE[lang], "", ""))
        for n, c in enumerate(sp.controls):
            site_rows.append((site if n == 0 else "", c.id, c.clause, c.because))
    out.append(text_table(site_rows))
    return "\n".join(out)
