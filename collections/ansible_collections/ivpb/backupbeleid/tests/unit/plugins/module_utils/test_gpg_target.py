"""§4 backup.encrypted: the recipients' keyring (gpg_target backend, real gpg in a temp dir)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import gpg_target as gt
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import ModuleFailure
from ansible_collections.ivpb.backupbeleid.tests.unit.gpg_keys import rec
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import make_host

pytestmark = pytest.mark.skipif(shutil.which("gpg") is None, reason="needs gpg")


@pytest.mark.parametrize(("change", "message"), [
    (lambda keys: {"fingerprint": keys["b"]["fingerprint"]}, "wrong key, expected fingerprint"),
    (lambda keys: {"public_key": keys["a"]["secret_key"]}, "a secret key was given"),
    (lambda keys: {"fingerprint": "1234"}, "is not 40 hex digits"),
])
def test_wrong_or_secret_keys_are_refused(keys, change, message, monkeypatch):
    with pytest.raises(ModuleFailure, match=message):
        gt.check_recipients(make_host(monkeypatch), [rec(keys, "a", **change(keys))])


def test_expired_and_sign_only_keys_are_refused(keys, monkeypatch):
    with pytest.raises(ModuleFailure, match="has expired"):
        gt.check_recipients(make_host(monkeypatch), [rec(keys, "a")], now=4_000_000_000)
    with pytest.raises(ModuleFailure, match="cannot encrypt"):
        gt.check_recipients(make_host(monkeypatch), [rec(keys, "sign")])


def test_keyring_converges_and_holds_no_secret(keys, tmp_path, monkeypatch):
    home = str(tmp_path / "ring")
    files = make_host(monkeypatch, check_mode=True, diff=True)
    res = gt.ensure_keyring(files, home, [rec(keys, "a")])
    assert res["changed"] and not os.path.exists(home) and files.diffs

    res = gt.ensure_keyring(make_host(monkeypatch), home, [rec(keys, "a"), rec(keys, "b")])
    assert res["imported"] == sorted([keys["a"]["fingerprint"], keys["b"]["fingerprint"]])
    assert oct(os.stat(home).st_mode & 0o777) == "0o700"
    files = make_host(monkeypatch)
    res = gt.ensure_keyring(files, home, [rec(keys, "a"), rec(keys, "b")])
    assert not res["changed"] and files.changed == []

    # b is no longer declared: removed; a secret key somebody put there: removed too
    subprocess.run(["gpg", "--homedir", home, "--batch", "--import"], input=keys["a"]["secret_key"],
                   text=True, capture_output=True, check=True)
    res = gt.ensure_keyring(make_host(monkeypatch), home, [rec(keys, "a")])
    assert res["removed"] == [keys["b"]["fingerprint"]] and res["secret_removed"] == [keys["a"]["fingerprint"]]
    pub, secret = gt.keyring_state(make_host(monkeypatch), home)
    assert list(pub) == [keys["a"]["fingerprint"]] and secret == []
    subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], check=False)
