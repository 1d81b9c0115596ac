"""Cross-references of §4 Backups: where each stored data set's backups and syncs go, and the
keys its encrypted backups use."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterator

from ivpb import resolve
from ivpb.errors import Problem
from ivpb.inventory import managed
from ivpb.policy import Policy


def check(ctx) -> Iterator[Problem]:
    inv = ctx.inventory
    targets = inv.school("ivpb_backup_targets")
    recipients = inv.school("ivpb_gpg_recipients")
    yield from _recipient_problems(inv, recipients)
    # which controls ask for a sync target, a backup target and encryption: what the policy file
    # has each ask of backup_job (enforced_by.duty)
    duty_of = ctx.policy.duties("backup_job")
    for name, target in targets.items():
        if "site" in target and "address" not in target:
            yield Problem(f"target {name}", f"ivpb_backup_targets.{name}.address",
                          "required for a target outside the inventory: the host name or address to reach it")
    for host, hv in inv.hosts.items():
        controls = ctx.plan.hosts[host].controls
        needs_sync = {c.dataset: c for c in controls if duty_of.get(c.id) == "offsite_sync"}
        needs_crypt = {c.dataset: c for c in controls if duty_of.get(c.id) == "encrypt"}
        planned = ctx.plan.duties(host)
        default_to = hv.get("ivpb_backup_encrypt_to") or []
        site = hv.get("ivpb_site")
        for entry in resolve.stored(inv, host):
            i, ds, backup, sync = entry.index, entry.dataset, entry.backup, entry.sync
            if not managed(hv) and "pull" not in hv["ivpb_stores"][i]:  # no backup job there: checks/unmanaged.py
                continue
            if backup is None:
                cid = next((c.id for c in controls if c.dataset == ds and duty_of.get(c.id) in ("daily", "weekly")), "")
                yield Problem(host, f"ivpb_stores[{i}].backup_target",
                              "required (or set ivpb_backup_target): every stored data set is backed up (§4)",
                              control=cid, dataset=ds,
                              todo="backup_target")
            elif backup.defined and backup.receiver == host:
                yield Problem(host, f"ivpb_stores[{i}].backup_target",
                              f"{backup.target!r} is this host itself; a backup goes to another location and medium")
            if ds in needs_sync:
                planned_sync = needs_sync[ds]
                if sync is None:
                    yield Problem(host, f"ivpb_stores[{i}].sync_target",
                                  f"required: {planned_sync.id} applies ({planned_sync.clause}); "
                                  "expected a target at another site",
                                  control=planned_sync.id, dataset=ds,
                                  todo="sync_target")
                elif sync.defined and sync.site == site:
                    yield Problem(host, f"ivpb_stores[{i}].sync_target",
                                  f"{sync.target!r} is at this host's own site {site!r}; "
                                  "expected a target at another site")
                elif sync.defined and sync.receiver == host:
                    yield Problem(host, f"ivpb_stores[{i}].sync_target",
                                  f"{sync.target!r} is this host itself; expected a target at another site")
            crypt = needs_crypt.get(ds)
            encrypted = entry.encrypted(planned.get(ds, {}))
            names = entry.encrypt_to
            if encrypted and not names:
                why = f"{crypt.id} applies ({_condition(ctx.policy, crypt.id)})" if crypt else "encrypt: true"
                yield Problem(host, f"ivpb_stores[{i}].encrypt_to",
                              f"required: {why}; name a recipient of ivpb_gpg_recipients with a valid "
                              "fingerprint (or set ivpb_backup_encrypt_to)",
                              control=crypt.id if crypt else "",
                              dataset=ds,
                              todo="recipients")
            if encrypted:
                for n in names:
                    if n not in recipients:
                        yield Problem(host, entry.encrypt_to_var, f"unknown recipient {n!r}; expected one of: "
                                      f"{', '.join(sorted(recipients)) or '(none defined)'}", todo=f"recipient|{n}")
        for n in default_to:
            if n not in recipients and not any(e.get("encrypt_to") for e in hv.get("ivpb_stores") or []):
                yield Problem(host, "ivpb_backup_encrypt_to", f"unknown recipient {n!r}; expected one of: "
                              f"{', '.join(sorted(recipients)) or '(none defined)'}", todo=f"recipient|{n}")


def _recipient_problems(inv, recipients) -> Iterator[Problem]:
    for name, r in recipients.items():
        if not isinstance(r, dict):
            continue
        path = f"ivpb_gpg_recipients.{name}"
        key = r.get("public_key", "")
        if "PRIVATE KEY" in key:
            yield Problem(f"recipient {name}", f"{path}.public_key",
                          "holds a SECRET key; only the public key belongs in the inventory")
            continue
        want = re.sub(r"\s+", "", str(r.get("fingerprint", ""))).upper()
        got = primary_fingerprint(key)
        if got is None:
            yield Problem(f"recipient {name}", f"{path}.public_key",
                          "not a readable ASCII-armored OpenPGP v4 public key")
        elif got != want:
            yield Problem(f"recipient {name}", f"{path}.fingerprint",
                          f"{want} does not match the public key given (its fingerprint is {got})")


def primary_fingerprint(armored: str) -> str | None:
    """The v4 fingerprint of the first public-key packet of an armored key block (RFC 4880
    §12.2: SHA-1 of 0x99, the two-octet length and the packet body), or None."""
    m = re.search(r"-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n(.*?)-----END PGP PUBLIC KEY BLOCK-----",
                  armored or "", re.S)
    if not m:
        return None
    lines = [ln.strip() for ln in m.group(1).splitlines()]
    if "" in lines:  # armor headers end at the first blank line
        lines = lines[lines.index("") + 1:]
    body = "".join(ln for ln in lines if ln and not ln.startswith("="))
    try:
        data = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(data) < 3 or not data[0] & 0x80:
        return None
    head = data[0]
    if head & 0x40:  # new format
        tag = head & 0x3F
        first = data[1]
        if first < 192:
            length, off = first, 2
        elif first < 224:
            length, off = ((first - 192) << 8) + data[2] + 192, 3
        elif first == 255:
            length, off = int.from_bytes(data[2:6], "big"), 6
        else:
            return None
    else:
        tag = (head >> 2) & 0x0F
        ltype = head & 0x03
        size = {0: 1, 1: 2, 2: 4}.get(ltype)
        if size is None:
            return None
        length, off = int.from_bytes(data[1:1 + size], "big"), 1 + size
    packet = data[off:off + length]
    if tag != 6 or len(packet) != length or not packet or packet[0] != 4:
        return None
    return hashlib.sha1(b"\x99" + len(packet).to_bytes(2, "big") + packet).hexdigest().upper()


def _condition(policy: Policy, control_id: str) -> str:
    """'§4, v >= vertrouwelijk': the clause and the levels from which the policy applies a control."""
    control = policy.control(control_id)
    levels = " or ".join(f"{a} >= {policy.level(a, r)}" for a, r in (control.any_of or {}).items())
    return ", ".join(filter(None, (control.clause, levels)))
