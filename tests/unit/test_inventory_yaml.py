"""The block-YAML reader of plain vars files must read exactly what libyaml reads (types, key
order, values), or decline (_NotPlain) so that libyaml or Ansible reads the file."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ivpb.inventory import _block_yaml, _NotPlain, _PlainSafeLoader

TRICKY = [
    "yes",
    "No",
    "on",
    "OFF",
    "true",
    "null",
    "~",
    "",
    "1e3",
    "1.5",
    ".5",
    "0o17",
    "0x1f",
    "017",
    "1_000",
    "12:30",
    "-5",
    "-",
    "- x",
    "a: b",
    "a:b",
    "x #y",
    "#x",
    " lead",
    "trail ",
    "it's",
    "'q'",
    '"d"',
    "2026-03-01",
    "2026-03-01 10:00:00+01:00",
    "---",
    "...",
    "?",
    ": x",
    "[a]",
    "{a: 1}",
    "a, b",
    "&a",
    "*a",
    "|",
    ">",
    "%x",
    "@x",
    "`x",
    "=",
    "<<",
    "café",
    "/srv/ds000",
    "http://x/y",
    "a\tb",
    "\u2028",
    "\x85",
    "line\nbreak",
    "back\\slash",
    "pw-host0001",
    "a  b",
]
# Mostly text the fast reader accepts (else the test proves little), some that it must decline.
SCALARS = st.one_of(
    st.sampled_from(TRICKY),
    st.text("abz09 -_:/.'#,éx", max_size=10),
    st.text(max_size=6),
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
)
KEYS = st.one_of(
    st.sampled_from(["a", "b_c", "ivpb_x", "yes", "null", "1", "x.y", "k-1", "True"]),
    st.text("abcxyz_-.09", min_size=1, max_size=6),
    st.text(min_size=1, max_size=4),
)
FRIENDLY = st.recursive(
    st.one_of(st.text("abz09 -_:/.'é", max_size=8), st.integers(), st.booleans(), st.none(), st.sampled_from(TRICKY)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text("abxyz_-.09", min_size=1, max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=20,
)


def canon(value):
    """Equality that also tells 1, 1.0 and True apart and sees key order."""
    return json.dumps(value, default=repr) + repr(type(value))


def libyaml(text: str):
    return yaml.load(text, Loader=_PlainSafeLoader)  # noqa: S506 - a safe loader


def agree(text: str) -> None:
    try:
        fast = _block_yaml(text)
    except (_NotPlain, yaml.YAMLError):
        return  # declined: the file goes to libyaml (or Ansible)
    assert canon(fast) == canon(libyaml(text)), text


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(KEYS, st.one_of(VALUES, FRIENDLY), max_size=5),
    st.booleans(),
    st.sampled_from([2, 4]),
    st.sampled_from([20, 80]),
)
def test_equal_to_libyaml_on_dumped_values(value, flow, indent, width):
    agree(yaml.safe_dump(value, default_flow_style=flow, indent=indent, width=width, allow_unicode=True))
    agree(yaml.safe_dump(value, default_flow_style=False, sort_keys=False, allow_unicode=False))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "a: 1",
                "b:",
                "- x",
                "  - y",
                "  c: d",
                "- e: f",
                "  g: h",
                "    - i",
                "# c",
                "",
                "k: 'v'",
                'k2: "w"',
                "    m: n",
                "- - p",
                "  -",
                "-",
                "z: {}",
                "l: []",
            ]
        ),
        max_size=10,
    )
)
def test_equal_to_libyaml_on_hand_typed_lines(lines):
    agree("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb:\n- x\n- y: 1\n  z: [1]\nc: 'it''s'\n",
        "a:\n  - 1\n  -\n  - - 2\n    - 3\nb: ~\n",
        "# comment\n---\na: b\n",
        "a: b\n  continued\n",
        "a: |\n  block\n",
        "a: 1\na: 2\n",
    ],
)
def test_examples(text):
    agree(text)


def test_the_synthetic_host_file_is_read_fast():
    text = yaml.safe_dump(
        {
            "ivpb_site": "campus",
            "ivpb_needs_internet": False,
            "ivpb_nut_password": "pw-x",
            "ivpb_stores": [{"dataset": "ds000", "path": "/srv/ds000", "sync_target": "offsite"}],
            "ivpb_date": "2026-03-01",
        }
    )
    assert canon(_block_yaml(text)) == canon(libyaml(text))
