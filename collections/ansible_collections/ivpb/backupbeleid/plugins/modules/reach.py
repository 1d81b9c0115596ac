#!/usr/bin/python
# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name (plugins/action/reach.py); this file
# holds its documentation, as ansible.builtin.raw's does.

from __future__ import annotations

DOCUMENTATION = r"""
module: reach
short_description: Reach a host in one round trip, say its SSH host key, find its Python (IVPB)
version_added: 0.3.0
description:
  - One shell command over the connection, no module and no Python needed on the host, like
    M(ansible.builtin.raw). C(playbooks/enforce.yml) reaches every host with it before any clause,
    all at the same time, so a host that does not answer leaves the play there, once.
  - With I(host_key), prints the host's C(/etc/ssh/ssh_host_ed25519_key.pub) (nothing when it is
    absent); the backup role pins it on the senders.
  - Where Ansible would discover the host's Python interpreter (C(interpreter_python) C(auto),
    C(auto_silent), ... and no C(ansible_python_interpreter) for the host), it looks for it in the
    same round trip the way Ansible's discovery does (the first of C(interpreter_python_fallback)
    that C(command -v) finds, else C(/usr/bin/python3)) and returns it as the fact Ansible's
    discovery leaves (C(discovered_interpreter_python)), so the host's first module needs no
    round trip of its own for it. Discovery's warnings (mode C(auto)) are not shown.
author: ivpb contributors (!UNKNOWN)
extends_documentation_fragment:
  - ivpb.backupbeleid.attributes
attributes:
  check_mode:
    support: full
    details: Reads only; the same in check mode.
  diff_mode:
    support: none
options:
  host_key:
    description: Also print the host's SSH host key (ed25519).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Reach every host once; a backup receiver says its SSH host key
  ivpb.backupbeleid.reach:
    host_key: "{{ 'ivpb_backup_target' in group_names }}"
  changed_when: false
  register: ivpb_reach
"""

RETURN = r"""
stdout:
  description: The host key's line with I(host_key), else empty.
  returned: always
  type: str
stdout_lines:
  description: I(stdout) split into lines.
  returned: always
  type: list
  elements: str
ansible_facts:
  description: C(discovered_interpreter_python), where Ansible would discover it.
  returned: when the host's interpreter is discovered
  type: dict
  sample: {"discovered_interpreter_python": "/usr/bin/python3.11"}
"""
