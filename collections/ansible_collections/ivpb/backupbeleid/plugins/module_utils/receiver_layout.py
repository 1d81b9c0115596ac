# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a client's backups live on a receiver that ivpb manages, known to both sides: the
sender (backup_job) connects as the client's own user and names paths relative to its area,
the receiver (backup_receiver) creates that user and area.

  <target path>/<client>/                 the client's area: its user's home, rrsync's root
  <target path>/<client>/<dataset>/chain  the routine duplicity chains (backup.daily/weekly)
  <target path>/<client>/<dataset>/annual/<school year>   the yearly fulls, never pruned
  <target path>/<client>/<dataset>/sync   the continuous offsite copy (backup.sync_offsite)
  <target path>/<client>/<dataset>/manifests       what each backup saved (sync-manifests: the copy's)

The same folders below <target path>/<client>/<dataset> on a target outside the inventory.
This file owns these names: the job script, restore, the herstelplan and the receiver read them here."""

from __future__ import annotations

import hashlib
import re

from ansible_collections.ivpb.backupbeleid.plugins.module_utils import input_rules

# The client's own backup key (made on the client by backup_job, never leaving it); the public
# half (CLIENT_KEY + ".pub") is what a receiver authorizes for the client's user.
CLIENT_KEY = "/etc/ivpb/backup/ssh/id_ed25519"
# Client keys may add a comment of safe characters to the key of input_rules (matched whole, so
# no option or second key rides in).
CLIENT_KEY_RE = re.compile(input_rules.PATTERNS["ssh_public_key"] + r"( [A-Za-z0-9@._-]{0,100})?")
USER_PREFIX = "ivpb-"
_SAFE = re.compile(r"^[a-z][a-z0-9-]*$")
MAX_USER = 32


def client_user(target, client):
    """The Unix user of one client at one target: readable when it can be, unique always."""
    name = f"{USER_PREFIX}{target}-{client}".lower()
    if len(name) <= MAX_USER and _SAFE.match(name) and name == f"{USER_PREFIX}{target}-{client}":
        return name
    digest = hashlib.sha256(f"{target}\0{client}".encode()).hexdigest()[:10]
    stem = re.sub(r"[^a-z0-9-]", "-", client.lower())[: MAX_USER - len(USER_PREFIX) - 11].strip("-") or "c"
    return f"{USER_PREFIX}{stem}-{digest}"


# The folders of one data set at its target.
CHAIN = "chain"
ANNUAL = "annual"
SYNC = "sync"
MANIFESTS = "manifests"
SYNC_MANIFESTS = "sync-manifests"


def area(base, client):
    return f"{base.rstrip('/')}/{client}"


def dataset_dir(base, client, dataset):
    """The data set's folder at the target, as an absolute path there."""
    return f"{area(base, client)}/{dataset}"


def sender_dir(base, client, dataset, managed):
    """The data set's folder as the sender names it: inside its own area on a receiver ivpb
    manages (rrsync's root is the area), absolute on an external target."""
    return dataset if managed else dataset_dir(base, client, dataset)


def copy_dir(offsite):
    """The folder of a data set's routine chains, or of its offsite copy."""
    return SYNC if offsite else CHAIN


def manifests_dir(offsite):
    return SYNC_MANIFESTS if offsite else MANIFESTS
