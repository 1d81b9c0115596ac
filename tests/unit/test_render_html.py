"""The HTML report: one offline file, accessible, everything escaped."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser

import pytest

from ivpb.render import html


class Page(HTMLParser):
    """Collects what the tests look at: text, tags, attributes, scripts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.headings: list[tuple[str, str]] = []
        self._stack: list[str] = []
        self._heading: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._stack.append(tag)
        if tag in ("h1", "h2", "h3"):
            self._heading = []

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append((tag, "".join(self._heading).strip()))
            self._heading = None
        if self._stack and self._stack[-1] == tag:
            self._stack.pop()

    def handle_data(self, data):
        if self._stack and self._stack[-1] == "script":
            self.scripts.append(data)
            return
        self.text.append(data)
        if self._heading is not None:
            self._heading.append(data)


def parse(doc: str) -> Page:
    page = Page()
    page.feed(doc)
    page.close()
    return page


@pytest.fixture(scope="module", params=["nl", "en"])
def rendered(request, report):
    doc = html.render(report, request.param)
    return request.param, doc, parse(doc)


def test_a_complete_document(rendered):
    lang, doc, page = rendered
    assert doc.startswith("<!DOCTYPE html>")
    assert ("html", {"lang": lang}) in page.tags
    assert page.headings[0][0] == "h1"
    assert page.headings[0][1] == (
        "Nalevingsrapport Backupbeleid" if lang == "nl" else "Compliance report Backupbeleid"
    )
    assert ("30 november 2026" if lang == "nl" else "30 November 2026") in "".join(page.text)


def test_every_host_and_every_clause(rendered, report):
    _, _, page = rendered
    h3 = [text for tag, text in page.headings if tag == "h3"]
    for host in report["hosts"]:
        assert any(text.split()[0] == host for text in h3), host
    for site in report["sites"]:
        assert any(text.split()[0] == site for text in h3), site
    text = " ".join(page.text)
    for clause, title in report["policy"]["clauses"].items():
        assert f"{clause} {title}" in text  # Dutch titles in both languages


def test_summary_comes_first(rendered):
    lang, _, page = rendered
    h2 = [text for tag, text in page.headings if tag == "h2"]
    assert h2[0] == ("Samenvatting per artikel" if lang == "nl" else "Summary per clause")
    assert h2[1] == "Per host"
    text = " ".join(page.text)
    assert ("2 van 4 hosts voldoen" if lang == "nl" else "2 of 4 hosts comply") in text
    assert ("1 van 2 locaties voldoen" if lang == "nl" else "1 of 2 sites comply") in text


def test_dutch_sentences_in_both_languages(rendered, report):
    _, _, page = rendered
    text = " ".join(page.text)
    sentences = {c["sentence"] for s in [*report["hosts"].values(), *report["sites"].values()] for c in s["controls"]}
    for sentence in sentences:
        assert sentence in text
    assert ("blockquote", {"lang": "nl"}) in page.tags


def test_script_payload_is_escaped(rendered):
    _, doc, page = rendered
    assert "<script>alert(" not in doc
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in doc
    assert "Backup &amp; sync" in doc
    assert len(page.scripts) == 1 and "alert" not in page.scripts[0]  # only our own filter script
    assert "<script>alert('xss')</script>" in "".join(page.text)  # shown to the reader as text


def test_offline(rendered):
    _, doc, page = rendered
    assert not re.search(r"https?://", doc)
    for tag, attrs in page.tags:
        assert not (tag == "script" and "src" in attrs)
        assert not (tag == "link" and attrs.get("rel") == "stylesheet")
        assert tag not in ("img", "iframe", "object", "embed")
    # url(#...) names a fill pattern of the page's own chart; nothing from elsewhere
    assert "@import" not in doc and not re.search(r"url\((?!#ivpb-fill-)", doc)


def test_accessible_status_and_tables(rendered):
    lang, doc, page = rendered
    # status in words, not by colour alone
    assert doc.count('class="badge st-drift"') >= 5
    assert ("afwijking" if lang == "nl" else "drift") in " ".join(page.text)
    th = [attrs for tag, attrs in page.tags if tag == "th"]
    assert any(a.get("scope") == "col" for a in th) and any(a.get("scope") == "row" for a in th)
    assert ("main", {}) in page.tags and any(tag == "nav" for tag, _ in page.tags)


def test_readable_without_javascript(rendered):
    _, doc, _ = rendered
    # no hidden content except the filter bar the script fills in; diffs are <details>, open on click
    assert re.findall(r"<[^>]+\shidden[\s>]", doc) == ['<div id="filters" hidden>']
    assert 'style="display:none"' not in doc
    assert doc.count('<details class="diff tech"') == 3


