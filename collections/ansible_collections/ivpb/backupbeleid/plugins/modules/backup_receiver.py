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
    (C(restrict), forced command). The gate allows rather than denies - exactly the rsync calls
    the ivpb sender makes (C(rsync --server [--sender] -[dr]e.<capabilities>) with at most
    C(--list-only), C(--mkpath), C(--timeout=N), one path in the area), written so that rrsync
    splits them the same way (printable ASCII, one space between words) - and hands them to
    C(rrsync -no-del -munge) confined to the area. It keeps at most 4 KiB of rsync's messages and
    ends a session after 6 hours. Every refusal is logged to syslog (tag
    C(ivpb-backup-receiver)) naming the client.
  - B(Quota.) Each client may hold at most the I(quota) of its target (bytes and files), by
    default an equal share of the target's file system among its clients. An upload that would
    start over it, or that crosses it (checked every 10 seconds), is refused and logged; the
    client's backup fails (its failure hook, evidence and the audit show it).
  - B(Append-only history.) After every transfer the gate has root seal what arrived (through
    sudo, one fixed command) - each finished file becomes C(root:<user> 0440), each directory
    C(root:<user> 1770). The client can still read its backups (restores, verify) and add new
    files, but cannot write, truncate, rename, replace or delete a sealed one. A file with more
    than one link is sealed as a copy (its other name could still change it).
  - B(Arrival stamp.) The seal sets every file it seals to this host's clock at sealing; a sealed
    file's mtime is its arrival time here, whatever the client named or stamped it
    (C(ivpb restore) picks generations by it). Sealing is done
    by ownership because C(chattr +i), snapshots and reflinks need a capability or a file system
    a receiver may lack (containers have no CAP_LINUX_IMMUTABLE; overlayfs has no snapshots).
    A writer that holds a file open across the seal is killed.
  - B(Only what it checked counts.) A duplicity generation counts (for C(protected), retention and
    restore) only when complete - its manifest, signatures and volumes present, non-empty and
    sealed; a plain manifest's listed volumes all there, for an encrypted one (C(.manifest.gpg),
    unreadable here) volumes 1..n without a gap - and in order by arrival; a name dated ahead of
    its arrival, a full dated before the chain it follows or an increment that does not extend
    the newest chain is ignored and logged. The gate refuses an upload whose name is dated ahead
    of this host's clock.
  - B(Retention on the receiver.) A daily cron job (C(backup-receiver maint)) seals every area,
    keeps the newest I(keep_full) complete chains (by arrival) of each data set's routine chain
    and I(sync_keep_full) of its offsite copy, never removes a chain whose last generation
    arrived less than I(min_age_days) ago, and never touches the yearly fulls (C(annual/)). One
    client's failure is logged and never stops the others.
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
      quota:
        description:
          - What each client may store here, C({bytes, files}) (C(bytes) a size such as C(500G)).
            Either left out is an equal share of the file system under I(path) among the target's
            clients.
        type: dict
        default: {}
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
        description:
          - Data set name -> C({keep_full, sync_keep_full, min_age_days}); C(min_age_days) (default
            0) is the age below which retention never removes a chain (the plan gives
            I(keep_full) x I(full_if_older_than)).
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
  description:
    - Client -> data set -> the arrival on this host (its own clock, ISO 8601 UTC) of the newest
      complete, sealed generation, or null.
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
                name=dict(type="str", required=True), path=dict(type="path", required=True),
                quota=dict(type="dict", default={}))),
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
