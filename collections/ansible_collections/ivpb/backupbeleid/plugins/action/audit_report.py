# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side, last task of the audit playbook: what the hosts reported in the check run
(the roles' registered module results), judged by the same engine as `ivpb audit`, as the
report (returned for set_stats, and written to files)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from ansible.errors import AnsibleError
from ansible_collections.ivpb.backupbeleid.plugins.action.plan import HAS_IVPB
from ansible_collections.ivpb.backupbeleid.plugins.action.plan import ActionModule as PlanAction

try:
    from ivpb.audit.evaluate import RECEIVER_JUDGES, build_report
    from ivpb.audit.results import HostResults, attach_protected, record, settle
    from ivpb.errors import UserError
    from ivpb.inventory import plain
    from ivpb.output import write_file
    from ivpb.plan import plan_inventory
    from ivpb.policy import load_policy
    from ivpb.render.formats import EXTENSIONS, render
    from ivpb.roles import receivers_of
    from ivpb.validate import split_findings, validate
except ImportError:  # pragma: no cover - HAS_IVPB is False: reported as a task failure
    pass


def fold(registered: dict[str, dict[str, object]], removed: set[str]) -> dict[str, HostResults]:
    """Per host, its registered results ({var: result}) folded as `ivpb audit` folds the run's
    events (ivpb.audit.results.record); `removed` are the hosts the run took out of the play
    (unreachable or failed). A host with an unreachable result, or taken out without any failure
    of its own (unreachable in a task that registers nothing), is unreachable, as the run's stats
    (`dark`) would say."""
    results: dict[str, HostResults] = {}
    dark = set()
    for host, by_var in registered.items():
        for var, res in by_var.items():
            if not isinstance(res, dict) or res.get("skipped"):
                continue  # a skipped task did not reach the host
            event = "runner_on_unreachable" if res.get("unreachable") else \
                "runner_on_failed" if res.get("failed") else "runner_on_ok"
            record(results, event, host, res, var)
            if res.get("unreachable"):
                dark.add(host)
    dark |= {h for h in removed if not (h in results and results[h].failures)}
    settle(results, {"dark": dict.fromkeys(dark, 1)})
    return results


class ActionModule(PlanAction):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("policy", "lang", "outputs", "results"))

    def run(self, tmp=None, task_vars=None):
        result = super(PlanAction, self).run(tmp, task_vars)
        if not HAS_IVPB:
            return {**result, "failed": True,
                    "msg": "the ivpb Python package is missing on the controller: "
                           "pip install ivpb (the collection's requirements.txt)"}
        args = self._task.args
        lang = args.get("lang", "nl")
        try:
            outputs = [(Path(o), EXTENSIONS[Path(o).suffix.lower()]) for o in args.get("outputs") or []]
        except KeyError as exc:
            return {**result, "failed": True,
                    "msg": f"outputs: unknown extension {exc.args[0]!r}; expected one of {', '.join(EXTENSIONS)}"}
        try:
            inventory = self._play_inventory(task_vars)
            # The inventory as the plan step read it: without what this run registered since
            # (ivpb_plan, the roles' results), which are no inventory variables.
            registered = task_vars["hostvars"]._variable_manager._nonpersistent_fact_cache
            inventory = dataclasses.replace(
                inventory, sources=tuple(task_vars.get("ansible_inventory_sources") or ()),
                hosts={h: {k: v for k, v in hv.items() if k not in registered.get(h, {})}
                       for h, hv in inventory.hosts.items()})
            policy = load_policy(args.get("policy"))
            problems, _findings = split_findings(validate(inventory, policy))  # findings are results
            if problems:
                return {**result, "failed": True, "msg": "invalid inventory:\n" + "\n".join(p.line() for p in problems)}
            plan = plan_inventory(inventory, policy)
            hostvars = task_vars["hostvars"]
            registered = {host: {var: plain(hostvars[host][var]) for var in args.get("results") or []
                                 if var in hostvars[host]} for host in task_vars["groups"]["all"]}
            removed = set(task_vars["ansible_play_hosts_all"]) - set(task_vars["ansible_play_hosts"])
            results = fold(registered, removed)
            attach_protected(results, {c.id for c in policy.controls if c.judge in RECEIVER_JUDGES},
                             receivers_of(inventory))
            now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            report = build_report(policy, inventory, plan, results, list(task_vars["ansible_play_hosts_all"]),
                                  now, lang)
            for path, fmt in outputs:
                write_file(path, render(report, fmt, lang))
        except UserError as exc:
            return {**result, "failed": True, "msg": "; ".join(exc.lines())}
        except AnsibleError as exc:
            return {**result, "failed": True, "msg": f"cannot read the inventory variables: {exc.message}"}
        return {**result, "changed": False, "report": report, "exit_code": report["exit_code"],
                "outputs": [str(output[0]) for output in outputs]}
