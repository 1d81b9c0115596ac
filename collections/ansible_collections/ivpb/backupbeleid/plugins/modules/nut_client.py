#!/usr/bin/python
# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: nut_client
short_description: Make a host a NUT network client that shuts down cleanly on power loss (IVPB §2)
version_added: 0.1.0
description:
  - Enforces §2 Stroomvoorziening of the school's Backupbeleid on a Debian host. Controls
    C(power.ups) (an ordinary emergency power supply) and C(power.redundant_ups) (a redundant one).
  - Writes C(/etc/nut/nut.conf) (C(MODE=netclient)) and C(/etc/nut/upsmon.conf) (one C(MONITOR)
    line per UPS with its power value, C(MINSUPPLIES), C(SHUTDOWNCMD), C(NOTIFYFLAG) to syslog,
    C(POLLFREQ), C(HOSTSYNC), C(DEADTIME), C(FINALDELAY)), both C(root:nut) mode C(0640); enables
    C(nut-monitor.service) and restarts it when its configuration changed.
  - A redundant host gets two or more distinct UPSes and a C(MINSUPPLIES) that the remaining
    UPSes still meet when any one of them is lost; it shuts down only when none is left.
  - Passwords with blanks, quotes, backslashes or C(#) are quoted so that NUT 2.8 parses them and
    upsd accepts them; they never appear in the result, and diffs show C(********) instead.
  - Reports the evidence for C(ivpb audit) in C(controls) - which UPSes are monitored, whether
    each is reachable from this host (C(upsc ups@server ups.status), run in the same call) and
    its current status.
  - In check mode nothing changes and a host without NUT installed is reported as drift.
author: ivpb contributors (!UNKNOWN)
extends_documentation_fragment:
  - ivpb.backupbeleid.attributes
  - ivpb.backupbeleid.attributes.packages
  - ivpb.backupbeleid.attributes.controls
options:
  controls:
    description:
      - The policy controls this host's plan requires of its power supply, as the plan step hands
        them (C(ivpb.backupbeleid.plan), the policy file's C(enforced_by)); the result reports each
        under its C(id).
    type: list
    elements: dict
    required: true
    suboptions:
      id:
        description:
          - The control's id in the policy file (the shipped policy's are C(power.ups) and
            C(power.redundant_ups)).
        type: str
        required: true
      duty:
        description:
          - What the control asks of this module. C(ups) - an ordinary supply, the host shuts down
            cleanly before its UPS runs out; C(redundant_ups) - a redundant supply, the host
            survives the loss of any one UPS (so at least two distinct UPSes with a power value).
          - How many UPSes must be reached is not the module's to judge - it reports the UPSes it
            reached (C(evidence.reachable), and why not the others in C(evidence.unreached)), and
            C(ivpb audit) counts them against the policy file's C(ups_reachable_min).
        type: str
        required: true
        choices: [ups, redundant_ups]
  ups:
    description: The UPSes that feed this host.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The UPS name on its NUT server (a section of the server's C(ups.conf)).
        type: str
        required: true
      server:
        description: Host name or address of the NUT server (upsd) that serves the UPS.
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
      user:
        description: The monitoring user in the server's C(upsd.users) (C(upsmon secondary)).
        type: str
        required: true
      password:
        description: That user's password. Printable ASCII; blanks and quotes are fine.
        type: str
        required: true
  min_supplies:
    description: C(MINSUPPLIES), the power supplies that must stay fed for the host to keep running.
    type: int
    default: 1
  mode:
    description: C(MODE) in C(nut.conf); C(netserver) on a host that also serves UPSes.
    type: str
    default: netclient
    choices: [netclient, netserver, standalone]
  shutdown_command:
    description:
      - C(SHUTDOWNCMD). Tests replace it with a command that writes a marker file.
      - One line starting with an absolute program path (rule C(command_line) of C(module_utils/input_rules.py)).
    type: str
    default: /sbin/shutdown -h +0
  pollfreq:
    description: C(POLLFREQ), seconds between polls while on line power (1 to 300).
    type: int
    default: 5
  pollfreq_alert:
    description: C(POLLFREQALERT), seconds between polls while on battery (1 to 300).
    type: int
    default: 5
  hostsync:
    description: C(HOSTSYNC), seconds a secondary waits for the primary before it shuts down on its own (1 to 300).
    type: int
    default: 15
  deadtime:
    description:
      - C(DEADTIME), seconds a UPS may stay silent before it counts as dead; at least 3 x I(pollfreq), at most
        300.
    type: int
    default: 15
  finaldelay:
    description: C(FINALDELAY), seconds between the shutdown notice and C(SHUTDOWNCMD) (0 to 300).
    type: int
    default: 5
  notify_webhook:
    description:
      - "URL that receives every power event as a JSON POST with key C(text), besides syslog."
      - "Written into C(/etc/nut/ivpb-notify) (the C(NOTIFYCMD)), C(root:nut) C(0750); masked in diffs."
      - "An http(s) URL of printable ASCII without blanks, quotes or backslash (rule C(url))."
    type: str
  notify_mail:
    description:
      - Address that receives every power event by mail (needs a C(mail) command on the host).
      - Never starts with C(-) (rule C(mail)); passed to C(mail) after C(--).
    type: str
notes:
  - Every value is checked by the module itself with the shared rules of C(module_utils/input_rules.py)
    (the same rules as C(ivpb validate)), so a playbook that calls it without the plan step is held to them.
  - Needs the C(nut-client) package; installed in the same call unless I(install_packages=false).
  - Written for Debian bookworm's NUT 2.8.0.
seealso:
  - name: upsmon.conf(5)
    description: NUT's upsmon configuration.
    link: https://networkupstools.org/docs/man/upsmon.conf.html
"""

EXAMPLES = r"""
- name: Redundant host fed by two UPSes on the NUT server
  ivpb.backupbeleid.nut_client:
    controls:
      - {id: power.ups, duty: ups}
      - {id: power.redundant_ups, duty: redundant_ups}
    ups:
      - {name: ups-a, server: nutserver, user: mon-fileserver, password: "{{ ivpb_nut_password }}"}
      - {name: ups-b, server: nutserver, user: mon-fileserver, password: "{{ ivpb_nut_password }}"}

- name: Ordinary host; in a test the shutdown only writes a marker file
  ivpb.backupbeleid.nut_client:
    controls: [{id: power.ups, duty: ups}]
    ups:
      - {name: ups-a, server: nutserver, user: mon-nas, password: "{{ ivpb_nut_password }}"}
    shutdown_command: /bin/sh -c 'date > /run/ivpb-shutdown-marker'
    pollfreq: 1
    pollfreq_alert: 1
    hostsync: 3
"""

RETURN = r"""
packages:
  description: Debian packages installed by this call (in check mode, missing ones); absent when none.
  returned: when packages were missing
  type: list
  elements: str
files:
  description: Each managed file, whether it changed (or would), and why.
  returned: always
  type: list
  elements: dict
  sample: [{"path": "/etc/nut/upsmon.conf", "changed": true, "reason": "content"}]
service:
  description: State of nut-monitor.service after the call and the actions taken (or needed).
  returned: always
  type: dict
  sample: {"name": "nut-monitor.service", "enabled": true, "active": true, "actions": ["restart"]}
ups:
  description: Per UPS, whether this host reaches it through upsd, and its C(ups.status).
  returned: always
  type: list
  elements: dict
  sample: [{"ups": "ups-a@nutserver", "reachable": true, "status": "OL"}]
controls:
  description:
    - One entry per control in I(controls), under its C(id), in the evidence format of every
      ivpb module (C(id), C(status), C(detail), C(evidence), C(message)).
    - On failure, each control in error; a failure the report can say in its own words (NUT not
      installed) carries its C(message).
  returned: always
  type: list
  elements: dict
  sample:
    - id: power.redundant_ups
      status: compliant
      detail: "upsmon monitors 2 UPS(es), reachable: ups-a@nutserver OL, ups-b@nutserver OL"
      evidence: {monitored: [ups-a@nutserver, ups-b@nutserver], min_supplies: 1}
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import argument_specs  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import run_module  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.nut_client import enforce  # noqa: E402


def main():
    module = AnsibleModule(argument_spec=argument_specs.NUT_CLIENT, supports_check_mode=True)
    run_module(module, enforce)


if __name__ == "__main__":
    main()
