"""Reports held as one byte per character: the characters beyond Latin-1 written as the format's
own escape (a character reference in HTML and XML, a \\uXXXX escape in JSON).

Python stores a string at the width of its widest character, so a single ’ in a policy sentence or
a ✔ in a finding would make a report of a large federation take two or four bytes a character
(benchmarks/README.md has the numbers). Latin-1 letters (é, ë, §) stay as they are: Dutch text stays
readable in every format. The HTML, JUnit and JSON renderers all use this one function.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_WIDE = re.compile("[^\x00-\xff]")


def reference(char: str) -> str:
    """A character as an HTML/XML numeric character reference."""
    return f"&#{ord(char)};"


def json_escape(char: str) -> str:
    """A character as a JSON string escape; beyond the BMP a UTF-16 surrogate pair, as JSON writes it."""
    code = ord(char)
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def latin1(text: str, escape: Callable[[str], str] = reference) -> str:
    """text with each character beyond Latin-1 written as escape(character); text itself when it
    has none (the common case: asking an ASCII string costs nothing, a Latin-1 one a copy)."""
    if text.isascii():
        return text
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return _WIDE.sub(lambda m: escape(m.group()), text)
    return text
