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

import importlib
import importlib.util
import sys

# The programs, by module_utils name: each has its tests, and tests/.../test_host_program.py holds
# every one to the rules above.
PROGRAMS = ("backup_manifest", "receiver_program", "restore_guard", "wan_failover_daemon")
SHEBANG = "#!/usr/bin/python3\n"
INLINE = "# ivpb: inline"


def text(module) -> str:
    """The program `module` as it runs on a host: its file, a shebang first, inline imports filled in.
    Modules build these texts on every run, so the file is read as lines, not parsed (ast and
    inspect cost a module run more than the rest of the text)."""
    lines = _source(module).splitlines(keepends=True)
    for first, end, name, names in reversed(_inline_imports(lines)):
        source = importlib.import_module(name)
        lines[first:end] = [_definition(source, n) for n in names]
    return SHEBANG + "".join(lines)


def definition(func) -> str:
    """The source of a function of a module_utils file, from its first line (or decorator) to the
    end of its last statement: what inspect.getsource gives (test_host_program holds every
    definition a program carries to that), read from the positions Python keeps in the code
    instead of inspect's tokenizer."""
    code = func.__code__
    last = max(end for _line, end, _col, _end_col in code.co_positions() if end is not None)
    return "".join(_source(sys.modules[func.__module__]).splitlines(keepends=True)[code.co_firstlineno - 1:last])


def _source(module) -> str:
    """A module's file as inspect.getsource(module) gives it (through the loader: inside an
    AnsiballZ zip too), ending in a newline."""
    source = module.__loader__.get_source(module.__name__)
    if isinstance(source, bytes):  # Ansible's collection loader on the controller gives the bytes
        source = importlib.util.decode_source(source)
    return source if source.endswith("\n") else source + "\n"


def _inline_imports(lines):
    """[(first line, end line, module, names)] of each `from <module> import <names>` marked inline
    on its first line: the names on that line or in parentheses on the lines after it (a comment
    after a name allowed). Anything else marked inline is an error naming the line."""
    found = []
    for first, line in enumerate(lines):
        if not line.rstrip().endswith(INLINE):
            continue
        head, _sep, names = line.split("#", 1)[0].partition(" import ")
        end = first + 1
        if names.strip().startswith("("):
            while ")" not in names and end < len(lines):
                names += lines[end].split("#", 1)[0]
                end += 1
            names = names.strip()
            names = names[1:-1] if names.endswith(")") else "?"
        parsed = [n.strip() for n in names.split(",") if n.strip()]
        module = head.strip().removeprefix("from ")
        if not head.startswith("from ") or not parsed or not all(n.isidentifier() for n in parsed) \
                or not all(part.isidentifier() for part in module.split(".")):
            raise ValueError(f"line {first + 1}: {line.strip()!r} is not an inline import host_program reads "
                             "(from <module> import <names>, or the names in parentheses)")
        found.append((first, end, module, parsed))
    return found


def _definition(source, name) -> str:
    value = getattr(source, name)
    if isinstance(value, (str, int, tuple)):
        return f"{name} = {value!r}\n"
    return definition(value)
