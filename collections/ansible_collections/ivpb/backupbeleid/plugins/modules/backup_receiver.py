#!/usr/bin/python
# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: backup_receiver
short_description: The receiving side of backups and syncs - a restricted backup user (IVPB §4)
version_added: 0.1.0
description:
  - Prepares a host that receives other hosts' backups and syncs (§4 Backups, part of
    C(backup.best_practice) - key material private, clients separated).
  - Creates the system user I(user) whose home is I(path) (owned by root, so the user cannot
    change its own SSH restrictions), one C(0700) directory per client owned by the user, and
    C(<path>/.ssh/authorized_keys) with one line per client key -
    C(restrict,command="/usr/local/lib/ivpb/backup-gate <path>/<client>") - so each key can only
    run rsync's server side inside its own client's directory.
  - The clients are the hosts whose M(ivpb.backupbeleid.backup_job) result names this host in
    C(target_hosts); their keys are C(ssh_public_key) of that result.
  - In check mode nothing changes.
author: ivpb contributors (!UNKNOWN)
extends_documentation_fragment:
  - ivpb.backupbeleid.attributes
  - ivpb.backupbeleid.attributes.packages
options:
  hostname:
    description: This host's inventory name.
    type: str
    required: true
  clients:
    description:
      - Inventory host -> its registered M(ivpb.backupbeleid.backup_job) result.
      - Hosts without one, or whose result does not name this host, are skipped.
    type: dict
    default: {}
  user:
    description: The backup user.
    type: str
    default: ivpb-backup
  path:
    description: Base directory (the target's C(path) in C(ivpb_backup_targets)).
    type: path
    default: /srv/backup
notes:
  - Needs C(rsync) and C(openssh-server); installed in the same call unless I(install_packages=false).
"""

EXAMPLES = r"""
- name: Receive the backups of the hosts that send here
  ivpb.backupbeleid.backup_receiver:
    hostname: "{{ inventory_hostname }}"
    clients: >-
      {{ dict(groups['all'] | zip(groups['all'] | map('extract', hostvars)
         | map(attribute='backup_job_result', default={}))) }}
"""

RETURN = r"""
clients:
  description: Inventory hosts whose keys are authorized here.
  returned: always
  type: list
  elements: str
user:
  description: The backup user.
  returned: always
  type: str
path:
  description: The base directory.
  returned: always
  type: str
controls:
  description: Empty; the clients' modules report their §4 controls.
  returned: always
  type: list
  elements: dict
changed_paths:
  description: Paths changed (or that would change).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import backup_receiver  # noqa: E402


def main():
    module = AnsibleModule(
        argument_spec=dict(
            hostname=dict(type="str", required=True),
            clients=dict(type="dict", default={}),
            user=dict(type="str", default="ivpb-backup"),
            path=dict(type="path", default="/srv/backup"),
            install_packages=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    try:
        changed, result = backup_receiver.apply(module.params, module.check_mode, module._diff)
    except (ValueError, OSError) as e:
        module.fail_json(msg=f"{module.params['hostname']}: {e}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
