"""What the report renderers (table, Markdown, HTML, JUnit) share: their words, looked up in the
catalogue (words/<lang>.yml, through ivpb.i18n), and the formatting of dates, evidence and diffs.

Labels (statuses, headings, column names) are Dutch by default and English on request. The
policy's own words -- clause titles (Stroomvoorziening), level names (noodzakelijk), the quoted
Dutch sentences -- come from the report and are never translated.

Everything here works on the report dict validated by ``schemas/report.schema.json``.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import lru_cache
from typing import Any

from ivpb.i18n import catalogue, t
from ivpb.statuses import NOTEWORTHY, STATUSES, rank

_ISO = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d:\d\d(?::\d\d)?)(?:\.\d+)?(Z|[+-]\d\d:?\d\d)?$")
VERDICT = {0: "report.verdict_0", 1: "report.verdict_1", 2: "report.verdict_2"}


def w(key: str, lang: str, **kwargs: object) -> str:
    """A word of the reports: report.<key> in the catalogue."""
    return t(f"report.{key}", lang, **kwargs)


def unreachable_text(host: dict[str, Any], lang: str) -> str:
    """Why a host could not be reached, the one place a report says it (its unreachable_reason)."""
    return t("finding.unreachable", lang, msg=host["unreachable_reason"])


def basis_label(result: dict[str, Any], lang: str) -> str:
    """How a result was arrived at, when not checked on a managed host: "verklaard" (attested),
    "opgehaald" (pulled); "" for a checked one. Every report shows it beside the status."""
    basis = result.get("basis")
    return t(f"basis.{basis}", lang) if basis in ("attested", "pulled") else ""


def basis_counts(report: dict[str, Any], lang: str) -> str:
    """'Op basis van: 40 gecontroleerd, 12 verklaard, 0 opgehaald': the summary's counts per basis."""
    counts = report.get("summary", {}).get("basis") or {}
    parts = ", ".join(f"{int(counts.get(b, 0))} {t(f'basis.{b}', lang)}" for b in ("checked", "attested", "pulled"))
    return t("basis.summary", lang, counts=parts)


def contact_label(host: dict[str, Any], lang: str) -> str:
    """Why a host was not reached, for its heading: unreachable, not contacted, or a system ivpb
    does not manage (which nothing contacts); "" for a host reached or the inventory's subject."""
    if host.get("system_kind"):
        return w("unmanaged", lang, kind=host["system_kind"])
    if host.get("reachable") is True or host.get("inventory"):
        return ""
    return w("unreachable" if host.get("reachable") is False else "not_contacted", lang)


def status_label(status: str, lang: str) -> str:
    return catalogue(lang).get(f"status.{status}", status)


def status_short(status: str, lang: str) -> str:
    """The status for a table column: status_short.<status> where there is one."""
    return catalogue(lang).get(f"status_short.{status}") or status_label(status, lang)


def status_help(status: str, lang: str) -> str:
    """What a status means, for readers who are not engineers."""
    return t(f"status_help.{status}", lang)


def aspect(a: str, lang: str) -> str:
    """An aspect of the BIV classification (b, i, v); the level names themselves stay Dutch."""
    return t(f"aspect.{a}", lang)


def human_date(value: str, lang: str) -> str:
    """'2026-11-30T06:00:00Z' -> '30 november 2026, 06:00 UTC' (left as it is when not ISO 8601)."""
    m = _ISO.match(value or "")
    if not m:
        return value
    year, month, day, clock, tz = m.groups()
    tz = "UTC" if tz in (None, "Z", "+00:00", "+0000") else tz
    month_name = t("months", lang)[int(month) - 1]
    return f"{int(day)} {month_name} {year}, {clock[:5]} {tz}"


def human_value(value: Any, lang: str = "nl") -> str:
    """One readable line for an evidence value."""
    if isinstance(value, bool):
        return "✔" if value else "✖"
    if value is None:
        return "–"
    if isinstance(value, str):
        m = _ISO.match(value) if len(value) >= 16 and value[4:5] == "-" else None
        if m:
            year, month, day, clock, tz = m.groups()
            tz = "UTC" if tz in (None, "Z", "+00:00", "+0000") else tz
            return f"{year}-{month}-{day} {clock} {tz}"
        return value
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(human_value(v, lang) for v in value) if value else "–"
    if isinstance(value, dict) and all(not isinstance(v, dict | list) for v in value.values()):
        return "; ".join(f"{evidence_key(str(k), lang)}: {human_value(v, lang)}" for k, v in value.items()) or "–"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def evidence_key(key: str, lang: str) -> str:
    """The label of an evidence key (evidence_key.<key> in the catalogue); an unknown key as it is,
    with spaces for underscores."""
    return catalogue(lang).get(f"evidence_key.{key}") or key.replace("_", " ")


