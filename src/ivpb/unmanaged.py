"""Systems ivpb does not manage (`ivpb_managed: false`): which hosts they are, and how each of
their planned controls is met, since nothing ever connects to them.

The policy does not care about the operating system, so such a system is planned exactly like a
managed host (ivpb.plan). Each of its planned results is met by one of:
- "routed": a control the policy enforces on the router (`runs_on: router`), when the system's
  ivpb_internet_via names a managed router: that router reports it, as for any host;
- "pulled": the §2 controls of a system fed by a UPS on a managed NUT server (ivpb_ups_feeds:
  the server knows its clients), a §4 control of a data set a managed proxy host pulls (the
  store's `pull`);
- "attested": a control named in the system's ivpb_attested, judged from `ivpb attest`'s
  statements (ivpb.attest);
or by nothing yet, which `ivpb validate` names (ivpb.checks.unmanaged).
"""

from __future__ import annotations

from typing import Any

from ivpb import resolve
from ivpb.inventory import Inventory, managed
from ivpb.plan import Plan, PlannedControl
from ivpb.policy import Control

ATTESTED, PULLED, ROUTED = "attested", "pulled", "routed"


def unmanaged_hosts(inventory: Inventory) -> list[str]:
    """The systems ivpb does not manage, in inventory order."""
    return [h for h, hv in inventory.hosts.items() if not managed(hv)]


def _store(hostvars: dict[str, Any], dataset: str | None) -> dict[str, Any]:
    return next((s for s in hostvars.get("ivpb_stores") or [] if isinstance(s, dict) and s.get("dataset") == dataset),
                {})


def means(inventory: Inventory, plan: Plan, host: str, planned: PlannedControl) -> str | None:
    """How one planned result of an unmanaged system is met (ROUTED, PULLED, ATTESTED), or None
    when the inventory declares no way yet. Pulled evidence and a managed router come first: an
    attestation is for what neither covers."""
    hostvars = inventory.hosts[host]
    control = plan.policy.control(planned.id)
    if control.routed:
        via = hostvars.get("ivpb_internet_via")
        if via and via != host and managed(inventory.hosts.get(via) or {}):
            return ROUTED
    elif (control.judge == "ups" and hostvars.get("ivpb_ups_feeds")) \
            or (planned.dataset is not None and "pull" in _store(hostvars, planned.dataset)):
        return PULLED
    return ATTESTED if planned.id in (hostvars.get("ivpb_attested") or []) else None


def met_by(inventory: Inventory, plan: Plan, host: str) -> list[tuple[PlannedControl, str | None]]:
    """Each planned result of an unmanaged system with its means (None: not met yet)."""
    return [(c, means(inventory, plan, host, c)) for c in plan.hosts[host].controls]


def reporters(inventory: Inventory, host: str, control: Control, dataset: str | None) -> list[str]:
    """The managed hosts whose modules report this control of the unmanaged `host` (ivpb.audit.pulled
    takes only their word), in the order the inventory declares them: its NUT servers, or the
    backup proxy of the data set; empty when no protocol reaches it (then nothing is pulled)."""
    hv = inventory.hosts[host]
    if control.role == "power":
        return list(dict.fromkeys(f["server"] for f in hv.get("ivpb_ups_feeds") or []))
    if control.role == "backup" and dataset:  # its backup proxy (ivpb_stores[].pull.via)
        store = resolve.find(inventory, host, dataset)
        return [store.sender] if store is not None and store.sender != host else []
    return []
