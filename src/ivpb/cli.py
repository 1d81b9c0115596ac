"""The `ivpb` command: validate, plan (and audit) an inventory against the policy."""

from __future__ import annotations

import argparse
import json
import sys

from ivpb.errors import UserError
from ivpb.i18n import LANGS


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-i", "--inventory", action="append", required=True, metavar="INVENTORY",
                        help="inventory source (repeatable, as with ansible-playbook)")
    parser.add_argument("--policy", metavar="FILE",
                        help="a policy file of the school's own (default: the shipped Backupbeleid)")
    parser.add_argument("--vault-password-file", metavar="FILE", help="to decrypt vaulted variables")
    parser.add_argument("--limit", "-l", metavar="PATTERN", help="only these hosts")
    parser.add_argument("--lang", choices=LANGS, default="nl", help="report language (default nl)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ivpb", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help="check the inventory against the schema and the policy")
    _common(p)
    p = sub.add_parser("plan", help="each host's classification and the controls it must have")
    _common(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    return parser


def _load(args):
    from ivpb.inventory import load_inventory
    from ivpb.policy import load_policy

    policy = load_policy(args.policy)
    inventory = load_inventory(args.inventory, args.vault_password_file, args.limit)
    return policy, inventory


def _validated(args):
    from ivpb.validate import validate

    policy, inventory = _load(args)
    problems = validate(inventory, policy)
    if problems:
        raise UserError("invalid inventory", problems)
    return policy, inventory


def cmd_validate(args) -> int:
    _, inventory = _validated(args)
    print(f"OK: {len(inventory.hosts)} hosts valid against the policy")
    return 0


def cmd_plan(args) -> int:
    from ivpb.plan import plan_inventory
    from ivpb.render.plan_table import render_plan_table

    policy, inventory = _validated(args)
    plan = plan_inventory(inventory, policy, args.lang)
    if args.format == "json":
        json.dump(plan.as_dict(), sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print(render_plan_table(plan, args.lang))
    return 0


COMMANDS = {"validate": cmd_validate, "plan": cmd_plan}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UserError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into head or less that quit early
        return 0


if __name__ == "__main__":
    sys.exit(main())
