"""The shopping list: what an inventory still lacks, at whatever stage it is in, all at once.

It is `ivpb validate`'s own list of problems (validate passes when it holds none of them), shown
by `ivpb plan` beside the plan instead of refusing it: a missing UPS feed, NUT server, password,
uplink, target or recipient, and equally a half-filled detail (a feed naming a server not
declared yet). One list item more is not validate's: a site's §5 fire record (measures, safety
plan) is evidence the audit judges (`ivpb.audit.evaluate.fire_record_gaps`), so the list names it
and the audit reports it missing, while validate accepts the inventory without it.

`--limit` keeps the problems of the chosen hosts, the school-wide ones (targets, recipients) and
the fire records of the sites the chosen hosts' data gives a duty.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivpb.audit.evaluate import fire_record_gaps
from ivpb.errors import Problem
from ivpb.i18n import catalogue
from ivpb.inventory import Inventory
from ivpb.plan import Plan, plan_inventory
from ivpb.policy import Policy
from ivpb.validate import _fold, located, problems_per_host


def todo_text(note: str, lang: str) -> str:
    """A Problem.todo note ("key|arg|...": the words of todo.<key>, {0}, {1}... the args) in lang."""
    key, *args = note.split("|")
    text = catalogue(lang).get(f"todo.{key}")
    return text.format(*args) if text else note


@dataclass(frozen=True)
class Item:
    """One line of the shopping list."""

    problem: Problem
    blocks_validate: bool = True  # False: evidence the audit asks for (a §5 fire record)

    def text(self, lang: str) -> str:
        """What is to do, in lang where the check gave a note; else validate's own line."""
        return todo_text(self.problem.todo, lang) if self.problem.todo else self.problem.message


def chosen_problems(problems: list[Problem], inventory: Inventory) -> list[Problem]:
    """The problems --limit keeps (all without it): a host's only when the host is chosen."""
    if inventory.selected is None:
        return problems
    chosen = set(inventory.selected)
    return [p for p in problems if p.subject in chosen or p.subject not in inventory.hosts]


def validation(inventory: Inventory, policy: Policy) -> list[Problem]:
    """`ivpb validate` as --limit scopes it: folded per chosen host, located in the files."""
    return _validation(chosen_problems(problems_per_host(inventory, policy), inventory), inventory)


def _validation(problems: list[Problem], inventory: Inventory) -> list[Problem]:
    return located(_fold(problems, len(inventory.chosen())), inventory)


def fire_problems(inventory: Inventory, plan: Plan) -> list[Problem]:
    """A Problem per gap in the §5 record of each site the plan gives a fire_record duty (of the
    chosen hosts' data with --limit)."""
    chosen = set(inventory.chosen())
    judged = {c.id for c in plan.policy.controls if c.judge == "fire_record"}
    sites = inventory.school("ivpb_sites")
    out = []
    for site, sp in sorted(plan.sites.items()):
        controls = [c for c in sp.controls if c.id in judged]
        if not controls or not (sp.hosts & chosen) or site not in sites:  # an unknown site is validate's
            continue
        record = sites.get(site) if isinstance(sites.get(site), dict) else {}
        for key in fire_record_gaps(record):
            out.append(Problem(f"site {site}", f"ivpb_sites.{site}.fire_protection.{key}",
                               f"{controls[0].id} applies ({controls[0].clause}): {key} not recorded; "
                               "the audit reports it missing", control=controls[0].id,
                               todo=f"fire_measures|{site}" if key == "measures" else f"fire_safety_plan|{site}"))
    return out


@dataclass
class ShoppingList:
    """The items, and per planned control (host, control id, data set) the notes of what it lacks."""

    items: list[Item]
    notes: dict[tuple[str, str, str], list[str]]

    def blocking(self) -> int:
        return sum(item.blocks_validate for item in self.items)

    def mistakes(self) -> list[Problem]:
        """The items that are no piece still missing (no note says what to add) but a value no rule
        accepts: errors for `ivpb plan` too."""
        return [i.problem for i in self.items if not i.problem.todo]


def shopping_list(inventory: Inventory, policy: Policy) -> ShoppingList:
    """Everything still to do, validate's problems first, then the §5 records."""
    plan = plan_inventory(inventory, policy)
    problems = chosen_problems(problems_per_host(inventory, policy), inventory)
    notes: dict[tuple[str, str, str], list[str]] = {}
    for p in problems:
        if p.control and p.todo:
            found = notes.setdefault((p.subject, p.control, p.dataset), [])
            if p.todo not in found:
                found.append(p.todo)
    # a data set stored nowhere is a line of the plan of its own (Plan.stored_nowhere)
    items = [Item(p) for p in _validation([p for p in problems if not p.finding], inventory)]
    items += [Item(p, blocks_validate=False) for p in located(fire_problems(inventory, plan), inventory)]
    return ShoppingList(items, notes)


def shown(plan: Plan, inventory: Inventory) -> tuple[list[str], list[str]]:
    """(hosts, sites) a plan shows: all, or with --limit the chosen hosts and the sites their data
    gives a duty or they stand at."""
    if inventory.selected is None:
        return sorted(plan.hosts), sorted(plan.sites)
    chosen = set(inventory.selected)
    at = {plan.hosts[h].site for h in chosen}
    return sorted(chosen), sorted(s for s, sp in plan.sites.items() if sp.hosts & chosen or s in at)
