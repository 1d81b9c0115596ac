"""backup_job's documented duties (doc fragment backup_duties) are the rows of DUTIES in
module_utils/backup_job.py: the same names in the same order, each with its row's sentence, so a
new row is documented where it is written (the change walk has no step for the fragment).
ansible-doc renders the fragment: tests/unit/test_traceability.py reads it there per control."""

from __future__ import annotations

import importlib

import pytest
import yaml
from ansible_collections.ivpb.backupbeleid.plugins.doc_fragments import backup_duties
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.backup_job import DUTIES, Duty


@pytest.fixture
def fragment():
    """The fragment module read afresh (after the test's rows), and again afterwards."""
    yield lambda: importlib.reload(backup_duties).ModuleDocFragment.DOCUMENTATION
    importlib.reload(backup_duties)


def test_a_new_row_is_documented_with_its_sentence(monkeypatch, fragment):
    monkeypatch.setitem(DUTIES, "immutable_copy", Duty("a weekly full copy nobody can change, \"kept\": yes",
                                                       action="immutable"))
    duty = yaml.safe_load(fragment())["options"]["controls"]["suboptions"]["duty"]
    assert duty["choices"] == list(DUTIES) and duty["choices"][-1] == "immutable_copy"
    assert duty["description"][1:] == [f"C({name}) - {row.doc}." for name, row in DUTIES.items()]
    assert duty["description"][-1] == "C(immutable_copy) - a weekly full copy nobody can change, \"kept\": yes."
