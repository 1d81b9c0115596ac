"""The catalogue of words (src/ivpb/words/<lang>.yml): both languages hold the same ids with the
same parameters, every id the code looks up is there, every evidence key the code emits has a
label, and there is one status vocabulary with one order."""

from __future__ import annotations

import ast
import json
import re
import string
from pathlib import Path

import pytest

from ivpb.audit.evaluate import BASES
from ivpb.i18n import LANGS, catalogue, msg, span, t
from ivpb.render.labels import diff_text, evidence_key
from ivpb.statuses import SEVERITY, STATUSES

from .evidence_keys import emitted

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "ivpb"
SECTIONS = sorted({key.split(".")[0] for key in catalogue("nl") if "." in key})
ID = re.compile(rf"^(?:{'|'.join(SECTIONS)})\.[a-z][a-z0-9_]*$")
# Ids the code builds from data, by prefix, and what each may be built from.
FAMILIES = {
    "status.": STATUSES,
    "status_help.": STATUSES,
    "status_short.": (),  # only where a short form differs; the status word otherwise
    "aspect.": ("b", "i", "v"),
    "evidence_key.": (),  # every emitted key: test_every_emitted_evidence_key_has_a_label
    "todo.": (),  # the checks' todo notes: collected from their todo= arguments
    "report.": (),  # w(key): collected from its calls
    "basis.": BASES,  # a result's basis (ivpb.render.labels.basis_label, basis_counts)
}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_both_languages_hold_the_same_ids_with_the_same_parameters():
    nl, en = catalogue("nl"), catalogue("en")
    assert sorted(nl) == sorted(en)
    for key, text in nl.items():
        other = en[key]
        if isinstance(text, list):
            assert isinstance(other, list) and len(other) == len(text), key
            continue
        assert isinstance(text, str) and isinstance(other, str), key
        assert _fields(text) == _fields(other), key
        assert text or key == "report.policy_words_note", f"{key} is empty in nl"
        assert other, f"{key} is empty in en"


def _python_sources() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def _used_ids() -> tuple[dict[str, str], set[str]]:
    """id -> where it is used, and the prefixes of ids built from data (f-strings)."""
    used: dict[str, str] = {}
    prefixes: set[str] = set()
    for path in _python_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ID.match(node.value):
                used.setdefault(node.value, f"{where}:{node.lineno}")
            elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                head = str(node.values[0].value)
                if re.fullmatch(rf"(?:{'|'.join(SECTIONS)})\.", head):
                    prefixes.add(head)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "w" \
                    and node.args and isinstance(node.args[0], ast.Constant):
                used.setdefault(f"report.{node.args[0].value}", f"{where}:{node.lineno}")
            elif isinstance(node, ast.keyword) and node.arg == "todo":
                # a note, or either note of `a if c else b` ("" is no note)
                values = [node.value.body, node.value.orelse] if isinstance(node.value, ast.IfExp) else [node.value]
                for value in values:
                    first = value.values[0] if isinstance(value, ast.JoinedStr) and value.values else value
                    if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value:
                        used.setdefault(f"todo.{first.value.split('|')[0]}", f"{where}:{node.lineno}")
    for template in sorted((SRC / "templates").glob("*.j2")):
        for n, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1):
            for name in re.findall(r"\bL\.(\w+)", line):
                if name != "items":
                    used.setdefault(f"report.{name}", f"{template.relative_to(ROOT)}:{n}")
    return used, prefixes


def test_every_id_the_code_uses_is_in_the_catalogue():
    used, prefixes = _used_ids()
    assert len(used) > 150, "the scan found too few ids: it no longer reads the code"
    missing = {key: where for key, where in used.items() if key not in catalogue("nl")}
    assert not missing, f"ids used but not in words/nl.yml and words/en.yml: {missing}"
    assert prefixes <= set(FAMILIES), f"ids built from data under a new prefix: {prefixes - set(FAMILIES)}"
    for prefix, names in FAMILIES.items():
        for name in names:
            assert f"{prefix}{name}" in catalogue("nl"), f"{prefix}{name}"


