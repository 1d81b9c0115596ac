"""The terminal table of the compliance diff: summary first, then only what needs attention."""

from __future__ import annotations

import copy

import pytest

from ivpb.render import report_table
from ivpb.render.labels import has_findings


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_summary_lines_per_clause_come_first(report, lang):
    out = report_table.render(report, lang)
    lines = out.splitlines()
    heading = "Samenvatting per artikel" if lang == "nl" else "Summary per clause"
    start = lines.index(heading)
    hosts_at = next(n for n, line in enumerate(lines) if line.startswith(("Hosts met", "Hosts with")))
    summary = lines[start:hosts_at]
    for clause, title, ratio in (
        ("§2", "Stroomvoorziening", "2/4"),
        ("§3", "Internetverbinding", "1/1"),
        ("§4", "Backups", "1/3"),
        ("§5", "Brandveiligheid", "1/2"),
    ):
        row = next(line for line in summary if line.startswith(clause))
        assert title in row and ratio in row  # the clause titles stay Dutch in English too
    total = next(line for line in summary if ("Totaal" if lang == "nl" else "Total") in line)
    assert total.split()[1:] == ["19", "5", "3", "1", "2", "1"]


def test_per_host_only_what_needs_attention(report):
    out = report_table.render(report, "nl")
    assert "Hosts met bevindingen (3 van 6)" in out
    assert "3 hosts zonder bevindingen" in out
    assert "fileserver (locatie hoofdgebouw; B=noodzakelijk I=absoluut V=geheim): 11 voldoet, 4 afwijking" in out
    assert "wijziging: /etc/cron.d/ivpb-backup-boekhouding (+1 -1)" in out  # one-line hint of the diff
    assert "backup.encrypted" not in out  # compliant controls are counted, not listed
    assert "[ONBEREIKBAAR]" in out
    assert "internet.sla (advies)" in out
    assert "VERLOPEN op 2026-08-31" in out
    assert "<script>" not in out  # the diff itself is not printed, only its hint


def test_english_labels(report):
    out = report_table.render(report, "en")
    assert out.startswith("Compliance report Backupbeleid")
    assert "Hosts with findings (3 of 6)" in out
    assert "drift        §4  backup.daily [boekhouding]" in out
    assert "approved by E. Vandersmissen, directeur, valid until 2027-08-31" in out


def test_sites_last(report):
    out = report_table.render(report, "nl")
    assert out.index("Locaties (§5 Brandveiligheid)") > out.index("Hosts met bevindingen")
    assert "kleuterschool (eigen locatie): 1 ontbreekt" in out


def test_no_terminal_escapes_from_host_data(report):
    evil = copy.deepcopy(report)
    evil["hosts"]["nas"]["controls"][4]["detail"] = "\x1b[2J\x1b]0;pwned\x07 wiped"
    out = report_table.render(evil, "nl")
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[2J" in out


def test_a_host_not_contacted_has_findings_only_through_its_controls(report):
    """reachable null: no task ran on the host (tests/unit/test_audit_reachable.py). With nothing
    planned there was nothing to check on it, so nothing to show; with its controls errors, those
    are its findings. reachable false is a finding of its own, controls or not."""
    report = copy.deepcopy(report)
    hosts = report["hosts"]
    hosts["printer"] = {**hosts["router"], "reachable": None, "controls": []}
    hosts["laptop"] = {**hosts["secretariaat"], "reachable": None}  # its one control: error
    hosts["switch"] = {**hosts["router"], "reachable": False, "controls": []}
    assert not has_findings(hosts["printer"])
    assert has_findings(hosts["laptop"]) and has_findings(hosts["switch"])
    out = report_table.render(report, "nl")
    assert "Hosts met bevindingen (5 van 9)" in out
    assert "4 hosts zonder bevindingen" in out
    assert "printer (" not in out
    assert "laptop (locatie hoofdgebouw; B=belangrijk I=vereist V=vertrouwelijk) [NIET GECONTACTEERD]" in out
