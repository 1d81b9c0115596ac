"""Write every output format of ivpb, in both languages, for a fixed set of reports, to DIR: run it
on two trees and compare the folders (`diff -r`) to prove that a change to a renderer leaves its
output byte-identical.

    .venv/bin/python benchmarks/reports.py DIR [--hosts 40] [--datasets 8]

The reports: the synthetic federation of benchmarks/controller.py (every control compliant), the
same with a distinct evidence timestamp per result, and tests/fixtures/report_example.json made
hostile (every status, waivers, diffs, advisory controls; HTML, XML and Markdown specials, control
characters, text beyond Latin-1 and beyond the Basic Multilingual Plane; evidence of every JSON
type). The plan of the synthetic federation is written too (`ivpb plan`, table and JSON).
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import tempfile
from pathlib import Path

from controller import compliant_results
from synthetic_inventory import write

from ivpb.audit.evaluate import build_report
from ivpb.cli import render
from ivpb.inventory import load_inventory
from ivpb.output import encode
from ivpb.plan import plan_inventory
from ivpb.policy import load_policy
from ivpb.render.json_report import render as render_json
from ivpb.render.plan_table import render_plan_table

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ("json", "table", "junit", "markdown", "html")
NOW = dt.datetime(2026, 11, 29, 6, 0, tzinfo=dt.UTC)
# Text that every escaper must handle: markup of each format, quotes, control characters, a
# character beyond Latin-1 (’, ✔) and one beyond the Basic Multilingual Plane.
HOSTILE = "<b>'x'</b> & \"y\" ]]> `code` *em* | # 12. ’ ✔ \U0001f600 é§ \x01\x1b[31m\t\r\nend"


def hostile_example() -> dict:
    report = json.loads((ROOT / "tests" / "fixtures" / "report_example.json").read_text(encoding="utf-8"))
    statuses = ("compliant", "drift", "missing", "waived", "not_applicable", "error")
    for n, (_, host) in enumerate(sorted(report["hosts"].items())):
        for k, c in enumerate(host["controls"]):
            if (n + k) % 3 == 0:
                c["detail"] = f"{c.get('detail', '')} {HOSTILE}"
                c["evidence"] = {**(c.get("evidence") or {}), HOSTILE: [HOSTILE, 1, 2.5, True, None],
                                 "nested": {"a": HOSTILE, "b": [1, {"c": None}]}, "empty": [], "none": None,
                                 "flag": False, "number": 3, "when": "2026-11-29T01:00:12Z"}
            if (n + k) % 4 == 1:
                c["because"] = HOSTILE
                c["dataset"] = f"ds {HOSTILE}"
            if (n + k) % 5 == 2:
                c["status"] = statuses[(n + k) % len(statuses)]
                c["advisory"] = bool(k % 2)
            if (n + k) % 7 == 3:
                c["diff"] = [{"path": f"/etc/{HOSTILE}", "before": f"a\n{HOSTILE}\n", "after": "a\nb\n"}]
            if (n + k) % 9 == 4:
                c["waiver"] = {"justification": HOSTILE, "approver": "&amp;", "expires": "2027-01-01",
                               "active": bool(k % 2), "underlying_status": "drift"}
        host["site"] = f"{host.get('site')} {HOSTILE}"
    report["sites"] = {**report["sites"], HOSTILE: copy.deepcopy(next(iter(report["sites"].values())))}
    report["inventory"] = [*report.get("inventory", []), HOSTILE]
    return report


def distinct(report: dict) -> dict:
    """Each result its own evidence timestamp (as real hosts report them): nothing repeats."""
    report = copy.deepcopy(report)
    for n, host in enumerate(report["hosts"].values()):
        for k, c in enumerate(host["controls"]):
            stamp = (NOW - dt.timedelta(seconds=97 * n + k)).strftime("%Y-%m-%dT%H:%M:%SZ")
            c["evidence"] = {**(c.get("evidence") or {}), "last_backup": stamp}
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--hosts", type=int, default=40)
    parser.add_argument("--datasets", type=int, default=8)
    args = parser.parse_args()
    args.dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ivpb-reports-") as tmp:
        inventory = load_inventory([str(write(Path(tmp) / "inventory", args.hosts, args.datasets))])
        policy = load_policy()
        plan = plan_inventory(inventory, policy)
        federation = build_report(policy, inventory, plan, compliant_results(plan, NOW), list(inventory.hosts), NOW)
        federation["inventory"] = ["synthetic"]  # not the temporary folder's name
        (args.dest / "plan.txt").write_bytes(encode(render_plan_table(plan, "nl") + "\n"))
        (args.dest / "plan.json").write_bytes(encode(render_json(plan.as_dict())))
    reports = {"federation": federation, "federation-distinct": distinct(federation), "hostile": hostile_example()}
    for name, report in reports.items():
        for fmt in FORMATS:
            for lang in ("nl", "en"):
                (args.dest / f"{name}.{lang}.{fmt}").write_bytes(encode(render(copy.deepcopy(report), fmt, lang)))
    print(f"{len(list(args.dest.iterdir()))} files in {args.dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
