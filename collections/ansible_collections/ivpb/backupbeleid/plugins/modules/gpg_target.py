#!/usr/bin/python
# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gpg_target
short_description: The backup recipients' public keys in a private keyring (IVPB §4 backup.encrypted)
version_added: 0.1.0
description:
  - Part of C(backup.encrypted) of §4 Backups ("worden geëncrypteerd gebackupt"). Brings a
    dedicated keyring (I(homedir), mode C(0700)) to exactly the declared recipients' public keys.
  - Each armored key is first imported into a throw-away keyring and checked - the declared
    fingerprint must be the key's primary fingerprint, the key must not be expired or revoked
    and must be able to encrypt; a key block with secret key material is refused. Secret keys
    found in the keyring are deleted - a secret key never stays on the host.
  - M(ivpb.backupbeleid.backup_job) does the same for its own keyring in its single call; use
    this module for a keyring outside the backup jobs or to check keys alone.
  - In check mode nothing changes.
author: ivpb contributors (!UNKNOWN)
extends_documentation_fragment:
  - ivpb.backupbeleid.attributes
options:
  homedir:
    description: The keyring directory (GNUPGHOME).
    type: path
    default: /etc/ivpb/backup/gnupg
  recipients:
    description: The recipients.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Recipient name (key of C(ivpb_gpg_recipients)).
        type: str
        required: true
      fingerprint:
        description: The primary key's 40 hex digit fingerprint (blanks allowed).
        type: str
        required: true
      public_key:
        description: The ASCII-armored public key.
        type: str
        required: true
notes:
  - Needs C(gnupg).
"""

EXAMPLES = r"""
- name: Recipients of the encrypted backups
  ivpb.backupbeleid.gpg_target:
    recipients:
      - name: directie
        fingerprint: "{{ ivpb_gpg_recipients.directie.fingerprint }}"
        public_key: "{{ ivpb_gpg_recipients.directie.public_key }}"
"""

RETURN = r"""
fingerprints:
  description: The fingerprints in the keyring after the call.
  returned: always
  type: list
  elements: str
imported:
  description: Fingerprints imported (or that would be).
  returned: always
  type: list
  elements: str
removed:
  description: Fingerprints removed (or that would be) because no recipient declares them.
  returned: always
  type: list
  elements: str
keys:
  description: Per fingerprint the recipient name and expiry (UTC).
  returned: always
  type: dict
controls:
  description: One C(backup.encrypted) entry (no data set) with the fingerprints as evidence.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.gpg_target import enforce  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import run_module  # noqa: E402


def main():
    module = AnsibleModule(
        argument_spec=dict(
            homedir=dict(type="path", default="/etc/ivpb/backup/gnupg"),
            recipients=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str", required=True),
                fingerprint=dict(type="str", required=True),
                public_key=dict(type="str", required=True),
            )),
        ),
        supports_check_mode=True,
    )
    run_module(module, enforce)


if __name__ == "__main__":
    main()
