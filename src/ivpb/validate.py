"""Validate an inventory: every host's ivpb_* variables against the JSON Schema, then the
cross-references (unknown data set, unknown site, a control that applies but lacks what it
needs). One Problem per mistake, naming host, variable path and what is expected."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import json
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from ivpb import checks
from ivpb.accepted import Accepted
from ivpb.errors import Problem, did_you_mean
from ivpb.inventory import SCHOOL_VARS, Inventory, managed
from ivpb.plan import Plan, plan_inventory
from ivpb.policy import ASPECTS, Policy
from ivpb.rules import WholeValueValidator, input_rules

TYPE_NAMES = {
    "string": "a string",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "integer": "a whole number",
    "number": "a number",
    "null": "nothing",
}
REQUIRED = "required but missing"


@dataclass
class Context:
    """What a cross-reference check sees."""

    inventory: Inventory
    policy: Policy
    plan: Plan


@cache
def vars_schemas() -> dict[str, dict[str, Any]]:
    """One schema per variable, from schemas/vars/<variable>.json: the ivpb_* variables there
    are, every other ivpb_* name is a mistake (scoping_problems)."""
    folder = resources.files("ivpb.schemas").joinpath("vars")
    return {
        entry.name.removesuffix(".json"): json.loads(entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    }


# On a system ivpb does not manage (ivpb_managed: false), a store's path only says where the data
# lives there, in that system's own terms (D:\Secretariaat, a SharePoint library): one line of text.
UNMANAGED_PATH = {"$ref": "#/$defs/rule_text", "minLength": 1,
                  "description": "where the data lives on that system (one line of text)"}


def unmanaged_schemas() -> dict[str, dict[str, Any]]:
    """The variables whose schema differs on a system ivpb does not manage: ivpb_stores, whose
    path is informative there (UNMANAGED_PATH)."""
    stores = copy.deepcopy(vars_schemas()["ivpb_stores"])
    stores["items"]["properties"]["path"] = UNMANAGED_PATH
    return {"ivpb_stores": stores}


def host_schema(policy: Policy) -> dict[str, Any]:
    """The schema of a host's merged ivpb_* variables, with the policy's own level names and the
    collection's field rules (input_rules.SCHEMA_DEFS, referred to as #/$defs/rule_<name>)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": vars_schemas(),
        "$defs": {
            **{f"level_{a}": {"enum": list(policy.ladders[a])} for a in ASPECTS},
            **input_rules.SCHEMA_DEFS,
        },
    }


