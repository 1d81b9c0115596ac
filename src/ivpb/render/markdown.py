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

from ivpb.render.labels import (
    ASPECT,
    STATUS,
    STATUS_HELP,
    STATUSES,
    SYMBOL,
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
    w,
)

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
    return f"{SYMBOL.get(status, '')} {STATUS.get(status, {}).get(lang, status)}".strip()


def _counts(counts: dict[str, int], lang: str) -> str:
    parts = [f"{SYMBOL[s]} {counts[s]} {STATUS[s][lang]}" for s in STATUSES if counts.get(s)]
    return ", ".join(parts) if parts else w("no_controls", lang)


def _summary(report: dict[str, Any], lang: str) -> list[str]:
    head = [w("clause", lang), w("comply", lang), *(_status(s, lang) for s in STATUSES)]
    out = [
        f"## {w('summary', lang)}",
        "",
        "| " + " | ".join(head) + " |",
        "|---|---|" + "--:|" * len(STATUSES),
    ]
    for row in clause_rows(report, lang):
        mark = SYMBOL["compliant"] if row["ok"] else SYMBOL["drift"]
        cells = [f"{md(row['id'])} {md(row['title'])}", f"{mark} {row['comply']}",
                 *(str(row["counts"][s] or "") for s in STATUSES)]
        out.append("| " + " | ".join(cells) + " |")
    tot = totals(report)
    out.append(f"| **{w('totals', lang)}** | | " + " | ".join(f"**{tot[s]}**" for s in STATUSES) + " |")
    out += ["", f"**{w('legend', lang)}:**", ""]
    out += [f"- **{_status(s, lang)}**: {STATUS_HELP[s][lang]}" for s in STATUSES]
    out += ["", f"*{w('advisory_note', lang)}*"]
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
        out.append(f"- {w('status', lang)}: {w('waived_status', lang, status=STATUS[under][lang])}")
    return out


def _result(c: dict[str, Any], report: dict[str, Any], lang: str) -> list[str]:
    name = code(c["id"]) + (f" [{md(c['dataset'])}]" if c.get("dataset") else "")
    where = f"{w('clause', lang)} {md(c['clause'])} {md(clause_title(report, c['clause']))}"
    if c.get("dataset"):
        where += f" · {w('dataset', lang)}: **{md(c['dataset'])}**"
    if c.get("advisory"):
        where += f" · *{w('advisory', lang)}*"
    out = [
        f"#### {_status(c['status'], lang)}: {name}",
        "",
        where,
        "",
        f"> {md(c.get('sentence', ''))}",
        "",
        f"**{w('finding', lang)}:** {md(c.get('detail', ''))}",
        "",
    ]
    if c.get("because"):
        out += [f"*{w('because', lang)}:* {md(c['because'])}", ""]
    items = evidence_items(c.get("evidence"), lang, lists=True)
    if items:
        out += [f"**{w('evidence', lang)}:**", ""]
        for label, value in items:
            if isinstance(value, list):
                out += [f"- {md(label)}:", *(f"  - {md(v)}" for v in value)]
            else:
                out.append(f"- {md(label)}: {md(value)}")
        out.append("")
    if c.get("waiver"):
        out += [*_waiver(c["waiver"], lang), ""]
    if c.get("diff"):
        paths = ", ".join(d.get("path") or "?" for d in c["diff"])
        out += [
            "<details>",
            f"<summary>{html.escape(w('diff', lang))}: {html.escape(paths)}</summary>",
            "",
            fenced(diff_text(c["diff"]), "diff"),
            "",
            "</details>",
            "",
        ]
    return out


def _biv(biv: dict[str, str], lang: str) -> str:
    return ", ".join(f"{a.upper()} ({ASPECT[a][lang]}): **{md(biv.get(a, '?'))}**" for a in ("b", "i", "v"))


def _hosts(report: dict[str, Any], lang: str) -> list[str]:
    hosts = report.get("hosts", {})
    out = [f"## {w('hosts', lang)}", "", f"| {w('host', lang)} | {w('site', lang)} | {w('findings', lang)} |",
           "|---|---|---|"]
    for name in sorted(hosts):
        h = hosts[name]
        found = _counts(count_statuses(h["controls"]), lang)
        if not h["reachable"]:
            found = f"**{w('unreachable', lang)}**, {found}"
        out.append(f"| {md(name)} | {md(h.get('site') or '–')} | {found} |")
    out.append("")
    for name in sorted(hosts):
        h = hosts[name]
        title = md(name) + (f" ({w('unreachable', lang)})" if not h["reachable"] else "")
        out += [
            f"### {title}",
            "",
            f"- **{w('site', lang)}:** {md(h.get('site') or '–')}",
            f"- **{w('classification', lang)}:** {_biv(h['biv'], lang)}",
            f"- **{w('reachable', lang)}:** {w('yes' if h['reachable'] else 'no', lang)}",
            f"- **{w('findings', lang)}:** {_counts(count_statuses(h['controls']), lang)}",
            "",
        ]
        for c in sorted_controls(h["controls"]):
            out += _result(c, report, lang)
    return out


def _sites(report: dict[str, Any], lang: str) -> list[str]:
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
        for c in sorted_controls(s["controls"]):
            out += _result(c, report, lang)
    return out


def render(report: dict[str, Any], lang: str = "nl") -> str:
    check_lang(lang)
    policy = report.get("policy", {})
    problems = sum(1 for h in report.get("hosts", {}).values() if has_findings(h))
    out = [
        f"# {md(w('report_title', lang, policy=policy.get('title', '')))}",
        "",
        f"{w('generated', lang, date=human_date(report.get('generated_at', ''), lang))} · "
        f"{w('inventory', lang)}: {md(', '.join(report.get('inventory', [])) or '–')}",
        "",
        f"**{w('verdict', lang)}:** {verdict(report, lang)} · "
        f"{w('n_hosts_with_findings', lang, n=problems, total=len(report.get('hosts', {})))}",
        "",
    ]
    if w("policy_words_note", lang):
        out += [f"*{w('policy_words_note', lang)}*", ""]
    out += _summary(report, lang)
    out.append("")
    out += _hosts(report, lang)
    out += _sites(report, lang)
    return "\n".join(out).rstrip("\n") + "\n"
