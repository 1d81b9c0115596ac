"""The Markdown report for readers who are not engineers."""

from __future__ import annotations

import copy

import pytest

from ivpb.render import markdown


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_summary_table_before_host_sections(report, lang):
    out = markdown.render(report, lang)
    summary = out.index("## Samenvatting per artikel" if lang == "nl" else "## Summary per clause")
    hosts = out.index("## Per host")
    sites = out.index("## Locaties" if lang == "nl" else "## Sites")
    assert out.startswith("# ") and summary < hosts < sites
    assert summary < out.index("| §2 Stroomvoorziening |") < hosts
    for host in report["hosts"]:
        assert out.index(f"### {host}") > hosts


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_control_with_its_dutch_sentence(report, lang):
    out = markdown.render(report, lang)
    n = sum(len(s["controls"]) for s in [*report["hosts"].values(), *report["sites"].values()])
    assert out.count("\n#### ") == n
    assert (
        "> Gegevens die behoren tot het beschikbaarheidsniveau belangrijk en/of het integriteitsniveau vereist, "
        "worden minstens dagelijks gebackupt." in out
    )
    assert "2 van 4 hosts voldoen" in out if lang == "nl" else "2 of 4 hosts comply" in out
    assert ("1 van 2 locaties voldoen" if lang == "nl" else "1 of 2 sites comply") in out


def test_title_date_and_status_words(report):
    out = markdown.render(report, "nl")
    assert out.splitlines()[0] == "# Nalevingsrapport Backupbeleid"
    assert "30 november 2026" in out
    assert "#### ✖ afwijking: `backup.daily` [boekhouding]" in out
    assert "#### ⚑ uitzondering: `backup.annual_full` [boekhouding]" in out
    assert "- Goedgekeurd door: E. Vandersmissen, directeur" in out
    assert "Uitzondering — VERLOPEN" in out
    en = markdown.render(report, "en")
    assert "# Compliance report Backupbeleid" in en and "#### ✖ drift: `backup.daily` [boekhouding]" in en


def test_diff_is_collapsible_and_literal(report):
    out = markdown.render(report, "nl")
    block = out[out.index("<summary>Technische details: Wijziging die afdwingen zou doorvoeren: /etc/ivpb/hooks/on-failure.sh") :]
    block = block[: block.index("</details>")]
    # Inside a fenced block the payload is shown as it is, never as HTML.
    assert "```diff\n" in block
    assert "-echo \"<p>Backup mislukt</p><script>alert('xss')</script>\"" in block


def test_text_outside_code_is_escaped(report):
    evil = copy.deepcopy(report)
    ctl = evil["hosts"]["nas"]["controls"][0]
    ctl["detail"] = "<script>alert(1)</script> & *bold* | [link](http://x)\n# heading"
    ctl["evidence"] = {"note": "<img src=x onerror=alert(1)>"}
    ctl["diff"] = [{"path": "/x", "before": "", "after": "```\n</details><script>alert(2)</script>"}]
    out = markdown.render(evil, "nl")
    assert "<script>alert(1)" not in out and "<img" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; \\*bold\\* \\| \\[link\\](http://x) # heading" in out
    # the fence is longer than any backtick run in the diff, so the diff cannot close it
    assert "````diff\n" in out and "\n````\n" in out


def test_a_commonmark_renderer_sees_tables_details_and_no_html_injection(report):
    markdown_it = pytest.importorskip("markdown_it")
    evil = copy.deepcopy(report)
    evil["hosts"]["nas"]["controls"][0]["detail"] = "<script>alert(1)</script> <b>x</b>"
    parser = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table")  # raw HTML allowed, as GitHub
    doc = parser.render(markdown.render(evil, "nl"))
    assert doc.index("<table>") < doc.index("<h2>Per host</h2>")
    assert "<script>" not in doc and "<b>x</b>" not in doc
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in doc
    assert doc.count("<details>") == 3 and doc.count('<code class="language-diff">') == 3
    assert "&lt;script&gt;alert('xss')&lt;/script&gt;" in doc  # the diff payload, as code


def test_a_diff_path_cannot_end_the_details_block(report):
    """A blank line in a path (a host reports its diff) would close the <details> HTML block and
    let the rest of the path be read as Markdown: a heading, a link."""
    from markdown_it import MarkdownIt

    evil = copy.deepcopy(report)
    evil["hosts"]["nas"]["controls"][0]["diff"] = [
        {"path": "/x\n\n# injected [x](javascript:alert(1))\n\n<script>alert(3)</script>", "before": "", "after": "y"}]
    doc = MarkdownIt("commonmark").enable("table").render(markdown.render(evil, "nl"))
    assert "<h1>injected" not in doc and "<a href" not in doc and "<script>" not in doc
    assert "<summary>Technische details: Wijziging die afdwingen zou doorvoeren: /x # injected [x](javascript:alert(1)) " \
           "&lt;script&gt;alert(3)&lt;/script&gt;</summary>" in doc
