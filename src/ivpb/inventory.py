"""Read an inventory with Ansible's own machinery (group_vars/host_vars precedence, vault)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivpb.errors import UserError

PREFIX = "ivpb_"
# Variables that describe the whole school; defined once in group_vars/all.
SCHOOL_VARS = ("ivpb_datasets", "ivpb_sites", "ivpb_backup_targets")


@dataclass
class Inventory:
    """The ivpb_* variables of every host, templated, decrypted and plain (JSON types only)."""

    hosts: dict[str, dict[str, Any]]
    sources: tuple[str, ...] = ()
    selected: list[str] | None = None  # the hosts --limit chose; None means all

    def chosen(self) -> list[str]:
        return list(self.hosts) if self.selected is None else self.selected

    def school(self, name: str) -> dict[str, Any]:
        """A school-wide mapping (data sets, sites, targets), as the hosts see it."""
        merged: dict[str, Any] = {}
        for hostvars in self.hosts.values():
            value = hostvars.get(name)
            if isinstance(value, Mapping):
                for key, item in value.items():
                    merged.setdefault(key, item)
        return merged


def plain(value: Any) -> Any:
    """Ansible's tagged/lazy values to plain JSON types; dates become ISO strings."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _ansible_env() -> None:
    # An inventory that Ansible cannot parse must be an error here, not a warning and an
    # empty inventory that "validates".
    os.environ.setdefault("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true")
    os.environ.setdefault("ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED", "true")


def load_inventory(
    sources: Iterable[str],
    vault_password_file: str | None = None,
    limit: str | None = None,
) -> Inventory:
    sources = tuple(sources)
    for src in sources:
        if "," not in src and not Path(src).exists():
            raise UserError(f"inventory {src!r} does not exist")
    _ansible_env()
    from ansible.errors import AnsibleError
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    from ansible.utils.display import Display
    from ansible.vars.manager import VariableManager

    # Ansible prints a multi-line warning per inventory plugin that could not parse a source;
    # the user gets our one line instead.
    display = Display()
    display.warning = display.error_as_warning = lambda *a, **k: None
    loader = DataLoader()
    if vault_password_file:
        from ansible.parsing.vault import get_file_vault_secret

        try:
            secret = get_file_vault_secret(filename=vault_password_file, loader=loader)
            secret.load()
        except (AnsibleError, OSError) as exc:
            raise UserError(f"vault password file {vault_password_file!r}: {_first_line(exc)}") from None
        loader.set_vault_secrets([("default", secret)])
        _activate_vault_secrets([("default", secret)])
    try:
        manager = InventoryManager(loader=loader, sources=list(sources))
        variables = VariableManager(loader=loader, inventory=manager)
        hosts: dict[str, dict[str, Any]] = {}
        for host in manager.get_hosts():
            hv = variables.get_vars(host=host, include_hostvars=False)
            templar = Templar(loader=loader, variables=hv)
            hosts[host.name] = {
                k: plain(templar.template(v)) for k, v in hv.items() if k.startswith(PREFIX)
            }
        # The whole inventory is read and validated (a backup target may lie outside --limit);
        # --limit only chooses the hosts to act on and report.
        selected = None
        if limit:
            manager.subset(limit)
            selected = [h.name for h in manager.get_hosts()]
            if not selected:
                raise UserError(f"--limit {limit!r} matches no host of the inventory")
    except AnsibleError as exc:
        raise UserError(f"inventory: {_first_line(exc)}") from None
    if not hosts:
        raise UserError(f"inventory {', '.join(sources)}: no hosts found")
    return Inventory(hosts=hosts, sources=sources, selected=selected)


def _activate_vault_secrets(secrets) -> None:
    """ansible-core 2.19 decrypts lazily, through a process-wide context that its own CLI sets up."""
    try:
        from ansible.parsing.vault import VaultSecretsContext
    except ImportError:  # ansible-core < 2.19 decrypts through the loader alone
        return
    if VaultSecretsContext._current is None:
        VaultSecretsContext.initialize(VaultSecretsContext(secrets))
    else:
        VaultSecretsContext._current.secrets = secrets


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
