# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reach a host in one round trip (no module, no Python needed on it): a host that does not
answer is unreachable here, a backup receiver says its SSH host key, and the Python interpreter
Ansible would discover before the host's first module is found in the same round trip."""

from __future__ import annotations

import re
import shlex

from ansible import constants as C
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

HOST_KEY = "/etc/ssh/ssh_host_ed25519_key.pub"
FOUND = "IVPB-PYTHON-FOUND"
END = "IVPB-PYTHON-END"
AUTO = ("auto", "auto_silent", "auto_legacy", "auto_legacy_silent")
# The interpreter the host names (root there chooses what `command -v` prints) becomes the first
# word of every later module's command line; ansible-core before 2.19 writes it there unquoted.
# Only a plain absolute path is taken: blanks, ';', '$' or quotes would be read by the host's shell.
INTERPRETER = re.compile(r"/[A-Za-z0-9._+/-]{1,254}")


def script(candidates: list[str], host_key: bool) -> str:
    """One shell line: the first of the candidates that exists (as Ansible's interpreter discovery
    asks it: `command -v`, one name at a time), then the host key's file when asked."""
    parts = []
    if candidates:
        parts.append(f"echo {FOUND}; " + "; ".join(f"command -v {shlex.quote(c)}" for c in candidates)
                     + f"; echo {END}")
    parts.append(f"cat {HOST_KEY} 2>/dev/null || true" if host_key else "true")
    return "; ".join(parts)


def parse(stdout: str) -> tuple[str | None, str]:
    """(the first interpreter found, or None; the output after the interpreters' part)."""
    head, found, tail = stdout.partition(END)
    if not found:
        return None, stdout
    paths = [line.strip() for line in head.split(FOUND, 1)[-1].splitlines() if line.strip().startswith("/")]
    return (paths[0] if paths else None), tail.lstrip("\r\n")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("host_key",))
    _supports_check_mode = True  # it changes nothing

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        discover = str(C.config.get_config_value("INTERPRETER_PYTHON", variables=task_vars)).strip() in AUTO \
            and "discovered_interpreter_python" not in (task_vars.get("ansible_facts") or {})
        candidates = C.config.get_config_value("INTERPRETER_PYTHON_FALLBACK", variables=task_vars) if discover else []
        res = self._low_level_execute_command(script(candidates, boolean(self._task.args.get("host_key", False))),
                                              sudoable=False)
        python, stdout = parse(res.get("stdout", ""))
        result.update(changed=False, rc=res.get("rc"), stdout=stdout, stdout_lines=stdout.splitlines(),
                      stderr=res.get("stderr", ""))
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
