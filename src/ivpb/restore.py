"""`ivpb restore`: bring one data set of one host back from its receiver (or its offsite copy),
check it against the manifest the backup job stored beside it, and report the time it took
(measured RTO) and the age of the data (measured RPO). With --drill the result is recorded as
evidence in the inventory (ivpb.drills).

How it reaches the backups (kept simple on purpose):
  1. it connects to the receiver with the inventory's own connection variables (ansible_host,
     ansible_port, ansible_user, ansible_ssh_private_key_file, ansible_ssh_common_args), as
     Ansible would; a user other than root uses `sudo -n` there (the areas are root's);
  2. it lists the data set's directory there and fetches, with rsync over that SSH connection,
     only the files of the one duplicity chain that holds the chosen generation, and the
     generation's manifest, into a temporary directory on this machine;
  3. it checks every fetched volume against the SHA1 in its duplicity manifest (decrypted with
     the secret key of this machine's gpg, GNUPGHOME or ~/.gnupg), so that a tampered volume
     is named before anything is restored, and scans every tar entry of the volumes with the
     restore guard the hosts run (module_utils/restore_guard.py): whoever wrote the volumes
     wrote those SHA1s too, and duplicity writes a file `a/x` through a symbolic link `a`;
  4. it runs duplicity here on the copy (file://), decrypting with that key (a plain data set
     needs no key), into a fresh private folder beside the destination, and compares every
     restored entry, by lstat, with the manifest (type, mode, size, sha256, link target) with
     the manifest program the hosts run (module_utils/backup_manifest.py): a file that changed
     while the backup ran is counted and listed, never a failure and never silently passed;
     the offsite copy has manifests of its own (<ds>/sync-manifests);
  5. only a tree that passed goes into a local directory (--to DIR, renamed into place) or onto
     a host (--to HOST:DIR, rsync over the inventory's connection, no device files or fifos).
The generation is the newest by the time the receiver sealed its manifest (the file's mtime
there); one named after that time is a planted one and never chosen.
The receiver and the data set's host never see the secret key.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import re
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivpb import resolve
from ivpb.errors import UsageError, UserError
from ivpb.i18n import span, t
from ivpb.inventory import Inventory
from ivpb.isotime import iso
from ivpb.resolve import layout
from ivpb.rules import module_utils
from ivpb.vault import Secrets
from ivpb.vault import apply as apply_vault

SET = re.compile(r"^duplicity-(full|inc|full-signatures|new-signatures)\.(\d{8}T\d{6}Z)(?:\.to\.(\d{8}T\d{6}Z))?\.")
GENERATION = re.compile(r"^duplicity-(?:full|inc\.\d{8}T\d{6}Z\.to)\.(\d{8}T\d{6}Z)\.manifest(\.gpg)?$")
SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")
SSH_TIMEOUT = 20
HOST_PROGRAM = module_utils("host_program")  # how the programs the hosts run are shipped
MANIFEST = module_utils("backup_manifest")  # the manifest program the hosts run (issue #16)
GUARD = module_utils("restore_guard")  # the pre-scan of a chain's tar entries the hosts run (issue #22)
# A receiver's clock and the client's may differ a little: a generation may carry a name up to
# this much after the moment the receiver sealed its manifest (its mtime there), never more.
ARRIVAL_SKEW = dt.timedelta(minutes=10)
MAX_LISTED = 5


@dataclass
class Location:
    """Where one data set's backups are: a directory on a receiver."""

    host: str  # the data set's own host
    dataset: str
    source: str  # the live path on that host
    target: str  # the target's name (ivpb_backup_targets)
    receiver: str | None  # the receiver's inventory host; None for a target outside the inventory
    address: str
    port: int | None
    directory: str  # <path>/<client>/<dataset> on the receiver
    offsite: bool = False
    sender: str = ""  # the host whose jobs made the backups: its backup proxy for a pulled data set (#23)

    def where(self) -> str:
        return f"{self.receiver or self.address}:{self.directory}"


