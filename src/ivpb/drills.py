"""Restore drills: the evidence `ivpb restore --drill` records, and how the audit judges it.

Evidence lives in the inventory, one JSON file per drill:
  <inventory>/.evidence/drills/<host>/<dataset>/<YYYYMMDDTHHMMSSZ>.json
The folder's name starts with a dot because Ansible reads every other file in an inventory
directory as an inventory source. It is written into the first inventory source (a directory,
or a file's folder) that already has a `.evidence` folder, else into the first source; the
audit and the herstelplan read the drills of every source.

The audit (backup.best_practice, per data set): no successful drill of the whole data set (a
`--sample` drill is partial and never counts) within the policy's interval for the data set's
availability level (`evidence.drill_max_age_days` in the policy file) is drift; the report shows
the last drill with its measured RTO and RPO."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from ivpb.i18n import Message, Span, msg
from ivpb.isotime import iso, parse_time
from ivpb.policy import Policy

FOLDER = ".evidence"
FORMAT = "ivpb-drill/1"
# Used when a policy file has no evidence.drill_max_age_days (a school's own, older file).
DEFAULT_MAX_AGE_DAYS = {"noodzakelijk": 92, "belangrijk": 365, "laag": 365}


def _base(source: str) -> Path | None:
    if "," in source:
        return None
    p = Path(source)
    return p if p.is_dir() else p.parent


def folders(sources: tuple[str, ...] | list[str]) -> list[Path]:
    return [b / FOLDER for b in (_base(s) for s in sources) if b is not None]


def home(sources: tuple[str, ...] | list[str]) -> Path:
    """Where a new drill is recorded."""
    found = folders(sources)
    if not found:
        raise ValueError("no inventory directory to record the drill in")
    return next((f for f in found if f.is_dir()), found[0])


def _write(path: Path, doc: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def _path(sources, host: str, dataset: str, when: dt.datetime) -> Path:
    return home(sources) / "drills" / host / dataset / f"{when.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}.json"


def record(sources, result, by: str) -> Path:
    """The evidence of one drill (an ivpb.restore.Restored)."""
    doc = {
        "format": FORMAT,
        "host": result.host,
        "dataset": result.dataset,
        "kind": result.kind,
        "generation": iso(result.generation),
        "started": iso(result.started),
        "finished": iso(result.finished or result.started),
        "by": by,
        "receiver": result.receiver,
        "directory": result.directory,
        "encrypted": result.encrypted,
        "manifest": result.manifest,
        "rto_seconds": round(result.duration, 1),
        "rpo_seconds": round(result.data_age, 1),
        "files_checked": result.files,
        "bytes_checked": result.bytes,
        "result": "ok" if result.ok else "failed",
        "problems": result.problems + ([f"not checked: {result.unchecked}"] if result.unchecked else []),
    }
    if result.sample:  # a part of the data set: never counts as the data set's drill
        doc["sample"] = result.sample
        doc["partial"] = True
    if result.changed:  # changed while the backup ran: their restore may differ (issue #16)
        doc["changed_during_backup"] = result.changed
    return _write(_path(sources, result.host, result.dataset, result.started), doc)


def record_failure(sources, host: str, dataset: str, reason: str, by: str, now: dt.datetime | None = None) -> Path:
    """A drill that could not restore at all is evidence too."""
    when = now or dt.datetime.now(dt.UTC)
    doc = {"format": FORMAT, "host": host, "dataset": dataset, "started": iso(when), "finished": iso(when),
           "by": by, "result": "failed", "problems": [reason]}
    return _write(_path(sources, host, dataset, when), doc)


def load(sources, host: str, dataset: str) -> list[dict[str, Any]]:
    """Every readable drill of a data set, oldest first (a broken file is skipped, not trusted)."""
    out = []
    for folder in folders(sources):
        d = folder / "drills" / host / dataset
        if d.is_dir():
            out += _read(d, host, dataset)
    return sorted(out, key=lambda d: parse_time(d["started"]))


def _read(d: Path, host: str, dataset: str) -> list[dict[str, Any]]:
    out = []
    for f in sorted(d.glob("*.json")):
        try:  # NaN and Infinity (which Python's json reads) stay text, so the report stays JSON
            doc = json.loads(f.read_text(encoding="utf-8"), parse_constant=str)
        except (OSError, ValueError, RecursionError):
            continue
        if isinstance(doc, dict) and doc.get("format") == FORMAT and doc.get("host") == host \
                and doc.get("dataset") == dataset and parse_time(doc.get("started")):
            out.append({**doc, "file": str(f)})
    return out


def indexed(inventory) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Every drill of the inventory by (host, data set), read once per loaded inventory (the
    audit asks for each data set of every host)."""
    cache = inventory.__dict__
    if "_drills" not in cache:
        found: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for folder in folders(inventory.sources):
            root = folder / "drills"
            if not root.is_dir():
                continue
            for hd in sorted(p for p in root.iterdir() if p.is_dir()):
                for dd in sorted(p for p in hd.iterdir() if p.is_dir()):
                    found.setdefault((hd.name, dd.name), []).extend(_read(dd, hd.name, dd.name))
        cache["_drills"] = {k: sorted(v, key=lambda d: parse_time(d["started"])) for k, v in found.items()}
    return cache["_drills"]


