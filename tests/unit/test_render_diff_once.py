"""A repeated change is shown once (issue #24): one module run reports its whole diff under each
control it enforces (the backup job's script under each of its data sets' controls), which made
the demo's first report 1.6 MB. The HTML and Markdown show each distinct file change once and name
it elsewhere; technical evidence (cron lines, JSON) is folded under "technische details"."""

from __future__ import annotations

import copy
import re

from ivpb.render import html, markdown

SCRIPT = {"path": "/usr/local/lib/ivpb/ivpb-backup", "before": "", "after": "".join(f"regel {n}\n" for n in range(400))}


def with_shared_diff(report: dict) -> dict:
    """Three results of nas and one of fileserver carry the same script change, each also one of
    its own."""
    report = copy.deepcopy(report)
    picked = [("nas", 1), ("nas", 2), ("nas", 3), ("fileserver", 1)]
    for n, (host, k) in enumerate(picked):
        c = report["hosts"][host]["controls"][k]
        c["status"] = "drift"
        c["diff"] = [SCRIPT, {"path": f"/etc/ivpb/backup/datasets/eigen-{n}.conf", "before": "", "after": f"own {n}\n"}]
    return report


def test_html_shows_a_change_once_and_links_to_it_from_every_other_result(report):
    doc = html.render(with_shared_diff(report), "nl")
    assert doc.count("regel 399") == 1
    for n in range(4):
        assert doc.count(f"own {n}") == 1
    links = re.findall(r'<p class="diff-shown">Technische details: dezelfde wijziging van '
                       r'/usr/local/lib/ivpb/ivpb-backup als bij <a href="#([^"]+)">([^<]+)</a></p>', doc)
    assert len(links) == 3 and len({target for target, _ in links}) == 1
    target, label = links[0]
    shown = re.search(rf'<details class="diff tech" id="{target}"><summary>(.*?)</summary>(.*?)</details>', doc, re.S)
    assert "regel 399" in shown.group(2) and label.startswith(("fileserver · ", "nas · "))
    assert len(re.findall(r' id="([^"]+)"', doc)) == len(set(re.findall(r' id="([^"]+)"', doc)))  # ids unique


def test_markdown_shows_a_change_once(report):
    out = markdown.render(with_shared_diff(report), "en")
    assert out.count("regel 399") == 1
    assert len(re.findall(r"\*Technical details: the same change to /usr/local/lib/ivpb/ivpb-backup as for "
                          r"(?:nas|fileserver) · ", out)) == 3


def test_technical_evidence_is_folded_and_the_rest_is_not(report):
    report = copy.deepcopy(report)
    c = report["hosts"]["nas"]["controls"][1]
    c["status"] = "drift"
    c["evidence"] = {"schedule": "0 22 * * *", "last_backup": "2026-11-29T22:00:05Z",
                     "probes": {"wan1": {"state": "online", "replies": 3}}}
    doc = html.render(report, "nl")
    row = re.search(r'<tr class="st-drift">(?:(?!</tr>).)*2026-11-29 22:00:05 UTC.*?</tr>', doc, re.S).group(0)
    plain, folded = row.split('<details class="tech">')
    assert "2026-11-29 22:00:05 UTC" in plain and "0 22 * * *" not in plain and "wan1" not in plain
    assert folded.startswith("<summary>Technische details</summary>")
    assert "0 22 * * *" in folded and "&#34;wan1&#34;: {&#34;replies&#34;: 3" in folded


def test_junit_shows_a_change_once_and_names_the_test_case_that_shows_it(report):
    import xml.etree.ElementTree as ET

    from ivpb.render import junit

    doc = junit.render(with_shared_diff(report), "nl")
    assert doc.count("regel 399") == 1
    failures = [tc.find("failure").text or "" for tc in ET.fromstring(doc).iter("testcase")
                if tc.find("failure") is not None and "eigen-" in (tc.find("failure").text or "")]
    assert len(failures) == 4
    named = [f for f in failures if "dezelfde wijziging van /usr/local/lib/ivpb/ivpb-backup als bij" in f]
    assert len(named) == 3 and all("regel" not in f for f in named)
    first = next(f for f in failures if "regel 399" in f)
    shown_at = {f.rsplit(" als bij ", 1)[1] for f in named}
    assert len(shown_at) == 1 and first not in named
