#!/usr/bin/python
# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name on the controller
# (plugins/action/plan.py); this file holds its documentation, as ansible.builtin.set_fact does.

from __future__ import annotations

DOCUMENTATION = r"""
module: plan
short_description: Validate the inventory and plan every host's controls from its BIV classification (IVPB)
version_added: 0.1.0
description:
  - Runs on the controller (an action plugin; use it with C(run_once) and C(delegate_to localhost)).
    Reads the C(ivpb_*) variables of every inventory host, validates them against the inventory
    contract (one JSON Schema per variable and the cross-reference checks of C(ivpb validate)),
    and plans each host's controls from the policy file with the same engine as the C(ivpb) CLI,
    so the playbook and the reports never disagree.
  - On any problem it fails with one line per problem (host, variable, what is expected) and
    nothing on any host is changed; C(playbooks/enforce.yml) runs it first with
    C(any_errors_fatal).
  - Also returns which roles each host needs (I(roles)), which enforce.yml turns into groups so
    that each clause's play targets only those hosts.
author: ivpb contributors (!UNKNOWN)
extends_documentation_fragment:
  - ivpb.backupbeleid.attributes.action
  - ivpb.backupbeleid.attributes
options:
  policy:
    description: A school's own policy file (YAML, see C(src/ivpb/policies/backupbeleid.yml)); default the Backupbeleid.
    type: path
  lang:
    description: Language of the reasons in the plan.
    type: str
    choices: [nl, en]
    default: nl
requirements:
  - The C(ivpb) Python package on the controller (C(pip install ivpb)).
notes:
  - Reads the play's inventory the way C(ivpb plan) does (each group combination once, plain
    vars files parsed directly), with extra vars (C(-e)) on top. When a fact, a templated extra
    var or vars files next to the playbook could give a host an C(ivpb_*) value, it templates
    every host's hostvars instead - the same result, at ~38 ms a host (1,000 hosts x 50 data
    sets - 13 s for the whole plan step instead of 56 s).
"""

EXAMPLES = r"""
- name: Plan the controls of every host from its BIV classification
  ivpb.backupbeleid.plan:
  run_once: true
  delegate_to: localhost
  register: ivpb_plan

- name: Show a host's planned controls
  ansible.builtin.debug:
    msg: "{{ ivpb_plan.plan.hosts[inventory_hostname].controls | map(attribute='id') }}"
"""

RETURN = r"""
plan:
  description: The plan, as C(ivpb plan --format json) prints it.
  returned: success
  type: dict
  contains:
    policy:
      description: C(id) and C(title) of the policy.
      type: dict
    hosts:
      description: Host -> C(site), C(biv) (the host's levels b, i and v) and
        C(controls), each with C(id), C(clause), C(because) (the reason, in I(lang)), and for
        per-data-set controls C(dataset) and C(path); C(advisory) for controls that never block.
      type: dict
    sites:
      description: Site -> the §5 controls its data demands.
      type: dict
roles:
  description: Host -> the role groups its plan needs (ivpb_nut_server, ivpb_power, ivpb_internet,
    ivpb_backup, ivpb_backup_target).
  returned: success
  type: dict
  sample: {"fileserver": ["ivpb_power", "ivpb_backup"]}
inputs:
  description:
    - Host -> role -> that role's input, normalised on the controller so that each role hands it to
      its module as it is (the roles build nothing in Jinja) - C(power) C(controls), C(mode),
      C(ups) (server address, port and user, no password); C(internet) C(controls) and C(serves)
      (the hosts it routes); C(backup) C(controls), C(receivers) (the inventory hosts its data
      sets' backups and syncs go to, whose SSH host keys the role pins) and C(datasets) (each
      stored data set resolved - target, offsite copy, recipients' keys, retention - as
      M(ivpb.backupbeleid.backup_job) takes it); C(nut_server) C(port) and
      C(clients) (host and NUT user); C(backup_target) C(targets) (name, path) and C(clients)
      (client, target, data sets).
    - The controls a role enforces are those the policy file names it for (C(enforced_by)), each
      as C({id, duty}) (with C(datasets) for a data set's control) - the duty is what the control
      asks of the module, which reports under the id.
      No secret is in it; the roles add the NUT passwords from the hosts' variables.
  returned: success
  type: dict
  sample: {"router": {"internet": {"controls": [{"id": "internet.failover", "duty": "failover"},
                                                {"id": "internet.sla", "duty": "sla"}], "serves": ["fileserver"]}},
           "fileserver": {"backup": {"controls": [{"id": "backup.daily", "duty": "daily", "datasets": ["boekhouding"]}],
                                     "receivers": ["nas-offsite"]}}}
problems:
  description: One line per problem found in the inventory (host, variable, expectation).
  returned: failure
  type: list
  elements: str
"""
