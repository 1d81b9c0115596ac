# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of power_backup: with `parts`, the module's `nut_server`, `power` and `backup`
options are built here, in Python, from this host's part of the plan step's result (`ivpb_plan`),
the secrets the inventory keeps for it and the keys the play read. A role task that built them
with Jinja templated the plan's data several times per host on the controller, which cost more
than the module run itself (benchmarks/README.md). Without `parts` the options given are passed
on as they are.

The part `backup_target` is ivpb.backupbeleid.backup_receiver, run by this action as a module of
its own on a host that receives backups (its payload is not sent to every other host): in the
same task as the senders' parts, so a receiver costs the play no wave of its own. It authorizes
the keys its clients' reach said; a key a sender made in this same run (its first) is authorized
by the backup_target role's task after this one, which is skipped where nothing changed."""

from __future__ import annotations

import base64
import hashlib
import json

from ansible.plugins.action import ActionBase
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import argument_specs, receiver_layout

# part -> its clause's tag (the run's --tags choose the parts)
PARTS = {"nut_server": "power", "power": "power", "backup": "backup", "backup_target": "backup"}
# The result field that names the keys a receiver part was run with (a digest, made here), so
# that the backup_target role's task runs the receiver again only for keys made since.
KEYS_GIVEN = "receiver_keys_sha256"
# the receiver's fields the audit reads at the top of a task's result (ivpb.audit.results.record)
RECEIVER_TOP = ("protected",)
# nut_client's options the plan step decides; the others may come from the host's ivpb_nut_client
PLANNED_POWER = ("controls", "ups", "mode", "install_packages")


def chosen(part: str, run_tags, skip_tags) -> bool:
    """Whether the part's clause tag (power: §2, backup: §4) was chosen for this run."""
    tag = PARTS[part]
    return bool(set(run_tags or ()) & {"all", "tagged", tag}) and tag not in (skip_tags or ())


def wanted(host: str, plan: dict, parts) -> list[str]:
    """The parts this host's plan gives it, in the order they run: nut_server where the plan put
    it in the NUT server role's group, power where it has power controls, backup where the plan
    put it in the backup role's group, backup_target where a backup target is on this host."""
    mine = plan.get("inputs", {}).get(host) or {}
    groups = plan.get("roles", {}).get(host) or ()
    has = {"nut_server": "ivpb_nut_server" in groups, "power": bool((mine.get("power") or {}).get("controls")),
           "backup": "ivpb_backup" in groups, "backup_target": bool((mine.get("backup_target") or {}).get("targets"))}
    return [p for p in PARTS if p in parts and has[p]]


def nut_server_args(server: dict, planned: dict, passwords: dict, install: bool) -> dict:
    """nut_server's options: the host's ivpb_nut_server (its UPSes, where upsd listens, a test
    user with SET), the plan's port and clients, and each client host's NUT password."""
    test_user = server.get("test_user")
    return {"ups": server["ups"], "listen": server.get("listen", ["0.0.0.0"]), "port": planned["port"],
            "clients": planned["clients"], "passwords": passwords,
            "users": [] if test_user is None else [{**test_user, "actions": ["SET"]}], "install_packages": install}


def power_args(planned: dict, password: str, nut_client: dict, install: bool) -> dict:
    """nut_client's options: the plan's UPSes, each with the host's NUT password, and the tuning
    the host's ivpb_nut_client sets."""
    tuning = {k: v for k, v in (nut_client or {}).items() if k in argument_specs.NUT_CLIENT and k not in PLANNED_POWER}
    return {"controls": planned["controls"], "mode": planned["mode"],
            "ups": [{**ups, "password": password} for ups in planned["ups"]], **tuning, "install_packages": install}


def receiver_keys(receivers, reached: dict, slurped: list, in_play) -> dict:
    """receiver -> its SSH host key: the one the play's reach read (reached: receiver -> its
    ivpb_reach.host_key), else the one the backup role's host_keys task read; a receiver that
    left the play gives none (its senders keep the key they pinned before)."""
    keys = {r["item"]: base64.b64decode(r["content"]).decode("utf-8", "replace").strip()
            for r in slurped or () if isinstance(r, dict) and "content" in r}
    for receiver in receivers:
        said = reached.get(receiver)
        if said and isinstance(said, str) and receiver in in_play:
            keys[receiver] = said
    return {r: k for r, k in keys.items() if r in receivers}


def client_keys(clients: dict) -> dict:
    """client -> its public backup key (clients: client -> its hostvars): the one its backup part
    reported in this run (backup_job_result: a key made now), else the one its reach said
    (ivpb_reach.backup_key). A key not of the form a receiver authorizes (root on the client
    chooses what it says) counts as none, as does a client that said nothing: the receiver keeps
    the key it authorized before, and the other clients are not held up by it."""
    keys = {}
    for client, hv in clients.items():
        made = (hv.get("backup_job_result") or {}).get("ssh_public_key")
        for said in (made, (hv.get("ivpb_reach") or {}).get("backup_key")):
            key = " ".join(said.split()) if isinstance(said, str) else ""
            if receiver_layout.CLIENT_KEY_RE.fullmatch(key):
                keys[client] = key
                break
    return keys


def keys_digest(keys: dict) -> str:
    return hashlib.sha256(json.dumps(keys, sort_keys=True).encode()).hexdigest()


