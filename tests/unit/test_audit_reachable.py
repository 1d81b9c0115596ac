"""`reachable` in the audit is the truth (issue #13): true only when a task of the check run ran on
the host, false when Ansible found it unreachable in a task of its own, null when no task ran on it
(not contacted). A task delegated elsewhere (the receivers' host keys, read once per play) or run
on the controller (the plan step, includes) says nothing about the host it is reported under.

The first test runs real ansible-playbook through ansible-runner (run_check, as ivpb audit does):
a host on this machine, a host whose SSH port refuses, and a host the run never reaches. The
others judge such results: a host not contacted is an error with that reason, and a receiver
that could not be checked makes its clients' backup.best_practice an error naming it, not drift."""

from __future__ import annotations

import datetime as dt
import json
import sys
from importlib import resources
from pathlib import Path

import jsonschema

from ivpb.audit.evaluate import build_report
from ivpb.audit.results import HostResults, record, settle
from ivpb.audit.run import run_check
from ivpb.inventory import Inventory
from ivpb.plan import plan_inventory
from ivpb.policy import load_policy

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
SCHEMA = json.loads(resources.files("ivpb.schemas").joinpath("report.schema.json").read_text())

PLAYBOOK = """
- name: The plan step (on the controller, attributed to the first host)
  hosts: all
  gather_facts: false
  tasks:
    - name: Plan
      ansible.builtin.debug: {msg: plan}
      run_once: true
      delegate_to: localhost
- name: The clauses
  hosts: here:dead
  gather_facts: false
  tasks:
    - name: Read each receiver's host key (delegated, once per play, its failure ignored)
      ansible.builtin.slurp: {src: /etc/hostname}
      delegate_to: "{{ item }}"
      loop: [dead]
      run_once: true
      ignore_errors: true
      ignore_unreachable: true
    - name: Reach every host
      ansible.builtin.raw: "true"
      check_mode: false
      changed_when: false
"""


def test_reachable_is_what_ran_on_the_host_in_a_real_check_run(tmp_path: Path):
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "enforce.yml").write_text(PLAYBOOK)
    (tmp_path / "ansible.cfg").write_text("[defaults]\nhost_key_checking = False\ntimeout = 5\n")
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory = {"all": {"hosts": {
        "never": local,  # first in the inventory: the plan step's result is reported under it
        "here": local,
        "dead": {"ansible_host": "127.0.0.1", "ansible_port": 1, "ansible_connection": "ssh"},
    }}}
    (tmp_path / "hosts.yml").write_text(json.dumps(inventory))
    results = run_check(tmp_path, [str(tmp_path / "hosts.yml")], None, None, progress=None)
    assert results["here"].reachable is True  # the delegated, ignored failure is not its own
    assert results["dead"].reachable is False
    assert "127.0.0.1" in results["dead"].unreachable_msg or "port 1" in results["dead"].unreachable_msg
    assert results.get("never", HostResults()).reachable is None  # only the controller's plan step


def test_stats_decide_without_them_an_unreachable_event_counts():
    results: dict[str, HostResults] = {}
    record(results, "runner_on_ok", "a", {"changed": False}, "Plan", action="ivpb.backupbeleid.plan")
    record(results, "runner_on_ok", "a", {"_ansible_delegated_vars": {"ansible_host": "x"}}, "Slurp",
           action="ansible.builtin.slurp")
    assert results["a"].reachable is None
    record(results, "runner_on_unreachable", "b", {"msg": "ssh: connect to host b port 22: timed out"}, "Reach")
    settle(results, None)
    assert results["b"].reachable is False and "timed out" in results["b"].unreachable_msg
    assert results["a"].reachable is None


def school(receiver_hosts: bool = True) -> Inventory:
    common = {
        "ivpb_datasets": {"admin": {"biv": {"b": "belangrijk", "i": "laag", "v": "intern"}}},
        "ivpb_sites": {"school": {}, "filiaal": {}},
        "ivpb_backup_targets": {"off": {"host": "nas2"} if receiver_hosts else {"site": "filiaal",
                                                                                "address": "nas2.example"}},
    }
    hosts = {
        "srv1": {**common, "ivpb_site": "school", "ivpb_backup_target": "off",
                 "ivpb_stores": [{"dataset": "admin", "path": "/srv/admin"}]},
    }
    if receiver_hosts:
        hosts["nas2"] = {**common, "ivpb_site": "filiaal"}
    return Inventory(hosts=hosts)


