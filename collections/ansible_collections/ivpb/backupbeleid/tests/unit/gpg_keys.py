"""Real OpenPGP keys for tests, made by gpg in a temporary directory."""

from __future__ import annotations

import subprocess


def _gpg(home, *args):
    return subprocess.run(["gpg", "--homedir", str(home), "--batch", "--passphrase", "", *args],
                          capture_output=True, text=True, check=True).stdout


def _make(home, uid, algo="ed25519", encrypt=True):
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    _gpg(home, "--quick-gen-key", uid, algo, "cert", "2y")
    fpr = [ln.split(":")[9] for ln in _gpg(home, "--with-colons", "--list-keys", uid).splitlines()
           if ln.startswith("fpr")][0]
    if encrypt:
        _gpg(home, "--quick-add-key", fpr, "cv25519" if algo == "ed25519" else algo, "encr", "2y")
    return {"fingerprint": fpr, "public_key": _gpg(home, "--armor", "--export", fpr),
            "secret_key": _gpg(home, "--armor", "--export-secret-keys", fpr)}


def gpg_keys(tmp_path_factory):
    """Three throw-away OpenPGP keys (ed25519+cv25519 "a", rsa2048 "b", sign-only "sign") made by gpg
    in a temporary home; a generator for a pytest fixture (the agent is stopped afterwards)."""
    base = tmp_path_factory.mktemp("gpg")
    try:
        yield {"a": _make(base / "a", "A <a@test.invalid>"),
               "b": _make(base / "b", "B <b@test.invalid>", algo="rsa2048"),
               "sign": _make(base / "s", "S <s@test.invalid>", encrypt=False)}
    finally:
        subprocess.run(["gpgconf", "--homedir", str(base / "a"), "--kill", "all"], check=False)


def rec(keys, name, **over):
    k = keys[name]
    return {"name": name, "fingerprint": k["fingerprint"], "public_key": k["public_key"], **over}
