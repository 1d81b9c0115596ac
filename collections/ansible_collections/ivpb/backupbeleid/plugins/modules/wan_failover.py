#!/usr/bin/python
# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: wan_failover
short_description: Dual-WAN failover with health probes on the routing host (§3 Internetverbinding)
version_added: 0.1.0
description:
  - Enforces §3 of the Backupbeleid (controls C(internet.failover) and C(internet.sla)) on the host
    that routes the school's traffic (a router, or a server that is its own router).
  - Installs the daemon C(/usr/local/sbin/ivpb-wan-failover) (Python standard library only), its
    configuration C(/etc/ivpb/wan-failover.json) (mode 0600), the systemd unit
    C(ivpb-wan-failover.service) and the sysctl drop-in C(/etc/sysctl.d/60-ivpb-wan-failover.conf);
    applies loose reverse-path filtering (C(rp_filter=2)) and forwarding at once; keeps the unit
    enabled and running, restarted when one of its files changed.
  - The daemon is modelled on OpenWrt mwan3. Every O(probe.interval) seconds it pings each
    O(uplinks[].track_ip) through the uplink's own interface (C(ping -I)); a round is good when at
    least O(probe.reliability) targets answered. An online uplink goes offline after O(probe.down)
    failed rounds in a row, an offline one comes back after O(probe.up) good rounds.
  - Routes. One base default route per uplink at its own O(uplinks[].metric) (probes on the standby
    link need it) and one "active" default route at O(active_metric), switched atomically with
    C(ip route replace) to the online uplink with the lowest metric. With no uplink online the active
    route stays as it is.
  - Every switch and every uplink going up or down is logged to syslog (tag C(ivpb-wan-failover),
    facility daemon) and, when O(webhook) is set, posted there as JSON.
  - The daemon writes its state (active uplink, probe state of each uplink, last switch) to
    C(/run/ivpb-wan-failover/state.json); the module reads it as evidence for the audit.
  - Why a small daemon of our own rather than the alternatives. mwan3 is OpenWrt-only (ubus, hotplug,
    fw3/fw4) and not packaged for Debian. keepalived's VRRP elects a router among several hosts, not an
    uplink on one host; its track scripts would need this probing anyway. systemd-networkd and
    ifupdown only fail over on carrier loss, and an ISP outage upstream of the modem leaves the carrier
    up. A daemon of about 250 lines of standard-library Python, tested by unit tests and by cutting an
    ISP in the molecule scenario, does exactly the probing, hysteresis and atomic switch, and its state
    file is the audit evidence.
  - Check mode changes nothing and reports what would change as C(drift); on a fresh host without the
    packages it reports drift rather than failing.
  - Default probing (interval 5, timeout 2, count 1, down 3, up 3) detects an outage within about
    17 seconds (3 rounds plus one timeout) and returns after 3 good rounds.
author:
  - ivpb contributors (!UNKNOWN)
extends_documentation_fragment:
  - ivpb.backupbeleid.attributes
  - ivpb.backupbeleid.attributes.packages
  - ivpb.backupbeleid.attributes.controls
requirements:
  - systemd on the target; C(iproute2) and C(iputils-ping), installed in the same call unless
    I(install_packages=false).