@dataclass
class Restored:
    """What a restore did and found; the evidence of a drill."""

    host: str
    dataset: str
    kind: str  # chain | annual | offsite
    generation: dt.datetime
    started: dt.datetime
    finished: dt.datetime | None = None
    receiver: str = ""
    directory: str = ""
    manifest: str | None = None
    files: int = 0
    bytes: int = 0
    encrypted: bool = False
    sample: str | None = None  # only this path of the data set was restored and checked
    problems: list[str] = field(default_factory=list)  # differences from the manifest
    changed: int = 0  # files that changed while the backup ran (their restore may differ)
    changed_paths: list[str] = field(default_factory=list)  # the first few of them
    unchecked: str | None = None  # why there was no manifest to check against

    @property
    def duration(self) -> float:
        return ((self.finished or self.started) - self.started).total_seconds()

    @property
    def data_age(self) -> float:
        return (self.started - self.generation).total_seconds()

    @property
    def ok(self) -> bool:
        return not self.problems and self.manifest is not None


def _stamp_time(stamp: str) -> dt.datetime:
    return dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)


def parse_at(text: str) -> dt.datetime:
    """--at: a date (end of that day, UTC) or a date and time (UTC unless an offset is given)."""
    raw = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            day = dt.date.fromisoformat(raw)
            return dt.datetime.combine(day, dt.time(23, 59, 59), dt.UTC)
        when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        raise UserError(f"--at {text!r}: expected a date (2026-11-29) or a date and time (2026-11-29T22:00)") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def parse_school_year(text: str) -> str:
    m = SCHOOL_YEAR.fullmatch(text.strip())
    if not m or int(m.group(2)) != int(m.group(1)) + 1:
        raise UserError(f"--school-year {text!r}: expected YYYY-YYYY, two consecutive years (2025-2026)")
    return text.strip()


# --- where the backups are -------------------------------------------------------------------


def locate(inventory: Inventory, host: str, dataset: str, offsite: bool = False) -> Location:
    """Where the data set's backups (or, offsite, its synced copy) are: its resolved record."""
    if host not in inventory.hosts:
        raise UserError(f"--host {host!r}: not a host of the inventory")
    stored = resolve.find(inventory, host, dataset)
    if stored is None:
        known = ", ".join(s.dataset for s in resolve.stored(inventory, host)) or "none"
        raise UserError(f"--dataset {dataset!r}: {host} stores no such data set (ivpb_stores: {known})")
    copy = stored.copy(offsite)
    if copy is None:
        what = "sync_target (no offsite copy)" if offsite else "backup_target (or ivpb_backup_target)"
        raise UserError(f"{host}: ivpb_stores {dataset}: no {what}")
    if not copy.defined:
        raise UserError(f"{host}: ivpb_stores {dataset}: unknown target {copy.target!r} (ivpb_backup_targets)")
    # a data set pulled by a backup proxy (#23) lies in the proxy's area (copy.folder), made by its jobs
    return Location(host=host, dataset=dataset, source=stored.path, target=copy.target,
                    receiver=copy.receiver, address=str(copy.address),
                    port=int(copy.port) if copy.port else None, directory=copy.folder, offsite=offsite,
                    sender=stored.sender or host)


# --- the connection --------------------------------------------------------------------------


@dataclass
class Remote:
    """SSH to one host with the inventory's connection variables."""

    name: str
    address: str
    port: int | None
    user: str | None
    key: str | None
    extra: list[str]

    def ssh_argv(self) -> list[str]:
        argv = ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={SSH_TIMEOUT}",
                "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4"]
        if self.port:
            argv += ["-p", str(self.port)]
        if self.key:
            argv += ["-i", self.key]
        return argv + self.extra

    def login(self) -> str:
        return f"{self.user}@{self.address}" if self.user else self.address

    @property
    def sudo(self) -> list[str]:
        return [] if self.user in (None, "root") else ["sudo", "-n"]

    def run(self, argv: list[str], what: str, timeout: int = 600) -> str:
        command = " ".join(shlex.quote(a) for a in [*self.sudo, *argv])
        try:
            proc = subprocess.run([*self.ssh_argv(), self.login(), command], capture_output=True, text=True,
                                  timeout=timeout, check=False, errors="surrogateescape")
        except subprocess.TimeoutExpired:
            raise UserError(f"{self.name}: {what}: no answer within {timeout} s") from None
        if proc.returncode != 0:
            raise UserError(f"{self.name}: {what} failed: {_last(proc.stderr) or f'exit {proc.returncode}'}")
        return proc.stdout

    def rsync_e(self) -> str:
        return " ".join(shlex.quote(a) for a in self.ssh_argv())

    def rsync_path(self) -> list[str]:
        return ["--rsync-path", "sudo -n rsync"] if self.sudo else []


