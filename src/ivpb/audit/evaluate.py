"""Judge every host and site against every control: plan + check-run results + evidence
freshness + §5 site records + waivers -> the report (schemas/report.schema.json)."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator, Set
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from ivpb import attest, drills, resolve
from ivpb.audit import pulled
from ivpb.audit.messages import module_findings
from ivpb.audit.results import HostResults
from ivpb.i18n import Message, msg, t
from ivpb.inventory import Inventory
from ivpb.isotime import parse_time
from ivpb.plan import Plan, PlannedControl, unstored_controls
from ivpb.policy import Control, Policy
from ivpb.roles import router_of
from ivpb.rules import input_rules
from ivpb.statuses import STATUSES, rank
from ivpb.unmanaged import ATTESTED, PULLED, ROUTED, means
from ivpb.unmanaged import reporters as unmanaged_reporters


def school_year(day: dt.date) -> tuple[dt.date, dt.date, str]:
    """The Flemish school year (1 September - 31 August) that contains day."""
    start_year = day.year if day.month >= 9 else day.year - 1
    return dt.date(start_year, 9, 1), dt.date(start_year + 1, 8, 31), f"{start_year}-{start_year + 1}"


class Verdict(NamedTuple):  # a tuple: made for each of a report's results (200,000 at 1,000 hosts)
    """A control's result while it is judged: its status and findings (Messages: written in the
    report's language once, when `_result` builds the result), the evidence and diff it rests on,
    a waiver and how the result was arrived at (basis: none for checked)."""

    status: str
    findings: tuple[Message, ...] = ()
    evidence: dict[str, Any] | None = None
    diff: list[dict[str, str]] | None = None
    waiver: dict[str, Any] | None = None
    waived: Message | None = None  # an active waiver's words, said before the findings it covers
    basis: str | None = None

    def detail(self, lang: str) -> str:
        found = _detail(self.findings, lang)
        return f"{self.waived.text(lang)} ({found})" if self.waived else found


def _detail(findings: tuple[Message, ...], lang: str) -> str:
    """The findings in lang, one sentence each."""
    try:
        return _detail_once(findings, lang)
    except TypeError:  # a parameter read from a file or a host that is not hashable (a list)
        return _joined(findings, lang)


@lru_cache(maxsize=8192)  # thousands of results say the same few sentences
def _detail_once(findings: tuple[Message, ...], lang: str) -> str:
    return _joined(findings, lang)


def _joined(findings: tuple[Message, ...], lang: str) -> str:
    return "; ".join(filter(None, (m.text(lang) for m in findings)))  # a module may have said nothing


def _result(control: Control, planned: PlannedControl | None, verdict: Verdict, *, lang: str) -> dict[str, Any]:
    """The one builder of a control's result (schemas/report.schema.json)."""
    out: dict[str, Any] = {
        "id": control.id,
        "clause": control.clause,
        "sentence": control.sentence,
        "status": verdict.status,
        "detail": verdict.detail(lang) if verdict.waived else _detail(verdict.findings, lang),
    }
    if planned is not None:
        if planned.dataset:
            out["dataset"] = planned.dataset
        out["because"] = planned.because.text(lang)
    if control.advisory:
        out["advisory"] = True
    if verdict.evidence:
        out["evidence"] = verdict.evidence
    if verdict.diff:
        out["diff"] = verdict.diff
    if verdict.basis:
        out["basis"] = verdict.basis
    if verdict.waiver:
        out["waiver"] = verdict.waiver
    return out


