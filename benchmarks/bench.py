"""Benchmark (issue #8): how much more than a ping does an audit, or a no-op enforce run, cost?

Brings up N hosts of the lab image reached over SSH (as in production), converges them with
playbooks/enforce.yml, runs their backup jobs once (so the audit has fresh evidence), then times,
alternated in each repetition (wall seconds, and the CPU seconds of the controller and the hosts):
  (a) ansible all -m ping            the floor: one round trip per host
  (b) ivpb audit                     enforce.yml in check+diff mode through ansible-runner
  (c) ansible-playbook enforce.yml   on converged hosts (nothing to change)
and prints the medians and the ratios b/a and c/a (target: at most 2 at N = 10, issue #26).

    make bench                      # N = 10
    .venv/bin/python benchmarks/bench.py --hosts 20 --reps 5 --keep

The hosts: bench01 serves the UPS (NUT), bench02 receives the backups (at another site), the
others each store a daily, encrypted data set and a weekly one and monitor the UPS.
"""

from __future__ import annotations

import argparse
import configparser
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "localhost/ivpb-host:bookworm"
LABEL = "ivpb.bench=1"
NETWORK = "ivpb-bench"
BASE_PORT = 2400


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{e.get('PATH', '')}"
    e["CONTAINERS_CONF"] = str(ROOT / "lab" / "containers.conf")
    e["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    e["ANSIBLE_NOCOLOR"] = "1"
    return e


def sh(*args: str, check: bool = True, quiet: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(args), cwd=ROOT, env=env(), capture_output=quiet, text=True, check=False)
    if check and proc.returncode != 0:
        tail = "\n".join(((proc.stdout or "") + (proc.stderr or "")).splitlines()[-20:])
        sys.exit(f"bench: {' '.join(args[:3])} failed (exit {proc.returncode}):\n{tail}")
    return proc


def names(n: int) -> list[str]:
    return [f"bench{i:02d}" for i in range(1, n + 1)]


def write_inventory(root: Path, hosts: list[str]) -> Path:
    example = yaml.safe_load((ROOT / "inventories/example/group_vars/all/backup.yml").read_text())
    school = {
        "ivpb_datasets": {
            "admin": {"biv": {"b": "belangrijk", "i": "vereist", "v": "vertrouwelijk"}},
            "fotos": {"biv": {"b": "laag", "i": "laag", "v": "intern"}},
        },
        "ivpb_sites": {
            "campus": {"fire_protection": {"measures": ["rookmelder"],
                                           "safety_plan": {"reference": "VP-BENCH", "date": "2026-09-01"}}},
            "extern": {"fire_protection": {"measures": ["blusser"],
                                           "safety_plan": {"reference": "VP-EXT", "date": "2026-09-01"}}},
        },
        "ivpb_backup_targets": {"offsite": {"host": hosts[1], "path": "/srv/backup"}},
        "ivpb_gpg_recipients": example["ivpb_gpg_recipients"],
        "ivpb_backup_encrypt_to": example["ivpb_backup_encrypt_to"],
        "ivpb_needs_internet": False,
        "ivpb_site": "campus",
        "ansible_host": "127.0.0.1",
        "ansible_user": "root",
        "ansible_ssh_private_key_file": str(ROOT / ".lab" / "id_ed25519"),
        "ansible_ssh_common_args": "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no "
                                   "-o IdentitiesOnly=yes -o LogLevel=ERROR",
    }
    host_vars = {h: {"ansible_port": BASE_PORT + i} for i, h in enumerate(hosts, start=1)}
    host_vars[hosts[0]]["ivpb_nut_server"] = {"listen": ["0.0.0.0"], "ups": {"ups-a": {"driver": "dummy-ups"}}}
    host_vars[hosts[1]]["ivpb_site"] = "extern"
    for h in hosts[2:]:
        host_vars[h].update({
            "ivpb_backup_target": "offsite",
            "ivpb_stores": [{"dataset": "admin", "path": "/srv/data/admin"},
                            {"dataset": "fotos", "path": "/srv/data/fotos"}],
            "ivpb_ups_feeds": [{"server": hosts[0], "ups": "ups-a"}],
            "ivpb_nut_password": f"bench-{h}",
        })
    (root / "group_vars").mkdir(parents=True)
    (root / "host_vars").mkdir()
    (root / "group_vars" / "all.yml").write_text(yaml.safe_dump(school, allow_unicode=True))
    for h, hv in host_vars.items():
        (root / "host_vars" / f"{h}.yml").write_text(yaml.safe_dump(hv))
    (root / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": dict.fromkeys(hosts)}}))
    return root


def up(hosts: list[str]) -> None:
    sh("lab/lab", "init")
    if sh("podman", "network", "exists", NETWORK, check=False).returncode != 0:
        sh("podman", "network", "create", "--label", LABEL, NETWORK)
    for i, h in enumerate(hosts, start=1):
        sh("podman", "run", "-d", "--name", f"ivpb-{h}", "--hostname", h, "--label", LABEL,
           "--systemd=always", "--cap-add", "NET_ADMIN,NET_RAW,SYS_ADMIN",
           "--network", f"{NETWORK}:alias={h}", "-p", f"127.0.0.1:{BASE_PORT + i}:22",
           "-v", f"{ROOT / '.lab' / 'id_ed25519.pub'}:/etc/ssh/lab_authorized_keys:ro", IMAGE, "/sbin/init")


def down() -> None:
    ids = sh("podman", "ps", "-aq", "--filter", f"label={LABEL}").stdout.split()
    if ids:
        sh("podman", "rm", "-f", "-t", "0", *ids)
    if sh("podman", "network", "exists", NETWORK, check=False).returncode == 0:
        sh("podman", "network", "rm", NETWORK, check=False)


def wait_ssh(inv: list[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sh("ansible", "all", *inv, "-m", "ping", check=False).returncode == 0:
            return
        time.sleep(2)
    sys.exit("bench: the hosts did not answer over SSH in time")


def cpu_files(hosts: list[str]) -> list[Path]:
    """Each bench container's CPU counter (cgroup v1 cpuacct.usage in ns, or v2 cpu.stat), where
    this machine lets us read it; [] where not (the hosts' CPU is then not shown)."""
    files = []
    for h in hosts:
        cg = sh("podman", "inspect", "-f", "{{.State.CgroupPath}}", f"ivpb-{h}", check=False).stdout.strip()
        found = [f for f in (Path(f"/sys/fs/cgroup/cpuacct{cg}/cpuacct.usage"), Path(f"/sys/fs/cgroup{cg}/cpu.stat"))
                 if cg and f.is_file()]
        if not found:
            return []
        files.append(found[0])
    return files


def hosts_cpu(files: list[Path]) -> float:
    total = 0.0
    for f in files:
        text = f.read_text()
        total += int(text) / 1e9 if f.name == "cpuacct.usage" else \
            int(next(line.split()[1] for line in text.splitlines() if line.startswith("usage_usec"))) / 1e6
    return total


def timed(args: list[str], cpu: list[Path], ok_codes=(0,)) -> tuple[float, float, float]:
    """(wall, CPU of the controller's processes, CPU of the bench hosts) of one run."""
    before, host_before = resource.getrusage(resource.RUSAGE_CHILDREN), hosts_cpu(cpu)
    start = time.perf_counter()
    proc = sh(*args, check=False)
    wall = time.perf_counter() - start
    after, host_after = resource.getrusage(resource.RUSAGE_CHILDREN), hosts_cpu(cpu)
    if proc.returncode not in ok_codes:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
        sys.exit(f"bench: {' '.join(args[:2])} exited {proc.returncode}:\n{tail}")
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, host_after - host_before


def print_profile(inv: list[str]) -> None:
    """Per task: wall time of the whole task across all hosts (the callback in benchmarks/callback_plugins)."""
    extra = {"ANSIBLE_CALLBACK_PLUGINS": str(ROOT / "benchmarks" / "callback_plugins"),
             "ANSIBLE_CALLBACKS_ENABLED": "ivpb_task_times"}
    for title, args in (("audit (check + diff)", ["--check", "--diff"]), ("enforce (converged)", [])):
        proc = subprocess.run(["ansible-playbook", "playbooks/enforce.yml", *inv, *args], cwd=ROOT,
                              env={**env(), **extra}, capture_output=True, text=True, check=False)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("ivpb-task-time")]
        print(f"profile of {title}:")
        for line in lines:
            print("  " + line.removeprefix("ivpb-task-time").strip())


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.machine())
    mem = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))) // 1024 // 1024
    return f"{os.cpu_count()} cores ({model}), {mem} GiB, {platform.system()} {platform.release()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--keep", action="store_true",
                        help="leave the hosts and their inventory (.lab/bench-inventory) for --reuse")
    parser.add_argument("--reuse", action="store_true",
                        help="time the hosts a --keep run left, without starting or converging them again")
    parser.add_argument("--profile", action="store_true",
                        help="also print what each task of one audit and one enforce run costs")
    args = parser.parse_args()
    if args.hosts < 3:
        sys.exit("bench: --hosts must be at least 3 (UPS server, backup target, one client)")
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "ansible.cfg")
    forks = cfg.get("defaults", "forks", fallback="5")
    hosts = names(args.hosts)
    kept = ROOT / ".lab" / "bench-inventory"
    if args.reuse:
        if not (kept / "hosts.yml").exists():
            sys.exit("bench: --reuse needs the hosts of an earlier run with --keep")
        hosts = sorted(yaml.safe_load((kept / "hosts.yml").read_text())["all"]["hosts"])
        args.hosts = len(hosts)
    with tempfile.TemporaryDirectory(prefix="ivpb-bench-") as tmp:
        root = kept if args.keep or args.reuse else Path(tmp) / "inventory"
        inv = ["-i", str(root)]
        try:
            if not args.reuse:
                down()
                shutil.rmtree(root, ignore_errors=True)
                write_inventory(root, hosts)
                print(f"bench: starting {args.hosts} hosts", file=sys.stderr)
                up(hosts)
                wait_ssh(inv)
                print("bench: converging (enforce.yml) and running the backup jobs once", file=sys.stderr)
                sh("ansible-playbook", "lab/seed-data.yml", *inv)
                sh("ansible-playbook", "playbooks/enforce.yml", *inv)
                sh("ansible-playbook", "lab/run-backups.yml", *inv)
            print("bench: timing", file=sys.stderr)
            # alternated, so that a change in the machine's load falls on all three alike
            cpu = cpu_files(hosts)
            ping, audit, enforce = [], [], []
            for _ in range(args.reps):
                ping.append(timed(["ansible", "all", *inv, "-m", "ping"], cpu))
                audit.append(timed(["ivpb", "audit", *inv, "-q", "--format", "json"], cpu, ok_codes=(0, 2)))
                enforce.append(timed(["ansible-playbook", "playbooks/enforce.yml", *inv], cpu))
            if args.profile:
                print_profile(inv)
        finally:
            if not (args.keep or args.reuse):
                down()
    a, b, c = (statistics.median(run[0] for run in x) for x in (ping, audit, enforce))
    print(f"machine: {machine()}")
    print(f"hosts: {args.hosts}, forks: {forks}, repetitions: {args.reps} (alternated)")
    for label, median, runs in (("(a) ansible all -m ping", a, ping), ("(b) ivpb audit", b, audit),
                                ("(c) enforce.yml (converged)", c, enforce)):
        print(f"{label:30s} median {median:6.2f} s  runs {', '.join(f'{run[0]:.2f}' for run in runs)}")
    print(f"b/a = {b / a:.2f}   c/a = {c / a:.2f}   (target: at most 2)")
    # CPU seconds move much less with the machine's load than wall seconds
    for label, runs in (("(a)", ping), ("(b)", audit), ("(c)", enforce)):
        ctl, hst = (statistics.median(run[i] for run in runs) for i in (1, 2))
        print(f"{label} CPU median: controller {ctl:.2f} s" + (f", hosts {hst:.2f} s" if cpu else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