def _last(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def remote_of(sources: tuple[str, ...], host: str, vault: Secrets | None = None) -> Remote:
    """The connection Ansible would use for an inventory host (its ansible_* variables, templated)."""
    from ansible.errors import AnsibleError
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    from ansible.vars.manager import VariableManager

    loader = DataLoader()
    if vault:
        apply_vault(loader, vault)
    try:
        manager = InventoryManager(loader=loader, sources=list(sources))
        h = manager.get_host(host)
        if h is None:
            raise UserError(f"{host}: not in the inventory")
        variables = VariableManager(loader=loader, inventory=manager).get_vars(host=h)
        templar = Templar(loader=loader, variables=variables)

        def var(name: str) -> str | None:
            value = variables.get(name)
            return None if value is None else str(templar.template(value))

        connection = var("ansible_connection") or "ssh"
        if connection not in ("ssh", "smart", "paramiko"):
            raise UserError(f"{host}: ansible_connection {connection!r}: ivpb restore reaches hosts over SSH only")
        extra = shlex.split(var("ansible_ssh_common_args") or "") + shlex.split(var("ansible_ssh_extra_args") or "")
        port = var("ansible_port") or var("ansible_ssh_port")
        key = var("ansible_ssh_private_key_file") or var("ansible_private_key_file")
        return Remote(name=host, address=var("ansible_host") or host, port=int(port) if port else None,
                      user=var("ansible_user") or var("ansible_ssh_user"),
                      key=os.path.expanduser(key) if key else None, extra=extra)
    except AnsibleError as exc:
        raise UserError(f"{host}: connection variables: {str(exc).splitlines()[0]}") from None


def remote_for(loc: Location, sources: tuple[str, ...], vault: Secrets | None) -> Remote:
    if loc.receiver:
        return remote_of(sources, loc.receiver, vault)
    # A target outside the inventory: this machine's own SSH configuration for its address.
    return Remote(name=loc.address, address=loc.address, port=loc.port, user=None, key=None, extra=[])


# --- choosing and fetching ------------------------------------------------------------------


def generations(names: list[str]) -> dict[str, str]:
    """duplicity stamp of each generation (the backup's end time) -> its manifest file name."""
    out = {}
    for n in names:
        m = GENERATION.fullmatch(n)  # fullmatch: '$' would pass a name ending in a newline
        if m:
            out[m.group(1)] = n
    return out


def chain_files(names: list[str], generation: str) -> list[str]:
    """The files of the one chain (a full and the increments after it) holding generation."""
    parsed = [(m.group(2), m.group(1), n) for n in names if (m := SET.match(n))]
    fulls = sorted({start for start, kind, _ in parsed if kind in ("full", "full-signatures")})
    owner = max((f for f in fulls if f <= generation), default=None)
    if owner is None:
        return []
    nxt = min((f for f in fulls if f > owner), default=None)
    return sorted(n for start, _kind, n in parsed if start >= owner and (nxt is None or start < nxt))


def choose(gens: dict[str, str], at: dt.datetime | None, where: str, arrived: dict[str, float] | None = None) -> str:
    """The generation to restore: the newest (at or before `at`) by the time the receiver sealed
    its manifest (`arrived`: file name -> mtime there); a generation named after that time
    (plus ARRIVAL_SKEW) is a planted one and never chosen. Without arrival times, by name."""
    if arrived is not None:
        def sealed(g: str) -> dt.datetime:
            return dt.datetime.fromtimestamp(arrived.get(gens[g], 0), dt.UTC)

        gens = {g: n for g, n in gens.items() if _stamp_time(g) <= sealed(g) + ARRIVAL_SKEW}
    if not gens:
        raise UserError(f"{where}: no backup found" + (" (none dated at or before its arrival)" if arrived else ""))
    older = [g for g in gens if at is None or _stamp_time(g) <= at]
    if not older:
        raise UserError(f"{where}: no backup at or before {iso(at)} (oldest: {iso(_stamp_time(min(gens)))})")
    return max(older, key=lambda g: (arrived.get(gens[g], 0), g)) if arrived is not None else max(older)


def list_dir(remote: Remote, directory: str, missing_ok: bool = False) -> dict[str, float]:
    """The files in a directory on the receiver with their mtimes (the receiver's seal sets a
    file's mtime to its arrival); a missing directory is an error unless missing_ok (the
    manifests of backups made before manifests existed)."""
    test = 'if [ ! -d "$1" ]; then exit 0; fi; ' if missing_ok else ""
    # NUL-separated: a file named with a newline cannot pass for another entry (or its time)
    out = remote.run(["sh", "-c", test + 'find "$1" -maxdepth 1 -type f -printf "%T@ %f\\0"', "sh", directory],
                     f"listing {directory}", timeout=120)
    found = {}
    for line in out.split("\0")[:-1]:
        when, _, name = line.partition(" ")
        try:
            found[name] = float(when)
        except ValueError:
            raise UserError(f"{remote.name}: listing {directory}: unexpected line {line[:80]!r}") from None
    return found


def fetch(remote: Remote, directory: str, names: list[str], into: Path) -> None:
    into.mkdir(parents=True, exist_ok=True)
    listing = into.parent / f".{into.name}.files"
    listing.write_text("".join(f"{n}\0" for n in names))
    argv = ["rsync", "-t", "--from0", "--files-from", str(listing), "-e", remote.rsync_e(), *remote.rsync_path(),
            f"{remote.login()}:{directory}/", f"{into}/"]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, errors="surrogateescape")
    listing.unlink()
    if proc.returncode != 0:
        raise UserError(f"{remote.name}: fetching from {directory} failed: {_last(proc.stderr)}")


