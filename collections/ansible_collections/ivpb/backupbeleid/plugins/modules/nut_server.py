#!/usr/bin/python
# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: nut_server
short_description: NUT server on the host the UPSes are plugged into (IVPB §2 Stroomvoorziening)
version_added: 0.2.0
description:
  - The server side of §2 Stroomvoorziening, in one call, so that the hosts fed by a UPS
    (M(ivpb.backupbeleid.nut_client)) can monitor it over the network.
  - Writes C(/etc/nut/nut.conf) (C(MODE=netserver)), C(ups.conf) (one driver section per UPS),
    C(upsd.conf) (C(LISTEN) per address) and C(upsd.users) (one C(upsmon secondary) user per
    client - no admin rights, no C(SET), no instant commands - and an optional test user with
    C(actions = SET)); all C(root:nut 0640). For the C(dummy-ups) driver (the lab) it writes the
    UPS's state file with C(ups.status OL).
  - Restarts the drivers when the drivers' configuration changed, upsd (and then the drivers
    again, which NUT 2.8.0 needs) when upsd's changed, reloads upsd when only the users changed;
    C(nut-server) enabled and running.
  - Returns each UPS's C(ups.status) as upsd serves it.
  - In check mode nothing changes; a fresh host without NUT is reported as drift.
author: ivpb contributors (!UNKNOWN)
extends_documentation_fragment:
  - ivpb.backupbeleid.attributes
  - ivpb.backupbeleid.attributes.packages
options:
  ups:
    description:
      - C(ivpb_nut_server.ups) - UPS name -> a dict with C(driver) (required; for example
        C(usbhid-ups), or C(dummy-ups) in the lab), C(port) (default C(auto), or C(<name>.dev) for
        C(dummy-ups)), C(description) and C(options) (further driver settings, written quoted).
      - Checked by the module with the rules of C(module_utils/input_rules.py), as C(ivpb validate) checks
        them - UPS names C(nut_name), drivers C(nut_driver), ports C(nut_port) (C(auto), a device under
        C(/dev/), a C(.dev) file name for C(dummy-ups), or host:port), option names C(nut_option), values
        one line without control characters.
    type: dict
    required: true
  listen:
    description: Addresses upsd listens on.
    type: list
    elements: str
    default: ["0.0.0.0"]
  port:
    description: upsd's TCP port.
    type: int
    default: 3493
  clients:
    description:
      - The hosts that monitor this server's UPSes, as the plan step hands them
        (C(ivpb_plan.inputs[host].nut_server.clients)) - each gets an upsd user with
        C(upsmon secondary) and the password I(passwords) holds for its host.
    type: list
    elements: dict
    default: []
    suboptions:
      host:
        description: The client's inventory host (the key of its password in I(passwords)).
        type: str
        required: true
      name:
        description: Its NUT user (C(ivpb_nut_client.user), default C(mon-<host>)).
        type: str
        required: true
      controls:
        description:
          - For a system ivpb does not manage (C(ivpb_managed=false)), its power controls
            (C(id) and C(duty) C(ups) or C(redundant_ups)); nothing runs on it, so this server
            reports them under C(for) with the client's host name.
          - Compliant only when C(upsc -c) (NUT's C(LIST CLIENT)) lists an address of the client
            as logged in to each UPS in I(ups).
        type: list
        elements: dict
        default: []
        suboptions:
          id:
            description: The policy's control id.
            type: str
            required: true
          duty:
            description: What the control asks.
            type: str
            required: true
            choices: [ups, redundant_ups]
      ups:
        description: With I(controls), the UPSes of this server that feed the client.
        type: list
        elements: str
        default: []
      address:
        description:
          - With I(controls), the name or address the client connects from
            (C(ivpb_nut_client.address), default its inventory host name), resolved on this server
            with C(getent ahosts); an address that C(LIST CLIENT) lists matches.
        type: str
  passwords:
    description: Client host -> its C(ivpb_nut_password) (never logged, masked in diffs).
    type: dict
    default: {}
  users:
    description: Further upsd users, after the clients' (the role adds the test user of C(ivpb_nut_server.test_user)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: User name.
        type: str
        required: true
      password:
        description: Password (never logged, masked in diffs).
        type: str
        required: true
      upsmon:
        description: C(secondary) for a monitoring client.
        type: str
        choices: [primary, secondary]
      actions:
        description: upsd actions, for example C([SET]) for a test user.
        type: list
        elements: str
        default: []
notes:
  - Needs C(nut-server) and C(nut-client); installed in the same call unless I(install_packages=false).
  - Written for Debian bookworm's NUT 2.8.0.
seealso:
  - module: ivpb.backupbeleid.nut_client
  - name: upsd.users(5)
    description: The users file.
    link: https://networkupstools.org/docs/man/upsd.users.html
"""

EXAMPLES = r"""
- name: NUT server for the UPS in the server room
  ivpb.backupbeleid.nut_server:
    ups:
      ups-serverlokaal: {driver: usbhid-ups, description: "APC in rack 1"}
    listen: ["10.0.0.5"]
    clients:
      - {host: fileserver, name: mon-fileserver}
    passwords:
      fileserver: "{{ vault_nut_fileserver }}"
"""

RETURN = r"""
controls:
  description:
    - The power controls (C(power.ups), C(power.redundant_ups)) of the unmanaged clients, each
      with C(for) naming the client; empty when every client is managed (each managed host's
      M(ivpb.backupbeleid.nut_client) reports its own).
    - Evidence C(reachable) (the UPSes it is logged in to), C(status) (UPS -> C(connected),
      C(not connected) or C(unreachable)), C(address) and the C(addresses) it resolved to.
  returned: always
  type: list
  elements: dict
ups:
  description: UPS name -> C(ups.status) as upsd serves it (C(OL), C(OB LB), ...) or C(unreachable).
  returned: always
  type: dict
  sample: {"ups-a": "OL"}
service:
  description: upsd's state after the call and the systemctl actions taken (or needed).
  returned: always
  type: dict
  sample: {"name": "nut-server.service", "enabled": true, "active": true, "actions": []}
changed_paths:
  description: Files changed (or that would change).
  returned: always
  type: list
  elements: str
packages:
  description: Debian packages installed by this call (in check mode, missing ones); absent when none.
  returned: when packages were missing
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import argument_specs  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import run_module  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.nut_server import enforce  # noqa: E402


def main():
    module = AnsibleModule(
        argument_spec=argument_specs.NUT_SERVER,
        supports_check_mode=True,
    )
    run_module(module, enforce)


if __name__ == "__main__":
    main()
