"""`ivpb plan` as a table for the school's ICT coordinator."""

from __future__ import annotations

from ivpb.i18n import catalogue, t
from ivpb.plan import Plan
from ivpb.render.text_table import text_table


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


def todo_text(note: str, lang: str) -> str:
    """A Problem.todo note ("key|arg|...": the words of todo.<key>, {0}, {1}... the args) in lang."""
    key, *args = note.split("|")
    text = catalogue(lang).get(f"todo.{key}")
    return text.format(*args) if text else note


def render_plan_table(plan: Plan, lang: str = "nl", todo: dict[tuple[str, str, str], list[str]] | None = None) -> str:
    """The plan; with `todo` ((host, control, data set) -> notes) a column says per control what
    must still be configured before validate, enforce and audit accept the inventory."""
    todo = todo or {}
    headers = _headers(lang)
    extra = (t("plan_table.to_configure", lang),) if todo else ()
    advisory = f" ({t('report.advisory_short', lang)})"
    none = t("report.none", lang)
    rows: list[tuple[str, ...]] = [(*headers[:-1], *extra, headers[-1])]
    for host, hp in sorted(plan.hosts.items()):
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
    for site, sp in sorted(plan.sites.items()):
        if not sp.controls:
            site_rows.append((site, none, "", ""))
        for n, c in enumerate(sp.controls):
            site_rows.append((site if n == 0 else "", c.id, c.clause, c.because.text(lang)))
    out.append(text_table(site_rows))
    for dataset, users in plan.stored_nowhere.items():  # no host stores it: no control applies to it anywhere
        out.append(t("plan_table.stored_nowhere", lang, dataset=dataset, users=", ".join(users) or "-"))
    return "\n".join(out)
