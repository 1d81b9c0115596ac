"""`ivpb audit --format json`: the report as JSON (schemas/report.schema.json).

Indented like ``json.dumps(indent=2)`` down to each control result, and each result on one line:
readable and grep-able (one line per host x control), and fast at scale. ``indent=2`` all the
way down uses the json module's pure-Python encoder, ten times slower than its C encoder, which
writes each compact line here (1,000 hosts x 50 data sets: 200,000 results).
"""

from __future__ import annotations

import json
from typing import Any

_LINE = json.JSONEncoder(ensure_ascii=False).encode  # compact, C encoder (no indent)


def _indented(value: Any, pad: str) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + pad)


def _subjects(subjects: dict[str, Any], pad: str) -> str:
    """{name: {..., "controls": [one line per result]}} at indentation pad."""
    if not subjects:
        return "{}"
    inner, field, item = pad + "  ", pad + "    ", pad + "      "
    out = []
    for name, subject in subjects.items():
        fields = []
        for key, value in subject.items():
            if key == "controls" and value:
                rows = f",\n{item}".join(map(_LINE, value))
                fields.append(f"{field}{_LINE(key)}: [\n{item}{rows}\n{field}]")
            else:
                fields.append(f"{field}{_LINE(key)}: {_indented(value, field)}")
        body = ",\n".join(fields)
        out.append(f"{inner}{_LINE(name)}: {{\n{body}\n{inner}}}" if fields else f"{inner}{_LINE(name)}: {{}}")
    return "{\n" + ",\n".join(out) + f"\n{pad}}}"


def render(report: dict[str, Any], lang: str = "nl") -> str:
    del lang  # the report carries its own language; the argument is the renderers' common signature
    fields = []
    for key, value in report.items():
        text = _subjects(value, "  ") if key in ("hosts", "sites") else _indented(value, "  ")
        fields.append(f"  {_LINE(key)}: {text}")
    return "{\n" + ",\n".join(fields) + "\n}\n"
