# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Debian packages a module needs, checked and installed inside the module's own call.

Each task costs a round trip per host (about as much as a whole `ansible -m ping`), so a
separate apt task per role would double the cost of an audit. Instead every enforcing module
reads dpkg's status file (a few milliseconds), reports missing packages as drift in check
mode, and installs them with apt-get before it configures anything otherwise.

Stdlib only (targets run Python 3.11 on Debian bookworm)."""

from __future__ import annotations

import os
import shutil
import subprocess

DPKG_STATUS = "/var/lib/dpkg/status"
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
# apt-get waits for a running unattended-upgrades instead of failing at once.
APT_INSTALL = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=300"]


class PackageError(Exception):
    """apt-get could not install what a module needs; the message says which and why."""


def installed(names, status_path=DPKG_STATUS):
    """The subset of names that dpkg has in state 'install ok installed'."""
    wanted = set(names)
    found = set()
    try:
        with open(status_path, encoding="utf-8", errors="replace") as f:
            package = None
            for line in f:
                if line.startswith("Package: "):
                    package = line[9:].strip()
                elif line.startswith("Status: ") and package in wanted and line.split()[-1] == "installed":
                    found.add(package)
    except FileNotFoundError:
        pass
    return found


def _apt(args):
    env = {**os.environ, **APT_ENV}
    return subprocess.run(args, capture_output=True, text=True, env=env, check=False)


def install(names):
    """apt-get install names; refresh the package lists once when a name is unknown to them."""
    if shutil.which("apt-get") is None:
        raise PackageError(f"needs the Debian packages {', '.join(names)} and this host has no apt-get")
    r = _apt([*APT_INSTALL, *names])
    if r.returncode != 0:
        update = _apt(["apt-get", "update", "-q"])
        r = _apt([*APT_INSTALL, *names]) if update.returncode == 0 else update
    if r.returncode != 0:
        last = (r.stderr.strip() or r.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise PackageError(f"apt-get could not install {', '.join(names)}: {last[0]}")


def ensure(names, check_mode, want_diff, status_path=DPKG_STATUS):
    """Returns (missing packages, diff entry or None); installs them unless in check mode."""
    missing = sorted(set(names) - installed(names, status_path))
    diff = None
    if missing and want_diff:
        diff = {"before_header": "packages", "after_header": "packages",
                "before": "".join(f"{n}: not installed\n" for n in missing),
                "after": "".join(f"{n}: installed\n" for n in missing)}
    if missing and not check_mode:
        install(missing)
    return missing, diff


def into_files(files, names):
    """ensure() for a backend that collects its changes in a backup_files.Files: missing packages
    are one more change, "packages", with their diff entry."""
    missing, diff = ensure(names, files.check_mode, files.want_diff)
    if missing:
        files.changed.append("packages")
        files.diffs.extend([diff] if diff else [])


def for_module(module, names):
    """For a module entry point: ensure names unless install_packages is false. Returns
    (missing, diff entry or None); a failed install ends the module with one line."""
    if not module.params.get("install_packages", True):
        return [], None
    try:
        return ensure(names, module.check_mode, module._diff)
    except PackageError as e:
        module.fail_json(msg=str(e))


def merge(result, missing, diff):
    """Count installed (or, in check mode, missing) packages as a change of the call's result."""
    if missing:
        result["changed"] = True
        result["packages"] = missing
        if diff:
            before = result.get("diff") or []
            result["diff"] = [diff, *(before if isinstance(before, list) else [before])]
    return result
