"""Attestations (`ivpb attest`, #23 item 3): the school's signed-off statement that a control is
met on a system ivpb does not manage, where neither a check nor pulled evidence can say so (a
cloud platform's own backup, Hyper Backup on an appliance, BitLocker on a laptop).

The store is one JSON file in the inventory, beside the drills' evidence (ivpb.drills.home):
  <inventory>/.evidence/attestations.json
  {"format": "ivpb-attestations/1",
   "attestations": [{"control", "system", "dataset" (null for a host's control), "statement",
                     "evidence": {"file", "sha256"}, "by", "at", "frequency", "valid_days"}, ...]}
`file` is relative to the inventory directory when the evidence lies inside it, else absolute.
Records are only ever added: a new statement for the same control, system and data set
supersedes the older one, which stays as history. One writer at a time (an exclusive lock on
`attestations.lock` beside it, held while the file is read, extended and written); the file is
replaced whole (written beside it, then renamed), so a reader never sees half a store.

The audit judges an attested control like any other (judge): the newest statement for it holds
when its evidence file is still there with the recorded SHA-256 and `at` + `valid_days` has not
passed: compliant, marked attested ("verklaard"). An expired statement or a changed or missing
evidence file is drift; no statement is missing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import getpass
import hashlib
import json
import os
import shlex
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

from ivpb import drills
from ivpb.errors import UserError
from ivpb.frequency import FREQUENCIES
from ivpb.i18n import joined, msg, t
from ivpb.inventory import Inventory, managed
from ivpb.isotime import iso, parse_time
from ivpb.plan import Plan
from ivpb.rules import input_rules
from ivpb.unmanaged import ATTESTED, means

FORMAT = "ivpb-attestations/1"
NAME = "attestations.json"
# How long a statement holds (MITRE SAF's attestation frequencies): re-attest before it passes.
CHUNK = 1 << 20


def store_path(sources) -> Path:
    """Where attestations are recorded: the inventory's evidence folder (as for the drills)."""
    try:
        return drills.home(sources) / NAME
    except ValueError:
        raise UserError("no inventory directory to record the attestation in") from None


def _stores(sources) -> list[Path]:
    return [folder / NAME for folder in drills.folders(sources)]


