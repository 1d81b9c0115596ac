"""A hostile chain on the receiver (issue #22 items 1 and 7), on the lab's real hosts: real
duplicity 0.8.22, rsync and ssh. Root on the receiver plants, beside nas's real backups of
lesmateriaal, a newer full whose volume holds a symbolic link `a -> /tmp/ivpb-hostile` followed
by a file `a/pwned` (duplicity writes such a file through the link), with a duplicity manifest
whose SHA1 matches it and an ivpb manifest beside it, sealed like the receiver seals. The
client's weekly verify (which runs as root) and `ivpb restore` / `--drill` on this machine must
refuse it before anything is restored and leave nothing outside their folders.

It starts from the school lab/demo left (tests/lab/conftest.py, shared with the other lab
tests) plus test_restore's `lab` step (more data, the night's jobs again), and removes what it
planted. Run it under the lab lock:
  flock -o /tmp/ivpb-lab.lock .venv/bin/pytest -q -m lab tests/lab/test_restore_hostile.py
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

from tests.lab.test_restore import RECEIVER_BASE, on, restore, run
from tests.lab.test_restore import lab as lab  # noqa: F401 (the module's lab fixture, brought up here)

pytestmark = pytest.mark.lab

TARGET = "/tmp/ivpb-hostile"  # where the planted link points, on the client and on this machine
AREA = f"{RECEIVER_BASE}/nas/lesmateriaal"

PLANT = r"""
import hashlib, io, json, os, sys, tarfile, time
area, target = sys.argv[1], sys.argv[2]
stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
chain = os.path.join(area, "chain")

def entry(name, kind, data=b"", link="", mode=0o644):
    i = tarfile.TarInfo(name)
    i.type, i.mode, i.linkname, i.size, i.mtime = kind, mode, link, len(data), int(time.time())
    return i, io.BytesIO(data) if data else None

vol = os.path.join(chain, f"duplicity-full.{stamp}.vol1.difftar.gz")
with tarfile.open(vol, "w:gz", format=tarfile.GNU_FORMAT) as t:
    for i, f in (entry("snapshot/.", tarfile.DIRTYPE, mode=0o755), entry("snapshot/a", tarfile.SYMTYPE, link=target),
                 entry("snapshot/a/pwned", tarfile.REGTYPE, b"* * * * * root touch /tmp/pwned\n")):
        t.addfile(i, f)
sha = hashlib.sha1(open(vol, "rb").read()).hexdigest()
with open(os.path.join(chain, f"duplicity-full.{stamp}.manifest"), "w") as m:
    m.write(f"Hostname nas\nLocaldir /srv/nas/lesmateriaal\nVolume 1:\n    StartingPath   .\n"
            f"    EndingPath   a/pwned\n    Hash SHA1 {sha}\nFilelist 2\n    new      a\n    new      a/pwned\n")
with tarfile.open(os.path.join(chain, f"duplicity-full-signatures.{stamp}.sigtar.gz"), "w:gz") as t:
    pass
iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.strptime(stamp, "%Y%m%dT%H%M%SZ"))
doc = {"format": "ivpb-manifest/3", "host": "nas", "dataset": "lesmateriaal", "kind": "chain", "backup_time": iso,
       "entries": [{"path": ".", "type": "dir", "dir": True, "mode": 0o755, "ctime": 0},
                   {"path": "a", "type": "link", "target": target, "ctime": 0},
                   {"path": "a/pwned", "type": "file", "mode": 0o644, "size": 32, "sha256": "0" * 64, "ctime": 0}],
       "files": 1, "bytes": 32}
with open(os.path.join(area, "manifests", f"{stamp}.json"), "w") as f:
    json.dump(doc, f)
for p in (vol, *(os.path.join(chain, f"duplicity-full{s}.{stamp}.{e}") for s, e in
                 (("", "manifest"), ("-signatures", "sigtar.gz"))), os.path.join(area, "manifests", f"{stamp}.json")):
    os.chown(p, 0, os.stat(chain).st_gid)  # sealed as the receiver seals: root, the client's group, 0440
    os.chmod(p, 0o440)
print(stamp)
"""


@pytest.fixture(scope="module")
def planted(lab):
    """The hostile full on the receiver, newest of the chain; removed again afterwards."""
    for host in ("nas", "nas-offsite"):
        on(host, f"rm -rf {TARGET} /tmp/pwned && mkdir -m 0777 {TARGET}")
    Path(TARGET).mkdir(mode=0o777, exist_ok=True)
    on("nas-offsite", f"echo {base64.b64encode(PLANT.encode()).decode()} | base64 -d > /root/plant.py")
    stamp = on("nas-offsite", f"python3 /root/plant.py {AREA} {TARGET}").strip()
    yield stamp
    on("nas-offsite", f"cd {AREA} && (chattr -i chain/*.{stamp}.* manifests/{stamp}.json 2>/dev/null; true) && "
                      f"rm -f chain/*.{stamp}.* manifests/{stamp}.json /root/plant.py")
    shutil.rmtree(TARGET, ignore_errors=True)


def nothing_written(host: str | None) -> None:
    listing = on(host, f"ls -A {TARGET}; ls /tmp/pwned 2>/dev/null; true") if host else \
        "\n".join(p.name for p in Path(TARGET).iterdir())
    assert listing.strip() == "", f"{host or 'this machine'}: {listing}"


def test_the_clients_weekly_verify_refuses_the_chain_before_restoring_it(lab, planted):
    proc = run("lab/lab", "ssh", "nas", "/usr/local/lib/ivpb/ivpb-backup verify lesmateriaal")
    assert proc.returncode != 0, proc.stdout + proc.stderr
    log = on("nas", "tail -n 20 /var/log/ivpb/backup.log")
    assert "refused before any restore" in log and "lies below the symbolic link 'a'" in log, log
    nothing_written("nas")
    assert on("nas", "ls -A /var/lib/ivpb/verify/").strip() == ""  # its scratch folder is gone


def test_ivpb_restore_and_a_drill_refuse_it_and_write_nothing_outside(lab, planted, tmp_path):
    out = tmp_path / "x"
    proc = restore(lab, "--host", "nas", "--dataset", "lesmateriaal", "--to", str(out), key=False)
    assert proc.returncode == 1 and "lies below the symbolic link 'a'" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".x.ivpb-restore-")]  # no stage left
    nothing_written(None)
    proc = restore(lab, "--host", "nas", "--dataset", "lesmateriaal", "--drill", key=False)
    assert proc.returncode == 1 and "lies below the symbolic link 'a'" in proc.stderr, proc.stderr
    nothing_written(None)
    files = sorted((lab["evidence"] / "drills" / "nas" / "lesmateriaal").glob("*.json"))
    doc = json.loads(files[-1].read_text())
    assert doc["result"] == "failed" and "symbolic link" in doc["problems"][0], doc
    # onto a host: nothing reaches it either
    proc = restore(lab, "--host", "nas", "--dataset", "lesmateriaal", "--to", "nas:/srv/hostile-test", key=False)
    assert proc.returncode == 1, proc.stderr
    assert on("nas", "ls -A /srv/hostile-test 2>/dev/null; true").strip() == ""
    nothing_written("nas")
