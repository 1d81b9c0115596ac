"""Every module of the collection (and the plan action's doc stub) renders with ansible-doc, with
its options, examples and return values - what a contractor reads before using it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p.stem for p in (ROOT / "collections/ansible_collections/ivpb/backupbeleid/plugins/modules").glob("*.py")
                 if p.stem != "__init__")


@pytest.fixture(scope="module")
def docs():
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    names = [f"ivpb.backupbeleid.{m}" for m in MODULES]
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-doc"), "--json", *names], cwd=ROOT, env=env,
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
