"""Monitoring pings on the lab's real hosts (issue #24).

On the example school as lab/demo left it (tests/lab/conftest.py): a loopback HTTP server on
fileserver stands in for the contractor's monitoring (healthchecks-style), enforce.yml sets
ivpb_backup_failure_hook.ping to it (the backup role only, fileserver only), a backup is forced to
fail (its source moved away) and then runs again. The server receives start and fail (with the
reason), then start and success; the monitoring key in the URL is in no log. backup.conf, the
source and the job's failure record are put back whatever happens, so the tests after this one
find the lab as the demo left it.

Run under the shared lab lock:
    flock -o /tmp/ivpb-lab.lock .venv/bin/pytest -q -m lab tests/lab/test_pings.py
"""

from __future__ import annotations

import json
import shlex

import pytest

from tests.lab.test_enforce_audit import INV, ok, on, run

pytestmark = pytest.mark.lab

PORT = 18765
KEY = "/ping/lab-monitoring-s3cret"
CONF = "/etc/ivpb/backup/backup.conf"
SOURCE = "/srv/data/boekhouding"  # fileserver's data set boekhouding (inventories/example)
RECEIVED = "/tmp/ivpb-pings.jsonl"
# The stand-in monitor: every request as one JSON line (method, path, body), answered 200.
SERVER = f"""
import http.server, json
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with open({RECEIVED!r}, "a") as f:
            f.write(json.dumps({{"method": "POST", "path": self.path, "body": json.loads(body or b"null")}}) + "\\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", {PORT}), H).serve_forever()
"""


@pytest.fixture(scope="module")
def lab(demo_lab):
    return demo_lab


def test_a_forced_failure_reaches_the_monitoring_url(lab):
    saved = on("fileserver", f"base64 -w0 {CONF}").strip()
    on("fileserver", f"rm -f {RECEIVED}; printf %s {shlex.quote(SERVER)} >/tmp/ivpb-ping-server.py; "
                     "(setsid python3 /tmp/ivpb-ping-server.py >/dev/null 2>&1 & echo $! >/tmp/ivpb-ping-server.pid)")
    try:
        hook = {"mail": "ict@example.org", "ping": f"http://127.0.0.1:{PORT}{KEY}"}
        play = ok(run("ansible-playbook", "playbooks/enforce.yml", *INV, "--limit", "fileserver", "--tags", "backup",
                      "-e", json.dumps({"ivpb_backup_failure_hook": hook})))
        assert "s3cret" not in play
        assert f"HOOK_PING='http://127.0.0.1:{PORT}{KEY}'" in on("fileserver", f"cat {CONF}")  # shell-quoted
        try:
            failed = run("lab/lab", "ssh", "fileserver", f"mv {SOURCE} {SOURCE}.away && "
                                                         "/usr/local/lib/ivpb/ivpb-backup run boekhouding")
        finally:
            on("fileserver", f"mv {SOURCE}.away {SOURCE}")
        assert failed.returncode == 1, failed.stderr
        on("fileserver", "/usr/local/lib/ivpb/ivpb-backup run boekhouding")  # good again: clears the failure
        received = [json.loads(line) for line in on("fileserver", f"cat {RECEIVED}").splitlines()]
        node = on("fileserver", "hostname").strip()
        job = f"{KEY}/{node}-boekhouding-run"
        assert [(r["path"], r["body"]["status"]) for r in received] == [
            (f"{job}/start", "start"), (f"{job}/fail", "fail"), (f"{job}/start", "start"), (job, "success")]
        assert received[1]["body"]["reason"] == f"source {SOURCE} is missing"
        assert received[1]["body"]["host"] == node and received[1]["body"]["dataset"] == "boekhouding"
        logs = on("fileserver", "cat /var/log/ivpb/backup.log; journalctl -q -t ivpb-backup --no-pager 2>/dev/null || true")
        assert "FAILED: source /srv/data/boekhouding is missing" in logs and "s3cret" not in logs
        assert on("fileserver", "ls /var/lib/ivpb/backup/status/").split().count("boekhouding.run_failed") == 0
    finally:
        on("fileserver", f"echo {saved} | base64 -d >{CONF}; kill $(cat /tmp/ivpb-ping-server.pid) 2>/dev/null; "
                         f"rm -f /tmp/ivpb-ping-server.py /tmp/ivpb-ping-server.pid {RECEIVED}")
