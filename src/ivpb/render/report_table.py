"""`ivpb audit --format table`: the compliance diff in a terminal.

Summary per clause first, then per host only what needs attention (drift, missing, error, and
waivers, each with its detail and a one-line hint of the diff), then the sites (§5). Compliant
controls are counted, never listed, so the output stays short for 1,000 hosts.
"""

from __future__ import annotations

import re
from typing import Any

from ivpb.i18n import check_lang
from ivpb.render.labels import (
    basis_counts,
    basis_label,
    biv_short,
    clause_rows,
    contact_label,
    control_name,
    count_statuses,
    counts_text,
    diff_hint,
    has_findings,
    human_date,
    sorted_controls,
    status_short,
    totals,
    unreachable_text,
    verdict,
    w,
    waiver_text,
)
from ivpb.render.text_table import text_table
from ivpb.statuses import NOTEWORTHY, STATUSES

INDENT = "  "
# Text from hosts (details, paths, waivers) may hold anything: no terminal escape sequences.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _clean(text: object) -> str:
    return _CONTROL.sub(lambda m: " " if m.group() in "\n\r\t" else f"\\x{ord(m.group()):02x}", str(text))


def _summary(report: dict[str, Any], lang: str) -> str:
    head = ("§", w("clause", lang), w("comply", lang), *(status_short(s, lang) for s in STATUSES))
    rows: list[tuple[str, ...]] = [head]
    for row in clause_rows(report, lang):
        mark = "✔" if row["ok"] else "✖"
        comply = f"{mark} {row['subjects_compliant']}/{row['subjects']}"
        rows.append((row["id"], row["title"], comply, *(str(row["counts"][s] or "") for s in STATUSES)))
    tot = totals(report)
    rows.append(("", w("totals", lang), "", *(str(tot[s]) for s in STATUSES)))
    return text_table(rows)


def _result_lines(c: dict[str, Any], lang: str, indent: str) -> list[str]:
    status = status_short(c["status"], lang)
    if basis_label(c, lang):
        status += f" ({basis_label(c, lang)})"
    name = control_name(c)
    if c.get("advisory"):
        name += f" ({w('advisory_short', lang)})"
    # a detail from a host stays on its own line (a line break in it must not fake another result)
    lines = [f"{indent}{status:<12} {c['clause']:<3} {_clean(name)}: {_clean(c['detail'])}"]
    pad = indent + " " * 17
    if c.get("diff"):
        lines.append(pad + diff_hint(c["diff"], lang))
    if c.get("waiver"):
        lines.append(pad + f"{w('waiver', lang).lower()}: {_clean(waiver_text(c['waiver'], lang))}")
    return lines


def _hosts(report: dict[str, Any], lang: str) -> list[str]:
    hosts = report.get("hosts", {})
    noteworthy = [name for name in sorted(hosts) if has_findings(hosts[name])]
    out = [w("hosts_with_findings", lang, n=len(noteworthy), total=len(hosts))]
    for name in noteworthy:
        h = hosts[name]
        where = h.get("site") or "-"
        head = f"{INDENT}{name} ({w('site', lang).lower()} {where}; {biv_short(h['biv'])})"
        if contact_label(h, lang):  # the inventory's own subject: no host
            head += f" [{contact_label(h, lang).upper()}]"
        out.append(f"{head}: {counts_text(count_statuses(h['controls']), lang)}")
        if h.get("unreachable_reason"):  # once per host; its controls only say it was unreachable
            out.append(INDENT * 2 + unreachable_text(h, lang))
        for c in sorted_controls(h["controls"]):
            if c["status"] in NOTEWORTHY:
                out.extend(_result_lines(c, lang, INDENT * 2))
    fine = len(hosts) - len(noteworthy)
    if fine:
        out.append(INDENT + w("hosts_all_fine", lang, n=fine))
    return out


def _sites(report: dict[str, Any], lang: str) -> list[str]:
    sites = report.get("sites", {})
    out = [w("sites", lang)]
    if not sites:
        out.append(INDENT + w("none", lang))
    for name in sorted(sites):
        s = sites[name]
        kind = w("external", lang) if s.get("external") else w("own_site", lang)
        out.append(f"{INDENT}{name} ({kind}): {counts_text(count_statuses(s['controls']), lang)}")
        for c in sorted_controls(s["controls"]):
            out.extend(_result_lines(c, lang, INDENT * 2))
    return out


def render(report: dict[str, Any], lang: str = "nl") -> str:
    check_lang(lang)
    policy = report.get("policy", {})
    inventory = ", ".join(report.get("inventory", [])) or "-"
    out = [
        w("report_title", lang, policy=policy.get("title", "")),
        f"{w('generated', lang, date=human_date(report.get('generated_at', ''), lang))}; "
        f"{w('inventory', lang).lower()}: {inventory}",
        f"{w('verdict', lang)}: {verdict(report, lang)} (exit {report.get('exit_code')})",
        "",
        w("summary", lang),
        _summary(report, lang),
        basis_counts(report, lang),
        "",
        *_hosts(report, lang),
        "",
        *_sites(report, lang),
    ]
    return "\n".join(_clean(line) for line in "\n".join(out).split("\n")) + "\n"
