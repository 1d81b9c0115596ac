"""The policy file owns the controls (issue #15): which role enforces each, how the audit judges
its evidence, where it runs. A school's own policy file (`--policy FILE`) that changes an
evidence age and removes a control changes the plan, the role groups, validation and the audit."""

from __future__ import annotations

import copy
import datetime as dt
import json
from importlib import resources
from pathlib import Path

import pytest
import yaml

from ivpb.audit.evaluate import build_report
from ivpb.audit.results import HostResults, attach_protected, record
from ivpb.cli import main
from ivpb.errors import UserError
from ivpb.plan import plan_inventory
from ivpb.policy import load_policy
from ivpb.roles import role_groups
from ivpb.validate import validate
from tests.unit.test_drills import school  # srv1 stores admin (b=belangrijk) backed up to nas2

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
SHIPPED = yaml.safe_load(resources.files("ivpb.policies").joinpath("backupbeleid.yml").read_text(encoding="utf-8"))
AT = {c["id"]: i for i, c in enumerate(SHIPPED["controls"])}  # where each control stands in the policy file


def own_policy(tmp_path: Path, drop: tuple[str, ...] = (), **evidence) -> str:
    raw = copy.deepcopy(SHIPPED)
    raw["controls"] = [c for c in raw["controls"] if c["id"] not in drop]
    raw["evidence"] = evidence
    path = tmp_path / "eigen-beleid.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(path)


def srv1_results(daily: str = "backup.daily") -> dict[str, HostResults]:
    """srv1's backup module: a configured daily backup (reported under `daily`, the id the policy
    gives it) whose last success is 28 hours old, as its receiver nas2 holds it too."""
    results: dict[str, HostResults] = {}
    record(results, "runner_on_ok", "srv1", {
        "host_time": "2026-11-29T12:00:00Z",
        "controls": [{"id": daily, "dataset": "admin", "status": "compliant", "detail": "cron",
                      "evidence": {"last_backup": "2026-11-28T08:00:00Z"}}],
    }, "Backup jobs")
    record(results, "runner_on_ok", "nas2", {"protected": {"srv1": {"admin": "2026-11-28T08:00:00Z"}}}, "Receivers")
    attach_protected(results, {daily}, {"srv1": ["nas2"]})
    return results


def controls_of(report: dict, host: str) -> dict[str, dict]:
    return {c["id"]: c for c in report["hosts"][host]["controls"]}


def test_a_school_policy_changes_an_evidence_age_and_removes_a_control(tmp_path: Path):
    inventory = school()
    shipped = load_policy()
    own = load_policy(own_policy(tmp_path, drop=("power.ups",), backup_max_age_hours={"backup.daily": 30}))

    shipped_plan, own_plan = plan_inventory(inventory, shipped), plan_inventory(inventory, own)
    assert "power.ups" in shipped_plan.hosts["srv1"].control_ids()
    assert own_plan.hosts["srv1"].control_ids() == shipped_plan.hosts["srv1"].control_ids() - {"power.ups"}
    assert role_groups(inventory, shipped_plan)["srv1"] == ["ivpb_backup", "ivpb_power"]
    assert role_groups(inventory, own_plan)["srv1"] == ["ivpb_backup"]

    report = build_report(shipped, inventory, shipped_plan, srv1_results(), list(inventory.hosts), NOW, "en")
    daily = controls_of(report, "srv1")["backup.daily"]
    assert daily["status"] == "drift" and "28 h old, at most 26 h" in daily["detail"]
    assert controls_of(report, "srv1")["power.ups"]["status"] == "error"  # planned, nobody reported it

    report = build_report(own, inventory, own_plan, srv1_results(), list(inventory.hosts), NOW, "en")
    assert controls_of(report, "srv1")["backup.daily"]["status"] == "compliant"
    assert "power.ups" not in controls_of(report, "srv1")  # not even not_applicable: it is no control
    assert "power.ups" not in controls_of(report, "nas2")