def report(results: dict[str, HostResults], inv: Inventory | None = None, lang: str = "en",
           selected: list[str] | None = None) -> dict:
    inv = inv or school()
    policy = load_policy()
    rep = build_report(policy, inv, plan_inventory(inv, policy), results, selected or list(inv.hosts), NOW, lang)
    jsonschema.validate(rep, SCHEMA)
    return rep


def entries(rep: dict, cid: str, host: str = "srv1") -> list[dict]:
    return [c for c in rep["hosts"][host]["controls"] if c["id"] == cid]


def test_a_host_never_contacted_is_not_reachable_and_each_of_its_controls_is_an_error_saying_so():
    rep = report({})
    assert rep["hosts"]["srv1"]["reachable"] is None
    planned = [c for c in rep["hosts"]["srv1"]["controls"] if c["status"] != "not_applicable"]
    assert planned
    for c in planned:
        assert c["status"] == "error", c
        assert c["detail"].startswith("not checked: no task of the check run ran on srv1"), c
    assert rep["exit_code"] == 1
    assert report({}, lang="nl")["hosts"]["srv1"]["controls"][0]["detail"].startswith(
        "niet gecontroleerd: geen taak van de controlerun liep op srv1")


PRACTICE = {"keep_full": 4, "last_verify": "2026-11-26T03:00:00Z"}  # without the receiver's word


def client(**evidence) -> HostResults:
    return HostResults(reachable=True, host_time="2026-11-29T12:00:00Z", controls=[
        {"id": "backup.best_practice", "dataset": "admin", "status": "compliant", "detail": "keep 4",
         "evidence": {**PRACTICE, **evidence}}])


def test_a_receiver_that_could_not_be_checked_makes_the_protected_copy_unknown_not_missing():
    down = HostResults(reachable=False, unreachable_msg="ssh: connect to host nas2 port 22: Connection timed out",
                       bounds="SSH ConnectTimeout 10 s")
    # nas2 in the report: why it was unreachable is said there, once
    rep = report({"srv1": client(), "nas2": down})
    [entry] = entries(rep, "backup.best_practice")
    assert entry["status"] == "error", entry
    assert entry["detail"].startswith("receiver nas2 could not be checked (host nas2 unreachable (the reason is given "
                                      "with nas2))")
    assert rep["hosts"]["nas2"]["unreachable_reason"] == ("ssh: connect to host nas2 port 22: Connection timed out "
                                                          "(bounded by: SSH ConnectTimeout 10 s)")
    assert "protected_generation missing" not in entry["detail"]
    assert entry["evidence"]["receiver_unchecked"] == "nas2"
    # only srv1 in the report (--limit): the client's control says why
    [entry] = entries(report({"srv1": client(), "nas2": down}, selected=["srv1"]), "backup.best_practice")
    assert entry["status"] == "error", entry
    assert entry["detail"].startswith("receiver nas2 could not be checked (host unreachable; technical details: nas2: ssh: connect to "
                                      "host nas2 port 22: Connection timed out (bounded by: SSH ConnectTimeout 10 s))")
    # not contacted at all, or its own check failed: the same
    [entry] = entries(report({"srv1": client()}), "backup.best_practice")
    assert entry["status"] == "error" and "receiver nas2 could not be checked (not checked: no task" in entry["detail"]
    failed = HostResults(reachable=True, failures=["backup_receiver: rrsync missing"])
    [entry] = entries(report({"srv1": client(), "nas2": failed}), "backup.best_practice")
    assert entry["status"] == "error" and "check failed; technical details: nas2: backup_receiver: rrsync missing" in entry["detail"]


def test_a_receiver_that_answered_without_a_generation_is_drift_and_other_reasons_stay():
    up = HostResults(reachable=True, protected={"srv1": {"admin": None}})
    [entry] = entries(report({"srv1": client(), "nas2": up}), "backup.best_practice")
    assert entry["status"] == "drift"
    assert "no generation held out of the client's reach reported (protected_generation missing)" in entry["detail"]
    up = HostResults(reachable=True)  # its module ran and holds nothing of this client
    assert entries(report({"srv1": client(), "nas2": up}), "backup.best_practice")[0]["status"] == "drift"
    down = HostResults(reachable=False, unreachable_msg="timed out")
    failed = {"at": "2026-11-29T02:00:00Z", "reason": "duplicity: volume 3 corrupt"}
    [entry] = entries(report({"srv1": client(verify_failed=failed), "nas2": down}), "backup.best_practice")
    assert entry["status"] == "error" and "verify failed at 2026-11-29 02:00 UTC" in entry["detail"]


