"""Bounded, strict reading of the YAML files a user gives ivpb (inventory files, vars files,
--policy): one clear line naming the file, with line and column, for every way a file can be
broken, before any parser expands or copies anything.

- not UTF-8, not YAML (syntax), more than one document;
- a duplicate key in a mapping (PyYAML and Ansible silently keep the last one): an error naming
  both places;
- an alias bomb ("billion laughs"): YAML aliases share nodes when composed, which costs nothing,
  but every later walk (Ansible's tagging, templating, copying, JSON, the schema check) expands
  them. The expanded size is counted over the composed node graph (each distinct node once);
  more than MAX_ALIAS_VALUES values added by aliases is refused, as are recursive aliases and
  nesting deeper than MAX_DEPTH;
- a file above MAX_BYTES, MAX_LINES lines or MAX_VALUES values.

Size, lines and values are counted before anything is built, so a file is refused within about
a second and a few tens of MB whatever it holds; the inventories this is for are a few KB a file.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ivpb.errors import UserError

MAX_BYTES = 8 * 1024 * 1024
MAX_ALIAS_VALUES = 100_000  # values that aliases add when expanded (a real file: a few hundred at most)
# Values (YAML events) and lines a file may hold: within a second and a few tens of MB to compose,
# Ansible's own loader takes several times that (benchmarks/README.md). An inventory of 10,000
# hosts in one file is ~20,000 values.
MAX_VALUES = 100_000
MAX_LINES = 200_000
MAX_DEPTH = 100


class YamlError(UserError):
    """A broken file: where (file:line:column), the line (1-based, None when unknown) and what."""

    def __init__(self, origin: str, mark: Any, problem: str):
        super().__init__(f"{where(origin, mark)}: {problem}")
        self.location = where(origin, mark)
        self.line = None if mark is None else mark.line + 1
        self.problem = problem


def where(origin: str, mark: Any) -> str:
    """file:line:column (1-based) of a yaml Mark."""
    if mark is None:
        return origin
    return f"{origin}:{mark.line + 1}:{mark.column + 1}"


def decode(data: bytes, origin: str) -> str:
    """UTF-8 text (a BOM allowed), or one line naming the first bad byte's line and column."""
    if len(data) > MAX_BYTES:
        raise YamlError(origin, None, f"{len(data)} bytes is too large (at most {MAX_BYTES // (1024 * 1024)} MB)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        mark = yaml.Mark(origin, e.start, data.count(b"\n", 0, e.start),
                         e.start - (data.rfind(b"\n", 0, e.start) + 1), None, None)
        raise YamlError(origin, mark, f"not UTF-8 text (byte 0x{data[e.start]:02x}); save the file as UTF-8") from None


def check_size(text: str, origin: str) -> None:
    """Lines and values within bounds, counted before anything is built: a line count, then
    libyaml's event stream, which stops at the first value over the limit."""
    lines = text.count("\n")
    if lines > MAX_LINES:
        raise YamlError(origin, None, f"{lines:,} lines is too many (at most {MAX_LINES:,})")
    if len(text) < 4 * MAX_VALUES // 2:  # two characters or more per value: cannot be over
        return
    count = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            count += 1
            if count > MAX_VALUES:
                raise YamlError(origin, event.start_mark, f"more than {MAX_VALUES:,} values in one file; "
                                "expected an inventory file (split it, or is it generated wrongly?)")
    except yaml.YAMLError:
        return  # compose() reports it with line and column


def compose(text: str, origin: str) -> yaml.Node | None:
    """The node graph of a one-document YAML text, checked (see the module docstring)."""
    check_size(text, origin)
    loader = yaml.CSafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        what = " ".join(filter(None, (e.context, e.problem)))
        raise YamlError(origin, mark, f"not valid YAML: {what}") from None
    except yaml.YAMLError as e:
        raise YamlError(origin, None, f"not valid YAML: {str(e).splitlines()[0]}") from None
    except RecursionError:
        raise YamlError(origin, None, f"nested too deeply (at most {MAX_DEPTH} levels)") from None
    finally:
        loader.dispose()
    if node is not None:
        check_node(node, origin)
    return node


