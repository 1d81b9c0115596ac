"""What the check run found, per host: reachability, failed tasks, and the modules' `controls`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_DIFF_CHARS = 20_000


@dataclass
class HostResults:
    reachable: bool = True
    unreachable_msg: str = ""
    failures: list[str] = field(default_factory=list)
    controls: list[dict[str, Any]] = field(default_factory=list)
    host_time: str | None = None  # the host's clock as a module reported it (backup_job's host_time)
    bounds: str = ""  # the connection and task timeouts the run had, named where a host failed
    # On a receiver: client -> data set -> its newest sealed backup (backup_receiver's `protected`)
    protected: dict[str, dict[str, str | None]] = field(default_factory=dict)


def _clip(text: Any) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= MAX_DIFF_CHARS else text[:MAX_DIFF_CHARS] + "\n[...]"


def diffs_of(res: dict[str, Any]) -> list[dict[str, str]]:
    """A module's `diff` (one dict or a list) as [{path, before, after}]."""
    raw = res.get("diff")
    if not raw:
        return []
    out = []
    for d in raw if isinstance(raw, list) else [raw]:
        if not isinstance(d, dict) or ("before" not in d and "after" not in d):
            continue
        path = d.get("after_header") or d.get("before_header") or ""
        out.append({"path": str(path), "before": _clip(d.get("before")), "after": _clip(d.get("after"))})
    return out


def record(results: dict[str, HostResults], event: str, host: str, res: dict[str, Any], task: str) -> None:
    """Fold one ansible-runner event into the per-host results."""
    hr = results.setdefault(host, HostResults())
    if event == "runner_on_unreachable":
        hr.reachable = False
        hr.unreachable_msg = str(res.get("msg", "unreachable")).strip().splitlines()[0]
        return
    if event == "runner_on_failed" and not res.get("ignore_errors"):
        msg = str(res.get("msg") or res.get("stderr") or "failed").strip()
        hr.failures.append(f"{task}: {msg.splitlines()[0] if msg else 'failed'}")
    if isinstance(res.get("host_time"), str):
        hr.host_time = res["host_time"]
    if isinstance(res.get("protected"), dict):
        hr.protected = res["protected"]
    controls = res.get("controls")
    if isinstance(controls, list):
        diffs = diffs_of(res)
        for c in controls:
            if isinstance(c, dict) and "id" in c:
                entry = dict(c)
                if entry.get("status") == "drift" and diffs and "diff" not in entry:
                    entry["diff"] = diffs
                hr.controls.append(entry)


def attach_protected(results: dict[str, HostResults]) -> None:
    """The receivers' word on each client's backups, where the audit judges it: the newest sealed
    backup of a data set, over every receiver that reported it, becomes `protected_generation`
    in the evidence of the client's backup.best_practice. The client's own files are never asked:
    a compromised client could claim anything."""
    for host, hr in results.items():
        for c in hr.controls:
            if c.get("id") != "backup.best_practice" or not c.get("dataset"):
                continue
            stamps = [r.protected[host].get(c["dataset"]) for r in results.values()
                      if isinstance(r.protected.get(host), dict)]
            newest = max((s for s in stamps if isinstance(s, str)), default=None)
            evidence = {k: v for k, v in (c.get("evidence") or {}).items() if k != "protected_generation"}
            if newest:
                evidence["protected_generation"] = newest
            c["evidence"] = evidence
