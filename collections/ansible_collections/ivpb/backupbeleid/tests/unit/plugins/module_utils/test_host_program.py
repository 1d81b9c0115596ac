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
