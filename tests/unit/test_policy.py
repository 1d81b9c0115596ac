"""The shipped policy file, and a school's own policy file."""

from __future__ import annotations

import pytest
import yaml

from ivpb.errors import UserError
from ivpb.policy import load_policy

# The controls the shipped policy has had since the policy note was first written down; a new
# control may join them (CONTRIBUTING.md, "Add a control"), none may go.
CONTROL_IDS = {
    "power.ups": "§2", "power.redundant_ups": "§2", "internet.failover": "§3", "internet.sla": "§3",
    "backup.weekly": "§4", "backup.daily": "§4", "backup.sync_offsite": "§4", "backup.annual_full": "§4",
    "backup.encrypted": "§4", "backup.best_practice": "§4", "fire.protection": "§5",
}
CLAUSE_OF = {"power": "§2", "internet": "§3", "backup": "§4", "fire": "§5"}  # by the id's first part


def test_shipped_policy_has_every_control_with_its_clause():
    policy = load_policy()
    found = {c.id: c.clause for c in policy.controls}
    assert CONTROL_IDS.items() <= found.items()
    assert {cid: CLAUSE_OF[cid.split(".")[0]] for cid in found} == found
    assert policy.clauses == {"§2": "Stroomvoorziening", "§3": "Internetverbinding", "§4": "Backups",
                              "§5": "Brandveiligheid"}


def test_every_sentence_is_quoted_from_the_seed(seed_text):
    flat = " ".join(seed_text.split())
    for control in load_policy().controls:
        # The policy file quotes the seed; the school's name is left out of the quotes.
        words = control.sentence.replace("(Persoons)gegevens", "gegevens").split()
        probe = " ".join(words[3:12]).rstrip(".")
        assert probe in flat, f"{control.id}: {probe!r} not in the seed"


def test_only_sla_is_advisory():
    assert [c.id for c in load_policy().controls if c.advisory] == ["internet.sla"]


def test_school_policy_with_renamed_levels(tmp_path):
    from importlib import resources

    raw = yaml.safe_load(resources.files("ivpb.policies").joinpath("backupbeleid.yml").read_text())
    renamed = {"laag": "gewoon", "belangrijk": "hoog", "noodzakelijk": "kritiek"}
    raw["levels"]["b"]["ladder"] = ["gewoon", "hoog", "kritiek"]
    for control in raw["controls"]:
        when = control["when"].get("any", {})
        if "b" in when:
            when["b"] = renamed[when["b"]]
    drills = raw["evidence"]["drill_max_age_days"]
    path = tmp_path / "eigen.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(UserError) as info:
        load_policy(str(path))  # the drill intervals still name the old levels: they would judge nothing
    assert any("'noodzakelijk' is not a level of b; expected one of gewoon, hoog, kritiek" in line
               for line in info.value.lines()), info.value.lines()
    raw["evidence"]["drill_max_age_days"] = {renamed[level]: days for level, days in drills.items()}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(UserError) as info:
        load_policy(str(path))  # the recovery targets too: the herstelplan would show none
    for level in ("noodzakelijk", "belangrijk", "laag"):
        assert any(line.endswith(f"recovery.{level}: '{level}' is not a level of b; expected one of gewoon, hoog, kritiek")
                   for line in info.value.lines()), info.value.lines()
    raw["recovery"] = {renamed[level]: words for level, words in raw["recovery"].items()}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    policy = load_policy(str(path))
    assert policy.recovery["kritiek"]["rpo"].startswith("simultaan gesynchroniseerd")
    assert policy.ladders["b"] == ("gewoon", "hoog", "kritiek")
    assert policy.control("power.ups").any_of == {"b": 1, "i": 1}
    assert policy.evidence["drill_max_age_days"]["kritiek"] == 92


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda r: r["controls"][0]["when"]["any"].update(b="hoog"), "controls[0].when.any.b: 'hoog' is not one of"),
        (lambda r: r["controls"][0].update(clause="§9"), "controls[0].clause: unknown clause '§9'"),
        (lambda r: r["controls"][0].update(scope="school"), "controls.0.scope"),
        (lambda r: r["controls"][4].update(superseded_by="backup.hourly"), "unknown control 'backup.hourly'"),
        # a threshold that names nothing its judges read would be ignored, the shipped one judged
        (lambda r: r["evidence"]["backup_max_age_hours"].update({"backup.dayly": 30}),
         "evidence.backup_max_age_hours: 'backup.dayly' is not a control judged backup_age in this policy; "
         "expected one of backup.daily, backup.weekly"),
        (lambda r: r["evidence"]["drill_max_age_days"].update(hoog=30), "'hoog' is not a level of b"),
        # bounded: a time span made of it, and a school year the longest cycle the policy knows
        (lambda r: r["evidence"]["backup_max_age_hours"].update({"backup.daily": 1e308}),
         "1e+308 is greater than the maximum of 8784"),
        (lambda r: r["evidence"].update(waiver_max_days=10**9), "greater than the maximum of 3660"),
        (lambda r: r["evidence"].update(clock_skew_seconds=float("nan")),
         "evidence.clock_skew_seconds: nan is not a finite number; expected a number"),
        (lambda r: r["evidence"].update(verify_max_age_days=float("inf")), "inf is not a finite number"),
    ],
)
def test_bad_policy_files_are_rejected_with_one_line(tmp_path, mutate, expected):
    from importlib import resources

    raw = yaml.safe_load(resources.files("ivpb.policies").joinpath("backupbeleid.yml").read_text())
    mutate(raw)
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(UserError) as info:
        load_policy(str(path))
    assert any(expected in line for line in info.value.lines()), info.value.lines()
