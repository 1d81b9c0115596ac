# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The recipients' keyring for backup_job: the public keys of the
declared backup recipients in a dedicated 0700 keyring (§4, backup.encrypted).

Every armored key is first read by gpg without importing it (`--show-keys`: gpg's import
checks as a dry run against an empty throw-away keyring, the key listed as it would be imported)
and checked: the fingerprint the inventory declares must be the key's primary fingerprint, the
key must be valid (not expired, not revoked) and able to encrypt, and no secret key material may
be in it. Only then the real keyring is brought to exactly that set of keys. One gpg run per
recipient and one for the real keyring: on a converged host these are the whole cost."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time

from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import ModuleFailure

FPR_RE = re.compile(r"^[0-9A-F]{40}$")


def normalise_fpr(fpr):
    return re.sub(r"\s+", "", str(fpr)).upper()


def _gpg(host, homedir, *args, stdin=None):
    """(rc, stdout, stderr) of gpg on one keyring."""
    return host.run(["gpg", "--homedir", homedir, "--batch", "--no-tty", "--no-auto-key-locate", *args],
                    data=stdin, env={"TZ": "UTC"})


def parse_colons(text, now=None):
    """Keys from `gpg --with-colons --list-keys` output: {fpr: {expires, validity, can_encrypt, uid,
    secret}}. secret: a "sec" record, or (with --with-secret) a "pub" record whose field 15 says
    the agent holds a secret of the key ("+", a card's serial, or "#": a subkey's only)."""
    now = time.time() if now is None else now
    keys = {}
    current = None
    expect_fpr = False
    for line in text.splitlines():
        f = line.split(":")
        if f[0] in ("pub", "sec"):
            current = {"validity": f[1], "expires": int(f[6]) if f[6] else None,
                       "caps": f[11] if len(f) > 11 else "", "uid": "",
                       "secret": f[0] == "sec" or len(f) > 14 and f[14] != ""}
            expect_fpr = True
        elif f[0] in ("sub", "ssb"):
            expect_fpr = False
        elif f[0] == "fpr" and expect_fpr and current is not None:
            keys[f[9]] = current
            expect_fpr = False
        elif f[0] == "uid" and current is not None and not current["uid"]:
            current["uid"] = f[9]
    for k in keys.values():
        k["expired"] = k["validity"] == "e" or (k["expires"] is not None and k["expires"] <= now)
        k["revoked"] = k["validity"] == "r"
        k["can_encrypt"] = "E" in k["caps"]
    return keys


def check_recipients(host, recipients, now=None):
    """Read each declared key (never imported) and check it. Returns {fpr: {name, expires, uid}}
    or raises ModuleFailure naming the recipient."""
    if shutil.which("gpg") is None:
        raise FileNotFoundError("gpg")
    # --show-keys imports nothing: the keyring stays empty, so one serves every recipient (an
    # existing key would be shown merged with the block, never the block alone).
    scratch = tempfile.mkdtemp(prefix="ivpb-gpg-")
    try:
        os.chmod(scratch, 0o700)
        good = {}
        for r in recipients:
            name, fpr, armored = r["name"], normalise_fpr(r["fingerprint"]), r["public_key"]
            if not FPR_RE.match(fpr):
                raise ModuleFailure(f"recipient {name}: fingerprint {r['fingerprint']!r} is not 40 hex digits")
            if "PRIVATE KEY BLOCK" in armored:
                raise ModuleFailure(f"recipient {name}: a secret key was given; only public keys may be on a host")
            rc, out, err = _gpg(host, scratch, "--with-colons", "--fixed-list-mode", "--show-keys", stdin=armored)
            if rc not in (0, 2):
                raise ModuleFailure(f"recipient {name}: the public key does not import ({err.strip()[:120]})")
            if any(line.startswith(("sec:", "ssb:")) for line in out.splitlines()):
                raise ModuleFailure(f"recipient {name}: the key block holds a secret key; only public keys on a host")
            keys = parse_colons(out, now)
            if fpr not in keys:
                found = ", ".join(sorted(keys)) or "no key"
                raise ModuleFailure(f"recipient {name}: wrong key, expected fingerprint {fpr}, "
                                    f"the key block has {found}")
            k = keys[fpr]
            if k["revoked"]:
                raise ModuleFailure(f"recipient {name}: key {fpr} is revoked")
            if k["expired"]:
                raise ModuleFailure(f"recipient {name}: key {fpr} has expired")
            if not k["can_encrypt"]:
                raise ModuleFailure(f"recipient {name}: key {fpr} cannot encrypt")
            good[fpr] = {"name": name, "uid": k["uid"], "armored": armored,
                         "expires": _iso(k["expires"])}
        return good
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _iso(ts):
    return None if ts is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def keyring_state(host, homedir):
    """(public keys {fpr: info}, secret key fingerprints) of the real keyring."""
    if not os.path.isdir(homedir) or shutil.which("gpg") is None:
        return {}, []
    # One run: --with-secret marks each key the agent holds a secret of, the keys
    # --list-secret-keys would list.
    pub = parse_colons(_gpg(host, homedir, "--with-colons", "--fixed-list-mode", "--with-secret", "--list-keys")[1])
    return pub, sorted(f for f, k in pub.items() if k["secret"])


def ensure_keyring(host, homedir, recipients, now=None):
    """Bring homedir to exactly the declared public keys (host: the toolkit's Host, check mode
    and change list). Returns a small result dict: {fingerprints, changed, removed, secret_removed}."""
    good = check_recipients(host, recipients, now)
    host.directory(homedir, 0o700)
    pub, secret = keyring_state(host, homedir)
    want = set(good)
    have = set(pub)
    stale = {f for f in want & have
             if _iso(pub[f]["expires"]) != good[f]["expires"]}  # e.g. the owner extended the expiry
    to_import = sorted((want - have) | stale)
    to_remove = sorted(have - want)
    changed = bool(to_import or to_remove or secret)
    if changed:
        host.changed.append(homedir + " (keys)")
        if host.want_diff:
            host.diffs.append({"before_header": homedir + " keys", "after_header": homedir + " keys",
                               "before": "".join(f"{f}\n" for f in sorted(have)),
                               "after": "".join(f"{f}\n" for f in sorted(want))})
    if changed and not host.check_mode:
        for fpr in secret:  # never a secret key on the host
            _gpg(host, homedir, "--yes", "--delete-secret-keys", fpr)
        for fpr in to_remove:
            _gpg(host, homedir, "--yes", "--delete-keys", fpr)
        for fpr in to_import:
            rc, _out, err = _gpg(host, homedir, "--import", stdin=good[fpr]["armored"])
            if rc not in (0, 2):
                raise ModuleFailure(f"importing {fpr} into {homedir} failed: {err.strip()[:160]}")
    return {"fingerprints": sorted(want), "imported": to_import, "removed": to_remove,
            "secret_removed": secret, "changed": changed,
            "keys": {f: {"name": g["name"], "expires": g["expires"]} for f, g in good.items()}}
