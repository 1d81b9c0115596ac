"""Run a module's main() in-process, as community.general's unit tests do: the arguments go in
through basic._ANSIBLE_ARGS, exit_json/fail_json are patched to raise Exit/Fail with the result."""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
from pathlib import Path

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import host as host_toolkit


class Exit(Exception):
    """exit_json was called; args[0] is the result, `module` the AnsibleModule that called it."""


class Fail(Exception):
    """fail_json was called; args[0] is the result, `module` the AnsibleModule that called it."""


def _raise(exc_type):
    def raiser(self, **kwargs):
        exc = exc_type(kwargs)
        exc.module = self  # what it masks (no_log_values) is read from the module itself
        raise exc

    return raiser


def module_runner(monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _raise(Exit))
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _raise(Fail))

    def run(module, args, check_mode=False, diff=True, root=None):
        """root: the host's root for every path the module reaches through the host toolkit (a
        test's own folder: a unit test never reads this machine's /etc, /var or /srv)."""
        if root is not None:
            monkeypatch.setattr(host_toolkit, "Host", functools.partial(host_toolkit.Host, root=str(root)))
        args = {**args, "_ansible_check_mode": check_mode, "_ansible_diff": diff}
        monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))
        monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
        module.main()

    return run


def host_runner(monkeypatch, capsys):
    """run(module, args, check_mode=True, root=None) -> (result, logged): the module's main() as
    AnsiballZ runs it on a host - exit_json/fail_json print the result (its `invocation` included)
    and exit - with what AnsibleModule writes to the host's journal/syslog recorded as `logged`."""
    logged = []
    monkeypatch.setattr(basic, "has_journal", False)
    monkeypatch.setattr(basic.syslog, "openlog", lambda *a: None)
    monkeypatch.setattr(basic.syslog, "syslog", lambda prio, msg: logged.append(msg))

    def run(module, args, check_mode=True, root=None):
        if root is not None:
            monkeypatch.setattr(host_toolkit, "Host", functools.partial(host_toolkit.Host, root=str(root)))
        args = {**args, "_ansible_check_mode": check_mode, "_ansible_diff": True}
        monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))
        monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
        try:
            module.main()
        except SystemExit:
            return json.loads(capsys.readouterr().out), logged
        raise AssertionError("the module did not exit")

    return run


COLLECTION = Path(__file__).resolve().parents[2]  # .../ansible_collections/ivpb/backupbeleid


def ansible_env() -> dict[str, str]:
    """Environment for ansible-doc / ansible-playbook run by a test: this copy of the collection
    first on the collections path, no ansible.cfg of the caller's (run them in a temporary cwd)."""
    env = {k: v for k, v in os.environ.items() if k != "ANSIBLE_CONFIG"}
    return {**env, "ANSIBLE_COLLECTIONS_PATH": str(COLLECTION.parents[2]), "ANSIBLE_NOCOLOR": "1"}


def ansible_cli(name: str) -> str:
    """The ansible-* command of this Python (a virtualenv's bin/), else the one on PATH (ansible-test
    units puts its own there)."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name) or name