# --- checking --------------------------------------------------------------------------------


def gpg_decrypt(path: Path, shown: str) -> bytes:
    proc = subprocess.run(["gpg", "--batch", "--quiet", "--decrypt", str(path)], capture_output=True, check=False)
    if proc.returncode != 0:
        why = _last(proc.stderr.decode("utf-8", "replace"))
        raise UserError(f"{shown}: cannot be decrypted with this machine's keys (tampered, or not for "
                        f"this key): {why}")
    return proc.stdout


def check_volumes(files: Path, names: list[str], shown_dir: str) -> int:
    """Every volume of the fetched chain against the SHA1 in its duplicity manifest; returns the
    number checked. A missing, altered or undecryptable file is named."""
    n = 0
    present = set(names)
    for name in sorted(names):
        m = re.match(r"^(duplicity-(?:full|inc)\..*)\.manifest(\.gpg)?$", name)
        if not m:
            continue
        stem, enc = m.group(1), bool(m.group(2))
        raw = gpg_decrypt(files / name, f"{shown_dir}/{name}") if enc else (files / name).read_bytes()
        volume = None
        for line in raw.decode("utf-8", "replace").splitlines():
            v = re.match(r"^Volume (\d+):", line)
            if v:
                volume = v.group(1)
                continue
            h = re.match(r"^\s*Hash SHA1 ([0-9a-f]{40})", line)
            if h and volume:
                vol = next((x for x in present if x.startswith(f"{stem}.vol{volume}.difftar")), None)
                if vol is None:
                    raise UserError(f"{shown_dir}/{stem}.vol{volume}.difftar*: missing (named in {name})")
                digest = hashlib.sha1(usedforsecurity=False)
                with open(files / vol, "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        digest.update(block)
                if digest.hexdigest() != h.group(1):
                    raise UserError(f"{shown_dir}/{vol}: altered or corrupt (SHA1 differs from {name})")
                n += 1
                volume = None
    return n


def read_manifest(path: Path, shown: str) -> dict[str, Any]:
    raw = gpg_decrypt(path, shown) if path.name.endswith(".gpg") else path.read_bytes()
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise UserError(f"{shown}: not a valid manifest (altered?): {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") not in MANIFEST.FORMATS \
            or not isinstance(doc.get("entries"), list):
        raise UserError(f"{shown}: not an ivpb manifest (format {MANIFEST.FORMAT})")
    return doc


def check_tree(manifest: Path, restored: Path, shown: str, sample: str | None = None) -> dict[str, Any]:
    """A restored tree against its (plaintext) manifest, by the manifest program the hosts run:
    files and bytes that match, problems (lines naming the manifest), files changed during the
    backup."""
    argv = [sys.executable, "-c", HOST_PROGRAM.text(MANIFEST), "check", str(manifest), str(restored)]
    argv += [sample] if sample else []
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, errors="surrogateescape")
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        raise UserError(f"{shown}: cannot be checked: {_last(proc.stderr) or proc.returncode}") from None
    result["problems"] = [p.replace(f"({manifest.name})", f"({shown})") for p in result["problems"]]
    return result


