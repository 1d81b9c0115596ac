"""`ivpb audit --format json`: the report as JSON (schemas/report.schema.json); `ivpb plan
--format json` writes the plan (same hosts/sites shape) the same way.

Indented like ``json.dumps(indent=2)`` down to each control result, and each result on one line:
readable and grep-able (one line per host x control). Each result is encoded by the json module's
C encoder (``indent=2`` all the way down would take its pure-Python one), its characters beyond
Latin-1 escaped (ivpb.render.latin1).
"""

from __future__ import annotations

import json
from typing import Any

from ivpb.render.latin1 import json_escape, latin1

# One line of compact JSON, as json.dumps(value, ensure_ascii=False) writes it; the report is a
# tree that ivpb built (no cycles to look for).
_compact = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


def _line(value: Any) -> str:
    return latin1(_compact(value), json_escape)


def _indented(value: Any, pad: str) -> str:
    return latin1(json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + pad), json_escape)


def _subjects(subjects: dict[str, Any], pad: str, out: list[str]) -> None:
    """{name: {..., "controls": [one line per result]}} at indentation pad, appended to out."""
    if not subjects:
        out.append("{}")
        return
    inner, field, item = pad + "  ", pad + "    ", pad + "      "
    out.append("{\n")
    for n, (name, subject) in enumerate(subjects.items()):
        out.append(f"{',' if n else ''}\n{inner}" if n else inner)
        out.append(f"{_line(name)}: {{")
        for k, (key, value) in enumerate(subject.items()):
            out.append(f"{',' if k else ''}\n{field}{_line(key)}: ")
            if key == "controls" and value:
                out.append(f"[\n{item}")
                for i, result in enumerate(value):
                    if i:
                        out.append(f",\n{item}")
                    out.append(_line(result))
                out.append(f"\n{field}]")
            else:
                out.append(_indented(value, field))
        out.append(f"\n{inner}}}" if subject else "}")
    out.append(f"\n{pad}}}")


def render(report: dict[str, Any], lang: str = "nl") -> str:
    """The pieces are joined once: every intermediate join of a large report would hold another copy."""
    del lang  # the report carries its own language; the argument is the renderers' common signature
    out = ["{"]
    for n, (key, value) in enumerate(report.items()):
        out.append(f"{',' if n else ''}\n  {_line(key)}: ")
        if key in ("hosts", "sites"):
            _subjects(value, "  ", out)
        else:
            out.append(_indented(value, "  "))
    out.append("\n}\n")
    return "".join(out)
