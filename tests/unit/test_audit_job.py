"""The audit as a job (issue #25): the audit_report action folds the roles' registered results as
`ivpb audit` folds the check run's events; `ivpb audit --from-artifacts` renders the report an
audit job left in an ansible-runner artifacts folder (made here by a real
`ansible-runner transmit | worker | process`); the audit playbook asks for every result the
roles register and needs no task with check_mode: false (ansible/awx#15162). The same on the
lab's hosts: tests/lab/test_audit_job.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible_collections.ivpb.backupbeleid.plugins.action.audit_report import fold

from ivpb.audit.results import record, settle
from ivpb.cli import main
from tests.conftest import ROOT

BIN = Path(sys.executable).parent
COLLECTION = ROOT / "collections" / "ansible_collections" / "ivpb" / "backupbeleid"
REPORT = ROOT / "tests" / "fixtures" / "report_example.json"
CONTROLS = [{"id": "power.ups", "status": "compliant", "evidence": {"monitored": ["ups-a@nutserver"]}}]


def test_fold_of_registered_results_is_the_fold_of_the_runs_events():
    registered = {
        "nas": {"power_result": {"changed": False, "controls": CONTROLS}},
        "fileserver": {"power_result": {"failed": True, "msg": "upsc: connection refused\nmore"}},
        "router": {"ivpb_internet_result": {"unreachable": True, "msg": "ssh: connect to host router port 22: timeout"}},
        "secretariaat": {},  # taken out of the play in a task that registers nothing (enforce's first)
        "nutserver": {"power_result": {"skipped": True}},  # skipped: nothing ran on it
    }
    got = fold(registered, removed={"router", "secretariaat"})

    events = {}  # the same run as ivpb audit sees it: events, then the stats' dark hosts
    record(events, "runner_on_ok", "nas", registered["nas"]["power_result"], "power_result")
    record(events, "runner_on_failed", "fileserver", registered["fileserver"]["power_result"], "power_result")
    record(events, "runner_on_unreachable", "router", registered["router"]["ivpb_internet_result"], "x")
    settle(events, {"dark": {"router": 1, "secretariaat": 1}})
    assert got == events
    assert (got["nas"].reachable, got["fileserver"].reachable, got["router"].reachable) == (True, True, False)
    assert got["secretariaat"].reachable is False and "nutserver" not in got
    assert got["router"].unreachable_msg == "ssh: connect to host router port 22: timeout"
    assert got["fileserver"].failures == ["power_result: upsc: connection refused"]
    assert got["nas"].controls == CONTROLS


def module_tasks_registered() -> set[str]:
    """What the roles register from the collection's modules (the plan step excepted)."""
    names = set()
    for path in (COLLECTION / "roles").glob("*/tasks/*.yml"):
        for task in yaml.safe_load(path.read_text()) or []:
            module = next((k for k in task if k.startswith("ivpb.backupbeleid.")), None)
            if module and module != "ivpb.backupbeleid.plan" and "register" in task:
                names.add(task["register"])
    return names


def playbook(name: str) -> list[dict]:
    return yaml.safe_load((COLLECTION / "playbooks" / f"{name}.yml").read_text())


def test_the_audit_playbook_judges_every_result_the_roles_register():
    report = next(t for play in playbook("audit") for t in play.get("tasks", [])
                  if "ivpb.backupbeleid.audit_report" in t)
    assert sorted(report["ivpb.backupbeleid.audit_report"]["results"]) == sorted(module_tasks_registered())


def check_mode_false_tasks() -> list[tuple[str, dict]]:
    found = []
    paths = [*(COLLECTION / "playbooks").glob("*.yml"), *(COLLECTION / "roles").glob("*/tasks/*.yml")]
    for path in paths:
        doc = yaml.safe_load(path.read_text()) or []
        tasks = [t for play in doc for t in play.get("tasks", [])] if path.parent.name == "playbooks" else doc
        found += [(path.name, t) for t in tasks if t.get("check_mode") is False]
    return found


