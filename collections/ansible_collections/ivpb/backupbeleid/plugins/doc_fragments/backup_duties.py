# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private doc fragment: the C(controls) option of ivpb.backupbeleid.backup_job, whose duties are
the rows of DUTIES in module_utils/backup_job.py. Each row says what its duty does, so a new duty
is documented (and accepted, module and controller alike) where it is written: ansible-doc and
ansible-test validate-modules import this fragment and read the text built here."""

from __future__ import annotations

import json

from ansible_collections.ivpb.backupbeleid.plugins.module_utils.backup_job import DUTIES

_CONTROLS = {
    "description": [
        "The §4 controls this host's plan requires, as the plan step hands them "
        "(C(ivpb_plan.inputs[inventory_hostname].backup.controls)); the result reports each under "
        "its C(id), per data set.",
    ],
    "type": "list",
    "elements": "dict",
    "required": True,
    "suboptions": {
        "id": {"description": "The control's id in the policy file.", "type": "str", "required": True},
        "duty": {
            "description": ["What the control asks of this module for its data sets.",
                            *(f"C({name}) - {row.doc}." for name, row in DUTIES.items())],
            "type": "str",
            "required": True,
            "choices": list(DUTIES),
        },
        "datasets": {"description": "The data sets (I(datasets[].dataset)) the control applies to.",
                     "type": "list", "elements": "str", "required": True},
    },
}


class ModuleDocFragment:
    # JSON is YAML: the choices and their sentences go in as data, never spliced into YAML text.
    # Annotated, because ansible-test's yamllint reads a fragment's plain assignments as string
    # literals (and stops at any other); the YAML it would lint is json.dumps' own.
    DOCUMENTATION: str = json.dumps({"options": {"controls": _CONTROLS}}, ensure_ascii=False)
