"""The status of a control result: the names, and the one order of urgency every part uses.

The words for each status (voldoet, afwijking, ...) are in the catalogue (words/<lang>.yml,
status.<name>); the names are those of schemas/report.schema.json.
"""

from __future__ import annotations

# The schema's order: the order of the count columns in every report.
STATUSES = ("compliant", "drift", "missing", "waived", "not_applicable", "error")
# Most urgent first: the order results are listed in per host, and when two modules report on
# one control, the first of their statuses in this order stands.
SEVERITY = ("error", "drift", "missing", "waived", "compliant", "not_applicable")
RANK = {status: n for n, status in enumerate(SEVERITY)}
# Statuses that need attention; a subject (host or site) with any of these or a waiver is listed.
PROBLEMS = frozenset({"drift", "missing", "error"})
NOTEWORTHY = PROBLEMS | {"waived"}
# Not colour alone: every status also has a symbol beside its word.
SYMBOL = {
    "compliant": "✔",
    "drift": "✖",
    "missing": "?",
    "waived": "⚑",
    "not_applicable": "–",
    "error": "!",
}


def rank(status: str) -> int:
    """A status's place in SEVERITY; an unknown one counts as an error."""
    return RANK.get(status, 0)
