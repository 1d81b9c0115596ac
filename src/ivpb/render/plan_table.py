"""`ivpb plan` as a table for the school's ICT coordinator."""

from __future__ import annotations

from ivpb.plan import Plan
from ivpb.render.text_table import text_table

HEADERS = {
    "nl": ("Host", "Locatie", "B", "I", "V", "Maatregel", "§", "Dataset", "Waarom"),
    "en": ("Host", "Site", "B", "I", "V", "Control", "§", "Data set", "Because"),
}
TODO = {"nl": "Nog te configureren", "en": "Still to configure"}
# Problem.todo notes ("key|arg|..."), in the report's language.
TODO_TEXT = {
    "ups_feeds": {"nl": "{0} UPS-voeding(en) nodig, {1} opgegeven (ivpb_ups_feeds)",
                  "en": "{0} UPS feed(s) needed, {1} declared (ivpb_ups_feeds)"},
    "uplinks": {"nl": "{0} internetverbindingen nodig, {1} opgegeven (ivpb_uplinks op {2})",
                "en": "{0} uplinks needed, {1} declared (ivpb_uplinks on {2})"},
    "backup_target": {"nl": "backupdoel nodig (ivpb_backup_targets, ivpb_backup_target)",
                      "en": "backup target needed (ivpb_backup_targets, ivpb_backup_target)"},
    "sync_target": {"nl": "offsite-synchronisatiedoel op een andere locatie nodig (sync_target)",
                    "en": "offsite sync target at another site needed (sync_target)"},
    "recipients": {"nl": "GPG-ontvanger nodig, 0 opgegeven (ivpb_gpg_recipients, ivpb_backup_encrypt_to)",
                   "en": "GPG recipient needed, 0 declared (ivpb_gpg_recipients, ivpb_backup_encrypt_to)"},
    "nut_password": {"nl": "NUT-wachtwoord nodig (ivpb_nut_password, in ansible-vault)",
                     "en": "NUT password needed (ivpb_nut_password, in ansible-vault)"},
}


def todo_text(note: str, lang: str) -> str:
    key, *args = note.split("|")
    text = TODO_TEXT.get(key)
    return text[lang].format(*args) if text else note
SITE_TITLE = {"nl": "Locaties (§5 Brandveiligheid)", "en": "Sites (§5 fire safety)"}
NONE = {"nl": "(geen)", "en": "(none)"}


def render_plan_table(plan: Plan, lang: str = "nl", todo: dict[tuple[str, str, str], list[str]] | None = None) -> str:
    """The plan; with `todo` ((host, control, data set) -> notes) a column says per control what
    must still be configured before validate, enforce and audit accept the inventory."""
    todo = todo or {}
    extra = (TODO[lang],) if todo else ()
    rows: list[tuple[str, ...]] = [(*HEADERS[lang][:-1], *extra, HEADERS[lang][-1])]
    for host, hp in sorted(plan.hosts.items()):
        first = (host, hp.site or "-", hp.biv["b"], hp.biv["i"], hp.biv["v"])
        if not hp.controls:
            rows.append((*first, NONE[lang], "", "", *("",) * len(extra), ""))
        for n, c in enumerate(hp.controls):
            lead = first if n == 0 else ("",) * 5
            suffix = " (advies)" if c.advisory and lang == "nl" else (" (advisory)" if c.advisory else "")
            notes = ("; ".join(todo_text(n, lang) for n in todo.get((host, c.id, c.dataset or ""), ())),) \
                if todo else ()
            rows.append((*lead, c.id + suffix, c.clause, c.dataset or "", *notes, c.because))
    out = [text_table(rows), "", SITE_TITLE[lang]]
    site_rows: list[tuple[str, ...]] = [(HEADERS[lang][1], HEADERS[lang][5], "§", HEADERS[lang][8])]
    for site, sp in sorted(plan.sites.items()):
        if not sp.controls:
            site_rows.append((site, NONE[lang], "", ""))
        for n, c in enumerate(sp.controls):
            site_rows.append((site if n == 0 else "", c.id, c.clause, c.because))
    out.append(text_table(site_rows))
    return "\n".join(out)