def test_a_removed_control_is_no_longer_required_by_validation(tmp_path: Path):
    inventory = school()
    for hv in inventory.hosts.values():
        hv["ivpb_datasets"] = {"admin": {"biv": {"b": "noodzakelijk", "i": "laag", "v": "intern"}}}
    inventory.hosts["srv1"]["ivpb_stores"][0]["sync_target"] = "off"
    inventory.hosts["nas2"]["ivpb_nut_server"] = {"ups": {"ups-a": {"driver": "dummy-ups", "port": "a.dev"}}}
    inventory.hosts["srv1"]["ivpb_ups_feeds"] = [{"server": "nas2", "ups": "ups-a"}]
    inventory.hosts["srv1"]["ivpb_nut_password"] = "geheim-genoeg"

    def lines(policy):
        return [p.line() for p in validate(inventory, policy)]

    assert any("power.redundant_ups applies" in line for line in lines(load_policy()))
    own = load_policy(own_policy(tmp_path, drop=("power.redundant_ups",)))
    assert not any("power.redundant_ups" in line for line in lines(own))


def test_ivpb_plan_with_a_school_policy_on_the_command_line(example_inventory, tmp_path: Path, capsys):
    own = own_policy(tmp_path, drop=("power.redundant_ups",), backup_max_age_hours={"backup.daily": 30})
    assert main(["plan", "-i", str(example_inventory), "--policy", own, "--format", "json"]) == 0
    ids = {c["id"] for c in json.loads(capsys.readouterr().out)["hosts"]["fileserver"]["controls"]}
    assert "power.ups" in ids and "power.redundant_ups" not in ids
    assert main(["validate", "-i", str(example_inventory), "--policy", own]) == 0


def test_routing_and_role_groups_come_from_the_policy_file(example_inventory, tmp_path: Path):
    """internet.failover runs on the host that routes the fileserver (its ivpb_internet_via);
    a school whose policy says it runs on the host itself puts the fileserver in the group
    instead (the example's router declares no uplinks of its own)."""
    from ivpb.inventory import load_inventory

    inventory = load_inventory([str(example_inventory)])
    raw = copy.deepcopy(SHIPPED)
    for c in raw["controls"]:
        if c["id"].startswith("internet."):
            c["enforced_by"]["runs_on"] = "host"
    path = tmp_path / "eigen.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    shipped = role_groups(inventory, plan_inventory(inventory, load_policy()))
    own = role_groups(inventory, plan_inventory(inventory, load_policy(str(path))))
    assert "ivpb_internet" not in shipped["fileserver"] and "ivpb_internet" in own["fileserver"]
    assert "ivpb_internet" in shipped["router"] and "ivpb_internet" not in own["router"]


@pytest.mark.parametrize(
    ("change", "where", "expected"),
    [
        (lambda c: c["fire.protection"].update(enforced_by={"role": "backup", "module": "backup_job", "duty": "daily"}),
         f"controls[{AT['fire.protection']}].enforced_by", "enforced by no role"),
        (lambda c: c["backup.daily"]["enforced_by"].update(duty="hourly"),
         f"controls[{AT['backup.daily']}].enforced_by.duty", "'hourly' is not a duty of backup_job; expected one of daily, weekly"),
        (lambda c: c["power.ups"]["enforced_by"].update(module="apcupsd"),
         f"controls[{AT['power.ups']}].enforced_by.module", "'apcupsd' is not one of nut_client, wan_failover, backup_job"),
        (lambda c: c["backup.weekly"]["enforced_by"].update(duty="daily"),
         f"controls[{AT['backup.daily']}].enforced_by.duty", "backup.weekly asks daily of backup_job already; expected one control per duty"),
        (lambda c: c["internet.sla"]["enforced_by"].pop("duty"), f"controls.{AT['internet.sla']}.enforced_by", "'duty' is a required"),
        (lambda c: c["backup.encrypted"].update(scope="host"), f"controls[{AT['backup.encrypted']}].scope",
         "backup_job enforces controls per data set; expected scope dataset"),
        (lambda c: c["power.ups"].update(scope="dataset"), f"controls[{AT['power.ups']}].scope",
         "nut_client enforces controls per host; expected scope host"),
        (lambda c: c["fire.protection"]["evidence"].update(judge="backup_age"),
         f"controls[{AT['fire.protection']}].evidence.judge", "expected judge: fire_record"),
        (lambda c: c["backup.encrypted"].pop("enforced_by"), f"controls[{AT['backup.encrypted']}].enforced_by", "required for a dataset"),
        (lambda c: c["backup.daily"]["evidence"].update(judge="fire_record"),
         f"controls[{AT['backup.daily']}].evidence.judge", "judges a site's record"),
        (lambda c: c["backup.encrypted"].update(evidence={"judge": "backup_age"}),
         "evidence.backup_max_age_hours", "backup.encrypted is judged backup_age"),
        (lambda c: c["backup.daily"]["enforced_by"].update(runs_on="router"),
         f"controls[{AT['backup.daily']}].enforced_by.runs_on", "only a host control"),
        (lambda c: c["power.ups"]["evidence"].update(judge="magic"), f"controls.{AT['power.ups']}.evidence.judge", "'magic'"),
    ],
)
def test_a_wrong_enforcement_in_a_school_policy_is_one_clear_line(tmp_path: Path, change, where, expected):
    raw = copy.deepcopy(SHIPPED)
    change({c["id"]: c for c in raw["controls"]})
    path = tmp_path / "eigen.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(UserError) as err:
        load_policy(str(path))
    assert any(p.path == where and expected in p.message for p in err.value.problems), err.value.problems


