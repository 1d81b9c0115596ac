#!/usr/bin/python
# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: power_backup
short_description: UPS monitoring (IVPB §2) and backup jobs (IVPB §4) of one host in one module run
version_added: 0.3.0
description:
  - Does what M(ivpb.backupbeleid.nut_client) and M(ivpb.backupbeleid.backup_job) do, on one
    host, in a single module run (one round trip and one Python start on the host instead of
    two). C(playbooks/enforce.yml) uses it on every host whose plan has §2 or §4 controls; the
    two modules stay for a playbook or role that needs only one of them.
  - I(power) takes exactly the options of M(ivpb.backupbeleid.nut_client), I(backup) those of
    M(ivpb.backupbeleid.backup_job), validated by the same argument specs (secrets stay hidden).
    Either may be left out; that part then does not run.
  - The NUT client runs first, then the backup jobs, as the two tasks ran. A part that fails does
    not stop the other; both report their controls, and the module fails with the failed parts'
    messages.
  - In check mode nothing changes; each part reports drift as its module does.
author: ivpb contributors (!UNKNOWN)
extends_documentation_fragment:
  - ivpb.backupbeleid.attributes
  - ivpb.backupbeleid.attributes.controls
options:
  parts:
    description:
      - Take the options from the plan step instead - C(power), C(backup) or both. The action runs
        on the controller and builds each part's options from this host's part of the plan
        step's registered result (C(ivpb_plan), see M(ivpb.backupbeleid.plan)), the host's
        C(ivpb_nut_password) and C(ivpb_nut_client), the C(ivpb_pull_password) of the systems it
        pulls from, C(ivpb_backup_window), C(ivpb_backup_failure_hook) and the receivers' SSH host
        keys that the play read (C(ivpb_reach), C(backup_receiver_host_keys)).
      - A part runs only where the plan gives the host that part (power - the host has power
        controls; backup - the plan put it in the group C(ivpb_backup)) and the part's tag
        (C(power), C(backup)) was chosen for the run; with no part left the task is skipped.
      - With I(parts), I(power) and I(backup) are not given.
    type: list
    elements: str
    choices: [power, backup]
  power:
    description:
      - The options of M(ivpb.backupbeleid.nut_client) (see its documentation); left out, no §2
        on this host.
    type: dict
    suboptions:
      controls:
        description:
          - The policy controls this host's plan requires of its power supply,
            as the plan step hands them (C(ivpb.backupbeleid.plan), the policy
            file's C(enforced_by)); the result reports each under its C(id).
        type: list
        elements: dict
        required: true
        suboptions:
          duty:
            description:
              - What the control asks of this module. C(ups) - an ordinary supply,
                the host shuts down cleanly before its UPS runs out; C(redundant_ups)
                - a redundant supply, the host survives the loss of any one UPS
                (so at least two distinct UPSes with a power value).
              - How many UPSes must be reached is not the module's to judge -
                it reports the UPSes it reached (C(evidence.reachable), and why
                not the others in C(evidence.unreached)), and C(ivpb audit) counts
                them against the policy file's C(ups_reachable_min).
            type: str
            required: true
            choices:
              - ups
              - redundant_ups
          id:
            description:
              - The control's id in the policy file (the shipped policy's are
                C(power.ups) and C(power.redundant_ups)).
            type: str
            required: true
      deadtime:
        description:
          - C(DEADTIME), seconds a UPS may stay silent before it counts as dead;
            at least 3 x I(pollfreq), at most 300.
        type: int
        default: 15
      finaldelay:
        description: C(FINALDELAY), seconds between the shutdown notice and C(SHUTDOWNCMD)
          (0 to 300).
        type: int
        default: 5
      hostsync:
        description: C(HOSTSYNC), seconds a secondary waits for the primary before
          it shuts down on its own (1 to 300).
        type: int
        default: 15
      install_packages:
        description:
          - Install the Debian packages this module needs (see I(notes)) with
            C(apt-get) in the same call, before anything is configured; in check
            mode a missing package is reported as drift (with a C(packages) entry
            in the diff).
          - Set to C(false) where packages are managed otherwise; the module then
            fails on a host that lacks them.
        type: bool
        default: true
      min_supplies:
        description: C(MINSUPPLIES), the power supplies that must stay fed for
          the host to keep running.
        type: int
        default: 1
      mode:
        description: C(MODE) in C(nut.conf); C(netserver) on a host that also
          serves UPSes.
        type: str
        default: netclient
        choices:
          - netclient
          - netserver
          - standalone
      notify_mail:
        description:
          - Address that receives every power event by mail (needs a C(mail) command
            on the host).
          - Never starts with C(-) (rule C(mail)); passed to C(mail) after C(--).
        type: str
      notify_webhook:
        description:
          - URL that receives every power event as a JSON POST with key C(text),
            besides syslog.
          - Written into C(/etc/nut/ivpb-notify) (the C(NOTIFYCMD)), C(root:nut)
            C(0750); masked in diffs.
          - An http(s) URL of printable ASCII without blanks, quotes or backslash
            (rule C(url)).
        type: str
      pollfreq:
        description: C(POLLFREQ), seconds between polls while on line power (1
          to 300).
        type: int
        default: 5
      pollfreq_alert:
        description: C(POLLFREQALERT), seconds between polls while on battery
          (1 to 300).
        type: int
        default: 5
      shutdown_command:
        description:
          - C(SHUTDOWNCMD). Tests replace it with a command that writes a marker
            file.
          - One line starting with an absolute program path (rule C(command_line)
            of C(module_utils/input_rules.py)).
        type: str
        default: /sbin/shutdown -h +0
      ups:
        description: The UPSes that feed this host.
        type: list
        elements: dict
        required: true
        suboptions:
          name:
            description: The UPS name on its NUT server (a section of the server's
              C(ups.conf)).
            type: str
            required: true
          password:
            description: That user's password. Printable ASCII; blanks and quotes
              are fine.
            type: str
            required: true
          port:
            description: upsd's TCP port.
            type: int
            default: 3493
          power_value:
            description: How many of this host's power supplies the UPS feeds.
            type: int
            default: 1
          server:
            description: Host name or address of the NUT server (upsd) that serves
              the UPS.
            type: str
            required: true
          user:
            description: The monitoring user in the server's C(upsd.users) (C(upsmon
              secondary)).
            type: str
            required: true
  backup:
    description:
      - The options of M(ivpb.backupbeleid.backup_job) (see its documentation); left out, no §4
        on this host.
    type: dict
    suboptions:
      controls:
        description:
          - The §4 controls this host's plan requires, as the plan step hands
            them (C(ivpb_plan.inputs[inventory_hostname].backup.controls)); the
            result reports each under its C(id), per data set.
        type: list
        elements: dict
        required: true
        suboptions:
          datasets:
            description: The data sets (I(datasets[].dataset)) the control applies
              to.
            type: list
            elements: str
            required: true
          duty:
            description:
              - What the control asks of this module for its data sets.
              - C(daily) - a backup at least every day (daily wins over weekly).
              - C(weekly) - a backup at least every week, on I(window.weekday).
              - C(annual_full) - a full backup per school year in a chain of its
                own.
              - C(best_practice) - retention, weekly verify, lock, logs and failure
                hook.
              - C(encrypt) - GPG public-key encryption of all that leaves the
                host.
              - C(offsite_sync) - continuous sync to the data set's I(datasets[].sync).
              - C(pull) - the data set is pulled first (I(datasets[].pull); no
                control of the shipped policy asks it).
            type: str
            required: true
            choices:
              - daily
              - weekly
              - annual_full
              - best_practice
              - encrypt
              - offsite_sync
              - pull
          id:
            description: The control's id in the policy file.
            type: str
            required: true
      datasets:
        description:
          - The host's stored data sets (C(ivpb_stores)), each resolved by the
            plan step (C(ivpb_plan.inputs[inventory_hostname].backup.datasets),
            C(ivpb.resolve) on the controller) - its target, offsite copy, recipients'
            keys and retention filled in from C(ivpb_backup_targets), C(ivpb_backup_target),
            C(ivpb_gpg_recipients), C(ivpb_backup_encrypt_to), C(ivpb_backup_retention)
            and C(ivpb_backup_sync_delay), so the module joins nothing by name.
            A data set that no control names gets nothing.
        type: list
        elements: dict
        required: true
        suboptions:
          dataset:
            description: The data set's name (C(ivpb_stores[].dataset)).
            type: str
            required: true
          encrypted:
            description:
              - Whether its backups are GPG-encrypted (duty C(encrypt), or C(ivpb_stores[].encrypt));
                must be true when a control asks C(encrypt) of it.
            type: bool
            default: false
          full_if_older_than:
            description: duplicity's C(--full-if-older-than) (C(ivpb_backup_retention.full_if_older_than)).
            type: str
            default: 1M
          keep_full:
            description: Full chains kept (C(ivpb_stores[].keep_full), else C(ivpb_backup_retention.keep_full)).
            type: int
            default: 4
          path:
            description: The folder it is kept in on this host (absolute).
            type: str
            required: true
          pull:
            description:
              - A data set of a system ivpb does not manage (C(ivpb_managed=false),
                issue 23) that this host pulls as its backup proxy (C(ivpb_stores[].pull.via)).
                Before each backup and yearly full the job copies it with C(rclone
                sync) from I(source) into a folder of this host (C(/var/lib/ivpb/backup/pulled/<dataset>)),
                which the backup then saves as any other; a source that cannot
                be read fails the job (status, log, syslog, failure hook).
              - Its controls are reported with C(for) naming the system.
            type: dict
            suboptions:
              for:
                description: The system's inventory host.
                type: str
                required: true
              host_key:
                description:
                  - For C(sftp://) (required there) the server's SSH host public
                    key (C(ssh-ed25519 AAAA...)), pinned in this host's backup
                    known_hosts; no key is trusted on first use.
                type: str
              source:
                description:
                  - C(smb://server[:port]/share[/folder]) (rclone's C(smb) backend),
                    C(http(s)://server[:port]/path) (its C(webdav) backend) or
                    C(sftp://server[:port]/path) (its C(sftp) backend); no blanks,
                    quotes or backslashes.
                type: str
                required: true
              user:
                description:
                  - The account the proxy reads with (its password in I(pull_passwords)).
                    Required for C(sftp://), which without a password logs in
                    with this host's backup key (C(/etc/ivpb/backup/ssh/id_ed25519)).
                type: str
          recipients:
            description:
              - The recipients an encrypted data set is encrypted to (C(ivpb_stores[].encrypt_to),
                else C(ivpb_backup_encrypt_to)), each from C(ivpb_gpg_recipients).
            type: list
            elements: dict
            default: []
            suboptions:
              fingerprint:
                description: The primary key's fingerprint (40 hex digits, spaces
                  allowed).
                type: str
                required: true
              name:
                description: The recipient's key in C(ivpb_gpg_recipients).
                type: str
                required: true
              public_key:
                description: The ASCII-armored public key.
                type: str
                required: true
          sync:
            description:
              - Where its continuous offsite copy goes (C(ivpb_stores[].sync_target)),
                for a data set with duty C(offsite_sync); same keys as I(datasets[].target).
            type: dict
            suboptions:
              address:
                description: Host name or address to reach it (default the I(receiver)).
                type: str
                default: ''
              host_key:
                description: Its SSH host public key (C(type base64)), pinned
                  instead of the one read on the receiver.
                type: str
              name:
                description: The target's key in C(ivpb_backup_targets).
                type: str
                required: true
              path:
                description: The target's folder of backups.
                type: str
                default: /srv/backup
              port:
                description: Its SSH port.
                type: int
                default: 22
              receiver:
                description:
                  - The inventory host that receives it (a receiver M(ivpb.backupbeleid.backup_receiver)
                    manages); the host connects as its own user there and names
                    paths inside its area. Unset for an external target.
                type: str
              user:
                description: The user an external target is reached as (default
                  C(ivpb-backup)).
                type: str
          sync_delay:
            description:
              - Seconds lsyncd collects changes before a sync (C(ivpb_stores[].sync_delay),
                else C(ivpb_backup_sync_delay)).
            type: int
            default: 15
          target:
            description: Where its backups go (C(ivpb_stores[].backup_target),
              else C(ivpb_backup_target)).
            type: dict
            suboptions:
              address:
                description: Host name or address to reach it (default the I(receiver)).
                type: str
                default: ''
              host_key:
                description: Its SSH host public key (C(type base64)), pinned
                  instead of the one read on the receiver.
                type: str
              name:
                description: The target's key in C(ivpb_backup_targets).
                type: str
                required: true
              path:
                description: The target's folder of backups.
                type: str
                default: /srv/backup
              port:
                description: Its SSH port.
                type: int
                default: 22
              receiver:
                description:
                  - The inventory host that receives it (a receiver M(ivpb.backupbeleid.backup_receiver)
                    manages); the host connects as its own user there and names
                    paths inside its area. Unset for an external target.
                type: str
              user:
                description: The user an external target is reached as (default
                  C(ivpb-backup)).
                type: str
      failure_hook:
        description:
          - C(ivpb_backup_failure_hook). C(webhook) (URL, JSON POST), C(mail)
            (address, needs a C(mail) command), C(command) (shell command; C(IVPB_DATASET),
            C(IVPB_ACTION), C(IVPB_REASON) in its environment). Syslog always
            gets the failure.
          - C(ping), a monitoring URL (healthchecks-style) that every backup,
            yearly full, verify and sync reports to, each run as C(<ping>/<host>-<data
            set>-<run|annual|verify|sync>) with a JSON POST - C(/start) when it
            starts, nothing added when it succeeded, C(/fail) with the reason
            when it failed; the C(webhook) is the special case of the failures
            alone.
          - The C(webhook) and C(ping) URLs are secrets (a token in them lets
            anyone post to them), masked in the task's output and logs and never
            in a diff or result.
        type: dict
        default: {}
      host_keys:
        description:
          - Target (inventory host name or address) -> its SSH host public key
            (C(type base64)), or a list of them, read on the receiving hosts by
            the role. A target's own C(host_key) wins.
        type: dict
        default: {}
      hostname:
        description: The inventory name of this host (directory name at the targets).
        type: str
        required: true
      install_packages:
        description:
          - Install the Debian packages this module needs (see I(notes)) with
            C(apt-get) in the same call, before anything is configured; in check
            mode a missing package is reported as drift (with a C(packages) entry
            in the diff).
          - Set to C(false) where packages are managed otherwise; the module then
            fails on a host that lacks them.
        type: bool
        default: true
      pull_passwords:
        description:
          - System (I(datasets[].pull.for)) -> its C(ivpb_pull_password). Written
            only to a root-only file per data set (mode 0600, masked in diffs)
            and handed to rclone in its environment, never on a command line.
        type: dict
        default: {}
      window:
        description:
          - C(ivpb_backup_window). C(start) and C(end) (HH:MM, local time of the
            host, may cross midnight) of the backup window, C(weekday) (0-6, 0
            = Sunday) of weekly backups, C(verify_weekday) of the verify.
        type: dict
        default: {}
notes:
  - Every value is checked as the two modules check it (C(module_utils/input_rules.py)).
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
    - The entries of both parts (M(ivpb.backupbeleid.nut_client)'s first), each under its C(id), in
      the evidence format of every ivpb module. In check mode an entry in drift names the paths
      of its own changes in C(diff_paths) (their texts are in the result's diff once).
  returned: always
  type: list
  elements: dict
power:
  description: The rest of M(ivpb.backupbeleid.nut_client)'s result (C(files), C(service), C(ups)).
  returned: when I(power) was given and its part did not fail
  type: dict
ssh_public_key:
  description: As M(ivpb.backupbeleid.backup_job) returns it; with every other field of its result.
  returned: when I(backup) was given and its part did not fail
  type: str
packages:
  description: Debian packages installed by this call (in check mode, missing ones), of both parts.
  returned: when packages were missing
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import argument_specs, power_backup  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import run_module  # noqa: E402


def main():
    module = AnsibleModule(
        argument_spec=dict(
            parts=dict(type="list", elements="str", choices=["power", "backup"]),  # read by the action
            power=dict(type="dict", options=argument_specs.NUT_CLIENT),
            backup=dict(type="dict", options=argument_specs.BACKUP_JOB),
        ),
        supports_check_mode=True,
    )
    module.no_log_values.update(argument_specs.backup_job_secrets(module.params["backup"] or {}))
    run_module(module, power_backup.enforce)


if __name__ == "__main__":
    main()