def sha256(path: Path) -> str | None:
    """The file's SHA-256, or None when it cannot be read as a regular file."""
    digest = hashlib.sha256()
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block, a device never end
            return None
        with open(path, "rb") as f:
            while block := f.read(CHUNK):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _read(path: Path) -> list[dict[str, Any]]:
    """The records of one store; a store that is no longer one (edited by hand) is an error: a
    broken statement is not silently dropped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeError) as exc:
        raise UserError(f"{path}: cannot read the attestations: {exc}") from None
    try:
        doc = json.loads(text, parse_constant=str)
    except (ValueError, RecursionError):
        raise UserError(f"{path}: not a JSON document; expected the attestations ivpb attest writes") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("attestations"), list):
        raise UserError(f"{path}: expected {{\"format\": \"{FORMAT}\", \"attestations\": [...]}}")
    return [a for a in doc["attestations"] if isinstance(a, dict)]


def load(inventory: Inventory) -> list[dict[str, Any]]:
    """Every attestation of the inventory's sources, each with the folder its file is relative to
    (`base`), read once per loaded inventory."""
    cache = inventory.__dict__
    if "_attestations" not in cache:
        found = []
        for path in _stores(inventory.sources):
            found += [{**a, "base": str(path.parent.parent)} for a in _read(path)]
        cache["_attestations"] = found
    return cache["_attestations"]


def _evidence(record: dict[str, Any]) -> dict[str, Any]:
    ev = record.get("evidence")
    return ev if isinstance(ev, dict) else {}


def evidence_file(record: dict[str, Any]) -> Path:
    name = str(_evidence(record).get("file") or "")
    path = Path(name)
    return path if path.is_absolute() else Path(record.get("base") or ".") / path


def newest(records: list[dict[str, Any]], control: str, system: str, dataset: str | None) -> dict[str, Any] | None:
    """The statement that stands for one result: the newest for exactly this control, system and
    data set (a statement for another data set or control counts for nothing here)."""
    mine = [a for a in records if a.get("control") == control and a.get("system") == system
            and a.get("dataset") == dataset and parse_time(a.get("at"))]
    return max(mine, key=lambda a: parse_time(a["at"]), default=None)


def hasher(inventory: Inventory):
    """sha256(), each evidence file read once per loaded inventory (one audit): many statements
    may point at one large file."""
    cache: dict[Path, str | None] = inventory.__dict__.setdefault("_attest_hashes", {})

    def hash_of(path: Path) -> str | None:
        if path not in cache:
            cache[path] = sha256(path)
        return cache[path]
    return hash_of


def verdict(record: dict[str, Any] | None, now: dt.datetime, skew: dt.timedelta,
            hash_of=sha256) -> dict[str, Any]:
    """{status, findings (Messages), evidence} of one attested result: missing without a
    statement; drift when it has expired, lies in the future, or its evidence file is gone or
    changed; else compliant."""
    if record is None:
        return {"status": "missing", "findings": (msg("attest.none"),), "evidence": None}
    at = parse_time(record["at"])
    days = record.get("valid_days")
    expires = at + dt.timedelta(days=days) if isinstance(days, int) and not isinstance(days, bool) else at
    file = evidence_file(record)
    recorded = str(_evidence(record).get("sha256") or "")
    attestation = {"statement": record.get("statement"), "by": record.get("by"), "at": record["at"],
                   "valid_until": iso(expires), "file": str(file), "sha256": recorded}
    reasons = []
    if at - now > skew:
        reasons.append(msg("attest.future", at=record["at"]))
    if now > expires:
        reasons.append(msg("attest.expired", at=record["at"], expires=iso(expires)))
    actual = hash_of(file)
    if actual is None:
        reasons.append(msg("attest.file_missing", file=str(file)))
    elif actual != recorded:
        reasons.append(msg("attest.file_changed", file=str(file), sha=recorded[:12], now=actual[:12]))
    holds = msg("attest.holds", by=record.get("by"), at=record["at"], expires=iso(expires),
                statement=record.get("statement"))
    return {"status": "drift" if reasons else "compliant", "findings": tuple(reasons) or (holds,),
            "evidence": {"attestation": attestation}}


def to_make(inventory: Inventory, plan: Plan, hosts: list[str], now: dt.datetime, lang: str) -> list[dict[str, Any]]:
    """The attestations still to be made for `hosts` (ivpb plan): each planned result of a system
    ivpb does not manage that an attestation meets (its ivpb_attested) and no statement in the
    store holds for now, judged as the audit judges it (verdict), with why (none, expired, its
    evidence file changed) and the command that records one."""
    skew = dt.timedelta(seconds=plan.policy.evidence["clock_skew_seconds"])
    records, hash_of = load(inventory), hasher(inventory)
    out = []
    for host in hosts:
        if managed(inventory.hosts.get(host) or {}):
            continue
        for c in plan.hosts[host].controls:
            if means(inventory, plan, host, c) != ATTESTED:
                continue
            found = verdict(newest(records, c.id, host, c.dataset), now, skew, hash_of)
            if found["status"] != "compliant":
                command = shlex.join(["ivpb", "attest", "--system", host, "--control", c.id,
                                      *(["--dataset", c.dataset] if c.dataset else [])])
                out.append({"system": host, "control": c.id, "dataset": c.dataset,
                            "why": joined(found["findings"], lang), "command": command})
    return out


# ---- ivpb attest ----------------------------------------------------------------------------

def _target(inventory: Inventory, plan: Plan, system: str, control: str, dataset: str | None) -> None:
    """The statement must be one the audit asks for: a system ivpb does not manage, a control
    planned there and declared attested (ivpb_attested), the data set of that planned result."""
    if system not in inventory.hosts:
        raise UserError(f"--system {system}: not a host of this inventory")
    if managed(inventory.hosts[system]):
        raise UserError(f"--system {system}: a managed host; its controls are checked, not attested "
                        "(attest only for a system with ivpb_managed: false)")
    results = [c for c in plan.hosts[system].controls if c.id == control]
    if not results:
        planned = ", ".join(sorted(plan.hosts[system].control_ids())) or "(none)"
        raise UserError(f"--control {control}: not planned for {system}; expected one of: {planned}")
    datasets = [c.dataset for c in results if c.dataset]
    if datasets and dataset not in datasets:
        raise UserError(f"--dataset {dataset or '(none)'}: {control} applies on {system} to data set "
                        f"{' or '.join(datasets)}; expected --dataset {datasets[0]}")
    if not datasets and dataset is not None:
        raise UserError(f"--dataset {dataset}: {control} is a control of the system as a whole; leave --dataset out")
    planned = next(c for c in results if c.dataset == dataset)
    if means(inventory, plan, system, planned) != ATTESTED:
        raise UserError(f"--control {control}: not met by an attestation on {system} (add it to {system}'s "
                        "ivpb_attested, or it is met by a managed router, UPS feeds or a pull)")


def _text(value: str, what: str) -> str:
    """One line (the audit's detail quotes it), as every one-line value of the inventory."""
    try:
        input_rules.text(value, what)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if not value.strip():
        raise UserError(f"{what}: must not be empty")
    return value


def _relative(file: Path, base: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(file.relative_to(base.resolve()))
    return str(file)


def record(sources, system: str, control: str, dataset: str | None, statement: str, evidence: Path, by: str,
           frequency: str, now: dt.datetime) -> tuple[Path, dict[str, Any]]:
    """Add one statement to the store, under its lock; the caller has checked that the audit asks
    for it (_target)."""
    digest = sha256(evidence)
    if digest is None:
        raise UserError(f"--evidence {evidence}: not a readable regular file")
    path = store_path(sources)
    base = path.parent.parent
    entry = {"control": control, "system": system, "dataset": dataset, "statement": statement,
             "evidence": {"file": _relative(evidence.resolve(), base), "sha256": digest}, "by": by,
             "at": iso(now), "frequency": frequency, "valid_days": FREQUENCIES[frequency]}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one writer: nothing another ivpb attest adds is lost
            records = _read(path)
            _write(path, {"format": FORMAT, "attestations": [*records, entry]})
    except OSError as exc:
        raise UserError(f"{path}: cannot record the attestation: {exc.strerror}") from None
    return path, entry


def _write(path: Path, doc: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2, ensure_ascii=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def main(args, now: dt.datetime | None = None) -> int:
    from ivpb.inventory import load_inventory
    from ivpb.plan import plan_inventory
    from ivpb.policy import load_policy
    from ivpb.validate import validate

    policy = load_policy(args.policy)
    inventory = load_inventory(args.inventory, args.vault)
    problems = validate(inventory, policy)
    if problems:
        raise UserError("invalid inventory", problems)
    _target(inventory, plan_inventory(inventory, policy), args.system, args.control, args.dataset)
    statement = _text(args.statement, "--statement")
    by = _text(args.by or getpass.getuser(), "--by")
    when = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    evidence = Path(_text(args.evidence, "--evidence"))  # its name is quoted in the reports, as one line
    path, entry = record(args.inventory, args.system, args.control, args.dataset, statement, evidence,
                         by, args.frequency, when)
    expires = iso(when + dt.timedelta(days=entry["valid_days"]))
    subject = f"{args.system}/{args.dataset}" if args.dataset else args.system
    print(t("attest.recorded", args.lang, control=args.control, subject=subject, expires=expires, store=str(path)),
          file=sys.stderr)
    return 0
