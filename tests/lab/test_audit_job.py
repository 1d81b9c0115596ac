"""The audit as an AWX job, on the lab's real hosts (issue #25).

On the example school as lab/demo left it (tests/lab/conftest.py): one `ivpb audit` (with a NUT
password from Ansible Vault, read with --vault-id from a password file), then the playbook
ivpb.backupbeleid.audit of the collection as built and installed into an empty path (an
execution environment's collections), run
- through `ansible-runner transmit | ansible-runner worker | ansible-runner process`, how AWX
  hands a job to an execution node, its report read back with `ivpb audit --from-artifacts`;
- by its FQCN with `ansible-playbook ivpb.backupbeleid.audit --check`;
- the same with its check_mode: false task in check mode, as AWX's Playbook Check runs it
  (ansible/awx#15162);
each with the same status for every host and control as `ivpb audit`. Then `ivpb fleet` over
three schools: the example's own history (the demo's audits) and two made here.

Run under the shared lab lock:
    flock -o /tmp/ivpb-lab.lock .venv/bin/pytest -q -m lab tests/lab/test_audit_job.py
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from ivpb.history.store import Store
from tests.lab.test_enforce_audit import INV, ROOT, _env, run
from tests.unit.test_collection_package import BIN, env_only, install_built_collection

pytestmark = pytest.mark.lab

NAS_PASSWORD = "voorbeeld-nas-wijzig-mij"  # the example's own, so the vaulted run audits the same school


@pytest.fixture(scope="module")
def lab(demo_lab):
    assert demo_lab.returncode == 0, demo_lab.stdout[-2000:] + demo_lab.stderr[-2000:]
    return demo_lab


@pytest.fixture(scope="module")
def school(lab, tmp_path_factory) -> dict:
    """The example school with nas's NUT password in Ansible Vault (a third inventory source),
    the vault password file, the installed collection, and `ivpb audit`'s report of it."""
    work = tmp_path_factory.mktemp("audit-job")
    password = work / "vault-pass"
    password.write_text("lab vault password\n")
    password.chmod(0o600)
    vaulted = work / "vaulted"
    (vaulted / "host_vars").mkdir(parents=True)
    (vaulted / "hosts.yml").write_text("all:\n  children:\n    lab:\n      hosts:\n        nas:\n")
    enc = run(str(BIN / "ansible-vault"), "encrypt_string", "--vault-id", f"lab@{password}", NAS_PASSWORD,
              "--name", "ivpb_nut_password")
    assert enc.returncode == 0, enc.stderr
    (vaulted / "host_vars" / "nas.yml").write_text(enc.stdout)
    sources = [str(ROOT / s) for s in INV[1::2]] + [str(vaulted)]
    vault = ["--vault-id", f"lab@{password}"]
    direct = run("ivpb", "audit", *[a for s in sources for a in ("-i", s)], *vault, "-q", "--no-history",
                 "-o", str(work / "direct.json"))
    assert direct.returncode in (0, 2), direct.stderr
    # The project's ansible.cfg (timeouts, SSH options) without its paths into this checkout.
    cfg = "".join(line for line in (ROOT / "ansible.cfg").read_text().splitlines(keepends=True)
                  if not line.startswith(("collections_path", "roles_path")))
    (work / "ansible.cfg").write_text(cfg)
    return {"work": work, "sources": sources, "vault": vault, "ee": install_built_collection(work / "ee"),
            "direct": json.loads((work / "direct.json").read_text())}


def statuses(report: dict) -> dict:
    """(subject, control, data set) -> status, and each host's reachable."""
    out = {(name, c["id"], c.get("dataset")): c["status"]
           for kind in ("hosts", "sites") for name, entry in report[kind].items() for c in entry["controls"]}
    out.update({(name, "reachable", None): entry.get("reachable") for name, entry in report["hosts"].items()})
    return out


def job_args(school: dict, report: Path) -> list[str]:
    return ["--check", "--diff", *[a for s in school["sources"] for a in ("-i", s)], *school["vault"],
            "-e", json.dumps({"backupbeleid_audit_outputs": [str(report)]})]


