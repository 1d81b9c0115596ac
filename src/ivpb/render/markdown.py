"""`ivpb audit --format markdown`: the compliance diff for people who are not engineers.

Title with the policy and date, the summary per clause first ("x van y hosts voldoen"), an
overview of the hosts, then each host with every control, then the sites (§5). Statuses are a
symbol and a word, never a colour alone. Everything from the report is escaped: Markdown and
HTML special characters in details and evidence show as text, diffs go in fenced code blocks
(the fence longer than any run of backticks inside) within a collapsible <details> block.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any

from ivpb.i18n import check_lang, t
from ivpb.render import labels
from ivpb.render.labels import w
from ivpb.statuses import STATUSES, SYMBOL

# Backslash escapes for Markdown, entities for what HTML would read (a backslash does not stop
# every renderer's inline HTML).
_MD_ESCAPES = str.maketrans({**{c: "\\" + c for c in "\\`*_[]|~"}, "&": "&amp;", "<": "&lt;", ">": "&gt;"})
_BLOCK_START = re.compile(r"^(?:([#+\-=])|(\d+)([.)]))")
_BACKTICKS = re.compile(r"`+")


@lru_cache(maxsize=8192)  # sentences, titles, data sets and sites repeat for every host
def md(text: str) -> str:
    """Text as Markdown that shows exactly this text: no markup, no HTML, one line."""
    s = " ".join(str(text).split()).translate(_MD_ESCAPES)
    if s[:1] in ("#", "+", "-", "=") or s[:1].isdigit():
        # Not a heading, list or rule where the text starts a line (12. becomes 12\.).
        s = _BLOCK_START.sub(lambda m: "\\" + m[1] if m[1] else f"{m[2]}\\{m[3]}", s)
    return s


def code(text: str) -> str:
    """An inline code span when the text allows it (ids, paths), else escaped text."""
    if "`" in text or "\n" in text or not text.strip():
        return md(text)
    return f"`{text}`"


def fenced(body: str, info: str = "") -> str:
    longest = max((len(m.group()) for m in _BACKTICKS.finditer(body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{body}\n{fence}"


def _status(status: str, lang: str) -> str:
    return f"{SYMBOL.get(status, '')} {labels.status_label(status, lang)}".strip()


def _counts(counts: dict[str, int], lang: str) -> str:
    parts = [f"{SYMBOL[s]} {counts[s]} {labels.status_label(s, lang)}" for s in STATUSES if counts.get(s)]
    return ", ".join(parts) if parts else w("no_controls", lang)


def _summary(report: dict[str, Any], lang: str) -> list[str]:
    head = [w("clause", lang), w("comply", lang), *(_status(s, lang) for s in STATUSES)]
    out = [
        f"## {w('summary', lang)}",
        "",
        "| " + " | ".join(head) + " |",
        "|---|---|" + "--:|" * len(STATUSES),
    ]
    for row in labels.clause_rows(report, lang):
        mark = SYMBOL["compliant"] if row["ok"] else SYMBOL["drift"]
        cells = [
            f"{md(row['id'])} {md(row['title'])}",
            f"{mark} {row['comply']}",
            *(str(row["counts"][s] or "") for s in STATUSES),
        ]
        out.append("| " + " | ".join(cells) + " |")
    tot = labels.totals(report)
    out.append(f"| **{w('totals', lang)}** | | " + " | ".join(f"**{tot[s]}**" for s in STATUSES) + " |")
    out += ["", f"**{w('legend', lang)}:**", ""]
    out += [f"- **{_status(s, lang)}**: {labels.status_help(s, lang)}" for s in STATUSES]
    out += ["", f"*{w('advisory_note', lang)}*"]
    out += ["", f"**{labels.basis_counts(report, lang)}**", "", f"*{t('basis.note', lang)}*"]
    return out


def _waiver(waiver: dict[str, Any], lang: str) -> list[str]:
    title = w("waiver", lang)
    if not waiver.get("active"):
        title += f" — {w('waiver_expired_short', lang)}"
    out = [
        f"**{title}**",
        "",
        f"- {w('justification', lang)}: {md(waiver.get('justification', ''))}",
        f"- {w('approver', lang)}: {md(waiver.get('approver', ''))}",
        f"- {w('expires', lang)}: {md(waiver.get('expires', ''))}"
        + (f" ({w('waiver_active', lang)})" if waiver.get("active") else ""),
    ]
    under = waiver.get("underlying_status")
    if waiver.get("active") and under:
        out.append(f"- {w('status', lang)}: {w('waived_status', lang, status=labels.status_label(under, lang))}")
    return out


class _Results:
    """Each control result as Markdown lines. A report of 1,000 hosts repeats the same headings,
    clause lines, sentences, findings, reasons and evidence lines thousands of times: each
    distinct one is built and escaped once per render and shared after that."""

    def __init__(self, report: dict[str, Any], lang: str) -> None:
        self.report, self.lang = report, lang
        self.words = {k: w(k, lang) for k in ("clause", "dataset", "advisory", "finding", "because", "evidence")}
        self.heads: dict[tuple[str, str, str | None], str] = {}
        self.wheres: dict[tuple[str, str | None, bool], str] = {}
        self.quotes: dict[str, str] = {}
        self.findings: dict[str, str] = {}
        self.reasons: dict[str, str] = {}
        self.evidence: dict[tuple[str, str], str] = {}

    def lines(self, c: dict[str, Any]) -> list[str]:
        lang, words = self.lang, self.words
        dataset = c.get("dataset")
        key = (c["status"], c["id"], dataset, c.get("basis"))
        head = self.heads.get(key)
        if head is None:
            name = code(c["id"]) + (f" [{md(dataset)}]" if dataset else "")
            basis = labels.basis_label(c, lang)
            head = self.heads[key] = f"#### {_status(c['status'], lang)}{f' ({basis})' if basis else ''}: {name}"
        wkey = (c["clause"], dataset, bool(c.get("advisory")))
        where = self.wheres.get(wkey)
        if where is None:
            where = f"{words['clause']} {md(c['clause'])} {md(labels.clause_title(self.report, c['clause']))}"
            if dataset:
                where += f" · {words['dataset']}: **{md(dataset)}**"
            if c.get("advisory"):
                where += f" · *{words['advisory']}*"
            self.wheres[wkey] = where
        sentence = c.get("sentence", "")
        quote = self.quotes.get(sentence)
        if quote is None:
            quote = self.quotes[sentence] = f"> {md(sentence)}"
        detail = c.get("detail", "")
        finding = self.findings.get(detail)
        if finding is None:
            finding = self.findings[detail] = f"**{words['finding']}:** {md(detail)}"
        out = [head, "", where, "", quote, "", finding, ""]
        if c.get("because"):
            because = self.reasons.get(c["because"])
            if because is None:
                because = self.reasons[c["because"]] = f"*{words['because']}:* {md(c['because'])}"
            out += [because, ""]
        if c.get("evidence"):
            out += self._evidence(c["evidence"])
        if c.get("waiver"):
            out += [*_waiver(c["waiver"], lang), ""]
        if c.get("diff"):
            # One line: a blank line in a path would end the <details> block and start Markdown.
            paths = " ".join(", ".join(d.get("path") or "?" for d in c["diff"]).split())
            out += [
                "<details>",
                f"<summary>{html.escape(w('diff', lang))}: {html.escape(paths)}</summary>",
                "",
                fenced(labels.diff_text(c["diff"], lang), "diff"),
                "",
                "</details>",
                "",
            ]
        return out

    def _evidence(self, evidence: dict[str, Any]) -> list[str]:
        out = [f"**{self.words['evidence']}:**", ""]
        for k, v in evidence.items():
            if isinstance(k, str) and isinstance(v, str):  # the common case: one line, seen before
                line = self.evidence.get((k, v))
                if line is None:
                    [(label, value)] = labels.evidence_items({k: v}, self.lang, lists=True)
                    line = self.evidence[(k, v)] = f"- {md(label)}: {md(value)}"
                out.append(line)
                continue
            for label, value in labels.evidence_items({k: v}, self.lang, lists=True):
                if isinstance(value, list):
                    out += [f"- {md(label)}:", *(f"  - {md(x)}" for x in value)]
                else:
                    out.append(f"- {md(label)}: {md(value)}")
        out.append("")
        return out


def _biv(biv: dict[str, str], lang: str) -> str:
    return ", ".join(f"{a.upper()} ({labels.aspect(a, lang)}): **{md(biv.get(a, '?'))}**" for a in ("b", "i", "v"))


def _hosts(report: dict[str, Any], lang: str, results: _Results) -> list[str]:
    hosts = report.get("hosts", {})
    out = [
        f"## {w('hosts', lang)}",
        "",
        f"| {w('host', lang)} | {w('site', lang)} | {w('findings', lang)} |",
        "|---|---|---|",
    ]
    for name in sorted(hosts):
        h = hosts[name]
        found = _counts(labels.count_statuses(h["controls"]), lang)
        if labels.contact_label(h, lang):
            found = f"**{md(labels.contact_label(h, lang))}**, {found}"
        out.append(f"| {md(name)} | {md(h.get('site') or '–')} | {found} |")
    out.append("")
    for name in sorted(hosts):
        h = hosts[name]
        # the inventory's own subject (data sets no host stores) is no host to contact
        contact = "yes" if h.get("inventory") else {True: "yes", False: "no", None: "not_contacted"}[h["reachable"]]
        title = md(name) + (f" ({md(labels.contact_label(h, lang))})" if labels.contact_label(h, lang) else "")
        out += [
            f"### {title}",
            "",
            f"- **{w('site', lang)}:** {md(h.get('site') or '–')}",
            f"- **{w('classification', lang)}:** {_biv(h['biv'], lang)}",
            *([] if h.get("inventory") or h.get("system_kind") else [f"- **{w('reachable', lang)}:** {w(contact, lang)}"
                                             + (f": {md(h['unreachable_reason'])}" if h.get("unreachable_reason")
                                                else "")]),  # the reason once per host
            f"- **{w('findings', lang)}:** {_counts(labels.count_statuses(h['controls']), lang)}",
            "",
        ]
        for c in labels.sorted_controls(h["controls"]):
            out += results.lines(c)
    return out


def _sites(report: dict[str, Any], lang: str, results: _Results) -> list[str]:
    sites = report.get("sites", {})
    out = [f"## {w('sites', lang)}", ""]
    if not sites:
        out += [w("none", lang), ""]
    for name in sorted(sites):
        s = sites[name]
        kind = w("external", lang) if s.get("external") else w("own_site", lang)
        out += [f"### {md(name)} ({kind})", ""]
        if not s["controls"]:
            out += [w("no_controls", lang), ""]
        for c in labels.sorted_controls(s["controls"]):
            out += results.lines(c)
    return out


def render(report: dict[str, Any], lang: str = "nl") -> str:
    check_lang(lang)
    policy = report.get("policy", {})
    problems = sum(1 for h in report.get("hosts", {}).values() if labels.has_findings(h))
    out = [
        f"# {md(w('report_title', lang, policy=policy.get('title', '')))}",
        "",
        f"{w('generated', lang, date=labels.human_date(report.get('generated_at', ''), lang))} · "
        f"{w('inventory', lang)}: {md(', '.join(report.get('inventory', [])) or '–')}",
        "",
        f"**{w('verdict', lang)}:** {labels.verdict(report, lang)} · "
        f"{w('n_hosts_with_findings', lang, n=problems, total=len(report.get('hosts', {})))}",
        "",
    ]
    if w("policy_words_note", lang):
        out += [f"*{w('policy_words_note', lang)}*", ""]
    out += _summary(report, lang)
    out.append("")
    results = _Results(report, lang)
    out += _hosts(report, lang, results)
    out += _sites(report, lang, results)
    # One join ending in exactly one newline (no copies of the whole text to trim and append).
    while out and out[-1].strip("\n") == "":
        out.pop()
    out[-1] = out[-1].rstrip("\n")
    out.append("")
    return "\n".join(out)
