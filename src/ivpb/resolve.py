"""Each stored data set resolved once: where its backup and its offsite copy go and how it is kept.

Every reader of "where does this data set's backup live" reads this record: the plan (the sites
its copies are at), the roles (a receiver's clients, a sender's receivers, backup_job's input),
the checks, restore, the herstelplan. A store's `backup_target` falls back to the host's
`ivpb_backup_target`, `encrypt_to` to `ivpb_backup_encrypt_to`, `keep_full` to
`ivpb_backup_retention.keep_full`, `sync_delay` to `ivpb_backup_sync_delay`; the folder names at
the target come from the collection's receiver_layout. Nothing here judges the values: the
schemas and checks do that, and a record of an invalid inventory holds what was written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ivpb.inventory import Inventory
from ivpb.rules import input_rules, module_utils

layout = module_utils("receiver_layout")

SYNC_DELAY = 15  # seconds lsyncd collects changes, when neither the store nor the host says
FULL_IF_OLDER_THAN = "1M"


@dataclass(frozen=True)
class Copy:
    """One copy of a data set: its backup target, or its sync target (the offsite copy)."""

    target: str  # the key of ivpb_backup_targets
    defined: bool  # whether ivpb_backup_targets has it
    receiver: str | None  # the inventory host that receives it (a receiver ivpb manages), else None
    address: str | None  # how the sender reaches it: the target's address, else its host
    port: int | None  # as written (None: SSH's default)
    base: str  # the target's path (default /srv/backup), no trailing slash
    user: str | None  # an external target's user as written
    host_key: str | None
    site: str | None  # the target's site, or its receiver's ivpb_site
    folder: str  # the data set's folder at the target: <base>/<client>/<dataset>

    def module_input(self) -> dict[str, Any]:
        """The copy as backup_job takes it (its `datasets[].target` / `.sync` option)."""
        out: dict[str, Any] = {"name": self.target, "address": self.address or "", "path": self.base}
        for key, value in (("receiver", self.receiver), ("port", self.port), ("user", self.user),
                           ("host_key", self.host_key)):
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True)
class Stored:
    """One (host, data set) of ivpb_stores, resolved."""

    host: str
    dataset: str
    index: int  # its position in the host's ivpb_stores (messages name ivpb_stores[index])
    path: str
    backup: Copy | None  # None: no backup_target and no ivpb_backup_target
    sync: Copy | None  # None: no sync_target
    sync_delay: int
    encrypt_asked: bool  # the store's own `encrypt: true`
    encrypt_to: tuple[str, ...]  # recipient names: the store's, else the host's
    encrypt_to_var: str  # the variable those names come from, for messages
    keep_full: int
    full_if_older_than: str
    # On a system ivpb does not manage (#23): the store's `pull` without its password (where and
    # how its backup proxy reads it), and the host that backs it up: the proxy (pull.via), else
    # the host itself. Its copies lie in the sender's area of the receiver.
    pull: dict[str, Any] | None = None
    sender: str = ""

    def encrypted(self, duties: dict[str, str]) -> bool:
        """Whether its backups are encrypted: a planned `encrypt` duty (its classification asks
        it) or the store's own choice. `duties`: duty -> control id of this data set (Plan.duties)."""
        return "encrypt" in duties or self.encrypt_asked

    def copies(self) -> list[Copy]:
        return [c for c in (self.backup, self.sync) if c is not None]

    def copy(self, offsite: bool) -> Copy | None:
        return self.sync if offsite else self.backup


def _copy(inventory: Inventory, name: str, client: str, dataset: str) -> Copy:
    t = inventory.school("ivpb_backup_targets").get(name)
    defined = isinstance(t, dict)
    t = t if defined else {}
    receiver = t.get("host")
    base = str(t.get("path") or input_rules.BACKUP_PATH).rstrip("/")
    port = t.get("port")
    site = t.get("site") if "host" not in t else (inventory.hosts.get(receiver) or {}).get("ivpb_site")
    return Copy(target=name, defined=defined, receiver=receiver, address=t.get("address") or receiver,
                port=int(port) if isinstance(port, int) and not isinstance(port, bool) else port,
                base=base, user=t.get("user"), host_key=t.get("host_key"), site=site,
                folder=layout.dataset_dir(base, client, dataset))