def test_the_job_through_transmit_worker_process_reports_what_ivpb_audit_reports(school):
    work = school["work"]
    pdd = work / "job"
    (pdd / "project").mkdir(parents=True)
    (pdd / "env").mkdir()
    shutil.copy(work / "ansible.cfg", pdd / "project" / "ansible.cfg")
    # The execution node's environment: the collection as an EE holds it; no prompt can be answered.
    (pdd / "env" / "envvars").write_text(json.dumps({"ANSIBLE_COLLECTIONS_PATH": str(school["ee"]),
                                                     "ANSIBLE_ASK_VAULT_PASS": "False"}))
    report_file = work / "job-report.json"
    cmdline = shlex.join(job_args(school, report_file))
    pipeline = (f"{BIN}/ansible-runner transmit {pdd} -p ivpb.backupbeleid.audit --cmdline {shlex.quote(cmdline)} "
                f"| {BIN}/ansible-runner worker | {BIN}/ansible-runner process {work / 'processed'}")
    env = {k: v for k, v in _env().items() if not k.startswith("ANSIBLE_")}
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], cwd=work, env=env, capture_output=True,
                          text=True, timeout=900, stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    rendered = run("ivpb", "audit", "--from-artifacts", str(work / "processed"), "--format", "json")
    assert rendered.returncode == school["direct"]["exit_code"], rendered.stderr
    from_artifacts = json.loads(rendered.stdout)
    assert statuses(from_artifacts) == statuses(school["direct"])
    assert json.loads(report_file.read_text()) == from_artifacts  # the file the job left, the same report


@pytest.mark.parametrize("awx_check", [False, True], ids=["as-built", "check-mode-false-tasks-in-check-mode"])
def test_the_installed_collections_audit_by_fqcn_reports_what_ivpb_audit_reports(school, awx_check):
    """ansible-playbook ivpb.backupbeleid.audit --check, from the collection installed into an
    empty path; with awx_check its check_mode: false tasks run in check mode (ansible/awx#15162:
    AWX's Playbook Check does not run them as asked), and nothing the audit judges changes."""
    work, collections = school["work"], school["ee"]
    if awx_check:
        collections = work / "awx-check"
        if not collections.exists():
            shutil.copytree(school["ee"], collections)
            for path in collections.rglob("*.yml"):
                text = path.read_text()
                if "check_mode: false" in text:
                    path.write_text(text.replace("check_mode: false", "check_mode: true"))
    report = work / f"fqcn-{awx_check}.json"
    env = {**env_only(collections), "ANSIBLE_CONFIG": str(work / "ansible.cfg")}
    env["PATH"] = _env()["PATH"]
    proc = subprocess.run([str(BIN / "ansible-playbook"), "ivpb.backupbeleid.audit", *job_args(school, report)],
                          cwd=work, env=env, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL,
                          check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    if awx_check:  # forced into check mode, the reach still runs (it changes nothing, and says so)
        reach = proc.stdout.split("Reach every host of the clauses once", 1)[1].split("\nTASK [", 1)[0]
        assert "ok: [nas]" in reach and "ok: [nas-offsite]" in reach, reach
    assert statuses(json.loads(report.read_text())) == statuses(school["direct"])


def test_ivpb_fleet_over_three_schools(school, tmp_path):
    """The example school's own history (the demo's audits) and two schools made here, each with
    ivpb audit's report recorded in its history (one with a result off)."""
    made = []
    for name, exit_code in (("sint-jozef", 2), ("de-linde", 0)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "hosts.yml").write_text("all:\n  hosts:\n    fileserver:\n")
        report = json.loads(json.dumps(school["direct"]))
        report["inventory"] = [str(folder)]
        if exit_code == 2:  # one result off: what the overview must name for this school
            report["hosts"]["nas"]["controls"][0]["status"] = "drift"
        report["exit_code"] = exit_code
        store = Store.open(folder / ".evidence" / "history.sqlite", create=True)
        store.append(report, None, None)
        store.close()
        made.append(str(folder))
    example = ",".join(school["sources"][:2])
    proc = run("ivpb", "fleet", "-i", example, *[a for m in made for a in ("-i", m)], "-o", str(tmp_path / "f.html"))
    doc = json.loads(proc.stdout)
    assert [s["school"] for s in doc["schools"]] == ["example", "sint-jozef", "de-linde"]
    demo = doc["schools"][0]
    assert demo["audits"] and demo["generated_at"] in [a["generated_at"] for a in demo["audits"]]
    assert set(demo["clauses"]) == {"§2", "§3", "§4", "§5"}
    assert demo["oldest_evidence"] is not None
    changed = school["direct"]["hosts"]["nas"]["controls"][0]
    jozef = [(r["subject"], r["control"], r["dataset"], r["status"]) for r in doc["schools"][1]["not_in_order"]]
    assert ("nas", changed["id"], changed.get("dataset"), "drift") in jozef
    assert doc["schools"][2]["exit_code"] == 0 and doc["schools"][1]["exit_code"] == 2
    assert proc.returncode == doc["exit_code"] and proc.returncode in (1, 2), proc.stderr
    assert "sint-jozef" in (tmp_path / "f.html").read_text()