def with_receiver(result: dict | None, receiver: dict) -> dict:
    """The task's result on a host that receives backups: the receiver's alone, or, where the
    module parts ran too, theirs with the receiver's under `backup_target`, its `protected` at
    the top (where the audit reads it) and its diff, change and failure added to theirs."""
    if result is None:
        return receiver
    out = dict(result)
    out["backup_target"] = {k: v for k, v in receiver.items()
                            if k not in ("changed", "failed", "msg", "diff", "controls", "invocation", KEYS_GIVEN,
                                         *RECEIVER_TOP) and not k.startswith("_ansible")}
    out.update({k: receiver[k] for k in (KEYS_GIVEN, *RECEIVER_TOP) if k in receiver})
    out["changed"] = bool(result.get("changed")) or bool(receiver.get("changed"))
    if receiver.get("diff"):
        out["diff"] = [*(result.get("diff") or []), *receiver["diff"]]
    if receiver.get("failed"):
        said = [r["msg"] for r in (result, receiver) if r.get("failed") and r.get("msg")]
        out.update(failed=True, msg="; ".join(said) or "failed")
    return out


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = dict(self._task.args)
        parts = args.pop("parts", None)
        if parts is not None:
            unknown = [p for p in parts if p not in PARTS]
            if unknown or args:
                return {**result, "failed": True,
                        "msg": f"power_backup: parts takes {', '.join(PARTS)} and no other option; got "
                               f"{', '.join(map(str, unknown + list(args)))}"}
            host = task_vars["inventory_hostname"]
            plan = task_vars.get("ivpb_plan")
            if not isinstance(plan, dict) or "inputs" not in plan:
                return {**result, "failed": True,
                        "msg": "power_backup: parts needs the plan step's result registered as ivpb_plan "
                               "(ivpb.backupbeleid.plan, run once before this task)"}
            run = [p for p in wanted(host, plan, parts)
                   if chosen(p, task_vars.get("ansible_run_tags"), task_vars.get("ansible_skip_tags"))]
            if not run:
                return {**result, "changed": False, "skipped": True,
                        "skip_reason": "the host's plan has no part of this task for the tags chosen"}
            args = {part: getattr(self, f"_{part}")(host, plan["inputs"][host][part], task_vars) for part in run}
            receiver = args.pop("backup_target", None)
            if receiver is not None:
                return self._with_receiver(result, args, receiver, task_vars)
        result.update(self._execute_module(module_name="ivpb.backupbeleid.power_backup", module_args=args,
                                           task_vars=task_vars))
        return result

    def _with_receiver(self, result: dict, args: dict, receiver: dict, task_vars: dict) -> dict:
        """The module parts (if any), then the receiver's module, with the keys its clients said."""
        given = keys_digest(receiver["keys"])
        if not args and (task_vars.get("backup_job_result") or {}).get(KEYS_GIVEN) == given:
            return {**result, "changed": False, "skipped": True,
                    "skip_reason": "the receiver ran in this play with these keys (no client made a new one)"}
        first = None
        if args:
            first = self._execute_module(module_name="ivpb.backupbeleid.power_backup", module_args=args,
                                         task_vars=task_vars)
            if first.get("unreachable"):
                return {**result, **first}
        own = self._execute_module(module_name="ivpb.backupbeleid.backup_receiver", module_args=receiver,
                                   task_vars=task_vars)
        if own.get("unreachable"):
            return {**result, **own}
        return {**result, **with_receiver(first, {**own, KEYS_GIVEN: given})}

    def _var(self, task_vars: dict, name: str, default):
        """A variable of this host, templated (it may name a vaulted or templated value)."""
        return self._templar.template(task_vars[name]) if name in task_vars else default

    def _nut_server(self, host: str, planned: dict, task_vars: dict) -> dict:
        hostvars = task_vars["hostvars"]
        clients = dict.fromkeys(c["host"] for c in planned["clients"])
        return nut_server_args(self._var(task_vars, "ivpb_nut_server", {}), planned,
                               {c: hostvars[c].get("ivpb_nut_password", "") for c in clients},
                               self._var(task_vars, "ivpb_install_packages", True))

    def _power(self, host: str, planned: dict, task_vars: dict) -> dict:
        return power_args(planned, self._var(task_vars, "ivpb_nut_password", ""),
                          self._var(task_vars, "ivpb_nut_client", {}),
                          self._var(task_vars, "ivpb_install_packages", True))

    def _backup_target(self, host: str, planned: dict, task_vars: dict) -> dict:
        hostvars = task_vars["hostvars"]
        clients = dict.fromkeys(c["client"] for c in planned["clients"])
        args = {"hostname": host, "targets": planned["targets"], "clients": planned["clients"],
                "keys": client_keys({c: hostvars[c] for c in clients if c in hostvars}),
                "install_packages": self._var(task_vars, "ivpb_install_packages", True)}
        legacy = self._var(task_vars, "backup_target_legacy_user", None)  # else the module's default
        return args if legacy is None else {**args, "legacy_user": legacy}

    def _backup(self, host: str, planned: dict, task_vars: dict) -> dict:
        hostvars = task_vars["hostvars"]
        systems = dict.fromkeys(d["pull"]["for"] for d in planned["datasets"] if d.get("pull"))
        receivers = planned.get("receivers") or []
        reached = {r: (hostvars[r].get("ivpb_reach") or {}).get("host_key") for r in receivers if r in hostvars}
        slurped = (task_vars.get("backup_receiver_host_keys") or {}).get("results")
        return {"hostname": host, "controls": planned["controls"], "datasets": planned["datasets"],
                "pull_passwords": {s: hostvars[s].get("ivpb_pull_password", "") for s in systems},
                "window": self._var(task_vars, "ivpb_backup_window", {}),
                "failure_hook": self._var(task_vars, "ivpb_backup_failure_hook", {}),
                "host_keys": receiver_keys(receivers, reached, slurped, task_vars.get("ansible_play_hosts") or ()),
                "install_packages": self._var(task_vars, "ivpb_install_packages", True)}
