#!/usr/bin/python
# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: power_backup
short_description: NUT server, UPS monitoring (IVPB §2) and backup jobs (IVPB §4) of one host in one module run
version_added: 0.3.0
description:
  - Does what M(ivpb.backupbeleid.nut_server), M(ivpb.backupbeleid.nut_client) and
    M(ivpb.backupbeleid.backup_job) do, on one host, in a single module run (one round trip and
    one Python start on the host instead of one per module). C(playbooks/enforce.yml) uses it on
    every host whose plan has §2 or §4 controls or serves a UPS; the three modules stay for a
    playbook that needs only one of them.
  - I(nut_server) takes exactly the options of M(ivpb.backupbeleid.nut_server), I(power) those of
    M(ivpb.backupbeleid.nut_client), I(backup) those of M(ivpb.backupbeleid.backup_job), validated
    by the same argument specs (secrets stay hidden); bad input fails the module, naming the
    option (C(backup -> datasets)), before anything changes. Any may be left out; that part then
    does not run.
  - The NUT server runs first, then the NUT client, then the backup jobs. A part that fails does
    not stop the others; all report their controls, and the module fails with the failed parts'
    messages.
  - In check mode nothing changes; each part reports drift as its module does.
author: ivpb contributors (!UNKNOWN)
extends_documentation_fragment:
  - ivpb.backupbeleid.attributes
  - ivpb.backupbeleid.attributes.controls
options:
  parts:
    description:
      - Take the options from the plan step instead - any of C(nut_server), C(power), C(backup),
        C(backup_target). The action runs on the controller and builds each part's options from
        this host's part of the plan step's registered result (C(ivpb_plan), see
        M(ivpb.backupbeleid.plan)), the host's C(ivpb_nut_server), C(ivpb_nut_password) and
        C(ivpb_nut_client), its NUT clients' C(ivpb_nut_password), the C(ivpb_pull_password) of
        the systems it pulls from, C(ivpb_backup_window), C(ivpb_backup_failure_hook), the
        receivers' SSH host keys and the senders' backup keys that the play read (C(ivpb_reach),
        C(backup_receiver_host_keys), C(backup_job_result)).
      - A part runs only where the plan gives the host that part (nut_server - the plan put it in
        the group C(ivpb_nut_server); power - the host has power controls; backup - the plan put
        it in the group C(ivpb_backup); backup_target - a backup target is on the host) and the
        part's clause tag (C(power) for the first two, C(backup)) was chosen for the run; with no
        part left the task is skipped.
      - C(backup_target) is M(ivpb.backupbeleid.backup_receiver), run by the action as a module
        of its own on that host, after the other parts; its result is the task's where it runs
        alone, else under C(backup_target) (its C(protected) at the top). It authorizes the key
        each client reported in this run, else the one the client's reach said; a key of another
        form counts as none (the key authorized before stays). Given C(backup_target) alone, the
        part is skipped where this play's earlier power_backup task on the host ran it with the
        same keys (C(receiver_keys_sha256) of C(backup_job_result)).
      - With I(parts), I(nut_server), I(power) and I(backup) are not given.
    type: list
    elements: str
    choices: [nut_server, power, backup, backup_target]
  nut_server:
    description:
      - The options of M(ivpb.backupbeleid.nut_server), as a dict (see
        C(ansible-doc ivpb.backupbeleid.nut_server)), validated by its argument spec; secrets
        (C(passwords), C(users[].password)) masked in the result and never logged. Left out, this
        host serves no UPS here.
    type: dict
  power:
    description:
      - The options of M(ivpb.backupbeleid.nut_client), as a dict (see
        C(ansible-doc ivpb.backupbeleid.nut_client)), validated by its argument spec - defaults,
        types, required options, choices; secrets (C(password), C(notify_webhook)) masked in the
        result and never logged. Left out, no §2 on this host.
    type: dict
  backup:
    description:
      - The options of M(ivpb.backupbeleid.backup_job), as a dict (see
        C(ansible-doc ivpb.backupbeleid.backup_job)), validated by its argument spec - defaults,
        types, required options, choices; secrets (C(pull_passwords), the C(failure_hook)'s
        C(webhook) and C(ping)) masked in the result and never logged. Left out, no §4 on this host.
    type: dict
notes:
  - Every value is checked as the three modules check it (C(module_utils/input_rules.py)).
"""

EXAMPLES = r"""
- name: UPS monitoring and backup jobs of a file server, in one module run
  ivpb.backupbeleid.power_backup:
    power:
      controls: [{id: power.ups, duty: ups}]
      ups:
        - {name: ups-a, server: nutserver, user: mon-fileserver, password: "{{ ivpb_nut_password }}"}
    backup:
      hostname: fileserver
      controls: [{id: backup.daily, duty: daily, datasets: [admin]}]
      datasets:
        - dataset: admin
          path: /srv/data/admin
          target: {name: offsite, receiver: nas, address: nas, path: /srv/backup}
"""

RETURN = r"""
controls:
  description:
    - The entries of all parts (in the order they ran), each under its C(id), in
      the evidence format of every ivpb module. In check mode an entry in drift names the paths
      of its own changes in C(diff_paths) (their texts are in the result's diff once).
  returned: always
  type: list
  elements: dict
nut_server:
  description: The rest of M(ivpb.backupbeleid.nut_server)'s result (C(ups), C(service), C(changed_paths)).
  returned: when I(nut_server) was given and its part did not fail
  type: dict
power:
  description: The rest of M(ivpb.backupbeleid.nut_client)'s result (C(files), C(service), C(ups)).
  returned: when I(power) was given and its part did not fail
  type: dict
ssh_public_key:
  description: As M(ivpb.backupbeleid.backup_job) returns it; with every other field of its result.
  returned: when I(backup) was given and its part did not fail
  type: str
backup_target:
  description: The rest of M(ivpb.backupbeleid.backup_receiver)'s result, where it ran beside other parts.
  returned: when the part C(backup_target) ran beside other parts
  type: dict
protected:
  description: As M(ivpb.backupbeleid.backup_receiver) returns it.
  returned: when the part C(backup_target) ran
  type: dict
receiver_keys_sha256:
  description: SHA-256 of the client keys the part C(backup_target) was given (made by the action).
  returned: when the part C(backup_target) ran
  type: str
packages:
  description: Debian packages installed by this call (in check mode, missing ones), of all parts.
  returned: when packages were missing
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import argument_specs, power_backup  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import run_module  # noqa: E402


def main():
    # the parts are checked by their modules' specs below (their docs live with those modules);
    # no_log until then, so that nothing is logged before their secrets are known. `parts` is the
    # action's (plugins/action/power_backup.py): it never reaches the module.
    parts = argument_specs.POWER_BACKUP
    module = AnsibleModule(argument_spec=dict(parts=dict(type="list", elements="str",
                                                         choices=[*parts, "backup_target"]),
                                              **{name: dict(type="dict") for name in parts}),
                           supports_check_mode=True, no_log=True)
    module.no_log_values.update(argument_specs.backup_job_secrets(module.params["backup"] or {}))
    argument_specs.validate_parts(module, parts)
    argument_specs.log_invocation(module)
    run_module(module, power_backup.enforce)


if __name__ == "__main__":
    main()
