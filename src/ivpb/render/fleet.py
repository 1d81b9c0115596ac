"""`ivpb fleet`: the overview of the schools (ivpb.fleet) as JSON or as one offline HTML file.
Everything from the reports is escaped by Jinja2's autoescape (the report's HTML environment)."""

from __future__ import annotations

import json
from typing import Any

from ivpb.i18n import t
from ivpb.render.labels import evidence_key, human_date, status_label
from ivpb.statuses import STATUSES

FORMATS = ("json", "html")
# The page's words, as W.<name> in templates/fleet.html.j2; the verdict per exit code.
WORDS = ("fleet.title", "fleet.intro", "fleet.school", "fleet.last_audit", "fleet.audits", "fleet.result",
         "fleet.not_in_order", "fleet.oldest_evidence", "fleet.no_audit", "fleet.none", "fleet.subject",
         "fleet.control", "fleet.status", "fleet.detail")
VERDICT = {0: "fleet.exit_0", 1: "fleet.exit_1", 2: "fleet.exit_2"}


def render(doc: dict[str, Any], fmt: str, lang: str) -> str:
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    from ivpb.render.html import _environment  # one HTML environment: autoescape, Latin-1 safe text

    schools = [_shown(s, lang) for s in doc["schools"]]
    return _environment().get_template("fleet.html.j2").render(
        lang=lang, W={w.split(".", 1)[1]: t(w, lang) for w in WORDS}, clauses=doc["clauses"], schools=schools,
        STATUS={s: status_label(s, lang) for s in STATUSES})


def _shown(s: dict[str, Any], lang: str) -> dict[str, Any]:
    """One school's row as the template shows it: dates and words in the reader's language."""
    oldest = s["oldest_evidence"]
    oldest_text = t("fleet.none", lang) if oldest is None else \
        f"{human_date(oldest['at'], lang)}: {oldest['subject']}, {oldest['control']}" \
        + (f" ({oldest['dataset']})" if oldest.get("dataset") else "") \
        + f", {evidence_key(oldest['evidence'].split('.')[0], lang)}"
    return {
        **s,
        "date": human_date(s["generated_at"] or "", lang),
        "verdict": t(VERDICT[s["exit_code"]], lang) if s["exit_code"] in VERDICT else "",
        "in_order": {c: t("fleet.in_order", lang, compliant=v["subjects_compliant"], subjects=v["subjects"])
                     for c, v in s["clauses"].items()},
        "oldest": oldest_text,
        "audit_dates": [human_date(a["generated_at"], lang) for a in s["audits"]],
    }
