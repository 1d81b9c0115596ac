"""`ivpb history` and `ivpb diff` in a terminal: the audits recorded, and what changed."""

from __future__ import annotations

from typing import Any

from ivpb.i18n import t
from ivpb.render.labels import control_name, human_date, status_short, w
from ivpb.render.report_table import _clean
from ivpb.render.text_table import text_table
from ivpb.statuses import STATUSES

INDENT = "  "
HEADINGS = {
    "new_failures": "audits.new_failures",
    "fixed": "audits.fixed",
    "still_open": "audits.still_open",
    "changed": "audits.changed",
    "appeared": "audits.appeared",
    "disappeared": "audits.disappeared",
}
# Shown even when empty ("Opgelost: geen"); the others only when something is in them.
ALWAYS = ("new_failures", "fixed", "still_open")


def history_table(entries: list[dict[str, Any]], lang: str) -> str:
    """One line per audit, oldest first: number, date, inventory commit, hosts, exit code, counts."""
    head = (t("audits.number", lang), t("audits.date", lang), t("audits.commit", lang), t("audits.hosts", lang),
            t("audits.result", lang), *(status_short(s, lang) for s in STATUSES))
    rows: list[tuple[str, ...]] = [head]
    for e in entries:
        hosts = t("audits.all_hosts", lang) if e["limit"] is None else t("audits.limit", lang, limit=e["limit"])
        rows.append((str(e["id"]), human_date(e["generated_at"], lang), (e["git_commit"] or "–")[:12],
                     _clean(hosts), str(e["exit_code"]), *(str(e["counts"][s]) for s in STATUSES)))
    return text_table(rows) + "\n"


def diff_text(doc: dict[str, Any], lang: str) -> str:
    """The diff document (ivpb.history.diff.document) as the school reads it."""
    lines = [t("audits.compared", lang, since=_audit(doc["from"], lang), to=_audit(doc["to"], lang))]
    if doc["common_subjects_only"]:
        lines.append(t("audits.common_only", lang))
    for category, heading in HEADINGS.items():
        changes = doc[category]
        if not changes and category not in ALWAYS:
            continue
        lines.append("")
        if not changes:
            lines.append(f"{t(heading, lang)}: {t('audits.none', lang)}")
            continue
        lines.append(f"{t(heading, lang)} ({len(changes)}):")
        rows = [(t("audits.subject", lang), w("clause", lang), w("control", lang), t("audits.before_after", lang),
                 w("finding", lang))]
        rows += [_row(c, lang) for c in changes]
        lines += [INDENT + line for line in text_table(rows).splitlines()]
    n = sum(not c["advisory"] for c in doc["new_failures"])
    lines += ["", t("audits.regressed", lang, n=n) if doc["exit_code"] else t("audits.no_regression", lang)]
    return "\n".join(lines) + "\n"


def _audit(a: dict[str, Any], lang: str) -> str:
    date = human_date(a["generated_at"], lang)
    if a["git_commit"]:
        return t("audits.audit_commit", lang, number=a["id"], date=date, commit=a["git_commit"][:12])
    return t("audits.audit", lang, number=a["id"], date=date)


def _row(c: dict[str, Any], lang: str) -> tuple[str, ...]:
    name = control_name({"id": c["control"], "dataset": c["dataset"]})
    if c["advisory"]:
        name += f" ({w('advisory_short', lang)})"
    before = status_short(c["before"], lang) if c["before"] else "–"
    after = status_short(c["after"], lang) if c["after"] else "–"
    change = after if c["before"] == c["after"] else f"{before} → {after}"
    return (_clean(c["subject"]), c["clause"], _clean(name), change, _clean(c["detail"]))


def diff_sections(doc: dict[str, Any], lang: str) -> dict[str, Any]:
    """The diff document as the HTML report shows it since the last audit (its since_last macro):
    the same headings, columns and rows as diff_text."""
    categories = [{"heading": t(heading, lang), "rows": [_row(c, lang) for c in doc[category]]}
                  for category, heading in HEADINGS.items() if doc[category] or category in ALWAYS]
    n = sum(not c["advisory"] for c in doc["new_failures"])
    return {
        "heading": t("audits.compared", lang, since=_audit(doc["from"], lang), to=_audit(doc["to"], lang)),
        "common_only": t("audits.common_only", lang) if doc["common_subjects_only"] else "",
        "columns": (t("audits.subject", lang), w("clause", lang), w("control", lang), t("audits.before_after", lang),
                    w("finding", lang)),
        "categories": categories,
        "none": t("audits.none", lang),
        "regressed": bool(doc["exit_code"]),
        "verdict": t("audits.regressed", lang, n=n) if doc["exit_code"] else t("audits.no_regression", lang),
    }
