"""`ivpb fleet`: the audits of many schools in one overview (issue #25), for the contractor who
serves a whole scholengemeenschap.

Each school is an inventory (-i, its sources joined by commas: `-i inventories/x,inventories/lab`)
whose audit history (ivpb.history) holds its audits, or a report an audit job left (--report: a
JSON report of `ivpb audit -o` or `ivpb.backupbeleid.audit`, or an ansible-runner artifacts
folder). Per school: the newest audit's compliance per clause, what is not in order, the oldest
evidence it rests on, and the dates of the audits. Rendered by ivpb.render.fleet (JSON, HTML).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ivpb.errors import UsageError
from ivpb.render.labels import clause_sort_key as _clause_key

NOT_IN_ORDER = ("error", "missing", "drift")  # what the overview lists per school, worst first
JUDGED = frozenset({"compliant", "drift"})  # results judged on their evidence (a waiver's is old by design)
FORMAT = 1


def from_history(sources: list[str]) -> dict[str, Any]:
    """A school from its audit history: its newest full audit (or newest limited one), and every audit's date."""
    from ivpb.history.commands import history_path
    from ivpb.history.store import Store

    path = history_path(sources, None)
    school = {"school": school_name(sources), "inventory": sources, "source": str(path)}
    if not path.is_file():
        return {**school, "audits": [], "report": None}
    store = Store.open(path)
    try:
        entries = store.entries()
        if not entries:
            return {**school, "audits": [], "report": None}
        newest = next((e for e in reversed(entries) if e.limit is None), entries[-1])
        report = store.report(newest.id)
    finally:
        store.close()
    audits = [{"id": e.id, "generated_at": e.generated_at, "limit": e.limit, "exit_code": e.exit_code}
              for e in entries]
    return {**school, "audits": audits, "report": report}


def from_report(path: Path) -> dict[str, Any]:
    """A school from one report: a JSON file, or the artifacts folder of an audit job."""
    from ivpb.audit.artifacts import read_report

    report = read_report(path)
    sources = [str(s) for s in report.get("inventory") or []]
    audits = [{"id": None, "generated_at": report["generated_at"], "limit": None, "exit_code": report["exit_code"]}]
    return {"school": school_name(sources) or path.stem, "inventory": sources, "source": str(path),
            "audits": audits, "report": report}


def school_name(sources: list[str]) -> str:
    """The school's name: its first inventory source's folder name (inventories/<school>)."""
    return Path(sources[0]).name if sources else ""


def overview(schools: list[dict[str, Any]]) -> dict[str, Any]:
    """The fleet document (JSON): per school what its newest audit says; exit code 1 when a school
    has no audit or its audit has errors, else 2 when one has drift or missing, else 0."""
    rows = [_school(s) for s in schools]
    clauses: dict[str, str] = {}
    for row in rows:
        for clause, c in row["clauses"].items():
            clauses.setdefault(clause, c["title"])
    codes = [r["exit_code"] for r in rows]
    exit_code = 1 if any(c in (None, 1) for c in codes) else 2 if 2 in codes else 0
    return {"fleet_format": FORMAT, "clauses": dict(sorted(clauses.items(), key=lambda kv: _clause_key(kv[0]))),
            "schools": rows, "exit_code": exit_code}


def _school(school: dict[str, Any]) -> dict[str, Any]:
    report = school["report"]
    row = {k: school[k] for k in ("school", "inventory", "source", "audits")}
    if report is None:
        return {**row, "generated_at": None, "exit_code": None, "totals": {}, "clauses": {}, "not_in_order": [],
                "oldest_evidence": None}
    summary = report["summary"]
    return {**row, "generated_at": report["generated_at"], "exit_code": report["exit_code"],
            "totals": summary["totals"],
            "clauses": {c: {"title": v["title"], "counts": v["counts"], "subjects": v["subjects"],
                            "subjects_compliant": v["subjects_compliant"]} for c, v in summary["clauses"].items()},
            "not_in_order": _not_in_order(report), "oldest_evidence": _oldest(report)}


def _results(report: dict[str, Any]):
    for kind in ("hosts", "sites"):
        for subject, entry in report[kind].items():
            for c in entry["controls"]:
                yield subject, c


def _not_in_order(report: dict[str, Any]) -> list[dict[str, Any]]:
    out = [{"subject": subject, "control": c["id"], "dataset": c.get("dataset"), "clause": c["clause"],
            "status": c["status"], "detail": c.get("detail", ""), "advisory": bool(c.get("advisory"))}
           for subject, c in _results(report) if c["status"] in NOT_IN_ORDER]
    return sorted(out, key=lambda r: (NOT_IN_ORDER.index(r["status"]), _clause_key(r["clause"]), r["subject"],
                                      r["control"], r["dataset"] or ""))


def _oldest(report: dict[str, Any]) -> dict[str, Any] | None:
    """The oldest point in time the newest audit's judged evidence rests on (a last backup, a
    verify, a safety plan's date...): the evidence that most needs renewing."""
    from ivpb.isotime import parse_time

    oldest = None
    for subject, c in _results(report):
        if c["status"] not in JUDGED:
            continue
        for key, value in _stamps(c.get("evidence")):
            when = parse_time(value)
            if when is not None and (oldest is None or when < oldest[0]):
                oldest = (when, {"subject": subject, "control": c["id"], "dataset": c.get("dataset"),
                                 "evidence": key, "at": value})
    return oldest[1] if oldest else None


def _stamps(evidence: Any, prefix: str = ""):
    """(key path, value) of every text in evidence that may be a timestamp."""
    if isinstance(evidence, dict):
        for key, value in evidence.items():
            yield from _stamps(value, f"{prefix}{key}" if not prefix else f"{prefix}.{key}")
    elif isinstance(evidence, str) and len(evidence) >= 10 and evidence[:4].isdigit() and evidence[4] == "-":
        yield prefix, evidence


def main(args) -> int:
    from ivpb.output import write_file
    from ivpb.render import fleet as render_fleet
    from ivpb.render.formats import EXTENSIONS

    schools = [from_history([s for s in school.split(",") if s]) for school in args.inventory]
    schools += [from_report(Path(r)) for r in args.reports]
    doc = overview(schools)
    for out in args.output:
        fmt = EXTENSIONS.get(Path(out).suffix.lower())
        if fmt not in render_fleet.FORMATS:
            raise UsageError(f"--output {out}: expected a file name ending in .json or .html")
        write_file(Path(out), render_fleet.render(doc, fmt, args.lang))
    sys.stdout.write(render_fleet.render(doc, args.format, args.lang))
    return doc["exit_code"]

