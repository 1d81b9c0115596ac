"""The HTML report's trend (issue #24): with the audit history, each clause's share of compliant
results over the last audits as black bars of inline SVG (no script, printable in black and
white); without it, the report is what it was."""

from __future__ import annotations

import copy
import re

import pytest

from ivpb.render import html

from .test_render_html import parse

DAYS = ("2026-11-28T06:00:00Z", "2026-11-29T06:00:00Z", "2026-11-30T06:00:00Z")


def entry(n: int, when: str, compliant_on_2: int) -> dict:
    """An audit history entry (ivpb.history.store.Entry.as_dict): §2 with 4 results, one of them n/a."""
    clauses = {"§2": {"compliant": compliant_on_2, "drift": 3 - compliant_on_2, "missing": 0, "waived": 0,
                      "not_applicable": 1, "error": 0},
               "§4": {"compliant": 10, "drift": 0, "missing": 0, "waived": 0, "not_applicable": 0, "error": 0}}
    counts = {s: sum(c[s] for c in clauses.values()) for s in clauses["§2"]}
    return {"id": n, "generated_at": when, "inventory": ["inv"], "git_commit": None, "limit": None,
            "exit_code": 2, "counts": counts, "clauses": clauses}


HISTORY = [entry(n + 1, when, compliant) for n, (when, compliant) in enumerate(zip(DAYS, (0, 1, 3), strict=True))]


def svgs(doc: str) -> list[str]:
    return re.findall(r'<svg class="trend" .*?</svg>', doc)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_without_a_history_the_report_is_as_before_and_with_one_it_only_adds_the_trend(report, lang):
    plain = html.render(report, lang)
    with_trend = html.render(copy.deepcopy(report), lang, history=HISTORY)
    assert 'class="trend"' not in plain and html.render(report, lang, history=[]) == plain
    trend = "Verloop" if lang == "nl" else "Trend"
    added = [rf'<th scope="col" rowspan="2">{trend}</th>', r'<td><svg class="trend" .*?</svg></td>', r'<p class="note">' + trend + r":.*?</p>\n",
             r"svg\.trend \{ display: block; \}\n"]
    stripped = with_trend
    for pattern in added:
        stripped, n = re.subn(pattern, "", stripped)
        assert n, pattern
    assert stripped == plain
    assert with_trend.count("<script") == plain.count("<script") == 1


def test_one_bar_per_audit_as_high_as_its_share_of_compliant_results(report):
    doc = html.render(report, "nl", history=HISTORY)
    page = parse(doc)
    rows = re.findall(r"<tr>\n<th scope=\"row\">(§\d).*?</tr>", doc, re.S)
    assert rows == ["§2", "§3", "§4", "§5"]
    power = re.search(r'§2 <span.*?(<svg class="trend" .*?</svg>)', doc, re.S).group(1)
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', power)]
    assert heights == [0.0, 8.0, 24.0]  # 0, 1 and 3 of 3 applicable results compliant
    titles = re.findall(r"<title>(.*?)</title>", power)
    assert titles == ["28 november 2026, 06:00 UTC: 0 van 3 voldoen", "29 november 2026, 06:00 UTC: 1 van 3 voldoen",
                      "30 november 2026, 06:00 UTC: 3 van 3 voldoen"]
    assert f'aria-label="{"; ".join(titles)}"' in power
    fire = re.search(r'§5 <span.*?(<svg class="trend" .*?</svg>)', doc, re.S).group(1)  # in no entry: no bars, the baseline
    assert re.findall(r'height="([\d.]+)" fill', fire) == ["0", "0", "0"]
    assert len(svgs(doc)) == 5  # four clauses and the totals
    assert "in de laatste 3 audits van deze hosts, de oudste links" in " ".join(page.text)


def test_the_bars_print_in_black_and_white(report):
    doc = html.render(report, "en", history=HISTORY)
    colours = set(re.findall(r'(?:fill|stroke)="([^"]*)"', "".join(svgs(doc))))
    assert colours == {"#000"}
    assert "16 November" not in doc and "28 November 2026, 06:00 UTC: 0 of 3 compliant" in doc
