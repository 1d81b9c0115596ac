"""`ivpb audit --format html`: the compliance diff as one self-contained, offline HTML file.

For readers who are not engineers (school director, DPO, inspection): summary per clause first,
then an overview of the hosts, then each host with every control (status as symbol + word +
colour, clause, the policy's Dutch sentence, data set, finding, evidence, waiver, and for drift
the diff in a collapsible block), then the sites (§5 Brandveiligheid).

No external resources (inline CSS, no fonts, images or scripts from elsewhere); a small inline
script adds status filters, and the page is complete without it. Everything from the report is
escaped by Jinja2's autoescape: evidence and diffs can hold anything.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup

from ivpb.render.labels import (
    ASPECT,
    STATUS,
    STATUS_HELP,
    STATUSES,
    SYMBOL,
    WORDS,
    check_lang,
    clause_rows,
    clause_title,
    count_statuses,
    diff_text,
    evidence_items,
    has_findings,
    human_date,
    sorted_controls,
    totals,
    verdict,
)


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ivpb", "templates"),
        autoescape=True,  # always, whatever the file name: everything in the report is data
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("report.html.j2")


def _badge(status: str, lang: str) -> Markup:
    """Status as symbol + word + colour (the symbol is hidden from screen readers: the word says it)."""
    return Markup('<span class="badge st-{0}"><span aria-hidden="true">{1} </span>{2}</span>').format(
        status, SYMBOL[status], STATUS[status][lang])


def _diff_lines(diff: list[dict[str, str]] | None) -> list[tuple[str, str]]:
    """(css class, line) for each line of the unified diff."""
    out = []
    for line in diff_text(diff).splitlines():
        if line.startswith(("---", "+++")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "ctx"
        out.append((kind, line))
    return out


def _result(c: dict[str, Any], report: dict[str, Any], lang: str) -> dict[str, Any]:
    return {
        "status": c["status"],
        "clause": c["clause"],
        "clause_title": clause_title(report, c["clause"]),
        "id": c["id"],
        "dataset": c.get("dataset"),
        "advisory": bool(c.get("advisory")),
        "sentence": c.get("sentence", ""),
        "detail": c.get("detail", ""),
        "because": c.get("because"),
        "evidence": evidence_items(c.get("evidence"), lang, lists=True),
        "diff": _diff_lines(c.get("diff")) if c.get("diff") else None,
        "diff_paths": ", ".join(d.get("path") or "?" for d in c.get("diff") or []),
        "waiver": c.get("waiver"),
    }


def _subject(n: int, name: str, data: dict[str, Any], report: dict[str, Any], lang: str, prefix: str):
    controls = data.get("controls", [])
    counts = count_statuses(controls)
    return {
        "anchor": f"{prefix}-{n}",
        "name": name,
        "data": data,
        "counts": counts,
        "fine": not has_findings(data),
        "results": [_result(c, report, lang) for c in sorted_controls(controls)],
    }


def render(report: dict[str, Any], lang: str = "nl") -> str:
    check_lang(lang)
    hosts = report.get("hosts", {})
    sites = report.get("sites", {})
    context = {
        "lang": lang,
        "L": {k: v[lang] for k, v in WORDS.items()},
        "STATUS": {s: STATUS[s][lang] for s in STATUSES},
        "STATUS_HELP": {s: STATUS_HELP[s][lang] for s in STATUSES},
        "SYMBOL": SYMBOL,
        "BADGE": {s: _badge(s, lang) for s in STATUSES},
        "STATUSES": STATUSES,
        "ASPECT": {a: v[lang] for a, v in ASPECT.items()},
        "policy": report.get("policy", {}),
        "date": human_date(report.get("generated_at", ""), lang),
        "generated_at": report.get("generated_at", ""),
        "inventory": report.get("inventory", []),
        "exit_code": report.get("exit_code", 1),
        "verdict": verdict(report, lang),
        "clauses": clause_rows(report, lang),
        "totals": totals(report),
        "hosts": [_subject(n, name, hosts[name], report, lang, "host") for n, name in enumerate(sorted(hosts))],
        "sites": [_subject(n, name, sites[name], report, lang, "site") for n, name in enumerate(sorted(sites))],
    }
    return _template().render(context)
