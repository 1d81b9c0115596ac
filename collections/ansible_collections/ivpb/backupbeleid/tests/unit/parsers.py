"""Reference parsers of the formats the backends write, for tests that read back what was written."""

from __future__ import annotations

import re


def parse_nut_words(line: str) -> list[str]:
    """NUT's parseconf.c state machine (words, quotes, backslash literals, '#' comments)."""
    words, word, state, started = [], [], "start", False
    for ch in line:
        if state == "start":
            if ch == "#":
                break
            if ch.isspace():
                continue
            started = True
            if ch == "\\":
                state = "lit"
            elif ch == '"':
                state = "quote"
            else:
                word.append(ch)
                state = "collect"
        elif state == "collect":
            if ch == "#" or ch.isspace():
                words.append("".join(word))
                word, started = [], False
                if ch == "#":
                    return words
                state = "start"
            elif ch == "\\":
                state = "lit"
            else:
                word.append(ch)
        elif state == "lit":
            word.append(ch)
            state = "collect"
        elif state == "quote":
            if ch == "#":
                raise ValueError("unescaped # in quotes")
            if ch == '"':
                words.append("".join(word))
                word, started, state = [], False, "start"
            elif ch == "\\":
                state = "qlit"
            else:
                word.append(ch)
        elif state == "qlit":
            word.append(ch)
            state = "quote"
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
