"""`ivpb diff` (issue #24): between two recorded audits, exactly what went wrong, what was fixed
and what stays open, in the school's language and as JSON; exit 2 when a result went from in
order to not in order, 0 otherwise, 1 when there is nothing to compare with."""

from __future__ import annotations

import copy
import json

import pytest

from ivpb.cli import main
from ivpb.errors import UserError
from ivpb.history.diff import compare, exit_code, parse_since, pick
from ivpb.history.store import Store

from .test_render_synthetic import load_example, summarize

MONDAY, TUESDAY, WEDNESDAY = "2026-11-30T06:00:00Z", "2026-12-01T06:00:00Z", "2026-12-02T06:00:00Z"


def example(when: str = MONDAY) -> dict:
    report = copy.deepcopy(load_example())
    report["generated_at"] = when
    return summarize(report)


def result(report: dict, subject: str, cid: str, dataset: str | None = None) -> dict:
    group = "sites" if subject in report["sites"] else "hosts"
    return next(c for c in report[group][subject]["controls"] if c["id"] == cid and c.get("dataset") == dataset)


def changed(report: dict, subject: str, cid: str, status: str, dataset: str | None = None, detail: str = "") -> dict:
    """A copy of report with one result's status (and finding) changed."""
    out = copy.deepcopy(report)
    c = result(out, subject, cid, dataset)
    c["status"] = status
    c["detail"] = detail or c["detail"]
    out.pop("summary")
    return summarize(out)


def names(changes: list[dict]) -> list[tuple]:
    return [(c["subject"], c["control"], c["dataset"], c["before"], c["after"]) for c in changes]


# The example's results not in order (the advisory internet.sla among them): open in both audits.
OPEN = [("fileserver", "power.redundant_ups", None, "drift", "drift"),
        ("fileserver", "internet.sla", None, "missing", "missing"),
        ("fileserver", "backup.best_practice", "leerlingenadministratie", "drift", "drift"),
        ("fileserver", "backup.daily", "boekhouding", "drift", "drift"),
        ("fileserver", "backup.daily", "personeelsdossiers", "drift", "drift"),
        ("nas", "backup.annual_full", "fotos", "missing", "missing"),
        ("nas", "backup.annual_full", "lesmateriaal", "drift", "drift"),
        ("secretariaat", "power.ups", None, "error", "error"),
        ("kleuterschool", "fire.protection", None, "missing", "missing")]


def test_a_new_fault_is_named_exactly_and_exits_2():
    before = example()
    after = changed(example(TUESDAY), "nas", "power.ups", "drift", detail="upsmon is not running")
    changes = compare(before, after)
    assert names(changes["new_failures"]) == [("nas", "power.ups", None, "compliant", "drift")]
    assert changes["new_failures"][0]["detail"] == "upsmon is not running"
    assert changes["fixed"] == [] and changes["changed"] == []
    assert changes["appeared"] == [] and changes["disappeared"] == []
    assert names(changes["still_open"]) == OPEN
    assert exit_code(changes) == 2


def test_a_fix_alone_exits_0():
    before = example()
    after = changed(example(TUESDAY), "fileserver", "power.redundant_ups", "compliant")
    changes = compare(before, after)
    assert names(changes["fixed"]) == [("fileserver", "power.redundant_ups", None, "drift", "compliant")]
    assert changes["new_failures"] == []
    assert names(changes["still_open"]) == OPEN[1:]
    assert exit_code(changes) == 0


def test_nothing_changed_is_nothing_but_what_stays_open():
    changes = compare(example(), example(TUESDAY))
    assert {k: v for k, v in changes.items() if v and k != "still_open"} == {}
    assert names(changes["still_open"]) == OPEN and exit_code(changes) == 0


