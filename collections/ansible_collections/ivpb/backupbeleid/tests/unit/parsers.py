"""Reference parsers of the formats the backends write, for tests that read back what was written."""

from __future__ import annotations

import re


def parse_nut_words(line: str) -> list[str]:
    """NUT's parseconf.c state machine (words, quotes, backslash literals, '#' comments)."""
    words, word, state, started, escaped = [], [], "start", False, False
    for ch in line:
        if escaped:  # the character after a backslash, inside quotes or out, is taken as it is
            word.append(ch)
            escaped = False
        elif state == "start":
            if ch == "#":
                break
            if ch.isspace():
                continue
            started, state = True, "collect"
            if ch == '"':
                state = "quote"
            elif ch == "\\":
                escaped = True
            else:
                word.append(ch)
        elif ch == "\\":
            escaped = True
        elif state == "collect":
            if ch == "#" or ch.isspace():
                words.append("".join(word))
                word, started = [], False
                if ch == "#":
                    return words
                state = "start"
            else:
                word.append(ch)
        else:  # quote
            if ch == "#":
                raise ValueError("unescaped # in quotes")
            if ch == '"':
                words.append("".join(word))
                word, started, state = [], False, "start"
            else:
                word.append(ch)
    if started and word:
        words.append("".join(word))
    return words


def lua_unquote(literal: str) -> str:
    """A Lua double-quoted literal decoded per the Lua 5.x manual (escapes \\\\ \\" \\ddd)."""
    assert literal[0] == literal[-1] == '"'
    body, out, i = literal[1:-1], bytearray(), 0
    while i < len(body):
        c = body[i]
        assert c not in '"\n\r', "unescaped quote or line break ends a Lua string"
        if c == "\\":
            nxt = body[i + 1]
            if nxt.isdigit():
                m = re.match(r"\d{1,3}", body[i + 1:])
                out.append(int(m.group()))
                i += 1 + len(m.group())
                continue
            out += nxt.encode()
            i += 2
            continue
        out += c.encode()
        i += 1
    return out.decode("utf-8", "surrogateescape")
