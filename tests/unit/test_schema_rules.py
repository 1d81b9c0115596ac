"""The variable schemas take their string rules from the collection's input_rules (one source):
no string field is length-only, every pattern is matched against the whole value, and one-line
fields refuse control characters."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from ivpb.policy import load_policy
from ivpb.rules import input_rules
from ivpb.validate import _validator, vars_schemas

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {("ivpb_nut_password",), ("ivpb_nut_server", "properties", "test_user", "properties", "password"),
           ("ivpb_pull_password",)}  # checked by ivpb.checks.pull


def string_leaves(schema, path=()):
    """(path, schema) of every schema node that accepts strings."""
    if not isinstance(schema, dict):
        return
    types = schema.get("type")
    if types == "string" or (isinstance(types, list) and "string" in types) or "$ref" in schema:
        yield path, schema
    for key in ("properties", "additionalProperties", "items", "propertyNames", "oneOf", "anyOf"):
        sub = schema.get(key)
        if isinstance(sub, dict):
            if key == "properties":
                for name, s in sub.items():
                    yield from string_leaves(s, (*path, key, name))
            else:
                yield from string_leaves(sub, (*path, key))
        elif isinstance(sub, list):
            for i, s in enumerate(sub):
                yield from string_leaves(s, (*path, key, str(i)))


def test_the_loaded_rules_are_the_collections_file():
    assert Path(input_rules.__file__).resolve() == (
        ROOT / "collections/ansible_collections/ivpb/backupbeleid/plugins/module_utils/input_rules.py").resolve()


@pytest.mark.parametrize("name", sorted(vars_schemas()))
def test_no_length_only_string_field(name):
    schema = vars_schemas()[name]
    for path, leaf in string_leaves(schema, (name,)):
        restricted = leaf.get("$ref", "").startswith(("#/$defs/rule_", "#/$defs/level_")) or "enum" in leaf \
            or "const" in leaf or "pattern" in leaf
        assert restricted, f"{'.'.join(path)} accepts any string of some length; give it a rule"
    # fields without a type that take secrets are checked by ivpb.checks.power
    if "type" not in schema and "$ref" not in schema:
        assert (name,) in SECRETS


def test_every_rule_is_in_the_schema_defs():
    validator = _validator(load_policy())
    for name in input_rules.PATTERNS:
        assert validator.schema["$defs"][f"rule_{name}"] == input_rules.SCHEMA_DEFS[f"rule_{name}"]


@pytest.mark.parametrize("value", ["22:00\n", "1M\n", "2026-01-01\n", "backup.daily\n"])
def test_patterns_match_the_whole_value(value):
    """A schema pattern ending in `$` would accept a trailing newline with re.search."""
    validator = _validator(load_policy())
    instances = {
        "22:00\n": {"ivpb_backup_window": {"start": value}},
        "1M\n": {"ivpb_backup_retention": {"full_if_older_than": value}},
        "2026-01-01\n": {"ivpb_sites": {"s": {"fire_protection": {"safety_plan": {"reference": "r", "date": value}}}}},
        "backup.daily\n": {"ivpb_waivers": [{"control": value, "host": "h", "justification": "x" * 12,
                                             "approver": "a", "expires": "2027-01-01"}]},
    }
    assert list(validator.iter_errors(instances[value]))


def test_schema_files_are_json():
    folder = resources.files("ivpb.schemas").joinpath("vars")
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            json.loads(entry.read_text(encoding="utf-8"))
