# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one webhook sender of the programs the collection writes to hosts: the backup job's
failure hook (backup_script.py), the NUT notify script (nut_client.py) and the failover daemon
(wan_failover_daemon.py). Those programs run without Ansible (cron, upsmon, systemd), so this is
not `fetch_url`/`open_url` but the standard library's http.client; its text goes into them.

- `post(url, payload, timeout)`: a JSON POST to an http(s) URL (certificates checked against the
  host's CAs); a refused connection or an answer of 400 and above raises OSError. Self-contained:
  its source (host_program.definition) is a whole definition, which the daemon carries in its own text.
- `program(timeout)`: the same as a python3 program for shell scripts,
  `IVPB_WEBHOOK=URL python3 - key=value... <<'PY'` + program + `PY`: the payload is the
  key=value words (strings), the URL comes from the environment (not the process list: it may
  hold a token).
"""

from __future__ import annotations

from ansible_collections.ivpb.backupbeleid.plugins.module_utils import host_program


def post(url, payload, timeout=20):
    """POST payload as JSON to an http(s) URL; an error answer raises OSError."""
    import http.client
    import json
    import ssl
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout,
                                           context=ssl.create_default_context())
    elif parts.scheme == "http":
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    else:
        raise OSError(f"webhook: not an http(s) URL: {parts.scheme}")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", target, json.dumps(payload).encode(), {"Content-Type": "application/json"})
        status = conn.getresponse().status
    finally:
        conn.close()
    if status >= 400:
        raise OSError(f"webhook answered HTTP {status}")


def program(timeout: int) -> str:
    """`post` as a python3 program: URL from $IVPB_WEBHOOK, payload from key=value arguments."""
    return (host_program.definition(post) + "\n\nimport os, sys\n\n"
            f"post(os.environ['IVPB_WEBHOOK'], dict(a.split('=', 1) for a in sys.argv[1:]), {int(timeout)})\n")