@pytest.mark.parametrize(("was", "now", "category", "code"), [
    ("waived", "drift", "new_failures", 2),          # the waiver ran out
    ("not_applicable", "missing", "new_failures", 2),
    ("compliant", "error", "new_failures", 2),       # could not be checked: not in order
    ("drift", "error", "still_open", 0),
    ("error", "not_applicable", "fixed", 0),
    ("compliant", "waived", "changed", 0),
])
def test_in_order_is_compliant_waived_or_not_applicable(was, now, category, code):
    before = changed(example(), "nas", "power.ups", was)
    after = changed(example(TUESDAY), "nas", "power.ups", now)
    changes = compare(before, after)
    found = [c for c in changes[category] if (c["subject"], c["control"]) == ("nas", "power.ups")]
    assert names(found) == [("nas", "power.ups", None, was, now)]
    assert exit_code(changes) == code


def test_an_advisory_control_that_went_wrong_is_listed_and_blocks_nothing():
    before = changed(example(), "fileserver", "internet.sla", "compliant")
    changes = compare(before, example(TUESDAY))
    assert names(changes["new_failures"]) == [("fileserver", "internet.sla", None, "compliant", "missing")]
    assert changes["new_failures"][0]["advisory"] is True
    assert exit_code(changes) == 0


def test_hosts_and_controls_that_came_or_went():
    before = example()
    after = copy.deepcopy(before)
    gone = after["hosts"].pop("secretariaat")
    after["hosts"]["nieuw"] = copy.deepcopy(gone)
    after["hosts"]["nieuw"]["controls"][0]["status"] = "drift"
    after["sites"]["hoofdgebouw"]["controls"] = []
    changes = compare(before, summarize(after))
    assert names(changes["appeared"]) == [("nieuw", "power.ups", None, None, "drift")]
    assert names(changes["disappeared"]) == [("secretariaat", "power.ups", None, "error", None),
                                             ("hoofdgebouw", "fire.protection", None, "compliant", None)]
    assert changes["new_failures"] == [] and exit_code(changes) == 0


def test_audits_of_other_hosts_compare_only_the_hosts_both_asked():
    full = example()
    limited = copy.deepcopy(full)
    limited["hosts"] = {"nas": limited["hosts"]["nas"]}
    limited["sites"] = {}
    limited = changed(limited, "nas", "power.ups", "drift")
    changes = compare(full, limited, common_only=True)
    assert names(changes["new_failures"]) == [("nas", "power.ups", None, "compliant", "drift")]
    assert changes["disappeared"] == [] and changes["appeared"] == []
    assert {c["subject"] for c in changes["still_open"]} == {"nas"}


@pytest.mark.parametrize(("value", "parsed"), [
    ("last", "last"), ("7", 7), ("2026-12-01", "2026-12-01T23:59:59Z"), ("2026-12-01T05:00", "2026-12-01T05:00:00Z"),
    ("2026-12-01T07:00+01:00", "2026-12-01T06:00:00Z"),
])
def test_since_is_last_a_number_or_a_date(value, parsed):
    assert parse_since(value) == parsed


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "-1", ""])
def test_since_refuses_anything_else(value):
    with pytest.raises(ValueError, match="expected last, an audit's number or a date"):
        parse_since(value)


@pytest.fixture
def store(tmp_path):
    """Audits 1-4: Monday full, Tuesday full, Tuesday --limit nas (nas broken), Wednesday full (nas broken)."""
    s = Store.open(tmp_path / "history.sqlite", create=True)
    s.append(example(MONDAY), "c1", None)
    s.append(example(TUESDAY), "c2", None)
    broken = changed(example(TUESDAY), "nas", "power.ups", "drift")
    only_nas = copy.deepcopy(broken)
    only_nas["hosts"] = {"nas": only_nas["hosts"]["nas"]}
    s.append(only_nas, "c2", "nas")
    s.append(changed(example(WEDNESDAY), "nas", "power.ups", "drift"), "c3", None)
    yield s
    s.close()


@pytest.mark.parametrize(("since", "earlier"), [
    ("last", 2),                      # the limited audit 3 did not ask every host audit 4 asked
    (1, 1), (3, 3),
    ("2026-12-01T23:59:59Z", 2), ("2026-12-01T05:00:00Z", 1), ("2026-11-30T06:00:00Z", 1),
])
def test_which_earlier_audit_since_names(store, since, earlier):
    before, newest = pick(store.entries(), since, "h")
    assert (before.id, newest.id) == (earlier, 4)


