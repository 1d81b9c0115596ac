"""What changed between two audits: which earlier audit to compare with, and the comparison.

A result is known by its subject (host or site), control id and data set. In order means
compliant, waived or not applicable; not in order means drift, missing or error. Each result of
either report falls in one category:

  new_failures  in order before, not in order now (exit 2, unless every one is advisory)
  fixed         not in order before, in order now
  still_open    not in order before and now (the status may have changed: drift -> error)
  changed       in order before and now, with another status (compliant -> waived)
  appeared      only in the later report (a new host, site, data set or control)
  disappeared   only in the earlier one

Audits of different hosts (--limit) are compared on the hosts and sites both hold, so that hosts
left out of a limited audit do not count as gone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ivpb.errors import UserError
from ivpb.history.store import Entry
from ivpb.render.labels import clause_sort_key
from ivpb.statuses import PROBLEMS, STATUSES

FORMAT = "ivpb-diff/1"
IN_ORDER = frozenset(STATUSES) - PROBLEMS
CATEGORIES = ("new_failures", "fixed", "still_open", "changed", "appeared", "disappeared")
EXIT_REGRESSED = 2

Key = tuple[str, str, str, str]  # kind (host, site), subject, control id, data set ("" for none)


def parse_since(value: str) -> str | int:
    """--since: "last", an audit's number, or a date or time (UTC unless it has an offset), the
    latest moment an audit compared with may have run (a date: the end of that day, UTC)."""
    if value == "last":
        return value
    if value.isdigit():
        return int(value)
    try:
        if len(value) == 10:
            return f"{dt.date.fromisoformat(value).isoformat()}T23:59:59Z"
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r}: expected last, an audit's number or a date (YYYY-MM-DD[THH:MM])") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pick(entries: list[Entry], since: str | int, where: str) -> tuple[Entry, Entry]:
    """(earlier, newest): the newest audit and the one --since names. `last` and a date only pick
    an audit that asked every host the newest asked (Entry.covers); a number picks that audit."""
    if not entries:
        raise UserError(f"{where}: no audit recorded yet")
    newest = entries[-1]
    earlier = [e for e in entries[:-1] if e.covers(newest)]
    hosts = f" of every host of --limit {newest.limit}" if newest.limit is not None else ""
    if since == "last":
        if not earlier:
            raise UserError(f"{where}: no audit{hosts} before audit {newest.id} to compare it with")
        return earlier[-1], newest
    if isinstance(since, int):
        found = next((e for e in entries if e.id == since), None)
        if found is None:
            raise UserError(f"{where}: no audit {since} (ivpb history lists them)")
        if found is newest:
            raise UserError(f"{where}: audit {since} is the newest; --since names an earlier one")
        return found, newest
    before = [e for e in earlier if e.generated_at <= since]
    if not before:
        raise UserError(f"{where}: no audit{hosts} at or before {since} (ivpb history lists them)")
    return before[-1], newest


def results(report: dict[str, Any]) -> dict[Key, dict[str, Any]]:
    out = {}
    for kind, group in (("host", "hosts"), ("site", "sites")):
        for name, subject in report.get(group, {}).items():
            for c in subject.get("controls", []):
                out[(kind, name, c["id"], c.get("dataset") or "")] = c
    return out


def compare(before: dict[str, Any], after: dict[str, Any], common_only: bool = False) -> dict[str, list[dict]]:
    """Every result that changed, by category (CATEGORIES); common_only: only the subjects both hold."""
    old, new = results(before), results(after)
    if common_only:
        both = {k[:2] for k in old} & {k[:2] for k in new}
        old = {k: v for k, v in old.items() if k[:2] in both}
        new = {k: v for k, v in new.items() if k[:2] in both}
    out: dict[str, list[dict]] = {c: [] for c in CATEGORIES}
    clause = {k: c["clause"] for k, c in (old | new).items()}
    for key in sorted(clause, key=lambda k: (k[0], k[1], clause_sort_key(clause[k]), k)):
        a, b = old.get(key), new.get(key)
        if a is None:
            category = "appeared"
        elif b is None:
            category = "disappeared"
        elif a["status"] in IN_ORDER:
            category = "new_failures" if b["status"] not in IN_ORDER else ("changed" if a["status"] != b["status"]
                                                                          else None)
        else:
            category = "fixed" if b["status"] in IN_ORDER else "still_open"
        if category:
            out[category].append(_change(key, a, b))
    return out


def _change(key: Key, a: dict | None, b: dict | None) -> dict[str, Any]:
    kind, subject, cid, dataset = key
    c = b or a or {}  # the later result; the earlier one when it disappeared
    return {"kind": kind, "subject": subject, "clause": c["clause"], "control": cid, "dataset": dataset or None,
            "before": a["status"] if a else None, "after": b["status"] if b else None,
            "advisory": bool(c.get("advisory")), "detail": c.get("detail", "")}


def exit_code(changes: dict[str, list[dict]]) -> int:
    """2 when a result went from in order to not in order (advisory ones excepted), else 0."""
    return EXIT_REGRESSED if any(not c["advisory"] for c in changes["new_failures"]) else 0


def document(earlier: Entry, newest: Entry, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The diff of two recorded audits, as `ivpb diff --format json` writes it."""
    common_only = earlier.limit != newest.limit
    changes = compare(before, after, common_only)
    return {
        "format": FORMAT,
        "from": _audit(earlier),
        "to": _audit(newest),
        "common_subjects_only": common_only,
        **changes,
        "exit_code": exit_code(changes),
    }


def _audit(e: Entry) -> dict[str, Any]:
    return {"id": e.id, "generated_at": e.generated_at, "git_commit": e.commit, "limit": e.limit,
            "exit_code": e.exit_code}
