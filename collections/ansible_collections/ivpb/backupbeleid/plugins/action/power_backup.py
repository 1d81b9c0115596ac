# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of power_backup: with `parts`, the module's `nut_server`, `power` and `backup`
options are built here, in Python, from this host's part of the plan step's result (`ivpb_plan`),
the secrets the inventory keeps for it and the receivers' host keys the play read. A role task that
built them with Jinja templated the plan's data several times per host on the controller, which
cost more than the module run itself (benchmarks/README.md). Without `parts` the options given
are passed on as they are."""

from __future__ import annotations

import base64

from ansible.plugins.action import ActionBase
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import argument_specs

# part -> its clause's tag (the run's --tags choose the parts)
PARTS = {"nut_server": "power", "power": "power", "backup": "backup"}
# nut_client's options the plan step decides; the others may come from the host's ivpb_nut_client
PLANNED_POWER = ("controls", "ups", "mode", "install_packages")


def chosen(part: str, run_tags, skip_tags) -> bool:
    """Whether the part's clause tag (power: §2, backup: §4) was chosen for this run."""
    tag = PARTS[part]
    return bool(set(run_tags or ()) & {"all", "tagged", tag}) and tag not in (skip_tags or ())


def wanted(host: str, plan: dict, parts) -> list[str]:
    """The parts this host's plan gives it, in the order they run: nut_server where the plan put
    it in the NUT server role's group, power where it has power controls, backup where the plan
    put it in the backup role's group."""
    mine = plan.get("inputs", {}).get(host) or {}
    groups = plan.get("roles", {}).get(host) or ()
    has = {"nut_server": "ivpb_nut_server" in groups, "power": bool((mine.get("power") or {}).get("controls")),
           "backup": "ivpb_backup" in groups}
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
    """receiver -> its SSH host key: the one the play's reach printed (reached: receiver -> its
    output lines), else the one the backup role's host_keys task read; a receiver that left the
    play gives none (its senders keep the key they pinned before)."""
    keys = {r["item"]: base64.b64decode(r["content"]).decode("utf-8", "replace").strip()
            for r in slurped or () if isinstance(r, dict) and "content" in r}
    for receiver in receivers:
        said = " ".join(line for line in reached.get(receiver) or () if line.startswith("ssh-")).strip()
        if said and receiver in in_play:
            keys[receiver] = said
    return {r: k for r, k in keys.items() if r in receivers}


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
        result.update(self._execute_module(module_name="ivpb.backupbeleid.power_backup", module_args=args,
                                           task_vars=task_vars))
        return result

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

    def _backup(self, host: str, planned: dict, task_vars: dict) -> dict:
        hostvars = task_vars["hostvars"]
        systems = dict.fromkeys(d["pull"]["for"] for d in planned["datasets"] if d.get("pull"))
        receivers = planned.get("receivers") or []
        reached = {r: (hostvars[r].get("ivpb_reach") or {}).get("stdout_lines") for r in receivers if r in hostvars}
        slurped = (task_vars.get("backup_receiver_host_keys") or {}).get("results")
        return {"hostname": host, "controls": planned["controls"], "datasets": planned["datasets"],
                "pull_passwords": {s: hostvars[s].get("ivpb_pull_password", "") for s in systems},
                "window": self._var(task_vars, "ivpb_backup_window", {}),
                "failure_hook": self._var(task_vars, "ivpb_backup_failure_hook", {}),
                "host_keys": receiver_keys(receivers, reached, slurped, task_vars.get("ansible_play_hosts") or ()),
                "install_packages": self._var(task_vars, "ivpb_install_packages", True)}
