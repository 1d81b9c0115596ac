"""The collection's shared field rules (plugins/module_utils/input_rules.py) on the controller.

The rules are written once, in the collection, because modules run them on hosts without the
ivpb package. The controller loads that very file: through Ansible's collection loader when it
runs inside ansible-playbook (the plan action), else from the collections path Ansible is
configured with, else from this repository's own collections/ folder (editable install)."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import math
import os
import re
import sys
from pathlib import Path
from types import ModuleType

import jsonschema

MODULE = "ansible_collections.ivpb.backupbeleid.plugins.module_utils.input_rules"
RELATIVE = Path("ansible_collections/ivpb/backupbeleid/plugins/module_utils/input_rules.py")


def _candidates() -> list[Path]:
    out = [Path(__file__).resolve().parents[2] / "collections"]  # a checkout (pip install -e .)
    paths = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.environ.get("ANSIBLE_COLLECTIONS_PATHS")
    if paths:
        out += [Path(p) for p in paths.split(os.pathsep) if p]
    out += [Path(p) for p in sys.path if p]
    out += [Path.home() / ".ansible/collections", Path("/usr/share/ansible/collections")]
    return out


def module_utils(name: str = "input_rules") -> ModuleType:
    """One of the collection's module_utils files (stdlib only), found as described above."""
    try:
        return importlib.import_module(MODULE.rsplit(".", 1)[0] + "." + name)
    except ImportError:
        pass
    for base in _candidates():
        path = base / RELATIVE.with_name(f"{name}.py")
        if path.is_file():
            spec = importlib.util.spec_from_file_location(f"ivpb._{name}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise ImportError(
        f"the ivpb.backupbeleid collection (plugins/module_utils/{name}.py) was not found: "
        "install the collection or set ANSIBLE_COLLECTIONS_PATH")


input_rules = module_utils()


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
