"""The engine: from BIV classifications to the controls each host and site must have.

The CLI (`ivpb plan`, `ivpb validate`, `ivpb audit`) and the Ansible side (the action plugin
ivpb.backupbeleid.plan that enforce.yml runs first) both call plan_inventory(), so the
playbook and the reports can never disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ivpb import resolve
from ivpb.i18n import Message, joined, msg
from ivpb.inventory import Inventory, managed
from ivpb.policy import ASPECTS, Control, Policy

MAX_REASONS = 3


class Reasons:
    """Why a control applies: its first MAX_REASONS reasons (Messages, not yet words) and how many
    there are in all. text(lang) writes them ('a; b; c; and 2 more'), once per language: hosts of
    the same shape share them, and the audit writes them for every host."""

    __slots__ = ("messages", "total", "_texts")

    def __init__(self, messages: tuple[Message, ...], total: int | None = None) -> None:
        self.messages = messages
        self.total = len(messages) if total is None else total
        self._texts: dict[str, str] = {}

    def text(self, lang: str = "nl") -> str:
        text = self._texts.get(lang)
        if text is None:
            text = self._texts[lang] = joined(self.messages, lang, self.total)
        return text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reasons) and (self.messages, self.total) == (other.messages, other.total)

    def __hash__(self) -> int:
        return hash((self.messages, self.total))

    def __repr__(self) -> str:
        return f"Reasons({self.messages!r}, {self.total})"


@dataclass(frozen=True, slots=True)  # frozen: hosts of the same shape share their planned controls
class PlannedControl:
    id: str
    clause: str
    because: Reasons
    dataset: str | None = None
    path: str | None = None
    advisory: bool = False

    def as_dict(self, lang: str = "nl") -> dict[str, Any]:
        out = {"id": self.id, "clause": self.clause, "because": self.because.text(lang)}
        if self.dataset is not None:
            out["dataset"] = self.dataset
        if self.path is not None:
            out["path"] = self.path
        if self.advisory:
            out["advisory"] = self.advisory
        return out


@dataclass
class HostPlan:
    site: str | None
    biv: dict[str, str]
    controls: list[PlannedControl] = field(default_factory=list)
    managed: bool = True  # False: ivpb_managed: false, a system nothing connects to (ivpb.unmanaged)

    def control_ids(self) -> set[str]:
        return {c.id for c in self.controls}


@dataclass
class SitePlan:
    controls: list[PlannedControl] = field(default_factory=list)
    hosts: set[str] = field(default_factory=set)  # hosts whose data gives this site its duties


@dataclass
class Plan:
    policy: Policy
    hosts: dict[str, HostPlan]
    sites: dict[str, SitePlan]
    # each classified data set no host stores -> the hosts that use it (stored_nowhere)
    stored_nowhere: dict[str, list[str]] = field(default_factory=dict)

    def duties(self, host: str) -> dict[str, dict[str, str]]:
        """data set -> duty -> control id: what the policy has backup_job do for each of the
        host's data sets (its planned controls' enforced_by.duty)."""
        duty_of = self.policy.duties("backup_job")
        out: dict[str, dict[str, str]] = {}
        for c in self.hosts[host].controls:
            if c.dataset and c.id in duty_of:
                out.setdefault(c.dataset, {})[duty_of[c.id]] = c.id
        return out

    def as_dict(self, lang: str = "nl") -> dict[str, Any]:
        """The plan as JSON, its reasons written in lang."""
        return {
            "policy": {"id": self.policy.id, "title": self.policy.title},
            "hosts": {
                name: {
                    "site": hp.site,
                    "biv": hp.biv,
                    "controls": [c.as_dict(lang) for c in hp.controls],
                    **({} if hp.managed else {"managed": False}),
                }
                for name, hp in self.hosts.items()
            },
            "sites": {name: {"controls": [c.as_dict(lang) for c in sp.controls]} for name, sp in self.sites.items()},
            **({"stored_nowhere": self.stored_nowhere} if self.stored_nowhere else {}),
        }


def _ranks(policy: Policy, biv: dict[str, str]) -> dict[str, int] | None:
    try:
        return {a: policy.rank(a, biv[a]) for a in ASPECTS}
    except (KeyError, ValueError, TypeError):
        return None  # invalid classification: validation reports it


def _levels_text(policy: Policy, control: Control, biv: dict[str, str]) -> str:
    aspects = control.any_of.keys() if control.any_of else ASPECTS
    return ", ".join(f"{a}={biv[a]}" for a in aspects)


def _dataset_ranks(policy: Policy, hostvars: dict[str, Any]) -> dict[str, tuple[dict[str, str], dict[str, int]]]:
    """Each validly classified data set of the host's ivpb_datasets: name -> (biv, ranks)."""
    out = {}
    for name, ds in (hostvars.get("ivpb_datasets") or {}).items():
        biv = ds.get("biv") if isinstance(ds, dict) else None
        ranks = _ranks(policy, biv) if isinstance(biv, dict) else None
        if ranks is not None:
            out[name] = (biv, ranks)
    return out


