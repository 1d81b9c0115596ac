"""ivpb restore's parts with the real tools on this machine (duplicity, gpg, rsync), no lab.

The receiver is a directory here, reached through a stand-in for ssh that runs the command
locally (rsync -e and the listing go through it exactly as over SSH); the lab test
(tests/lab/test_restore.py) proves the same over real SSH on real hosts. The manifest is made
by the very program the job script runs on the hosts (module_utils/backup_manifest.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from ansible_collections.ivpb.backupbeleid.tests.unit import toolkit

from ivpb import restore as r
from ivpb.errors import UserError
from ivpb.inventory import Inventory

pytestmark = pytest.mark.skipif(not (shutil.which("duplicity") and shutil.which("gpg") and shutil.which("rsync")),
                                reason="needs duplicity, gpg and rsync")


def sh(*argv, env=None, cwd=None):
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def stamp_of(names):
    return max(r.generations(names))


def backup(source: Path, chain: Path, manifests: Path, env, enc_key=None, kind="chain", full=False,
           program=lambda: r.HOST_PROGRAM.text(r.MANIFEST)):
    """One duplicity run as the job script makes it, and the manifest it uploads (written after
    the backup; files changed since `started` may differ from what duplicity saved)."""
    args = ["duplicity", *(["full"] if full else []), "--name", "t", "--archive-dir", str(chain.parent / "cache"),
            "--verbosity", "warning"]
    args += ["--encrypt-key", enc_key, "--gpg-options", "--trust-model=always"] if enc_key else ["--no-encryption"]
    started = time.time_ns()
    sh(*args, str(source), f"file://{chain}", env=env)
    gen = stamp_of(os.listdir(chain))
    iso = r.iso(r._stamp_time(gen))
    tool = program()  # the manifest program's text, as the job script embeds it
    doc = sh("python3", "-c", tool, "write", str(source), "ds", "srv1", kind, iso, "", str(started),
             str(chain.parent / "hashes"), env=env)
    manifests.mkdir(exist_ok=True)
    out = manifests / f"{gen}.json"
    out.write_text(doc)
    if enc_key:
        sh("gpg", "--batch", "--trust-model", "always", "--recipient", enc_key, "--output", f"{out}.gpg",
           "--encrypt", str(out), env=env)
        out.unlink()
    return gen


@pytest.fixture
def gnupg(tmp_path, monkeypatch):
    home = tmp_path / "g"
    home.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    sh("gpg", "--batch", "--passphrase", "", "--quick-gen-key", "t <t@x.invalid>", "ed25519", "cert", "1y", env=env)
    fpr = re.search(r"^fpr:+([0-9A-F]{40}):", sh("gpg", "--with-colons", "--list-keys", env=env), re.M).group(1)
    sh("gpg", "--batch", "--passphrase", "", "--quick-add-key", fpr, "cv25519", "encr", "1y", env=env)
    monkeypatch.setenv("GNUPGHOME", str(home))
    monkeypatch.delenv("PASSPHRASE", raising=False)
    yield fpr, env
    subprocess.run(["gpgconf", "--kill", "all"], env=env, check=False)


def receiver(tmp_path: Path, monkeypatch) -> Path:
    """A receiver on this machine: <base>/srv1/ds/{chain,manifests}, reached by a local 'ssh'."""
    fake = tmp_path / "fake-ssh"
    # ssh [options] HOST COMMAND: drop everything up to the host, run the command here.
    fake.write_text('#!/bin/bash\nwhile [[ $1 == -* ]]; do [[ $1 == -[opil] ]] && shift; shift; done\n'
                    'shift\nexec bash -c "$*"\n')
    fake.chmod(0o755)
    base = tmp_path / "backup"
    remote = r.Remote(name="receiver", address="receiver", port=None, user="root", key=None, extra=[])
    monkeypatch.setattr(r.Remote, "ssh_argv", lambda self: [str(fake)])
    monkeypatch.setattr(r, "remote_for", lambda loc, sources, vault: remote)
    return base


def inventory(base: Path, source: Path) -> Inventory:
    common = {"ivpb_backup_targets": {"rx": {"host": "receiver", "path": str(base)}}}
    return Inventory(hosts={"srv1": {**common, "ivpb_stores": [{"dataset": "ds", "path": str(source),
                                                                  "backup_target": "rx"}]},
                            "receiver": common})


def data(source: Path) -> None:
    (source / "sub dir").mkdir(parents=True)
    (source / "sub dir" / "file with blanks.txt").write_text("naam met spaties\n")
    (source / "random.bin").write_bytes(os.urandom(200000))
    (source / "sub dir" / "\u00e9t\u00e9.txt").write_text("zomer\n")


def with_data(tmp_path: Path, monkeypatch, chain: str = "chain") -> tuple[Path, Path, Path]:
    """The receiver's base, the source folder with data() in it, and the data set's folder on the
    receiver with an empty chain folder (chain or sync)."""
    base = receiver(tmp_path, monkeypatch)
    src = tmp_path / "src"
    data(src)
    ds = base / "srv1" / "ds"
    (ds / chain).mkdir(parents=True)
    return base, src, ds


def sums(root: Path) -> dict[str, str]:
    return {str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in root.rglob("*") if f.is_file() and not f.is_symlink()}


def test_plain_restore_latest_and_point_in_time_checked_against_the_manifest(tmp_path, monkeypatch):
    base, src, ds = with_data(tmp_path, monkeypatch)
    first = backup(src, ds / "chain", ds / "manifests", dict(os.environ), full=True)
    old = sums(src)
    time.sleep(2.1)  # the files above are older than the next backup's start (and its 2 s margin)
    (src / "random.bin").write_bytes(os.urandom(1000))
    second = backup(src, ds / "chain", ds / "manifests", dict(os.environ))
    assert second > first
    inv = inventory(base, src)

    res = r.restore(inv, "srv1", "ds", tmp_path / "latest")
    assert res.ok and not res.encrypted and res.files == 3 and sums(tmp_path / "latest") == sums(src)
    assert res.manifest.endswith(f"manifests/{second}.json")

    at = r._stamp_time(first) + dt.timedelta(milliseconds=500)
    res = r.restore(inv, "srv1", "ds", tmp_path / "old", at=at)
    assert res.ok and sums(tmp_path / "old") == old
    assert res.generation == r._stamp_time(first)

    res = r.restore(inv, "srv1", "ds", tmp_path / "sample", sample="sub dir")
    assert res.ok and res.files == 2 and sorted(sums(tmp_path / "sample")) == ["sub dir/file with blanks.txt",
                                                                               "sub dir/\u00e9t\u00e9.txt"]
    with pytest.raises(UserError, match="--sample nothing: not in the manifest"):
        r.restore(inv, "srv1", "ds", tmp_path / "sample2", sample=r.parse_sample("nothing"))
    with pytest.raises(UserError, match="^--sample"):
        r.parse_sample("../etc")

    with pytest.raises(UserError, match="no backup at or before"):
        r.restore(inv, "srv1", "ds", tmp_path / "none", at=r._stamp_time(first) - dt.timedelta(days=1))
    with pytest.raises(UserError, match="not empty"):
        r.restore(inv, "srv1", "ds", tmp_path / "latest")

    # a tampered volume is named before anything is restored
    vol = sorted((ds / "chain").glob("duplicity-full.*.vol1.difftar*"))[0]
    raw = bytearray(vol.read_bytes())
    raw[100] ^= 0xFF
    vol.write_bytes(bytes(raw))
    with pytest.raises(UserError, match=re.escape(vol.name) + ".*altered"):
        r.restore(inv, "srv1", "ds", tmp_path / "bad")
    raw[100] ^= 0xFF
    vol.write_bytes(bytes(raw))

    # a tampered plain manifest: the restore fails its check and names the manifest and the file
    m = ds / "manifests" / f"{second}.json"
    good = m.read_text()
    m.write_text(re.sub(r'("path":"sub dir/file with blanks.txt"[^}]*"sha256":")[0-9a-f]', r"\1x", good))
    assert m.read_text() != good
    res = r.restore(inv, "srv1", "ds", tmp_path / "badm")
    assert not res.ok and any(m.name in p and "differ" in p for p in res.problems), res.problems
    m.write_text("{not json")
    with pytest.raises(UserError, match=re.escape(m.name) + ": not a valid manifest"):
        r.restore(inv, "srv1", "ds", tmp_path / "badj")
    m.write_text(good)

    # no manifest: restored, but not checked (and so not ok)
    m.unlink()
    res = r.restore(inv, "srv1", "ds", tmp_path / "nom")
    assert not res.ok and not res.problems and "no manifest for generation" in res.unchecked
    assert "resultaat: HERSTELD, NIET GECONTROLEERD" in r.summary(res, "x")
    shutil.rmtree(ds / "manifests")  # backups made before manifests existed
    assert r.restore(inv, "srv1", "ds", tmp_path / "nodir").unchecked
    with pytest.raises(UserError, match=r"^receiver:.*/ds/annual/2025-2026: no backup found$"):
        r.restore(inv, "srv1", "ds", tmp_path / "noyear", school_year="2025-2026")


def test_encrypted_restore_needs_the_secret_key_and_names_a_tampered_manifest(tmp_path, monkeypatch, gnupg):
    fpr, env = gnupg
    base, src, ds = with_data(tmp_path, monkeypatch)
    gen = backup(src, ds / "chain", ds / "manifests", env, enc_key=fpr, full=True)
    assert (ds / "manifests" / f"{gen}.json.gpg").exists()
    assert b"random.bin" not in (ds / "manifests" / f"{gen}.json.gpg").read_bytes()
    inv = inventory(base, src)
    res = r.restore(inv, "srv1", "ds", tmp_path / "out")
    assert res.ok and res.encrypted and sums(tmp_path / "out") == sums(src)

    m = ds / "manifests" / f"{gen}.json.gpg"
    good = m.read_bytes()
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF
    m.write_bytes(bytes(bad))
    with pytest.raises(UserError, match=re.escape(m.name) + ": cannot be decrypted"):
        r.restore(inv, "srv1", "ds", tmp_path / "bad")
    m.write_bytes(good)

    empty = tmp_path / "nokey"
    empty.mkdir(mode=0o700)
    monkeypatch.setenv("GNUPGHOME", str(empty))
    with pytest.raises(UserError, match=r"\.manifest\.gpg: cannot be decrypted"):
        r.restore(inv, "srv1", "ds", tmp_path / "nokey-out")
    subprocess.run(["gpgconf", "--kill", "all"], env={**os.environ, "GNUPGHOME": str(empty)}, check=False)


def test_a_file_changed_while_the_backup_ran_is_reported_not_failed(tmp_path, monkeypatch):
    """The race of issue #16: the manifest is written after duplicity read the files; a file
    written in between restores as duplicity saved it. It is counted and named, the restore
    passes; a file nobody touched must still match exactly."""
    base, src, ds = with_data(tmp_path, monkeypatch)
    time.sleep(2.1)

    def late() -> str:  # the manifest program, but the file changes just before it runs
        (src / "random.bin").write_bytes(os.urandom(500))
        return r.HOST_PROGRAM.text(r.MANIFEST)

    gen = backup(src, ds / "chain", ds / "manifests", dict(os.environ), full=True, program=late)
    res = r.restore(inventory(base, src), "srv1", "ds", tmp_path / "out")
    assert res.ok and res.problems == [] and res.changed == 1 and res.changed_paths == ["random.bin"], res
    assert res.files == 2
    text = "\n".join(r.summary(res, "x", "en"))
    assert "1 file(s) changed while the backup ran" in text and "'random.bin'" in text and "result: OK" in text

    m = ds / "manifests" / f"{gen}.json"
    m.write_text(re.sub(r'("path":"sub dir/file with blanks.txt"[^}]*"sha256":")[0-9a-f]', r"\1x", m.read_text()))
    res = r.restore(inventory(base, src), "srv1", "ds", tmp_path / "bad")
    assert not res.ok and res.problems == [f"1 file(s) differ (receiver:{ds}/manifests/{m.name}): "
                                           "'sub dir/file with blanks.txt'"], res.problems


def test_the_offsite_copy_is_checked_against_the_manifests_of_its_syncs(tmp_path, monkeypatch):
    base, src, ds = with_data(tmp_path, monkeypatch, "sync")
    gen = backup(src, ds / "sync", ds / "sync-manifests", dict(os.environ), kind="sync", full=True)
    common = {"ivpb_backup_targets": {"rx": {"host": "receiver", "path": str(base)}}}
    inv = Inventory(hosts={"srv1": {**common, "ivpb_stores": [{"dataset": "ds", "path": str(src),
                                                                  "sync_target": "rx"}]}, "receiver": common})
    res = r.restore(inv, "srv1", "ds", tmp_path / "out", offsite=True)
    assert res.ok and res.kind == "offsite" and res.manifest.endswith(f"/ds/sync-manifests/{gen}.json"), res
    assert sums(tmp_path / "out") == sums(src)
    (ds / "sync-manifests" / f"{gen}.json").unlink()  # a sync made before syncs wrote manifests
    res = r.restore(inv, "srv1", "ds", tmp_path / "old", offsite=True)
    assert not res.ok and not res.problems and "sync-manifests" in res.unchecked


def test_generations_and_the_one_chain_that_holds_one():
    names = [
        "duplicity-full.20261101T010000Z.manifest.gpg", "duplicity-full.20261101T010000Z.vol1.difftar.gpg",
        "duplicity-full-signatures.20261101T010000Z.sigtar.gpg",
        "duplicity-inc.20261101T010000Z.to.20261102T010000Z.manifest.gpg",
        "duplicity-inc.20261101T010000Z.to.20261102T010000Z.vol1.difftar.gpg",
        "duplicity-new-signatures.20261101T010000Z.to.20261102T010000Z.sigtar.gpg",
        "duplicity-full.20261201T010000Z.manifest.gpg", "duplicity-full.20261201T010000Z.vol1.difftar.gpg",
        "unrelated.txt",
    ]
    assert sorted(r.generations(names)) == ["20261101T010000Z", "20261102T010000Z", "20261201T010000Z"]
    assert r.chain_files(names, "20261102T010000Z") == sorted(names[:6])
    assert r.chain_files(names, "20261201T010000Z") == sorted(names[6:8])
    gens = r.generations(names)
    assert r.choose(gens, None, "x") == "20261201T010000Z"
    assert r.choose(gens, r.parse_at("2026-11-15"), "x") == "20261102T010000Z"
    with pytest.raises(UserError, match="no backup found"):
        r.choose({}, None, "rx:/d")



def plant_hostile_full(chain: Path, manifests: Path, outside: Path) -> str:
    """A newer full as a hostile receiver writes it (toolkit.plant_hostile_full), with an ivpb
    manifest (of the format clients wrote before #22) beside it."""
    stamp = toolkit.plant_hostile_full(chain, outside)
    (manifests / f"{stamp}.json").write_text(json.dumps({
        "format": "ivpb-manifest/2", "host": "srv1", "dataset": "ds", "backup_time": r.iso(r._stamp_time(stamp)),
        "entries": [{"path": ".", "dir": True}, {"path": "a/x", "size": 18, "sha256": "0" * 64}],
        "files": 1, "bytes": 18}))
    return stamp


def test_a_chain_that_writes_through_a_symlink_is_refused_before_duplicity_runs(tmp_path, monkeypatch):
    base, src, ds = with_data(tmp_path, monkeypatch)
    backup(src, ds / "chain", ds / "manifests", dict(os.environ), full=True)
    outside = tmp_path / "outside"  # stands for /etc/cron.d
    outside.mkdir()
    stamp = plant_hostile_full(ds / "chain", ds / "manifests", outside)
    inv = inventory(base, src)
    with pytest.raises(UserError, match=rf"generation {r.iso(r._stamp_time(stamp))} refused: .*'a/x' lies below "
                                        r"the symbolic link 'a'.*nothing was restored"):
        r.restore(inv, "srv1", "ds", tmp_path / "to")
    assert list(outside.iterdir()) == [] and not (tmp_path / "to").exists()
    assert not list(tmp_path.glob(".to.ivpb-restore-*"))  # no private folder left behind
    # without the scan, this machine's duplicity writes through the link: the chain is hostile
    monkeypatch.setattr(r, "scan_chain", lambda files, generation, where: "not scanned")
    res = r.restore(inv, "srv1", "ds", tmp_path / "unguarded")
    assert [p.name for p in outside.iterdir()] == ["x"] and not res.ok


def test_a_restore_onto_a_host_copies_no_fifo_device_or_setuid_file(tmp_path, monkeypatch):
    """push_to_host's rsync never makes a device file, fifo or setuid/setgid file on the host
    (the check refuses unlisted ones first; this is the second wall)."""
    receiver(tmp_path, monkeypatch)
    monkeypatch.setattr(r, "remote_of", lambda sources, host, vault: r.remote_for(None, (), None))
    local = tmp_path / "checked"
    local.mkdir()
    (local / "f.txt").write_text("x\n")
    (local / "tool").write_text("#!/bin/sh\n")
    (local / "tool").chmod(0o6755)
    (local / "shared").mkdir()
    (local / "shared").chmod(0o2770)
    os.mkfifo(local / "pipe")
    r.push_to_host((), None, "srv1", local, str(tmp_path / "onto"))
    onto = tmp_path / "onto"
    assert sorted(p.name for p in onto.iterdir()) == ["f.txt", "shared", "tool"]
    assert (onto / "tool").stat().st_mode & 0o7777 == 0o755  # never a setuid program on the host
    assert (onto / "shared").stat().st_mode & 0o7777 == 0o2770


def test_a_file_name_with_a_newline_cannot_pass_for_a_generation_or_its_arrival(tmp_path, monkeypatch):
    base = receiver(tmp_path, monkeypatch)
    base.mkdir()
    forged = "junk\n9999999999.0 duplicity-full.20301231T000000Z.manifest"
    (base / forged).write_text("")
    os.utime(base / forged, (1_000_000_000, 1_000_000_000))
    listed = r.list_dir(r.remote_for(None, (), None), str(base))
    assert listed == {forged: 1_000_000_000.0}
    assert r.generations(list(listed)) == {}


def test_the_newest_generation_by_arrival_never_one_named_after_it():
    """A generation named after the moment the receiver sealed its manifest (its mtime there)
    is a planted, future-dated one (issue #22 item 7): never chosen, whatever its name."""
    names = ["duplicity-full.20261101T010000Z.manifest", "duplicity-inc.20261101T010000Z.to.20261102T010000Z.manifest",
             "duplicity-inc.20261102T010000Z.to.20301231T000000Z.manifest"]
    arrived = dict(zip(names, (r._stamp_time(s).timestamp() + 60 for s in ("20261101T010000Z", "20261102T010000Z",
                                                                              "20261103T010000Z")), strict=True))
    gens = r.generations(names)
    assert r.choose(gens, None, "x") == "20301231T000000Z"  # by name alone, the planted one would win
    assert r.choose(gens, None, "x", arrived) == "20261102T010000Z"
    late = {**arrived, names[1]: r._stamp_time("20261102T010000Z").timestamp() - 9 * 60}  # the client's clock ahead
    assert r.choose(gens, None, "x", late) == "20261102T010000Z"  # within ARRIVAL_SKEW
    assert r.choose(gens, r.parse_at("2026-11-01"), "x", arrived) == "20261101T010000Z"
    with pytest.raises(UserError, match="none dated at or before its arrival"):
        r.choose({"20301231T000000Z": names[2]}, None, "rx:/d", arrived)


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "2026-11-31T25:00"])
def test_bad_times_and_school_years_are_one_line(text):
    with pytest.raises(UserError, match="^--at"):
        r.parse_at(text)
    with pytest.raises(UserError, match="^--school-year"):
        r.parse_school_year("2025-2027")