def evidence_items(evidence: dict[str, Any] | None, lang: str, lists: bool = False) -> list[tuple[str, Any]]:
    """(label, readable value) for each piece of evidence, in the order the check reported them.

    With lists=True a non-empty list of plain values stays a list of strings (for a bulleted list).
    """
    if not evidence:
        return []
    items: list[tuple[str, Any]] = []
    for k, v in evidence.items():
        if lists and isinstance(v, list) and v and all(not isinstance(x, dict | list) for x in v):
            items.append((evidence_key(str(k), lang), [human_value(x, lang) for x in v]))
        else:
            items.append((evidence_key(str(k), lang), human_value(v, lang)))
    return items


def evidence_line(evidence: dict[str, Any] | None, lang: str) -> str:
    return "; ".join(f"{k}: {v}" for k, v in evidence_items(evidence, lang))


def diff_text(diff: list[dict[str, str]] | None, lang: str) -> str:
    """The change enforcing would make, as a unified diff (one block per path), its two sides
    named in lang."""
    if not diff:
        return ""
    blocks = []
    for n, entry in enumerate(diff):
        path = entry.get("path") or f"#{n + 1}"
        before = entry.get("before", "")
        after = entry.get("after", "")
        lines = list(
            difflib.unified_diff(
                before.splitlines(),
                after.splitlines(),
                fromfile=f"{path} ({t('diff.before', lang)})" if before else "/dev/null",
                tofile=f"{path} ({t('diff.after', lang)})",
                lineterm="",
            )
        )
        if not lines:  # identical text: still show what was reported
            lines = [f"--- {path}", f"+++ {path}", *(f" {line}" for line in after.splitlines())]
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


class DiffsOnce:
    """Each distinct file change once per report: one module run reports its whole diff under every
    control it enforces (a backup job's 43 KB script under each of its data sets' controls), so
    the first result that carries a change shows it and later ones name that first one."""

    def __init__(self) -> None:
        self.seen: dict[str, Any] = {}

    def split(self, diff: list[dict[str, str]], here: Any) -> tuple[list[dict[str, str]], list[tuple[Any, list[str]]]]:
        """(the entries of diff not shown before, which are shown `here`; per earlier place, in the
        order first met, the paths of the entries shown there)."""
        new: list[dict[str, str]] = []
        earlier: dict[int, tuple[Any, list[str]]] = {}
        for entry in diff:
            key = json.dumps(entry, sort_keys=True, ensure_ascii=False)
            where = self.seen.setdefault(key, here)
            if where is here:
                new.append(entry)
            else:
                earlier.setdefault(id(where), (where, []))[1].append(entry.get("path") or "?")
        return new, list(earlier.values())


# Evidence for the contractor rather than the school (cron lines, routes, timeouts, upsc errors), shown folded
# under "technische details" in the HTML report with every value only JSON can show.
TECHNICAL_KEYS = frozenset({"schedule", "verify_schedule", "route", "probe_timeout_s", "unreached"})


def is_technical(key: str, value: Any) -> bool:
    """Whether an evidence item is a technical detail: a TECHNICAL_KEYS key, or a value human_value
    can only show as JSON (a mapping or list holding mappings or lists)."""
    if key in TECHNICAL_KEYS:
        return True
    inner = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return any(isinstance(v, dict | list) for v in inner)


def diff_hint(diff: list[dict[str, str]] | None, lang: str) -> str:
    """One line: which paths would change and how many lines (+added -removed)."""
    if not diff:
        return ""
    parts = []
    for n, entry in enumerate(diff):
        before = entry.get("before", "").splitlines()
        after = entry.get("after", "").splitlines()
        added = removed = 0
        for line in difflib.unified_diff(before, after, lineterm="", n=0):
            if line.startswith("+") and not line.startswith("+++"):
                added += 1
            elif line.startswith("-") and not line.startswith("---"):
                removed += 1
        parts.append(f"{entry.get('path') or '#' + str(n + 1)} (+{added} -{removed})")
    return f"{w('diff_hint', lang)}: " + ", ".join(parts)