# --- the restore -----------------------------------------------------------------------------


def _empty_or_absent(path: Path) -> None:
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise UserError(f"--to {path}: exists and is not a directory")
    if path.is_dir() and any(path.iterdir()):
        raise UserError(f"--to {path}: not empty; ivpb restore writes only into an empty or new directory")


def parse_sample(text: str) -> str:
    """--sample: a path inside the data set, relative to its root."""
    norm = os.path.normpath(text.strip().lstrip("/")) if text.strip() else ""
    if not norm or norm == "." or norm.startswith("..") or "\0" in norm:
        raise UserError(f"--sample {text!r}: expected a path inside the data set (relative to its root)")
    return norm


def _duplicity(url: str, dest: Path, generation: str, encrypted: bool, cache: Path,
               sample: str | None = None) -> None:
    if shutil.which("duplicity") is None:
        raise UserError("duplicity is not installed on this machine (apt install duplicity)")
    argv = ["duplicity", "restore", "--archive-dir", str(cache), "--name", "ivpb-restore",
            "--time", str(int(_stamp_time(generation).timestamp())), "--verbosity", "warning"]
    env = dict(os.environ, LC_ALL="C", TZ="UTC")
    if os.geteuid() != 0:
        # a failed chown (to the backup's owners) would make duplicity skip the chmod as well;
        # the check compares every mode right after
        argv.append("--ignore-errors")
    if encrypted:
        if "PASSPHRASE" not in env:
            argv.append("--use-agent")
    else:
        argv.append("--no-encryption")
    if sample:
        argv += ["--file-to-restore", sample]
        dest.mkdir(mode=0o700)
        dest = dest / sample
        dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    proc = subprocess.run([*argv, url, str(dest)], capture_output=True, text=True, env=env, check=False,
                          stdin=subprocess.DEVNULL, errors="replace")
    if proc.returncode != 0:
        raise UserError(f"duplicity restore failed: {_last(proc.stderr) or _last(proc.stdout) or proc.returncode}")


