"""The `ivpb` command: validate, plan (and audit) an inventory against the policy."""

from __future__ import annotations

import argparse
import importlib
import sys

from ivpb import vault
from ivpb.errors import UsageError, UserError
from ivpb.i18n import LANGS
from ivpb.output import write_file
from ivpb.render.formats import EXTENSIONS, FORMATS, render

EXIT_USAGE = 64  # EX_USAGE (sysexits.h): 2 is the audit's "drift"

AUDIT_EXIT_CODES = """exit codes:
  0   compliant: every control compliant, waived or not applicable
  1   errors: a control could not be checked (host unreachable, check failed), or bad input
  2   drift: a control in drift or missing (advisory controls excepted), no errors
  64  usage error: a misspelt or missing option (no inventory given)
  130 interrupted (Ctrl-C)"""


class Parser(argparse.ArgumentParser):
    """argparse, with its usage errors on exit code 64 instead of 2, and an unknown option
    reported by the subcommand it was given to (its usage, not the top level's)."""

    commands: dict[str, argparse.ArgumentParser] = {}

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")

    def parse_args(self, args=None, namespace=None):
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:
            self.commands.get(getattr(parsed, "command", None), self).error(
                f"unrecognized arguments: {' '.join(extra)}")
        return parsed


def _inventory(parser: argparse.ArgumentParser) -> None:
    # Not required=True: a forgotten -i gets one line of its own (main), with no default inventory
    # behind it (ansible.cfg names none, so no command ever runs on the example school by mistake).
    parser.add_argument(
        "-i",
        "--inventory",
        action="append",
        default=[],
        metavar="INVENTORY",
        help="inventory source (repeatable, as with ansible-playbook; there is no default)",
    )
    vault.add_options(parser)


def _common(parser: argparse.ArgumentParser) -> None:
    _inventory(parser)
    parser.add_argument(
        "--policy", metavar="FILE", help="a policy file of the school's own (default: the shipped Backupbeleid)"
    )
    parser.add_argument("--limit", "-l", metavar="PATTERN", help="only these hosts")
    parser.add_argument("--lang", choices=LANGS, default="nl", help="report language (default nl)")


def version() -> str:
    """One source: pyproject's version, as the installed package's metadata has it."""
    from importlib import metadata

    return f"ivpb {metadata.version('ivpb')}"


