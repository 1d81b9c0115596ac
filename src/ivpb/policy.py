"""The policy file: controls, the clause each comes from, and when each applies."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ivpb import safe_yaml
from ivpb.errors import Problem, UserError
from ivpb.rules import WholePatternValidator, duties, input_rules

ASPECTS = ("b", "i", "v")
DEFAULT_POLICY = "backupbeleid.yml"


@dataclass(frozen=True)
class Control:
    id: str
    clause: str
    scope: str  # host | dataset | site
    sentence: str
    any_of: dict[str, int] | None  # aspect -> minimum rank; None means "always"
    data: tuple[str, ...] = ("stores",)
    host_flag: str | None = None
    dataset_flag: str | None = None
    superseded_by: str | None = None
    includes_receiving_sites: bool = False
    advisory: bool = False
    severity: str = "medium"
    interpretation: str = ""
    # Who enforces it (the collection's role and module; None: evidence in the inventory only),
    # and whether on the host that routes the subject's traffic rather than on the host itself.
    role: str | None = None
    module: str | None = None
    duty: str | None = None  # what the control asks of the module (ivpb.rules.duties()[module])
    routed: bool = False
    # How the audit judges the module's evidence beyond configuration (evaluate.JUDGES), whether
    # that evidence carries the host's own timestamps, and the UPSes a `ups` judge needs reached.
    judge: str | None = None
    host_clock: bool = False
    ups_reachable_min: int = 1

    def applies_to(self, ranks: dict[str, int]) -> bool:
        if self.any_of is None:
            return True
        return any(ranks[aspect] >= minimum for aspect, minimum in self.any_of.items())


@dataclass(frozen=True, eq=False)  # hashed by identity: one loaded policy, cached
class Policy:
    id: str
    title: str
    ladders: dict[str, tuple[str, ...]]
    aspect_names: dict[str, str]
    clauses: dict[str, str]  # clause id -> Dutch title
    controls: tuple[Control, ...]
    by_id: dict[str, Control] = field(default_factory=dict)
    # Thresholds for judging evidence (the policy file's `evidence`, the shipped file's values
    # for what a school's own file leaves out); ivpb.audit.evaluate reads them.
    evidence: dict[str, Any] = field(default_factory=dict)
    # Recovery targets per availability level (b): {"rpo": words, "rto": words}, the policy's own
    # words (the policy file's `recovery`); the herstelplan shows them.
    recovery: dict[str, dict[str, str]] = field(default_factory=dict)

    def rank(self, aspect: str, level: str) -> int:
        return self.ladders[aspect].index(level)

    def level(self, aspect: str, rank: int) -> str:
        return self.ladders[aspect][rank]

    def duties(self, module: str) -> dict[str, str]:
        """control id -> the duty the policy has `module` do for it (enforced_by.duty)."""
        return {c.id: c.duty for c in self.controls if c.module == module}

    def control(self, control_id: str) -> Control:
        return self.by_id[control_id]


def _schema() -> dict[str, Any]:
    return json.loads(resources.files("ivpb.schemas").joinpath("policy.schema.json").read_text())


def _parse(raw: dict[str, Any], origin: str) -> Policy:
    errors = sorted(WholePatternValidator(_schema()).iter_errors(raw), key=lambda e: e.path)
    if errors:
        problems = [
            Problem(origin, ".".join(str(p) for p in e.absolute_path) or "(top)",
                    e.message if len(e.message) <= 200 else e.message[:200] + "...") for e in errors
        ]
        raise UserError(f"{origin}: invalid policy file", problems)
    ladders = {a: tuple(raw["levels"][a]["ladder"]) for a in ASPECTS}
    clauses = {c["id"]: c["title"] for c in raw["clauses"]}
    controls = []
    problems = []
    for i, c in enumerate(raw["controls"]):
        where = f"controls[{i}]"
        if c["clause"] not in clauses:
            problems.append(Problem(origin, f"{where}.clause", f"unknown clause {c['clause']!r}"))
        any_of = None
        if "any" in c["when"]:
            any_of = {}
            for aspect, level in c["when"]["any"].items():
                if level not in ladders[aspect]:
                    problems.append(
                        Problem(origin, f"{where}.when.any.{aspect}",
                                f"{level!r} is not one of {', '.join(ladders[aspect])}")
                    )
                    continue
                any_of[aspect] = ladders[aspect].index(level)
        controls.append(
            Control(
                id=c["id"],
                clause=c["clause"],
                scope=c["scope"],
                sentence=" ".join(c["sentence"].split()),
                any_of=any_of,
                data=tuple(c.get("data", ["stores"])),
                host_flag=c.get("host_flag"),
                dataset_flag=c.get("dataset_flag"),
                superseded_by=c.get("superseded_by"),
                includes_receiving_sites=c.get("includes_receiving_sites", False),
                advisory=c.get("advisory", False),
                severity=c.get("severity", "medium"),
                interpretation=" ".join(c.get("interpretation", "").split()),
                role=c.get("enforced_by", {}).get("role"),
                module=c.get("enforced_by", {}).get("module"),
                duty=c.get("enforced_by", {}).get("duty"),
                routed=c.get("enforced_by", {}).get("runs_on") == "router",
                judge=c.get("evidence", {}).get("judge"),
                host_clock=c.get("evidence", {}).get("host_clock", False),
                ups_reachable_min=c.get("evidence", {}).get("ups_reachable_min", 1),
            )
        )
        problems += _enforcement_problems(origin, where, controls[-1])
    by_id = {c.id: c for c in controls}
    if len(by_id) != len(controls):
        problems.append(Problem(origin, "controls", "control ids must be unique"))
    asked: dict[tuple[str, str], str] = {}
    for i, c in enumerate(controls):
        if c.module and (c.module, c.duty) in asked:  # the module reports one control per duty
            problems.append(Problem(origin, f"controls[{i}].enforced_by.duty", f"{asked[c.module, c.duty]} asks "
                                    f"{c.duty} of {c.module} already; expected one control per duty"))
        asked.setdefault((c.module, c.duty), c.id)
    for c in controls:
        if c.superseded_by and c.superseded_by not in by_id:
            problems.append(Problem(origin, f"{c.id}.superseded_by", f"unknown control {c.superseded_by!r}"))
    problems += _evidence_key_problems(origin, raw.get("evidence") or {}, controls, ladders)
    recovery = raw.get("recovery") or {}
    problems += [Problem(origin, f"recovery.{level}", f"{level!r} is not a level of b; expected one of "
                         f"{', '.join(ladders['b'])}") for level in recovery if level not in ladders["b"]]
    evidence = _evidence(raw.get("evidence") or {}, origin)
    for c in controls:
        if c.judge == "backup_age" and c.id not in evidence.get("backup_max_age_hours", {}):
            problems.append(Problem(origin, "evidence.backup_max_age_hours",
                                    f"{c.id} is judged backup_age; expected its maximum age in hours here"))
    if problems:
        raise UserError(f"{origin}: invalid policy file", problems)
    return Policy(
        id=raw["id"],
        title=raw["title"],
        ladders=ladders,
        aspect_names={a: raw["levels"][a]["name"] for a in ASPECTS},
        clauses=clauses,
        controls=tuple(controls),
        by_id=by_id,
        evidence=evidence,
        recovery={level: {k: " ".join(v.split()) for k, v in words.items()} for level, words in recovery.items()},
    )


def _enforcement_problems(origin: str, where: str, c: Control) -> list[Problem]:
    """What the schema cannot say: a site's duty is a record in the inventory (judged from it,
    enforced by no module); a host's or data set's is enforced by a role; only a host's
    control can be enforced on its router."""
    if c.scope == "site":
        if c.role:
            return [Problem(origin, f"{where}.enforced_by", "a site control is evidence in the inventory, "
                            "enforced by no role; expected no enforced_by")]
        if c.judge != "fire_record":
            return [Problem(origin, f"{where}.evidence.judge", "a site control is judged from its record; "
                            "expected judge: fire_record")]
        return []
    if not c.role:
        return [Problem(origin, f"{where}.enforced_by", f"required for a {c.scope} control: the role and "
                        "module that enforce and report it")]
    if c.module not in duties():
        return [Problem(origin, f"{where}.enforced_by.module", f"{c.module!r} is not one of "
                        f"{', '.join(duties())}")]
    if c.duty not in duties()[c.module]:
        return [Problem(origin, f"{where}.enforced_by.duty", f"{c.duty!r} is not a duty of {c.module}; "
                        f"expected one of {', '.join(duties()[c.module])}")]
    if (c.scope == "dataset") != (c.module in input_rules.DATASET_MODULES):
        return [Problem(origin, f"{where}.scope", f"{c.module} enforces controls per "
                        f"{'data set' if c.module in input_rules.DATASET_MODULES else 'host'}; expected scope "
                        f"{'dataset' if c.module in input_rules.DATASET_MODULES else 'host'}")]
    if c.judge == "fire_record":
        return [Problem(origin, f"{where}.evidence.judge", "fire_record judges a site's record; expected "
                        "a judge of what a module reports")]
    if c.routed and c.scope != "host":
        return [Problem(origin, f"{where}.enforced_by.runs_on", "only a host control is enforced on its router")]
    return []


def _evidence_key_problems(origin: str, own: dict[str, Any], controls: list[Control],
                           ladders: dict[str, tuple[str, ...]]) -> list[Problem]:
    """A threshold the file names must be one its judges read: a mistyped control id or level
    would otherwise be ignored, and the shipped value judged instead."""
    problems = []
    judged = sorted(c.id for c in controls if c.judge == "backup_age")
    for cid in own.get("backup_max_age_hours") or {}:
        if cid not in judged:
            problems.append(Problem(origin, "evidence.backup_max_age_hours", f"{cid!r} is not a control judged "
                                    f"backup_age in this policy; expected one of {', '.join(judged) or '(none)'}"))
    for level in own.get("drill_max_age_days") or {}:
        if level not in ladders["b"]:
            problems.append(Problem(origin, "evidence.drill_max_age_days", f"{level!r} is not a level of b; "
                                    f"expected one of {', '.join(ladders['b'])}"))
    return problems


@cache
def _shipped_evidence() -> dict[str, Any]:
    text = resources.files("ivpb.policies").joinpath(DEFAULT_POLICY).read_text(encoding="utf-8")
    return yaml.load(text, Loader=yaml.CSafeLoader).get("evidence") or {}  # noqa: S506 - a safe loader


def _evidence(own: dict[str, Any], origin: str) -> dict[str, Any]:
    """The policy's evidence thresholds; keys it leaves out come from the shipped policy file."""
    if origin == DEFAULT_POLICY:
        return own
    merged = {**_shipped_evidence(), **own}
    merged["backup_max_age_hours"] = {
        **_shipped_evidence().get("backup_max_age_hours", {}), **own.get("backup_max_age_hours", {})
    }
    return merged