def test_waivers_and_evidence_readable(rendered):
    lang, _, page = rendered
    text = " ".join(page.text)
    assert "E. Vandersmissen, directeur" in text and "2027-08-31" in text
    assert ("VERLOPEN" if lang == "nl" else "EXPIRED") in text
    assert "2026-11-29 01:00:12 UTC" in text  # evidence timestamps in readable form
    assert "rookmelder in de berging" in text


def test_anything_in_evidence_is_escaped(report):
    evil = copy.deepcopy(report)
    evil["hosts"]["<b>x</b>"] = copy.deepcopy(evil["hosts"]["nas"])
    ctl = evil["hosts"]["<b>x</b>"]["controls"][0]
    ctl["evidence"] = {"<i>k</i>": ["<img src=x onerror=alert(1)>"], "n": {"a": "\"'><svg onload=alert(2)>"}}
    ctl["waiver"] = {
        "justification": "</td></tr></table><script>alert(3)</script>",
        "approver": "&amp;",
        "expires": "2027-01-01",
        "active": True,
    }
    doc = html.render(evil, "nl")
    page = parse(doc)
    assert not [t for t, _ in page.tags if t in ("b", "i", "img")]
    assert not [a for t, a in page.tags if t == "svg" and "onload" in a]  # the page's own charts only
    assert len(page.scripts) == 1
    assert "&amp;amp;" in doc


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_rows_rendered_once_per_frame_and_evidence_equal_the_whole_row_template(report, lang):
    """Rows are rendered as a frame around their evidence, each distinct one once: the same markup
    as the row template rendered whole."""
    evil = copy.deepcopy(report)
    for n, status in enumerate(("drift", "compliant")):
        ctl = evil["hosts"]["nas"]["controls"][n]
        ctl.update(status=status, detail="<b>'x'</b> & \"y\"", because="<i>", dataset="a&b")
        ctl["evidence"] = {"<k>": ["<li>", "2026-11-29T01:00:12Z"], "n": {"a": "'"}, "t": True, "e": [], "x": None}
        ctl.pop("diff", None)
        ctl.pop("waiver", None)
    doc = html.render(evil, lang)
    context = {
        "lang": lang,
        "L": html.section("report", lang),
        "STATUS": {s: html.status_label(s, lang) for s in html.STATUSES},
        "BADGE": {s: html._badge(s, lang) for s in html.STATUSES},
    }
    rows = html._Rows(evil, context)
    plain = [
        c
        for s in [*evil["hosts"].values(), *evil["sites"].values()]
        for c in s["controls"]
        if not c.get("waiver") and not c.get("diff")
    ]
    full = [c for c in plain if c["status"] not in html.COMPACT]
    assert len(full) >= 3
    for c in full:
        fast = rows.row(c)
        assert fast == html._template("result_row.html.j2").render({**context, "r": html._result(c, evil, lang)}) + "\n"
        assert fast in doc
    compact = rows.row(evil["hosts"]["nas"]["controls"][1])
    assert compact.count("\n") == 1 and compact in doc
    assert "&lt;b&gt;&#39;x&#39;&lt;/b&gt; &amp; &#34;y&#34;" in compact and "[a&amp;b]" in compact
    assert "&lt;k&gt;: &lt;li&gt;, 2026-11-29 01:00:12 UTC" in compact and "<i>" not in compact


def test_compliant_controls_one_line_each_sentences_once(report):
    doc = html.render(report, "nl")
    results = [c for s in [*report["hosts"].values(), *report["sites"].values()] for c in s["controls"]]
    compact = [c for c in results if c["status"] in html.COMPACT and not c.get("waiver") and not c.get("diff")]
    assert doc.count('compact"><td>') == len(compact) > 10
    catalogue = " ".join(parse(doc[doc.index('<table class="catalogue">') : doc.index('<h2 id="hosts">')]).text)
    for sentence in {c["sentence"] for c in results}:
        assert catalogue.count(sentence) == 1


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_one_byte_a_character_and_reads_the_same(report, lang):
    """Characters beyond Latin-1 are character references (a Python string of the page is then
    one byte a character); what the reader sees is unchanged: ’, ✔, — and é all show."""
    evil = copy.deepcopy(report)
    evil["hosts"]["nas"]["controls"][0]["detail"] = "SLA’s ✔ é \U0001f600"
    doc = html.render(evil, lang)
    assert all(ord(ch) <= 0xFF for ch in doc)
    text = " ".join(parse(doc).text)
    assert "SLA’s ✔ é \U0001f600" in text and "✔ " in text and " — " in text and "↑ " in text
    assert "Indien mogelijk, worden voor deze systemen SLA’s afgesloten" in text
