"""Judge every host and site against every control: plan + check-run results + evidence
freshness + §5 site records + waivers -> the report (schemas/report.schema.json)."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from ivpb.audit.results import HostResults
from ivpb.inventory import Inventory
from ivpb.plan import Plan, PlannedControl
from ivpb.policy import Control, Policy

STATUSES = ("compliant", "drift", "missing", "waived", "not_applicable", "error")
# Worst first: when two modules report on one control, the worse finding stands.
SEVERITY = {"error": 0, "missing": 1, "drift": 2, "compliant": 3, "waived": 4, "not_applicable": 5}
# Evidence beyond configuration (issue #7): a backup older than this is drift.
MAX_AGE = {"backup.daily": dt.timedelta(hours=26), "backup.weekly": dt.timedelta(days=8)}
FIRE_MAX_AGE_DAYS = 365
# Controls whose enforcement lives on the host that routes this host's traffic.
VIA_CONTROLS = {"internet.failover", "internet.sla"}

TEXT = {
    "unreachable": {"nl": "host onbereikbaar: {msg}", "en": "host unreachable: {msg}"},
    "task_failed": {"nl": "controle mislukt: {msg}", "en": "check failed: {msg}"},
    "not_checked": {
        "nl": "niet gecontroleerd: geen module rapporteerde deze maatregel",
        "en": "not checked: no module reported this control",
    },
    "no_backup": {"nl": "geen geslaagde backup gevonden", "en": "no successful backup found"},
    "stale": {
        "nl": "laatste geslaagde backup {when} ({hours} uur geleden, maximum {max_hours})",
        "en": "last successful backup {when} ({hours} hours ago, at most {max_hours})",
    },
    "no_annual": {"nl": "geen volledige backup in schooljaar {year}", "en": "no full backup in school year {year}"},
    "waived": {"nl": "uitzondering tot {expires}: {justification}", "en": "waived until {expires}: {justification}"},
    "waiver_expired": {"nl": "uitzondering verlopen op {expires}", "en": "waiver expired on {expires}"},
    "not_applicable": {"nl": "niet van toepassing", "en": "not applicable"},
    "fire_ok": {
        "nl": "{n} maatregelen; veiligheidsplan {ref} van {date}",
        "en": "{n} measures; safety plan {ref} of {date}",
    },
    "fire_no_measures": {
        "nl": "geen brandbeveiligingsmaatregelen geregistreerd (ivpb_sites.{site}.fire_protection.measures)",
        "en": "no fire protection measures recorded (ivpb_sites.{site}.fire_protection.measures)",
    },
    "fire_no_plan": {
        "nl": "geen veiligheidsplan met de hulpdiensten geregistreerd (ivpb_sites.{site}.fire_protection.safety_plan)",
        "en": "no safety plan with the emergency services recorded (ivpb_sites.{site}.fire_protection.safety_plan)",
    },
    "fire_old_plan": {
        "nl": "veiligheidsplan {ref} van {date} is ouder dan {days} dagen",
        "en": "safety plan {ref} of {date} is older than {days} days",
    },
}


def _t(key: str, lang: str, **kw: Any) -> str:
    return TEXT[key][lang].format(**kw)


def school_year(day: dt.date) -> tuple[dt.date, dt.date, str]:
    """The Flemish school year (1 September - 31 August) that contains day."""
    start_year = day.year if day.month >= 9 else day.year - 1
    return dt.date(start_year, 9, 1), dt.date(start_year + 1, 8, 31), f"{start_year}-{start_year + 1}"


def parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return _parse_iso(value)


@lru_cache(maxsize=4096)  # a run's evidence repeats a few timestamps for thousands of controls
def _parse_iso(value: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _stale(cid: str, last_backup: Any, now: dt.datetime, lang: str) -> str | None:
    """Why a backup control's evidence makes it drift (no or too old a backup), or None."""
    last = parse_time(last_backup)
    if last is None:
        return _t("no_backup", lang)
    age = now - last
    if age <= MAX_AGE[cid]:
        return None
    return _t(
        "stale",
        lang,
        when=last.strftime("%Y-%m-%d %H:%M UTC"),
        hours=int(age.total_seconds() // 3600),
        max_hours=int(MAX_AGE[cid].total_seconds() // 3600),
    )


def _not_this_year(raw: Any, year: tuple[dt.date, dt.date, str], lang: str) -> str | None:
    """Why backup.annual_full's evidence makes it drift (no full backup this school year), or None."""
    start, end, label = year
    # backup_job reports "<school year> <UTC time>" of the newest yearly full chain
    last = parse_time(str(raw).split()[-1] if raw else None)
    if last is None or not (start <= last.date() <= end):
        return _t("no_annual", lang, year=label)
    return None


# The same evidence (one run's timestamps) comes back for many controls: judge it once.
_stale_once = lru_cache(maxsize=4096)(_stale)
_not_this_year_once = lru_cache(maxsize=4096)(_not_this_year)


def _freshness(
    entry: dict[str, Any], now: dt.datetime, year: tuple[dt.date, dt.date, str], lang: str
) -> dict[str, Any]:
    """Evidence beyond configuration: a right cron line without a recent backup is drift.

    year is school_year(now.date()), computed once per report."""
    if entry["status"] != "compliant":
        return entry
    cid, evidence = entry["id"], entry.get("evidence") or {}
    if cid in MAX_AGE:
        value = evidence.get("last_backup")
        detail = (_stale_once if isinstance(value, str) else _stale)(cid, value, now, lang)
    elif cid == "backup.annual_full":
        raw = evidence.get("last_annual") or evidence.get("last_annual_full") or ""
        detail = (_not_this_year_once if isinstance(raw, str) else _not_this_year)(raw, year, lang)
    else:
        return entry
    return entry if detail is None else {**entry, "status": "drift", "detail": detail}


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


def _apply_waiver(entry: dict[str, Any], waiver: dict[str, Any] | None, today: dt.date, lang: str) -> dict[str, Any]:
    if waiver is None or entry["status"] in ("compliant", "not_applicable"):
        return entry
    active = dt.date.fromisoformat(waiver["expires"]) >= today
    info = {
        "justification": waiver["justification"],
        "approver": waiver["approver"],
        "expires": waiver["expires"],
        "active": active,
        "underlying_status": entry["status"],
    }
    if active:
        detail = _t("waived", lang, expires=waiver["expires"], justification=waiver["justification"])
        return {**entry, "status": "waived", "waiver": info, "detail": f"{detail} ({entry['detail']})"}
    detail = f"{entry['detail']}; {_t('waiver_expired', lang, expires=waiver['expires'])}"
    return {**entry, "waiver": info, "detail": detail}


def _result(
    control: Control,
    planned: PlannedControl | None,
    status: str,
    detail: str,
    evidence: dict[str, Any] | None = None,
    diff: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": control.id,
        "clause": control.clause,
        "sentence": control.sentence,
        "status": status,
        "detail": detail,
    }
    if planned is not None:
        if planned.dataset:
            out["dataset"] = planned.dataset
        out["because"] = planned.because
    if control.advisory:
        out["advisory"] = True
    if evidence:
        out["evidence"] = evidence
    if diff:
        out["diff"] = diff
    return out


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
) -> list[dict[str, Any]]:
    hp = plan.hosts[host]
    hv = inventory.hosts[host]
    mine = results.get(host)
    today = now.date()
    year = school_year(today)
    # Only this host's waivers can match; most hosts have none, which skips the lookup entirely.
    waivers = [w for w in hv.get("ivpb_waivers") or [] if w.get("host") == host]
    via = hv.get("ivpb_internet_via")
    found_here = _index(mine)
    out = []
    for planned in hp.controls:
        control = policy.control(planned.id)
        if mine is not None and not mine.reachable:
            out.append(_result(control, planned, "error", _t("unreachable", lang, msg=mine.unreachable_msg)))
            continue
        found = found_here.get((planned.id, planned.dataset))
        if not found and via and planned.id in VIA_CONTROLS:
            if via not in found_by_host:
                found_by_host[via] = _index(results.get(via))
            found = found_by_host[via].get((planned.id, None))
        if found:
            worst = found[0] if len(found) == 1 else min(found, key=lambda c: SEVERITY.get(c.get("status"), 0))
            status = worst.get("status") if worst.get("status") in STATUSES else "error"
            entry = _result(
                control,
                planned,
                status,
                str(worst.get("detail", "")),
                evidence=worst.get("evidence"),
                diff=worst.get("diff") if status == "drift" else None,
            )
            entry = _freshness(entry, now, year, lang)
        elif mine is not None and mine.failures:
            entry = _result(control, planned, "error", _t("task_failed", lang, msg=mine.failures[0]))
        elif control.advisory:
            entry = _result(control, planned, "missing", _t("not_checked", lang))
        else:
            entry = _result(control, planned, "error", _t("not_checked", lang))
        if waivers:
            entry = _apply_waiver(entry, _waiver_for(waivers, planned.id, "host", host, planned.dataset), today, lang)
        out.append(entry)
    planned_ids = hp.control_ids()
    for control in policy.controls:
        if control.scope != "site" and control.id not in planned_ids:
            out.append(_result(control, None, "not_applicable", _t("not_applicable", lang)))
    return out


def _site_controls(
    policy: Policy, inventory: Inventory, plan: Plan, site: str, today: dt.date, lang: str
) -> list[dict[str, Any]]:
    record = inventory.school("ivpb_sites").get(site) or {}
    waivers = next((hv.get("ivpb_waivers") for hv in inventory.hosts.values() if hv.get("ivpb_waivers")), []) or []
    max_days = next(
        (hv["ivpb_fire_plan_max_age_days"] for hv in inventory.hosts.values() if "ivpb_fire_plan_max_age_days" in hv),
        FIRE_MAX_AGE_DAYS,
    )
    planned = {c.id: c for c in plan.sites[site].controls}
    out = []
    for control in policy.controls:
        if control.scope != "site":
            continue
        if control.id not in planned:
            out.append(_result(control, None, "not_applicable", _t("not_applicable", lang)))
            continue
        fire = record.get("fire_protection") or {}
        measures, safety_plan = fire.get("measures") or [], fire.get("safety_plan")
        evidence = {"measures": measures, "safety_plan": safety_plan} if (measures or safety_plan) else None
        if not measures:
            status, detail = "missing", _t("fire_no_measures", lang, site=site)
        elif not safety_plan:
            status, detail = "missing", _t("fire_no_plan", lang, site=site)
        elif (today - dt.date.fromisoformat(safety_plan["date"])).days > max_days:
            status, detail = (
                "missing",
                _t("fire_old_plan", lang, ref=safety_plan["reference"], date=safety_plan["date"], days=max_days),
            )
        else:
            status, detail = (
                "compliant",
                _t("fire_ok", lang, n=len(measures), ref=safety_plan["reference"], date=safety_plan["date"]),
            )
        entry = _result(control, planned[control.id], status, detail, evidence=evidence)
        out.append(_apply_waiver(entry, _waiver_for(waivers, control.id, "site", site, None), today, lang))
    return out


def _fine(e: dict[str, Any]) -> bool:
    return e["status"] in ("compliant", "waived", "not_applicable") or bool(e.get("advisory"))


def summarize(policy: Policy, hosts: dict[str, Any], sites: dict[str, Any]) -> dict[str, Any]:
    """Counts per clause and overall, and per clause how many subjects (hosts, sites) are fully
    compliant, counting only subjects the clause applies to. One pass over the results."""
    totals = dict.fromkeys(STATUSES, 0)
    counts = {clause: dict.fromkeys(STATUSES, 0) for clause in policy.clauses}
    subjects = dict.fromkeys(policy.clauses, 0)
    compliant = dict.fromkeys(policy.clauses, 0)
    for subject in [*hosts.values(), *sites.values()]:
        ok: dict[str, bool] = {}  # clause -> all applicable results fine
        for e in subject["controls"]:
            status, clause = e["status"], e["clause"]
            totals[status] += 1
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
    return {"totals": totals, "clauses": clauses}


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
    inventory: millions; 0.8 s of the judging at 1,000 hosts), and the report holds no cycles for
    it to find; reference counting frees it as before."""
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
    for host in selected:
        hp = plan.hosts[host]
        hr = results.get(host)
        hosts[host] = {
            "site": hp.site,
            "biv": hp.biv,
            "reachable": hr.reachable if hr else True,
            "controls": _host_controls(policy, inventory, plan, host, results, found_by_host, now, lang),
        }
    selected_sites = {hosts[h]["site"] for h in hosts} | _receiving_sites(plan, hosts)
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


def _receiving_sites(plan: Plan, hosts: dict[str, Any]) -> set[str]:
    """Sites whose §5 duty comes from one of the selected hosts' data."""
    return {site for site, sp in plan.sites.items() if sp.hosts & set(hosts)}
