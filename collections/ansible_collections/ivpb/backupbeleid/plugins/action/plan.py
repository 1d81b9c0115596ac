# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side: validate the whole inventory and plan each host's controls with the same
engine as the `ivpb` CLI, so the playbook and the reports never disagree."""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

try:
    from ivpb.errors import UserError
    from ivpb.inventory import PREFIX, Inventory, from_play, plain
    from ivpb.plan import plan_inventory
    from ivpb.policy import load_policy
    from ivpb.roles import role_groups, role_inputs
    from ivpb.validate import split_findings, validate

    HAS_IVPB = True
except ImportError:  # pragma: no cover - reported as a task failure below
    HAS_IVPB = False


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("policy", "lang"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if not HAS_IVPB:
            return {**result, "failed": True,
                    "msg": "the ivpb Python package is missing on the controller: "
                           "pip install ivpb (or pip install -e . in the repository)"}
        args = self._task.args
        try:
            inventory = self._play_inventory(task_vars)
            policy = load_policy(args.get("policy"))
        except UserError as exc:
            return {**result, "failed": True, "msg": "; ".join(exc.lines())}
        except AnsibleError as exc:
            return {**result, "failed": True, "msg": f"cannot read the inventory variables: {exc.message}"}
        # An unknown or misplaced ivpb_* variable is a problem like any other: no host is changed.
        # A data set stored on no host (a finding) has nothing to enforce: the other hosts are
        # enforced, and the audit (which runs this play in check mode) reports it as a result.
        problems, findings = split_findings(validate(inventory, policy))
        if problems:
            lines = [p.line() for p in problems]
            return {**result, "failed": True, "problems": lines,
                    "msg": "invalid inventory, no host was changed:\n" + "\n".join(lines)}
        if findings:
            result["warnings"] = [p.line() for p in findings]
        plan = plan_inventory(inventory, policy)
        result["plan"] = plan.as_dict(args.get("lang", "nl"))
        result["roles"] = role_groups(inventory, plan)
        result["inputs"] = role_inputs(inventory, plan, result["roles"])
        result["changed"] = False
        return result

    def _play_inventory(self, task_vars) -> Inventory:
        """The ivpb_* variables of every host of the play's inventory (also the audit_report action's)."""
        hostvars = task_vars["hostvars"]
        inventory = from_play(hostvars)  # with where each value is written, for the messages
        if inventory is None:
            hosts = {}
            for name in task_vars["groups"]["all"]:
                hv = hostvars[name]
                hosts[name] = {key: plain(self._templar.template(hv[key])) for key in hv if key.startswith(PREFIX)}
            inventory = Inventory(hosts=hosts)
        return inventory
