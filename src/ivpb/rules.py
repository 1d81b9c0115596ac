"""The collection's shared field rules (plugins/module_utils/input_rules.py) on the controller.

The rules are written once, in the collection, because modules run them on hosts without the
ivpb package. The controller imports the collection's module_utils one way, by their Python
name `ansible_collections.ivpb.backupbeleid.plugins.module_utils.<name>`: inside
ansible-playbook (the plan action) Ansible's collection loader answers that import; elsewhere
(the `ivpb` CLI) the first collections folder that holds the collection is added to sys.path
before it - this checkout's collections/ (pip install -e .), else each folder of
ANSIBLE_COLLECTIONS_PATH, else Ansible's defaults (~/.ansible/collections,
/usr/share/ansible/collections)."""

from __future__ import annotations

import functools
import importlib
import math
import os
import re
import sys
from pathlib import Path
from types import ModuleType

import jsonschema

PACKAGE = "ansible_collections.ivpb.backupbeleid.plugins.module_utils"
COLLECTION = Path("ansible_collections/ivpb/backupbeleid/galaxy.yml")


def _collections_folders() -> list[Path]:
    out = [Path(__file__).resolve().parents[2] / "collections"]  # a checkout (pip install -e .)
    paths = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.environ.get("ANSIBLE_COLLECTIONS_PATHS")
    if paths:
        out += [Path(p) for p in paths.split(os.pathsep) if p]
    return out + [Path.home() / ".ansible/collections", Path("/usr/share/ansible/collections")]


def module_utils(name: str = "input_rules") -> ModuleType:
    """One of the collection's module_utils files (stdlib only), imported as described above."""
    try:
        return importlib.import_module(f"{PACKAGE}.{name}")
    except ModuleNotFoundError as e:
        if not (e.name and PACKAGE.startswith(e.name)):
            raise
    folder = next((f for f in _collections_folders() if (f / COLLECTION).is_file()), None)
    if folder is None:
        raise ImportError(
            f"the ivpb.backupbeleid collection (plugins/module_utils/{name}.py) was not found: "
            "install the collection or set ANSIBLE_COLLECTIONS_PATH")
    sys.path.append(str(folder))
    importlib.invalidate_caches()
    return importlib.import_module(f"{PACKAGE}.{name}")


input_rules = module_utils()


@functools.cache
def duties() -> dict[str, tuple[str, ...]]:
    """Each enforcing module's duties, what a policy's enforced_by.duty may name: the host modules'
    from input_rules.DUTIES, backup_job's the rows of its own DUTIES table (one row per duty)."""
    return {**input_rules.DUTIES, "backup_job": tuple(module_utils("backup_job").DUTIES)}


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _whole_pattern(validator, pattern, instance, schema):
    """`pattern` matched against the WHOLE value (re.fullmatch): JSON Schema's search with `$`
    would accept a value that ends in a newline."""
    if validator.is_type(instance, "string") and not _compiled(pattern).fullmatch(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


_TYPE = jsonschema.Draft202012Validator.VALIDATORS["type"]


def _type_finite(validator, types, instance, schema):
    """JSON Schema's `type`, where a number is finite: YAML's .nan and .inf (and 1e999, which
    reads as .inf) are floats that pass `minimum` and `maximum` (NaN compares false to all), and
    later break the arithmetic on them (a time span, a count) or the JSON they are written into."""
    yield from _TYPE(validator, types, instance, schema)
    if isinstance(instance, float) and not math.isfinite(instance):
        yield jsonschema.ValidationError(f"{instance!r} is not a finite number; expected a number",
                                         validator_value="finite")


def _type_one_line(validator, types, instance, schema):
    """Finite numbers, and every string is one line without control characters, unless its
    schema says "x-multiline": true (input_rules' multiline and armored_key rules)."""
    yield from _type_finite(validator, types, instance, schema)
    if isinstance(instance, str) and not schema.get("x-multiline"):
        try:
            input_rules.no_control(instance, "value")
        except ValueError as e:
            message = "contains a control character (value not shown); expected one line of text" \
                if schema.get("x-secret") else str(e).removeprefix("value: ")
            yield jsonschema.ValidationError(message, validator_value="control")


# Draft 2020-12 with every pattern matched against the whole value, finite numbers and one-line
# strings: the inventory's variable schemas are checked with it.
WholeValueValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"pattern": _whole_pattern, "type": _type_one_line})
# ... and with whole-value patterns and finite numbers only, for the policy file (its sentences
# may span lines).
WholePatternValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"pattern": _whole_pattern, "type": _type_finite})
