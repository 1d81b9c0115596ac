"""Controller-side scale (issue #8): read, validate and plan a synthetic federation inventory
(default 1,000 hosts, 50 data sets each), judge a full audit's worth of module results and render
every report format. Prints the time of each stage and the peak memory.

    .venv/bin/python benchmarks/controller.py [--hosts 1000] [--datasets 50] [--stage all|plan|cli]

--stage plan stops after planning (what `ivpb plan` computes); --stage cli runs the `ivpb plan`
command itself (table and JSON output) in a subprocess and prints its time and peak memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from synthetic_inventory import write

from ivpb.audit.evaluate import build_report
from ivpb.audit.results import HostResults
from ivpb.cli import render
from ivpb.inventory import load_inventory
from ivpb.plan import plan_inventory
from ivpb.policy import load_policy
from ivpb.validate import validate


def compliant_results(plan, now: str) -> dict[str, HostResults]:
    """What the modules of converged hosts report: every planned control compliant, with evidence."""
    out = {}
    for host, hp in plan.hosts.items():
        controls = [
            {
                "id": c.id,
                "dataset": c.dataset,
                "status": "compliant",
                "detail": "ok",
                "evidence": {"last_backup": now, "last_annual": f"2026-2027 {now}"},
            }
            for c in hp.controls
        ]
        out[host] = HostResults(controls=[{k: v for k, v in c.items() if v is not None} for c in controls])
    return out


def run_command(argv: list[str]) -> tuple[float, float]:
    """Seconds and peak memory (MB) of one command, its output discarded."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.exit(f"{' '.join(argv)}: exit {proc.returncode}")
    return seconds, usage.ru_maxrss / 1024


def cli_stages(root: Path) -> int:
    ivpb = [sys.executable, "-m", "ivpb.cli", "plan", "-i", str(root)]
    for name, argv in (("ivpb plan", ivpb), ("ivpb plan --format json", [*ivpb, "--format", "json"])):
        seconds, peak = run_command(argv)
        print(f"  {name:45s} {seconds:6.2f} s  peak memory {peak:.0f} MB")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--datasets", type=int, default=50)
    parser.add_argument("--stage", choices=("all", "plan", "cli"), default="all")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ivpb-scale-") as tmp:
        root = write(Path(tmp) / "inventory", args.hosts, args.datasets)
        if args.stage == "cli":
            print(f"{args.hosts + 2} hosts, {args.datasets} data sets each")
            return cli_stages(root)
        stages = {}
        t = time.perf_counter()
        inventory = load_inventory([str(root)])
        stages["read inventory (Ansible's vars plugins)"] = time.perf_counter() - t
        policy = load_policy()
        t = time.perf_counter()
        problems = validate(inventory, policy)
        stages["validate (schema, cross-refs; plans)"] = time.perf_counter() - t
        if problems:
            sys.exit(f"synthetic inventory is invalid: {problems[0]}")
        t = time.perf_counter()
        plan = plan_inventory(inventory, policy)
        stages["plan (kept from validating)"] = time.perf_counter() - t
        if args.stage == "plan":
            print(f"{len(inventory.hosts)} hosts, {args.datasets} data sets each")
            for name, seconds in stages.items():
                print(f"  {name:45s} {seconds:6.2f} s")
            print(f"  {'total (read + validate + plan)':45s} {sum(stages.values()):6.2f} s")
            print(f"  peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
            return 0
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        results = compliant_results(plan, now.strftime("%Y-%m-%dT%H:%M:%SZ"))
        t = time.perf_counter()
        report = build_report(policy, inventory, plan, results, list(inventory.hosts), now)
        stages["judge (build the report)"] = time.perf_counter() - t
        for fmt in ("json", "table", "junit", "markdown", "html"):
            t = time.perf_counter()
            size = len(render(report, fmt, "nl"))
            stages[f"render {fmt} ({size / 1e6:.1f} MB)"] = time.perf_counter() - t
    controls = sum(len(h["controls"]) for h in report["hosts"].values())
    print(f"{len(inventory.hosts)} hosts, {args.datasets} data sets each, {controls} control results")
    for name, seconds in stages.items():
        print(f"  {name:45s} {seconds:6.2f} s")
    # What one command costs: `ivpb plan` is read + validate + plan; an audit's report is that
    # plus judging plus one rendering per output it writes (target: under 5 s each).
    planned = sum(v for k, v in list(stages.items())[:3])
    judged = planned + stages["judge (build the report)"]
    print(f"  {'ivpb plan: read + validate + plan':45s} {planned:6.2f} s")
    for name, seconds in stages.items():
        if name.startswith("render "):
            label = f"... + judge + {name.split(' (')[0]}"
            print(f"  {label:45s} {judged + seconds:6.2f} s")
    print(f"  {'everything above in one process':45s} {sum(stages.values()):6.2f} s")
    print(f"  peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
