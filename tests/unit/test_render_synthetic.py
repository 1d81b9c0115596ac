"""Every renderer on a synthetic report of 1,000 hosts x ~15 controls (times printed, not asserted).

Also holds the helpers the other render tests share: the example fixture, its schema check, and
summarize() which computes a report's summary and exit code the way the audit defines them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ivpb.render import html, junit, markdown, report_table

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "report_example.json"
SCHEMA = ROOT / "src" / "ivpb" / "schemas" / "report.schema.json"
STATUSES = ("compliant", "drift", "missing", "waived", "not_applicable", "error")
PROBLEMS = {"drift", "missing", "error"}
RENDERERS = {"table": report_table, "markdown": markdown, "html": html, "junit": junit}


def load_example() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def validate_report(report: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(report)


def summarize(report: dict[str, Any]) -> dict[str, Any]:
    """Fill in summary and exit_code from hosts and sites (advisory results never block)."""
    totals = dict.fromkeys(STATUSES, 0)
    clauses: dict[str, dict[str, Any]] = {
        cid: {"title": title, "counts": dict.fromkeys(STATUSES, 0), "subjects": 0, "subjects_compliant": 0}
        for cid, title in report["policy"]["clauses"].items()
    }
    basis = {"checked": 0, "attested": 0, "pulled": 0}  # results not n/a, by how they were arrived at
    blocking = error = False
    for subject in [*report["hosts"].values(), *report["sites"].values()]:
        seen: dict[str, bool] = {}
        for c in subject["controls"]:
            totals[c["status"]] += 1
            basis[c.get("basis", "checked")] += c["status"] != "not_applicable"
            clauses[c["clause"]]["counts"][c["status"]] += 1
            bad = c["status"] in PROBLEMS and not c.get("advisory")
            seen[c["clause"]] = seen.get(c["clause"], True) and not bad
            error |= c["status"] == "error"
            blocking |= bad
        for cid, ok in seen.items():
            clauses[cid]["subjects"] += 1
            clauses[cid]["subjects_compliant"] += ok
    report["summary"] = {"totals": totals, "basis": basis, "clauses": clauses}
    report["exit_code"] = 1 if error else (2 if blocking else 0)
    return report


def synthetic(n_hosts: int = 1000) -> dict[str, Any]:
    """Copies of the example's fileserver (17 controls) and nas (9), 3:1, so 15 controls a host on
    average; most comply, the rest keep the example's statuses (diffs, waivers); 40 sites."""
    example = load_example()
    templates = [example["hosts"]["fileserver"]] * 3 + [example["hosts"]["nas"]]
    hosts = {}
    for n in range(n_hosts):
        tpl = templates[n % 4]
        controls = []
        for k, c in enumerate(tpl["controls"]):
            c = dict(c)
            if (n + k) % 7:  # most controls comply; the rest keep the example's mix
                c["status"] = "compliant"
                c.pop("diff", None)
                c.pop("waiver", None)
            controls.append(c)
        hosts[f"host{n:04d}"] = {**tpl, "site": f"site{n % 40:02d}", "controls": controls}
    site = example["sites"]["kleuterschool"]
    report = {**example, "hosts": hosts, "sites": {f"site{n:02d}": site for n in range(40)}}
    return summarize(report)


@pytest.fixture(scope="module")
def big_report() -> dict[str, Any]:
    report = synthetic()
    validate_report(report)
    return report


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_thousand_hosts_render(big_report, fmt, capsys):
    n_controls = sum(len(h["controls"]) for h in big_report["hosts"].values())
    start, cpu = time.perf_counter(), time.process_time()
    out = RENDERERS[fmt].render(big_report, "nl")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert "host0999" in out if fmt != "table" else "(501 van 1000)" in out or "van 1000)" in out
    with capsys.disabled():
        print(
            f"\n{fmt}: 1000 hosts, {n_controls} controls rendered in {elapsed:.2f} s "
            f"(CPU {cpu:.2f} s; {len(out) / 1e6:.1f} MB)"
        )


def test_fixture_validates_against_the_schema():
    validate_report(load_example())


def test_fixture_has_every_status_and_its_summary_is_consistent():
    report = load_example()
    statuses = {c["status"] for s in [*report["hosts"].values(), *report["sites"].values()] for c in s["controls"]}
    assert statuses == set(STATUSES)
    before = json.dumps(report["summary"], sort_keys=True), report["exit_code"]
    summarize(report)
    assert (json.dumps(report["summary"], sort_keys=True), report["exit_code"]) == before


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_an_empty_report_renders(fmt, lang):
    report = summarize(
        {
            "schema_version": 1,
            "generated_at": "2026-11-30T06:00:00Z",
            "lang": "nl",
            "policy": {"id": "backupbeleid", "title": "Backupbeleid", "clauses": {"§2": "Stroomvoorziening"}},
            "inventory": [],
            "hosts": {},
            "sites": {},
        }
    )
    validate_report(report)
    out = RENDERERS[fmt].render(report, lang)
    assert "Stroomvoorziening" in out


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_unknown_language_is_refused(fmt):
    with pytest.raises(ValueError, match="'fr'"):
        RENDERERS[fmt].render(load_example(), "fr")
