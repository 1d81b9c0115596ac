"""Every module of the collection (and the plan action's doc stub) renders with ansible-doc, with
its options, examples and return values - what a contractor reads before using it. (A controller
test: ansible-test units runs tests/unit/plugins/modules and module_utils without ansible-doc.)"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml
from ansible_collections.ivpb.backupbeleid.tests.unit.harness import COLLECTION, ansible_cli, ansible_env

MODULES = sorted(p.stem for p in (COLLECTION / "plugins/modules").glob("*.py")
                 if p.stem != "__init__")


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    env = ansible_env()
    names = [f"ivpb.backupbeleid.{m}" for m in MODULES]
    proc = subprocess.run([ansible_cli("ansible-doc"), "--json", *names], cwd=tmp_path_factory.mktemp("doc"), env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("module", MODULES)
def test_module_has_complete_docs(docs, module):
    doc = docs[f"ivpb.backupbeleid.{module}"]
    assert doc["doc"]["short_description"] and doc["doc"]["description"]
    assert doc["examples"].strip()
    assert doc["return"], f"{module}: no RETURN"
    assert "check_mode" in doc["doc"]["attributes"]


# power_backup's power and backup take exactly the options of these modules (the same argument
# specs); its DOCUMENTATION holds a copy of their rendered documentation because ansible-test
# validate-modules reads DOCUMENTATION as a literal. This test keeps the copy from drifting.
PARTS = {"power": "nut_client", "backup": "backup_job"}
KEY_ORDER = ("description", "type", "elements", "required", "default", "choices", "aliases", "suboptions")


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):  # list items indented under their key
        return super().increase_indent(flow, False)


def _ordered(options: dict) -> dict:
    """Options with their keys in the order the collection writes them, suboptions likewise."""
    return {name: {key: _ordered(spec[key]) if key == "suboptions" else spec[key]
                   for key in sorted(spec, key=lambda k: (KEY_ORDER.index(k) if k in KEY_ORDER else len(KEY_ORDER), k))}
            for name, spec in sorted(options.items())}


def suboptions_yaml(options: dict) -> str:
    """The YAML of `options` as it stands under `<part>:` -> `suboptions:` in power_backup.py."""
    text = yaml.dump(_ordered(options), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=70)
    return "".join(f"      {line}" for line in text.splitlines(keepends=True))


@pytest.mark.parametrize(("option", "module"), PARTS.items())
def test_power_backup_documents_the_options_of_its_parts(docs, option, module, tmp_path):
    documented = docs["ivpb.backupbeleid.power_backup"]["doc"]["options"][option]
    expected = docs[f"ivpb.backupbeleid.{module}"]["doc"]["options"]
    if documented.get("suboptions") != expected:
        block = tmp_path / f"{option}.suboptions.yml"
        block.write_text(suboptions_yaml(expected), encoding="utf-8")
        pytest.fail(f"plugins/modules/power_backup.py: DOCUMENTATION's {option}.suboptions differ from the "
                    f"options ansible-doc renders for ivpb.backupbeleid.{module}; regenerate them: replace "
                    f"everything under `{option}:` -> `suboptions:` with the block in {block}")
