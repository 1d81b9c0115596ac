"""`ivpb history`, `ivpb diff`, and what `ivpb audit` does with the history (--history, --no-history)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from ivpb import drills
from ivpb.errors import UserError
from ivpb.history import diff
from ivpb.history.store import FILE_NAME, Store

TREND_AUDITS = 12  # the bars of the HTML report's trend, the newest audit included


def history_path(inventory: list[str], chosen: str | None) -> Path:
    """--history PATH, else history.sqlite in the inventory's evidence folder (ivpb.drills.home)."""
    if chosen:
        return Path(chosen)
    try:
        return drills.home(inventory) / FILE_NAME
    except ValueError:
        raise UserError("no inventory directory to keep the audit history in: pass --history PATH") from None


def inventory_commit(inventory: list[str]) -> str | None:
    """The git commit of the first inventory source's folder, when it is in a git work tree."""
    folders = drills.folders(inventory)
    if not folders:
        return None
    try:
        proc = subprocess.run(["git", "-C", str(folders[0].parent), "rev-parse", "--verify", "--quiet", "HEAD"],
                              capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.SubprocessError):  # no git on this machine, or it hung
        return None
    commit = proc.stdout.strip()
    return commit if proc.returncode == 0 and commit else None


def open_for_audit(args) -> Store | None:
    """The history an audit records in, opened (and made) before any host is asked, so that a
    history that is not one stops the audit before it takes its minutes; None with --no-history."""
    if args.no_history:
        return None
    return Store.open(history_path(args.inventory, args.history), create=True)


def record(store: Store | None, args, report: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Record the audit; the last TREND_AUDITS audits of the same hosts (for the HTML trend), the
    newest with `since_last`: what changed since the audit before it, as `ivpb diff --since last`
    says it (None for the first audit of these hosts)."""
    if store is None:
        return None
    try:
        entry = store.append(report, inventory_commit(args.inventory), args.limit)
        entries = [e for e in store.entries() if e.id <= entry.id]  # not one another audit wrote since
        earlier = [e for e in entries[:-1] if e.covers(entry)]
        since_last = diff.document(earlier[-1], entry, store.report(earlier[-1].id), report) if earlier else None
    finally:
        store.close()
    if not args.quiet:
        print(f"ivpb audit: recorded as audit {entry.id} in {store.path}", file=sys.stderr)
    trend = [e.as_dict() for e in entries if e.limit == entry.limit][-TREND_AUDITS:]
    trend[-1]["since_last"] = since_last
    return trend


def _store(args) -> Store:
    return Store.open(history_path(args.inventory, args.history))


def cmd_history(args) -> int:
    from ivpb.render.history_text import history_table

    store = _store(args)
    try:
        entries = [e.as_dict() for e in store.entries()]
    finally:
        store.close()
    _write(args, entries, history_table)
    return 0


def cmd_diff(args) -> int:
    from ivpb.render.history_text import diff_text

    store = _store(args)
    try:
        earlier, newest = diff.pick(store.entries(), args.since, str(store.path))
        doc = diff.document(earlier, newest, store.report(earlier.id), store.report(newest.id))
    finally:
        store.close()
    _write(args, doc, diff_text)
    return doc["exit_code"]


def _write(args, doc, as_text) -> None:
    """What a history command found: as JSON (--format json), else as_text(doc, lang)."""
    sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n" if args.format == "json"
                     else as_text(doc, args.lang))
