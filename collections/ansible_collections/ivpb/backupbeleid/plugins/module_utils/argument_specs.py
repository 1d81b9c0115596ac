# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The argument specs of the nut_client and backup_job modules, in one place: each module
validates its own options with them, and power_backup (both in one module run, for
playbooks/enforce.yml) validates its `power` and `backup` options with the very same specs.
A module file cannot import another module file (AnsiballZ ships only module_utils), hence
this file. The options are documented in each module's DOCUMENTATION.

Stdlib and ansible.module_utils only (targets run Python 3.11 on Debian bookworm)."""

from __future__ import annotations

from ansible_collections.ivpb.backupbeleid.plugins.module_utils import backup_job, input_rules

NUT_CLIENT = dict(
    controls=dict(type="list", elements="dict", required=True, options=dict(
        id=dict(type="str", required=True),
        duty=dict(type="str", required=True, choices=list(input_rules.DUTIES["nut_client"])),
    )),
    ups=dict(type="list", elements="dict", required=True, options=dict(
        name=dict(type="str", required=True),
        server=dict(type="str", required=True),
        port=dict(type="int", default=input_rules.NUT_PORT),
        power_value=dict(type="int", default=1),
        user=dict(type="str", required=True),
        password=dict(type="str", required=True, no_log=True),
    )),
    min_supplies=dict(type="int", default=1),
    mode=dict(type="str", default="netclient", choices=["netclient", "netserver", "standalone"]),
    shutdown_command=dict(type="str", default="/sbin/shutdown -h +0"),
    pollfreq=dict(type="int", default=input_rules.NUT_POLLFREQ),
    pollfreq_alert=dict(type="int", default=5),
    hostsync=dict(type="int", default=15),
    deadtime=dict(type="int", default=input_rules.NUT_DEADTIME),
    finaldelay=dict(type="int", default=5),
    notify_webhook=dict(type="str", no_log=True),
    notify_mail=dict(type="str"),
    install_packages=dict(type="bool", default=True),
)

# A resolved target (datasets[].target, datasets[].sync).
TARGET = dict(
    name=dict(type="str", required=True),
    receiver=dict(type="str"),
    address=dict(type="str", default=""),
    port=dict(type="int", default=22),
    path=dict(type="str", default=input_rules.BACKUP_PATH),
    user=dict(type="str"),
    host_key=dict(type="str", no_log=False),  # a public SSH host key
)

# The plan step hands datasets in this shape (ivpb.resolve.module_input; tests/unit/test_resolve.py).
BACKUP_JOB = dict(
    hostname=dict(type="str", required=True),
    controls=dict(type="list", elements="dict", required=True, options=dict(
        id=dict(type="str", required=True),
        duty=dict(type="str", required=True, choices=list(backup_job.DUTIES)),
        datasets=dict(type="list", elements="str", required=True),
    )),
    datasets=dict(type="list", elements="dict", required=True, options=dict(
        dataset=dict(type="str", required=True),
        path=dict(type="str", required=True),
        target=dict(type="dict", options=TARGET),
        sync=dict(type="dict", options=TARGET),
        encrypted=dict(type="bool", default=False),
        recipients=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            fingerprint=dict(type="str", required=True),
            public_key=dict(type="str", required=True, no_log=False),  # a public key
        )),
        keep_full=dict(type="int", default=input_rules.KEEP_FULL),
        full_if_older_than=dict(type="str", default=backup_job.FULL_IF_OLDER_THAN),
        sync_delay=dict(type="int", default=15),
        pull=dict(type="dict", options={"for": dict(type="str", required=True),
                                        "source": dict(type="str", required=True),
                                        "user": dict(type="str"), "host_key": dict(type="str", no_log=False)}),
    )),
    pull_passwords=dict(type="dict", default={}, no_log=True),
    window=dict(type="dict", default={}),
    failure_hook=dict(type="dict", default={}, no_log=False),
    host_keys=dict(type="dict", default={}, no_log=False),  # public SSH host keys
    install_packages=dict(type="bool", default=True),
)


def backup_job_secrets(params):
    """Secrets of backup_job's options that no spec marks: the failure hook's webhook URL and its
    monitoring ping URL (a healthchecks URL's token lets whoever holds it report a run as good)."""
    hook = params.get("failure_hook") or {}
    return [hook[k] for k in ("webhook", "ping") if hook.get(k)]
