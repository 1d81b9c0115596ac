"""ivpb restore on the lab's real hosts (issue #16): real duplicity, gpg, rsync and ssh.

The example school as lab/demo left it (tests/lab/conftest.py: enforced, backed up, drilled),
whose directie key is the lab's escrow key: its secret half lives only on this machine, in
.lab/escrow-gnupg (lab/lib.sh, issue #21). With more data and the night's jobs run again (which
store a manifest beside every backup): an encrypted data set, a plain one (no key at all), a
point in time and a yearly full restore byte for byte against the source and the manifest; a
restore onto a host refuses the live path; a drill writes its evidence and the audit judges it;
the offsite copy restores checked against the manifest its sync stored (<ds>/sync-manifests,
issue #16); a tampered volume and tampered manifests make the restore fail naming the file.

Run it under the lab lock:
  flock -o /tmp/ivpb-lab.lock .venv/bin/pytest -q -m lab tests/lab/test_restore.py
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.input_rules import BACKUP_PATH as RECEIVER_BASE

from tests.lab.conftest import ESCROW

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
SUMS = "cd {path} && find . -type f -print0 | sort -z | xargs -0 -r sha256sum"


def _env(gnupghome: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["CONTAINERS_CONF"] = str(ROOT / "lab" / "containers.conf")
    env["ANSIBLE_NOCOLOR"] = "1"
    if gnupghome is not None:
        env["GNUPGHOME"] = str(gnupghome)
    env.pop("PASSPHRASE", None)
    return env


def run(*args: str, gnupghome: Path | None = None, timeout: int = 1800) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=ROOT, env=_env(gnupghome), capture_output=True, text=True,
                          timeout=timeout, check=False)


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
    return proc.stdout


def on(host: str, command: str) -> str:
    return ok(run("lab/lab", "ssh", host, command))


def sums_of(text: str) -> dict[str, str]:
    return {line[66:]: line[:64] for line in text.splitlines() if line}


def local_sums(path: Path) -> dict[str, str]:
    return sums_of(ok(subprocess.run(["bash", "-c", SUMS.format(path=f"'{path}'")], capture_output=True,
                                     text=True, check=False)))


def school_year(today: dt.date) -> str:
    y = today.year if today.month >= 9 else today.year - 1
    return f"{y}-{y + 1}"


@pytest.fixture(scope="module")
def lab(demo_lab, tmp_path_factory):
    work = tmp_path_factory.mktemp("restore")
    inv = ["-i", "inventories/example", "-i", "inventories/lab"]
    # what the demo's night put in this school year's yearly full (the jobs below make none)
    annual = sums_of(on("fileserver", SUMS.format(path="/srv/data/personeel")))
    for host, path in (("fileserver", "/srv/data/leerlingen"), ("nas", "/srv/nas/lesmateriaal"),
                       ("fileserver", "/srv/data/personeel")):
        on(host, f"mkdir -p '{path}/sub dir' && head -c 300000 /dev/urandom > '{path}/sub dir/random.bin' && "
                 f"printf 'naam met spaties\\n' > '{path}/sub dir/file with blanks.txt'")
    ok(run("ansible-playbook", "lab/run-backups.yml", *inv))
    yield {"inv": inv, "gpg": ESCROW, "annual": annual, "evidence": ROOT / "inventories" / "lab" / ".evidence", "work": work,
           "empty_gpg": work / "no-key"}


def restore(lab, *args: str, key: bool = True) -> subprocess.CompletedProcess[str]:
    home = lab["gpg"] if key else lab["empty_gpg"]
    home.mkdir(mode=0o700, exist_ok=True)
    return run("ivpb", "restore", *lab["inv"], *args, gnupghome=home)


def test_the_jobs_stored_a_manifest_beside_each_backup_encrypted_like_the_data(lab):
    enc = on("nas-offsite", f"ls {RECEIVER_BASE}/fileserver/leerlingenadministratie/manifests/")
    plain = on("nas-offsite", f"ls {RECEIVER_BASE}/nas/lesmateriaal/manifests/")
    assert enc.split() and all(n.endswith(".json.gpg") for n in enc.split()), enc
    assert plain.split() and all(n.endswith(".json") for n in plain.split()), plain
    # sealed by the receiver like every other file
    modes = on("nas-offsite", f"stat -c '%U %a' {RECEIVER_BASE}/nas/lesmateriaal/manifests/*")
    assert {line for line in modes.splitlines()} == {"root 440"}, modes
    # the confidential manifest holds no path in plaintext
    found = on("nas-offsite", f"grep -rlaF 'random.bin' {RECEIVER_BASE}/fileserver/leerlingenadministratie/manifests "
                              "| wc -l").strip()
    assert found == "0"


def test_an_encrypted_data_set_restores_byte_for_byte_with_the_test_key_only(lab, tmp_path):
    out = tmp_path / "leerlingen"
    proc = restore(lab, "--host", "fileserver", "--dataset", "leerlingenadministratie", "--to", str(out))
    text = ok(proc)
    assert "resultaat: OK" in text and "versleuteld" in text and "RTO" in text and "RPO" in text, text
    source = sums_of(on("fileserver", SUMS.format(path="/srv/data/leerlingen")))
    assert len(source) >= 3 and local_sums(out) == source

    # without the secret key nothing comes back, and the reason names the file
    other = tmp_path / "nokey"
    proc = restore(lab, "--host", "fileserver", "--dataset", "leerlingenadministratie", "--to", str(other),
                   key=False)
    assert proc.returncode == 1 and "cannot be decrypted" in proc.stderr and ".manifest.gpg" in proc.stderr, \
        proc.stderr
    assert not other.exists() or not any(other.iterdir())
    assert "Traceback" not in proc.stderr


def test_a_plain_data_set_restores_without_any_key(lab, tmp_path):
    out = tmp_path / "lesmateriaal"
    text = ok(restore(lab, "--host", "nas", "--dataset", "lesmateriaal", "--to", str(out), key=False))
    assert "niet versleuteld" in text and "resultaat: OK" in text, text
    assert local_sums(out) == sums_of(on("nas", SUMS.format(path="/srv/nas/lesmateriaal")))


def test_the_yearly_full_restores_byte_for_byte(lab, tmp_path):
    sy = school_year(dt.datetime.now(dt.UTC).date())
    out = tmp_path / "annual"
    text = ok(restore(lab, "--host", "fileserver", "--dataset", "personeelsdossiers", "--school-year", sy,
                      "--to", str(out)))
    assert f"annual/{sy}" in text and "resultaat: OK" in text, text
    assert local_sums(out) == lab["annual"]


def test_a_point_in_time_and_the_newest_state(lab, tmp_path):
    before = sums_of(on("fileserver", SUMS.format(path="/srv/data/leerlingen")))
    first = on("fileserver", "cat /var/lib/ivpb/backup/status/leerlingenadministratie.last_backup").strip()
    on("fileserver", "sleep 2; echo 'gewijzigd na de eerste backup' > '/srv/data/leerlingen/sub dir/file with "
                     "blanks.txt' && /usr/local/lib/ivpb/ivpb-backup run leerlingenadministratie")
    after = sums_of(on("fileserver", SUMS.format(path="/srv/data/leerlingen")))
    assert after != before
    old, new = tmp_path / "old", tmp_path / "new"
    ok(restore(lab, "--host", "fileserver", "--dataset", "leerlingenadministratie", "--at", first, "--to", str(old)))
    ok(restore(lab, "--host", "fileserver", "--dataset", "leerlingenadministratie", "--to", str(new)))
    assert local_sums(old) == before and local_sums(new) == after


def test_onto_a_host_into_an_empty_directory_never_onto_live_data_without_the_flag(lab):
    proc = restore(lab, "--host", "nas", "--dataset", "lesmateriaal", "--to", "nas:/srv/nas/lesmateriaal")
    assert proc.returncode == 1 and "--overwrite-live" in proc.stderr, proc.stderr
    proc = restore(lab, "--host", "nas", "--dataset", "lesmateriaal", "--to", "nas:/srv/nas")
    assert proc.returncode == 1 and "live data" in proc.stderr, proc.stderr
    ok(restore(lab, "--host", "nas", "--dataset", "lesmateriaal", "--to", "nas:/srv/restore-test"))
    assert sums_of(on("nas", SUMS.format(path="/srv/restore-test"))) == \
        sums_of(on("nas", SUMS.format(path="/srv/nas/lesmateriaal")))
    proc = restore(lab, "--host", "nas", "--dataset", "lesmateriaal", "--to", "nas:/srv/restore-test")
    assert proc.returncode == 1 and "not empty" in proc.stderr, proc.stderr


def test_a_drill_records_its_evidence(lab, tmp_path):
    scratch = tmp_path / "drill"
    text = ok(restore(lab, "--host", "fileserver", "--dataset", "leerlingenadministratie", "--drill",
                      "--to", str(scratch)))
    assert "resultaat: OK" in text
    assert not any(scratch.iterdir())  # a drill leaves no (confidential) data behind
    files = sorted((lab["evidence"] / "drills" / "fileserver" / "leerlingenadministratie").glob("*.json"))
    assert files, "no drill evidence"
    doc = json.loads(files[-1].read_text())
    assert doc["result"] == "ok" and doc["files_checked"] >= 3 and doc["bytes_checked"] > 300000
    assert doc["rto_seconds"] > 0 and doc["rpo_seconds"] >= 0 and doc["generation"] and doc["by"]
    assert doc["manifest"].endswith(".json.gpg")
    # the whole plain data set (what counts for the audit, below), then a declared sample of it:
    # no key, no --to (a scratch directory of its own); a sample is partial and never counts (#22)
    ok(restore(lab, "--host", "nas", "--dataset", "lesmateriaal", "--drill", key=False))
    text = ok(restore(lab, "--host", "nas", "--dataset", "lesmateriaal", "--drill", "--sample", "sub dir", key=False))
    assert "steekproef: alleen sub dir" in text and "resultaat: OK" in text, text
    files = sorted((lab["evidence"] / "drills" / "nas" / "lesmateriaal").glob("*.json"))
    doc = json.loads(files[-1].read_text())
    assert doc["result"] == "ok" and doc["sample"] == "sub dir" and doc["files_checked"] == 2 and doc["partial"]


def test_the_audit_judges_the_drills(lab, tmp_path):
    """After the drills above: their data sets' backup.best_practice is compliant and shows the
    drill's RTO and RPO; a data set never drilled is drift, naming the missing drill."""
    for host in ("fileserver", "nas"):  # the weekly verify jobs, as cron runs them (fresh verify evidence)
        on(host, "grep -E '^[0-9].*/ivpb-backup verify ' /etc/cron.d/ivpb-backup | cut -d' ' -f7- | "
                 "while read -r cmd; do sh -c \"$cmd\" </dev/null || exit 1; done")
    report = tmp_path / "audit.json"
    fotos_drills = lab["evidence"] / "drills" / "nas" / "fotos"
    kept = fotos_drills.with_name("fotos.kept")
    fotos_drills.rename(kept)  # the demo drilled every data set; fotos is now one never drilled
    try:
        proc = run("ivpb", "audit", *lab["inv"], "-q", "-o", str(report))
    finally:
        kept.rename(fotos_drills)
    assert proc.returncode == 2, proc.stderr[-3000:]
    controls = {(h, c.get("dataset")): c for h, e in json.loads(report.read_text())["hosts"].items()
                for c in e["controls"] if c["id"] == "backup.best_practice"}
    for key in (("fileserver", "leerlingenadministratie"), ("nas", "lesmateriaal")):
        c = controls[key]
        assert c["status"] == "compliant", c
        assert "laatste hersteltest (drill)" in c["detail"] and "RTO" in c["detail"] and "RPO" in c["detail"], c
        assert c["evidence"]["last_drill"]["result"] == "ok"
    fotos = controls[("nas", "fotos")]
    assert fotos["status"] == "drift" and "geen geslaagde hersteltest" in fotos["detail"], fotos