@cache
def _validator(policy: Policy) -> jsonschema.Draft202012Validator:
    return WholeValueValidator(host_schema(policy), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _path(parts: Iterable[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _describe(error: jsonschema.ValidationError, prefix: list[str]) -> tuple[str, str]:
    """(path, message) in the words a contractor understands."""
    path = _path([*prefix, *error.absolute_path])
    v, inst = error.validator, error.instance
    shown = "the value (not shown)" if error.schema.get("x-secret") else input_rules.shown(inst)
    if v == "type" and error.validator_value == "control":
        return path, error.message
    if v == "enum":
        return path, f"{shown} is not one of {', '.join(map(str, error.validator_value))}"
    if v == "type":
        expected = error.validator_value
        names = [TYPE_NAMES.get(x, x) for x in (expected if isinstance(expected, list) else [expected])]
        return path, f"expected {' or '.join(names)}, got {shown}"
    if v == "required":
        missing = [k for k in error.validator_value if k not in inst]
        return _path([*prefix, *error.absolute_path, missing[0]]), REQUIRED
    if v == "additionalProperties":
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        extra = sorted(set(inst) - set(error.schema.get("properties", {})))
        hint = did_you_mean(extra[0], error.schema.get("properties", {}))
        return _path([*prefix, *error.absolute_path, extra[0]]), f"unknown key{hint} (expected one of: {allowed})"
    if v == "pattern":
        what = error.schema.get("description") or f"a value matching {error.validator_value}"
        return path, f"{shown} is not {what}"
    if v == "propertyNames":
        return path, f"{shown}: names are lower case letters, digits, '-' and '_'"
    if v == "oneOf" and path.startswith("ivpb_backup_targets"):
        return path, "give exactly one of 'host' (an inventory host) or 'site' (a place outside the inventory)"
    if v == "format":
        return path, f"{shown} is not a valid {error.validator_value} (YYYY-MM-DD)"
    if v == "minLength":
        return path, "must not be empty" if error.validator_value == 1 else \
            f"{shown} is too short (at least {error.validator_value} characters)"
    if v == "maxLength":
        what = error.schema.get("description")
        return path, f"{shown} is too long (at most {error.validator_value} characters)" + \
            (f": expected {what}" if what else "")
    if v in ("oneOf", "anyOf"):
        return path, f"{shown}: {error.schema.get('description') or 'not one of the accepted forms'}"
    return path, error.message


def scoping_problems(inventory: Inventory) -> list[Problem]:
    """Every ivpb_* variable that is not one (schemas/vars/ has the names), where it is written;
    every ivpb_* variable written where Ansible gives it to no host (Origins.misplaced): no role
    and no check would read it, so the host it was meant for silently loses its controls; ivpb_*
    variables of a group without hosts; and a variable of the whole school (SCHOOL_VARS) given to
    a host or group, whose mapping would replace the school's for those hosts only. Each is
    named once per file and host or group it is written for; a variable the scan did not see
    written (an INI inventory, extra vars) is named per host."""
    known = vars_schemas()
    origins = inventory.origins
    problems = list(origins.misplaced) if origins else []
    seen: set[str] = set()
    # the groups that hold a host (known when every host's groups are: load_inventory)
    populated = set().union(*origins.groups.values()) \
        if origins and all(h in origins.groups for h in inventory.hosts) else None
    for (kind, name), variables in sorted(origins.files.items()) if origins else ():
        if kind == "group" and populated is not None and name not in populated and variables:
            first = sorted(variables)[0]
            problems.append(Problem(f"group {name}", first, "group without hosts, so its ivpb_* variables apply to "
                                    "nothing; expected the hosts it was meant for under it (hosts: or children:)",
                                    where=origins.position((kind, name), first)))
        for variable in sorted(variables):
            if variable not in known:
                seen.add(variable)
                problems.append(Problem(f"{kind} {name}", variable, _unknown(variable, known),
                                        where=origins.position((kind, name), variable)))
            elif variable in SCHOOL_VARS and (kind, name) != ("group", "all"):
                problems.append(Problem(
                    f"{kind} {name}", variable,
                    f"describes the whole school, but is written for {kind} {name}: Ansible gives "
                    f"{'this host' if kind == 'host' else 'its hosts'} this mapping instead of the school's (it "
                    "replaces, it does not merge); expected it in group_vars/all (or all: vars:)",
                    where=origins.position((kind, name), variable)))
    for host, hostvars in inventory.hosts.items():
        for variable in hostvars:
            if variable not in known and variable not in seen:
                problems.append(Problem(host, variable, _unknown(variable, known)))
    return problems


def _unknown(variable: str, known) -> str:
    hint = did_you_mean(variable, known)
    if hint:
        return f"unknown variable, which no role or check reads{hint}"
    return f"unknown variable, which no role or check reads; expected one of: {', '.join(sorted(known))}"


def schema_problems(inventory: Inventory, policy: Policy) -> list[Problem]:
    """Each variable is validated once per distinct value (jsonschema is the slow part; numbers in
    benchmarks/README.md): hosts whose values are equal (the same stores on every host of a
    federation) share a verdict by the value's JSON text, and a value that is the very object the
    previous host had (group_vars/all, shared by every host) is not even encoded again."""
    validator = _validator(policy)
    schemas = validator.schema["properties"]
    by_name = {
        name: validator.evolve(schema={"$defs": validator.schema["$defs"], **schema})
        for name, schema in schemas.items()
    }
    unmanaged = {  # "@": no variable's name, so their verdicts are cached apart
        f"{name}@unmanaged": validator.evolve(schema={"$defs": validator.schema["$defs"], **schema})
        for name, schema in unmanaged_schemas().items()
    }
    by_text: dict[tuple[str, str], list[tuple[str, str]]] = {}
    last: dict[str, tuple[Any, list[tuple[str, str]]]] = {}  # name -> (the previous host's value, its verdict)
    problems = []
    for host, hostvars in inventory.hosts.items():
        own = not managed(hostvars)
        for name, value in hostvars.items():
            if name not in schemas:
                continue
            key = f"{name}@unmanaged" if own and f"{name}@unmanaged" in unmanaged else name
            previous = last.get(key)
            if previous is not None and previous[0] is value:
                verdict = previous[1]
            else:
                text = (key, json.dumps(value))
                if text not in by_text:
                    by_text[text] = _verdict(unmanaged.get(key) or by_name[name], name, value)
                verdict = by_text[text]
                last[key] = (value, verdict)
            problems.extend(Problem(host, path, message, todo="required" if message == REQUIRED else "")
                            for path, message in verdict)
    return problems


def _verdict(validator: jsonschema.Draft202012Validator, name: str, value: Any) -> list[tuple[str, str]]:
    found: dict[str, str] = {}
    for error in validator.iter_errors(value):
        # For oneOf/anyOf the most specific sub-error says the most.
        best = jsonschema.exceptions.best_match([error]) if error.context else error
        path, message = _describe(best, prefix=[name])
        found.setdefault(path, message)  # one line per value: its first mistake (type, then pattern)
    return list(found.items())


@cache
def _checks() -> tuple[Callable[[Context], Iterable[Problem]], ...]:
    """Every ivpb.checks.<domain>.check; a domain adds its checks by adding a module."""
    found = []
    for info in sorted(pkgutil.iter_modules(checks.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{checks.__name__}.{info.name}")
        if hasattr(module, "check"):
            found.append(module.check)
    return tuple(found)


def _fold(problems: list[Problem], host_count: int) -> list[Problem]:
    """A mistake in group_vars/all shows on every host: say it once, naming the first host."""
    by_key: dict[tuple[str, str, str], list[Problem]] = {}
    for p in problems:
        by_key.setdefault((p.path, p.message, p.where), []).append(p)
    out = []
    for same in by_key.values():
        subjects = sorted({p.subject for p in same})
        if len(subjects) > 1 and len(subjects) == host_count:
            others = host_count - 1
            subject = f"{subjects[0]} (and {others} more host{'s' if others > 1 else ''})"
            out.append(dataclasses.replace(same[0], subject=subject))
        else:
            out.extend({p.subject: p for p in same}.values())
    return sorted(out)


def problems_per_host(inventory: Inventory, policy: Policy) -> list[Problem]:
    """Every problem, one per host it concerns (not folded): the variables' names and places,
    the schema's, then the cross-references'. A detail only half filled in (a required key still
    missing, such as a recipient's public key) hides nothing else: the checks run over the rest
    (ivpb.accepted). A value no rule accepts, or a variable no role reads, is a mistake the
    checks cannot read past: its lines alone."""
    problems = scoping_problems(inventory) + schema_problems(inventory, policy)
    if any(p.message != REQUIRED for p in problems):
        return problems
    view = Accepted(inventory, problems)
    context = Context(view.inventory, policy, plan_inventory(view.inventory, policy))
    for check in _checks():
        problems.extend(p for p in check(context) if not view.follows(p))
    return problems


def validate(inventory: Inventory, policy: Policy) -> list[Problem]:
    """All problems in the inventory; an empty list means it is valid."""
    return located(_fold(problems_per_host(inventory, policy), len(inventory.hosts)), inventory)


def located(problems: list[Problem], inventory: Inventory) -> list[Problem]:
    """Each problem with the file:line:column of its value (Problem.where) when the inventory
    knows where the variable is written; a school-wide subject (a target, a recipient) is found
    through any host."""
    origins = inventory.origins
    if origins is None or not inventory.hosts:
        return problems
    anyone = next(iter(inventory.hosts))
    out = []
    for p in problems:
        if p.where:
            out.append(p)
            continue
        host = p.subject.split(" (and ")[0]
        where = origins.locate(host if host in inventory.hosts else anyone, p.path)
        out.append(dataclasses.replace(p, where=where) if where else p)
    return out


def split_findings(problems: list[Problem]) -> tuple[list[Problem], list[Problem]]:
    """(errors, findings): the findings (Problem.finding: a data set stored on no host) are the
    audit's results and a line of `ivpb plan`, not a reason to refuse enforcing the rest."""
    return [p for p in problems if not p.finding], [p for p in problems if p.finding]


def empty_hosts(inventory: Inventory, policy: Policy) -> list[str]:
    """Warnings: a host given ivpb_* variables of its own (by its host_vars, inline or a group
    other than all) that stores and uses no data set and has no role (no NUT server, backup
    target or router): no control applies to it, which is what a forgotten or misspelt
    ivpb_stores looks like."""
    from ivpb.roles import role_groups

    origins = inventory.origins
    if origins is None:
        return []
    roles = role_groups(inventory, plan_inventory(inventory, policy))
    out = []
    for host, hostvars in inventory.hosts.items():
        if hostvars.get("ivpb_stores") or hostvars.get("ivpb_uses") or roles.get(host):
            continue
        subjects = [("host", host)] + [("group", g) for g in origins.groups.get(host, []) if g != "all"]
        own = next(((s, sorted(origins.files[s])) for s in subjects if origins.files.get(s)), None)
        if own is None:
            continue
        subject, variables = own
        out.append(f"{origins.position(subject, variables[0])}: warning: host {host}: has ivpb_* variables "
                   f"({', '.join(variables)}) but stores and uses no data set (ivpb_stores, ivpb_uses) and has no "
                   "role, so no control of the policy applies to it")
    return out

