"""§4 backup.encrypted: the recipients' keyring (gpg_target backend, real gpg in a temp dir),
the fingerprint check `ivpb validate` does without gpg, and the validation problems."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "collections"))

from ansible_collections.ivpb.backupbeleid.plugins.module_utils import gpg_target as gt  # noqa: E402
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.backup_files import Files  # noqa: E402

from ivpb.checks.backup import primary_fingerprint  # noqa: E402
from ivpb.inventory import load_inventory  # noqa: E402
from ivpb.policy import load_policy  # noqa: E402
from ivpb.validate import validate  # noqa: E402

from .helpers import write_inventory  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("gpg") is None, reason="needs gpg")


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


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
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


def test_fingerprint_from_the_armored_key_without_gpg(keys):
    for k in keys.values():
        assert primary_fingerprint(k["public_key"]) == k["fingerprint"]
    assert primary_fingerprint("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64!\n"
                               "-----END PGP PUBLIC KEY BLOCK-----") is None


@pytest.mark.parametrize(("change", "message"), [
    (lambda keys: {"fingerprint": keys["b"]["fingerprint"]}, "wrong key, expected fingerprint"),
    (lambda keys: {"public_key": keys["a"]["secret_key"]}, "a secret key was given"),
    (lambda keys: {"fingerprint": "1234"}, "is not 40 hex digits"),
])
def test_wrong_or_secret_keys_are_refused(keys, change, message):
    with pytest.raises(gt.KeyError_, match=message):
        gt.check_recipients([rec(keys, "a", **change(keys))])


def test_expired_and_sign_only_keys_are_refused(keys):
    with pytest.raises(gt.KeyError_, match="has expired"):
        gt.check_recipients([rec(keys, "a")], now=4_000_000_000)
    with pytest.raises(gt.KeyError_, match="cannot encrypt"):
        gt.check_recipients([rec(keys, "sign")])


def test_keyring_converges_and_holds_no_secret(keys, tmp_path):
    home = str(tmp_path / "ring")
    files = Files(check_mode=True, want_diff=True)
    res = gt.ensure_keyring(home, [rec(keys, "a")], files)
    assert res["changed"] and not os.path.exists(home) and files.diffs

    res = gt.ensure_keyring(home, [rec(keys, "a"), rec(keys, "b")], Files())
    assert res["imported"] == sorted([keys["a"]["fingerprint"], keys["b"]["fingerprint"]])
    assert oct(os.stat(home).st_mode & 0o777) == "0o700"
    files = Files()
    res = gt.ensure_keyring(home, [rec(keys, "a"), rec(keys, "b")], files)
    assert not res["changed"] and files.changed == []

    # b is no longer declared: removed; a secret key somebody put there: removed too
    subprocess.run(["gpg", "--homedir", home, "--batch", "--import"], input=keys["a"]["secret_key"],
                   text=True, capture_output=True, check=True)
    res = gt.ensure_keyring(home, [rec(keys, "a")], Files())
    assert res["removed"] == [keys["b"]["fingerprint"]] and res["secret_removed"] == [keys["a"]["fingerprint"]]
    pub, secret = gt.keyring_state(home)
    assert list(pub) == [keys["a"]["fingerprint"]] and secret == []
    subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], check=False)


def _school(keys, fingerprint=None, public_key=None):
    return {
        "ivpb_datasets": {"lln": {"biv": {"b": "laag", "i": "laag", "v": "vertrouwelijk"}},
                          "foto": {"biv": {"b": "laag", "i": "laag", "v": "intern"}},
                          "web": {"biv": {"b": "laag", "i": "absoluut", "v": "publiek"}}},
        "ivpb_sites": {"school": {}, "elders": {}},
        "ivpb_backup_targets": {"nas": {"host": "nas"}, "off": {"host": "off"}},
        "ivpb_gpg_recipients": {"directie": {"fingerprint": fingerprint or keys["a"]["fingerprint"],
                                             "public_key": public_key or keys["a"]["public_key"]}},
    }


def _problems(tmp_path, school, fileserver):
    hosts = {"fileserver": {"ivpb_site": "school", "ivpb_backup_target": "nas", **fileserver},
             "nas": {"ivpb_site": "school"}, "off": {"ivpb_site": "elders"}}
    inv = write_inventory(tmp_path / "inv", school, hosts)
    return [str(p) for p in validate(load_inventory([str(inv)]), load_policy())
            if "ivpb_ups_feeds" not in str(p)]


def test_validate_backup_rules(keys, tmp_path):
    lln = {"dataset": "lln", "path": "/srv/lln"}
    ok = _problems(tmp_path, _school(keys), {"ivpb_stores": [lln], "ivpb_backup_encrypt_to": ["directie"]})
    assert ok == []
    missing = _problems(tmp_path, _school(keys), {"ivpb_stores": [lln]})
    assert missing == ["fileserver: ivpb_stores[0].encrypt_to: required: backup.encrypted applies (§4, "
                       "v >= vertrouwelijk); name a recipient of ivpb_gpg_recipients with a valid fingerprint "
                       "(or set ivpb_backup_encrypt_to)"]
    wrong = _problems(tmp_path, _school(keys, fingerprint=keys["b"]["fingerprint"]),
                      {"ivpb_stores": [lln], "ivpb_backup_encrypt_to": ["directie"]})
    assert wrong == [f"recipient directie: ivpb_gpg_recipients.directie.fingerprint: {keys['b']['fingerprint']} "
                     f"does not match the public key given (its fingerprint is {keys['a']['fingerprint']})"]
    unknown = _problems(tmp_path, _school(keys), {"ivpb_stores": [{**lln, "encrypt_to": ["ghost"]}]})
    assert unknown == ["fileserver: ivpb_stores[0].encrypt_to: unknown recipient 'ghost'; expected one of: directie"]
    web = {"dataset": "web", "path": "/srv/web"}
    same_site = _problems(tmp_path, _school(keys), {"ivpb_stores": [{**web, "sync_target": "nas"}]})
    assert same_site == ["fileserver: ivpb_stores[0].sync_target: 'nas' is at this host's own site 'school'; "
                         "expected a target at another site"]
    assert _problems(tmp_path, _school(keys), {"ivpb_stores": [{**web, "sync_target": "off"}]}) == []
    itself = _problems(tmp_path, _school(keys), {"ivpb_stores": [{"dataset": "foto", "path": "/f"}],
                                                 "ivpb_backup_target": "self"} | {})
    assert any("unknown target 'self'" in p for p in itself)
