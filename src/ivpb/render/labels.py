"""Words and formatting shared by the report renderers (table, Markdown, HTML, JUnit).

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

# Schema order: the order of the count columns.
STATUSES = ("compliant", "drift", "missing", "waived", "not_applicable", "error")
# Most urgent first: the order controls are listed in per host.
SEVERITY = ("error", "drift", "missing", "waived", "compliant", "not_applicable")
PROBLEMS = frozenset({"drift", "missing", "error"})
# A subject (host or site) is listed per host when it has any of these.
NOTEWORTHY = frozenset({"drift", "missing", "error", "waived"})

STATUS: dict[str, dict[str, str]] = {
    "compliant": {"nl": "voldoet", "en": "compliant"},
    "drift": {"nl": "afwijking", "en": "drift"},
    "missing": {"nl": "ontbreekt", "en": "missing"},
    "waived": {"nl": "uitzondering", "en": "waived"},
    "not_applicable": {"nl": "niet van toepassing", "en": "not applicable"},
    "error": {"nl": "fout", "en": "error"},
}
# Short forms for table columns.
STATUS_SHORT: dict[str, dict[str, str]] = {
    **STATUS,
    "not_applicable": {"nl": "n.v.t.", "en": "n/a"},
}
# What each status means, for readers who are not engineers.
STATUS_HELP: dict[str, dict[str, str]] = {
    "compliant": {"nl": "de maatregel is in orde", "en": "the control is in place"},
    "drift": {
        "nl": "de toestand wijkt af van het beleid; afdwingen zou dit rechtzetten",
        "en": "the state differs from the policy; enforcing would correct it",
    },
    "missing": {
        "nl": "de inventaris mist gegevens die de maatregel nodig heeft",
        "en": "the inventory lacks what the control needs",
    },
    "waived": {
        "nl": "goedgekeurde uitzondering, met verantwoording en vervaldatum",
        "en": "approved waiver, with justification and expiry date",
    },
    "not_applicable": {"nl": "geldt niet voor dit toestel", "en": "does not apply here"},
    "error": {
        "nl": "kon niet gecontroleerd worden (toestel onbereikbaar of controle mislukt)",
        "en": "could not be checked (host unreachable or check failed)",
    },
}
# Not colour alone: every status also has a symbol and a word.
SYMBOL = {
    "compliant": "✔",
    "drift": "✖",
    "missing": "?",
    "waived": "⚑",
    "not_applicable": "–",
    "error": "!",
}

WORDS: dict[str, dict[str, str]] = {
    "report_title": {"nl": "Nalevingsrapport {policy}", "en": "Compliance report {policy}"},
    "generated": {"nl": "Opgemaakt op {date}", "en": "Generated on {date}"},
    "inventory": {"nl": "Inventaris", "en": "Inventory"},
    "verdict": {"nl": "Resultaat", "en": "Result"},
    "verdict_0": {
        "nl": "alles voldoet (of is een goedgekeurde uitzondering)",
        "en": "everything complies (or is an approved waiver)",
    },
    "verdict_2": {"nl": "er zijn afwijkingen of ontbrekende gegevens", "en": "there is drift or missing information"},
    "verdict_1": {
        "nl": "sommige controles konden niet uitgevoerd worden",
        "en": "some checks could not be carried out",
    },
    "summary": {"nl": "Samenvatting per artikel", "en": "Summary per clause"},
    "totals": {"nl": "Totaal", "en": "Total"},
    "clause": {"nl": "Artikel", "en": "Clause"},
    "comply": {"nl": "Voldoen", "en": "Comply"},
    "x_of_y_hosts": {"nl": "{x} van {y} hosts voldoen", "en": "{x} of {y} hosts comply"},
    "x_of_y_sites": {"nl": "{x} van {y} locaties voldoen", "en": "{x} of {y} sites comply"},
    "legend": {"nl": "Betekenis van de statussen", "en": "What the statuses mean"},
    "hosts": {"nl": "Per host", "en": "Per host"},
    "hosts_overview": {"nl": "Overzicht van de hosts", "en": "Hosts at a glance"},
    "hosts_with_findings": {
        "nl": "Hosts met bevindingen ({n} van {total})",
        "en": "Hosts with findings ({n} of {total})",
    },
    "hosts_all_fine": {
        "nl": "{n} hosts zonder bevindingen (alles voldoet of is niet van toepassing)",
        "en": "{n} hosts without findings (everything complies or does not apply)",
    },
    "sites": {"nl": "Locaties (§5 Brandveiligheid)", "en": "Sites (§5 Brandveiligheid, fire safety)"},
    "host": {"nl": "Host", "en": "Host"},
    "site": {"nl": "Locatie", "en": "Site"},
    "external": {"nl": "externe locatie", "en": "external site"},
    "own_site": {"nl": "eigen locatie", "en": "own site"},
    "classification": {"nl": "Classificatie (BIV)", "en": "Classification (BIV)"},
    "reachable": {"nl": "Bereikbaar", "en": "Reachable"},
    "yes": {"nl": "ja", "en": "yes"},
    "no": {"nl": "nee", "en": "no"},
    "unreachable": {"nl": "onbereikbaar", "en": "unreachable"},
    "status": {"nl": "Status", "en": "Status"},
    "control": {"nl": "Maatregel", "en": "Control"},
    "dataset": {"nl": "Dataset", "en": "Data set"},
    "finding": {"nl": "Bevinding", "en": "Finding"},
    "sentence": {"nl": "Beleidstekst", "en": "Policy text (Dutch)"},
    "because": {"nl": "Waarom van toepassing", "en": "Why it applies"},
    "evidence": {"nl": "Bewijs", "en": "Evidence"},
    "diff": {"nl": "Wijziging die afdwingen zou doorvoeren", "en": "Change that enforcing would make"},
    "diff_hint": {"nl": "wijziging", "en": "diff"},
    "waiver": {"nl": "Uitzondering", "en": "Waiver"},
    "waiver_text": {
        "nl": "{justification} (goedgekeurd door {approver}, geldig tot {expires})",
        "en": "{justification} (approved by {approver}, valid until {expires})",
    },
    "waiver_expired": {
        "nl": "VERLOPEN op {expires}, geldt niet meer: {justification} (goedgekeurd door {approver})",
        "en": "EXPIRED on {expires}, no longer applies: {justification} (approved by {approver})",
    },
    "waived_status": {"nl": "zonder uitzondering: {status}", "en": "without the waiver: {status}"},
    "advisory": {"nl": "advies, niet blokkerend", "en": "advisory, not blocking"},
    "advisory_short": {"nl": "advies", "en": "advisory"},
    "advisory_note": {
        "nl": "Een maatregel met ‘advies’ (het beleid zegt ‘indien mogelijk’) wordt gemeld maar telt niet mee "
        "om te bepalen of een host voldoet.",
        "en": "A control marked ‘advisory’ (the policy says ‘indien mogelijk’, if possible) is reported but does "
        "not count against a host's compliance.",
    },
    "no_controls": {"nl": "geen maatregelen van toepassing", "en": "no controls apply"},
    "filter": {"nl": "Toon status:", "en": "Show status:"},
    "back_to_top": {"nl": "naar boven", "en": "back to top"},
    "contents": {"nl": "Inhoud", "en": "Contents"},
    "policy_words_note": {
        "nl": "",
        "en": "The policy's own words (clause titles, level names, quoted sentences) are kept in Dutch.",
    },
    "none": {"nl": "(geen)", "en": "(none)"},
    "justification": {"nl": "Verantwoording", "en": "Justification"},
    "approver": {"nl": "Goedgekeurd door", "en": "Approved by"},
    "expires": {"nl": "Geldig tot", "en": "Valid until"},
    "waiver_active": {"nl": "geldig", "en": "in force"},
    "waiver_expired_short": {
        "nl": "VERLOPEN: geldt niet meer, de status hierboven telt",
        "en": "EXPIRED: no longer applies, the status above counts",
    },
    "findings": {"nl": "Maatregelen", "en": "Controls"},
    "n_hosts_with_findings": {
        "nl": "{n} van {total} hosts met bevindingen",
        "en": "{n} of {total} hosts with findings",
    },
    "show_fine_hosts": {"nl": "ook hosts zonder bevindingen", "en": "also hosts without findings"},
    "catalogue": {"nl": "Maatregelen en beleidstekst", "en": "Controls and policy text (Dutch)"},
}

# The aspects of the BIV classification; the level names themselves stay Dutch.
ASPECT = {
    "b": {"nl": "beschikbaarheid", "en": "availability"},
    "i": {"nl": "integriteit", "en": "integrity"},
    "v": {"nl": "vertrouwelijkheid", "en": "confidentiality"},
}

# Evidence keys the audit modules report; unknown keys are shown with underscores as spaces.
EVIDENCE_KEY: dict[str, dict[str, str]] = {
    "last_backup": {"nl": "laatste backup", "en": "last backup"},
    "last_full": {"nl": "laatste volledige backup", "en": "last full backup"},
    "last_sync": {"nl": "laatste synchronisatie", "en": "last sync"},
    "target": {"nl": "doel", "en": "target"},
    "targets": {"nl": "doelen", "en": "targets"},
    "schedule": {"nl": "planning", "en": "schedule"},
    "age_hours": {"nl": "ouderdom (uur)", "en": "age (hours)"},
    "max_age_hours": {"nl": "maximale ouderdom (uur)", "en": "maximum age (hours)"},
    "monitored": {"nl": "bewaakte UPS'en", "en": "monitored UPSes"},
    "reachable": {"nl": "bereikbaar", "en": "reachable"},
    "status": {"nl": "status", "en": "status"},
    "active_uplink": {"nl": "actieve internetverbinding", "en": "active uplink"},
    "uplinks": {"nl": "internetverbindingen", "en": "uplinks"},
    "measures": {"nl": "maatregelen", "en": "measures"},
    "safety_plan": {"nl": "veiligheidsplan", "en": "safety plan"},
    "reference": {"nl": "referentie", "en": "reference"},
    "date": {"nl": "datum", "en": "date"},
    "recipient": {"nl": "ontvanger", "en": "recipient"},
    "key": {"nl": "sleutel", "en": "key"},
    "keys": {"nl": "sleutels", "en": "keys"},
    "error": {"nl": "fout", "en": "error"},
    "generations": {"nl": "bewaarde generaties", "en": "generations kept"},
    "last_restore_test": {"nl": "laatste hersteltest", "en": "last restore test"},
    "lag_seconds": {"nl": "achterstand (seconden)", "en": "lag (seconds)"},
    "sla": {"nl": "SLA", "en": "SLA"},
    "hook": {"nl": "hook", "en": "hook"},
    "review_date": {"nl": "herzieningsdatum", "en": "review date"},
    "on_battery": {"nl": "op batterij", "en": "on battery"},
}

MONTHS = {
    "nl": (
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}

_ISO = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d:\d\d(?::\d\d)?)(?:\.\d+)?(Z|[+-]\d\d:?\d\d)?$")


def check_lang(lang: str) -> str:
    if lang not in ("nl", "en"):
        raise ValueError(f"unknown report language {lang!r}: expected 'nl' or 'en'")
    return lang


def w(key: str, lang: str, **kwargs: object) -> str:
    text = WORDS[key][lang]
    return text.format(**kwargs) if kwargs else text


def status_label(status: str, lang: str) -> str:
    return STATUS.get(status, {}).get(lang, status)


def human_date(value: str, lang: str) -> str:
    """'2026-11-30T06:00:00Z' -> '30 november 2026, 06:00 UTC' (left as it is when not ISO 8601)."""
    m = _ISO.match(value or "")
    if not m:
        return value
    year, month, day, clock, tz = m.groups()
    tz = "UTC" if tz in (None, "Z", "+00:00", "+0000") else tz
    month_name = MONTHS[lang][int(month) - 1]
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
    known = EVIDENCE_KEY.get(key)
    return known[lang] if known else key.replace("_", " ")


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


def diff_text(diff: list[dict[str, str]] | None) -> str:
    """The change enforcing would make, as a unified diff (one block per path)."""
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
                fromfile=f"{path} (nu)" if before else "/dev/null",
                tofile=f"{path} (na afdwingen)",
                lineterm="",
            )
        )
        if not lines:  # identical text: still show what was reported
            lines = [f"--- {path}", f"+++ {path}", *(f" {line}" for line in after.splitlines())]
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


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
    return ", ".join(f"{a.upper()} ({ASPECT[a][lang]}): {biv.get(a, '?')}" for a in ("b", "i", "v"))


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
    parts = [f"{counts[s]} {STATUS[s][lang]}" for s in STATUSES if counts.get(s)]
    return ", ".join(parts) if parts else w("none", lang)


def has_findings(host: dict[str, Any]) -> bool:
    """Drift, missing, error or a waiver to show, or the host could not be reached."""
    return not host.get("reachable", True) or any(c["status"] in NOTEWORTHY for c in host.get("controls", []))


def sorted_controls(controls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Most urgent first, then by clause, keeping the audit's order within equal keys."""
    rank = {s: n for n, s in enumerate(SEVERITY)}
    return sorted(controls, key=lambda c: (rank.get(c["status"], 0), clause_sort_key(c["clause"])))


def verdict(report: dict[str, Any], lang: str) -> str:
    return w(f"verdict_{report.get('exit_code', 1)}", lang)
