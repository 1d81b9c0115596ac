"""Each stored data set resolved once (ivpb.resolve, issue #26): the plan step hands backup_job
exactly what its argument spec takes, and the roles, restore, the herstelplan and the audit name
the same target, receiver and folder for a data set."""

from __future__ import annotations

import copy
from pathlib import Path

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import backup_job
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.argument_specs import BACKUP_JOB as ARGUMENT_SPEC

from ivpb import resolve, restore
from ivpb.herstelplan import entries
from ivpb.inventory import Inventory, load_inventory
from ivpb.plan import plan_inventory
from ivpb.policy import load_policy
from ivpb.roles import receivers_of, role_groups, role_inputs

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_policy()
EXAMPLE = load_inventory([str(ROOT / "inventories/example")])


def _school(**fileserver) -> Inventory:
    hosts = copy.deepcopy(EXAMPLE.hosts)
    hosts["fileserver"].update(fileserver)
    return Inventory(hosts=hosts)


def test_the_plan_step_hands_backup_job_what_its_argument_spec_takes():
    plan = plan_inventory(EXAMPLE, POLICY)
    inputs = role_inputs(EXAMPLE, plan, role_groups(EXAMPLE, plan))
    senders = [h for h in EXAMPLE.hosts if "backup" in inputs[h]]
    assert senders
    for host in senders:
        given = inputs[host]["backup"]
        result = ArgumentSpecValidator(ARGUMENT_SPEC).validate(
            {"hostname": host, "controls": given["controls"], "datasets": given["datasets"]})
        assert not result.error_messages, (host, result.error_messages)
        jobs = backup_job.plan_jobs(result.validated_parameters)
        assert [j["dataset"] for j in jobs] == [s.dataset for s in resolve.stored(EXAMPLE, host)
                                                if plan.duties(host).get(s.dataset)]
        for job in jobs:
            record = resolve.find(EXAMPLE, host, job["dataset"])
            assert job["target"]["host"] == record.backup.receiver and job["target"]["dir"] == job["dataset"]
            assert job["encrypt"] == record.encrypted(plan.duties(host)[job["dataset"]])


def test_a_store_names_its_own_target_else_the_hosts():
    inventory = _school(ivpb_stores=[{"dataset": "boekhouding", "path": "/srv/b"},
                                     {"dataset": "personeelsdossiers", "path": "/srv/p", "backup_target": "elders"}],
                        ivpb_backup_target="nas-offsite")
    own, other = resolve.stored(inventory, "fileserver")
    assert (own.backup.target, own.backup.defined, own.backup.receiver) == ("nas-offsite", True, "nas-offsite")
    assert (other.backup.target, other.backup.defined) == ("elders", False)
    assert own.backup.folder == "/srv/backup/fileserver/boekhouding" and own.sync is None


def test_encrypted_when_planned_or_asked():
    inventory = _school(ivpb_stores=[{"dataset": "boekhouding", "path": "/srv/b", "encrypt": True}])
    (record,) = resolve.stored(inventory, "fileserver")
    assert record.encrypted({}) and record.encrypt_to == ("directie",)
    assert record.encrypt_to_var == "ivpb_backup_encrypt_to"
    plain = resolve.find(EXAMPLE, "nas", "fotos")
    assert not plain.encrypted({}) and plain.encrypted({"encrypt": "backup.encrypted"})


def test_restore_the_audit_and_the_roles_name_the_same_receiver_and_folder():
    sends_to = receivers_of(EXAMPLE)
    plans = {(e["host"], e["dataset"]): e for e in entries(EXAMPLE, POLICY, "en")}
    checked = 0
    for host in EXAMPLE.hosts:
        records = resolve.stored(EXAMPLE, host)
        assert sends_to.get(host, []) == list(dict.fromkeys(
            c.receiver for s in records for c in s.copies() if c.receiver))
        for s in records:
            for offsite, c in ((False, s.backup), (True, s.sync)):
                if c is None:
                    continue
                loc = restore.locate(EXAMPLE, host, s.dataset, offsite=offsite)
                assert (loc.receiver, loc.directory, loc.target) == (c.receiver, c.folder, c.target)
                where = plans[(host, s.dataset)]["offsite" if offsite else "backup"]
                assert where.startswith(f"{c.receiver}:{c.folder}/{'sync' if offsite else 'chain'} ")
                checked += 1
    assert checked >= 4 and any(s.sync for h in EXAMPLE.hosts for s in resolve.stored(EXAMPLE, h))
