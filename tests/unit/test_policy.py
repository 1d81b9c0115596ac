"""The shipped policy file, and a school's own policy file."""

from __future__ import annotations

import pytest
import yaml

from ivpb.errors import UserError
from ivpb.policy import load_policy

CONTROL_IDS = {
    "power.ups": "§2", "power.redundant_ups": "§2", "internet.failover": "§3", "internet.sla": "§3",
    "backup.weekly": "§4", "backup.daily": "§4", "backup.sync_offsite": "§4", "backup.annual_full": "§4",
    "backup.encrypted": "§4", "backup.best_practice": "§4", "fire.protection": "§5",
}


def test_shipped_policy_has_every_control_with_its_clause():
    policy = load_policy()
    assert {c.id: c.clause for c in policy.controls} == CONTROL_IDS
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
    raw["levels"]["b"]["ladder"] = ["gewoon", "hoog", "kritiek"]
    for control in raw["controls"]:
        when = control["when"].get("any", {})
        if "b" in when:
            when["b"] = {"belangrijk": "hoog", "noodzakelijk": "kritiek"}[when["b"]]
    path = tmp_path / "eigen.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    policy = load_policy(str(path))
    assert policy.ladders["b"] == ("gewoon", "hoog", "kritiek")
    assert policy.control("power.ups").any_of == {"b": 1, "i": 1}


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda r: r["controls"][0]["when"]["any"].update(b="hoog"), "controls[0].when.any.b: 'hoog' is not one of"),
        (lambda r: r["controls"][0].update(clause="§9"), "controls[0].clause: unknown clause '§9'"),
        (lambda r: r["controls"][0].update(scope="school"), "controls.0.scope"),
        (lambda r: r["controls"][4].update(superseded_by="backup.hourly"), "unknown control 'backup.hourly'"),
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