class _Classified:
    """The data sets each host sees, ranked once per distinct content: hosts share the data sets of
    group_vars/all, so a federation has one or a few. A content is known by its canonical JSON text,
    whichever object holds it; a host whose ivpb_datasets is the very object the previous host had
    (group_vars/all, shared by every host) is not even encoded again (as validate.schema_problems
    does). That previous object is held here, so the comparison is never with a reused id."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.by_text: dict[str, dict[str, tuple[dict[str, str], dict[str, int]]]] = {}
        self.last: tuple[Any, str] = (object(), "")  # (the previous host's ivpb_datasets, its text)

    def __call__(self, hostvars: dict[str, Any]) -> tuple[str, dict[str, tuple[dict[str, str], dict[str, int]]]]:
        """(the key of the host's data sets, their ranks as _dataset_ranks gives them)."""
        datasets = hostvars.get("ivpb_datasets") or {}
        if self.last[0] is datasets:
            text = self.last[1]
        else:
            text = json.dumps(datasets, sort_keys=True)
            self.last = (datasets, text)
        if text not in self.by_text:
            self.by_text[text] = _dataset_ranks(self.policy, hostvars)
        return text, self.by_text[text]


def _stored(hostvars: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in hostvars.get("ivpb_stores") or [] if isinstance(s, dict) and "dataset" in s]


def _host_plan(
    policy: Policy,
    hostvars: dict[str, Any],
    classified: tuple[str, dict[str, Any]],
    shapes: dict[tuple, tuple[dict[str, str], tuple[PlannedControl, ...]]],
) -> HostPlan:
    """A host's plan depends only on its shape: the data sets' content, the (data set, path) it
    stores, what it uses and its host flags. A federation has few shapes; each is planned once."""
    datasets_key, datasets = classified
    shape = (
        datasets_key,
        tuple((s["dataset"], s.get("path")) for s in _stored(hostvars)),
        tuple(hostvars.get("ivpb_uses") or ()),
        tuple(bool(hostvars.get(c.host_flag)) for c in policy.controls if c.host_flag),
    )
    if shape not in shapes:
        shapes[shape] = _shape_plan(policy, hostvars, datasets)
    biv, controls = shapes[shape]
    return HostPlan(site=hostvars.get("ivpb_site"), biv=dict(biv), controls=list(controls),
                    managed=managed(hostvars))


def _shape_plan(
    policy: Policy, hostvars: dict[str, Any], datasets: dict[str, Any]
) -> tuple[dict[str, str], tuple[PlannedControl, ...]]:
    stored = [(s, *datasets[s["dataset"]]) for s in _stored(hostvars) if s["dataset"] in datasets]
    used = [(u, *datasets[u]) for u in hostvars.get("ivpb_uses") or [] if u in datasets]
    effective = {a: 0 for a in ASPECTS}
    for _, _, ranks in stored + [(None, *x[1:]) for x in used]:
        for a in ASPECTS:
            effective[a] = max(effective[a], ranks[a])
    host_biv = {a: policy.level(a, effective[a]) for a in ASPECTS}
    controls: list[PlannedControl] = []
    for control in policy.controls:
        if control.scope == "host":
            if control.host_flag and not hostvars.get(control.host_flag):
                continue
            matches = []
            if "stores" in control.data:
                matches += [("plan.stores", s["dataset"], biv) for s, biv, ranks in stored if control.applies_to(ranks)]
            if "uses" in control.data:
                matches += [("plan.uses", u, biv) for u, biv, ranks in used if control.applies_to(ranks)]
            if matches:
                reasons = tuple(
                    msg(kind, dataset=name, levels=_levels_text(policy, control, biv))
                    for kind, name, biv in matches[:MAX_REASONS]
                )
                because = Reasons(reasons, len(matches))
                controls.append(PlannedControl(control.id, control.clause, because, advisory=control.advisory))
        elif control.scope == "dataset":
            for s, biv, ranks in stored:
                if control.dataset_flag and not hostvars["ivpb_datasets"][s["dataset"]].get(control.dataset_flag, True):
                    continue
                if control.applies_to(ranks):
                    because = (
                        msg("plan.every_dataset")
                        if control.any_of is None
                        else msg("plan.levels", levels=_levels_text(policy, control, biv))
                    )
                    controls.append(
                        PlannedControl(
                            control.id,
                            control.clause,
                            Reasons((because,)),
                            dataset=s["dataset"],
                            path=s.get("path"),
                            advisory=control.advisory,
                        )
                    )
    _drop_superseded(policy, controls)
    return host_biv, tuple(controls)


def _drop_superseded(policy: Policy, controls: list[PlannedControl]) -> None:
    present = {(c.id, c.dataset) for c in controls}
    controls[:] = [
        c
        for c in controls
        if not (policy.control(c.id).superseded_by and (policy.control(c.id).superseded_by, c.dataset) in present)
    ]


def _site_plans(
    policy: Policy, inventory: Inventory, classified: dict[str, tuple[str, dict[str, Any]]]
) -> dict[str, SitePlan]:
    # site -> control id -> [number of reasons, the first MAX_REASONS of them (formatted when shown)]
    reasons: dict[str, dict[str, list[Any]]] = {}
    contributors: dict[str, set[str]] = {}
    site_controls = [c for c in policy.controls if c.scope == "site"]
    # Per host once (not once per control): its site and each stored data set with the sites
    # its backup and its sync go to (resolve: each copy's site); hosts of the same shape (site,
    # data sets, targets) are judged once per control.
    stores = []
    for host, hostvars in inventory.hosts.items():
        datasets_key, datasets = classified[host]
        entries = []
        for s in resolve.stored(inventory, host):
            if s.dataset in datasets:
                kinds = tuple((kind, copy.site if copy else None)
                              for kind, copy in (("plan.kind_backup", s.backup), ("plan.kind_sync", s.sync)))
                entries.append((s.dataset, *datasets[s.dataset], kinds))
        site = hostvars.get("ivpb_site")
        # A data set's classification is given by its name within the data sets' content.
        shape = (site, datasets_key, tuple((dataset, kinds) for dataset, _, _, kinds in entries))
        stores.append((host, site, entries, shape))
    for control in site_controls:
        by_shape: dict[tuple, dict[str, list[tuple[str, str, dict[str, str]]]]] = {}
        for host, site, entries, shape in stores:
            if shape not in by_shape:
                # where -> (kind, data set, biv), in the order the host's stores give them
                by_shape[shape] = per_where = {}
                for dataset, biv, ranks, kinds in entries:
                    if not control.applies_to(ranks):
                        continue
                    wheres = [("plan.site_holds", site)] if site else []
                    if control.includes_receiving_sites:
                        wheres += [(kind, tsite) for kind, tsite in kinds if tsite and tsite != site]
                    for kind, where in wheres:
                        per_where.setdefault(where, []).append((kind, dataset, biv))
            for where, found in by_shape[shape].items():
                why = reasons.setdefault(where, {}).setdefault(control.id, [0, []])
                why[1] += [(kind, host, dataset, biv) for kind, dataset, biv in found[: max(0, MAX_REASONS - why[0])]]
                why[0] += len(found)
                contributors.setdefault(where, set()).add(host)
    sites = {name: SitePlan() for name in inventory.school("ivpb_sites")}
    for site, by_control in reasons.items():
        plan = sites.setdefault(site, SitePlan())
        plan.hosts = contributors.get(site, set())
        for control_id, (count, first) in by_control.items():
            control = policy.control(control_id)
            shown = tuple(_site_reason(policy, control, *r) for r in first)
            plan.controls.append(
                PlannedControl(control.id, control.clause, Reasons(shown, count), advisory=control.advisory)
            )
    return sites


def _site_reason(
    policy: Policy, control: Control, kind: str, host: str, dataset: str, biv: dict[str, str]
) -> Message:
    if kind == "plan.site_holds":
        return msg(
            "plan.site_holds",
            host=host,
            reason=msg("plan.stores", dataset=dataset, levels=_levels_text(policy, control, biv)),
        )
    return msg("plan.site_receives", kind=msg(kind), dataset=dataset, host=host)


def stored_nowhere(inventory: Inventory) -> dict[str, list[str]]:
    """Each data set of ivpb_datasets that no host's ivpb_stores names -> the hosts that use it
    (ivpb_uses), in inventory order: such a data set gets no control anywhere (a misspelt or
    forgotten store, a host that dropped out), and neither does its use. The whole inventory
    counts, whatever --limit chose."""
    stored = {s.get("dataset") for hv in inventory.hosts.values() for s in hv.get("ivpb_stores") or []
              if isinstance(s, dict)}
    users: dict[str, list[str]] = {}
    for host, hv in inventory.hosts.items():
        for name in hv.get("ivpb_uses") or []:
            users.setdefault(name, []).append(host)
    return {name: users.get(name, []) for name in inventory.school("ivpb_datasets") if name not in stored}


def unstored_controls(policy: Policy, inventory: Inventory, dataset: str) -> list[PlannedControl]:
    """The data-set controls the policy gives a classified data set wherever it is stored: what
    is missing while no host stores it (the audit's result for it)."""
    hostvars = {"ivpb_datasets": inventory.school("ivpb_datasets"), "ivpb_stores": [{"dataset": dataset}]}
    _, controls = _shape_plan(policy, hostvars, _dataset_ranks(policy, hostvars))
    return [c for c in controls if c.dataset == dataset]


def plan_inventory(inventory: Inventory, policy: Policy) -> Plan:
    """The plan of every host and site; made once per policy for an inventory, since validating
    needs it for its cross-references and `ivpb plan` then prints the same plan. Its reasons are
    Messages, written in the reader's language where they are shown."""
    # Keyed by the Policy itself: a Policy is hashed by identity by design (eq=False: load_policy
    # loads each file once and keeps it), and the dict holds its keys, so a key is never another
    # policy's, as an id() could be once its policy is gone.
    plans: dict[Policy, Plan] = inventory.__dict__.setdefault("_plans", {})
    if policy not in plans:
        plans[policy] = _plan(inventory, policy)
    return plans[policy]


def _plan(inventory: Inventory, policy: Policy) -> Plan:
    ranked = _Classified(policy)
    classified = {name: ranked(hv) for name, hv in inventory.hosts.items()}
    shapes: dict[tuple, Any] = {}
    hosts = {name: _host_plan(policy, hv, classified[name], shapes) for name, hv in inventory.hosts.items()}
    return Plan(policy=policy, hosts=hosts, sites=_site_plans(policy, inventory, classified),
                stored_nowhere=stored_nowhere(inventory))