@dataclass(frozen=True, eq=False)  # hashed by identity: one per report, a cache key thousands of times
class Limits:
    """The policy's evidence rules as the judging uses them: its `evidence` section's thresholds,
    and per control its judge, whether its evidence carries the host's own timestamps (a host
    clock far off the controller's makes them untrustworthy, itself a finding on each of them)
    and the UPSes a `ups` judge needs reached."""

    backup_max_age: tuple[tuple[str, dt.timedelta], ...]
    verify_max_age: dt.timedelta
    protected_max_age: dt.timedelta
    sync_heartbeats: float
    sync_grace: dt.timedelta
    skew: dt.timedelta
    uplinks_online_min: int
    judges: dict[str, str]
    host_clock: frozenset[str]
    ups_reachable_min: dict[str, int]

    @classmethod
    def of(cls, policy: Policy) -> Limits:
        ev = policy.evidence
        return cls(
            backup_max_age=tuple(
                (cid, dt.timedelta(hours=hours)) for cid, hours in sorted(ev["backup_max_age_hours"].items())
            ),
            verify_max_age=dt.timedelta(days=ev["verify_max_age_days"]),
            protected_max_age=dt.timedelta(days=ev["protected_max_age_days"]),
            sync_heartbeats=ev["sync_heartbeats"],
            sync_grace=dt.timedelta(minutes=ev["sync_grace_minutes"]),
            skew=dt.timedelta(seconds=ev["clock_skew_seconds"]),
            uplinks_online_min=int(ev["uplinks_online_min"]),
            judges={c.id: c.judge for c in policy.controls if c.judge},
            host_clock=frozenset(c.id for c in policy.controls if c.host_clock),
            ups_reachable_min={c.id: c.ups_reachable_min for c in policy.controls if c.judge == "ups"},
        )

    def backup_age(self, cid: str) -> dt.timedelta | None:
        return next((age for c, age in self.backup_max_age if c == cid), None)


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def evidence_time(raw: Any) -> dt.datetime | None:
    """A timestamp from evidence: ISO UTC, or the last word of 'ok <ISO>' / '2026-2027 <ISO>'."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    return parse_time(raw.split()[-1])


def _failure(what: str, raw: Any) -> Message | None:
    """A `*_failed` evidence value ({at, reason}) as a reason, or None when there is none."""
    if not raw:
        return None
    if isinstance(raw, dict):
        at = evidence_time(raw.get("at"))
        reason = (str(raw.get("reason") or "").strip().splitlines() or ["?"])[0]
        return msg("finding.failed", what=msg(what), at=_stamp(at) if at else str(raw.get("at", "?")), reason=reason)
    return msg("finding.failed", what=msg(what), at="?", reason=str(raw).splitlines()[0])


def _age(what: str, key: str, raw: Any, max_age: dt.timedelta, now: dt.datetime, limits: Limits,
         none_what: str | None = None) -> Message | None:
    """Why a timestamp makes a control drift: none, in the future (beyond the clock-skew
    tolerance), or older than max_age; None when it is recent enough."""
    when = evidence_time(raw)
    if when is None:
        if none_what == "what.backup":
            return msg("finding.no_backup")
        return msg("finding.none", what=msg(none_what or what), key=key)
    if when - now > limits.skew:
        return msg("finding.future", what=msg(what), when=_stamp(when), ahead=when - now, now=_stamp(now),
                   tol=int(limits.skew.total_seconds()))
    if now - when > max_age:
        return msg("finding.too_old", what=msg(what), when=_stamp(when), age=now - when, max=max_age)
    return None


def _judge_backup(cid: str, ev: dict[str, Any], limits: Limits, now: dt.datetime, year: Any) -> list[Message]:
    """The client's own word (its last successful backup, its failures) and the receiver's: the
    newest backup the receiver sealed out of the client's reach must be as recent, or a
    compromised client could stop its backups and go on reporting fresh ones."""
    max_age = limits.backup_age(cid)
    reasons = [_failure("what.backup_run", ev.get("run_failed"))]
    if max_age is not None:
        reasons.append(_age("what.backup", "last_backup", ev.get("last_backup"), max_age, now, limits, "what.backup"))
        reasons.append(_age("what.protected", "protected_generation", ev.get("protected_generation"), max_age,
                            now, limits, "what.protected_none"))
    return [r for r in reasons if r]


def _judge_annual(cid: str, ev: dict[str, Any], limits: Limits, now: dt.datetime,
                  year: tuple[dt.date, dt.date, str]) -> list[Message]:
    start, end, label = year
    raw = ev.get("last_annual") or ""
    reasons = [_failure("what.annual_run", ev.get("annual_failed"))]
    last = evidence_time(raw)
    if last is not None and last - now > limits.skew:
        reasons.append(msg("finding.future", what=msg("what.annual"), when=_stamp(last), ahead=last - now,
                           now=_stamp(now), tol=int(limits.skew.total_seconds())))
    elif last is None or not (start <= last.date() <= end):
        reasons.append(msg("finding.no_annual", year=label))
    return [r for r in reasons if r]


def _judge_best_practice(cid: str, ev: dict[str, Any], limits: Limits, now: dt.datetime, year: Any) -> list[Message]:
    reasons = [
        _failure("what.verify_run", ev.get("verify_failed")),
        _age("what.verify", "last_verify", ev.get("last_verify"), limits.verify_max_age, now, limits,
             "what.verify_none"),
        _age("what.protected", "protected_generation", ev.get("protected_generation"), limits.protected_max_age,
             now, limits, "what.protected_none"),
    ]
    return [r for r in reasons if r]


def _judge_sync(cid: str, ev: dict[str, Any], limits: Limits, now: dt.datetime, year: Any) -> list[Message]:
    reasons = [_failure("what.sync_run", ev.get("sync_failed"))]
    heartbeat = ev.get("heartbeat_minutes")
    if isinstance(heartbeat, bool) or not isinstance(heartbeat, int | float) \
            or not 0 < heartbeat <= input_rules.SYNC_HEARTBEAT_MINUTES:  # NaN too: it compares false
        reasons.append(msg("finding.no_heartbeat", value="-" if heartbeat is None else str(heartbeat)[:40],
                           max=input_rules.SYNC_HEARTBEAT_MINUTES))
        max_age = None
    else:
        max_age = dt.timedelta(minutes=heartbeat * limits.sync_heartbeats) + limits.sync_grace
    if max_age is None:  # still name a missing or future last_sync
        when = evidence_time(ev.get("last_sync"))
        if when is None or when - now > limits.skew:
            reasons.append(_age("what.sync", "last_sync", ev.get("last_sync"), dt.timedelta.max, now, limits,
                                "what.sync_none"))
    else:
        reasons.append(_age("what.sync", "last_sync", ev.get("last_sync"), max_age, now, limits, "what.sync_none"))
    return [r for r in reasons if r]


def _judge_failover(cid: str, ev: dict[str, Any], limits: Limits, now: dt.datetime, year: Any) -> list[Message]:
    probes, declared = ev.get("probes"), ev.get("uplinks")
    reasons = []
    if isinstance(declared, list) and len(declared) < limits.uplinks_online_min:  # the module runs what it is given
        reasons.append(msg("finding.too_few_uplinks", n=len(declared), need=limits.uplinks_online_min))
    elif not isinstance(probes, dict) or not probes:
        reasons.append(msg("finding.no_probes"))
    else:
        online = [n for n, p in probes.items() if isinstance(p, dict) and p.get("state") == "online"]
        if len(online) < limits.uplinks_online_min:
            states = tuple(
                msg("finding.uplink_since", uplink=n, state=p.get("state", "?"), since=p["since"])
                if isinstance(p, dict) and p.get("since")
                else msg("finding.uplink_state", uplink=n, state=p.get("state", "?") if isinstance(p, dict) else "?")
                for n, p in sorted(probes.items())
            )
            reasons.append(msg("finding.uplinks_down", online=len(online), total=len(probes),
                               need=limits.uplinks_online_min, states=states))
    if not ev.get("route"):
        reasons.append(msg("finding.no_route"))
    return reasons


def _judge_power(cid: str, ev: dict[str, Any], limits: Limits, now: dt.datetime, year: Any) -> list[Message]:
    need = limits.ups_reachable_min.get(cid, 1)
    reachable, states = ev.get("reachable"), ev.get("status")
    if not isinstance(reachable, list) or not isinstance(states, dict):
        return [msg("finding.no_ups_status")]
    if len(reachable) >= need:
        return []
    listed = ", ".join(f"{u} {s}" for u, s in sorted(states.items())) or "-"
    return [msg("finding.ups_unreached", n=len(reachable), total=len(states), need=need, states=listed)]


# A control's `evidence.judge` in the policy file -> the function that judges its evidence beyond
# configuration (a list of reasons for drift; empty when the evidence holds). fire_record, the
# sites' record, is judged in _site_controls.
JUDGES = {
    "backup_age": _judge_backup,
    "annual": _judge_annual,
    "best_practice": _judge_best_practice,
    "sync": _judge_sync,
    "failover": _judge_failover,
    "ups": _judge_power,
}


@lru_cache(maxsize=4096)
def _reasons_once(cid: str, items: tuple[tuple[str, Any], ...], limits: Limits, now: dt.datetime,
                  year: tuple[dt.date, dt.date, str]) -> tuple[Message, ...]:
    return tuple(JUDGES[limits.judges[cid]](cid, dict(items), limits, now, year))


def clock_skew(host_time: Any, now: dt.datetime, limits: Limits) -> Message | None:
    """A finding when the host's clock (the backup module's host_time) is far off the controller's,
    or is not known (missing or not a time): then the host's own timestamps cannot be judged."""
    when = evidence_time(host_time)
    if when is None:
        return msg("finding.no_host_time", value="-" if host_time is None else str(host_time)[:40])
    if abs(when - now) <= limits.skew:
        return None
    return msg("finding.clock_skew", host_time=_stamp(when), off=when - now, now=_stamp(now),
               tol=int(limits.skew.total_seconds()))


