"""From a policy sentence to its proof, one hop each (issue #15, "Done when"). The sentence sits
in its control in the policy file; the control names its role, module, duty and judge; by
convention the role's name is also the file of its input rules (src/ivpb/checks/<role>.py) and
of its molecule scenario (molecule/<role>/), the module documents the duty it is asked, and the
judge is a function of the audit. This test holds the convention for every shipped control, so
a control added without any of these fails here, naming what is missing."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import input_rules

from ivpb.audit.evaluate import JUDGES
from ivpb.policy import load_policy

ROOT = Path(__file__).resolve().parents[2]
CONTROLS = load_policy().controls


@pytest.mark.parametrize("control", [c for c in CONTROLS if c.role], ids=lambda c: c.id)
def test_an_enforced_control_reaches_its_rules_module_scenario_and_judge(control):
    assert (ROOT / "src/ivpb/checks" / f"{control.role}.py").is_file(), f"{control.id}: no input rules for {control.role}"
    assert (ROOT / "molecule" / control.role / "verify.yml").is_file(), f"{control.id}: no molecule/{control.role}"
    module = importlib.import_module(f"ansible_collections.ivpb.backupbeleid.plugins.modules.{control.module}")
    duty = yaml.safe_load(module.DOCUMENTATION)["options"]["controls"]["suboptions"]["duty"]
    # the module's documentation names exactly the duties it can be asked (input_rules.DUTIES)
    assert duty["choices"] == list(input_rules.DUTIES[control.module])
    assert control.duty in duty["choices"]
    assert f"C({control.duty})" in " ".join(duty["description"]), f"{control.module} does not explain {control.duty}"
    assert control.judge is None or control.judge in JUDGES


@pytest.mark.parametrize("control", [c for c in CONTROLS if c.scope == "site"], ids=lambda c: c.id)
def test_a_site_control_is_a_record_with_its_schema(control):
    """A site's duty is evidence in the inventory: its input rules are the ivpb_sites schema, the
    audit judges the record."""
    assert control.judge == "fire_record" and not control.role
    assert (ROOT / "src/ivpb/schemas/vars/ivpb_sites.json").is_file()


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: c.id)
def test_every_control_is_named_by_a_test_that_proves_it(control):
    """At least one unit test and one test on real hosts (molecule/<role> or tests/lab) exist for
    the control: a unit test names its id; the scenario of its role runs on real hosts."""
    unit = [p for p in (ROOT / "tests/unit").glob("test_*.py") if p.name != Path(__file__).name
            and control.id in p.read_text(encoding="utf-8")]
    assert unit, f"{control.id}: no unit test names it"
    if control.role:
        real = [p for p in (ROOT / "molecule" / control.role).glob("*.yml")]
        assert real, f"{control.id}: no scenario molecule/{control.role}"