def check_node(root: yaml.Node, origin: str) -> int:
    """Duplicate keys, alias expansion, recursion and depth of a composed graph, without
    recursion in Python. Returns the expanded number of values."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    # (node, depth, children pushed?)
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, expanded = stack.pop()
        key = id(node)
        if expanded:
            on_path.discard(key)
            total = 1 + sum(size[id(c)] for c in _children(node))
            if total > len(size) + 1 + MAX_ALIAS_VALUES:
                raise YamlError(origin, node.start_mark, f"its aliases expand to more than "
                                f"{MAX_ALIAS_VALUES:,} values (an alias bomb?); expected plain data")
            size[key] = total
            continue
        if key in size:
            continue
        if key in on_path:
            raise YamlError(origin, node.start_mark, "a recursive alias (a value that contains "
                            "itself); expected plain data")
        if depth > MAX_DEPTH:
            raise YamlError(origin, node.start_mark, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, yaml.MappingNode):
            _duplicates(node, origin)
        on_path.add(key)
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in _children(node) if id(c) not in size)
    return size[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _duplicates(node: yaml.MappingNode, origin: str) -> None:
    seen: dict[str, Any] = {}
    for k, _v in node.value:
        if not isinstance(k, yaml.ScalarNode) or k.tag == "tag:yaml.org,2002:merge":
            continue
        if k.value in seen:
            first = seen[k.value]
            raise YamlError(origin, k.start_mark, f"duplicate key {k.value!r} (first at line "
                            f"{first.line + 1} column {first.column + 1}); expected each key once")
        seen[k.value] = k.start_mark


def variable_at(text: str, line: int | None) -> str | None:
    """The top-level key whose block holds a 1-based line (for a message naming the variable
    when the file does not parse): the last unindented `key:` at or above that line."""
    if line is None:
        return None
    found = None
    for i, raw in enumerate(text.split("\n")[:line]):
        m = _TOP_KEY.match(raw)
        if m:
            found = m.group(1) or m.group(2) or m.group(3)
        elif i == 0 and raw.startswith(("{", "[")):
            return None
    return found


_TOP_KEY = re.compile(r"""^(?:([A-Za-z_][^\s:#'"]*)|'([^']*)'|"([^"]*)")\s*:(?:\s|$)""")


def top_keys(node: yaml.Node | None) -> dict[str, Any]:
    """The top-level keys of a mapping document and their marks (for messages naming a variable)."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: k.start_mark for k, _v in node.value if isinstance(k, yaml.ScalarNode)}


def child(node: Any, token: str) -> Any:
    """The node under a mapping key or a sequence index ("3" or "[3]"); None when absent."""
    index = token.strip("[]")
    if isinstance(node, yaml.SequenceNode) and index.isdigit():
        return node.value[int(index)] if int(index) < len(node.value) else None
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == token:
                return v
    return None


def locate(node: Any, origin: str, path: str) -> str | None:
    """file:line:column of the deepest node of a path such as controls[3].id or controls.3.id."""
    mark = None
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        node = child(node, token)
        if node is None:
            break
        mark = node.start_mark
    return where(origin, mark) if mark is not None else None


def load_located(data: bytes, origin: str) -> tuple[Any, Any]:
    """(value, its composed node) of a checked file (see load_bytes)."""
    text = decode(data, origin)
    node = compose(text, origin)
    return _construct(text, origin), node


def load_bytes(data: bytes, origin: str) -> Any:
    """Checked, then constructed with libyaml's safe loader."""
    text = decode(data, origin)
    compose(text, origin)
    return _construct(text, origin)


def _construct(text: str, origin: str) -> Any:
    try:
        return yaml.load(text, Loader=yaml.CSafeLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as e:  # a tag the safe loader does not know, a bad timestamp...
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise YamlError(origin, mark, f"not valid YAML: {problem}") from None
    except (ValueError, OverflowError) as e:
        raise YamlError(origin, None, f"not valid YAML: {e}") from None