def _judge(cid: str, verdict: Verdict, limits: Limits, now: dt.datetime, year: tuple[dt.date, dt.date, str],
           skew: Message | None = None) -> Verdict:
    """Evidence beyond configuration: a compliant configuration whose evidence does not hold
    (a failed or stale backup, verify or sync, uplinks down, a UPS not reached) is drift, with
    every reason. year is school_year(now.date()), computed once per report."""
    if verdict.status != "compliant":
        return verdict
    judge = JUDGES.get(limits.judges.get(cid, ""))
    if judge is None:
        return verdict
    ev = verdict.evidence if isinstance(verdict.evidence, dict) else {}
    try:  # one run's evidence repeats for many controls and hosts: judge each distinct one once
        reasons = _reasons_once(cid, tuple(ev.items()), limits, now, year)
    except TypeError:  # a nested value (a failure record, probe states) is not hashable
        reasons = tuple(judge(cid, ev, limits, now, year))
    if skew and cid in limits.host_clock:
        reasons = (skew, *reasons)
    if not reasons:
        return verdict
    return verdict._replace(status="drift", findings=reasons)


def _waiver_for(
    waivers: list[dict[str, Any]], cid: str, subject_key: str, subject: str, dataset: str | None
) -> dict[str, Any] | None:
    """The matching waiver that expires last (an active one wins over an expired one)."""
    matches = [
        w
        for w in waivers
        if w["control"] == cid and w.get(subject_key) == subject and ("dataset" not in w or w["dataset"] == dataset)
    ]
    return max(matches, key=lambda w: w["expires"], default=None)


