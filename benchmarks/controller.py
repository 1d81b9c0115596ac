"""Controller-side scale (issue #8): read, validate and plan a synthetic federation inventory
(default 1,000 hosts, 50 data sets each), judge a full audit's worth of module results and render
every report format. Prints the time of each stage and the peak memory.

    .venv/bin/python benchmarks/controller.py [--hosts 1000] [--datasets 50] [--stage all|plan|cli]
                                              [--format FORMAT] [--evidence same|distinct]

--stage plan stops after planning (what `ivpb plan` computes); --stage cli runs the `ivpb plan`
command itself (table and JSON output) in a subprocess and prints its time and peak memory.
--format renders that one format only, so the peak memory is that of an audit writing it (plan +
judge + one format). --evidence distinct gives every result its own timestamps, as real hosts
report them (the default: every host reports the same night, so results repeat across hosts).
Measured numbers, before and after each change that was made for speed: benchmarks/README.md.
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

FORMATS = ("json", "table", "junit", "markdown", "html")


def compliant_results(plan, now: dt.datetime) -> dict[str, HostResults]:
    """What the modules of converged hosts report after a good night: every planned control
    compliant, with the evidence its module returns (the receivers' protected generation already
    attached), from hosts that were reached and whose clock is right."""
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    year = now.year if now.month >= 9 else now.year - 1  # the school year (1 Sep - 31 Aug) of now
    ups = {"monitored": ["ups-a@nut", "ups-b@nut"], "reachable": ["ups-a@nut", "ups-b@nut"],
           "status": {"ups-a@nut": "OL", "ups-b@nut": "OL"}, "service_active": True}
    evidence = {
        "backup.daily": {"schedule": "0 23 * * *", "last_backup": stamp, "protected_generation": stamp},
        "backup.weekly": {"schedule": "0 23 * * 6", "last_backup": stamp, "protected_generation": stamp},
        "backup.annual_full": {"schedule": "0 3 1 9 *", "last_annual": f"{year}-{year + 1} {stamp}"},
        "backup.best_practice": {"keep_full": 4, "verify_schedule": "0 4 * * 0", "last_verify": stamp,
                                 "protected_generation": stamp},
        "backup.sync_offsite": {"last_sync": stamp, "heartbeat_minutes": 30},
        "backup.encrypted": {"fingerprints": ["0075798249F96224C9B5F02A537B3983D457471C"]},
        "power.ups": ups,
        "power.redundant_ups": ups,
        "internet.failover": {"active": "wan1", "route": "via 192.0.2.1 dev eth1",
                              "probes": {"wan1": {"state": "online"}, "wan2": {"state": "online"}}},
    }
    out = {}
    for host, hp in plan.hosts.items():
        controls = [
            {"id": c.id, "dataset": c.dataset, "status": "compliant", "detail": "ok",
             "evidence": evidence.get(c.id, {})}
            for c in hp.controls
        ]
        out[host] = HostResults(reachable=True, host_time=stamp,
                                controls=[{k: v for k, v in c.items() if v is not None} for c in controls])
    return out


def distinct_stamps(results: dict[str, HostResults], now: dt.datetime) -> None:
    """Every result its own timestamps, all within the last six hours: no two rows read the same."""
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    for n, hr in enumerate(results.values()):
        for k, c in enumerate(hr.controls):
            own = (now - dt.timedelta(seconds=(199 * n + k) % 21600)).strftime("%Y-%m-%dT%H:%M:%SZ")
            c["evidence"] = {key: v.replace(stamp, own) if isinstance(v, str) else v
                             for key, v in (c.get("evidence") or {}).items()}


def run_command(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak memory (MB) of one command, its output discarded."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.exit(f"{' '.join(argv)}: exit {proc.returncode}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def cli_stages(root: Path) -> int:
    ivpb = [sys.executable, "-m", "ivpb.cli", "plan", "-i", str(root)]
    for name, argv in (("ivpb plan", ivpb), ("ivpb plan --format json", [*ivpb, "--format", "json"])):
        seconds, cpu, peak = run_command(argv)
        print(f"  {name:45s} {seconds:6.2f} s  {cpu:6.2f} s CPU  peak memory {peak:.0f} MB")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--datasets", type=int, default=50)
    parser.add_argument("--stage", choices=("all", "plan", "cli"), default="all")
    parser.add_argument("--format", choices=FORMATS, action="append", help="render only this format (repeatable)")
    parser.add_argument("--evidence", choices=("same", "distinct"), default="same")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ivpb-scale-") as tmp:
        root = write(Path(tmp) / "inventory", args.hosts, args.datasets)
        if args.stage == "cli":
            print(f"{args.hosts + 2} hosts, {args.datasets} data sets each")
            return cli_stages(root)
        stages: dict[str, tuple[float, float]] = {}  # name -> (wall, CPU) seconds
        inventory = timed(stages, "read inventory (Ansible's vars plugins)", load_inventory, [str(root)])
        policy = load_policy()
        problems = timed(stages, "validate (schema, cross-refs; plans)", validate, inventory, policy)
        if problems:
            sys.exit(f"synthetic inventory is invalid: {problems[0]}")
        plan = timed(stages, "plan (kept from validating)", plan_inventory, inventory, policy)
        if args.stage == "plan":
            print(f"{len(inventory.hosts)} hosts, {args.datasets} data sets each")
            show(stages)
            show({"total (read + validate + plan)": total(stages.values())})
            print(f"  peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
            return 0
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        results = compliant_results(plan, now)
        if args.evidence == "distinct":
            distinct_stamps(results, now)
        report = timed(stages, "judge (build the report)", build_report, policy, inventory, plan, results,
                       list(inventory.hosts), now)
        for fmt in args.format or FORMATS:
            text = timed(stages, f"render {fmt}", render, report, fmt, "nl")
            stages[f"render {fmt} ({len(text) / 1e6:.1f} MB)"] = stages.pop(f"render {fmt}")
            del text
    controls = sum(len(h["controls"]) for h in report["hosts"].values())
    print(f"{len(inventory.hosts)} hosts, {args.datasets} data sets each, {controls} control results")
    show(stages)
    # What one command costs: `ivpb plan` is read + validate + plan; an audit's report is that
    # plus judging plus one rendering per output it writes (target: under 5 s each). Wall times
    # grow with the machine's load, CPU times much less: compare CPU times on a shared machine.
    planned = total(list(stages.values())[:3])
    judged = total([planned, stages["judge (build the report)"]])
    lines = {"ivpb plan: read + validate + plan": planned}
    for name, seconds in stages.items():
        if name.startswith("render "):
            lines[f"... + judge + {name.split(' (')[0]}"] = total([judged, seconds])
    lines["everything above in one process"] = total(stages.values())
    show(lines)
    print(f"  {'the whole process (with writing the inventory)':45s} {'':8s}  {time.process_time():6.2f} s CPU")
    print(f"  peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


def timed(stages: dict[str, tuple[float, float]], name: str, call, *args):
    """call(*args), its wall and CPU seconds kept as stages[name]."""
    t, cpu = time.perf_counter(), time.process_time()
    value = call(*args)
    stages[name] = (time.perf_counter() - t, time.process_time() - cpu)
    return value


def total(times) -> tuple[float, float]:
    times = list(times)
    return sum(w for w, _ in times), sum(c for _, c in times)


def show(stages: dict[str, tuple[float, float]]) -> None:
    for name, (wall, cpu) in stages.items():
        print(f"  {name:45s} {wall:6.2f} s  {cpu:6.2f} s CPU")


if __name__ == "__main__":
    sys.exit(main())
