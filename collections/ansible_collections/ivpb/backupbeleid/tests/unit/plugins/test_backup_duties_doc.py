"""backup_job's documented duties (doc fragment backup_duties, a literal text for ansible-test)
are the rows of DUTIES in module_utils/backup_job.py: the same names in the same order, each with
its row's sentence. A new row fails here with the lines to write into the fragment."""

from __future__ import annotations

import yaml
from ansible_collections.ivpb.backupbeleid.plugins.doc_fragments.backup_duties import ModuleDocFragment
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.backup_job import DUTIES


def test_the_documented_duties_are_the_rows_with_their_sentences():
    duty = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]["controls"]["suboptions"]["duty"]
    sentences = [f"C({name}) - {row.doc}." for name, row in DUTIES.items()]
    expected = "\n".join([f"          - {s}" for s in sentences] + [f"        choices: [{', '.join(DUTIES)}]"])
    assert duty["description"][1:] == sentences, f"write these lines into doc_fragments/backup_duties.py:\n{expected}"
    assert duty["choices"] == list(DUTIES), f"write these lines into doc_fragments/backup_duties.py:\n{expected}"