def _apply_waiver(verdict: Verdict, waiver: dict[str, Any] | None, today: dt.date) -> Verdict:
    if waiver is None or verdict.status in ("compliant", "not_applicable"):
        return verdict
    if verdict.status == "error":  # could not check: a waiver covers a known gap, never an unknown
        why = msg("finding.waiver_not_for_errors", expires=waiver["expires"])
        return verdict._replace(findings=(*verdict.findings, why))
    active = dt.date.fromisoformat(waiver["expires"]) >= today
    info = {
        "justification": waiver["justification"],
        "approver": waiver["approver"],
        "expires": waiver["expires"],
        "active": active,
        "underlying_status": verdict.status,
    }
    if active:
        waived = msg("finding.waived", expires=waiver["expires"], justification=waiver["justification"])
        return verdict._replace(status="waived", waiver=info, waived=waived)
    expired = msg("finding.waiver_expired", expires=waiver["expires"])
    return verdict._replace(waiver=info, findings=(*verdict.findings, expired))


def _bounded(mine: HostResults) -> Message | str:
    """Why a host could not be checked (unreachable, or its first failed task: Ansible's and the
    module's own words), with the timeouts that bounded the attempt."""
    said = mine.unreachable_msg if mine.reachable is False else mine.failures[0]
    return msg("finding.bounded", said=said, why=msg("finding.timeouts", timeouts=mine.bounds)) if mine.bounds \
        else said


def _task_failed(mine: HostResults, lang: str, host: str | None = None) -> Message:
    """Why a host's results cannot be trusted: its first failed task, in the module's message
    when it gave one, else its text under technical details (with `host` when another host's)."""
    if mine.failure_said is not None:
        task, message = mine.failure_said
        [said] = module_findings({"status": "error", "message": message, "detail": mine.failures[0]}, lang)[:1]
        if said.id.startswith("module."):
            return msg("finding.task_failed_said", task=f"{host}: {task}" if host else task, said=said)
    bounded = _bounded(mine)
    return msg("finding.task_failed", msg=msg("finding.host_said", host=host, said=bounded) if host else bounded)


