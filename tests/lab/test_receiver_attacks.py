"""Attacks on the backup receiver from a client it serves, on the lab's real hosts (issue #22).

nas-offsite receives fileserver's and nas's backups (/srv/backup/<client>/<dataset>/...). Each
attack comes from the client host, as the client's own user on the receiver with the client's
own key (/etc/ivpb/backup/ssh/id_ed25519) and the ssh options of the job script itself, through
the real gate and the real rrsync of rsync 3.5 (bookworm-security):
  - empty manifests named in the future, or a minute after the newest real backup, and a
    complete-looking generation dated ahead, uploaded with the sender's own `rsync -r --mkpath`:
    maintenance (run as its cron line runs it) removes no sealed file and the audit's
    protected_generation stays a real backup's arrival; a single upload named in the future is
    refused;
  - options rrsync's splitting or rsync's abbreviations could smuggle in (a vertical tab,
    --inpl, -b, --backup, -vbz, --inplace) are refused, logged and write nothing;
  - a quota from the inventory (ivpb_backup_targets.<t>.quota, enforced) makes the client's
    backup fail loudly (run_failed, backup.daily not compliant) while downloads still work;
  - a 1,100-level directory tree in one client's area stops neither that client's sealing nor
    the other client's maintenance or uploads; it counts as that client's quota breach.
The example school as lab/demo left it (tests/lab/conftest.py). Every test plants only names
of a fixed scheme (ivpb-labtest-*, or duplicity names it keeps in a list), removes them as root
afterwards and puts back what it changed (test_restore runs next on the same receiver).

Run it under the lab lock:
  flock -o /tmp/ivpb-lab.lock .venv/bin/pytest -q -m lab tests/lab/test_receiver_attacks.py
"""

from __future__ import annotations

import base64
import calendar
import json
import re
import shlex
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.backup_job import ETC, STATE
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.backup_job import SCRIPT_PATH as JOB
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.input_rules import BACKUP_PATH as BASE
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.receiver_layout import client_user
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.receiver_program import CONFIG, CRON

from tests.lab.test_enforce_audit import INV, ROOT, audit, ok, on, run

pytestmark = pytest.mark.lab

RECEIVER = "nas-offsite"
STATUS = f"{STATE}/status"
FS_USER = client_user(RECEIVER, "fileserver")
NAS_USER = client_user(RECEIVER, "nas")
DS = "leerlingenadministratie"  # fileserver's, daily (backup.daily), encrypted, synced offsite
CHAIN = f"{BASE}/fileserver/{DS}/chain"
MARK = "ivpb-labtest-"  # every non-duplicity name planted here starts with it
DUPLICITY = re.compile(r"^duplicity-(?:full|inc|full-signatures|new-signatures)\."
                       r"(\d{8}T\d{6}Z)(?:\.to\.(\d{8}T\d{6}Z))?\.")
DENIED = f"denied for client fileserver (target {RECEIVER}, user {FS_USER}): "
# The job script's own ssh options (SSH_OPTS, ssh_cmd) and the data set's target (TARGET_HOST:
# the client's user on the receiver), read from what enforce installed on the client.
SENDER = (f"ETC={ETC}; eval \"$(grep -E '^(SSH_OPTS|ssh_cmd)' {JOB})\"; "
          ". $ETC/datasets/{ds}.conf; SSH=$(ssh_cmd $TARGET_PORT); ")
# Maintenance as cron runs it: the command of the receiver's cron line, in cron's environment.
MAINT = (f"line=$(sed -n 's/^[^#]* root //p' {CRON}); "
         f"[ -n \"$line\" ] || {{ echo 'no maint line in {CRON}' >&2; exit 3; }}; "
         "env -i PATH=/usr/bin:/bin sh -c \"$line\"")


@pytest.fixture(scope="module")
def lab(demo_lab, tmp_path_factory) -> Path:
    """The example school as lab/demo left it; a scratch folder on this machine."""
    return tmp_path_factory.mktemp("receiver")


def sh(host: str, command: str) -> subprocess.CompletedProcess[str]:
    """A command as root on a lab host, whatever its exit code."""
    return run("lab/lab", "ssh", host, command)


