"""From a policy sentence to its proof, one hop each (issue #15, "Done when"). The sentence sits
in its control in the policy file; the control names its role, module, duty and judge; by
convention the role's name is also the file of its input rules (src/ivpb/checks/<role>.py) and
of its molecule scenario (molecule/<role>/), the module documents the duty it is asked, and the
judge is a function of the audit. This test holds the convention for every shipped control, so
a control added without any of these fails here, naming what is missing."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import backup_job
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.backup_script import SCRIPT
from ansible_collections.ivpb.backupbeleid.tests.unit.harness import ansible_cli, ansible_env

from ivpb.audit.evaluate import JUDGES
from ivpb.i18n import catalogue
from ivpb.policy import load_policy
from ivpb.rules import duties

ROOT = Path(__file__).resolve().parents[2]
CONTROLS = load_policy().controls
# The unit tests of both trees: the controller's and the collection's (a module's own tests)
UNIT_TESTS = [*(ROOT / "tests/unit").glob("test_*.py"),
              *(ROOT / "collections/ansible_collections/ivpb/backupbeleid/tests/unit").rglob("test_*.py")]


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> dict:
    """The enforcing modules' documentation as ansible-doc renders it (doc fragments included)."""
    names = sorted({f"ivpb.backupbeleid.{c.module}" for c in CONTROLS if c.module})
    proc = subprocess.run([ansible_cli("ansible-doc"), "--json", *names], cwd=tmp_path_factory.mktemp("doc"),
                          env=ansible_env(), capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("control", [c for c in CONTROLS if c.role], ids=lambda c: c.id)
def test_an_enforced_control_reaches_its_rules_module_scenario_and_judge(control, docs):
    assert (ROOT / "src/ivpb/checks" / f"{control.role}.py").is_file(), f"{control.id}: no input rules for {control.role}"
    assert (ROOT / "molecule" / control.role / "verify.yml").is_file(), f"{control.id}: no molecule/{control.role}"
    duty = docs[f"ivpb.backupbeleid.{control.module}"]["doc"]["options"]["controls"]["suboptions"]["duty"]
    # the module's documentation names exactly the duties it can be asked (ivpb.rules.duties)
    assert duty["choices"] == list(duties()[control.module])
    assert control.duty in duty["choices"]
    assert f"C({control.duty})" in " ".join(duty["description"]), f"{control.module} does not explain {control.duty}"
    assert control.judge is None or control.judge in JUDGES


@pytest.mark.parametrize("control", [c for c in CONTROLS if c.module == "backup_job"], ids=lambda c: c.id)
def test_a_backup_control_has_its_row_its_script_action_and_its_words(control):
    """CONTRIBUTING.md's change walk "Add a control": a §4 control's duty is a row of backup_job's
    DUTIES; the job script accepts and runs the row's action (ivpb-backup <action> <data set>);
    the row's evidence speaks from both words catalogues (module.backup_job.<duty>[_<form>]).
    Its evidence keys' labels and ages: test_words.py and test_render_metrics.py, for every key."""
    row = backup_job.DUTIES.get(control.duty)
    assert row, f"{control.id}: no row {control.duty!r} in DUTIES of module_utils/backup_job.py"
    if row.action:
        accepted = re.search(r"^case \$ACTION in ([a-z|]+)\) ;;", SCRIPT, re.M).group(1).split("|")
        assert row.action in accepted, f"{control.id}: the job script does not accept {row.action}"
        assert re.search(rf"^{row.action}\)$", SCRIPT, re.M), f"{control.id}: the job script has no {row.action}) branch"
    if row.reader:
        for lang in ("nl", "en"):
            said = [k for k in catalogue(lang) if re.fullmatch(rf"module\.backup_job\.{control.duty}(_[a-z]+)?", k)]
            assert said, f"{control.id}: no module.backup_job.{control.duty} in words/{lang}.yml"


@pytest.mark.parametrize("control", [c for c in CONTROLS if c.scope == "site"], ids=lambda c: c.id)
def test_a_site_control_is_a_record_with_its_schema(control):
    """A site's duty is evidence in the inventory: its input rules are the ivpb_sites schema, the
    audit judges the record."""
    assert control.judge == "fire_record" and not control.role
    assert (ROOT / "src/ivpb/schemas/vars/ivpb_sites.json").is_file()


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: c.id)
def test_every_control_is_named_by_a_test_that_proves_it(control):
    """At least one unit test and one test on real hosts (molecule/<role> or tests/lab) exist for
    the control: a unit test (of either tree) names its id; the scenario of its role runs on real hosts."""
    unit = [p for p in UNIT_TESTS if p.name != Path(__file__).name and control.id in p.read_text(encoding="utf-8")]
    assert unit, f"{control.id}: no unit test names it"
    if control.role:
        real = [p for p in (ROOT / "molecule" / control.role).glob("*.yml")]
        assert real, f"{control.id}: no scenario molecule/{control.role}"