def _unchecked(name: str, hr: HostResults | None, lang: str, reported: Set[str] = frozenset()) -> Message | None:
    """Why nothing that host `name` reports can be trusted or is known: no task ran on it, it was
    unreachable, or a task on it failed; None when it was checked. Why a host in the report
    (`reported`) was unreachable is said once, with that host."""
    if hr is None or hr.reachable is None:
        return msg("finding.not_contacted", host=name)
    if hr.reachable is False and name in reported:
        return msg("finding.other_unreachable", host=name)
    if hr.reachable is False:
        return msg("finding.unreachable", msg=msg("finding.host_said", host=name, said=_bounded(hr)))
    if hr.failures:
        return _task_failed(hr, lang, name)
    return None


# The judges that weigh the receivers' word (protected_generation, results.attach_protected).
RECEIVER_JUDGES = frozenset({"backup_age", "best_practice"})


# What a client's control says when no receiver reported a sealed generation for it.
PROTECTED_NONE = msg("finding.none", what=msg("what.protected_none"), key="protected_generation")


def _receiver_checked(verdict: Verdict, inventory: Inventory, host: str, dataset: str,
                      results: dict[str, HostResults], lang: str, reported: Set[str]) -> Verdict:
    """A control judged without the receiver's word on the protected copy (RECEIVER_JUDGES):
    when the data set's receiver could not be checked itself (unreachable, not contacted, its
    check failed), whether a copy out of the client's reach exists is unknown. That is an error
    naming the receiver, not drift as if the data were unprotected."""
    evidence = verdict.evidence or {}
    if verdict.status != "drift" or "protected_generation" in evidence or PROTECTED_NONE not in verdict.findings:
        return verdict
    stored = resolve.find(inventory, host, dataset) if host in inventory.hosts else None
    receiver = stored.backup.receiver if stored and stored.backup and stored.backup.defined else None
    if receiver is None:
        return verdict
    hr = results.get(receiver) if receiver in inventory.hosts else None
    why = _unchecked(receiver, hr, lang, reported) if receiver in inventory.hosts else None
    if why is None or (hr is not None and hr.protected):
        return verdict  # the receiver answered (or is outside the inventory): its silence is its word
    reason = msg("finding.receiver_unchecked", receiver=receiver, why=why)
    return verdict._replace(status="error", evidence={**evidence, "receiver_unchecked": receiver},
                   findings=(reason, *(f for f in verdict.findings if f != PROTECTED_NONE)))


Found = dict[tuple[str, str | None], list[dict[str, Any]]]


def _index(results: HostResults | None) -> Found:
    """A host's module findings by (control id, data set), in the order the modules reported them.

    Looked up once per planned control: a scan of the host's list per control is quadratic (50
    data sets make 200 controls a host). Findings whose id or data set is not a string can match
    no planned control, so they are left out."""
    index: Found = {}
    if results is None:
        return index
    for c in results.controls:
        if "for" in c:  # reported about another host (pulled evidence): never about this one
            continue
        cid, dataset = c["id"], c.get("dataset")
        if isinstance(cid, str) and (dataset is None or isinstance(dataset, str)):
            index.setdefault((cid, dataset), []).append(c)
    return index


