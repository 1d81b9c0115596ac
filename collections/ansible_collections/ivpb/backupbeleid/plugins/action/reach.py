# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reach a host in one round trip (no module, no Python needed on it): a host that does not
answer is unreachable here, a backup receiver says its SSH host key, a backup sender its public
backup key, and the Python interpreter Ansible would discover before the host's first module is
found in the same round trip."""

from __future__ import annotations

import re
import shlex

from ansible import constants as C
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import input_rules, receiver_layout

HOST_KEY = "/etc/ssh/ssh_host_ed25519_key.pub"
FOUND = "IVPB-PYTHON-FOUND"
END = "IVPB-PYTHON-END"
# Each key the host is asked for follows its marker line: (option, marker, the shell that prints it)
KEYS = (
    ("host_key", "IVPB-HOST-KEY", f"cat {HOST_KEY}"),
    # the public half only once the private key exists (backup_job makes a pair anew otherwise)
    ("backup_key", "IVPB-BACKUP-KEY",
     f"test -s {receiver_layout.CLIENT_KEY} && cat {receiver_layout.CLIENT_KEY}.pub"),
)
AUTO = ("auto", "auto_silent", "auto_legacy", "auto_legacy_silent")
# The interpreter the host names (root there chooses what `command -v` prints) becomes the first
# word of every later module's command line; ansible-core before 2.19 writes it there unquoted.
# Only a plain absolute path is taken: blanks, ';', '$' or quotes would be read by the host's shell.
INTERPRETER = re.compile(r"/[A-Za-z0-9._+/-]{1,254}")
HOST_KEY_RE = re.compile(input_rules.PATTERNS["ssh_public_key"])


def script(candidates: list[str], asked: set[str]) -> str:
    """One shell line: the first of the candidates that exists (as Ansible's interpreter discovery
    asks it: `command -v`, one name at a time), then each key asked for after its marker."""
    parts = []
    if candidates:
        parts.append(f"echo {FOUND}; " + "; ".join(f"command -v {shlex.quote(c)}" for c in candidates)
                     + f"; echo {END}")
    parts += [f"echo {marker}; {command} 2>/dev/null" for name, marker, command in KEYS if name in asked]
    return "; ".join([*parts, "true"])


def parse(stdout: str) -> tuple[str | None, dict[str, str]]:
    """(the first interpreter found, or None; key name -> the key the host said, "" when none).
    What the host prints is its own root's choice: a key is taken only as one line of the form
    its reader accepts (a host key as 'type base64', a backup key with its comment); anything
    else counts as no key, so the reader keeps what it had (the senders their pinned host key,
    the receivers the key they authorized before)."""
    head, found, tail = stdout.partition(END)
    python = None
    if found:
        paths = [line.strip() for line in head.split(FOUND, 1)[-1].splitlines() if line.strip().startswith("/")]
        python = paths[0] if paths else None
    else:
        tail = stdout
    keys, section = {}, None
    markers = {marker: name for name, marker, _command in KEYS}
    for line in tail.splitlines():
        words = line.split()
        if line.strip() in markers:
            section = markers[line.strip()]
            keys.setdefault(section, "")
        elif section and not keys[section]:
            value = " ".join(words[:2]) if section == "host_key" else " ".join(words)
            if (HOST_KEY_RE if section == "host_key" else receiver_layout.CLIENT_KEY_RE).fullmatch(value):
                keys[section] = value
    return python, keys


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(name for name, _marker, _command in KEYS)
    _supports_check_mode = True  # it changes nothing

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        discover = str(C.config.get_config_value("INTERPRETER_PYTHON", variables=task_vars)).strip() in AUTO \
            and "discovered_interpreter_python" not in (task_vars.get("ansible_facts") or {})
        candidates = C.config.get_config_value("INTERPRETER_PYTHON_FALLBACK", variables=task_vars) if discover else []
        asked = {name for name in self._VALID_ARGS if boolean(self._task.args.get(name, False))}
        res = self._low_level_execute_command(script(candidates, asked), sudoable=False)
        python, keys = parse(res.get("stdout", ""))
        result.update(changed=False, rc=res.get("rc"), stderr=res.get("stderr", ""))
        result.update({name: keys.get(name, "") for name in asked})
        if res.get("rc"):
            result.update(failed=True, msg=f"the reach exited {res.get('rc')}")
        elif discover and python and not INTERPRETER.fullmatch(python):
            result.update(failed=True, msg=f"the host names {python[:80]!r} as its Python interpreter: expected an "
                                           "absolute path of letters, digits, '.', '_', '+', '-' and '/'; set "
                                           "ansible_python_interpreter for this host")
        elif discover:
            # what Ansible's own discovery (auto) would have found, and its fallback when none
            result["ansible_facts"] = {"discovered_interpreter_python": python or "/usr/bin/python3"}
        return result