def test_no_result_the_audit_judges_comes_from_a_task_with_check_mode_false():
    """AWX's Playbook Check does not run tasks with check_mode: false (ansible/awx#15162). There is
    one, enforce's first: it reaches every host at once, a receiver says its SSH host key and a
    sender its backup key in that round trip. Their readers take a key only where the task said
    one: the backup role reads every other receiver's key itself, and a receiver is given a
    sender's key by the sender's own backup part (the backup_target role's task, which runs
    where the keys differ from the ones the reach said); without the task, the keys are read
    there and a host it did not reach is found unreachable by its first module task (the lab
    test runs the audit with it in check mode and gets the same statuses)."""
    found = check_mode_false_tasks()
    assert [(name, task["name"]) for name, task in found] == [
        ("enforce.yml", "Reach every host of the clauses once (a host that does not answer leaves the play here)")]
    assert found[0][1]["register"] == "ivpb_reach"
    readers = sorted(p.relative_to(COLLECTION).as_posix() for p in COLLECTION.rglob("*.yml")
                     if "ivpb_reach" in p.read_text(encoding="utf-8") and p.name != "enforce.yml")
    assert readers == ["roles/backup/defaults/main.yml"]
    defaults = (COLLECTION / "roles/backup/defaults/main.yml").read_text(encoding="utf-8")
    assert "map(attribute='ivpb_reach.host_key', default='')" in defaults
    host_keys = (COLLECTION / "roles/backup/tasks/host_keys.yml").read_text(encoding="utf-8")
    assert "backup_receiver_hosts | difference(backup_receiver_keys_reached | list)" in host_keys