def _host_controls(
    policy: Policy,
    inventory: Inventory,
    plan: Plan,
    host: str,
    results: dict[str, HostResults],
    found_by_host: dict[str, Found],
    now: dt.datetime,
    lang: str,
    limits: Limits | None = None,
    reported: Set[str] = frozenset(),
) -> list[dict[str, Any]]:
    """The host's results; `reported`: the hosts of the report (an unreachable one's reason is
    said with it, not again in the controls of the hosts it serves)."""
    hp = plan.hosts[host]
    hv = inventory.hosts[host]
    mine = results.get(host)
    today = now.date()
    year = school_year(today)
    # Only this host's waivers can match; most hosts have none, which skips the lookup entirely.
    waivers = [w for w in hv.get("ivpb_waivers") or [] if w.get("host") == host]
    router = router_of(host, hv)
    found_here = _index(mine)
    limits = limits or Limits.of(policy)
    skew = clock_skew(mine.host_time, now, limits) if mine is not None else None
    out = []
    for planned in hp.controls:
        control = policy.control(planned.id)
        if mine is not None and mine.reachable is False:  # why: once, in the host's unreachable_reason
            out.append(_result(control, planned, Verdict("error", (msg("finding.host_unreachable"),)), lang=lang))
            continue
        found = found_here.get((planned.id, planned.dataset))
        subject = host  # the host whose module reports this control
        how = "" if hp.managed else means(inventory, plan, host, planned)  # "": checked on a managed host
        reporters = unmanaged_reporters(inventory, host, control, planned.dataset) if how == PULLED else []
        if reporters:  # nothing runs on it: what the managed hosts that see it report (audit.pulled)
            found, silent = pulled.found(results, reporters, host, planned.id, planned.dataset)
            subject = silent or subject  # a silent reporter leaves the control unknown: named below
        if not found and control.routed and router != host:  # enforced, so reported, on its router
            subject = router
            if router not in found_by_host:
                found_by_host[router] = _index(results.get(router))
            found = found_by_host[router].get((planned.id, None))
        if how not in ("", ROUTED) and not reporters:  # a system nothing connects to: the school's word
            verdict = _not_managed(control, planned, how, inventory, host, now, limits)
        elif found:
            worst = found[0] if len(found) == 1 else min(found, key=lambda c: rank(c.get("status")))
            status = worst.get("status") if worst.get("status") in STATUSES else "error"
            verdict = Verdict(status, module_findings(worst, lang), worst.get("evidence"),
                              worst.get("diff") if status == "drift" else None)
            verdict = _judge(planned.id, verdict, limits, now, year, skew)
            if control.judge in RECEIVER_JUDGES and planned.dataset:
                verdict = _receiver_checked(verdict, inventory, host, planned.dataset, results, lang, reported)
            if control.judge == "best_practice" and planned.dataset:  # restore drills (#16)
                verdict = _drilled(verdict, inventory, host, planned.dataset, policy, now)
        elif subject == host and mine is not None and mine.reachable and mine.failures:
            verdict = Verdict("error", (_task_failed(mine, lang),))
        elif (why := _unchecked(subject, results.get(subject), lang, reported)) is not None:
            verdict = Verdict("error", (why,))
        else:
            verdict = Verdict("missing" if control.advisory else "error", (msg("finding.not_checked"),))
        if reporters:
            verdict = verdict._replace(basis=PULLED)
        if waivers:
            verdict = _apply_waiver(verdict, _waiver_for(waivers, planned.id, "host", host, planned.dataset), today)
        out.append(_result(control, planned, verdict, lang=lang))
    planned_ids = hp.control_ids()
    for control in policy.controls:
        if control.scope != "site" and control.id not in planned_ids:
            out.append(_result(control, None, NOT_APPLICABLE, lang=lang))
    return out


NOT_APPLICABLE = Verdict("not_applicable", (msg("status.not_applicable"),))


def _drilled(verdict: Verdict, inventory: Inventory, host: str, dataset: str, policy: Policy,
             now: dt.datetime) -> Verdict:
    """backup.best_practice with the data set's restore drills (ivpb.drills.judge): their evidence,
    a note on the last one, and drift when a compliant result has no recent successful drill."""
    drilled = drills.judge(verdict.evidence, inventory, host, dataset, policy, now)
    if verdict.status == "compliant" and drilled["reason"]:
        return verdict._replace(status="drift", evidence=drilled["evidence"],
                       findings=(drilled["reason"], *drilled["notes"]))
    return verdict._replace(evidence=drilled["evidence"], findings=(*verdict.findings, *drilled["notes"]))


def _not_managed(control: Control, planned: PlannedControl, how: str | None, inventory: Inventory, host: str,
                 now: dt.datetime, limits: Limits) -> Verdict:
    """A result of a system ivpb does not manage, met by the school's statement (ivpb.attest:
    compliant while it holds, drift once expired or its evidence file changed, missing without
    one) or by evidence a managed host pulls; marked with that basis in every report."""
    if how == PULLED:
        return Verdict("error", (msg("finding.not_pulled"),), basis=PULLED)
    record = attest.newest(attest.load(inventory), control.id, host, planned.dataset)
    found = attest.verdict(record, now, limits.skew, attest.hasher(inventory))
    return Verdict(found["status"], found["findings"], evidence=found["evidence"], basis=ATTESTED)


FIRE_FINDINGS = {"measures": "finding.fire_no_measures", "safety_plan": "finding.fire_no_plan"}


