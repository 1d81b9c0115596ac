"""Judge every host and site against every control: plan + check-run results + evidence
freshness + §5 site records + waivers -> the report (schemas/report.schema.json)."""

from __future__ import annotations

import datetime as dt
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
    "not_checked": {"nl": "niet gecontroleerd: geen module rapporteerde deze maatregel",
                    "en": "not checked: no module reported this control"},
    "no_backup": {"nl": "geen geslaagde backup gevonden", "en": "no successful backup found"},
    "stale": {"nl": "laatste geslaagde backup {when} ({hours} uur geleden, maximum {max_hours})",
              "en": "last successful backup {when} ({hours} hours ago, at most {max_hours})"},
    "no_annual": {"nl": "geen volledige backup in schooljaar {year}", "en": "no full backup in school year {year}"},
    "waived": {"nl": "uitzondering tot {expires}: {justification}", "en": "waived until {expires}: {justification}"},
    "waiver_expired": {"nl": "uitzondering verlopen op {expires}", "en": "waiver expired on {expires}"},
    "not_applicable": {"nl": "niet van toepassing", "en": "not applicable"},
    "fire_ok": {"nl": "{n} maatregelen; veiligheidsplan {ref} van {date}",
                "en": "{n} measures; safety plan {ref} of {date}"},
    "fire_no_measures": {
        "nl": "geen brandbeveiligingsmaatregelen geregistreerd (ivpb_sites.{site}.fire_protection.measures)",
        "en": "no fire protection measures recorded (ivpb_sites.{site}.fire_protection.measures)",
    },
    "fire_no_plan": {
        "nl": "geen veiligheidsplan met de hulpdiensten geregistreerd (ivpb_sites.{site}.fire_protection.safety_plan)",
        "en": "no safety plan with the emergency services recorded (ivpb_sites.{site}.fire_protection.safety_plan)",
    },
    "fire_old_plan": {"nl": "veiligheidsplan {ref} van {date} is ouder dan {days} dagen",
                      "en": "safety plan {ref} of {date} is older than {days} days"},
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
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _freshness(entry: dict[str, Any], now: dt.datetime, lang: str) -> dict[str, Any]:
    """Evidence beyond configuration: a right cron line without a recent backup is drift."""
    cid, evidence = entry["id"], entry.get("evidence") or {}
    if entry["status"] != "compliant":
        return entry
    if cid in MAX_AGE:
        last = parse_time(evidence.get("last_backup"))
        if last is None:
            return {**entry, "status": "drift", "detail": _t("no_backup", lang)}
        age = now - last
        if age > MAX_AGE[cid]:
            return {**entry, "status": "drift", "detail": _t(
                "stale", lang, when=last.strftime("%Y-%m-%d %H:%M UTC"), hours=int(age.total_seconds() // 3600),
                max_hours=int(MAX_AGE[cid].total_seconds() // 3600))}
    if cid == "backup.annual_full":
        start, end, label = school_year(now.date())
        # backup_job reports "<school year> <UTC time>" of the newest yearly full chain
        raw = evidence.get("last_annual") or evidence.get("last_annual_full") or ""
        last = parse_time(str(raw).split()[-1] if raw else None)
        if last is None or not (start <= last.date() <= end):
            return {**entry, "status": "drift", "detail": _t("no_annual", lang, year=label)}
    return entry


def _waiver_for(waivers: list[dict[str, Any]], cid: str, subject_key: str, subject: str,
                dataset: str | None) -> dict[str, Any] | None:
    """The matching waiver that expires last (an active one wins over an expired one)."""
    matches = [
        w for w in waivers
        if w["control"] == cid and w.get(subject_key) == subject
        and ("dataset" not in w or w["dataset"] == dataset)
    ]
    return max(matches, key=lambda w: w["expires"], default=None)


def _apply_waiver(entry: dict[str, Any], waiver: dict[str, Any] | None, today: dt.date, lang: str) -> dict[str, Any]:
    if waiver is None or entry["status"] in ("compliant", "not_applicable"):
        return entry
    active = dt.date.fromisoformat(waiver["expires"]) >= today
    info = {"justification": waiver["justification"], "approver": waiver["approver"],
            "expires": waiver["expires"], "active": active, "underlying_status": entry["status"]}
    if active:
        detail = _t("waived", lang, expires=waiver["expires"], justification=waiver["justification"])
        return {**entry, "status": "waived", "waiver": info, "detail": f"{detail} ({entry['detail']})"}
    detail = f"{entry['detail']}; {_t('waiver_expired', lang, expires=waiver['expires'])}"
    return {**entry, "waiver": info, "detail": detail}


def _result(control: Control, planned: PlannedControl | None, status: str, detail: str,
            **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": control.id, "clause": control.clause, "sentence": control.sentence,
                           "status": status, "detail": detail}
    if planned is not None:
        if planned.dataset:
            out["dataset"] = planned.dataset
        out["because"] = planned.because
    if control.advisory:
        out["advisory"] = True
    out.update({k: v for k, v in extra.items() if v})
    return out


def _found(results: HostResults | None, cid: str, dataset: str | None) -> list[dict[str, Any]]:
    if results is None:
        return []
    return [c for c in results.controls if c["id"] == cid and c.get("dataset") == dataset]


def _host_controls(policy: Policy, inventory: Inventory, plan: Plan, host: str,
                   results: dict[str, HostResults], now: dt.datetime, lang: str) -> list[dict[str, Any]]:
    hp = plan.hosts[host]
    hv = inventory.hosts[host]
    mine = results.get(host)
    waivers = hv.get("ivpb_waivers") or []
    out = []
    for planned in hp.controls:
        control = policy.control(planned.id)
        if mine is not None and not mine.reachable:
            out.append(_result(control, planned, "error", _t("unreachable", lang, msg=mine.unreachable_msg)))
            continue
        found = _found(mine, planned.id, planned.dataset)
        via = hv.get("ivpb_internet_via")
        if not found and via and planned.id in VIA_CONTROLS:
            found = _found(results.get(via), planned.id, None)
        if found:
            worst = min(found, key=lambda c: SEVERITY.get(c.get("status"), 0))
            status = worst.get("status") if worst.get("status") in STATUSES else "error"
            entry = _result(control, planned, status, str(worst.get("detail", "")),
                            evidence=worst.get("evidence"), diff=worst.get("diff") if status == "drift" else None)
            entry = _freshness(entry, now, lang)
        elif mine is not None and mine.failures:
            entry = _result(control, planned, "error", _t("task_failed", lang, msg=mine.failures[0]))
        elif control.advisory:
            entry = _result(control, planned, "missing", _t("not_checked", lang))
        else:
            entry = _result(control, planned, "error", _t("not_checked", lang))
        waiver = _waiver_for(waivers, planned.id, "host", host, planned.dataset)
        out.append(_apply_waiver(entry, waiver, now.date(), lang))
    planned_ids = hp.control_ids()
    for control in policy.controls:
        if control.scope != "site" and control.id not in planned_ids:
            out.append(_result(control, None, "not_applicable", _t("not_applicable", lang)))
    return out


def _site_controls(policy: Policy, inventory: Inventory, plan: Plan, site: str, today: dt.date,
                   lang: str) -> list[dict[str, Any]]:
    record = inventory.school("ivpb_sites").get(site) or {}
    waivers = next((hv.get("ivpb_waivers") for hv in inventory.hosts.values() if hv.get("ivpb_waivers")), []) or []
    max_days = next((hv["ivpb_fire_plan_max_age_days"] for hv in inventory.hosts.values()
                     if "ivpb_fire_plan_max_age_days" in hv), FIRE_MAX_AGE_DAYS)
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
            status, detail = "missing", _t("fire_old_plan", lang, ref=safety_plan["reference"],
                                           date=safety_plan["date"], days=max_days)
        else:
            status, detail = "compliant", _t("fire_ok", lang, n=len(measures), ref=safety_plan["reference"],
                                             date=safety_plan["date"])
        entry = _result(control, planned[control.id], status, detail, evidence=evidence)
        out.append(_apply_waiver(entry, _waiver_for(waivers, control.id, "site", site, None), today, lang))
    return out


def _counts(entries: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for e in entries:
        counts[e["status"]] += 1
    return counts


def _ok(entries: list[dict[str, Any]]) -> bool:
    return all(e["status"] in ("compliant", "waived", "not_applicable") or e.get("advisory") for e in entries)


def summarize(policy: Policy, hosts: dict[str, Any], sites: dict[str, Any]) -> dict[str, Any]:
    everything = [e for h in hosts.values() for e in h["controls"]] + [e for s in sites.values() for e in s["controls"]]
    clauses = {}
    for clause, title in policy.clauses.items():
        subjects = [
            [e for e in subject["controls"] if e["clause"] == clause and e["status"] != "not_applicable"]
            for subject in [*hosts.values(), *sites.values()]
        ]
        subjects = [s for s in subjects if s]
        clauses[clause] = {
            "title": title,
            "counts": _counts([e for e in everything if e["clause"] == clause]),
            "subjects": len(subjects),
            "subjects_compliant": sum(1 for s in subjects if _ok(s)),
        }
    return {"totals": _counts(everything), "clauses": clauses}


def exit_code(hosts: dict[str, Any], sites: dict[str, Any]) -> int:
    entries = [e for h in hosts.values() for e in h["controls"]] + [e for s in sites.values() for e in s["controls"]]
    if any(e["status"] == "error" for e in entries):
        return 1
    if any(e["status"] in ("drift", "missing") and not e.get("advisory") for e in entries):
        return 2
    return 0


def build_report(policy: Policy, inventory: Inventory, plan: Plan, results: dict[str, HostResults],
                 selected: list[str], now: dt.datetime, lang: str = "nl") -> dict[str, Any]:
    hosts = {}
    for host in selected:
        hp = plan.hosts[host]
        hr = results.get(host)
        hosts[host] = {
            "site": hp.site, "biv": hp.biv, "reachable": hr.reachable if hr else True,
            "controls": _host_controls(policy, inventory, plan, host, results, now, lang),
        }
    selected_sites = {hosts[h]["site"] for h in hosts} | _receiving_sites(plan, hosts)
    sites = {
        name: {"external": bool((inventory.school("ivpb_sites").get(name) or {}).get("external")),
               "controls": _site_controls(policy, inventory, plan, name, now.date(), lang)}
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
