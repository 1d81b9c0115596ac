# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Debian packages a module needs, checked and installed inside the module's own call.

Each task costs a round trip per host (about as much as a whole `ansible -m ping`), so a
separate apt task per role would double the cost of an audit. Instead every enforcing module
reads dpkg's status file (a few milliseconds), reports missing packages as drift in check
mode, and installs them with apt-get before it configures anything otherwise.

Stdlib only (targets run Python 3.11 on Debian bookworm)."""

from __future__ import annotations

from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import ModuleFailure

DPKG_STATUS = "/var/lib/dpkg/status"
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
# apt-get waits for a running unattended-upgrades instead of failing at once.
APT_INSTALL = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=300"]


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


def _apt(host, args):
    return host.run(args, env=APT_ENV)


def install(host, names):
    """apt-get install names; refresh the package lists once when a name is unknown to them."""
    rc, out, err = _apt(host, [*APT_INSTALL, *names])
    if rc == 127:
        raise ModuleFailure(f"needs the Debian packages {', '.join(names)} and this host has no apt-get")
    if rc != 0:
        update = _apt(host, ["apt-get", "update", "-q"])
        rc, out, err = _apt(host, [*APT_INSTALL, *names]) if update[0] == 0 else update
    if rc != 0:
        last = (err.strip() or out.strip()).splitlines()[-1:] or ["no output"]
        raise ModuleFailure(f"apt-get could not install {', '.join(names)}: {last[0]}")


def ensure(host, names):
    """The packages of names that are missing, installed unless in check mode: one more change
    of the call ("packages", with its diff). Returns (missing, diff entry or None).
    dpkg's status file is read under the host's root, like every other path of the host."""
    missing = sorted(set(names) - installed(names, host.path(DPKG_STATUS)))
    diff = None
    if missing and host.want_diff:
        diff = {"before_header": "packages", "after_header": "packages",
                "before": "".join(f"{n}: not installed\n" for n in missing),
                "after": "".join(f"{n}: installed\n" for n in missing)}
    if missing:
        host.changed.append("packages")
        host.diffs.extend([diff] if diff else [])
        host.missing_packages = missing
    if missing and not host.check_mode:
        install(host, missing)
    return missing, diff


def for_params(host, params, names):
    """ensure() unless the module's install_packages is false."""
    if params.get("install_packages", True):
        ensure(host, names)