def restore(
    inventory: Inventory,
    host: str,
    dataset: str,
    dest: Path,
    *,
    at: dt.datetime | None = None,
    school_year: str | None = None,
    offsite: bool = False,
    sample: str | None = None,
    vault: Secrets | None = None,
    now=None,
    progress=None,
) -> Restored:
    """Restore into dest (an empty or new local directory) and check it against the manifest.
    Returns what was done; a tampered or missing file raises UserError naming it."""
    clock = now or (lambda: dt.datetime.now(dt.UTC))
    say = progress or (lambda _msg: None)
    loc = locate(inventory, host, dataset, offsite)
    _empty_or_absent(dest)
    remote = remote_for(loc, inventory.sources, vault)
    kind = "offsite" if offsite else "annual" if school_year else "chain"
    sub = layout.copy_dir(offsite) if offsite or not school_year else f"{layout.ANNUAL}/{school_year}"
    directory = f"{loc.directory}/{sub}"
    where = f"{remote.name}:{directory}"
    started = clock()
    say(f"{where}: listing")
    listed = list_dir(remote, directory, missing_ok=True)  # none there: "no backup found" names it
    gen = choose(generations(list(listed)), at, where, listed)
    wanted = chain_files(list(listed), gen)
    result = Restored(host=host, dataset=dataset, kind=kind, generation=_stamp_time(gen), started=started,
                      receiver=remote.name, directory=directory, sample=sample)
    with tempfile.TemporaryDirectory(prefix="ivpb-restore-") as tmp:
        work = Path(tmp)
        say(f"{where}: fetching {len(wanted)} file(s) of generation {iso(result.generation)}")
        fetch(remote, directory, wanted, work / "files")
        result.encrypted = any(n.endswith(".gpg") for n in wanted)
        checked = check_volumes(work / "files", wanted, where)
        if not checked:
            raise UserError(f"{where}: no volume of generation {iso(result.generation)} found")
        manifest_doc, manifest_name = None, None
        mdir = f"{loc.directory}/{layout.manifests_dir(offsite)}"
        have = [n for n in list_dir(remote, mdir, missing_ok=True) if n in (f"{gen}.json", f"{gen}.json.gpg")]
        if have:
            manifest_name = sorted(have)[-1]
            fetch(remote, mdir, [manifest_name], work / "manifest")
            shown = f"{remote.name}:{mdir}/{manifest_name}"
            manifest_doc = read_manifest(work / "manifest" / manifest_name, shown)
            if (manifest_doc.get("dataset"), manifest_doc.get("host"), manifest_doc.get("backup_time")) != \
                    (dataset, loc.sender or host, iso(result.generation)):
                raise UserError(f"{shown}: describes {manifest_doc.get('host')}/{manifest_doc.get('dataset')} "
                                f"at {manifest_doc.get('backup_time')}, not this backup (altered?)")
            result.manifest = shown
            if sample and not any(isinstance(e, dict) and not e.get("dir") and (
                    e.get("path") == sample or str(e.get("path", "")).startswith(sample + "/"))
                    for e in manifest_doc["entries"]):
                raise UserError(f"--sample {sample}: not in the manifest {shown}")
            plain = work / "manifest.json"  # decrypted, in this restore's own 0700 directory
            plain.write_text(json.dumps(manifest_doc))
        say(f"{where}: {checked} volume(s) match their duplicity manifests; scanning their entries")
        scanned = scan_chain(work / "files", gen, where)
        say(f"{where}: {scanned}; restoring with duplicity")
        # duplicity writes into a fresh private folder beside dest (same file system: the checked
        # tree is renamed into place, never copied); dest receives only a checked tree
        dest.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{dest.name}.ivpb-restore-", dir=dest.parent))
        try:
            _duplicity(f"file://{work / 'files'}", stage / "data", gen, result.encrypted, work / "cache", sample)
            if manifest_doc is not None:
                found = check_tree(work / "manifest.json", stage / "data", result.manifest or "", sample)
                result.files, result.bytes, result.problems = found["files"], found["bytes"], found["problems"]
                result.changed, result.changed_paths = found["changed"], found["changed_paths"]
            else:
                result.unchecked = f"no manifest for generation {gen} in {mdir} (made before manifests existed)"
                result.problems = unsafe_entries(stage / "data")
            if not result.problems:
                _into(stage / "data", dest)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    result.finished = clock()
    return result


def _into(tree: Path, dest: Path) -> None:
    """The checked tree into dest (absent or an empty folder, checked): renamed into place; where
    dest is a mount point, its entries are moved into it one by one (links stay links)."""
    try:
        os.replace(tree, dest)
    except OSError:
        for child in tree.iterdir():
            shutil.move(child, dest / child.name)


def scan_chain(files: Path, generation: str, where: str) -> str:
    """The pre-scan of the chain's tar entries (module_utils/restore_guard.py) before duplicity
    runs: nothing below a symbolic link, no absolute or '..' path, no hard link, device or fifo.
    It leaves only the sets of `generation` in `files`. Returns its one line."""
    proc = subprocess.run([sys.executable, "-c", HOST_PROGRAM.text(GUARD), "scan", str(files), generation],
                          capture_output=True, text=True, check=False, errors="surrogateescape")
    line = _last(proc.stdout) or _last(proc.stderr) or f"exit {proc.returncode}"
    if proc.returncode != 0:
        raise UserError(f"{where}: generation {iso(_stamp_time(generation))} {line}; nothing was restored")
    return line


