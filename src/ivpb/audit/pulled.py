"""Pulled evidence (#23): the controls of a system ivpb does not manage (ivpb_managed: false), as
the managed hosts that can see it report them under `for`: its NUT servers (which clients upsd
lists as logged in to each UPS) and the backup proxy that pulls each of its data sets into its
own backup jobs (ivpb_stores[].pull.via); ivpb.unmanaged.reporters names them. Only those hosts'
word is taken: any other host may send an entry `for` the system, and a compromised one claims
anything."""

from __future__ import annotations

from typing import Any

from ivpb.audit.results import HostResults
from ivpb.statuses import rank


def entries(results: dict[str, HostResults], reporter: str, host: str, cid: str,
            dataset: str | None) -> list[dict[str, Any]]:
    """What `reporter` said about `host`'s control."""
    hr = results.get(reporter)
    if hr is None:
        return []
    return [c for c in hr.controls if c.get("for") == host and c["id"] == cid and c.get("dataset") == dataset]


def found(results: dict[str, HostResults], reporters: list[str], host: str, cid: str,
          dataset: str | None) -> tuple[list[dict[str, Any]] | None, str | None]:
    """(the one finding merged from every reporter, None) or, when a reporter said nothing about
    the control, (None, that reporter): the control is then unknown, not missing."""
    said: list[dict[str, Any]] = []
    for reporter in reporters:
        mine = entries(results, reporter, host, cid, dataset)
        if not mine:
            return None, reporter
        said += mine
    return [merged(said)], None


def merged(found: list[dict[str, Any]]) -> dict[str, Any]:
    """One finding from the reports of several hosts (a system fed by the UPSes of two NUT
    servers): the worst status, every detail, and the UPSes reached over all of them, so the
    judge counts them together."""
    if len(found) == 1:
        return found[0]
    worst = min(found, key=lambda c: rank(c.get("status")))
    reachable: list[Any] = []
    states: dict[str, Any] = {}
    for c in found:
        ev = c.get("evidence") or {}
        reachable += ev.get("reachable") if isinstance(ev.get("reachable"), list) else []
        states.update(ev.get("status") if isinstance(ev.get("status"), dict) else {})
    details = "; ".join(dict.fromkeys(str(c.get("detail", "")) for c in found))
    return {**worst, "detail": details, "evidence": {**(worst.get("evidence") or {}),
                                                     "reachable": reachable, "status": states}}