def test_the_catalogue_holds_no_id_nobody_uses():
    used, _ = _used_ids()
    built = tuple(FAMILIES)
    unused = [key for key in catalogue("nl") if "." in key and key not in used and not key.startswith(built)]
    assert not unused, f"ids no code uses: {unused}"


def test_every_emitted_evidence_key_has_a_label_in_both_languages():
    found = emitted()
    assert not found.unresolved, "evidence the walker cannot follow:\n" + "\n".join(found.unresolved)
    # the walker reads every module and the controller (a sample of each, so that it cannot pass empty)
    assert {"last_backup", "last_sync", "probes", "monitored", "fingerprints"} <= set(found.keys)
    assert {"protected_generation", "last_drill", "measures"} <= set(found.keys)
    for lang in LANGS:
        unlabelled = {k: w for k, w in found.keys.items() if f"evidence_key.{k}" not in catalogue(lang)}
        assert not unlabelled, f"evidence keys without a label in words/{lang}.yml: {unlabelled}"


def test_no_evidence_label_without_a_key_that_is_emitted():
    keys = set(emitted().keys)
    # The §5 site record's safety plan is shown as the inventory holds it (ivpb_sites).
    sites = json.loads((SRC / "schemas" / "vars" / "ivpb_sites.json").read_text(encoding="utf-8"))
    record = sites["additionalProperties"]["properties"]["fire_protection"]["properties"]
    keys |= set(record["safety_plan"]["properties"])
    labels = {key.split(".", 1)[1] for key in catalogue("nl") if key.startswith("evidence_key.")}
    assert labels - keys == set()


def test_one_status_vocabulary_with_one_order():
    schema = json.loads((SRC / "schemas" / "report.schema.json").read_text(encoding="utf-8"))
    assert list(STATUSES) == schema["$defs"]["status"]["enum"]
    assert sorted(SEVERITY) == sorted(STATUSES)
    for path in _python_sources():
        if path.name == "statuses.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign):
                names = {getattr(target, "id", None) for target in node.targets}
                assert not names & {"STATUSES", "SEVERITY", "SYMBOL"}, f"{path}:{node.lineno} defines them again"


@pytest.mark.parametrize(("lang", "before", "after"), [("nl", "(nu)", "(na afdwingen)"), ("en", "(now)", "(after enforcing)")])
def test_a_diff_is_headed_in_the_report_language(lang, before, after):
    text = diff_text([{"path": "/etc/x", "before": "a\n", "after": "b\n"}], lang)
    assert f"--- /etc/x {before}" in text and f"+++ /etc/x {after}" in text


@pytest.mark.parametrize(
    ("seconds", "nl", "en"),
    [(9, "9 s", "9 s"), (252, "4 min 12 s", "4 min 12 s"), (3725, "1 u 2 min", "1 h 2 min"),
     (108000, "1 d 6 u", "1 d 6 h"), ("?", "?", "?"), (float("nan"), "?", "?"), (float("-inf"), "?", "?"),
     (10**30 * 86400, f"{10**30} d 0 u", f"{10**30} d 0 h")],
)
def test_a_measured_duration_in_the_reader_language(seconds, nl, en):
    assert span(seconds, "nl") == nl and span(seconds, "en") == en


def test_a_message_is_written_in_the_language_it_is_read_in():
    import datetime as dt

    m = msg("finding.too_old", what=msg("what.backup"), when="2026-11-29 01:00 UTC", age=dt.timedelta(hours=30),
            max=dt.timedelta(hours=26))
    assert m.text("nl") == "laatste geslaagde backup 2026-11-29 01:00 UTC is 30 u oud, maximum 26 u"
    assert m.text("en") == "last successful backup 2026-11-29 01:00 UTC is 30 h old, at most 26 h"
    assert t("report.advisory_short", "en") == "advisory"


def test_an_unknown_evidence_key_is_shown_as_it_is():
    assert evidence_key("last_backup", "en") == "last backup" and evidence_key("some_new_key", "nl") == "some new key"