def test_every_judge_the_policy_schema_allows_has_its_function():
    """The schema's judges are exactly the audit's (JUDGES) plus the sites' record: a control's
    `evidence.judge` can name nothing the audit cannot run, and no judge lies unused."""
    from ivpb.audit.evaluate import JUDGES

    schema = json.loads(resources.files("ivpb.schemas").joinpath("policy.schema.json").read_text())
    judges = schema["properties"]["controls"]["items"]["properties"]["evidence"]["properties"]["judge"]["enum"]
    assert set(judges) == set(JUDGES) | {"fire_record"}
    shipped = {c.judge for c in load_policy().controls if c.judge}
    assert shipped == set(judges)


def test_a_renamed_control_reaches_the_module_and_comes_back_under_its_new_name(tmp_path: Path, monkeypatch):
    """The modules echo the ids the plan step hands them (with the duty the policy file gives
    each): a school that calls its daily backup `backup.dagelijks` gets backup_job's cron job
    and evidence under that name, and the audit judges it by the age it sets for that name."""
    from ansible_collections.ivpb.backupbeleid.plugins.module_utils import backup_job
    from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import make_host

    from ivpb.roles import role_inputs

    raw = copy.deepcopy(SHIPPED)
    for c in raw["controls"]:
        if c["id"] == "backup.daily":
            c["id"] = "backup.dagelijks"
        if c.get("superseded_by") == "backup.daily":
            c["superseded_by"] = "backup.dagelijks"
    raw["evidence"]["backup_max_age_hours"] = {"backup.dagelijks": 30, "backup.weekly": 192}
    path = tmp_path / "eigen.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    own = load_policy(str(path))
    inventory = school()
    plan = plan_inventory(inventory, own)
    backup = role_inputs(inventory, plan, role_groups(inventory, plan))["srv1"]["backup"]
    handed = backup["controls"]
    assert {"id": "backup.dagelijks", "duty": "daily", "datasets": ["admin"]} in handed
    assert "backup.daily" not in json.dumps(handed)

    jobs = backup_job.plan_jobs({"hostname": "srv1", "controls": handed, "datasets": backup["datasets"]})
    assert [(j["dataset"], j["schedule"]) for j in jobs] == [("admin", "daily")]
    assert "# admin: backup.dagelijks (minstens dagelijks);" in backup_job.render_crontab(jobs)
    host = make_host(monkeypatch, root=str(tmp_path))  # a host without status files yet
    reported = backup_job.evidence(host, jobs, changed=False, check_mode=False, keyring=None, key_error=None,
                                   blockers=[])
    assert "backup.dagelijks" in {c["id"] for c in reported}

    report = build_report(own, inventory, plan, srv1_results("backup.dagelijks"), list(inventory.hosts), NOW, "en")
    assert controls_of(report, "srv1")["backup.dagelijks"]["status"] == "compliant"  # 28 h, at most 30


def test_the_collection_tests_hand_modules_the_shipped_duties():
    """The collection's unit tests hand modules their controls with the shipped policy's duties
    (tests/unit/toolkit.SHIPPED_DUTIES): that table cannot drift from the policy file. It names the
    controls those tests ask for; a new control's own test may name its duty itself."""
    from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import SHIPPED_DUTIES

    shipped = {c.id: c.duty for c in load_policy().controls if c.duty}
    assert SHIPPED_DUTIES.items() <= shipped.items()
    assert "backup.daily" in SHIPPED_DUTIES and "power.ups" in SHIPPED_DUTIES