@cache
def load_policy(path: str | None = None) -> Policy:
    """Load and validate a policy file; None loads the one shipped with the package."""
    if path is None:
        text = resources.files("ivpb.policies").joinpath(DEFAULT_POLICY).read_text(encoding="utf-8")
        origin = DEFAULT_POLICY
    else:
        if Path(path).is_dir():
            raise UserError(f"{path}: a directory; --policy expects a policy file (YAML)")
        if Path(path).exists() and not Path(path).is_file():  # a FIFO or device: reading could block
            raise UserError(f"{path}: not a regular file; --policy expects a policy file (YAML)")
        try:
            with open(path, "rb") as f:
                data = f.read(safe_yaml.MAX_BYTES + 1)
        except OSError as exc:
            raise UserError(f"{path}: cannot read policy file: {exc.strerror}") from None
        # Strict and bounded: line and column, duplicate keys, alias bombs, UTF-8 (ivpb.safe_yaml).
        raw, node = safe_yaml.load_located(data, path)
        try:
            return _checked(raw, path)
        except UserError as exc:  # each problem with the file:line:column of its value
            if not exc.problems:
                raise
            located = [dataclasses.replace(p, where=safe_yaml.locate(node, path, p.path) or "") for p in exc.problems]
            raise UserError(str(exc), located) from None
    try:
        raw = yaml.load(text, Loader=yaml.CSafeLoader)  # noqa: S506 - libyaml's safe loader, as safe_yaml reads
    except yaml.YAMLError as exc:
        raise UserError(f"{origin}: not valid YAML: {str(exc).splitlines()[0]}") from None
    return _checked(raw, origin)


def _checked(raw: Any, origin: str) -> Policy:
    if not isinstance(raw, dict):
        raise UserError(f"{origin}: a policy file is a YAML mapping")
    return _parse(raw, origin)