def fire_record_gaps(record: dict[str, Any]) -> list[str]:
    """What a site's §5 record lacks, in the order the audit reports it: "measures" (no fire
    protection measures), "safety_plan" (no safety plan with the emergency services)."""
    fire = record.get("fire_protection") or {}
    return [key for key in ("measures", "safety_plan") if not fire.get(key)]


def _site_controls(
    policy: Policy, inventory: Inventory, plan: Plan, site: str, today: dt.date, lang: str
) -> list[dict[str, Any]]:
    record = inventory.school("ivpb_sites").get(site) or {}
    waivers = next((hv.get("ivpb_waivers") for hv in inventory.hosts.values() if hv.get("ivpb_waivers")), []) or []
    max_days = next(
        (hv["ivpb_fire_plan_max_age_days"] for hv in inventory.hosts.values() if "ivpb_fire_plan_max_age_days" in hv),
        policy.evidence["fire_plan_max_age_days"],
    )
    planned = {c.id: c for c in plan.sites[site].controls}
    out = []
    for control in policy.controls:
        if control.judge != "fire_record":  # the policy allows no other judge of a site's duty
            continue
        if control.id not in planned:
            out.append(_result(control, None, NOT_APPLICABLE, lang=lang))
            continue
        fire = record.get("fire_protection") or {}
        measures, safety_plan = fire.get("measures") or [], fire.get("safety_plan")
        evidence = {"measures": measures, "safety_plan": safety_plan} if (measures or safety_plan) else None
        gaps = fire_record_gaps(record)
        if gaps:
            status, finding = "missing", msg(FIRE_FINDINGS[gaps[0]], site=site)
        elif (today - dt.date.fromisoformat(safety_plan["date"])).days > max_days:
            status, finding = "missing", msg("finding.fire_old_plan", ref=safety_plan["reference"],
                                             date=safety_plan["date"], days=max_days)
        else:
            status, finding = "compliant", msg("finding.fire_ok", n=len(measures), ref=safety_plan["reference"],
                                               date=safety_plan["date"])
        verdict = _apply_waiver(Verdict(status, (finding,), evidence=evidence),
                                _waiver_for(waivers, control.id, "site", site, None), today)
        out.append(_result(control, planned[control.id], verdict, lang=lang))
    return out


def _fine(e: dict[str, Any]) -> bool:
    return e["status"] in ("compliant", "waived", "not_applicable") or bool(e.get("advisory"))


# A result's `basis` (schemas/report.schema.json): how it was arrived at; none means checked.
BASES = ("checked", ATTESTED, PULLED)


def summarize(policy: Policy, hosts: dict[str, Any], sites: dict[str, Any]) -> dict[str, Any]:
    """Counts per clause and overall, and per clause how many subjects (hosts, sites) are fully
    compliant, counting only subjects the clause applies to; how many results (not applicable
    left out) were checked, attested and pulled. One pass over the results."""
    totals = dict.fromkeys(STATUSES, 0)
    basis = dict.fromkeys(BASES, 0)
    counts = {clause: dict.fromkeys(STATUSES, 0) for clause in policy.clauses}
    subjects = dict.fromkeys(policy.clauses, 0)
    compliant = dict.fromkeys(policy.clauses, 0)
    for subject in [*hosts.values(), *sites.values()]:
        ok: dict[str, bool] = {}  # clause -> all applicable results fine
        for e in subject["controls"]:
            status, clause = e["status"], e["clause"]
            totals[status] += 1
            if status != "not_applicable":
                basis[e.get("basis", "checked")] += 1
            if clause in counts:
                counts[clause][status] += 1
                if status != "not_applicable":
                    ok[clause] = ok.get(clause, True) and _fine(e)
        for clause, fine in ok.items():
            subjects[clause] += 1
            compliant[clause] += fine
    clauses = {
        clause: {
            "title": title,
            "counts": counts[clause],
            "subjects": subjects[clause],
            "subjects_compliant": compliant[clause],
        }
        for clause, title in policy.clauses.items()
    }
    return {"totals": totals, "basis": basis, "clauses": clauses}


def exit_code(hosts: dict[str, Any], sites: dict[str, Any]) -> int:
    entries = [e for h in hosts.values() for e in h["controls"]] + [e for s in sites.values() for e in s["controls"]]
    if any(e["status"] == "error" for e in entries):
        return 1
    if any(e["status"] in ("drift", "missing") and not e.get("advisory") for e in entries):
        return 2
    return 0