options:
  uplinks:
    description:
      - The uplinks of this host, from the inventory variable C(ivpb_uplinks). Two or more make an
        alternative connection; names, interfaces, gateways and metrics must be distinct.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Short name, used in logs and evidence (for example C(wan1)).
        type: str
        required: true
      interface:
        description:
          - The network interface of this uplink (must exist and carry an address on the gateway's subnet).
          - A Linux interface name (rule C(interface) of C(module_utils/input_rules.py)); one with a dot (a VLAN
            such as C(eth0.10)) gets its C(rp_filter) key in the C(/) form of sysctl.d(5).
        type: str
        required: true
      gateway:
        description: IPv4 address of the ISP's gateway (modem or router) on that interface.
        type: str
        required: true
      metric:
        description:
          - Metric of the uplink's base default route; the lowest metric among the online uplinks is
            preferred. Must be higher than O(active_metric).
        type: int
        required: true
      track_ip:
        description: Probe targets reached through this uplink (addresses beyond the ISP's gateway).
        type: list
        elements: str
        required: true
      isp:
        description: The internet service provider (for C(internet.sla)).
        type: str
      sla:
        description:
          - The SLA with this ISP, a dict with C(reference) and C(ends) (YYYY-MM-DD), or the string
            C(none) when no SLA is available (then give O(uplinks[].reason)).
        type: raw
      reason:
        description: Why there is no SLA (with O(uplinks[].sla=none)); "indien mogelijk" in §3.
        type: str
  probe:
    description: Probe settings, as in mwan3. Unset keys take the defaults below.
    type: dict
    default: {}
    suboptions:
      reliability:
        description: Targets that must answer for a round to be good (default 1).
        type: int
      count:
        description: Pings per target per round (default 1).
        type: int
      timeout:
        description: Seconds to wait for a reply (default 2).
        type: int
      interval:
        description: Seconds between rounds (default 5).
        type: int
      down:
        description: Failed rounds in a row before an online uplink goes offline (default 3).
        type: int
      up:
        description: Good rounds in a row before an offline uplink comes back (default 3).
        type: int
  active_metric:
    description: Metric of the active default route; lower than every uplink's metric.
    type: int
    default: 10
  forwarding:
    description: Also enable IPv4 forwarding (a router forwards the school's traffic).
    type: bool
    default: true
  webhook:
    description:
      - URL that receives a JSON POST for every switch and uplink state change. May hold a token.
      - An http(s) URL without blanks, quotes or backslash (rule C(url)); masked in diffs as it is written.
    type: str
  controls:
    description:
      - The policy controls this host enforces for the hosts it routes, as the plan step hands
        them (C(ivpb.backupbeleid.plan), the policy file's C(enforced_by)); the result reports each
        under its C(id).
      - Without controls the failover is still enforced, and nothing is reported.
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description:
          - The control's id in the policy file (the shipped policy's are C(internet.failover)
            and C(internet.sla)).
        type: str
        required: true
      duty:
        description:
          - What the control asks of this module. C(failover) - an alternative connection that
            takes over when the active uplink's probes fail; C(sla) - an SLA per uplink, or why
            there is none (advisory, C(missing) when not recorded).
        type: str
        required: true
        choices: [failover, sla]
  serves:
    description: The inventory hosts whose internet.failover this host enforces (evidence only).
    type: list
    elements: str
    default: []
  wait:
    description: Seconds to wait for the daemon's first state after a (re)start.
    type: float
    default: 15
seealso:
  - name: OpenWrt mwan3
    description: The model for the probing and hysteresis settings.
    link: https://openwrt.org/docs/guide-user/network/wan/multiwan/mwan3
"""

EXAMPLES = r"""
- name: Dual-WAN failover on the router (§3)
  ivpb.backupbeleid.wan_failover:
    uplinks:
      - name: wan1
        interface: eth1
        gateway: 192.0.2.1
        metric: 101
        track_ip: [198.51.100.10, 203.0.113.10]
        isp: Proximus
        sla: {reference: PXS-2026-0042, ends: "2027-08-31"}
      - name: wan2
        interface: eth2
        gateway: 198.51.100.1
        metric: 102
        track_ip: [198.51.100.10, 203.0.113.10]
        isp: Telenet
        sla: none
        reason: consumer line, no SLA offered
    probe: {interval: 5, down: 3, up: 3}
    controls:
      - {id: internet.failover, duty: failover}
      - {id: internet.sla, duty: sla}
  register: wan
"""

RETURN = r"""
packages:
  description: Debian packages installed by this call (in check mode, missing ones); absent when none.
  returned: when packages were missing
  type: list
  elements: str
changes:
  description: What was (or, in check mode, would be) changed.
  returned: always
  type: list
  elements: str
  sample: ["file /etc/ivpb/wan-failover.json", "service restart ivpb-wan-failover.service"]
state:
  description: The daemon's state file (empty when there is none yet).
  returned: always
  type: dict
  sample: {active: wan1, last_switch: null, switches: 0, uplinks: {wan1: {state: online, replies: 1/1}}}
controls:
  description:
    - One entry per control in I(controls), under its C(id), with its state after the call (in
      check mode, the state found), for C(ivpb audit).
    - A C(failover) control's evidence holds the uplinks it runs, the active uplink, each uplink's
      probe state, the last switch time and the active default route; how many uplinks must be
      declared and online is not the module's to judge (C(ivpb audit) counts them against the
      policy file's C(uplinks_online_min)). An C(sla) control is advisory (C(missing), never a
      failure); its C(message) is a list, one per missing record.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import input_rules  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import run_module  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.wan_failover import enforce  # noqa: E402


def argument_spec() -> dict:
    probe = {k: {"type": "int"} for k in ("reliability", "count", "timeout", "interval", "down", "up")}
    return {
        "uplinks": {"type": "list", "elements": "dict", "required": True, "options": {
            "name": {"type": "str", "required": True},
            "interface": {"type": "str", "required": True},
            "gateway": {"type": "str", "required": True},
            "metric": {"type": "int", "required": True},
            "track_ip": {"type": "list", "elements": "str", "required": True},
            "isp": {"type": "str"},
            "sla": {"type": "raw"},
            "reason": {"type": "str"},
        }},
        "probe": {"type": "dict", "default": {}, "options": probe},
        "active_metric": {"type": "int", "default": input_rules.ACTIVE_METRIC},
        "forwarding": {"type": "bool", "default": True},
        "webhook": {"type": "str", "no_log": True},
        "controls": {"type": "list", "elements": "dict", "default": [], "options": {
            "id": {"type": "str", "required": True},
            "duty": {"type": "str", "required": True, "choices": list(input_rules.DUTIES["wan_failover"])},
        }},
        "serves": {"type": "list", "elements": "str", "default": []},
        "wait": {"type": "float", "default": 15},
        "install_packages": {"type": "bool", "default": True},
    }


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, enforce)


if __name__ == "__main__":
    main()
