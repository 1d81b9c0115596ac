"""`ivpb audit --format html`: the compliance diff as one self-contained, offline HTML file.

For readers who are not engineers (school director, DPO, inspection): summary per clause first,
then an overview of the hosts, then each host with every control (status as symbol + word +
colour, clause, the policy's Dutch sentence, data set, finding, evidence, waiver, and for drift
the diff in a collapsible block), then the sites (§5 Brandveiligheid).
With the audit history (ivpb.history), the summary also shows each clause's trend over the last
audits: black bars of inline SVG, one per audit (no script; printable in black and white).

No external resources (inline CSS, no fonts, images or scripts from elsewhere); a small inline
script adds status filters, and the page is complete without it. Everything from the report is
escaped by Jinja2's autoescape: evidence and diffs can hold anything.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

import jinja2
from markupsafe import Markup, escape

from ivpb.i18n import check_lang, section, t
from ivpb.render.labels import (
    basis_counts,
    basis_label,
    clause_rows,
    clause_sort_key,
    clause_title,
    contact_label,
    count_statuses,
    diff_text,
    evidence_items,
    has_findings,
    human_date,
    sorted_controls,
    status_help,
    status_label,
    totals,
    verdict,
    w,
)
from ivpb.render.latin1 import latin1
from ivpb.statuses import STATUSES, SYMBOL

# Rows in order, shown as one line each (no finding to explain); the rest in full.
COMPACT = frozenset({"compliant", "not_applicable"})
# The trend's bars (px): each audit a black bar as high as its share of compliant results.
TREND_HEIGHT, TREND_BAR, TREND_STEP = 24, 6, 8


def _finalize(value: Any) -> Any:
    """Every {{ expression }}: text beyond ASCII escaped here, with its characters beyond Latin-1
    as character references (ivpb.render.latin1); autoescape escapes the rest as it comes."""
    if isinstance(value, str) and not value.isascii():
        return Markup(latin1(escape(value)))
    return value


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("ivpb", "templates"),
        autoescape=True,  # always, whatever the file name: everything in the report is data
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def _template(name: str = "report.html.j2") -> jinja2.Template:
    return _environment().get_template(name)  # compiled once, kept by the environment


def _badge(status: str, lang: str) -> Markup:
    """A status as symbol + word + colour: the badge macro of templates/result_row.html.j2."""
    words = {"SYMBOL": SYMBOL, "STATUS": {s: status_label(s, lang) for s in STATUSES}}
    return _template("result_row.html.j2").make_module(words).badge(status)


def _diff_lines(diff: list[dict[str, str]] | None, lang: str) -> list[tuple[str, str]]:
    """(css class, line) for each line of the unified diff."""
    out = []
    for line in diff_text(diff, lang).splitlines():
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
    """What the row macro shows of one control result."""
    compact = c["status"] in COMPACT and not c.get("waiver") and not c.get("diff")
    r = {
        "status": c["status"],
        "clause": c["clause"],
        "id": c["id"],
        "dataset": c.get("dataset"),
        "advisory": bool(c.get("advisory")),
        "basis": basis_label(c, lang),
        "detail": c.get("detail", ""),
        **_evidence_fields(c.get("evidence"), compact, lang),
    }
    if compact:
        return r
    return r | {
        "clause_title": clause_title(report, c["clause"]),
        "sentence": c.get("sentence", ""),
        "because": c.get("because"),
        "diff": _diff_lines(c.get("diff"), lang) if c.get("diff") else None,
        "diff_paths": ", ".join(d.get("path") or "?" for d in c.get("diff") or []),
        "waiver": c.get("waiver"),
    }


def _evidence_fields(evidence: dict[str, Any] | None, compact: bool, lang: str) -> dict[str, Any]:
    """The evidence as the evidence macro shows it: one line (label: value; label: value) in a
    compact row, (label, value or list of values) pairs in a full one."""
    if compact:
        return {"compact": True, "evidence_line": "; ".join(f"{k}: {v}" for k, v in _evidence(evidence, lang, False))}
    return {"compact": False, "evidence": _evidence(evidence, lang, True)}


def _evidence(evidence: dict[str, Any] | None, lang: str, lists: bool) -> list[tuple[str, Any]]:
    """evidence_items(evidence, lang, lists), each (key, value) of text or a number read once."""
    out: list[tuple[str, Any]] = []
    for k, v in (evidence or {}).items():
        try:
            out.append(_evidence_item(k, v, lang, lists))
        except TypeError:  # a list or mapping: not kept
            out += evidence_items({k: v}, lang, lists=lists)
    return out


@lru_cache(maxsize=8192, typed=True)  # hosts report the same schedules, targets, counts; typed: 1 is not True
def _evidence_item(key: str, value: Any, lang: str, lists: bool) -> tuple[str, Any]:
    [item] = evidence_items({key: value}, lang, lists=lists)
    return item


def _frozen(value: Any) -> Any:
    """A JSON value as a hashable key that tells apart what reads differently (1, 1.0, True)."""
    if isinstance(value, dict):
        return (dict, *((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return (list, *map(_frozen, value))
    return value if type(value) is str else (type(value), repr(value))


class _Rows:
    """The rows of the controls tables, rendered by the macros of templates/result_row.html.j2.
    A row is a frame around its result's evidence; in a federation many results read the same
    (the same control, status and finding on many hosts), so each distinct frame and each
    distinct evidence is rendered once and kept, up to MAX of each, by what it shows (the text
    fields of a result are strings, schemas/report.schema.json). A row with a waiver or a diff is
    rendered whole, as it comes."""

    MAX = 8192

    def __init__(self, report: dict[str, Any], context: dict[str, Any]) -> None:
        self.report, self.lang = report, context["lang"]
        self.macros = _template("result_row.html.j2").make_module(context)
        self.frames: dict[tuple, tuple[str, str, bool]] = {}
        self.evidences: dict[tuple, str] = {}

    def html(self, controls: list[dict[str, Any]]) -> Markup:
        return Markup("".join(map(self.row, sorted_controls(controls))))

    def row(self, c: dict[str, Any]) -> str:
        """One row and its line end."""
        if c.get("waiver") or c.get("diff"):
            return f"{self.macros.row(_result(c, self.report, self.lang))}\n"
        try:
            key = (c["status"], c["clause"], c["id"], c.get("dataset"), bool(c.get("advisory")), c.get("sentence"),
                   c.get("detail"), c.get("because"), c.get("basis"))
            frame = self.frames.get(key)
        except TypeError:  # not JSON (a finding that is not text): rendered whole
            return f"{self.macros.row(_result(c, self.report, self.lang))}\n"
        if frame is None:
            r = _result(c, self.report, self.lang)
            frame = (str(self.macros.head(r)), str(self.macros.tail(r)), r["compact"])
            if len(self.frames) < self.MAX:
                self.frames[key] = frame
        head, tail, compact = frame
        evidence = c.get("evidence")
        kept = (compact, _frozen(evidence))
        shown = self.evidences.get(kept)
        if shown is None:
            shown = str(self.macros.evidence(_evidence_fields(evidence, compact, self.lang)))
            if len(self.evidences) < self.MAX:
                self.evidences[kept] = shown
        return f"{head}{shown}{tail}\n"


def _catalogue(report: dict[str, Any]) -> list[dict[str, str]]:
    """Each control in the report once, with its clause and the policy's Dutch sentence."""
    seen: dict[str, dict[str, str]] = {}
    for subjects in (report.get("hosts", {}), report.get("sites", {})):
        for subject in subjects.values():
            for c in subject.get("controls", []):
                if c["id"] not in seen:
                    seen[c["id"]] = {"id": c["id"], "clause": c["clause"], "sentence": c.get("sentence", "")}
    return sorted(seen.values(), key=lambda k: (clause_sort_key(k["clause"]), k["id"]))


