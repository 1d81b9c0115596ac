# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The argument specs of the nut_server, nut_client and backup_job modules, in one place: each
module validates its own options with them, and power_backup (all three in one module run, for
playbooks/enforce.yml) validates its `nut_server`, `power` and `backup` options with the very same specs.
A module file cannot import another module file (AnsiballZ ships only module_utils), hence
this file. The options are documented in each module's DOCUMENTATION; power_backup's refer to
them, so its `power` and `backup` are plain dicts to AnsibleModule and validate_parts checks them.

Stdlib and ansible.module_utils only (targets run Python 3.11 on Debian bookworm)."""

from __future__ import annotations

from ansible.module_utils.basic import heuristic_log_sanitize
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
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

NUT_SERVER = dict(
    ups=dict(type="dict", required=True),
    listen=dict(type="list", elements="str", default=["0.0.0.0"]),
    port=dict(type="int", default=input_rules.NUT_PORT),
    clients=dict(type="list", elements="dict", default=[], options=dict(
        host=dict(type="str", required=True),
        name=dict(type="str", required=True),
        # an unmanaged client's power controls, which its NUT server reports
        controls=dict(type="list", elements="dict", default=[], options=NUT_CLIENT["controls"]["options"]),
        ups=dict(type="list", elements="str", default=[]),
        address=dict(type="str"),
    )),
    passwords=dict(type="dict", default={}, no_log=True),
    users=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str", required=True),
        password=dict(type="str", required=True, no_log=True),
        upsmon=dict(type="str", choices=["primary", "secondary"]),
        actions=dict(type="list", elements="str", default=[]),
    )),
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
    monitoring ping URL (a healthchecks URL's token lets whoever holds it report a run as good).
    Read before validation too (power_backup masks them in its bad-input failure), so any shape."""
    hook = params.get("failure_hook")
    return [str(hook[k]) for k in ("webhook", "ping") if hook.get(k)] if isinstance(hook, dict) else []


# power_backup's options as AnsibleModule would read them nested: each part takes its module's.
POWER_BACKUP = dict(
    nut_server=dict(type="dict", options=NUT_SERVER),
    power=dict(type="dict", options=NUT_CLIENT),
    backup=dict(type="dict", options=BACKUP_JOB),
)


def validate_parts(module, spec):
    """Validate the module's dict options by `spec` (options nested in it) as AnsibleModule would
    have: defaults applied, types converted, the same one-line error naming the option's path
    (`backup -> datasets`), fail_json before anything runs; their no_log values join the module's.
    Make the module with no_log=True and call log_invocation after this: AnsibleModule would log
    its invocation before the nested secrets are known."""
    result = ArgumentSpecValidator(spec).validate({name: module.params.get(name) for name in spec})
    # the values the specs mark no_log (ValidationResult documents _no_log_values; AnsibleModule reads it)
    module.no_log_values.update(result._no_log_values)
    if result.error_messages:
        unsupported = isinstance(result.errors[0], UnsupportedError)
        module.fail_json(msg=f"Unsupported parameters for ({module._name}) module: {result.errors.msg}"
                         if unsupported else result.errors.msg)
    module.params.update(result.validated_parameters)


def log_invocation(module):
    """What AnsibleModule logs to the host's journal/syslog as it starts (`Invoked with ...`), for a
    module made with no_log=True until its secrets were all in module.no_log_values. Secrets are
    masked in the data, before it becomes text (escaped in text, they would no longer match)."""
    module.no_log = False
    shown = remove_values(module.params, module.no_log_values)
    module.log("Invoked with " + " ".join(f"{k}={heuristic_log_sanitize(str(v), module.no_log_values)}"
                                          for k, v in shown.items()))
