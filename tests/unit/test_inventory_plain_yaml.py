"""A plain vars file read from libyaml's events (inventory._plain_yaml) is what PyYAML's safe
loader reads (types, key order, values), or it is declined (_NotPlain) and read by that loader."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ivpb.inventory import _NotPlain, _plain_yaml, _PlainSafeLoader

# Text that YAML types or quotes in surprising ways.
TRICKY = ["yes", "No", "on", "OFF", "true", "null", "~", "", "1e3", "1.5", ".5", "0o17", "0x1f", "017", "1_000",
          "12:30", "-5", "-", "- x", "a: b", "x #y", "#x", " lead", "trail ", "it's", '"d"', "2026-03-01",
          "2026-03-01 10:00:00+01:00", "---", "...", "?", "[a]", "{a: 1}", "&a", "*a", "|", ">", "%x", "@x",
          "=", "<<", "café", "’", "/srv/ds000", "a\tb", "\u2028", "\x85", "line\nbreak", "back\\slash"]
SCALARS = st.one_of(st.sampled_from(TRICKY), st.text(max_size=8), st.integers(), st.booleans(), st.none(),
                    st.floats(allow_nan=False))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.sampled_from(TRICKY), st.text(max_size=5)), inner,
                                                 max_size=4)), max_leaves=20)
STYLES = st.fixed_dictionaries({"default_flow_style": st.sampled_from([False, True, None]),
                                "default_style": st.sampled_from([None, '"', "'", "|"]),
                                "allow_unicode": st.booleans(), "width": st.sampled_from([8, 80]),
                                "indent": st.sampled_from([2, 4]), "explicit_start": st.booleans()})


def canon(value):
    """Equality that also tells 1, 1.0 and True apart and sees key order."""
    return json.dumps(value, default=repr) + repr(type(value))


def agree(text: str) -> bool:
    """Both read the same; False when _plain_yaml declines."""
    try:
        fast = _plain_yaml(text)
    except _NotPlain:
        return False
    assert canon(fast) == canon(yaml.load(text, Loader=_PlainSafeLoader)), text  # noqa: S506 - a safe loader
    return True


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), VALUES, max_size=5), STYLES)
def test_plain_data_reads_as_pyyaml_reads_it(value, style):
    text = yaml.safe_dump(value, sort_keys=False, **style)
    try:
        yaml.load(text, Loader=_PlainSafeLoader)  # noqa: S506 - a safe loader
    except _NotPlain:  # a key that YAML types (yes, 1, null): not plain data for either
        with pytest.raises(_NotPlain):
            _plain_yaml(text)
        return
    # Quoted-everything styles carry tags (!!int "0"): declined, read by the safe loader.
    assert agree(text) or "!" in text, text


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n",                    # anchor, alias
    "base: {a: 1}\nc:\n  <<: {a: 2}\n",    # merge key
    "a: 1\na: 2\n",                        # duplicate key
    "1: a\n", "yes: a\n", "null: a\n",     # keys that are not text
    "? [a]\n: b\n",                        # a complex key
    "a: !!str 1\n", "a: !custom x\n",      # tags
    "a: 1\n---\nb: 2\n",                   # two documents
    "a: " + "[" * 101 + "]" * 101 + "\n",  # deeper than safe_yaml.MAX_DEPTH
    "a: =\n",                              # a value key
])
def test_beyond_plain_data_is_declined(text):
    with pytest.raises(_NotPlain):
        _plain_yaml(text)


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n...\n", "a:\n", "a: [1, {b: ~}]\nc: 2026-03-01\n",
                                  "x: |\n  two\n  lines\n", "'q': \"v\"\n", "s: 'it''s'\n"])
def test_edge_cases_agree(text):
    assert agree(text)