def _resolve(inventory: Inventory, host: str) -> list[Stored]:
    hv = inventory.hosts[host]
    retention = hv.get("ivpb_backup_retention") or {}
    out = []
    for i, s in enumerate(hv.get("ivpb_stores") or []):
        if not isinstance(s, dict) or not s.get("dataset"):
            continue
        ds = s["dataset"]
        backup = s.get("backup_target") or hv.get("ivpb_backup_target")
        sync = s.get("sync_target")
        pull = s.get("pull") if isinstance(s.get("pull"), dict) and hv.get("ivpb_managed") is False else None
        sender = str(pull.get("via") or host) if pull else host
        out.append(Stored(
            host=host, dataset=ds, index=i, path=str(s.get("path") or ""),
            backup=_copy(inventory, backup, sender, ds) if backup else None,
            sync=_copy(inventory, sync, sender, ds) if sync else None,
            sync_delay=s.get("sync_delay") or hv.get("ivpb_backup_sync_delay") or SYNC_DELAY,
            encrypt_asked=bool(s.get("encrypt")),
            encrypt_to=tuple(s.get("encrypt_to") or hv.get("ivpb_backup_encrypt_to") or ()),
            encrypt_to_var=f"ivpb_stores[{i}].encrypt_to" if s.get("encrypt_to") else "ivpb_backup_encrypt_to",
            keep_full=s.get("keep_full") or retention.get("keep_full") or input_rules.KEEP_FULL,
            full_if_older_than=retention.get("full_if_older_than") or FULL_IF_OLDER_THAN,
            pull={k: v for k, v in pull.items() if k != "password"} if pull else None, sender=sender,
        ))
    return out


def stored(inventory: Inventory, host: str) -> list[Stored]:
    """The host's stored data sets, in ivpb_stores order (resolved once per inventory)."""
    cache = inventory.__dict__.setdefault("_stored", {})
    if host not in cache:
        cache[host] = _resolve(inventory, host)
    return cache[host]


def sent_by(inventory: Inventory, sender: str) -> list[Stored]:
    """The data sets whose backups `sender` makes: its own, then those it pulls as backup proxy
    of systems ivpb does not manage (#23), in the inventory's order."""
    own = [s for s in stored(inventory, sender) if s.sender == sender]
    pulled = [s for host in inventory.hosts if host != sender for s in stored(inventory, host) if s.sender == sender]
    return own + pulled


def find(inventory: Inventory, host: str, dataset: str) -> Stored | None:
    return next((s for s in stored(inventory, host) if s.dataset == dataset), None)


def module_input(inventory: Inventory, host: str, duties: Callable[[str], dict[str, dict[str, str]]]
                 ) -> list[dict[str, Any]]:
    """backup_job's `datasets`: one entry per data set whose backups the host makes (sent_by: its
    own, and those it pulls as backup proxy) with planned §4 controls (`duties`: Plan.duties, of
    the data set's own host), with everything the module needs (target, offsite copy, recipients'
    keys, retention), so that it joins nothing by name."""
    recipients = inventory.school("ivpb_gpg_recipients")
    out = []
    for s in sent_by(inventory, host):
        asked = duties(s.host).get(s.dataset)
        if not asked:
            continue
        encrypted = s.encrypted(asked)
        entry: dict[str, Any] = {
            "dataset": s.dataset, "path": s.path, "encrypted": encrypted,
            "recipients": [{"name": n, "fingerprint": (recipients.get(n) or {}).get("fingerprint", ""),
                            "public_key": (recipients.get(n) or {}).get("public_key", "")}
                           for n in s.encrypt_to] if encrypted else [],
            "keep_full": s.keep_full, "full_if_older_than": s.full_if_older_than, "sync_delay": s.sync_delay,
        }
        if s.backup:
            entry["target"] = s.backup.module_input()
        if s.sync and "offsite_sync" in asked:
            entry["sync"] = s.sync.module_input()
        if s.pull:  # the role adds the password from the system's vars
            entry["pull"] = {"for": s.host, **{k: v for k, v in s.pull.items() if k != "via"}}
        out.append(entry)
    return out