class _Version(argparse.Action):
    """--version, reading the package metadata only when asked (it costs every other command a
    scan of the installed distributions)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0,
                         help=help or "show the program's version number and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        print(version())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="ivpb", description=__doc__)
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help="check the inventory against the schema and the policy")
    _common(p)
    p = sub.add_parser("plan", help="each host's classification and the controls it must have")
    _common(p)
    p.add_argument("--format", choices=("table", "json", "markdown", "html"), default="table")
    p = sub.add_parser("audit", help="the compliance diff: check every host against every control, change nothing",
                       epilog=AUDIT_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(p)
    p.add_argument("--format", choices=FORMATS, default="table", help="what to print on standard output")
    p.add_argument(
        "--output",
        "-o",
        action="append",
        default=[],
        metavar="FILE",
        help="also write the report to FILE, format by extension: .json, .xml (JUnit), .md, .html, .txt, "
        ".prom (Prometheus metrics) (repeatable)",
    )
    p.add_argument("--project", metavar="DIR", help="directory with playbooks/enforce.yml (default: found from cwd)")
    p.add_argument("--from-artifacts", metavar="DIR", help="render the report an audit job (ivpb.backupbeleid.audit) "
                   "left in this ansible-runner artifacts folder (or a JSON report), without -i; no host is asked")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    history = p.add_mutually_exclusive_group()
    history.add_argument("--history", metavar="PATH", help="record the audit in this history file "
                         "(default: history.sqlite in the inventory's .evidence folder)")
    history.add_argument("--no-history", action="store_true", help="do not record the audit")
    p.add_argument(  # one more output (-o), named as node_exporter's textfile collector reads it
        "--metrics", action="append", dest="output", type=_prom_file, metavar="FILE.prom",
        help="also write the report as Prometheus metrics to FILE.prom, for node_exporter's textfile collector",
    )
    _restore_parsers(sub)
    _history_parsers(sub)
    _attest_parser(sub)
    _fleet_parser(sub)
    parser.commands = sub.choices
    return parser


def _prom_file(name: str) -> str:
    if not name.lower().endswith(".prom"):
        raise argparse.ArgumentTypeError(f"{name}: expected a file name ending in .prom (what node_exporter reads)")
    return name


def _restore_parsers(sub) -> None:
    """ivpb restore and ivpb herstelplan (issue #16; the work is in ivpb.restore, ivpb.herstelplan)."""
    p = sub.add_parser("restore", help="restore one data set of one host and check it against its manifest")
    _inventory(p)
    p.add_argument("--host", required=True, help="the host whose data set is restored")
    p.add_argument("--dataset", required=True)
    p.add_argument("--to", metavar="DIR|HOST:DIR", help="an empty or new directory here, or on an inventory host")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--at", metavar="TIME", help="the newest backup at or before TIME (UTC unless an offset)")
    when.add_argument("--school-year", metavar="YYYY-YYYY", help="the yearly full of that school year")
    p.add_argument("--offsite", action="store_true", help="from the offsite copy (sync_target) instead")
    p.add_argument("--drill", action="store_true", help="restore drill: check, record evidence, remove the data")
    p.add_argument("--sample", metavar="PATH", help="only this path of the data set (relative to its root)")
    p.add_argument("--overwrite-live", action="store_true", help="allow --to HOST:DIR on the data set's live path")
    p.add_argument("--lang", choices=LANGS, default="nl")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    p = sub.add_parser("herstelplan", help="the recovery plan from the inventory and the drill evidence")
    _inventory(p)
    p.add_argument("--policy", metavar="FILE")
    p.add_argument("--limit", "-l", metavar="PATTERN", help="only these hosts")
    p.add_argument("--output", "-o", metavar="FILE.md|FILE.html", help="write to FILE (default: Markdown on stdout)")
    p.add_argument("--lang", choices=LANGS, default="nl")


def _attest_parser(sub) -> None:
    """ivpb attest (issue #23; the work is in ivpb.attest)."""
    from ivpb.frequency import FREQUENCIES

    p = sub.add_parser("attest", help="record the school's statement that a control is met on a system ivpb does "
                       "not manage, with its evidence file")
    _inventory(p)
    p.add_argument("--policy", metavar="FILE")
    p.add_argument("--system", required=True, help="the system (an inventory host with ivpb_managed: false)")
    p.add_argument("--control", required=True, help="the control, one of the system's ivpb_attested")
    p.add_argument("--dataset", help="the data set, for a control of a data set (backup.*)")
    p.add_argument("--statement", required=True, help="what the school states, in its own words")
    p.add_argument("--evidence", required=True, metavar="FILE",
                   help="the evidence file (a report, contract, screenshot): its SHA-256 is recorded")
    p.add_argument("--frequency", required=True, choices=tuple(FREQUENCIES),
                   help="how long the statement holds before it must be made again")
    p.add_argument("--by", help="who makes the statement (default: the login name)")
    p.add_argument("--lang", choices=LANGS, default="nl")


DIFF_EXIT_CODES = """exit codes:
  0   nothing went from in order to not in order
  1   no earlier audit to compare with, or a history that cannot be read
  2   a result went from in order (compliant, waived, n/a) to not (drift, missing, error), advisory ones excepted
  64  usage error: a misspelt or missing option, a --since that is not last, a number or a date"""


def _history_parsers(sub) -> None:
    """ivpb history and ivpb diff (issue #24; the work is in ivpb.history)."""

    def since(value: str) -> str | int:
        from ivpb.history.diff import parse_since

        try:
            return parse_since(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    p = sub.add_parser("history", help="the audits recorded in the inventory's audit history")
    _inventory(p)
    p.add_argument("--history", metavar="PATH", help="the history file (default: the inventory's)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--lang", choices=LANGS, default="nl")
    p = sub.add_parser("diff", help="what went wrong, was fixed and stays open since an earlier audit",
                       epilog=DIFF_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _inventory(p)
    p.add_argument("--history", metavar="PATH", help="the history file (default: the inventory's)")
    p.add_argument("--since", type=since, default="last", metavar="last|DATE|ID",
                   help="the earlier audit: the last one (default), the last at or before DATE, or number ID")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--lang", choices=LANGS, default="nl")


def _fleet_parser(sub) -> None:
    """ivpb fleet (issue #25; the work is in ivpb.fleet)."""
    p = sub.add_parser("fleet", help="the newest audit of each of several schools in one overview",
                       epilog="exit codes: 0 every school in order, 1 a school without audit or with errors, "
                       "2 drift or missing, 64 usage error")
    p.add_argument("-i", "--inventory", action="append", default=[], metavar="SCHOOL",
                   help="a school's inventory, its sources joined by commas; its audit history is read (repeatable)")
    p.add_argument("--report", dest="reports", action="append", default=[], metavar="FILE.json|DIR",
                   help="a school's audit report: a JSON report, or an audit job's runner artifacts (repeatable)")
    p.add_argument("--format", choices=("json", "html"), default="json", help="what to print on standard output")
    p.add_argument("--output", "-o", action="append", default=[], metavar="FILE",
                   help="also write the overview to FILE.json or FILE.html (repeatable)")
    p.add_argument("--lang", choices=LANGS, default="nl")


def cmd_audit(args) -> int:
    import datetime as dt
    from pathlib import Path

    from ivpb.audit.run import CheckRun, find_project

    outputs = []
    for out in args.output:
        fmt = EXTENSIONS.get(Path(out).suffix.lower())
        if fmt is None:
            raise UsageError(f"--output {out}: unknown extension; expected one of {', '.join(EXTENSIONS)}")
        if Path(out).is_dir():
            raise UsageError(f"--output {out}: a directory; expected a file name")
        outputs.append((Path(out), fmt))
    if args.from_artifacts:
        return _from_artifacts(args, outputs)
    project = Path(args.project).resolve() if args.project else find_project()

    def check(limit):
        return CheckRun(project, args.inventory, limit, args.vault, progress=None if args.quiet else sys.stderr,
                        policy_file=args.policy)

    # Without --limit the check run starts at once: ansible-playbook starts while the inventory is
    # read and validated here (its plan step validates it again before any host is reached), and
    # an invalid inventory cancels it.
    run = None if args.limit else check(None)
    try:
        # imported once the run is under way: the judge, the history and the planner take a while
        from ivpb.audit.evaluate import RECEIVER_JUDGES, build_report
        from ivpb.audit.results import attach_protected
        from ivpb.history.commands import open_for_audit, record
        from ivpb.plan import plan_inventory
        from ivpb.roles import receivers_of, reporting_hosts

        policy, inventory = _validated(args, findings_are_errors=False)  # the report has them as results
        plan = plan_inventory(inventory, policy)
        store = open_for_audit(args)
    except BaseException:
        if run is not None:
            run.cancel()
        raise
    if not args.quiet:
        print(f"ivpb audit: checking {len(inventory.chosen())} hosts (check mode, nothing is changed)", file=sys.stderr)
    if args.limit:
        # A limited audit also asks the hosts that report on the chosen ones (their routers, their
        # receivers); only the chosen hosts are in the report. Only systems ivpb does not manage
        # chosen: no host to ask (their results are the school's word).
        limit = reporting_hosts(inventory, plan, inventory.chosen())
        run = check(limit) if limit else None
    results = run.results() if run is not None else {}
    # the receivers' word goes to the controls whose judges weigh it, from the client's receivers only
    attach_protected(results, {c.id for c in policy.controls if c.judge in RECEIVER_JUDGES}, receivers_of(inventory))
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    report = build_report(policy, inventory, plan, results, inventory.chosen(), now, args.lang)
    history = record(store, args, report)
    for path, fmt in outputs:
        write_file(path, render(report, fmt, args.lang, history))
        if not args.quiet:
            print(f"ivpb audit: wrote {path}", file=sys.stderr)
    sys.stdout.write(render(report, args.format, args.lang, history))
    return report["exit_code"]


def _from_artifacts(args, outputs) -> int:
    """ivpb audit --from-artifacts DIR: the job's report, rendered as an audit's (issue #25)."""
    from pathlib import Path

    from ivpb.audit.artifacts import read_report

    if args.inventory:
        raise UsageError("ivpb audit: --from-artifacts and -i exclude each other (the report names its inventory)")
    report = read_report(Path(args.from_artifacts))
    for path, fmt in outputs:
        write_file(path, render(report, fmt, args.lang))
    sys.stdout.write(render(report, args.format, args.lang))
    return report["exit_code"]


def _load(args):
    from ivpb.inventory import load_inventory
    from ivpb.policy import load_policy

    policy = load_policy(args.policy)
    inventory = load_inventory(args.inventory, args.vault, args.limit)
    return policy, inventory


def _validated(args, findings_are_errors: bool = True):
    """The policy and the inventory, or UserError with every problem; the audit reports the
    findings (a data set stored nowhere: Problem.finding) as results instead."""
    from ivpb.validate import split_findings, validate

    policy, inventory = _load(args)
    problems = validate(inventory, policy)
    if problems and (findings_are_errors or split_findings(problems)[0]):
        raise UserError("invalid inventory", problems)
    return policy, inventory


def cmd_validate(args) -> int:
    """The whole inventory, or with --limit the problems of those hosts and the school-wide ones
    (ivpb audit --limit and enforce.yml validate the whole inventory: they act on the hosts that
    report on the chosen ones too); then the warnings (a host with ivpb_* variables to which no
    control applies)."""
    from ivpb.shopping import validation
    from ivpb.validate import empty_hosts

    policy, inventory = _load(args)
    problems = validation(inventory, policy)
    if problems:
        raise UserError("invalid inventory", problems)
    for line in empty_hosts(inventory, policy):
        print(line, file=sys.stderr)
    print(f"OK: {len(inventory.chosen())} hosts valid against the policy")
    return 0


def cmd_plan(args) -> int:
    """The plan at any stage of the inventory, with its shopping list: every problem validate
    finds (what is missing and what is half filled in) and the §5 records the audit asks for.
    The plan prints whatever the list holds; validate, enforce.yml and audit stay strict. A
    mistake (a value no rule accepts, rather than a piece still missing) is also an error: its
    line on standard error, exit 1."""
    import datetime as dt

    from ivpb.attest import to_make
    from ivpb.plan import plan_inventory
    from ivpb.shopping import shopping_list, shown

    policy, inventory = _load(args)
    shopping = shopping_list(inventory, policy)
    plan = plan_inventory(inventory, policy)
    hosts, sites = shown(plan, inventory)
    # the school's statements the audit will ask for and the store does not hold (#23)
    to_attest = to_make(inventory, plan, hosts, dt.datetime.now(dt.UTC).replace(microsecond=0), args.lang)
    if args.format == "json":
        from ivpb.render.json_report import render as render_json

        # One write, one line per planned control: json.dump with indent makes millions of small
        # writes through the pure-Python encoder (benchmarks/README.md).
        doc = _with_todo(plan.as_dict(args.lang), shopping, hosts, sites, args.lang)
        sys.stdout.write(render_json({**doc, "to_attest": to_attest}))
    elif args.format in ("markdown", "html"):
        from ivpb.render import plan_doc

        write = plan_doc.render_html if args.format == "html" else plan_doc.render_markdown
        sys.stdout.write(write(plan, args.lang, shopping, hosts, sites, list(args.inventory), to_attest))
    else:
        from ivpb.render.plan_table import render_plan_table

        print(render_plan_table(plan, args.lang, shopping, hosts, sites, to_attest))
    mistakes = shopping.mistakes()
    if mistakes:
        raise UserError("invalid inventory", mistakes)
    if shopping.items:
        print(f"ivpb plan: {len(shopping.items)} thing(s) still to do ({shopping.blocking()} for ivpb validate, "
              "enforce.yml and ivpb audit)", file=sys.stderr)
    return 0


def _with_todo(plan: dict, shopping, hosts: list[str], sites: list[str], lang: str) -> dict:
    """The plan as JSON of the hosts and sites shown; while the shopping list holds anything, each
    control still to configure with its "to_configure" notes, the list ("to_do") and
    "complete": false (a complete inventory's plan is the one enforce.yml registers)."""
    from ivpb.shopping import todo_text

    plan["hosts"] = {h: plan["hosts"][h] for h in hosts}
    plan["sites"] = {s: plan["sites"][s] for s in sites}
    if not shopping.items:
        return plan
    for host, hp in plan["hosts"].items():
        for c in hp["controls"]:
            notes = shopping.notes.get((host, c["id"], c.get("dataset") or ""))
            if notes:
                c["to_configure"] = [todo_text(n, lang) for n in notes]
    plan["to_do"] = [{"subject": i.problem.subject, "variable": i.problem.path, "text": i.text(lang),
                      "blocks_validate": i.blocks_validate, **({"where": i.problem.where} if i.problem.where else {})}
                     for i in shopping.items]
    plan["complete"] = False
    return plan


# The subcommands; "module:function" is imported only when that command runs, so the others do
# not load its code.
COMMANDS = {"validate": cmd_validate, "plan": cmd_plan, "audit": cmd_audit, "restore": "ivpb.restore:main",
            "herstelplan": "ivpb.herstelplan:main", "history": "ivpb.history.commands:cmd_history",
            "diff": "ivpb.history.commands:cmd_diff", "attest": "ivpb.attest:main", "fleet": "ivpb.fleet:main"}


def command_of(name: str):
    command = COMMANDS[name]
    if isinstance(command, str):
        module, function = command.split(":")
        command = getattr(importlib.import_module(module), function)
    return command


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):  # any character can be printed (see encode)
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    try:
        if not args.inventory and not getattr(args, "from_artifacts", None) and not getattr(args, "reports", None):
            raise UsageError(f"ivpb {args.command}: no inventory: pass -i INVENTORY (the school's inventory, "
                             "e.g. -i inventories/<school>)")
        # resolved once: a prompt asks once (ivpb fleet reads no inventory, so it has no vault options)
        args.vault = vault.secrets_of(args) if hasattr(args, "vault_ids") else []
        return command_of(args.command)(args)
    except UserError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, UsageError) else 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into head or less that quit early
        return 0


if __name__ == "__main__":
    sys.exit(main())
