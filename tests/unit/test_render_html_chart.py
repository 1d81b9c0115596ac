"""The HTML report's opening (issue #24): a chart per clause whose numbers are the summary's, that
reads in black and white; counts of hosts and of results that cannot be mistaken for each other;
and, with the audit history, what changed since the audit before."""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from argparse import Namespace
from html import unescape

import pytest

from ivpb.history.commands import record
from ivpb.history.store import Store
from ivpb.render import html
from ivpb.statuses import STATUSES

from .test_render_html import parse
from .test_render_synthetic import summarize

SVG = "{http://www.w3.org/2000/svg}"


def chart(doc: str) -> ET.Element:
    """The chart as XML (inline SVG in HTML has no namespace declaration; XML needs one)."""
    svg = re.search(r'<svg class="chart" .*?</svg>', doc, re.S).group(0)
    return ET.fromstring(svg.replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))


def drawn(doc: str) -> dict[str, dict[str, int]]:
    """Per clause what the chart shows: each segment's number (its text, else the number its
    title starts with) and the not-applicable count written beside the bar."""
    out = {}
    for g in chart(doc).iter(f"{SVG}g"):
        counts = dict.fromkeys(STATUSES, 0)
        texts = [t for t in g.findall(f"{SVG}text") if t.get("class") == "count"]
        for seg in (r for r in g.findall(f"{SVG}rect") if r.get("class") == "seg"):
            title = seg.find(f"{SVG}title").text
            shown = int(re.search(r": (\d+) ", title).group(1))
            counts[seg.get("data-status")] = shown
            mid = float(seg.get("x")) + float(seg.get("width")) / 2
            label = [t for t in texts if abs(float(t.get("x")) - mid) < 0.01]
            assert not label or int(label[0].text) == shown, title
        na = [t for t in g.findall(f"{SVG}text") if t.get("class") == "na"]
        if na:
            counts["not_applicable"] = int(re.search(r"\d+", na[0].text).group(0))
        out[g.get("data-clause")] = counts
    return out


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_charts_numbers_are_the_summarys(report, lang):
    doc = html.render(report, lang)
    expected = {cid: c["counts"] for cid, c in report["summary"]["clauses"].items()}
    assert drawn(doc) == expected
    # and the table under it says the same
    page = parse(doc)
    assert page.text.index(report["summary"]["clauses"]["§4"]["title"]) > 0


def test_every_status_in_one_clause_and_segments_fill_the_bar_in_proportion(report):
    every = copy.deepcopy(report)
    nas = every["hosts"]["nas"]["controls"]
    for n, status in enumerate(STATUSES):
        nas[n]["status"] = status
    every = summarize(every)
    doc = html.render(every, "nl")
    assert drawn(doc) == {cid: c["counts"] for cid, c in every["summary"]["clauses"].items()}
    g = next(g for g in chart(doc).iter(f"{SVG}g") if g.get("data-clause") == "§4")
    segs = [r for r in g.findall(f"{SVG}rect") if r.get("class") == "seg"]
    counts = every["summary"]["clauses"]["§4"]["counts"]
    applicable = sum(v for s, v in counts.items() if s != "not_applicable")
    assert sum(float(r.get("width")) for r in segs) == pytest.approx(420, abs=0.05)
    for r in segs:
        assert float(r.get("width")) == pytest.approx(420 * counts[r.get("data-status")] / applicable, abs=0.01)


def test_the_chart_reads_in_black_and_white(report):
    """Each status drawn has its own fill pattern; all but one carry black marks (lines, dots, a
    grid), the one without is the light plain fill; every segment is outlined in black."""
    doc = html.render(report, "en")
    svg = chart(doc)
    patterns = {p.get("id"): p for p in svg.iter(f"{SVG}pattern")}
    marks = {pid: [e for e in p if e.get("fill") == "#000" or e.get("stroke") == "#000"] for pid, p in patterns.items()}
    assert sorted(patterns) == sorted(f"ivpb-fill-{s}" for s in STATUSES if s != "not_applicable")
    assert [pid for pid, m in marks.items() if not m] == ["ivpb-fill-compliant"]
    shapes = {ET.tostring(m[0]) for m in marks.values() if m}
    assert len(shapes) == len(patterns) - 1  # no two patterns alike
    segs = [r for r in svg.iter(f"{SVG}rect") if r.get("class") == "seg"]
    assert segs and all(r.get("stroke") == "#000" and r.get("fill") == f"url(#ivpb-fill-{r.get('data-status')})"
                        for r in segs)
    assert "<script" not in re.search(r'<svg class="chart" .*?</svg>', doc, re.S).group(0)


def test_hosts_and_results_are_counted_under_different_names_and_not_applicable_apart(report):
    doc = html.render(report, "nl")
    head = re.search(r'<table class="summary">.*?</thead>', doc, re.S).group(0)
    symbols = re.sub(r'<span aria-hidden="true">.*?</span>', "", head)  # the status symbols
    cols = [unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<th [^>]*>(.*?)</th>", symbols)]
    assert cols[:3] == ["Artikel", "Hosts/locaties in orde",
                        "Resultaten per status (host of locatie × maatregel × dataset)"]
    assert cols[3] == "niet van toepassing (niet meegeteld)"
    assert cols[4:] == ["voldoet", "afwijking", "ontbreekt", "uitzondering", "fout"]  # under the group heading
    overview = re.search(r'<table class="overview">.*?</table>', doc, re.S).group(0)
    assert "badge st-not_applicable" not in overview and '<span class="na">+ 1 niet van toepassing</span>' in overview


def _store_two_audits(tmp_path, report):
    """Two audits of the example recorded the way ivpb audit records them: the second with
    nas's first control drifted and fileserver's drifted control fixed."""
    args = Namespace(inventory=[str(tmp_path)], history=str(tmp_path / "h.sqlite"), no_history=False, limit=None,
                     quiet=True)
    first = copy.deepcopy(report)
    first["generated_at"] = "2026-11-29T06:00:00Z"
    assert record(Store.open(tmp_path / "h.sqlite", create=True), args, first)[-1]["since_last"] is None
    second = copy.deepcopy(report)
    second["hosts"]["nas"]["controls"][0].update(status="drift", detail="upsmon stopped")
    second["hosts"]["fileserver"]["controls"][1]["status"] = "compliant"
    second = summarize(second)
    return second, record(Store.open(tmp_path / "h.sqlite", create=True), args, second)


def test_with_history_the_report_says_what_changed_since_the_last_audit(tmp_path, report):
    second, history = _store_two_audits(tmp_path, report)
    doc = html.render(second, "nl", history=history)
    section = re.search(r'<section class="changes".*?</section>', doc, re.S).group(0)
    text = " ".join(parse(section).text)
    assert "Wat veranderde tussen audit 1 van 29 november 2026, 06:00 UTC en audit 2" in text
    new = unescape(re.search(r"<caption>Nieuw niet in orde \(1\)</caption>.*?</table>", section, re.S).group(0))
    assert "nas" in new and "power.ups" in new and "voldoet → afwijking" in new and "upsmon stopped" in new
    fixed = re.search(r"<caption>Opgelost \(1\)</caption>.*?</table>", section, re.S).group(0)
    assert "fileserver" in fixed and "power.redundant_ups" in fixed
    assert "Blijft open" in text and "1 maatregel(en) gingen van in orde naar niet in orde" in text
    # without history, or at the first audit, no such section
    assert '<section class="changes"' not in html.render(second, "nl")
    assert '<section class="changes"' not in html.render(second, "nl", history=history[:1] + [
        {**history[-1], "since_last": None}])
