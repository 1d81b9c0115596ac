"""The job script's verify of a plain data set (issue #22) run for real on this machine: real
duplicity, rsync and setpriv, the receiver a folder reached through a stand-in for ssh that runs
the command here (as rsync -e and the listing use it over SSH), the script's paths moved into a
folder of the test. It needs root (it drops to nobody, as on a host) and duplicity; the lab test
tests/lab/test_restore_hostile.py proves the same on the lab's hosts over real SSH."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import backup_manifest, host_program
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.backup_script import SCRIPT
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import plant_hostile_full


def _nobody() -> bool:
    try:
        return pwd.getpwnam("nobody").pw_uid != 0
    except KeyError:
        return False


pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not _nobody() or not all(shutil.which(t) for t in ("duplicity", "rsync", "setpriv", "flock")),
    reason="needs root, the user nobody, duplicity, rsync, setpriv and flock")


@pytest.fixture
def host(tmp_path):
    """The script with its paths in a folder nobody can enter (like /var/lib), a receiver beside it."""
    base = Path(tempfile.mkdtemp(prefix="ivpb-verify-test-", dir="/tmp"))
    base.chmod(0o755)
    etc, state = base / "etc", base / "state"
    (etc / "datasets").mkdir(parents=True)
    recv = base / "receiver"
    (recv / "chain").mkdir(parents=True)
    (recv / "manifests").mkdir()
    (etc / "backup.conf").write_text("HOOK_WEBHOOK=''\nHOOK_MAIL=''\nHOOK_COMMAND=''\n")
    (etc / "datasets" / "ds.conf").write_text(
        f"DATASET=ds\nSOURCE={tmp_path / 'src'}\nTARGET_HOST=root@receiver\nTARGET_PORT=22\nTARGET_DIR={recv}\n"
        "ENCRYPT_KEYS=''\nKEEP_FULL=2\nRECEIVER_RETENTION=1\nFULL_IF_OLDER_THAN=1M\nANNUAL=0\nSYNC_HOST=''\n")
    script = SCRIPT
    for var, path in (("ETC", etc), ("STATE", state), ("LOG", base / "backup.log"), ("LOCK_DIR", base / "lock"),
                      ("VERIFY_DIR", base / "lib" / "verify")):
        line = [x for x in script.splitlines() if x.startswith(f"{var}=")][0]
        script = script.replace(line, f"{var}={path}", 1)
    (base / "ivpb-backup").write_text(script)
    (base / "bin").mkdir()
    ssh = base / "bin" / "ssh"  # ssh [options] HOST COMMAND: drop everything up to the host, run it here
    ssh.write_text('#!/bin/bash\nwhile [[ $1 == -* ]]; do [[ $1 == -[opil] ]] && shift; shift; done\n'
                   'shift\nexec bash -c "$*"\n')
    ssh.chmod(0o755)
    yield base, recv, tmp_path / "src"
    shutil.rmtree(base)


def verify(base: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{base / 'bin'}:{os.environ['PATH']}"}
    return subprocess.run(["bash", str(base / "ivpb-backup"), "verify", "ds"], capture_output=True, text=True,
                          env=env, check=False, timeout=600)


def backup(src: Path, recv: Path, cache: Path) -> str:
    """One duplicity backup to the receiver and its manifest, as the job script's run makes them."""
    started = time.time_ns()
    subprocess.run(["duplicity", "full", "--no-encryption", "--archive-dir", str(cache), "--name", "ds",
                    "--verbosity", "error", str(src), f"file://{recv / 'chain'}"], check=True, capture_output=True)
    stamp = max(n.split(".")[1] for n in os.listdir(recv / "chain") if n.startswith("duplicity-full."))
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.strptime(stamp, "%Y%m%dT%H%M%SZ"))
    doc = subprocess.run([sys.executable, "-c", host_program.text(backup_manifest), "write", str(src), "ds", "srv", "chain", iso, "",
                          str(started), str(cache / "hashes")], check=True, capture_output=True, text=True).stdout
    (recv / "manifests" / f"{stamp}.json").write_text(doc)
    return stamp


def test_the_verify_restores_as_nobody_keeps_modes_and_links_and_leaves_nothing(host):
    base, recv, src = host
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "tool").write_bytes(b"#!/bin/sh\n")
    (src / "sub" / "tool").chmod(0o4755)  # a setuid program the manifest lists: passes as backed up
    (src / "private.txt").write_text("root only\n")
    (src / "private.txt").chmod(0o600)
    (src / "closed").mkdir(mode=0o500)
    (src / "naar etc").symlink_to("/etc")
    time.sleep(2.1)  # past the manifest's margin: every entry must match exactly
    backup(src, recv, base / "cache")
    proc = verify(base)
    log = (base / "backup.log").read_text()
    assert proc.returncode == 0, log + proc.stderr
    assert "restore of" in log and "checked against its manifest: 2 files" in log, log
    assert list((base / "lib" / "verify").iterdir()) == []
    assert (base / "lib" / "verify").stat().st_mode & 0o7777 == 0o711


def test_the_verify_refuses_a_chain_that_writes_through_a_symlink_before_restoring(host):
    base, recv, src = host
    src.mkdir()
    (src / "f.txt").write_text("x\n")
    backup(src, recv, base / "cache")
    outside = base / "outside"  # stands for /etc/cron.d
    outside.mkdir(mode=0o777)
    stamp = plant_hostile_full(recv / "chain", outside)
    (recv / "manifests" / f"{stamp}.json").write_text('{"format": "ivpb-manifest/2", "entries": [], "bytes": 18}')
    proc = verify(base)
    log = (base / "backup.log").read_text()
    assert proc.returncode == 1, log
    assert "refused before any restore" in log and "'a/x' lies below the symbolic link 'a'" in log, log
    assert list(outside.iterdir()) == [] and list((base / "lib" / "verify").iterdir()) == []