@pytest.fixture(scope="module")
def job_artifacts(tmp_path_factory) -> Path:
    """The artifacts of a job that left the example report in its stats, as ivpb.backupbeleid.audit
    does, run through ansible-runner transmit | worker | process (on the controller only)."""
    work = tmp_path_factory.mktemp("job")
    (work / "pdd" / "project").mkdir(parents=True)
    (work / "report.json").write_text(json.dumps({"report": json.loads(REPORT.read_text())}))
    (work / "pdd" / "project" / "stats.yml").write_text("""
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.set_stats:
        data: {ivpb_audit: "{{ report }}"}
        per_host: false
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    pipeline = (f"{BIN}/ansible-runner transmit pdd -p stats.yml --cmdline '--check -i localhost, -c local "
                f"-e @{work}/report.json' | {BIN}/ansible-runner worker | {BIN}/ansible-runner process out")
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], cwd=work, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return work / "out"


def test_ivpb_audit_renders_the_report_of_a_jobs_artifacts(job_artifacts, tmp_path, capsys):
    html = tmp_path / "audit.html"
    code = main(["audit", "--from-artifacts", str(job_artifacts), "--format", "json", "-o", str(html)])
    expected = json.loads(REPORT.read_text())
    assert code == expected["exit_code"] == 1
    assert json.loads(capsys.readouterr().out) == expected
    assert "personeelsdossiers" in html.read_text()
    # the report itself, as AWX's API gives a job's artifacts.ivpb_audit, renders the same
    assert main(["audit", "--from-artifacts", str(REPORT), "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out) == expected


def test_from_artifacts_says_in_one_line_what_is_wrong(job_artifacts, tmp_path, capsys):
    assert main(["audit", "--from-artifacts", str(tmp_path)]) == 1
    assert capsys.readouterr().err.strip() == f"{tmp_path}: no job_events folder: not an ansible-runner artifacts folder"
    events = job_artifacts / "artifacts" / "job_events"
    other = tmp_path / "other" / "job_events"
    other.mkdir(parents=True)
    for event in events.glob("*.json"):  # a run without the audit's stats (any other playbook)
        doc = json.loads(event.read_text())
        doc.get("event_data", {}).pop("artifact_data", None)
        (other / event.name).write_text(json.dumps(doc))
    assert main(["audit", "--from-artifacts", str(other.parent)]) == 1
    assert capsys.readouterr().err.strip() == (f"{other.parent}: the run left no ivpb_audit in its stats (set_stats): "
                                               "not a finished run of the playbook ivpb.backupbeleid.audit")
    assert main(["audit", "--from-artifacts", str(job_artifacts), "-i", "inventories/example"]) == 64
    assert "--from-artifacts and -i exclude each other" in capsys.readouterr().err


PLAY = """
- name: What a check run leaves behind (no host is asked but nas, which does not answer)
  hosts: all
  gather_facts: false
  tasks:
    - name: nas does not answer (nothing listens on its port)
      ansible.builtin.ping:
      when: inventory_hostname == 'nas'
    - name: The plan step registered its plan on every host (an ivpb_* name, no inventory variable)
      ansible.builtin.set_fact:
        ivpb_plan: {roles: {}}
    - name: fileserver's power role registered its module's result
      ansible.builtin.set_fact:
        power_result: {changed: false, controls: CONTROLS}
      when: inventory_hostname == 'fileserver'

- name: The audit playbook's report play
  hosts: all
  gather_facts: false
  tasks:
    - name: Judge
      ivpb.backupbeleid.audit_report:
        results: [power_result]
        outputs: [report.json]
      run_once: true
      delegate_to: localhost
"""


def test_the_action_in_a_real_run_judges_as_ivpb_audit_judges(tmp_path):
    """ansible-playbook with the action over the example school: fileserver's registered result,
    nas unreachable (its port is closed), the others never asked. The same statuses as ivpb's
    engine gives for the same results folded from events (ivpb audit's path)."""
    import datetime as dt

    from ivpb.audit.evaluate import build_report
    from ivpb.inventory import load_inventory
    from ivpb.plan import plan_inventory
    from ivpb.policy import load_policy

    controls = [{"id": "power.ups", "status": "compliant",
                 "evidence": {"monitored": ["ups-b@nutserver"], "reachable": ["ups-b@nutserver"],
                              "status": {"ups-b@nutserver": "OL"}}}]
    overlay = tmp_path / "overlay"
    (overlay / "host_vars").mkdir(parents=True)
    (overlay / "hosts.yml").write_text("all:\n  hosts:\n    nas:\n")
    (overlay / "host_vars" / "nas.yml").write_text(
        "ansible_host: 127.0.0.1\nansible_port: 1\nansible_connection: ssh\nansible_user: nobody\n")
    (tmp_path / "play.yml").write_text(PLAY.replace("CONTROLS", json.dumps(controls)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([BIN / "ansible-playbook", "play.yml", "-i", str(ROOT / "inventories" / "example"), "-i",
                           str(overlay)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert "Judge" in proc.stdout, proc.stdout + proc.stderr
    job = json.loads((tmp_path / "report.json").read_text())

    inventory = load_inventory([str(ROOT / "inventories" / "example"), str(overlay)])
    policy = load_policy(None)
    events = {}
    record(events, "runner_on_ok", "fileserver", {"changed": False, "controls": controls}, "power_result")
    record(events, "runner_on_unreachable", "nas", {"msg": "refused"}, "ping")
    settle(events, {"dark": {"nas": 1}})
    direct = build_report(policy, inventory, plan_inventory(inventory, policy), events, inventory.chosen(),
                          dt.datetime.now(dt.UTC), "nl")

    def statuses(report):
        return {(h, c["id"], c.get("dataset")): c["status"] for h, e in report["hosts"].items() for c in e["controls"]}

    assert statuses(job) == statuses(direct)
    assert set(job["hosts"]) == set(direct["hosts"])
    # the others were never asked (the systems ivpb does not manage never are)
    assert {h: e["reachable"] for h, e in job["hosts"].items()} == {
        **{h: None for h in direct["hosts"]}, "fileserver": True, "nas": False}
    assert job["hosts"]["fileserver"]["controls"][0]["status"] in ("compliant", "drift")
    assert job["inventory"] == [str(ROOT / "inventories" / "example"), str(overlay)]
