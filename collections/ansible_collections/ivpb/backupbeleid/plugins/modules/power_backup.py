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
    host, in a single module run: one round trip and one Python start on the host instead of
    two. C(playbooks/enforce.yml) uses it on every host whose plan has §2 or §4 controls; the
    two modules stay for a playbook or role that needs only one of them.
  - I(power) takes exactly the options of M(ivpb.backupbeleid.nut_client), I(backup) those of
    M(ivpb.backupbeleid.backup_job), validated by the same argument specs (secrets stay hidden).
    Either may be left out; that part then does not run.
  - The NUT client runs first, then the backup jobs, as the two tasks ran. A part that fails does
    not stop the other: both report their controls, and the module fails with the failed parts'
    messages.
  - In check mode nothing changes; each part reports drift as its module does.
author: ivpb contributors (!UNKNOWN)
extends_documentation_fragment:
  - ivpb.backupbeleid.attributes
  - ivpb.backupbeleid.attributes.controls
options:
  power:
    description:
      - The options of M(ivpb.backupbeleid.nut_client) (see its documentation); left out, no §2
        on this host.
    type: dict
  backup:
    description:
      - The options of M(ivpb.backupbeleid.backup_job) (see its documentation); left out, no §4
        on this host.
    type: dict
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
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import argument_specs, backup_job, nut_client  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import host as host_toolkit  # noqa: E402


def run_part(module, enforce, params, prefix=""):
    """(result, failure message or None, host) of one backend, as run_module would exit or fail."""
    host = host_toolkit.Host(module)
    try:
        return enforce(host, params), None, host
    except host_toolkit.ModuleFailure as e:
        return dict(e.result), prefix + str(e), host
    except OSError as e:
        where = f" ({e.filename})" if e.filename else ""
        return {}, f"{prefix}{e.strerror or e}{where}", host


def merge(module, power, backup):
    """One result of both parts: backup_job's fields at the top (the roles read its
    ssh_public_key), nut_client's under power, the controls and diffs of both."""
    result = {"changed": False, "controls": []}
    diffs, packages, failures = [], [], []
    for name, part in (("power", power), ("backup", backup)):
        if part is None:
            continue
        res, failure, host = part
        res = dict(res)
        controls = res.pop("controls", None) or []
        res.pop("diff", None)
        own = [d["before_header"] for d in host.diffs]
        for c in controls if name == "power" else ():
            if c.get("status") == "drift" and "diff_paths" not in c and host.want_diff:
                c["diff_paths"] = own  # nut_client's drift is all of its own changes
        result["controls"] += controls
        result["changed"] = result["changed"] or bool(res.pop("changed", False)) or bool(host.missing_packages)
        packages += host.missing_packages
        diffs += [d for d in host.diffs if d["before_header"] != "packages"]
        if name == "power":
            result["power"] = res
        else:
            result.update(res)
        if failure:
            failures.append(failure)
    if packages:
        result["packages"] = sorted(set(packages))
    if module._diff:
        # one "packages" change for the host, which both parts' drift may name
        if packages:
            wanted = result["packages"]
            diffs.insert(0, {"before_header": "packages", "after_header": "packages",
                             "before": "".join(f"{n}: not installed\n" for n in wanted),
                             "after": "".join(f"{n}: installed\n" for n in wanted)})
        result["diff"] = diffs
    return result, failures


def main():
    module = AnsibleModule(
        argument_spec=dict(
            power=dict(type="dict", options=argument_specs.NUT_CLIENT),
            backup=dict(type="dict", options=argument_specs.BACKUP_JOB),
        ),
        supports_check_mode=True,
    )
    power, backup = module.params["power"], module.params["backup"]
    if backup:
        module.no_log_values.update(argument_specs.backup_job_secrets(backup))
    ran_power = run_part(module, nut_client.enforce, power) if power else None
    ran_backup = run_part(module, backup_job.enforce, backup, f"{backup['hostname']}: ") if backup else None
    result, failures = merge(module, ran_power, ran_backup)
    if failures:
        module.fail_json(msg="; ".join(failures), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
