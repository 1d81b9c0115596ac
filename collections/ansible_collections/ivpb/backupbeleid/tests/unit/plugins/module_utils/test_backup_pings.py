"""The backup job script's monitoring pings (issue #24), run for real on this machine: the script
as the module writes it, its paths moved into a folder of the test, pinging a real HTTP server on
loopback. A failed run pings <url>/<host>-<ds>-<kind>/start then .../fail with the reason, a good
one /start then the bare URL; the URL (it may hold the monitoring key) is in no log and in no
process's arguments."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import backup_job as bj
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.backup_script import SCRIPT
from ansible_collections.ivpb.backupbeleid.tests.unit.plugins.module_utils.test_webhook import (  # noqa: F401 pylint: disable=unused-import
    hook,  # the loopback HTTP server fixture
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("flock"),
                                reason="needs root (the lock directory is root's) and flock")
KEY = "/ping/s3cret-key"


@pytest.fixture
def job(tmp_path, hook):  # noqa: F811
    """ivpb-backup with its paths in a folder of the test, data set ds synced to `offsite`, rsync a
    stand-in that answers (the heartbeat's listing of the target)."""
    base = Path(tempfile.mkdtemp(prefix="ivpb-ping-test-", dir="/tmp"))
    etc, state = base / "etc", base / "state"
    (etc / "datasets").mkdir(parents=True)
    (etc / "backup.conf").write_text(bj.render_backup_conf({"ping": hook.url(KEY)}))
    src = tmp_path / "src"
    (etc / "datasets" / "ds.conf").write_text(
        f"DATASET=ds\nSOURCE={src}\nTARGET_HOST=root@nas\nTARGET_PORT=22\nTARGET_DIR=/srv\nENCRYPT_KEYS=''\n"
        "KEEP_FULL=2\nRECEIVER_RETENTION=1\nFULL_IF_OLDER_THAN=1M\nANNUAL=0\nSYNC_HOST=root@offsite\nSYNC_PORT=22\n"
        "SYNC_DIR=/srv\nSYNC_RECEIVER_RETENTION=1\n")
    script = SCRIPT
    for var, path in (("ETC", etc), ("STATE", state), ("LOG", base / "backup.log"), ("LOCK_DIR", base / "lock")):
        line = [x for x in script.splitlines() if x.startswith(f"{var}=")][0]
        script = script.replace(line, f"{var}={path}", 1)
    (base / "ivpb-backup").write_text(script)
    (base / "bin").mkdir()
    (base / "bin" / "rsync").write_text("#!/bin/sh\nexit 0\n")
    (base / "bin" / "rsync").chmod(0o755)
    yield base, src
    shutil.rmtree(base)


def run(base: Path, action: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{base / 'bin'}:{os.environ['PATH']}"}
    return subprocess.run(["bash", str(base / "ivpb-backup"), action, "ds"], capture_output=True, text=True, env=env,
                          check=False, timeout=120)


def test_a_failed_backup_pings_start_then_fail_with_the_reason(job, hook):  # noqa: F811
    base, src = job  # src does not exist: the backup fails before duplicity runs
    assert run(base, "run").returncode == 1
    node = os.uname().nodename
    assert [(path, body["status"]) for path, _method, body in hook.received] == [
        (f"{KEY}/{node}-ds-run/start", "start"), (f"{KEY}/{node}-ds-run/fail", "fail")]
    assert hook.received[1][2]["reason"] == f"source {src} is missing"
    log = (base / "backup.log").read_text()
    assert "FAILED: source" in log and "s3cret" not in log


def test_a_good_heartbeat_pings_start_then_success_and_a_dead_monitor_fails_nothing(job, hook):  # noqa: F811
    base, src = job
    src.mkdir()
    (src / "f").write_text("x")
    (base / "state" / "status").mkdir(parents=True)
    (base / "state" / "status" / "ds.sync_started").write_text("2026-11-29T00:00:00Z\n")
    os.utime(base / "state" / "status" / "ds.sync_started", (4102444800, 4102444800))  # newer than src
    assert run(base, "heartbeat").returncode == 0, (base / "backup.log").read_text()
    node = os.uname().nodename
    assert [received[0] for received in hook.received] == [f"{KEY}/{node}-ds-sync/start", f"{KEY}/{node}-ds-sync"]
    assert (base / "state" / "status" / "ds.last_sync").is_file()
    # the monitor answers 500 from now on: the job still succeeds, the log says so without the URL
    (base / "etc" / "backup.conf").write_text(bj.render_backup_conf({"ping": hook.url("/status/500")}))
    assert run(base, "heartbeat").returncode == 0
    log = (base / "backup.log").read_text()
    assert "monitoring ping (start) failed" in log and "monitoring ping (success) failed" in log
    assert "/status/500" not in log and "127.0.0.1" not in log
