"""Shared fixtures of the collection's unit tests (run by pytest from the repository root, whose
pyproject.toml puts collections/ on the path, and by `ansible-test units`)."""

from __future__ import annotations

import pytest
from ansible_collections.ivpb.backupbeleid.tests.unit.gpg_keys import gpg_keys
from ansible_collections.ivpb.backupbeleid.tests.unit.harness import host_runner, module_runner


@pytest.fixture
def module_main(monkeypatch):
    """run(module, args, check_mode=False, diff=True): the module's main() in-process (harness.py)."""
    return module_runner(monkeypatch)


@pytest.fixture
def module_on_host(monkeypatch, capsys):
    """run(module, args, check_mode=True, root=None) -> (result, syslog lines) (harness.py)."""
    return host_runner(monkeypatch, capsys)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """Real OpenPGP keys made by gpg (gpg_keys.py), once per test module."""
    yield from gpg_keys(tmp_path_factory)
