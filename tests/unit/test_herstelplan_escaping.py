"""The herstelplan cannot be rewritten by a value (issue #22): every inventory and drill value it
prints (names, paths, descriptions, key holders, a drill's `by` and `sample`) may hold backticks, fences, HTML,
link syntax, pipes and newlines, and the plan keeps the structure it has with harmless values:
no new link, tag, code block, heading or table cell, and each restore command stays one command
whose arguments are exactly the values (parsed back with markdown-it-py, html.parser and shlex)."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import tempfile
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from ivpb import herstelplan
from ivpb.inventory import Inventory
from ivpb.policy import load_policy

NOW = dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.UTC)
POLICY = load_policy()
FIELDS = ("host", "dataset", "site", "site_description", "description", "source", "target", "address", "path",
          "target_site", "key", "holder", "by", "files", "sample", "inventory")
HARMLESS = {f: f"x{i}" for i, f in enumerate(FIELDS)}
FRAGMENTS = ["`", "```", "~~~", "<script>alert(1)</script>", "<b>", "[x](javascript:alert(1))", "![i](x.png)",
             "<http://evil.example>", "\n", "\n\n", "\n```sh\nrm -rf /\n```\n", "|", "# ", "1. ", "- ", "> ",
             "    ", "*", "_", "&amp;", "\\", "'", '"', ";", "$(id)", "&&", "x"]
HOSTILE = st.lists(st.sampled_from(FRAGMENTS) | st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=3),
                   min_size=1, max_size=6).map("".join).filter(bool)
# Host and data set name a drill's folder: no "/", not "." or "..".
NAME = HOSTILE.filter(lambda s: "/" not in s and s.strip(" \n") not in ("", ".", ".."))
VALUES = st.fixed_dictionaries({f: NAME if f in ("host", "dataset") else HOSTILE.filter(lambda s: "," not in s)
                                if f == "inventory" else HOSTILE for f in FIELDS})


def _plan(v: dict[str, str], base: Path, fmt: str) -> str:
    drill = base / ".evidence" / "drills" / v["host"] / v["dataset"]
    drill.mkdir(parents=True)
    (drill / "20261129T101500Z.json").write_text(json.dumps({
        "format": "ivpb-drill/1", "host": v["host"], "dataset": v["dataset"], "started": "2026-11-29T10:15:00Z",
        "result": "ok", "rto_seconds": 754, "rpo_seconds": 32400, "files_checked": v["files"], "by": v["by"],
        "sample": v["sample"]}),
        encoding="utf-8")
    school = {
        "ivpb_datasets": {v["dataset"]: {"description": v["description"],
                                         "biv": {"b": "noodzakelijk", "i": "absoluut", "v": "geheim"}}},
        "ivpb_sites": {v["site"]: {"description": v["site_description"]}},
        "ivpb_backup_targets": {v["target"]: {"address": v["address"], "path": v["path"], "site": v["target_site"]}},
        "ivpb_gpg_recipients": {v["key"]: {"fingerprint": "0075798249F96224C9B5F02A537B3983D457471C",
                                           "description": v["holder"]}},
    }
    host = {**school, "ivpb_site": v["site"], "ivpb_stores": [
        {"dataset": v["dataset"], "path": v["source"], "backup_target": v["target"], "sync_target": v["target"],
         "encrypt": True, "encrypt_to": [v["key"]]}]}
    sources = [str(base), v["inventory"]]
    inventory = Inventory(hosts={v["host"]: host}, sources=tuple(sources))
    return herstelplan.render(inventory, POLICY, sources, "nl", fmt, now=NOW)


def _markdown_shape(text: str) -> tuple[list[tuple], list[str]]:
    """(every block and inline token but plain text, the fenced blocks' contents)."""
    shape, fences = [], []
    for tok in MarkdownIt("commonmark").enable("table").parse(text):
        shape.append((tok.type, tok.tag, tok.info))
        shape += [(c.type, c.tag) for c in tok.children or () if c.type not in ("text", "softbreak")]
        if tok.type == "fence":
            fences.append(tok.content)
    return shape, fences


def _commands(fence: str) -> list[str]:
    lexer = shlex.shlex(fence, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def _expected(v: dict[str, str], base: Path) -> list[str]:
    one = ["ivpb", "restore", "-i", str(base), "-i", v["inventory"], "--host", v["host"], "--dataset", v["dataset"],
           "--to", f"/herstel/{v['host']}-{v['dataset']}"]
    return [*one, *one, "--school-year", "2026-2027", *one, "--offsite"]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(f"<{tag} {sorted(attrs)}>")

    def handle_endtag(self, tag):
        self.tags.append(f"</{tag}>")

    def handle_data(self, data):
        self.text.append(data)


def _html(text: str) -> _Tags:
    parser = _Tags()
    parser.feed(text)
    return parser


def _render_both(v: dict[str, str]) -> tuple[str, str, Path]:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "inv"
        md_text = _plan(v, base, "markdown")
        (base / ".evidence").rename(Path(tmp) / "old")
        return md_text, _plan(v, base, "html"), base


HARMLESS_MD, HARMLESS_HTML, _ = _render_both(HARMLESS)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(VALUES)
def test_no_value_changes_the_plans_structure(v):
    md_text, html_text, base = _render_both(v)
    shape, fences = _markdown_shape(md_text)
    assert shape == _markdown_shape(HARMLESS_MD)[0]
    assert len(fences) == 1 and _commands(fences[0]) == _expected(v, base)
    page = _html(html_text)
    assert page.tags == _html(HARMLESS_HTML).tags
    shown = "".join(page.text)
    assert v["by"] in shown and v["holder"] in shown  # shown as they are, as text


def test_a_value_in_the_harmless_plan_is_where_expected():
    """The comparison above is against a plan that holds the values: the drill's by and the holder."""
    _shape, fences = _markdown_shape(HARMLESS_MD)
    assert "(door x12)" in HARMLESS_MD and "in handen van: x11" in HARMLESS_MD and "alleen x14 geslaagd" in HARMLESS_MD
    assert fences and "--host x0 --dataset x1 --to /herstel/x0-x1" in fences[0]