@contextmanager
def paused_gc() -> Iterator[None]:
    """Build a large tree of fresh objects (the report, a rendered report) without the cyclic
    collector: its runs during the build traverse all of the caller's objects again (the loaded
    inventory: millions; benchmarks/README.md has what they cost), and the report holds no cycles
    for it to find; reference counting frees it as before."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@paused_gc()
def build_report(
    policy: Policy,
    inventory: Inventory,
    plan: Plan,
    results: dict[str, HostResults],
    selected: list[str],
    now: dt.datetime,
    lang: str = "nl",
) -> dict[str, Any]:
    hosts = {}
    found_by_host: dict[str, Found] = {}  # the routers' findings, indexed once for all hosts behind them
    limits = Limits.of(policy)
    reported = frozenset(selected)
    for host in selected:
        hp = plan.hosts[host]
        hr = results.get(host)
        entry: dict[str, Any] = {"site": hp.site, "biv": hp.biv, "reachable": hr.reachable if hr else None}
        if not hp.managed:  # nothing connects to it: reachable stays null
            entry["system_kind"] = inventory.hosts[host].get("ivpb_system_kind", "?")
        if hr is not None and hr.reachable is False:  # said once here, not in each of its controls
            bounded = _bounded(hr)
            entry["unreachable_reason"] = bounded.text(lang) if isinstance(bounded, Message) else bounded
        entry["controls"] = _host_controls(policy, inventory, plan, host, results, found_by_host, now, lang, limits,
                                           reported)
        hosts[host] = entry
    unstored = _stored_nowhere(policy, inventory, plan, selected, lang)
    selected_sites = {hosts[h]["site"] for h in hosts} | _receiving_sites(plan, hosts)
    if unstored:  # after the sites are chosen: this subject stands at no site
        hosts[t("report.inventory_subject", lang)] = unstored
    sites = {
        name: {
            "external": bool((inventory.school("ivpb_sites").get(name) or {}).get("external")),
            "controls": _site_controls(policy, inventory, plan, name, now.date(), lang),
        }
        for name in sorted(plan.sites)
        if name in selected_sites or len(selected) == len(plan.hosts)
    }
    return {
        "schema_version": 1,
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lang": lang,
        "policy": {"id": policy.id, "title": policy.title, "clauses": dict(policy.clauses)},
        "inventory": list(inventory.sources),
        "summary": summarize(policy, hosts, sites),
        "hosts": hosts,
        "sites": sites,
        "exit_code": exit_code(hosts, sites),
    }


def _stored_nowhere(policy: Policy, inventory: Inventory, plan: Plan, selected: list[str],
                    lang: str) -> dict[str, Any] | None:
    """The data sets no host stores (Plan.stored_nowhere) as the results of a subject of their
    own, the inventory, under a name no host can have (input_rules.host_name allows no
    parentheses): per data set the first control the policy gives it wherever it is stored,
    missing, so the report is not compliant while the data set has no control at all. With
    --limit only the data sets a chosen host uses."""
    chosen = set(selected)
    every = len(chosen) == len(plan.hosts)
    results, levels = [], {}
    for name, users in plan.stored_nowhere.items():
        if not every and not chosen.intersection(users):
            continue
        planned = unstored_controls(policy, inventory, name)
        if not planned:  # the policy gives this data set no control even where it is stored
            continue
        first = planned[0]
        finding = msg("finding.stored_nowhere", dataset=name, users=", ".join(users) or "-")
        results.append(_result(policy.control(first.id), first, Verdict("missing", (finding,)), lang=lang))
        biv = inventory.school("ivpb_datasets")[name]["biv"]
        for aspect, level in biv.items():
            if aspect not in levels or policy.rank(aspect, level) > policy.rank(aspect, levels[aspect]):
                levels[aspect] = level
    if not results:
        return None
    return {"site": None, "biv": levels, "reachable": None, "inventory": True, "controls": results}


def _receiving_sites(plan: Plan, hosts: dict[str, Any]) -> set[str]:
    """Sites whose §5 duty comes from one of the selected hosts' data."""
    return {site for site, sp in plan.sites.items() if sp.hosts & set(hosts)}