def sender(host: str, ds: str, command: str) -> subprocess.CompletedProcess[str]:
    """command on the client host with $SSH and $TARGET_HOST/$TARGET_DIR as its backup job has them."""
    return sh(host, SENDER.format(ds=ds) + command)


def gate_raw(line: str) -> subprocess.CompletedProcess[str]:
    """One raw command line handed to the gate, as fileserver's backup user (byte for byte: it
    travels base64-encoded to the client)."""
    b64 = base64.b64encode(line.encode()).decode()
    return sender("fileserver", DS, f'$SSH "$TARGET_HOST" "$(printf %s {b64} | base64 -d)" </dev/null')


def receiver_now() -> int:
    return int(on(RECEIVER, "date +%s"))


def stamp(t: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def listing(directory: str) -> dict[str, tuple[int, str, str, int]]:
    """name -> (size, owner, mode, mtime in whole seconds) of the files in a receiver directory."""
    out = on(RECEIVER, f"find {directory} -maxdepth 1 -type f -printf '%f %s %u %m %T@\\n'")
    files = {}
    for row in out.splitlines():
        name, size, owner, mode, mtime = row.rsplit(" ", 4)
        files[name] = (int(size), owner, mode, int(float(mtime)))
    return files


def journal(since: int, *needles: str, wait: float = 15) -> str:
    """The receiver's log lines since an epoch of its own clock, once every needle is in them."""
    text = ""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        text = on(RECEIVER, f"journalctl -q --no-pager -o cat -t ivpb-backup-receiver --since @{since} || true")
        if all(n in text for n in needles):
            break
        time.sleep(1)
    return text


def line_with(text: str, *parts: str) -> str:
    """The one log line holding every part (one denial per planted name)."""
    found = [line for line in text.splitlines() if all(p in line for p in parts)]
    assert len(found) == 1, (parts, text[-3000:])
    return found[0]


def maint() -> None:
    ok(sh(RECEIVER, MAINT))


def controls(report: dict, host: str, ds: str, *ids: str) -> dict[str, dict]:
    return {c["id"]: c for c in report["hosts"][host]["controls"] if c["id"] in ids and c.get("dataset") == ds}


def test_future_and_empty_manifests_neither_count_nor_prune_a_sealed_chain(lab):
    maint()  # whatever retention would remove anyway is gone before the snapshot
    real = listing(CHAIN)
    manifests = listing(f"{BASE}/fileserver/{DS}/manifests")  # the ivpb manifests retention would remove too
    assert manifests and real and {(owner, mode) for _s, owner, mode, _m in real.values()} == {("root", "440")}, real
    newest = max(max(s for s in m.groups() if s) for m in map(DUPLICITY.match, real) if m)
    t = receiver_now()
    empty = [f"duplicity-full.{stamp(t + days * 86400)}.manifest" for days in (1, 7, 31, 366, 3653)]
    after_newest = f"duplicity-full.{stamp(calendar.timegm(time.strptime(newest, '%Y%m%dT%H%M%SZ')) + 60)}.manifest"
    ahead = stamp(t + 2 * 86400)  # a generation complete in every other way, dated ahead
    whole = {f"duplicity-full.{ahead}.manifest": "Volume 1:\n    StartingPath   .\n",
             f"duplicity-full.{ahead}.vol1.difftar.gz": "x" * 4096,
             f"duplicity-full-signatures.{ahead}.sigtar.gz": "x" * 4096}
    single = f"duplicity-full.{stamp(t + 3 * 86400)}.manifest"  # one file, uploaded alone
    planted = [*empty, after_newest, *whole]
    assert not set(planted + [single]) & set(real)
    make = "; ".join([f"touch /tmp/{MARK}plant/{n}" for n in [*empty, after_newest]]
                     + [f"printf %s {shlex.quote(body)} >/tmp/{MARK}plant/{n}" for n, body in whole.items()])
    try:
        ok(sh("fileserver", f"rm -rf /tmp/{MARK}plant /tmp/{MARK}single; mkdir /tmp/{MARK}plant /tmp/{MARK}single; "
                            f"{make}; touch /tmp/{MARK}single/{single}"))
        # the sender's own directory upload (ensure_remote_dir's form): names inside it reach the area
        ok(sender("fileserver", DS, f'rsync -r --mkpath -e "$SSH" /tmp/{MARK}plant/ "$TARGET_HOST:$TARGET_DIR/chain/"'))
        refused = sender("fileserver", DS, f'rsync -e "$SSH" /tmp/{MARK}single/{single} '
                                           f'"$TARGET_HOST:$TARGET_DIR/chain/{single}"')
        landed = listing(CHAIN)
        assert set(planted) <= set(landed), sorted(set(planted) - set(landed))
        assert {landed[n][1:3] for n in planted} == {("root", "440")}  # the gate sealed them
        assert refused.returncode != 0 and single not in landed, refused.stderr
        assert "ivpb backup receiver: denied: file name dated" in refused.stderr, refused.stderr
        text = journal(t, f"/{single}'")
        line_with(text, DENIED, f"file name dated {single.split('.')[1]}, ahead of this host's clock", f"/{single}'")

        maint()
        kept = listing(CHAIN)
        assert {n: kept.get(n) for n in real} == real  # no sealed file removed, re-stamped or changed
        assert listing(f"{BASE}/fileserver/{DS}/manifests").items() >= manifests.items()
        ignored = f"{CHAIN}: ignored full {ahead}..{ahead}: dated ahead of its arrival"
        text = journal(t, ignored)
        assert ignored in text, text
        assert "maintenance of client" not in text, text

        _rc, report = audit(lab, name="planted")
        planted_arrivals = {iso(kept[n][3]) for n in planted}
        real_arrivals = {iso(m) for n, (_s, _o, _mode, m) in kept.items() if n not in planted and n.startswith("dup")}
        found = controls(report, "fileserver", DS, "backup.daily", "backup.best_practice")
        assert set(found) == {"backup.daily", "backup.best_practice"}, found
        for c in found.values():
            protected = c["evidence"].get("protected_generation")
            assert protected in real_arrivals and protected not in planted_arrivals, (protected, c)
    finally:
        names = " ".join(shlex.quote(n) for n in [*planted, single])
        on(RECEIVER, f"cd {CHAIN} && rm -f -- {names}")
        on("fileserver", f"rm -rf /tmp/{MARK}plant /tmp/{MARK}single")
    assert not set(planted) & set(listing(CHAIN))


# Raw command lines handed to the gate (name in the path -> the line, the reason it is refused).
# Each would write a file of that name if it got through; none may.
RAW = {
    "vt": ("rsync --server -e.LsfxCIvu\v--inplace . {path}",
           "not a command line of the ivpb sender (characters or spacing)"),
    "inpl": ("rsync --server --inpl -e.LsfxCIvu . {path}", "option --inpl is not one the ivpb sender uses"),
    "b": ("rsync --server -b -e.LsfxCIvu . {path}", "option -b is not one the ivpb sender uses"),
    "backup": ("rsync --server --backup -e.LsfxCIvu . {path}", "option --backup is not one the ivpb sender uses"),
    "vbz": ("rsync --server -vbze.LsfxCIvu . {path}", "option -vbze.LsfxCIvu is not one the ivpb sender uses"),
}
# The same options from a real rsync client, which passes them on to the server.
CLIENT = {"client-inplace": "--inplace", "client-b": "-b", "client-backup": "--backup", "client-vbz": "-vbz"}


def test_smuggled_options_are_refused_logged_and_write_nothing(lab):
    before = listing(CHAIN)
    payload = f"/tmp/{MARK}opt/payload"
    t = receiver_now()
    try:
        ok(sh("fileserver", f"rm -rf /tmp/{MARK}opt; mkdir /tmp/{MARK}opt; head -c 65536 /dev/urandom >{payload}"))
        results = {}
        for key, (line, _why) in RAW.items():
            results[key] = gate_raw(line.format(path=f"{DS}/chain/{MARK}opt-{key}"))
        for key, option in CLIENT.items():
            results[key] = sender("fileserver", DS, f'rsync {option} -e "$SSH" {payload} '
                                                    f'"$TARGET_HOST:$TARGET_DIR/chain/{MARK}opt-{key}"')
        # the same upload without the option goes through: the refusals above are the options'
        control = sender("fileserver", DS, f'rsync -e "$SSH" {payload} "$TARGET_HOST:$TARGET_DIR/chain/{MARK}opt-control"')
        ok(control)

        for key, proc in results.items():
            assert proc.returncode != 0, (key, proc.stdout, proc.stderr)
            assert "ivpb backup receiver: denied: " in proc.stderr, (key, proc.stderr)
        # the logged command line ends with its path: /<name>' names one attempt
        text = journal(t, *(f"/{MARK}opt-{key}'" for key in results))
        for key, (_line, why) in RAW.items():
            line_with(text, DENIED, why, f"/{MARK}opt-{key}'")
        for key in CLIENT:
            line_with(text, DENIED, "is not one the ivpb sender uses", f"/{MARK}opt-{key}'")

        written = on(RECEIVER, f"find {BASE}/fileserver -name '{MARK}opt-*' -printf '%f %u %m\\n'").split("\n")
        assert [w for w in written if w] == [f"{MARK}opt-control root 440"], written
        after = listing(CHAIN)
        assert {n: after.get(n) for n in before} == before
    finally:
        on(RECEIVER, f"find {BASE}/fileserver -name '{MARK}opt-*' -delete")
        on("fileserver", f"rm -rf /tmp/{MARK}opt")


def quota_inventory(folder: Path, quota: dict) -> Path:
    """An inventory source on top of the school's: its backup targets, nas-offsite with a quota."""
    school = yaml.safe_load((ROOT / "inventories/example/group_vars/all/backup.yml").read_text())
    targets = school["ivpb_backup_targets"]
    targets[RECEIVER] = {**targets[RECEIVER], "quota": quota}
    (folder / "group_vars").mkdir(parents=True)
    # no host named here: a host's inventory_dir (the lab's key path) is the first source naming it
    (folder / "hosts.yml").write_text("all:\n  children:\n    offsite:\n")
    (folder / "group_vars" / "all.yml").write_text(json.dumps({"ivpb_backup_targets": targets}) + "\n")
    return folder


def fileserver_quota() -> dict:
    return json.loads(on(RECEIVER, f"cat {CONFIG}"))[FS_USER].get("quota") or {}


def test_over_its_quota_a_clients_backup_fails_loudly_and_the_audit_says_so(lab):
    extra = quota_inventory(lab / "quota-inventory", {"files": 1})
    failed = f"{STATUS}/{DS}.run_failed"
    try:
        ok(run("ansible-playbook", "playbooks/enforce.yml", *INV, "-i", str(extra), timeout=1800))
        assert fileserver_quota().get("files") == 1
        t = receiver_now()
        before = listing(CHAIN)
        job = sh("fileserver", f"IVPB_LOCK_WAIT=300 {JOB} run {DS}")
        assert job.returncode == 1, (job.stdout, job.stderr)
        assert listing(CHAIN) == before  # refused before anything was written
        at, reason = on("fileserver", f"cat {failed}").split("\n", 1)
        assert at and reason.strip(), (at, reason)
        log = on("fileserver", "tail -n 50 /var/log/ivpb/backup.log")
        assert "ivpb backup receiver: denied: quota exceeded: " in log and f"{DS}[run]: FAILED: " in log, log
        text = journal(t, "quota exceeded")
        assert DENIED in text and re.search(r"quota exceeded: \d+ of \d+ bytes, \d+ of 1 files", text), text
        # downloads still work over quota (listing, verify and restore read the same way)
        ok(sender("fileserver", DS, 'rsync --list-only -e "$SSH" "$TARGET_HOST:$TARGET_DIR/chain/"'))

        _rc, report = audit(lab, "-i", str(extra), name="quota")
        daily = controls(report, "fileserver", DS, "backup.daily")["backup.daily"]
        assert daily["status"] != "compliant", daily
        assert daily["evidence"]["run_failed"] == {"at": at.strip(), "reason": reason.strip()[:300]}, daily
    finally:
        ok(run("ansible-playbook", "playbooks/enforce.yml", *INV, timeout=1800))
    assert fileserver_quota().get("files") is None
    # fresh evidence again: the next run succeeds and clears its failure; a heartbeat sync that
    # failed meanwhile is made good
    ok(sh("fileserver", f"IVPB_LOCK_WAIT=300 {JOB} run {DS}"))
    ok(sh("fileserver", f"test ! -e {failed} && test -s {STATUS}/{DS}.last_backup"))
    ok(sh("fileserver", f"if [ -e {STATUS}/{DS}.sync_failed ]; then {JOB} heartbeat {DS}; fi"))


def test_a_deep_tree_in_one_area_stops_neither_its_sealing_nor_the_other_clients(lab):
    deep = f"{BASE}/fileserver/personeelsdossiers/{MARK}deep"
    probes = {FS_USER: f"{BASE}/fileserver/personeelsdossiers/{MARK}deep-probe",
              NAS_USER: f"{BASE}/nas/lesmateriaal/{MARK}deep-probe"}
    try:
        levels = on(RECEIVER, f"runuser -u {FS_USER} -- bash -c 'mkdir {deep} && cd {deep} && i=0 && "
                              "while [ $i -lt 1100 ]; do mkdir d && cd d || exit 1; i=$((i + 1)); done && "
                              "pwd | tr / \"\\n\" | grep -cx d'")
        assert levels.strip() == "1100", levels
        # a finished upload of each client that no gate has sealed yet (owner: the client's user)
        for user, probe in probes.items():
            ok(sh(RECEIVER, f"runuser -u {user} -- sh -c 'echo probe >{probe}'"))
        t = receiver_now()
        maint()
        sealed = {user: on(RECEIVER, f"stat -c '%U %a' {probe}").strip() for user, probe in probes.items()}
        assert sealed == {FS_USER: "root 440", NAS_USER: "root 440"}, sealed
        unsealed = f"{BASE}/fileserver: a tree deeper than 64 levels is left unsealed"
        text = journal(t, unsealed)
        assert unsealed in text, text
        assert "maintenance of client" not in text, text

        # at the gate the tree is fileserver's quota breach; nas uploads as before
        t = receiver_now()
        ok(sh("fileserver", f"echo x >/tmp/{MARK}deep-upload"))
        ok(sh("nas", f"echo x >/tmp/{MARK}deep-upload"))
        refused = sender("fileserver", DS, f'rsync -e "$SSH" /tmp/{MARK}deep-upload '
                                           f'"$TARGET_HOST:$TARGET_DIR/chain/{MARK}deep-upload"')
        ok(sender("nas", "lesmateriaal", f'rsync -e "$SSH" /tmp/{MARK}deep-upload '
                                         f'"$TARGET_HOST:$TARGET_DIR/chain/{MARK}deep-upload"'))
        assert refused.returncode != 0 and "denied: quota: a tree deeper than 64 levels" in refused.stderr, \
            refused.stderr
        line_with(journal(t, f"/{MARK}deep-upload'"), DENIED, "quota: a tree deeper than 64 levels",
                  f"/{MARK}deep-upload'")
        stored = on(RECEIVER, f"find {BASE}/fileserver {BASE}/nas -name '{MARK}deep-upload' -printf '%p %u %m\\n'")
        assert stored.split("\n")[:-1] == [f"{BASE}/nas/lesmateriaal/chain/{MARK}deep-upload root 440"], stored
    finally:
        on(RECEIVER, f"rm -rf {deep} || find {deep} -depth -delete; rm -f {' '.join(probes.values())}; "
                     f"find {BASE}/fileserver {BASE}/nas -name '{MARK}deep-upload' -delete")
        for host in ("fileserver", "nas"):
            on(host, f"rm -f /tmp/{MARK}deep-upload")
    assert on(RECEIVER, f"find {BASE} -name '{MARK}*' | wc -l").strip() == "0"
