#!/usr/bin/python
# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: backup_job
short_description: All backup jobs of one host, scheduled by classification (IVPB §4 Backups)
version_added: 0.1.0
description:
  - Enforces §4 Backups of the school's Backupbeleid for every data set a host stores, in one
    call. Which controls apply to which data set, and what each asks of this module (its
    I(controls[].duty)), come from the host's plan (I(controls), handed by
    C(ivpb.backupbeleid.plan) from the policy file's C(enforced_by)); the result reports each
    under the control id it was given (the shipped policy's C(backup.daily), C(backup.weekly),
    C(backup.annual_full), C(backup.encrypted), C(backup.best_practice), C(backup.sync_offsite)).
  - Writes C(/etc/cron.d/ivpb-backup) with, per data set, the backup at a time spread over the
    I(window) - every day for duty C(daily), on I(window.weekday) for duty C(weekly) - the
    yearly full (duty C(annual_full); the shipped policy asks none for C(archive) false), a
    weekly verify and, for synced data sets, a heartbeat every 30 minutes; every line runs
    C(/usr/local/lib/ivpb/ivpb-backup <action> <dataset>). The script takes the data set's lock
    in C(/run/ivpb-backup) (root only); a lock it cannot get within an hour, a missing or empty
    source, a run over 6 hours - each is a failure (status, log, syslog, hook), never a silent skip.
  - The job script runs duplicity over SSH (C(rsync://) scheme, the host's dedicated ed25519 key
    in C(/etc/ivpb/backup/ssh), made on the host, never leaving it) to
    C(<target path>/<host>/<dataset>/chain), puts the yearly full in C(annual/<school year>) (a
    chain of its own that retention never touches), logs to C(/var/log/ivpb/backup.log) and
    syslog (tag C(ivpb-backup)) and on failure runs the I(failure_hook).
  - On a target that is an inventory host (managed by M(ivpb.backupbeleid.backup_receiver)) the
    host connects as its own user there (C(ivpb-<target>-<host>)), names paths inside its own
    area, can add backups but never change or remove one the receiver accepted, and the receiver
    applies retention (I(datasets[].keep_full) full chains). On an external target the host
    connects as the target's C(user) and removes old chains itself (C(remove-all-but-n-full)).
  - Receivers' SSH host keys are pinned in C(/etc/ivpb/backup/ssh/known_hosts) (no trust on first
    use), from I(datasets[].target.host_key), else from I(host_keys), else the key pinned
    by an earlier run; a target without any is an error.
  - Encrypted data sets (duty C(encrypt), or I(datasets[].encrypted)) use GPG public-key
    encryption to the recipients' keys, imported into C(/etc/ivpb/backup/gnupg) (0700) once each key
    matches its fingerprint, has not expired and can encrypt; no secret key is ever placed on the host.
  - The verify is a restore test for plain data sets - the newest backup's volumes are fetched
    and every tar entry is scanned first (nothing below a symbolic link, no absolute or C(..)
    path, no hard link, device file or fifo), then the backup is restored as the unprivileged
    user C(nobody) into a fresh scratch folder of its own (in C(/var/lib/ivpb/verify), root's,
    0711; free space checked first, removed afterwards) and checked, by the same user, against
    that backup's manifest (type, mode, size, sha256 and link target of every entry), so a file
    changed since the backup is no failure; for encrypted ones, whose secret key is not on the host,
    every stored volume is fetched and checked against the SHA1 in the manifest.
  - Every backup, yearly full and offsite sync stores a manifest of what it saved (paths, sizes,
    sha256, and ctimes that tell a file changed while the backup ran), encrypted like the data,
    in C(<dataset>/manifests) (the offsite copy's in C(<dataset>/sync-manifests)).
  - Continuous offsite sync (duty C(offsite_sync)) in the same call - one round trip per host for
    all of §4 - writes C(/etc/lsyncd/lsyncd.conf.lua), one C(sync) per data set with a
    I(datasets[].sync); lsyncd collects changes for I(datasets[].sync_delay) seconds and then runs
    C(ivpb-backup sync <dataset>). That push is a duplicity increment into C(<dataset>/sync) at
    the target - GPG-encrypted for confidential data, so no plaintext leaves the host and no
    FUSE is needed - so a deletion or ransomware damage at the source is one more version there,
    never the loss of the earlier ones. The heartbeat syncs what changed since the last good
    sync began, or else checks that the target answers, so quiet data never looks stale. lsyncd
    is enabled, restarted when its configuration changed, and stopped when no data set needs a sync.
  - Returns the host's public backup key (I(ssh_public_key)) and the inventory hosts it sends
    data to (I(target_hosts)), for M(ivpb.backupbeleid.backup_receiver) on those hosts.
  - In check mode nothing changes, and a fresh host without the packages is reported as drift.
author: ivpb contributors (!UNKNOWN)
extends_documentation_fragment:
  - ivpb.backupbeleid.attributes
  - ivpb.backupbeleid.attributes.packages
  - ivpb.backupbeleid.attributes.controls
  - ivpb.backupbeleid.backup_duties
options:
  hostname:
    description: The inventory name of this host (directory name at the targets).
    type: str
    required: true
  datasets:
    description:
      - The host's stored data sets (C(ivpb_stores)), each resolved by the plan step
        (C(ivpb_plan.inputs[inventory_hostname].backup.datasets), C(ivpb.resolve) on the
        controller) - its target, offsite copy, recipients' keys and retention filled in from
        C(ivpb_backup_targets), C(ivpb_backup_target), C(ivpb_gpg_recipients),
        C(ivpb_backup_encrypt_to), C(ivpb_backup_retention) and C(ivpb_backup_sync_delay), so the
        module joins nothing by name. A data set that no control names gets nothing.
    type: list
    elements: dict
    required: true
    suboptions:
      dataset:
        description: The data set's name (C(ivpb_stores[].dataset)).
        type: str
        required: true
      path:
        description: The folder it is kept in on this host (absolute).
        type: str
        required: true
      target:
        description: Where its backups go (C(ivpb_stores[].backup_target), else C(ivpb_backup_target)).
        type: dict
        suboptions: &target
          name:
            description: The target's key in C(ivpb_backup_targets).
            type: str
            required: true
          receiver:
            description:
              - The inventory host that receives it (a receiver M(ivpb.backupbeleid.backup_receiver)
                manages); the host connects as its own user there and names paths inside its area.
                Unset for an external target.
            type: str
          address:
            description: Host name or address to reach it (default the I(receiver)).
            type: str
            default: ""
          port:
            description: Its SSH port.
            type: int
            default: 22
          path:
            description: The target's folder of backups.
            type: str
            default: /srv/backup
          user:
            description: The user an external target is reached as (default C(ivpb-backup)).
            type: str
          host_key:
            description: Its SSH host public key (C(type base64)), pinned instead of the one read on the receiver.
            type: str
      sync:
        description:
          - Where its continuous offsite copy goes (C(ivpb_stores[].sync_target)), for a data set
            with duty C(offsite_sync); same keys as I(datasets[].target).
        type: dict
        suboptions: *target
      encrypted:
        description:
          - Whether its backups are GPG-encrypted (duty C(encrypt), or C(ivpb_stores[].encrypt));
            must be true when a control asks C(encrypt) of it.
        type: bool
        default: false
      recipients:
        description:
          - The recipients an encrypted data set is encrypted to (C(ivpb_stores[].encrypt_to), else
            C(ivpb_backup_encrypt_to)), each from C(ivpb_gpg_recipients).
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: The recipient's key in C(ivpb_gpg_recipients).
            type: str
            required: true
          fingerprint:
            description: The primary key's fingerprint (40 hex digits, spaces allowed).
            type: str
            required: true
          public_key:
            description: The ASCII-armored public key.
            type: str
            required: true
      keep_full:
        description: Full chains kept (C(ivpb_stores[].keep_full), else C(ivpb_backup_retention.keep_full)).
        type: int
        default: 4
      full_if_older_than:
        description: duplicity's C(--full-if-older-than) (C(ivpb_backup_retention.full_if_older_than)).
        type: str
        default: 1M
      sync_delay:
        description:
          - Seconds lsyncd collects changes before a sync (C(ivpb_stores[].sync_delay), else
            C(ivpb_backup_sync_delay)).
        type: int
        default: 15
      pull:
        description:
          - A data set of a system ivpb does not manage (C(ivpb_managed=false), issue 23) that
            this host pulls as its backup proxy (C(ivpb_stores[].pull.via)). Before each backup and
            yearly full the job copies it with C(rclone sync) from I(source) into a folder of this
            host (C(/var/lib/ivpb/backup/pulled/<dataset>)), which the backup then saves as any
            other; a source that cannot be read fails the job (status, log, syslog, failure hook).
          - Its controls are reported with C(for) naming the system.
        type: dict
        suboptions:
          for:
            description: The system's inventory host.
            type: str
            required: true
          source:
            description:
              - C(smb://server[:port]/share[/folder]) (rclone's C(smb) backend),
                C(http(s)://server[:port]/path) (its C(webdav) backend) or C(sftp://server[:port]/path)
                (its C(sftp) backend); no blanks, quotes or backslashes.
            type: str
            required: true
          user:
            description:
              - The account the proxy reads with (its password in I(pull_passwords)). Required for
                C(sftp://), which without a password logs in with this host's backup key
                (C(/etc/ivpb/backup/ssh/id_ed25519)).
            type: str
          host_key:
            description:
              - For C(sftp://) (required there) the server's SSH host public key (C(ssh-ed25519 AAAA...)),
                pinned in this host's backup known_hosts; no key is trusted on first use.
            type: str
  pull_passwords:
    description:
      - System (I(datasets[].pull.for)) -> its C(ivpb_pull_password). Written only to a root-only
        file per data set (mode 0600, masked in diffs) and handed to rclone in its environment,
        never on a command line.
    type: dict
    default: {}
  window:
    description:
      - C(ivpb_backup_window). C(start) and C(end) (HH:MM, local time of the host, may cross
        midnight) of the backup window, C(weekday) (0-6, 0 = Sunday) of weekly backups,
        C(verify_weekday) of the verify.
    type: dict
    default: {}
  failure_hook:
    description:
      - C(ivpb_backup_failure_hook). C(webhook) (URL, JSON POST), C(mail) (address, needs a
        C(mail) command), C(command) (shell command; C(IVPB_DATASET), C(IVPB_ACTION),
        C(IVPB_REASON) in its environment). Syslog always gets the failure.
      - C(ping), a monitoring URL (healthchecks-style) that every backup, yearly full, verify and
        sync reports to, each run as C(<ping>/<host>-<data set>-<run|annual|verify|sync>) with a
        JSON POST - C(/start) when it starts, nothing added when it succeeded, C(/fail) with the
        reason when it failed; the C(webhook) is the special case of the failures alone.
      - The C(webhook) and C(ping) URLs are secrets (a token in them lets anyone post to them),
        masked in the task's output and logs and never in a diff or result.
    type: dict
    default: {}
  host_keys:
    description:
      - Target (inventory host name or address) -> its SSH host public key (C(type base64)),
        or a list of them, read on the receiving hosts by the role. A target's own C(host_key) wins.
    type: dict
    default: {}
notes:
  - Needs C(duplicity), C(rsync), C(openssh-client), C(util-linux) (flock), C(bsdutils) (logger),
    C(cron), for encrypted data sets C(gnupg), for synced ones C(lsyncd) and for pulled ones
    C(rclone); installed in the same call unless I(install_packages=false).
  - Large synced trees need a higher C(fs.inotify.max_user_watches) than Debian's default.
seealso:
  - module: ivpb.backupbeleid.backup_receiver
"""

EXAMPLES = r"""
- name: All backup jobs of this host (§4)
  ivpb.backupbeleid.backup_job:
    hostname: "{{ inventory_hostname }}"
    controls:
      - {id: backup.daily, duty: daily, datasets: [boekhouding]}
      - {id: backup.best_practice, duty: best_practice, datasets: [boekhouding]}
    datasets:
      - dataset: boekhouding
        path: /srv/boekhouding
        target: {name: nas, receiver: nas}
    window: {start: "22:00", end: "02:00", weekday: 6}
    failure_hook: {mail: ict@school.example}
  register: backup_job_result
"""

RETURN = r"""
controls:
  description: One entry per planned §4 control and data set (see I(notes) for the fields).
    Evidence - C(schedule), C(last_backup) (UTC, from the target's file names), C(run_failed),
    C(last_annual), C(annual_failed), C(last_verify), C(verify_failed), C(verify_schedule),
    C(keep_full), C(fingerprints), C(expires); for an C(offsite_sync) control C(delay), C(target),
    C(heartbeat_minutes), C(last_sync) (UTC, the last push or heartbeat that proved the copy
    current), C(sync_failed) and C(lsyncd_active). A C(*_failed) entry (C({at, reason})) is
    present while the newest attempt of that job failed.
  returned: always
  type: list
  elements: dict
  sample: [{"id": "backup.daily", "dataset": "boekhouding", "status": "compliant",
            "detail": "duplicity daily at 30 1 * * * (cron) to nas-offsite",
            "evidence": {"schedule": "30 1 * * *", "last_backup": "2026-11-29T01:30:04Z"}}]
jobs:
  description: One line per data set - schedule, cron time, yearly full, encryption, target.
  returned: always
  type: list
  elements: dict
host_time:
  description: The host's clock when the module ran (ISO 8601 UTC), for the audit's clock check.
  returned: always
  type: str
ssh_public_key:
  description: The host's public backup key (empty in check mode before it exists).
  returned: always
  type: str
target_hosts:
  description: Inventory hosts that receive this host's backups or syncs.
  returned: always
  type: list
  elements: str
syncs:
  description: One line per synced data set - source directory, delay, target.
  returned: always
  type: list
  elements: dict
sync_service:
  description: lsyncd's state after the call and the actions taken (or needed).
  returned: always
  type: dict
  sample: {"name": "lsyncd", "installed": true, "enabled": true, "active": true, "actions": []}
changed_paths:
  description: Paths changed (or that would change in check mode); C(packages) when packages
    were (or would be) installed.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import argument_specs, backup_job  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import run_module  # noqa: E402


def main():
    # no_log until the failure hook's secrets, which no spec marks, are known: AnsibleModule would
    # log its invocation with them to the host's journal
    module = AnsibleModule(argument_spec=argument_specs.BACKUP_JOB, supports_check_mode=True, no_log=True)
    module.no_log_values.update(argument_specs.backup_job_secrets(module.params))
    argument_specs.log_invocation(module)
    run_module(module, backup_job.enforce, prefix=module.params["hostname"])


if __name__ == "__main__":
    main()