def test_live_paths_overlap():
    assert r.overlaps("/srv/data/x", "/srv/data/x/") and r.overlaps("/srv/data", "/srv/data/x")
    assert r.overlaps("/srv/data/x/sub", "/srv/data/x") and not r.overlaps("/srv/data/xy", "/srv/data/x")


def test_cli_refuses_live_data_and_a_non_empty_target_in_one_line(tmp_path, capsys):
    from ivpb.cli import main

    rc = main(["restore", "-i", "inventories/example", "--host", "fileserver", "--dataset",
               "leerlingenadministratie", "--to", "fileserver:/srv/data/leerlingen/sub"])
    err = capsys.readouterr().err
    assert rc == 1 and "--overwrite-live" in err and len(err.strip().splitlines()) == 1
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    rc = main(["restore", "-i", "inventories/example", "--host", "fileserver", "--dataset",
               "leerlingenadministratie", "--to", str(full)])
    err = capsys.readouterr().err
    assert rc == 1 and "not empty" in err and len(err.strip().splitlines()) == 1
    rc = main(["restore", "-i", "inventories/example", "--host", "fileserver", "--dataset", "x", "--to", "/tmp/y"])
    assert rc == 1 and "no such data set" in capsys.readouterr().err


def test_cli_drill_records_passed_and_failed_drills(tmp_path, monkeypatch, capsys):
    """ivpb restore --drill end to end through the command line (inventory read by Ansible)."""
    import json

    from ivpb.cli import main

    from .helpers import write_inventory

    base, src, ds = with_data(tmp_path, monkeypatch)
    backup(src, ds / "chain", ds / "manifests", dict(os.environ), full=True)
    inv = write_inventory(tmp_path / "inv", {"ivpb_backup_targets": {"rx": {"host": "receiver", "path": str(base)}}},
                          {"srv1": {"ivpb_stores": [{"dataset": "ds", "path": str(src), "backup_target": "rx"}]},
                           "receiver": {}})
    argv = ["restore", "-i", str(inv), "--host", "srv1", "--dataset", "ds", "--drill", "-q"]
    assert main(argv) == 0
    assert "resultaat: OK" in capsys.readouterr().out
    [passed] = (inv / ".evidence" / "drills" / "srv1" / "ds").glob("*.json")
    doc = json.loads(passed.read_text())
    assert doc["result"] == "ok" and doc["files_checked"] == 3 and doc["manifest"].startswith("receiver:")

    vol = sorted((ds / "chain").glob("duplicity-full.*.vol1.difftar*"))[0]
    vol.write_bytes(vol.read_bytes()[:-10] + b"0123456789")
    time.sleep(1.1)  # one evidence file per second
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith(f"{vol.name}: altered or corrupt (SHA1 differs from "
                            f"{vol.name.split('.vol1.')[0]}.manifest)"), err
    failed = [f for f in (inv / ".evidence" / "drills" / "srv1" / "ds").glob("*.json") if f != passed]
    doc = json.loads(failed[0].read_text())
    assert doc["result"] == "failed" and vol.name in doc["problems"][0]


