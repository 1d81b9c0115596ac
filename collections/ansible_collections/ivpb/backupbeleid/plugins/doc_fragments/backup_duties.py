# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private doc fragment: the C(controls) option of ivpb.backupbeleid.backup_job, whose duties are
the rows of DUTIES in module_utils/backup_job.py. A literal text (ansible-test reads it without
importing anything): tests/unit/plugins/test_backup_duties_doc.py fails, with the text to write
here, when a duty row and this text part."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  controls:
    description:
      - The §4 controls this host's plan requires, as the plan step hands them
        (C(ivpb_plan.inputs[inventory_hostname].backup.controls)); the result reports each under its
        C(id), per data set.
    type: list
    elements: dict
    required: true
    suboptions:
      id:
        description: The control's id in the policy file.
        type: str
        required: true
      duty:
        description:
          - What the control asks of this module for its data sets.
          - C(daily) - a backup at least every day (daily wins over weekly).
          - C(weekly) - a backup at least every week, on I(window.weekday).
          - C(annual_full) - a full backup per school year in a chain of its own.
          - C(best_practice) - retention, weekly verify, lock, logs and failure hook.
          - C(encrypt) - GPG public-key encryption of all that leaves the host.
          - C(offsite_sync) - continuous sync to the data set's I(datasets[].sync).
          - C(pull) - the data set is pulled first (I(datasets[].pull); no control of the shipped
            policy asks it).
        type: str
        required: true
        choices: [daily, weekly, annual_full, best_practice, encrypt, offsite_sync, pull]
      datasets:
        description: The data sets (I(datasets[].dataset)) the control applies to.
        type: list
        elements: str
        required: true
"""
