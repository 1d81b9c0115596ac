#!/usr/bin/python
# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: offsite_sync
short_description: Continuous sync of data sets to another site with lsyncd (IVPB §4 Backups)
version_added: 0.1.0
description:
  - Enforces C(backup.sync_offsite) of §4 Backups ("simultaan gesynchroniseerd op minstens één
    geografisch gespreide locatie") for every data set of the host that needs it, in one call.
  - Writes C(/etc/lsyncd/lsyncd.conf.lua) - one C(sync) per data set; lsyncd collects changes for
    I(syncs[].delay) seconds and then runs C(ivpb-backup sync <dataset>) (installed by
    M(ivpb.backupbeleid.backup_job)) under the data set's C(flock).
  - That push is an rsync mirror (replaced and deleted files kept in C(versions/<stamp>) at the
    target) for plain data, and GPG-encrypted duplicity volumes for confidential data
    (C(backup.encrypted)), so no plaintext leaves the host and no FUSE is needed.
  - Enables and starts C(lsyncd), restarts it when its configuration changed, stops it when no
    data set needs a sync.
  - In check mode nothing changes; a host without lsyncd is reported as drift.
author: ivpb contributors
extends_documentation_fragment:
  - ivpb.backupbeleid.attributes
options:
  syncs:
    description: The data sets to sync, as returned in C(syncs) by M(ivpb.backupbeleid.backup_job).
    type: list
    elements: dict
    required: true
    suboptions:
      dataset:
        description: Data set name.
        type: str
        required: true
      source:
        description: The directory lsyncd watches.
        type: str
        required: true
      delay:
        description: Seconds lsyncd collects changes before it syncs.
        type: int
        default: 15
      target:
        description: Where the data goes (C(host:dir)), for the report.
        type: str
        default: ""
notes:
  - Needs C(lsyncd); large trees need a higher C(fs.inotify.max_user_watches).
seealso:
  - module: ivpb.backupbeleid.backup_job
"""

EXAMPLES = r"""
- name: Continuous offsite sync (§4 backup.sync_offsite)
  ivpb.backupbeleid.offsite_sync:
    syncs: "{{ backup_job_result.syncs }}"
"""

RETURN = r"""
controls:
  description: One C(backup.sync_offsite) entry per data set; evidence C(delay), C(target),
    C(last_sync) (UTC, written by the last successful push) and C(lsyncd_active).
  returned: always
  type: list
  elements: dict
service:
  description: lsyncd's state after the call and the actions taken (or needed).
  returned: always
  type: dict
  sample: {"name": "lsyncd", "installed": true, "enabled": true, "active": true, "actions": []}
changed_paths:
  description: Paths changed (or that would change).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import offsite_sync  # noqa: E402


def main():
    module = AnsibleModule(
        argument_spec=dict(
            syncs=dict(type="list", elements="dict", required=True, options=dict(
                dataset=dict(type="str", required=True),
                source=dict(type="str", required=True),
                delay=dict(type="int", default=15),
                target=dict(type="str", default=""),
            )),
        ),
        supports_check_mode=True,
    )
    try:
        changed, result = offsite_sync.apply(module.params, module.check_mode, module._diff)
    except OSError as e:
        module.fail_json(msg=str(e))
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
