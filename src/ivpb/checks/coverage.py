"""Every classified data set is stored somewhere (ivpb.plan.stored_nowhere): on a managed host or
on a declared system ivpb does not manage. A finding (Problem.finding): `ivpb validate` refuses
it, `ivpb plan` lists it, the audit reports it as a result of its own, the herstelplan names it."""

from __future__ import annotations

from collections.abc import Iterator

from ivpb.errors import Problem

# a data set's place may be a system ivpb does not manage (#23): declared, it is stored there
DECLARED = "(or of the system ivpb does not manage that holds it: ivpb_managed: false)"


def check(ctx) -> Iterator[Problem]:
    inv = ctx.inventory
    for name, users in ctx.plan.stored_nowhere.items():
        if not users:
            yield Problem(f"data set {name}", f"ivpb_datasets.{name}",
                          "classified, but no host stores it (no ivpb_stores entry names it), so none of its "
                          "controls applies anywhere; expected it in the ivpb_stores of the host that holds it "
                          f"{DECLARED}",
                          dataset=name, finding=True)
        for host in users:
            i = inv.hosts[host]["ivpb_uses"].index(name)
            yield Problem(host, f"ivpb_uses[{i}]",
                          f"uses data set {name!r}, but no host stores it (no ivpb_stores entry names it), so "
                          "none of its controls applies anywhere; expected it in the ivpb_stores of the host "
                          f"that holds it {DECLARED}", dataset=name, finding=True)
