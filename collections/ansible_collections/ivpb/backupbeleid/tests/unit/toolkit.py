"""A host toolkit Host (module_utils/host.py) over a real AnsibleModule built in-process, for
backend tests: files are written through the module's own atomic_move, commands run through its
run_command unless a test passes a recording runner (for systemctl, upsc, ip)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import time
from pathlib import Path

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import Host
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.packages import DPKG_STATUS


def make_host(monkeypatch, check_mode=False, diff=False, run=None, root="/"):
    args = {"_ansible_check_mode": check_mode, "_ansible_diff": diff}
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    return Host(basic.AnsibleModule(argument_spec={}, supports_check_mode=True), run=run, root=root)


# The duty the shipped policy file (src/ivpb/policies/backupbeleid.yml, enforced_by.duty) gives
# each of its controls: the tests hand modules their controls as the plan step does.
SHIPPED_DUTIES = {
    "power.ups": "ups", "power.redundant_ups": "redundant_ups",
    "internet.failover": "failover", "internet.sla": "sla",
    "backup.daily": "daily", "backup.weekly": "weekly", "backup.annual_full": "annual_full",
    "backup.encrypted": "encrypt", "backup.best_practice": "best_practice", "backup.sync_offsite": "offsite_sync",
}


def asked(*ids, datasets=None):
    """Controls as the plan step hands them to a module: [{id, duty[, datasets]}]."""
    return [{"id": i, "duty": SHIPPED_DUTIES[i], **({"datasets": list(datasets)} if datasets is not None else {})}
            for i in ids]


def with_packages(root, *names):
    """Give the host root at `root` a dpkg status file in which names are installed (and nothing
    else): modules read it under the host's root (module_utils/packages.py)."""
    status = root / DPKG_STATUS.lstrip("/")
    status.parent.mkdir(parents=True, exist_ok=True)
    status.write_text("".join(f"Package: {n}\nStatus: install ok installed\n\n" for n in names))
    return root


def plant_hostile_full(chain: Path, outside: Path) -> str:
    """A newer full in `chain` as a hostile receiver writes it (issue #22): a symbolic link `a` to
    the folder `outside`, then a file `a/x` (a cron line), with duplicity's manifest holding the
    volume's true SHA1. Returns its stamp; the caller writes the ivpb manifest it needs beside it."""
    time.sleep(1.1)  # a stamp of its own, newer than the chain's
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    vol = chain / f"duplicity-full.{stamp}.vol1.difftar.gz"
    with tarfile.open(vol, "w:gz", format=tarfile.GNU_FORMAT) as tar:
        for name, kind, payload in (("snapshot/.", tarfile.DIRTYPE, b""), ("snapshot/a", tarfile.SYMTYPE, b""),
                                    ("snapshot/a/x", tarfile.REGTYPE, b"* * * * * root id\n")):
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.size, info.linkname = kind, 0o755, len(payload), str(outside)
            tar.addfile(info, io.BytesIO(payload) if payload else None)
    sha = hashlib.sha1(vol.read_bytes(), usedforsecurity=False).hexdigest()
    (chain / f"duplicity-full.{stamp}.manifest").write_text(
        f"Volume 1:\n    StartingPath   .\n    EndingPath   a/x\n    Hash SHA1 {sha}\n")
    with tarfile.open(chain / f"duplicity-full-signatures.{stamp}.sigtar.gz", "w:gz"):
        pass
    return stamp
