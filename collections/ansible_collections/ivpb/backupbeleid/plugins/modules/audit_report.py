#!/usr/bin/python
# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name on the controller
# (plugins/action/audit_report.py); this file holds its documentation, as ansible.builtin.set_fact does.

from __future__ import annotations

DOCUMENTATION = r"""
module: audit_report
short_description: Judge what the hosts reported in the audit's check run, as the report of C(ivpb audit)
version_added: 0.3.0
description:
  - Runs on the controller (an action plugin; use it with C(run_once) and C(delegate_to localhost))
    as the last task of the playbook C(ivpb.backupbeleid.audit), after the plays of
    C(ivpb.backupbeleid.enforce) ran in check mode.
  - Reads each host's registered module results (I(results)), folds them as C(ivpb audit) folds
    its check run's events, and judges every host and site against every control of the policy
    with the same engine; returns the report (the JSON of C(ivpb audit --format json)) for
    C(ansible.builtin.set_stats) and writes it to I(outputs).
  - A host the run took out of the play without a failure of its own is unreachable; a host no
    task ran on is reported as not contacted.
author: ivpb contributors (!UNKNOWN)
extends_documentation_fragment:
  - ivpb.backupbeleid.attributes.action
  - ivpb.backupbeleid.attributes
attributes:
  check_mode:
    details: Changes no host; the report files on the controller are written in check mode too
      (they are the audit's result).
options:
  results:
    description: The names under which the roles register their module results (see the audit playbook).
    type: list
    elements: str
    required: true
  policy:
    description: A school's own policy file (YAML, see C(src/ivpb/policies/backupbeleid.yml)); default the Backupbeleid.
    type: path
  lang:
    description: Language of the report.
    type: str
    choices: [nl, en]
    default: nl
  outputs:
    description: Files on the controller to write the report to, format by extension as C(ivpb audit -o)
      (C(.json), C(.html), C(.md), C(.xml) JUnit, C(.txt), C(.prom)); relative to the working directory.
    type: list
    elements: path
    default: []
requirements:
  - The C(ivpb) Python package on the controller (the collection's C(requirements.txt)).
"""

EXAMPLES = r"""
- name: Judge every host and site against every control of the policy
  ivpb.backupbeleid.audit_report:
    results: [nut_server_result, power_result, ivpb_internet_result, backup_job_result, backup_target_result]
    outputs: [ivpb-audit.json, ivpb-audit.html]
  run_once: true
  delegate_to: localhost
  register: ivpb_audit

- name: Keep the report in the job's artifacts
  ansible.builtin.set_stats:
    data:
      ivpb_audit: "{{ ivpb_audit.report }}"
    per_host: false
"""

RETURN = r"""
report:
  description: The report, as C(ivpb audit --format json) prints it (C(src/ivpb/schemas/report.schema.json)).
  returned: success
  type: dict
exit_code:
  description: The report's exit code as C(ivpb audit) exits (0 compliant, 1 errors, 2 drift or missing).
  returned: success
  type: int
outputs:
  description: The files written.
  returned: success
  type: list
  elements: str
"""
