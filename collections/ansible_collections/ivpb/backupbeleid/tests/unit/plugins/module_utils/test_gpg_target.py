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


# -- gpg runs fewer times; what the backend reads is what the scratch import gave (issue #26) --

def _gpg(home, *args, stdin=None, check=True):
    return subprocess.run(["gpg", "--homedir", str(home), "--batch", "--no-tty", "--passphrase", "", *args],
                          input=stdin, text=True, capture_output=True, check=check, env={**os.environ, "TZ": "UTC"})


def _make_key(home, uid, *extra, expire="2y"):
    home.mkdir(mode=0o700, parents=True)
    _gpg(home, *extra, "--quick-gen-key", uid, "ed25519", "cert", expire)
    fpr = next(ln.split(":")[9] for ln in _gpg(home, "--with-colons", "--list-keys").stdout.splitlines()
               if ln.startswith("fpr"))
    _gpg(home, *extra, "--quick-add-key", fpr, "cv25519", "encr", expire)
    return fpr


@pytest.fixture(scope="module")
def odd_blocks(keys, tmp_path_factory):
    """Key blocks beside the shared keys: expired (made in 2020 for one year), revoked (its own
    revocation certificate), a secret key under a PUBLIC KEY BLOCK header, two keys in one
    block, and no key at all."""
    base = tmp_path_factory.mktemp("oddgpg")
    old = base / "old"
    _make_key(old, "Old <old@test.invalid>", "--faked-system-time", "20200101T000000!", expire="1y")
    rev = base / "rev"
    fpr = _make_key(rev, "Rev <rev@test.invalid>")
    cert = (rev / "openpgp-revocs.d" / f"{fpr}.rev").read_text().replace(":-----BEGIN", "-----BEGIN")
    _gpg(rev, "--import", stdin=cert)
    try:
        yield {"expired": _gpg(old, "--armor", "--export").stdout,
               "revoked": _gpg(rev, "--armor", "--export").stdout,
               "secret_as_public": keys["a"]["secret_key"].replace("PRIVATE KEY BLOCK", "PUBLIC KEY BLOCK"),
               "two": keys["a"]["public_key"] + keys["b"]["public_key"],
               "none": "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbm90IGEga2V5\n-----END PGP PUBLIC KEY BLOCK-----\n"}
    finally:
        for home in (old, rev):
            subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


def _imported(block, home):
    """What the backend read before: the block imported into a scratch keyring, then listed."""
    home.mkdir(mode=0o700)
    rc = _gpg(home, "--no-auto-key-locate", "--import", stdin=block, check=False).returncode
    secret = bool(_gpg(home, "--no-auto-key-locate", "--with-colons", "--list-secret-keys").stdout.strip())
    listed = _gpg(home, "--no-auto-key-locate", "--with-colons", "--fixed-list-mode", "--list-keys").stdout
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)
    return rc in (0, 2), secret, {f: {**k, "secret": False} for f, k in gt.parse_colons(listed, NOW).items()}


def _shown(block, home):
    """What it reads now: the same block through `gpg --show-keys`, nothing imported."""
    home.mkdir(mode=0o700)
    done = _gpg(home, "--no-auto-key-locate", "--with-colons", "--fixed-list-mode", "--show-keys",
                stdin=block, check=False)
    secret = any(ln.startswith(("sec:", "ssb:")) for ln in done.stdout.splitlines())
    keys = gt.parse_colons(done.stdout, NOW)
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)  # a secret block starts one
    assert not list(home.glob("*/*.key")) and not list(home.glob("private-keys-v1.d/*"))  # imported nothing
    return done.returncode in (0, 2), secret, {f: {**k, "secret": False} for f, k in keys.items()}


NOW = 1_800_000_000  # 2027-01-15: the shared keys valid (made today for two years), "expired" not


@pytest.mark.parametrize("block", ["a", "b", "sign", "expired", "revoked", "secret_as_public", "two", "none"])
def test_show_keys_reads_what_the_scratch_import_read(keys, odd_blocks, block, tmp_path):
    armored = keys[block]["public_key"] if block in keys else odd_blocks[block]
    before, now = _imported(armored, tmp_path / "import"), _shown(armored, tmp_path / "show")
    assert now == before
    if block in ("expired", "revoked", "secret_as_public", "two"):  # the cases are what they claim
        imports, secret, found = now
        assert imports and found or block == "secret_as_public"
        assert {"expired": lambda: all(k["expired"] for k in found.values()),
                "revoked": lambda: all(k["revoked"] for k in found.values()),
                "secret_as_public": lambda: secret, "two": lambda: len(found) == 2}[block]()
    if block == "none":
        assert now[2] == {}


def test_check_recipients_runs_gpg_once_per_recipient(keys, monkeypatch):
    host = make_host(monkeypatch)
    calls = []
    real = host._run
    host._run = lambda argv, **kw: calls.append(argv[argv.index("--no-auto-key-locate") + 1:]) or real(argv, **kw)
    good = gt.check_recipients(host, [rec(keys, "a"), rec(keys, "b")], now=NOW)
    assert sorted(good) == sorted([keys["a"]["fingerprint"], keys["b"]["fingerprint"]])
    assert calls == [["--with-colons", "--fixed-list-mode", "--show-keys"]] * 2


def test_one_listing_finds_the_secrets_list_secret_keys_found(keys, tmp_path, monkeypatch):
    """keyring_state's one --with-secret listing against the two listings it replaces, on a ring
    with a public key only, a whole secret key and a secret subkey alone (the primary a stub)."""
    home = tmp_path / "ring"
    home.mkdir(mode=0o700)
    for k in ("a", "b", "sign"):
        _gpg(home, "--import", stdin=keys[k]["public_key"])
    _gpg(home, "--import", stdin=keys["a"]["secret_key"])
    src = tmp_path / "src"
    src.mkdir(mode=0o700)
    _gpg(src, "--import", stdin=keys["b"]["secret_key"])
    _gpg(home, "--import", stdin=_gpg(src, "--armor", "--export-secret-subkeys", keys["b"]["fingerprint"]).stdout)
    listed = _gpg(home, "--with-colons", "--fixed-list-mode", "--list-secret-keys").stdout
    before = sorted(gt.parse_colons(listed))
    pub, secret = gt.keyring_state(make_host(monkeypatch), str(home))
    assert secret == before == sorted([keys["a"]["fingerprint"], keys["b"]["fingerprint"]])
    assert sorted(pub) == sorted(keys[k]["fingerprint"] for k in ("a", "b", "sign"))
    for h in (home, src):
        subprocess.run(["gpgconf", "--homedir", str(h), "--kill", "all"], check=False)