def test_a_target_outside_the_inventory_is_judged_on_the_evidence_alone():
    [entry] = entries(report({"srv1": client()}, inv=school(receiver_hosts=False)), "backup.best_practice")
    assert entry["status"] == "drift" and "protected_generation missing" in entry["detail"]


def test_the_check_run_plans_with_the_audits_policy_file(tmp_path: Path):
    """ivpb audit --policy FILE judges with FILE, so its check run must plan with FILE too (the
    playbook's ivpb_policy_file), or the hosts report the shipped policy's controls; a path with
    blanks and quotes stays one value."""
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "enforce.yml").write_text("""
- hosts: here
  gather_facts: false
  tasks:
    - name: Which policy file
      ansible.builtin.fail: {msg: "policy {{ ivpb_policy_file | default('shipped') }}"}
""")
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    (tmp_path / "hosts.yml").write_text(json.dumps({"all": {"hosts": {"here": local}}}))
    own = tmp_path / "eigen beleid 'school'.yml"
    own.write_text(resources.files("ivpb.policies").joinpath("backupbeleid.yml").read_text(encoding="utf-8"))
    shipped = run_check(tmp_path, [str(tmp_path / "hosts.yml")], None, None, progress=None)
    assert shipped["here"].failures == ["Which policy file: policy shipped"]
    school = run_check(tmp_path, [str(tmp_path / "hosts.yml")], None, None, progress=None, policy_file=str(own))
    assert school["here"].failures == [f"Which policy file: policy {own}"]


SSH_SRV1 = "Failed to connect to the host via ssh: ssh: connect to host 192.0.2.10 port 22: Connection timed out"
SSH_NAS2 = "Failed to connect to the host via ssh: ssh: connect to host 192.0.2.20 port 22: No route to host"


def test_an_unreachable_host_is_one_line_in_every_format():
    """Issue #21 item 7: the reason (Ansible's message and the timeouts that bounded the
    attempt) once per host, in JSON in the host's unreachable_reason; each of its controls an
    error saying only that the host was unreachable. nas2 (the receiver) has no control of its
    own, and its reason is still there."""
    from ivpb.cli import FORMATS, render

    bounds = "SSH ConnectTimeout 10 s, task timeout 60 s"
    results = {"srv1": HostResults(reachable=False, unreachable_msg=SSH_SRV1, bounds=bounds),
               "nas2": HostResults(reachable=False, unreachable_msg=SSH_NAS2, bounds=bounds)}
    for lang, short in (("nl", "niet gecontroleerd: host onbereikbaar"), ("en", "not checked: host unreachable")):
        rep = report(results, lang=lang)
        assert rep["exit_code"] == 1
        for host, ssh in (("srv1", SSH_SRV1), ("nas2", SSH_NAS2)):
            assert rep["hosts"][host]["reachable"] is False
            assert rep["hosts"][host]["unreachable_reason"].startswith(f"{ssh} (")
            assert "10 s" in rep["hosts"][host]["unreachable_reason"]
        planned = [c for c in rep["hosts"]["srv1"]["controls"] if c["status"] != "not_applicable"]
        assert planned and all(c["status"] == "error" and c["detail"] == short for c in planned), planned
        assert not [c for c in rep["hosts"]["nas2"]["controls"] if c["status"] != "not_applicable"]  # a receiver
        for fmt in FORMATS:
            text = render(rep, fmt, lang)
            for ssh in (SSH_SRV1, SSH_NAS2):
                assert text.count(ssh) == 1, (fmt, lang, ssh)
            assert text.count("ConnectTimeout 10 s") == 2, (fmt, lang)
        # a reachable client of the unreachable receiver does not repeat the receiver's reason
        rep = report({"srv1": client(), "nas2": results["nas2"]}, lang=lang)
        [entry] = entries(rep, "backup.best_practice")
        assert entry["status"] == "error" and entry["evidence"]["receiver_unchecked"] == "nas2", entry
        for fmt in FORMATS:
            assert render(rep, fmt, lang).count(SSH_NAS2) == 1, (fmt, lang)
