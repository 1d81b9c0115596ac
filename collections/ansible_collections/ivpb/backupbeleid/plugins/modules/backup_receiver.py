#!/usr/bin/python
# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: backup_receiver
short_description: The receiving side of backups and syncs - one wall per client, append-only (IVPB §4)
version_added: 0.1.0
description:
  - Prepares a host that receives other hosts' backups and syncs (§4 Backups,
    C(backup.best_practice) - "conform de gangbare best practices", with a copy that a compromised
    source cannot alter or delete).
  - B(One wall per client, enforced by the kernel.) Every client of every target on this host
    gets its own Unix user (C(ivpb-<target>-<client>), hashed when too long) whose home is its
    area C(<path>/<client>) (C(root:<user> 0750)), with C(.ssh/authorized_keys) owned by root
    and one directory per data set (C(root:<user> 1770)). Another client's area is not readable
    or writable for that user, whatever command line reaches the host.
  - B(Second wall.) The key may only run C(/usr/local/lib/ivpb/backup-receiver gate)
    (C(restrict), forced command) - only C(rsync --server), no daemon mode, no in-place writes,
    handed to C(rrsync -no-del -munge) confined to the area. Every refusal is logged to syslog
    (tag C(ivpb-backup-receiver)) naming the client.
  - B(Append-only history.) After every transfer the gate has root seal what arrived (through
    sudo, one fixed command) - each finished file becomes C(root:<user> 0440), each directory
    C(root:<user> 1770). The client can still read its backups (restores, verify) and add new
    files, but cannot write, truncate, rename, replace or delete a sealed one. Sealing is done
    by ownership because C(chattr +i), snapshots and reflinks need a capability or a file system
    a receiver may lack (containers have no CAP_LINUX_IMMUTABLE; overlayfs has no snapshots).
    A writer that holds a file open across the seal is killed.
  - B(Retention on the receiver.) A daily cron job (C(backup-receiver maint)) seals every area,
    keeps the newest I(keep_full) full chains of each data set's routine chain and
    I(sync_keep_full) of its offsite copy, and never touches the yearly fulls (C(annual/)).
  - The clients come from the inventory (I(clients)), their keys from this run's
    M(ivpb.backupbeleid.backup_job) results (I(keys)). A client that is not part of this run
    (C(--limit)) keeps the key an earlier run authorized; a client the inventory no longer sends
    here loses its key, never its data.
  - Returns, per client and data set, the time of the newest sealed backup (C(protected)),
    for the audit's C(backup.best_practice), and this host's SSH host keys.
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
  targets:
    description: The entries of C(ivpb_backup_targets) that name this host.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The target's name.
        type: str
        required: true
      path:
        description: Its base directory.
        type: path
        required: true
  clients:
    description: Every host the inventory sends here, one entry per client and target.
    type: list
    elements: dict
    default: []
    suboptions:
      client:
        description: The sending host's inventory name.
        type: str
        required: true
      target:
        description: The name of the target it sends to.
        type: str
        required: true
      datasets:
        description: Data set name -> C({keep_full, sync_keep_full}).
        type: dict
        default: {}
  keys:
    description: Client inventory name -> its backup key (C(ssh_public_key) of its backup_job result).
    type: dict
    default: {}
  legacy_user:
    description:
      - The shared backup user of collection 0.2. Its C(authorized_keys) is removed and the files
        it owns in the areas are sealed like the clients' own.
    type: str
    default: ivpb-backup
notes:
  - Needs C(rsync) (with C(rrsync)), C(openssh-server), C(sudo) and C(cron); installed in the
    same call unless I(install_packages=false).
"""

EXAMPLES = r"""
- name: Receive the backups of the hosts that send here
  ivpb.backupbeleid.backup_receiver:
    hostname: nas-offsite
    targets: [{name: nas-offsite, path: /srv/backup}]
    clients:
      - {client: fileserver, target: nas-offsite, datasets: {leerlingen: {keep_full: 4}}}
    keys:
      fileserver: "{{ hostvars['fileserver'].backup_job_result.ssh_public_key }}"
"""

RETURN = r"""
clients:
  description: Inventory hosts that send here.
  returned: always
  type: list
  elements: str
authorized:
  description: Clients whose key is authorized.
  returned: always
  type: list
  elements: str
waiting_for_key:
  description: Clients without a key yet (their backup_job has not run).
  returned: always
  type: list
  elements: str
users:
  description: Unix user -> C(client@target).
  returned: always
  type: dict
protected:
  description: Client -> data set -> the newest sealed backup (ISO 8601 UTC) or null.
  returned: always
  type: dict
host_keys:
  description: This host's SSH host public keys (C(type base64)).
  returned: always
  type: list
  elements: str
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
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import run_module  # noqa: E402


def main():
    module = AnsibleModule(
        argument_spec=dict(
            hostname=dict(type="str", required=True),
            targets=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True), path=dict(type="path", required=True))),
            clients=dict(type="list", elements="dict", default=[], options=dict(
                client=dict(type="str", required=True), target=dict(type="str", required=True),
                datasets=dict(type="dict", default={}))),
            keys=dict(type="dict", default={}, no_log=False),
            legacy_user=dict(type="str", default="ivpb-backup"),
            install_packages=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    run_module(module, backup_receiver.enforce, prefix=module.params["hostname"])


if __name__ == "__main__":
    main()