def unsafe_entries(root: Path) -> list[str]:
    """A restore without a manifest still never passes a device file, fifo, socket, or a file
    with a setuid or setgid bit on (nothing could have listed them)."""
    found = []
    for folder, dirs, names in os.walk(root):
        for n in dirs + names:
            st = os.lstat(os.path.join(folder, n))
            if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode)) \
                    or (stat.S_ISREG(st.st_mode) and st.st_mode & 0o6000):
                found.append(os.path.relpath(os.path.join(folder, n), root))
    return [f"{len(found)} file(s) refused (device file, fifo, socket, setuid or setgid) without a manifest "
            f"to list them: " + ", ".join(repr(p) for p in sorted(found)[:MAX_LISTED])] if found else []


def push_to_host(sources: tuple[str, ...], vault: Secrets | None, host: str, local: Path, path: str) -> None:
    """Copy a checked restore onto a host: the target path must be absent or empty there. Never a
    device file or fifo (no -D; the check refused them anyway), and no file with a setuid or
    setgid bit, even one the manifest lists: a manifest proves nothing against whoever wrote the
    backup (a hostile receiver can write one, encrypted to the school's public key too), and
    such a file, owned by root through `sudo rsync`, would be its root on the host. A folder
    keeps its setgid bit (a shared folder's group)."""
    remote = remote_of(sources, host, vault)
    state = remote.run(["sh", "-c", 'if [ -e "$1" ] && [ ! -d "$1" ]; then echo file; '
                        'elif [ -d "$1" ] && [ -n "$(ls -A "$1")" ]; then echo full; else echo ok; fi', "sh", path],
                       f"checking {path}", timeout=60).strip()
    if state == "file":
        raise UserError(f"--to {host}:{path}: exists and is not a directory")
    if state == "full":
        raise UserError(f"--to {host}:{path}: not empty; ivpb restore writes only into an empty or new directory")
    remote.run(["mkdir", "-p", path], f"creating {path}", timeout=60)
    argv = ["rsync", "-rlptgo", "--no-devices", "--no-specials", "--chmod=Fug-s", "--numeric-ids",
            "-e", remote.rsync_e(), *remote.rsync_path(), f"{local}/", f"{remote.login()}:{path}/"]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, errors="surrogateescape")
    if proc.returncode != 0:
        raise UserError(f"{host}: copying the restore to {path} failed: {_last(proc.stderr)}")


def overlaps(a: str, b: str) -> bool:
    """One path is the other or inside it."""
    x, y = os.path.normpath(a), os.path.normpath(b)
    return x == y or x.startswith(y.rstrip("/") + "/") or y.startswith(x.rstrip("/") + "/")


def who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"



def summary(r: Restored, dest: str, lang: str = "nl") -> list[str]:
    lines = [
        t("restore.restored", lang, host=r.host, dataset=r.dataset, kind=r.kind, receiver=r.receiver,
          directory=r.directory),
        t("restore.generation", lang, gen=iso(r.generation),
          enc=t("restore.enc" if r.encrypted else "restore.plain", lang)),
        t("restore.to", lang, dest=dest),
    ]
    if r.sample:
        lines.append(t("restore.sample", lang, sample=r.sample))
    if r.manifest and not r.problems:
        lines.append(t("restore.checked", lang, manifest=r.manifest, files=r.files, bytes=r.bytes))
    if r.changed:
        more = ", ..." if r.changed > len(r.changed_paths) else ""
        paths = ", ".join(repr(p) for p in r.changed_paths) + more
        lines.append(t("restore.changed", lang, n=r.changed, paths=paths))
    lines += [f"  {p}" for p in r.problems]
    if r.problems:  # only a tree that passed is moved into place
        lines.append(t("restore.not_written", lang, dest=dest))
    if r.unchecked:
        lines.append(t("restore.unchecked", lang, why=r.unchecked))
    result = "restore.ok" if r.ok else "restore.failed" if r.problems else "restore.restored_unchecked"
    lines += [
        t("restore.rto", lang, d=span(r.duration, lang)),
        t("restore.rpo", lang, d=span(r.data_age, lang), gen=iso(r.generation)),
        t(result, lang),
    ]
    return lines


