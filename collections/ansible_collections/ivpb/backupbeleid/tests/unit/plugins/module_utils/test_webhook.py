"""The one webhook sender (module_utils/webhook.py) in each program that carries it: the backup
job's failure hook (bash), the NUT notify script (sh) and the failover daemon as written to the
host. Each posts to a real HTTP server on loopback."""

from __future__ import annotations

import json
import os
import re
import runpy
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import host_program, webhook
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import nut_client as nc
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import wan_failover as wf
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.backup_script import SCRIPT
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import asked


@pytest.fixture
def hook():
    """A loopback HTTP server: .url(path, status) to post to, .received the (path, type, JSON) seen."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], json.loads(body)))
            self.send_response(int(self.path.rsplit("/", 1)[-1]) if self.path.startswith("/status/") else 204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.received = received
    server.url = lambda path="/hook?token=s3cret": f"http://127.0.0.1:{server.server_address[1]}{path}"
    yield server
    server.shutdown()
    server.server_close()


def test_post_sends_json_and_an_error_answer_raises(hook):
    webhook.post(hook.url(), {"event": "switch", "n": 1}, timeout=5)
    assert hook.received == [("/hook?token=s3cret", "application/json", {"event": "switch", "n": 1})]
    with pytest.raises(OSError, match="HTTP 500"):
        webhook.post(hook.url("/status/500"), {}, timeout=5)
    with pytest.raises(OSError, match="not an http"):
        webhook.post("ftp://127.0.0.1/x", {}, timeout=5)


def test_backup_failure_hook_posts_through_the_sender(hook):
    function = re.search(r"^webhook\(\) \{\n.*?^\}\n", SCRIPT, re.S | re.M).group(0)
    env = {**os.environ, "HOOK_WEBHOOK": hook.url(), "DS": "lln", "ACTION": "run"}
    subprocess.run(["bash", "-c", function + 'webhook "duplicity failed: it\'s = broken"'], env=env, check=True,
                   timeout=30)
    [(path, kind, body)] = hook.received
    assert path == "/hook?token=s3cret" and kind == "application/json"
    assert body == {"host": os.uname().nodename, "dataset": "lln", "action": "run", "status": "failed",
                    "reason": "duplicity failed: it's = broken"}


def test_nut_notify_script_posts_through_the_sender(hook, tmp_path):
    settings = nc.settings_from_params({"controls": asked("power.ups"), "notify_webhook": hook.url(),
                                        "ups": [{"name": "ups-a", "server": "nutserver", "user": "m",
                                                 "password": "pw"}]})
    script = tmp_path / "ivpb-notify"
    script.write_text(nc.render_notify_script(settings))
    env = {**os.environ, "NOTIFYTYPE": "ONBATT", "UPSNAME": "ups-a@nutserver"}
    subprocess.run(["sh", str(script), "UPS on battery"], env=env, check=True, timeout=30)
    assert hook.received == [("/hook?token=s3cret", "application/json",
                              {"text": f"{os.uname().nodename}: ONBATT ups-a@nutserver: UPS on battery"})]


def test_daemon_as_written_to_the_host_carries_the_sender(hook, tmp_path):
    source = host_program.text(wf.daemon_mod)
    assert "ansible_collections" not in source and source.count("def post(") == 1
    path = tmp_path / "ivpb-wan-failover"
    path.write_text(source)
    daemon = runpy.run_path(str(path), run_name="ivpb_wan_failover")
    daemon["Daemon"]({"uplinks": [], "webhook": hook.url(), "host": "router"})._post({"event": "switch"})
    assert hook.received == [("/hook?token=s3cret", "application/json", {"event": "switch"})]
