# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The power_backup module's backend: nut_server's, nut_client's and backup_job's enforce in one
module run (one round trip and one Python start per host instead of one per module; issue #26).
Each part records its changes on a Host of its own, so that each control names only its own
part's diffs; the result is backup_job's at the top (the roles read its ssh_public_key),
nut_server's under `nut_server`, nut_client's under `power`, the controls and diffs of all. The
parts run in that order (the NUT server before this host's own upsmon); a part that fails does
not stop the others.

Stdlib and ansible.module_utils only (targets run Python 3.11 on Debian bookworm)."""

from __future__ import annotations

from ansible_collections.ivpb.backupbeleid.plugins.module_utils import backup_job, nut_client, nut_server
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import Host, ModuleFailure


def _part(host, enforce, params, prefix=""):
    """(result, failure message or None, the part's own Host) of one backend, as run_module
    would exit or fail with it."""
    own = Host(host.module, run=host._run, root=host.root)
    try:
        return enforce(own, params), None, own
    except ModuleFailure as e:
        return dict(e.result), prefix + str(e), own
    except OSError as e:
        where = f" ({e.filename})" if e.filename else ""
        return {}, f"{prefix}{e.strerror or e}{where}", own


# part -> its backend module (its enforce), in the order they run; the parts whose backend does not
# name its drift's diffs itself
BACKENDS = {"nut_server": nut_server, "power": nut_client, "backup": backup_job}
OWN_DRIFT = ("nut_server", "power")


def enforce(host, p):
    parts = {}
    for name, backend in BACKENDS.items():
        if p.get(name):
            prefix = f"{p['backup']['hostname']}: " if name == "backup" else ""
            parts[name] = _part(host, backend.enforce, p[name], prefix)
    result, failures = merge(host.want_diff, parts)
    if failures:
        raise ModuleFailure("; ".join(failures), **{k: v for k, v in result.items() if k != "msg"})
    return result


def merge(want_diff, parts):
    """(one result of the parts that ran, their failure messages); parts: name -> _part()."""
    result = {"changed": False, "controls": []}
    diffs, packages, failures = [], [], []
    for name, (res, failure, own) in parts.items():
        res = dict(res)
        controls = res.pop("controls", None) or []
        res.pop("diff", None)
        if name in OWN_DRIFT and want_diff:  # the part's drift is all of its own changes
            paths = [d["before_header"] for d in own.diffs]
            for c in controls:
                if isinstance(c, dict) and c.get("status") == "drift" and "diff_paths" not in c:
                    c["diff_paths"] = paths
        result["controls"] += controls
        result["changed"] = result["changed"] or bool(res.pop("changed", False)) or bool(own.missing_packages)
        packages += own.missing_packages
        diffs += [d for d in own.diffs if d["before_header"] != "packages"]
        if name == "backup":
            result.update(res)
        else:
            result[name] = res
        if failure:
            failures.append(failure)
    if packages:
        result["packages"] = sorted(set(packages))
    if want_diff:
        if packages:  # one "packages" change for the host, which every part's drift may name
            diffs.insert(0, {"before_header": "packages", "after_header": "packages",
                             "before": "".join(f"{n}: not installed\n" for n in result["packages"]),
                             "after": "".join(f"{n}: installed\n" for n in result["packages"])})
        result["diff"] = diffs
    return result, failures
