"""The inventory as the cross-reference checks see it while details are half filled in.

The checks rely on the schema (a feed has a server, a recipient a key), so a value that still
lacks a required key is left out of what they see: one entry of a mapping variable (a data
set, site, target or recipient), else the whole variable of that host. What they then report
only because the value is left out (an "unknown recipient" whose key is missing, "found 0
uplinks" for a router whose uplink lacks a field) is not reported again: the schema's own line
says what is missing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ivpb.errors import Problem
from ivpb.inventory import Inventory


class Accepted:
    def __init__(self, inventory: Inventory, problems: list[Problem]) -> None:
        # host -> variable -> the refused keys of a mapping (None: the whole variable)
        self.refused: dict[str, dict[str, set[str] | None]] = {}
        for p in problems:
            head, _, rest = p.path.partition(".")
            name, key = head.split("[")[0], rest.split(".")[0].split("[")[0]
            value = inventory.hosts[p.subject].get(name)
            keys = self.refused.setdefault(p.subject, {}).setdefault(name, set())
            if keys is not None and head == name and isinstance(value, dict) and key in value:
                keys.add(key)
            else:
                self.refused[p.subject][name] = None
        self.inventory = self._without(inventory) if problems else inventory

    def _without(self, inventory: Inventory) -> Inventory:
        """A value shared by hosts (group_vars/all) stays one object, as the checks' caches expect."""
        copies: dict[tuple[int, frozenset[str]], Any] = {}
        hosts = {}
        for host, hv in inventory.hosts.items():
            if host not in self.refused:
                hosts[host] = hv
                continue
            hosts[host] = dict(hv)
            for name, keys in self.refused[host].items():
                if keys is None:
                    hosts[host].pop(name, None)
                else:
                    value = hv[name]
                    ident = (id(value), frozenset(keys))
                    if ident not in copies:
                        copies[ident] = {k: v for k, v in value.items() if k not in keys}
                    hosts[host][name] = copies[ident]
        return dataclasses.replace(inventory, hosts=hosts)

    def follows(self, problem: Problem) -> bool:
        """Does a check's problem only follow from a refused value? It names a refused entry
        ('fotos'), or names a refused variable of its own host or of a host it names."""
        for host, variables in self.refused.items():
            for name, keys in variables.items():
                if keys is None:
                    if (name in problem.path or name in problem.message) and \
                            (problem.subject == host or repr(host) in problem.message):
                        return True
                elif any(repr(key) in problem.message for key in keys):
                    return True
        return False