def confirm_live(dataset: str, where: str, lang: str = "nl") -> None:
    if not sys.stdin.isatty():
        raise UserError(f"--to {where} is the live data of {dataset}: confirmation needs a terminal")
    print(t("restore.live_warning", lang, dataset=dataset, where=where), file=sys.stderr)
    answer = input(t("restore.live_confirm", lang, dataset=dataset) + " ")
    if answer.strip() != dataset:
        raise UserError("not confirmed: nothing was written")


def main(args) -> int:
    """The command (ivpb.cli)."""
    from ivpb import drills
    from ivpb.inventory import load_inventory

    if args.at and args.school_year:
        raise UsageError("--at and --school-year exclude each other")
    if args.offsite and args.school_year:
        raise UsageError("--offsite and --school-year exclude each other (yearly fulls are on the backup target)")
    at = parse_at(args.at) if args.at else None
    sy = parse_school_year(args.school_year) if args.school_year else None
    sample = parse_sample(args.sample) if args.sample else None
    if not args.to and not args.drill:
        raise UsageError("--to DIR (or HOST:DIR) is required, except for a --drill")
    inventory = load_inventory(args.inventory, args.vault)
    loc = locate(inventory, args.host, args.dataset, args.offsite)
    onto = None
    if args.to and ":" in args.to and not args.to.startswith(("/", ".")):
        onto_host, _, onto_path = args.to.partition(":")
        if onto_host not in inventory.hosts or not onto_path.startswith("/"):
            raise UserError(f"--to {args.to}: expected DIR or HOST:/PATH with HOST in the inventory")
        if args.drill:
            raise UserError("--drill restores into a scratch directory on this machine, not onto a host")
        onto = (onto_host, onto_path)
        if onto_host == args.host and loc.source and overlaps(onto_path, loc.source):
            if not args.overwrite_live:
                raise UserError(f"--to {args.to}: the live data of {args.dataset} on {args.host} ({loc.source}); "
                                "add --overwrite-live (and confirm) to restore there")
            confirm_live(args.dataset, args.to, args.lang)
    quiet = getattr(args, "quiet", False)

    def progress(msg: str) -> None:
        if not quiet:
            print(f"ivpb restore: {msg}", file=sys.stderr)

    scratch = None
    if onto or not args.to:
        scratch = Path(tempfile.mkdtemp(prefix="ivpb-restore-data-"))
        dest = scratch / "data"
    else:
        dest = Path(args.to).resolve()
    try:
        try:
            result = restore(inventory, args.host, args.dataset, dest, at=at, school_year=sy, offsite=args.offsite,
                             sample=sample, vault=args.vault, progress=progress)
        except UserError as exc:
            if args.drill:
                path = drills.record_failure(inventory.sources, args.host, args.dataset, str(exc), who())
                print(f"ivpb restore: drill evidence: {path}", file=sys.stderr)
            raise
        shown = args.to or "(scratch)"
        if onto and result.ok:
            progress(f"copying the restore to {args.to}")
            push_to_host(inventory.sources, args.vault, onto[0], dest, onto[1])
        elif onto:  # only a tree checked against its manifest goes onto a host
            why = "did not pass its check" if result.problems else "has no manifest to check it against"
            raise UserError(f"the restore of {args.dataset} {why}; nothing was copied to {args.to}")
        for line in summary(result, shown, args.lang):
            print(line)
        if args.drill:
            path = drills.record(inventory.sources, result, who())
            print(f"ivpb restore: drill evidence: {path}", file=sys.stderr)
            if args.to:
                _clear(dest)
        # A restore that differs from its manifest fails; one without a manifest is restored with a
        # loud warning (after a fire the offsite copy is what there is), but is no passed drill.
        return 0 if result.ok or not (result.problems or args.drill) else 1
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def _clear(path: Path) -> None:
    """A drill leaves its scratch directory empty again (the data may be confidential)."""
    if not path.is_dir():
        return
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)



