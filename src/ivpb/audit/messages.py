"""A module's finding in the report's language (issue #24).

A module reports facts: besides its one-line English `detail` (for Ansible's own output), a
control entry may carry `message: {id, params}`, the id of a sentence in the catalogue's `module`
section (words/<lang>.yml) and its parameters (text, numbers, lists of them). The report writes
that sentence in its language; an entry without a message, or with one the catalogue cannot fill
in (an older collection, an unknown id, a parameter missing), is quoted as the module wrote it.
"""

from __future__ import annotations

from typing import Any

from ivpb.i18n import catalogue

SECTION = "module"


def module_detail(entry: dict[str, Any], lang: str) -> str:
    """The finding of one control entry as the module reported it, in lang where it sent a message."""
    message = entry.get("message")
    if isinstance(message, dict) and isinstance(message.get("id"), str):
        text = catalogue(lang).get(f"{SECTION}.{message['id']}")
        params = _params(message.get("params", {}))
        if isinstance(text, str) and params is not None:
            try:
                return text.format(**params)
            except (KeyError, IndexError, ValueError, TypeError, AttributeError):  # not this sentence's parameters
                pass
    return str(entry.get("detail", ""))


def _params(raw: Any) -> dict[str, str] | None:
    """The parameters as text: a list of values joined with ', '; None when one is not plain."""
    if not isinstance(raw, dict):
        return None
    out = {}
    for key, value in raw.items():
        if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            out[str(key)] = ", ".join(map(str, value))
        elif isinstance(value, str | int | float):
            out[str(key)] = str(value)
        else:
            return None
    return out