@lru_cache(maxsize=64)  # Policy is hashed by identity: one loaded policy, asked per data set
def max_age(policy: Policy, level: str | None) -> dt.timedelta:
    days = {**DEFAULT_MAX_AGE_DAYS, **(policy.evidence.get("drill_max_age_days") or {})}
    return dt.timedelta(days=days.get(level or "", max(days.values())))


def availability(inventory, dataset: str) -> str | None:
    ds = inventory.school("ivpb_datasets").get(dataset)
    biv = ds.get("biv") if isinstance(ds, dict) else None
    return biv.get("b") if isinstance(biv, dict) else None


def partial(drill: dict[str, Any]) -> bool:
    """A drill of one path (--sample) restored and checked that path alone: it proves the chain
    can be read, not that the data set can be restored, so it never counts as the data set's."""
    return bool(drill.get("partial")) or "sample" in drill


def result_message(drill: dict[str, Any]) -> Message:
    """A drill's result: passed, passed for one path only, or FAILED."""
    if drill.get("result") != "ok":
        return msg("drill.failed")
    return msg("drill.partial", sample=drill.get("sample", "?")) if partial(drill) else msg("drill.ok")


def result_text(drill: dict[str, Any], lang: str) -> str:
    """A drill's result in words (result_message)."""
    return result_message(drill).text(lang)


def judge(given: dict[str, Any] | None, inventory, host: str, dataset: str, policy: Policy,
          now: dt.datetime) -> dict[str, Any]:
    """backup.best_practice of one data set with its drills: {evidence: the given evidence with
    the last drill, reason: why the control drifts or None, notes: Messages on the last drill}.
    Without a successful drill of the whole data set (not --sample) within the interval there is
    a reason; the caller makes a compliant result drift with it."""
    drills = indexed(inventory).get((host, dataset), [])
    level = availability(inventory, dataset)
    limit = max_age(policy, level)
    evidence = dict(given or {})
    notes = []
    if drills:
        last = drills[-1]
        evidence["last_drill"] = {k: last.get(k) for k in ("started", "result", "sample", "generation",
                                                         "rto_seconds", "rpo_seconds", "files_checked",
                                                         "bytes_checked", "by", "file") if last.get(k) is not None}
        notes.append(msg("drill.last", when=last["started"], result=result_message(last),
                         rto=Span(last.get("rto_seconds")), rpo=Span(last.get("rpo_seconds"))))
    evidence["drill_max_age_days"] = limit.days
    good = [d for d in drills if d.get("result") == "ok" and not partial(d)
            and parse_time(d["started"]) <= now + dt.timedelta(minutes=5)]
    reason = None
    if not good:
        reason = msg("drill.none")
    else:
        when = parse_time(good[-1]["started"])
        if now - when > limit:
            reason = msg("drill.old", when=good[-1]["started"], age=Span((now - when).total_seconds(), days=True),
                         max=Span(limit.total_seconds(), days=True), b=level or "?")
    return {"evidence": evidence, "reason": reason, "notes": tuple(notes)}
