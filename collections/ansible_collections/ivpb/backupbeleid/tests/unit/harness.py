"""Run a module's main() in-process, as community.general's unit tests do: the arguments go in
through basic._ANSIBLE_ARGS, exit_json/fail_json are patched to raise Exit/Fail with the result."""

from __future__ import annotations

import json

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes


class Exit(Exception):
    """exit_json was called; args[0] is the result."""


class Fail(Exception):
    """fail_json was called; args[0] is the result."""


def _raise(exc_type):
    def raiser(self, **kwargs):
        raise exc_type(kwargs)

    return raiser


def module_runner(monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _raise(Exit))
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _raise(Fail))

    def run(module, args, check_mode=False, diff=True):
        args = {**args, "_ansible_check_mode": check_mode, "_ansible_diff": diff}
        monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))
        monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
        module.main()

    return run
