"""Write a synthetic school-federation inventory: N hosts, each storing D data sets."""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_RECIPIENTS = yaml.safe_load((ROOT / "inventories/example/group_vars/all/backup.yml").read_text())

B = ["laag", "belangrijk", "noodzakelijk"]
I = ["laag", "vereist", "absoluut"]  # noqa: E741 - the policy's own letter
V = ["publiek", "intern", "vertrouwelijk", "geheim"]


def write(root: Path, hosts: int, datasets: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "group_vars").mkdir(exist_ok=True)
    (root / "host_vars").mkdir(exist_ok=True)
    names = [f"ds{n:03d}" for n in range(datasets)]
    school = {
        "ivpb_datasets": {
            n: {"biv": {"b": rng.choice(B), "i": rng.choice(I), "v": rng.choice(V)}, "archive": rng.random() > 0.1}
            for n in names
        },
        "ivpb_sites": {
            "campus": {"fire_protection": {"measures": ["rookmelder"],
                                           "safety_plan": {"reference": "VP-1", "date": "2026-03-01"}}},
            "extern": {"external": True,
                       "fire_protection": {"measures": ["datacenter"],
                                           "safety_plan": {"reference": "DC-1", "date": "2026-02-01"}}},
        },
        "ivpb_backup_targets": {"offsite": {"host": "backup01", "path": "/backup"}},
        "ivpb_gpg_recipients": EXAMPLE_RECIPIENTS["ivpb_gpg_recipients"],
        "ivpb_backup_encrypt_to": EXAMPLE_RECIPIENTS["ivpb_backup_encrypt_to"],
    }
    (root / "group_vars" / "all.yml").write_text(yaml.safe_dump(school))
    host_names = [f"host{n:04d}" for n in range(hosts)]
    infra = {"ups01": {"ivpb_site": "campus", "ivpb_nut_server": {"ups": {"ups-a": {"driver": "usbhid-ups"},
                                                                          "ups-b": {"driver": "usbhid-ups"}}}},
             "backup01": {"ivpb_site": "extern"}}
    for name, hv in infra.items():
        (root / "host_vars" / f"{name}.yml").write_text(yaml.safe_dump(hv))
    (root / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": dict.fromkeys([*infra, *host_names])}}))
    for h in host_names:
        hv = {
            "ivpb_site": "campus",
            "ivpb_needs_internet": False,
            "ivpb_backup_target": "offsite",
            "ivpb_stores": [{"dataset": n, "path": f"/srv/{n}", "sync_target": "offsite"} for n in names],
            "ivpb_ups_feeds": [{"server": "ups01", "ups": "ups-a"}, {"server": "ups01", "ups": "ups-b"}],
            "ivpb_nut_password": f"pw-{h}",
        }
        (root / "host_vars" / f"{h}.yml").write_text(yaml.safe_dump(hv))
    return root


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dest")
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--datasets", type=int, default=50)
    args = parser.parse_args()
    print(write(Path(args.dest), args.hosts, args.datasets))
