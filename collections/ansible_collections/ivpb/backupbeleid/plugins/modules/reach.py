#!/usr/bin/python
# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name (plugins/action/reach.py); this file
# holds its documentation, as ansible.builtin.raw's does.

from __future__ import annotations

DOCUMENTATION = r"""
module: reach
short_description: Reach a host in one round trip, say its SSH keys, find its Python (IVPB)
version_added: 0.3.0
description:
  - One shell command over the connection, no module and no Python needed on the host, like
    M(ansible.builtin.raw). C(playbooks/enforce.yml) reaches every host with it before any clause,
    all at the same time, so a host that does not answer leaves the play there, once.
  - With I(host_key), reads the host's C(/etc/ssh/ssh_host_ed25519_key.pub); the backup role pins
    it on the senders. With I(backup_key), reads the public half of the host's own backup key
    (C(/etc/ivpb/backup/ssh/id_ed25519.pub), once its private half exists); its receivers
    authorize it.
  - A key is taken only as one line of the form its reader accepts (C(type base64), a backup key
    with a comment of safe characters); whatever else the host prints counts as no key, so the
    reader keeps what it had before.
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
    description: Also read the host's SSH host key (ed25519).
    type: bool
    default: false
  backup_key:
    description: Also read the host's public backup key (made by M(ivpb.backupbeleid.backup_job)).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Reach every host once; a backup receiver says its SSH host key
  ivpb.backupbeleid.reach:
    host_key: "{{ 'ivpb_backup_target' in group_names }}"
    backup_key: "{{ 'ivpb_backup' in group_names }}"
  changed_when: false
  register: ivpb_reach
"""

RETURN = r"""
host_key:
  description: The host key as C(type base64), or empty when the host has none (or said no valid one).
  returned: with I(host_key)
  type: str
  sample: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0...
backup_key:
  description: The public backup key with its comment, or empty when the host has none yet (or said no valid one).
  returned: with I(backup_key)
  type: str
  sample: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK7... ivpb-backup@fileserver
ansible_facts:
  description: C(discovered_interpreter_python), where Ansible would discover it.
  returned: when the host's interpreter is discovered
  type: dict
  sample: {"discovered_interpreter_python": "/usr/bin/python3.11"}
"""
