"""`ivpb audit --metrics FILE.prom` (also `-o FILE.prom`): the report as
Prometheus metrics in the text exposition format, for node_exporter's textfile collector.

  ivpb_audit_timestamp_seconds   when the audit ran: the report's generated_at, Unix time
  ivpb_audit_exit_code           the audit's exit code (0 compliant, 2 drift or missing, 1 errors)
  ivpb_host_reachable            {host} 1 when the check run reached the host, 0 when it was
                                 unreachable; no series for a host no task ran on (reachable null)
  ivpb_control_status            {host, site, control, clause, dataset, advisory, status}: a state
                                 set, one series per status of ivpb.statuses.STATUSES, 1 for the
                                 result's status and 0 for the others, so that an alert matches
                                 `ivpb_control_status{status="drift"} == 1`
  ivpb_evidence_age_seconds      {host, site, control, dataset, evidence}: generated_at minus a
                                 timestamp of the evidence (negative when it lies in the future)
  ivpb_clause_controls           {clause, status}: control results per clause and status
  ivpb_clause_subjects           {clause}: hosts or sites with results under the clause
  ivpb_clause_subjects_compliant {clause}: those of them without a blocking finding
  ivpb_results_by_basis          {basis}: results checked, attested (ivpb attest) and pulled

A site's controls (§5) carry site and an empty host; a host's carry its site (empty when none);
the inventory's own subject (a data set no host stores) is the host the report names it.
Ages are counted from the report's own generation time, never from the clock at render time: the
same report always gives the same file, and a rule that wants the age at scrape time adds
`time() - ivpb_audit_timestamp_seconds`.

Metric names, label names and HELP texts are fixed here and never taken from the report; they are
an interface for machines, like the JSON schema's keys, and stay the same whatever --lang says.
Label values come from the report (hosts, sites, data sets: anything an inventory or a host can
hold) and are escaped as the format requires: backslash, double quote and line feed; a lone
surrogate (a non-UTF-8 name that came back from a host) is written as the text \\udcxx.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ivpb.audit.evaluate import evidence_time
from ivpb.isotime import parse_time
from ivpb.statuses import STATUSES, rank

HELP = {
    "ivpb_audit_timestamp_seconds": "When the ivpb audit ran (the report's generated_at), in seconds since the epoch.",
    "ivpb_audit_exit_code": "Exit code of the ivpb audit: 0 compliant, 2 drift or missing, 1 errors.",
    "ivpb_host_reachable": "1 when the audit's check run reached the host, 0 when it was unreachable.",
    "ivpb_control_status": "Status of a control on a host or site: 1 for the current status, 0 for the others.",
    "ivpb_evidence_age_seconds": "Age of a timestamp in a control's evidence at the time of the audit, in seconds.",
    "ivpb_clause_controls": "Control results per clause of the policy and status.",
    "ivpb_clause_subjects": "Hosts or sites with control results under the clause.",
    "ivpb_clause_subjects_compliant": "Hosts or sites without a blocking finding under the clause.",
    "ivpb_results_by_basis": "Control results (not applicable ones left out) by how they were arrived at: checked, "
                             "attested (ivpb attest) or pulled.",
}
# The evidence keys that carry a time, and where: None for the value itself (an ISO timestamp, or
# 'ok <ISO>' / '2026-2027 <ISO>' as evaluate.evidence_time reads it), else the field of a dict value
# (a drill's start, a failure's {at, reason}, a safety plan's date). By their names, `last_<what>`
# is a timestamp and `<kind>_failed` a failure (so a module's new evidence gets its age without
# an entry here); these are the others.
EVIDENCE_TIMES: dict[str, str | None] = {
    "protected_generation": None,
    "updated": None,
    "last_drill": "started",
    "safety_plan": "date",
    "attestation": "at",
}


def time_field(key: str) -> tuple[bool, str | None]:
    """Whether an evidence key carries a time, and where (see EVIDENCE_TIMES)."""
    if key in EVIDENCE_TIMES:
        return True, EVIDENCE_TIMES[key]
    if key.startswith("last_"):
        return True, None
    return (True, "at") if key.endswith("_failed") else (False, None)
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPE = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n"})


class _Labels(dict):
    """label value -> its escaped form; hosts, sites and control ids repeat on every line."""

    def __missing__(self, value: str) -> str:
        self[value] = escaped = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", value).translate(_ESCAPE)
        return escaped


def _number(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _time(evidence: dict[str, Any], key: str, field: str | None) -> dt.datetime | None:
    raw = evidence.get(key)
    if field is not None:
        raw = raw.get(field) if isinstance(raw, dict) else None
    return evidence_time(raw)


def _results(subject: dict[str, Any]) -> list[dict[str, Any]]:
    """A subject's results, one per control and data set (the most urgent status where a report
    holds two: node_exporter refuses a whole file that repeats a series), sorted."""
    kept: dict[tuple[str, str], dict[str, Any]] = {}
    for c in subject.get("controls", []):
        key = (str(c.get("id", "")), str(c.get("dataset", "")))
        if key not in kept or rank(c.get("status", "")) < rank(kept[key].get("status", "")):
            kept[key] = c
    return [kept[key] for key in sorted(kept)]


def _subject(host: str, site: str, subject: dict[str, Any], now: dt.datetime | None, esc: _Labels,
             out: dict[str, list[str]]) -> None:
    """A host's (or, with host "", a site's) reachability, control statuses and evidence ages."""
    where = f'host="{esc[host]}",site="{esc[site]}"'
    if host and isinstance(subject.get("reachable"), bool):
        out["ivpb_host_reachable"].append(f'ivpb_host_reachable{{host="{esc[host]}"}} {int(subject["reachable"])}')
    for c in _results(subject):
        control = f'{where},control="{esc[str(c.get("id", ""))]}"'
        dataset = f'dataset="{esc[str(c.get("dataset", ""))]}"'
        head = (
            f'ivpb_control_status{{{control},clause="{esc[str(c.get("clause", ""))]}",{dataset},'
            f'advisory="{"true" if c.get("advisory") else "false"}",status="'
        )
        out["ivpb_control_status"] += [f'{head}{s}"}} {int(s == c.get("status"))}' for s in STATUSES]
        evidence = c.get("evidence")
        if now is None or not isinstance(evidence, dict):
            continue
        for key in sorted(k for k in evidence if time_field(k)[0]):
            when = _time(evidence, key, time_field(key)[1])
            if when is not None:
                out["ivpb_evidence_age_seconds"].append(
                    f'ivpb_evidence_age_seconds{{{control},{dataset},evidence="{key}"}} '
                    f"{_number((now - when).total_seconds())}"
                )


def _clauses(summary: dict[str, Any], esc: _Labels, out: dict[str, list[str]]) -> None:
    """The summary's counts per clause."""
    for clause, row in sorted(summary.get("clauses", {}).items()):
        label = f'clause="{esc[str(clause)]}"'
        counts = row.get("counts", {})
        out["ivpb_clause_controls"] += [
            f'ivpb_clause_controls{{{label},status="{s}"}} {_number(counts.get(s, 0))}' for s in STATUSES
        ]
        out["ivpb_clause_subjects"].append(f"ivpb_clause_subjects{{{label}}} {_number(row.get('subjects', 0))}")
        out["ivpb_clause_subjects_compliant"].append(
            f"ivpb_clause_subjects_compliant{{{label}}} {_number(row.get('subjects_compliant', 0))}"
        )


