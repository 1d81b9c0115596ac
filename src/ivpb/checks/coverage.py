"""Every classified data set is stored somewhere (ivpb.plan.stored_nowhere). A finding
(Problem.finding): `ivpb validate` refuses it, `ivpb plan` lists it, the audit reports it as a
result of its own."""

from __future__ import annotations

from collections.abc import Iterator

from ivpb.errors import Problem


def check(ctx) -> Iterator[Problem]:
    inv = ctx.inventory
    for name, users in ctx.plan.stored_nowhere.items():
        if not users:
            yield Problem(f"data set {name}", f"ivpb_datasets.{name}",
                          "classified, but no host stores it (no ivpb_stores entry names it), so none of its "
                          "controls applies anywhere; expected it in the ivpb_stores of the host that holds it",
                          dataset=name, finding=True)
        for host in users:
            i = inv.hosts[host]["ivpb_uses"].index(name)
            yield Problem(host, f"ivpb_uses[{i}]",
                          f"uses data set {name!r}, but no host stores it (no ivpb_stores entry names it), so "
                          "none of its controls applies anywhere; expected it in the ivpb_stores of the host "
                          "that holds it", dataset=name, finding=True)