def test_the_offsite_copy_restores_checked_against_the_manifest_its_sync_stored(lab, tmp_path):
    on("fileserver", "/usr/local/lib/ivpb/ivpb-backup sync leerlingenadministratie")
    synced = f"{RECEIVER_BASE}/fileserver/leerlingenadministratie/sync-manifests"
    names = on("nas-offsite", f"ls {synced}").split()
    assert names and all(n.endswith(".json.gpg") for n in names), names  # encrypted like the data
    assert set(on("nas-offsite", f"stat -c '%U %a' {synced}/*").splitlines()) == {"root 440"}  # sealed
    out = tmp_path / "offsite"
    text = ok(restore(lab, "--host", "fileserver", "--dataset", "leerlingenadministratie", "--offsite",
                      "--to", str(out)))
    assert "/leerlingenadministratie/sync" in text and "resultaat: OK" in text, text
    assert "/leerlingenadministratie/sync-manifests/" in text and "NIET GECONTROLEERD" not in text, text
    assert local_sums(out) == sums_of(on("fileserver", SUMS.format(path="/srv/data/leerlingen")))


def test_a_receiver_reached_as_a_user_other_than_root_goes_through_sudo(lab, tmp_path):
    """The receiver's areas are root's: a contractor who logs in as an ordinary user with sudo
    rights restores through `sudo -n` (listing and rsync); without sudo it fails in one line."""
    on("nas-offsite", "id restorer >/dev/null 2>&1 || useradd -m -s /bin/bash restorer; usermod -p '*' restorer; "
                      "echo 'restorer ALL=(root) NOPASSWD: ALL' > /etc/sudoers.d/restorer; "
                      "chmod 440 /etc/sudoers.d/restorer")
    as_user = lab["work"] / "as-restorer"
    (as_user / "host_vars").mkdir(parents=True, exist_ok=True)
    (as_user / "hosts.yml").write_text("all:\n  hosts:\n    nas-offsite:\n")
    (as_user / "host_vars" / "nas-offsite.yml").write_text("ansible_user: restorer\n")
    inv = [*lab["inv"], "-i", str(as_user)]
    lab["empty_gpg"].mkdir(mode=0o700, exist_ok=True)
    out = tmp_path / "as-user"
    text = ok(run("ivpb", "restore", *inv, "--host", "nas", "--dataset", "lesmateriaal", "--to", str(out),
                  gnupghome=lab["empty_gpg"]))
    assert "resultaat: OK" in text, text
    assert local_sums(out) == sums_of(on("nas", SUMS.format(path="/srv/nas/lesmateriaal")))
    on("nas-offsite", "rm /etc/sudoers.d/restorer")
    proc = run("ivpb", "restore", *inv, "--host", "nas", "--dataset", "lesmateriaal", "--to", str(tmp_path / "no"),
               gnupghome=lab["empty_gpg"])
    last = proc.stderr.strip().splitlines()[-1]
    assert proc.returncode == 1 and "nas-offsite" in last and "sudo" in last, proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_passphrase_protected_key_restores_through_gpg_agent(lab, tmp_path):
    """The directie's key is protected by a passphrase: ivpb restore never asks for it, gpg-agent
    holds it (preset here, a pinentry or a smartcard at the school); without it nothing comes
    back and the reason names the file."""
    home = tmp_path / "agent"
    home.mkdir(mode=0o700)
    secret = ok(run("gpg", "--batch", "--export-secret-keys", "--armor", gnupghome=lab["gpg"]))
    proc = subprocess.run(["gpg", "--batch", "--import"], input=secret, env=_env(home), capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    phrase = "een lange zin uit de kluis"
    fpr = ok(run("gpg", "--with-colons", "--list-secret-keys", gnupghome=home)).split("fpr:::::::::")[1][:40]
    ok(run("gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", phrase, "--passwd", fpr, gnupghome=home))
    try:
        run("gpgconf", "--kill", "gpg-agent", gnupghome=home)
        locked = run("ivpb", "restore", *lab["inv"], "--host", "fileserver", "--dataset", "leerlingenadministratie",
                     "--to", str(tmp_path / "locked"), gnupghome=home)
        assert locked.returncode == 1 and "cannot be decrypted" in locked.stderr, locked.stderr
        (home / "gpg-agent.conf").write_text("allow-preset-passphrase\n")
        run("gpgconf", "--kill", "gpg-agent", gnupghome=home)
        grips = [line.split(":")[9] for line in ok(run("gpg", "--with-colons", "--with-keygrip",
                                                       "--list-secret-keys", gnupghome=home)).splitlines()
                 if line.startswith("grp:")]
        for grip in grips:
            ok(run("/usr/lib/gnupg/gpg-preset-passphrase", "--preset", "-P", phrase, grip, gnupghome=home))
        out = tmp_path / "unlocked"
        text = ok(run("ivpb", "restore", *lab["inv"], "--host", "fileserver", "--dataset", "leerlingenadministratie",
                      "--to", str(out), gnupghome=home))
        assert "resultaat: OK" in text and "versleuteld" in text, text
        assert local_sums(out) == sums_of(on("fileserver", SUMS.format(path="/srv/data/leerlingen")))
    finally:
        run("gpgconf", "--kill", "all", gnupghome=home)


def _tamper(host: str, path_glob: str, dd: str) -> str:
    """Damage the newest file matching path_glob on host (kept aside to put it back); its path."""
    path = on(host, f"ls {path_glob} | tail -n1").strip()
    on(host, f"cp -p '{path}' /root/tamper.orig && {dd.format(f=path)}")
    return path


def _untamper(host: str, path: str) -> None:
    on(host, f"cat /root/tamper.orig > '{path}' && rm /root/tamper.orig")


def test_a_tampered_volume_fails_loudly_naming_it(lab, tmp_path):
    vol = _tamper("nas-offsite", f"{RECEIVER_BASE}/nas/lesmateriaal/chain/duplicity-full.*.vol1.difftar*",
                  "dd if=/dev/urandom of='{f}' bs=1 count=64 seek=200 conv=notrunc status=none")
    try:
        proc = restore(lab, "--host", "nas", "--dataset", "lesmateriaal", "--to", str(tmp_path / "v"))
    finally:
        _untamper("nas-offsite", vol)
    assert proc.returncode == 1 and os.path.basename(vol) in proc.stderr and "altered" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def newest_manifest(client: str, ds: str) -> str:
    """The manifest of the newest generation of the routine chain (not of a yearly full)."""
    d = f"{RECEIVER_BASE}/{client}/{ds}"
    gen = on("nas-offsite", f"ls {d}/chain | sed -n 's/^duplicity-.*\\.\\([0-9]\\{{8\\}}T[0-9]\\{{6\\}}Z\\)"
                            f"\\.manifest.*$/\\1/p' | sort | tail -n1").strip()
    assert gen, d
    return f"{d}/manifests/{gen}.json*"


def test_a_tampered_manifest_fails_loudly_naming_it(lab, tmp_path):
    # plain: one checksum changed in the JSON
    m = _tamper("nas-offsite", newest_manifest("nas", "lesmateriaal"),
                "sed -i 's/\"sha256\":\"[0-9a-f]/\"sha256\":\"x/' '{f}'")
    try:
        proc = restore(lab, "--host", "nas", "--dataset", "lesmateriaal", "--to", str(tmp_path / "p"))
    finally:
        _untamper("nas-offsite", m)
    assert proc.returncode == 1 and os.path.basename(m) in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert "resultaat: MISLUKT" in proc.stdout and "differ" in proc.stdout, proc.stdout
    # encrypted: one byte flipped in the OpenPGP message
    m = _tamper("nas-offsite", newest_manifest("fileserver", "leerlingenadministratie"),
                "printf '\\x00\\x00\\x00\\x00' | dd of='{f}' bs=1 seek=120 conv=notrunc status=none")
    try:
        proc = restore(lab, "--host", "fileserver", "--dataset", "leerlingenadministratie",
                       "--to", str(tmp_path / "e"))
    finally:
        _untamper("nas-offsite", m)
    assert proc.returncode == 1 and os.path.basename(m) in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
