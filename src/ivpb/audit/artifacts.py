"""The report an audit job left in its ansible-runner artifacts (issue #25): the playbook
ivpb.backupbeleid.audit keeps it with set_stats as `ivpb_audit`, which ansible-runner writes
into the `artifact_data` of the run's playbook_on_stats event (artifacts/<ident>/job_events/).
What AWX keeps of a job, and what `ansible-runner process` writes on the controller side of
`transmit | worker | process`."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from ivpb.errors import UserError

STAT = "ivpb_audit"  # the set_stats key of playbooks/audit.yml


def runs(folder: Path) -> list[Path]:
    """The job_events folders under folder: a private data dir, its artifacts/, or one run's
    artifacts/<ident>/."""
    if not folder.is_dir():
        raise UserError(f"{folder}: no such directory (expected an ansible-runner artifacts folder)")
    return sorted(p for p in [folder / "job_events", *folder.glob("*/job_events"), *folder.glob("*/*/job_events")]
                  if p.is_dir())


def read_report(folder: Path) -> dict[str, Any]:
    """The audit report of the one run in folder, checked against the report schema; a file is
    the report itself (`ivpb audit -o FILE.json`, or a job's `artifacts.ivpb_audit` from AWX's API)."""
    if folder.is_file():
        try:
            report = json.loads(folder.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise UserError(f"{folder}: cannot read the report: {exc}") from None
        check(report, str(folder))
        return report
    found = runs(folder)
    if not found:
        raise UserError(f"{folder}: no job_events folder: not an ansible-runner artifacts folder")
    if len(found) > 1:
        raise UserError(f"{folder}: {len(found)} runs; name one of them: "
                        + ", ".join(str(p.parent) for p in found))
    report = None
    for path in found[0].glob("*.json"):
        try:
            event = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise UserError(f"{path}: not a JSON event: {exc}") from None
        if isinstance(event, dict) and event.get("event") == "playbook_on_stats":
            report = ((event.get("event_data") or {}).get("artifact_data") or {}).get(STAT)
            break
    if report is None:
        raise UserError(f"{found[0].parent}: the run left no {STAT} in its stats (set_stats): not a finished run "
                        "of the playbook ivpb.backupbeleid.audit")
    check(report, f"{found[0].parent}: {STAT}")
    return report


def check(report: Any, where: str) -> None:
    """A report as `ivpb audit` writes it (schemas/report.schema.json), or one line saying where not."""
    import jsonschema

    schema = json.loads(resources.files("ivpb.schemas").joinpath("report.schema.json").read_text(encoding="utf-8"))
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(report))
    if error is not None:
        path = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise UserError(f"{where}: not an ivpb audit report: {path}: {error.message[:200]}")