def test_live_data_needs_a_terminal_and_the_typed_name(monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(UserError, match="confirmation needs a terminal"):
        r.confirm_live("ds", "srv1:/srv/ds")
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "other")
    with pytest.raises(UserError, match="not confirmed"):
        r.confirm_live("ds", "srv1:/srv/ds")
    monkeypatch.setattr("builtins.input", lambda prompt: "ds")
    r.confirm_live("ds", "srv1:/srv/ds")


def test_a_pulled_data_set_restores_from_its_proxys_area_checked_against_the_proxys_manifest(tmp_path, monkeypatch):
    """A system ivpb does not manage whose data set srv1 pulls (#23): its backups lie in srv1's
    area and their manifests name srv1, the host whose job made them; restore finds and accepts
    them for the system."""
    base, src, ds = with_data(tmp_path, monkeypatch)
    backup(src, ds / "chain", ds / "manifests", dict(os.environ), full=True)
    common = {"ivpb_backup_targets": {"rx": {"host": "receiver", "path": str(base)}}}
    inv = Inventory(hosts={"srv1": common, "receiver": common, "syno": {
        **common, "ivpb_managed": False,
        "ivpb_stores": [{"dataset": "ds", "path": "/volume1/ds", "backup_target": "rx",
                         "pull": {"via": "srv1", "source": "smb://syno/ds"}}]}})
    assert r.locate(inv, "syno", "ds").directory == f"{base}/srv1/ds"
    res = r.restore(inv, "syno", "ds", tmp_path / "pulled")
    assert res.ok and res.host == "syno" and sums(tmp_path / "pulled") == sums(src)
