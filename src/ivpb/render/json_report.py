"""`ivpb audit --format json`: the report as JSON (schemas/report.schema.json); `ivpb plan
--format json` writes the plan (same hosts/sites shape) the same way.

Indented like ``json.dumps(indent=2)`` down to each control result, and each result on one line:
readable and grep-able (one line per host x control), and fast at scale. ``indent=2`` all the
way down uses the json module's pure-Python encoder, ten times slower than its C encoder, which
writes each compact line here (1,000 hosts x 50 data sets: 200,000 results).
"""

from __future__ import annotations

import json
import re
from typing import Any


def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _make_compact() -> Any:
    """Compact JSON like json.JSONEncoder(ensure_ascii=False).encode, through one C encoder made
    once: encode() builds a new one on every call, a third of the time for 200,000 results."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return json.JSONEncoder(ensure_ascii=False).encode
    encoder = make(None, _not_json, json.encoder.encode_basestring, None, ": ", ", ", False, False, True)
    return lambda value: "".join(encoder(value, 0))


_COMPACT = _make_compact()
# Characters beyond Latin-1 (’ in a policy sentence, a ✔ in a finding) written as \uXXXX escapes:
# one of them anywhere makes Python hold the whole 80-million-character report at two bytes a
# character. Latin-1 letters (é, ë, §) stay as they are, so Dutch text stays readable.
_WIDE = re.compile("[^\x00-\xff]")


def _escape_wide(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code > 0xFFFF:  # outside the BMP: a UTF-16 surrogate pair, as JSON writes it
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _latin1(text: str) -> str:
    try:
        text.encode("latin-1")  # a copy of a one-byte string, ten times faster than a regex scan
    except UnicodeEncodeError:
        return _WIDE.sub(_escape_wide, text)
    return text


def _line(value: Any) -> str:
    return _latin1(_COMPACT(value))


def _indented(value: Any, pad: str) -> str:
    return _latin1(json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + pad))


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
    """The pieces are joined once: at 1,000 hosts the report is some 80 million characters, and
    every intermediate join would hold another copy."""
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
