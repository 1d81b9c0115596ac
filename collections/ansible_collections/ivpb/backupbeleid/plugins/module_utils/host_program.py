# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the collection ships the programs that run on hosts without Ansible (from cron, sshd's
forced command, systemd, the backup job script) and on the controller (ivpb restore): one way for
all of them. Each is a module_utils file of its own that IS the program: Python 3, standard
library only, importable by its module and its tests (nothing runs on import), its command line
in `if __name__ == "__main__":`. text() is what a module writes to the host (or the job script
embeds, or the controller runs with `python3 -c`): the file's own source, with a python3 shebang,
and each import `from <module> import <names>  # ivpb: inline` (the mark on its first line)
replaced by those definitions'
source (a constant as `NAME = <its repr>`), so a program carries what it shares with another
(webhook.post, receiver_layout's folder names) in its own text.

The bash job script (backup_script) is bash, not Python: it is kept as text and embeds the
programs it runs through text()."""

from __future__ import annotations

import ast
import importlib
import inspect

# The programs, by module_utils name: each has its tests, and tests/.../test_host_program.py holds
# every one to the rules above.
PROGRAMS = ("backup_manifest", "receiver_program", "restore_guard", "wan_failover_daemon")
SHEBANG = "#!/usr/bin/python3\n"
INLINE = "# ivpb: inline"


def text(module) -> str:
    """The program `module` as it runs on a host: its file, a shebang first, inline imports filled in."""
    lines = inspect.getsource(module).splitlines(keepends=True)
    for node in sorted(_inline_imports(lines), key=lambda n: n.lineno, reverse=True):
        source = importlib.import_module(node.module)
        lines[node.lineno - 1:node.end_lineno] = [_definition(source, alias.name) for alias in node.names]
    return SHEBANG + "".join(lines)


def _inline_imports(lines):
    """The `from ... import ...` statements marked inline on their first line."""
    tree = ast.parse("".join(lines))
    return [node for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and lines[node.lineno - 1].rstrip().endswith(INLINE)]


def _definition(source, name) -> str:
    value = getattr(source, name)
    if isinstance(value, (str, int, tuple)):
        return f"{name} = {value!r}\n"
    return inspect.getsource(value)
