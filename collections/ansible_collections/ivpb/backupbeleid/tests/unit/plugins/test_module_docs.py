"""Every module of the collection (and the plan action's doc stub) renders with ansible-doc, with
its options, examples and return values - what a contractor reads before using it. (A controller
test: ansible-test units runs tests/unit/plugins/modules and module_utils without ansible-doc.)"""

from __future__ import annotations

import json
import subprocess

import pytest
from ansible_collections.ivpb.backupbeleid.tests.unit.harness import COLLECTION, ansible_cli, ansible_env

MODULES = sorted(p.stem for p in (COLLECTION / "plugins/modules").glob("*.py")
                 if p.stem != "__init__")


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    env = ansible_env()
    names = [f"ivpb.backupbeleid.{m}" for m in MODULES]
    proc = subprocess.run([ansible_cli("ansible-doc"), "--json", *names], cwd=tmp_path_factory.mktemp("doc"), env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("module", MODULES)
def test_module_has_complete_docs(docs, module):
    doc = docs[f"ivpb.backupbeleid.{module}"]
    assert doc["doc"]["short_description"] and doc["doc"]["description"]
    assert doc["examples"].strip()
    assert doc["return"], f"{module}: no RETURN"
    assert "check_mode" in doc["doc"]["attributes"]
