"""Cross-references of pulled backups (#23): a data set on a system ivpb does not manage, pulled by
a managed Debian host (its backup proxy, `ivpb_stores[].pull.via`) into that host's backup jobs.

- (a `pull` on a managed host is refused by checks.unmanaged);
- `via` names a managed inventory host other than the system itself;
- ivpb_pull_password (the system's account for its proxy) is one line of printable text, never
  shown in a message, and each pull names the user it belongs to;
- an sftp:// pull names the account and pins the server's host key (host_key);
- the source's server and port are what the proxy's backup_job accepts (its own check_pull_source:
  the schema's pattern alone lets a server such as '-x' or 'a..b', or port 0, through);
- a data set whose classification asks for a continuous offsite sync cannot be pulled: a sync
  follows changes where they are made, which only the system itself sees.
"""

from __future__ import annotations

from collections.abc import Iterator

from ivpb.errors import Problem
from ivpb.rules import input_rules, module_utils
from ivpb.unmanaged import managed


def check(ctx) -> Iterator[Problem]:
    inv = ctx.inventory
    duty_of = ctx.policy.duties("backup_job")
    for host, hv in inv.hosts.items():
        if "ivpb_pull_password" in hv:
            try:
                input_rules.pull_secret(hv["ivpb_pull_password"], "ivpb_pull_password")
            except ValueError as e:
                yield Problem(host, "ivpb_pull_password", str(e).removeprefix("ivpb_pull_password: "))
        synced = {c.dataset for c in ctx.plan.hosts[host].controls if duty_of.get(c.id) == "offsite_sync"}
        for i, entry in enumerate(hv.get("ivpb_stores") or []):
            pull = entry.get("pull")
            if not isinstance(pull, dict):
                continue
            path = f"ivpb_stores[{i}].pull"
            if managed(hv):  # refused there by checks.unmanaged
                continue
            via = pull.get("via")
            if via == host or via not in inv.hosts:
                yield Problem(host, f"{path}.via", f"{via!r} is not another host of the inventory; expected the "
                                                   "managed Debian host that pulls this data set (its backup proxy)")
            elif not managed(inv.hosts[via]):
                yield Problem(host, f"{path}.via", f"{via!r} is not managed by ivpb (ivpb_managed: false); "
                                                   "expected a managed Debian host")
            try:
                module_utils("backup_job").check_pull_source(pull.get("source"), f"{path}.source")
            except ValueError as e:
                yield Problem(host, f"{path}.source", str(e).removeprefix(f"{path}.source: "))
            sftp = str(pull.get("source") or "").startswith("sftp://")
            if sftp and not pull.get("user"):
                yield Problem(host, f"{path}.user", "required for an sftp:// source: the account the proxy logs in as")
            elif "ivpb_pull_password" in hv and not pull.get("user"):
                yield Problem(host, f"{path}.user", "required with ivpb_pull_password: the account it is for")
            if sftp and not pull.get("host_key"):
                yield Problem(host, f"{path}.host_key", "required for an sftp:// source: the server's SSH host "
                                                        "public key ('ssh-ed25519 AAAA...'), pinned in the proxy's "
                                                        "known_hosts")
            if entry["dataset"] in synced:
                yield Problem(host, f"ivpb_stores[{i}].sync_target",
                              "a pulled data set cannot be synced continuously (only the system itself sees its "
                              "changes); keep it on a managed host, or sync it with the system's own tool and "
                              "attest that")