def _subject(n: int, name: str, data: dict[str, Any], rows: _Rows, prefix: str) -> dict[str, Any]:
    controls = data.get("controls", [])
    return {
        "anchor": f"{prefix}-{n}",
        "name": name,
        "data": data,
        "counts": count_statuses(controls),
        "contact": contact_label(data, rows.lang),
        "fine": not has_findings(data),
        "results": bool(controls),
        "rows": rows.html(controls),
    }


def _trend(history: list[dict[str, Any]] | None, report: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """The bars of the summary's trend column, per clause and for the totals, from the audit
    history's entries (ivpb.history.store.Entry.as_dict, oldest first); None without a history."""
    if not history:
        return None
    clauses = {row["id"]: _bars([e["clauses"].get(row["id"]) for e in history], history, lang)
               for row in clause_rows(report, lang)}
    return {"n": len(history), "clauses": clauses, "totals": _bars([e["counts"] for e in history], history, lang)}


def _bars(counts: list[dict[str, int] | None], history: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    bars = []
    for n, (c, entry) in enumerate(zip(counts, history, strict=True)):
        c = c or {}
        x, y = c.get("compliant", 0), sum(c.values()) - c.get("not_applicable", 0)
        height = round(TREND_HEIGHT * x / y, 1) if y else 0
        bars.append({"x": n * TREND_STEP, "y": round(TREND_HEIGHT - height, 1), "height": height,
                     "title": w("trend_bar", lang, date=human_date(entry["generated_at"], lang), x=x, y=y)})
    # a baseline of 1 px below the bars: an audit with nothing compliant still shows its place
    return {"width": len(bars) * TREND_STEP, "height": TREND_HEIGHT + 1, "base": TREND_HEIGHT + 0.5, "bar": TREND_BAR,
            "bars": bars,
            "label": "; ".join(b["title"] for b in bars)}


def render(report: dict[str, Any], lang: str = "nl", history: list[dict[str, Any]] | None = None) -> str:
    """The report; with history (the audit history's last entries, this audit's included) the
    summary also shows each clause's trend."""
    check_lang(lang)
    hosts = report.get("hosts", {})
    sites = report.get("sites", {})
    context = {
        "lang": lang,
        "L": section("report", lang),
        "STATUS": {s: status_label(s, lang) for s in STATUSES},
        "STATUS_HELP": {s: status_help(s, lang) for s in STATUSES},
        "SYMBOL": SYMBOL,
        "BADGE": {s: _badge(s, lang) for s in STATUSES},
        "STATUSES": STATUSES,
        "ASPECT": section("aspect", lang),
    }
    rows = _Rows(report, context)
    context |= {
        "policy": report.get("policy", {}),
        "date": human_date(report.get("generated_at", ""), lang),
        "generated_at": report.get("generated_at", ""),
        "inventory": report.get("inventory", []),
        "exit_code": report.get("exit_code", 1),
        "verdict": verdict(report, lang),
        "clauses": clause_rows(report, lang),
        "totals": totals(report),
        "basis_counts": basis_counts(report, lang),
        "basis_note": t("basis.note", lang),
        "trend": _trend(history, report, lang),
        "catalogue": _catalogue(report),
        "hosts": [_subject(n, name, hosts[name], rows, "host") for n, name in enumerate(sorted(hosts))],
        "sites": [_subject(n, name, sites[name], rows, "site") for n, name in enumerate(sorted(sites))],
    }
    return _template().render(context)