@pytest.mark.parametrize(("since", "message"), [
    (9, "h: no audit 9 (ivpb history lists them)"),
    (4, "h: audit 4 is the newest; --since names an earlier one"),
    ("2026-11-29T23:59:59Z", "h: no audit at or before 2026-11-29T23:59:59Z (ivpb history lists them)"),
])
def test_an_earlier_audit_that_is_not_there(store, since, message):
    with pytest.raises(UserError) as info:
        pick(store.entries(), since, "h")
    assert str(info.value) == message


def test_a_limited_audit_is_compared_with_the_last_that_asked_its_hosts(tmp_path):
    s = Store.open(tmp_path / "h.sqlite", create=True)
    with pytest.raises(UserError, match="no audit recorded yet"):
        pick(s.entries(), "last", "h")
    s.append(example(MONDAY), None, "fileserver")
    s.append(example(TUESDAY), None, "nas")
    with pytest.raises(UserError, match="h: no audit of every host of --limit nas before audit 2"):
        pick(s.entries(), "last", "h")
    s.append(example(TUESDAY), None, None)
    s.append(example(WEDNESDAY), None, "nas")
    assert [e.id for e in pick(s.entries(), "last", "h")] == [3, 4]


def test_ivpb_diff_names_the_fault_in_dutch_and_exits_2(store, capsys):
    assert main(["diff", "-i", "inv", "--history", str(store.path)]) == 2
    out = capsys.readouterr().out
    assert out.startswith("Wat veranderde tussen audit 2 van 1 december 2026, 06:00 UTC (inventaris op commit c2) "
                          "en audit 4 van 2 december 2026, 06:00 UTC (inventaris op commit c3)\n")
    went_wrong = out.split("Nieuw niet in orde (1):\n")[1].split("\n\n")[0].splitlines()
    assert went_wrong[2].split()[:5] == ["nas", "§2", "power.ups", "voldoet", "→"]
    assert "Opgelost: geen" in out and "Blijft open (9):" in out
    assert out.endswith("Resultaat: 1 maatregel(en) gingen van in orde naar niet in orde (exit 2).\n")


def test_ivpb_diff_as_json_in_english(store, capsys):
    assert main(["diff", "-i", "inv", "--history", str(store.path), "--since", "1", "--format", "json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["from"] == {"id": 1, "generated_at": MONDAY, "git_commit": "c1", "limit": None, "exit_code": 1}
    assert doc["to"]["id"] == 4 and doc["exit_code"] == 2 and doc["common_subjects_only"] is False
    assert [(c["kind"], c["subject"], c["control"]) for c in doc["new_failures"]] == [("host", "nas", "power.ups")]
    assert main(["diff", "-i", "inv", "--history", str(store.path), "--since", "3", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "The audits did not ask the same hosts (--limit)" in out and "Went wrong: none" in out
    assert out.endswith("Result: nothing went from in order to not in order (exit 0).\n")


def test_ivpb_diff_with_nothing_to_compare_exits_1(tmp_path, capsys):
    s = Store.open(tmp_path / "h.sqlite", create=True)
    s.append(example(), None, None)
    assert main(["diff", "-i", "inv", "--history", str(s.path)]) == 1
    assert capsys.readouterr().err == f"{s.path}: no audit before audit 1 to compare it with\n"
    assert main(["diff", "-i", "inv", "--history", str(s.path), "--since", "5"]) == 1
    assert capsys.readouterr().err == f"{s.path}: no audit 5 (ivpb history lists them)\n"


def test_a_since_that_is_no_audit_is_a_usage_error(store, capsys):
    with pytest.raises(SystemExit) as info:
        main(["diff", "-i", "inv", "--history", str(store.path), "--since", "gisteren"])
    assert info.value.code == 64  # EX_USAGE: 2 is the audit's drift, and diff's regression
    assert capsys.readouterr().err.splitlines()[-1] == (
        "ivpb diff: error: argument --since: 'gisteren': expected last, an audit's number or a date (YYYY-MM-DD[THH:MM])")
