"""What the check run found, per host: reachability, failed tasks, and the modules' `controls`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MAX_DIFF_CHARS = 20_000


# Actions that run on the controller, never on the host they are reported for: their results
# prove no contact with it (includes, the plan step, add_host, ...).
CONTROLLER_ACTIONS = frozenset({
    "add_host", "assert", "debug", "fail", "group_by", "import_playbook", "import_role", "import_tasks",
    "include_role", "include_tasks", "include_vars", "meta", "pause", "plan", "set_fact", "set_stats",
})


@dataclass
class HostResults:
    # True: a task ran on the host in the check run. False: Ansible found it unreachable
    # (unreachable_msg says why). None: no task ran on it (the run ended before it, or it was in
    # no play), so nothing about it is known.
    reachable: bool | None = None
    unreachable_msg: str = ""
    failures: list[str] = field(default_factory=list)
    # The first failure's words for the report: (task, the `message` the failing module gave its
    # controls), when it gave one (audit.messages); None: its text alone is known
    failure_said: tuple[str, Any] | None = None
    controls: list[dict[str, Any]] = field(default_factory=list)
    host_time: str | None = None  # the host's clock as a module reported it (backup_job's host_time)
    bounds: str = ""  # the connection and task timeouts the run had, named where a host failed
    # On a receiver: client -> data set -> its newest sealed backup (backup_receiver's `protected`)
    protected: dict[str, dict[str, str | None]] = field(default_factory=dict)


def json_safe(value: Any) -> Any:
    """A host's value as strict JSON allows it. Python's json (Ansible's, ansible-runner's) reads
    and writes NaN and Infinity, which a host may send: they become that text ("NaN"), so the
    report stays JSON and no judge computes with them. None when it is nested too deeply to
    write at all (the control is then reported by nobody, an error)."""
    try:
        json.dumps(value, allow_nan=False)
        return value
    except ValueError:
        return json.loads(json.dumps(value), parse_constant=str)
    except RecursionError:
        return None


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


def ran_on_host(res: dict[str, Any], action: str) -> bool:
    """Whether a task's result proves that it ran on the host it is reported for: not an action
    of the controller, not delegated to another host (a loop's results, such as the receivers'
    host keys read once per play, are delegated or controller work here)."""
    if str(action).rsplit(".", 1)[-1] in CONTROLLER_ACTIONS:
        return False
    return "_ansible_delegated_vars" not in res and not isinstance(res.get("results"), list)


def record(results: dict[str, HostResults], event: str, host: str, res: dict[str, Any], task: str,
           action: str = "", ignored: bool = False) -> None:
    """Fold one ansible-runner event into the per-host results. An unreachable event only keeps
    its message: a task delegated to another host reports that host's failure under this one, so
    whether this host was unreachable is settled by the run's stats (settle)."""
    hr = results.setdefault(host, HostResults())
    if event == "runner_on_unreachable":
        hr.unreachable_msg = (str(res.get("msg") or "").strip().splitlines() or ["unreachable"])[0]
        return
    if ran_on_host(res, action) and hr.reachable is None:
        hr.reachable = True
    if event == "runner_on_failed" and not (ignored or res.get("ignore_errors")):
        msg = str(res.get("msg") or res.get("stderr") or "failed").strip()
        hr.failures.append(f"{task}: {msg.splitlines()[0] if msg else 'failed'}")
        if len(hr.failures) == 1:
            hr.failure_said = _said(res, task)
    if isinstance(res.get("host_time"), str):
        hr.host_time = res["host_time"]
    if isinstance(res.get("protected"), dict):
        hr.protected = json_safe(res["protected"]) or {}
    controls = json_safe(res.get("controls"))  # once per result: a host's list is one JSON text
    if isinstance(controls, list):
        diffs = diffs_of(res)
        for c in controls:
            entry = _finding(c)
            if entry is not None:
                paths = entry.pop("diff_paths", None)  # the module named the changes that concern it
                if isinstance(paths, list) and "diff" not in entry:
                    entry["diff"] = [d for d in diffs if d["path"] in paths]
                elif entry.get("status") == "drift" and diffs and "diff" not in entry:
                    entry["diff"] = diffs
                hr.controls.append(entry)


def _said(res: dict[str, Any], task: str) -> tuple[str, Any] | None:
    """(task, message) of a failed module result whose controls carry the failure's message."""
    controls = res.get("controls")
    said = [c["message"] for c in controls if isinstance(c, dict) and c.get("message")] \
        if isinstance(controls, list) else []
    return (task, json_safe(said[0])) if said else None


def _finding(c: Any) -> dict[str, Any] | None:
    """One entry of a module's `controls` (made json_safe) in the shape the judges read, or None
    when it cannot name a planned control (its id or data set is not text): then that control is
    reported by nobody, an error. What a host sends is not trusted to have the module's shape: a
    compromised host sends whatever it likes, and no value of it may stop the audit of the
    others."""
    if not isinstance(c, dict) or not isinstance(c.get("id"), str) \
            or not isinstance(c.get("dataset"), str | None) or not isinstance(c.get("for"), str | None):
        return None
    entry = dict(c)
    if not isinstance(entry.get("status"), str):
        entry["status"] = "error"
    if not isinstance(entry.get("evidence"), dict | None):
        entry.pop("evidence")  # a judged control without evidence is drift
    return entry


def settle(results: dict[str, HostResults], stats: dict[str, Any] | None) -> None:
    """Who was unreachable, from the run's own stats (`dark`: unreachable in a task of its own,
    not in one delegated elsewhere or ignored). Without stats (the run did not end normally), a
    host with an unreachable event and no task run on it counts as unreachable."""
    dark = (stats or {}).get("dark") or {}
    for host in dark:
        hr = results.setdefault(host, HostResults())
        hr.reachable = False
        hr.unreachable_msg = hr.unreachable_msg or "unreachable"
    if stats is None:
        for hr in results.values():
            if hr.reachable is None and hr.unreachable_msg:
                hr.reachable = False


def attach_protected(results: dict[str, HostResults], control_ids: set[str],
                     receivers_of: dict[str, list[str]]) -> None:
    """The receivers' word on each client's backups, where the audit judges it: the newest sealed
    backup of a data set, over the client's receivers (`receivers_of`: client -> the inventory
    hosts its backups and syncs go to, roles.receivers_of) that reported it, becomes
    `protected_generation` in the evidence of the client's controls in `control_ids` (those whose
    judges weigh it, evaluate.RECEIVER_JUDGES). Only those receivers are asked: the client, or
    any other host, may send a `protected` of its own, and a compromised one claims anything."""
    for host, hr in results.items():
        for c in hr.controls:
            if not isinstance(c.get("id"), str) or c["id"] not in control_ids or not isinstance(c.get("dataset"), str):
                continue
            newest = _newest_sealed(results, receivers_of.get(host, ()), host, c["dataset"])
            evidence = {k: v for k, v in (c.get("evidence") or {}).items() if k != "protected_generation"}
            if newest:
                evidence["protected_generation"] = newest
            c["evidence"] = evidence


def _newest_sealed(results: dict[str, HostResults], receivers: list[str], client: str, dataset: str) -> str | None:
    """The newest backup of a client's data set sealed on any of its receivers (never the client
    itself), or None when none reported one."""
    stamps = []
    for receiver in receivers:
        word = results[receiver].protected.get(client) if receiver != client and receiver in results else None
        if isinstance(word, dict) and isinstance(word.get(dataset), str):
            stamps.append(word[dataset])
    return max(stamps, default=None)
