"""§4 backup.encrypted on the controller: the fingerprint check `ivpb validate` does without gpg,
and the validation problems (keys made by gpg, as in the collection's keyring tests)."""

from __future__ import annotations

import shutil

import pytest
from ansible_collections.ivpb.backupbeleid.tests.unit.gpg_keys import gpg_keys

from ivpb.checks.backup import primary_fingerprint
from ivpb.inventory import load_inventory
from ivpb.policy import load_policy
from ivpb.validate import validate

from .helpers import write_inventory

pytestmark = pytest.mark.skipif(shutil.which("gpg") is None, reason="needs gpg")


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    yield from gpg_keys(tmp_path_factory)


def test_fingerprint_from_the_armored_key_without_gpg(keys):
    for k in keys.values():
        assert primary_fingerprint(k["public_key"]) == k["fingerprint"]
    assert primary_fingerprint("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64!\n"
                               "-----END PGP PUBLIC KEY BLOCK-----") is None


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
    # the school's other data sets are stored nowhere here: findings, tests/unit/test_scoping.py's
    return [str(p) for p in validate(load_inventory([str(inv)]), load_policy())
            if "ivpb_ups_feeds" not in str(p) and "ivpb_nut_password" not in str(p) and not p.finding]


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