def waiver_text(waiver: dict[str, Any] | None, lang: str) -> str:
    if not waiver:
        return ""
    fields = {k: waiver.get(k, "?") for k in ("justification", "approver", "expires")}
    text = w("waiver_text" if waiver.get("active") else "waiver_expired", lang, **fields)
    under = waiver.get("underlying_status")
    if waiver.get("active") and under:
        text += f"; {w('waived_status', lang, status=status_label(under, lang))}"
    return text


def control_name(result: dict[str, Any]) -> str:
    """'backup.daily [leerlingenadministratie]' or 'power.ups'."""
    ds = result.get("dataset")
    return f"{result['id']} [{ds}]" if ds else result["id"]


def biv_text(biv: dict[str, str], lang: str) -> str:
    return ", ".join(f"{a.upper()} ({aspect(a, lang)}): {biv.get(a, '?')}" for a in ("b", "i", "v"))


def biv_short(biv: dict[str, str]) -> str:
    return " ".join(f"{a.upper()}={biv.get(a, '?')}" for a in ("b", "i", "v"))


def clause_title(report: dict[str, Any], clause: str) -> str:
    titles = report.get("policy", {}).get("clauses", {})
    if clause in titles:
        return titles[clause]
    return report.get("summary", {}).get("clauses", {}).get(clause, {}).get("title", "")


@lru_cache(maxsize=256)  # a handful of clauses, one key per result sorted
def clause_sort_key(clause: str) -> tuple[int, str]:
    digits = re.sub(r"\D", "", clause)
    return (int(digits) if digits else 10**6, clause)


def site_clauses(report: dict[str, Any]) -> set[str]:
    """Clauses whose subjects are sites (§5), not hosts."""
    return {c["clause"] for s in report.get("sites", {}).values() for c in s.get("controls", [])}


def clause_rows(report: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The summary per clause, in clause order, ready for a renderer."""
    clauses = report.get("summary", {}).get("clauses", {})
    on_sites = site_clauses(report)
    order = sorted(set(clauses) | set(report.get("policy", {}).get("clauses", {})), key=clause_sort_key)
    rows = []
    for cid in order:
        entry = clauses.get(cid, {"counts": {}, "subjects": 0, "subjects_compliant": 0})
        counts = {s: int(entry.get("counts", {}).get(s, 0)) for s in STATUSES}
        x, y = entry.get("subjects_compliant", 0), entry.get("subjects", 0)
        rows.append(
            {
                "id": cid,
                "title": entry.get("title") or clause_title(report, cid),
                "counts": counts,
                "subjects": y,
                "subjects_compliant": x,
                "comply": w("x_of_y_sites" if cid in on_sites else "x_of_y_hosts", lang, x=x, y=y),
                "ok": x == y,
            }
        )
    return rows


def totals(report: dict[str, Any]) -> dict[str, int]:
    counts = report.get("summary", {}).get("totals", {})
    return {s: int(counts.get(s, 0)) for s in STATUSES}


def count_statuses(controls: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for c in controls:
        counts[c["status"]] = counts.get(c["status"], 0) + 1
    return counts


def counts_text(counts: dict[str, int], lang: str) -> str:
    """'14 voldoet, 2 afwijking' -- only the statuses that occur."""
    parts = [f"{counts[s]} {status_label(s, lang)}" for s in STATUSES if counts.get(s)]
    return ", ".join(parts) if parts else w("none", lang)


def has_findings(host: dict[str, Any]) -> bool:
    """Drift, missing, error or a waiver to show, or the host could not be reached. A host not
    contacted (reachable null: no task ran on it) is no finding by itself: what was planned for it
    is an error then, and with nothing planned there was nothing to check on it."""
    return host.get("reachable") is False or any(c["status"] in NOTEWORTHY for c in host.get("controls", []))


def sorted_controls(controls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Most urgent first, then by clause, keeping the audit's order within equal keys."""
    return sorted(controls, key=lambda c: (rank(c["status"]), clause_sort_key(c["clause"])))


def verdict(report: dict[str, Any], lang: str) -> str:
    return t(VERDICT.get(report.get("exit_code", 1), VERDICT[1]), lang)
