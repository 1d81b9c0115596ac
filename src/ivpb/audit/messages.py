"""A module's finding in the report's language (issue #24).

A module reports facts: besides its one-line English `detail` (for Ansible's own output), a
control entry carries `message: {id, params}` (or a list of them, one per finding), the id of a
sentence in the catalogue's `module` section (words/<lang>.yml) and its parameters (text,
numbers, lists of them). The audit turns them into Messages, written in the report's language
when the result is built. An entry without a message, or with one the catalogue cannot fill in
(an older collection, an unknown id, a parameter missing), keeps the module's own words: a
failure under "technische details" (finding.module_failed), anything else as the module wrote it
(finding.module_quoted).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ivpb.i18n import Message, catalogue, msg

SECTION = "module"


def module_findings(entry: dict[str, Any], lang: str) -> tuple[Message, ...]:
    """The findings of one control entry as the module reported them."""
    raw = entry.get("message")
    if isinstance(raw, dict):  # the common case first: one message (200,000 results at 1,000 hosts)
        one = _message(raw, lang)
        if one is not None:
            return one
    elif isinstance(raw, list) and raw:
        out = [_message(m, lang) for m in raw]
        if all(out):
            return tuple(m for said in out for m in said)  # type: ignore[union-attr]
    return _own_words(entry.get("status") == "error", str(entry.get("detail", "")))


@lru_cache(maxsize=4096)  # hosts send the same few findings: one Message each
def _own_words(failed: bool, detail: str) -> tuple[Message, ...]:
    return (msg("finding.module_failed" if failed else "finding.module_quoted", detail=detail),)


def _message(message: Any, lang: str) -> tuple[Message] | None:
    if not isinstance(message, dict) or not isinstance(message.get("id"), str):
        return None
    params = _params(message.get("params", {}))
    return None if params is None else _filled(message["id"], params, lang)


@lru_cache(maxsize=4096)
def _filled(mid: str, params: tuple[tuple[str, str], ...], lang: str) -> tuple[Message] | None:
    """The module's sentence as a Message (alone in a tuple, the same one each time), or None when
    the catalogue has no such sentence or these parameters do not fill it in."""
    text = catalogue(lang).get(f"{SECTION}.{mid}")
    if not isinstance(text, str):
        return None
    try:
        text.format(**dict(params))
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):  # not this sentence's parameters
        return None
    return (Message(f"{SECTION}.{mid}", params),)


def _params(raw: Any) -> tuple[tuple[str, str], ...] | None:
    """The parameters as text: a list of values joined with ', '; None when one is not plain."""
    if not isinstance(raw, dict):
        return None
    out = []
    for key, value in raw.items():
        if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            out.append((str(key), ", ".join(map(str, value))))
        elif isinstance(value, str | int | float):
            out.append((str(key), str(value)))
        else:
            return None
    return tuple(out)
