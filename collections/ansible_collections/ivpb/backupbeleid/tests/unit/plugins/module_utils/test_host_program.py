"""The programs that run on hosts are shipped one way (host_program.py, issue #26): each is a
module_utils file that is the program, and what reaches a host is host_program.text() of it.
Each program's behaviour has its own tests (test_backup_manifest, test_restore_guard,
test_receiver_gate and modules/test_backup_receiver, test_internet_daemon); here the rules they
share, on the text as shipped."""

from __future__ import annotations

import ast
import importlib
import inspect
import sys

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import host_program

PACKAGE = "ansible_collections.ivpb.backupbeleid.plugins.module_utils"


def shipped(name: str) -> str:
    return host_program.text(importlib.import_module(f"{PACKAGE}.{name}"))


@pytest.mark.parametrize("name", host_program.PROGRAMS)
def test_the_shipped_text_is_a_python3_program_of_the_standard_library_only(name):
    text = shipped(name)
    assert text.startswith("#!/usr/bin/python3\n# Copyright: ivpb contributors\n")
    imported = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported and imported <= set(sys.stdlib_module_names) | {"__future__"}, imported - set(
        sys.stdlib_module_names)
    assert "# ivpb: inline" not in text


@pytest.mark.parametrize("name", host_program.PROGRAMS)
def test_loading_the_shipped_text_runs_nothing(name):
    """Its command line runs only as __main__ (the host's python3 FILE or -c TEXT): the module
    and the tests load the very same file for its functions."""
    ns: dict = {"__name__": "not_main"}
    exec(compile(shipped(name), name, "exec"), ns)  # noqa: S102 - our own program
    assert callable(ns.get("main") or ns.get("maint"))


def test_an_inline_import_becomes_the_definition_it_names():
    """The failover daemon carries the webhook sender in its own text, not an import of the
    collection (which is not on the host)."""
    text = shipped("wan_failover_daemon")
    assert text.count("def post(") == 1 and "ansible_collections" not in text
    source = inspect.getsource(importlib.import_module(f"{PACKAGE}.wan_failover_daemon"))
    assert "import post  # ivpb: inline" in source


def _text_by_inspect(module) -> str:
    """text() as it was built before issue #26: inspect's sources, every file parsed with ast."""
    lines = inspect.getsource(module).splitlines(keepends=True)
    marked = [node for node in ast.walk(ast.parse("".join(lines)))
              if isinstance(node, ast.ImportFrom) and lines[node.lineno - 1].rstrip().endswith("# ivpb: inline")]
    for node in sorted(marked, key=lambda n: n.lineno, reverse=True):
        source = importlib.import_module(node.module)
        lines[node.lineno - 1:node.end_lineno] = [
            f"{a.name} = {getattr(source, a.name)!r}\n" if isinstance(getattr(source, a.name), (str, int, tuple))
            else inspect.getsource(getattr(source, a.name)) for a in node.names]
    return "#!/usr/bin/python3\n" + "".join(lines)


@pytest.mark.parametrize("name", host_program.PROGRAMS)
def test_the_text_is_what_inspect_and_ast_made_of_it(name):
    """Modules build these texts on every run, now without inspect or ast where nothing is inlined
    (issue #26): the same bytes."""
    assert shipped(name) == _text_by_inspect(importlib.import_module(f"{PACKAGE}.{name}"))


def test_a_definition_is_what_inspect_gives(tmp_path, monkeypatch):
    """host_program.definition against inspect.getsource: the webhook sender (carried by the
    failover daemon and the job script) and definitions whose end a line scan would get wrong."""
    from ansible_collections.ivpb.backupbeleid.plugins.module_utils import webhook

    assert host_program.definition(webhook.post) == inspect.getsource(webhook.post)
    assert webhook.program(20).startswith(inspect.getsource(webhook.post) + "\n\nimport os, sys\n")
    (tmp_path / "ivpb_defs.py").write_text(
        "import functools\n\n\n"
        "@functools.lru_cache\n"
        "def decorated(a,\n"
        "              b=(1,\n"
        "                 2)):\n"
        '    """A docstring\n'
        'with a line at column 0."""\n'
        "    if a:\n"
        "        return [x for x in b\n"
        "                if x]  # a comment\n"
        "    # a comment at the end\n\n"
        "    return {\n"
        "        'k': b,\n"
        "    }\n"
        "# after\n\n\n"
        "def last(): return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    defs = importlib.import_module("ivpb_defs")
    for func in (defs.decorated.__wrapped__, defs.last):
        assert host_program.definition(func) == inspect.getsource(func)


def test_inline_imports_are_read_as_ast_reads_them(tmp_path, monkeypatch):
    """Both forms of an inline import, a comment after a name, an import not marked; a mark on
    anything else is an error naming the line."""
    (tmp_path / "ivpb_prog.py").write_text(
        '"""A program."""\n'
        f"from {PACKAGE}.webhook import post  # ivpb: inline\n"
        f"from {PACKAGE}.receiver_layout import (  # ivpb: inline\n"
        "    CHAIN,  # the chain's folder\n"
        "    SYNC\n"
        ")\n"
        f"from {PACKAGE}.receiver_layout import MANIFESTS\n\n"
        "X = (CHAIN, SYNC, MANIFESTS, post)\n")
    (tmp_path / "ivpb_bad.py").write_text('"""A program."""\nX = 1  # ivpb: inline\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    prog = importlib.import_module("ivpb_prog")
    assert host_program.text(prog) == _text_by_inspect(prog)
    assert "def post(" in host_program.text(prog) and "CHAIN = " in host_program.text(prog)
    with pytest.raises(ValueError, match="^line 2: 'X = 1  # ivpb: inline' is not an inline import"):
        host_program.text(importlib.import_module("ivpb_bad"))