def render(report: dict[str, Any], lang: str = "nl") -> str:
    """Every metric with its HELP and TYPE lines (also one without samples), series sorted by
    subject, control and data set: the same report gives the same bytes."""
    del lang  # names and HELP texts are the same in every language (see the module's doc)
    out: dict[str, list[str]] = {name: [] for name in HELP}
    now = parse_time(report.get("generated_at"))
    if now is not None:
        out["ivpb_audit_timestamp_seconds"].append(f"ivpb_audit_timestamp_seconds {_number(now.timestamp())}")
    if isinstance(report.get("exit_code"), int):
        out["ivpb_audit_exit_code"].append(f"ivpb_audit_exit_code {report['exit_code']}")
    esc = _Labels()
    subjects = [(host, str(h.get("site") or ""), h) for host, h in report.get("hosts", {}).items()]
    subjects += [("", site, s) for site, s in report.get("sites", {}).items()]
    for host, site, subject in sorted(subjects, key=lambda s: (s[0], s[1])):
        _subject(host, site, subject, now, esc, out)
    _clauses(report.get("summary", {}), esc, out)
    for basis, n in sorted((report.get("summary", {}).get("basis") or {}).items()):
        out["ivpb_results_by_basis"].append(f'ivpb_results_by_basis{{basis="{esc[str(basis)]}"}} {_number(n)}')
    lines = []
    for name, samples in out.items():
        lines += [f"# HELP {name} {HELP[name]}", f"# TYPE {name} gauge", *samples]
    lines.append("")  # the final line feed the format asks for
    return "\n".join(lines)
