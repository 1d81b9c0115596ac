# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The power_backup module's backend: nut_client's and backup_job's enforce in one module run
(one round trip and one Python start per host instead of two; issue #26). Each part records its
changes on a Host of its own, so that each control names only its own part's diffs; the result
is backup_job's at the top (the roles read its ssh_public_key), nut_client's under `power`, the
controls and diffs of both. A part that fails does not stop the other.

Stdlib and ansible.module_utils only (targets run Python 3.11 on Debian bookworm)."""

from __future__ import annotations

from ansible_collections.ivpb.backupbeleid.plugins.module_utils import backup_job, nut_client
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


def enforce(host, p):
    power = _part(host, nut_client.enforce, p["power"]) if p.get("power") else None
    backup = _part(host, backup_job.enforce, p["backup"], f"{p['backup']['hostname']}: ") if p.get("backup") else None
    result, failures = merge(host.want_diff, power, backup)
    if failures:
        raise ModuleFailure("; ".join(failures), **{k: v for k, v in result.items() if k != "msg"})
    return result


def merge(want_diff, power, backup):
    """(one result of both parts, their failure messages)."""
    result = {"changed": False, "controls": []}
    diffs, packages, failures = [], [], []
    for name, part in (("power", power), ("backup", backup)):
        if part is None:
            continue
        res, failure, own = part
        res = dict(res)
        controls = res.pop("controls", None) or []
        res.pop("diff", None)
        if name == "power" and want_diff:  # nut_client's drift is all of its own changes
            paths = [d["before_header"] for d in own.diffs]
            for c in controls:
                if isinstance(c, dict) and c.get("status") == "drift" and "diff_paths" not in c:
                    c["diff_paths"] = paths
        result["controls"] += controls
        result["changed"] = result["changed"] or bool(res.pop("changed", False)) or bool(own.missing_packages)
        packages += own.missing_packages
        diffs += [d for d in own.diffs if d["before_header"] != "packages"]
        if name == "power":
            result["power"] = res
        else:
            result.update(res)
        if failure:
            failures.append(failure)
    if packages:
        result["packages"] = sorted(set(packages))
    if want_diff:
        if packages:  # one "packages" change for the host, which both parts' drift may name
            diffs.insert(0, {"before_header": "packages", "after_header": "packages",
                             "before": "".join(f"{n}: not installed\n" for n in result["packages"]),
                             "after": "".join(f"{n}: installed\n" for n in result["packages"])})
        result["diff"] = diffs
    return result, failures
