"""`ivpb plan` on disk: a half-filled detail is a line of the shopping list while the plan still
prints; `--format markdown|html` for the director, every inventory value escaped; `--limit`
(Ansible's host patterns) for plan, validate and herstelplan."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ivpb import cli

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "[klik](https://evil.example)<script>alert(1)</script>`x`"


@pytest.fixture
def school(tmp_path):
    inv = tmp_path / "school"
    shutil.copytree(ROOT / "inventories" / "example", inv)
    return inv


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _feed_to_unknown_server(inv: Path) -> None:
    power = inv / "host_vars" / "fileserver" / "power.yml"
    power.write_text(power.read_text(encoding="utf-8").replace("server: nutserver, ups: ups-b",
                                                               "server: ups-kast, ups: ups-b"), encoding="utf-8")


def test_a_half_filled_detail_is_a_line_and_the_plan_prints(capsys, school):
    _feed_to_unknown_server(school)
    code, out, err = run(capsys, "plan", "-i", str(school))
    assert code == 0 and "power.redundant_ups" in out and "Locaties (§5 Brandveiligheid)" in out
    assert out.splitlines()[-2:] == [
        "Nog te doen (1): ivpb validate aanvaardt de inventaris pas als deze lijst leeg is",
        f"- {school}/host_vars/fileserver/power.yml:4:14: fileserver: ivpb_ups_feeds[1].server: "
        "NUT-server ups-kast nog in de inventaris opnemen (met ivpb_nut_server)"]
    assert err == "ivpb plan: 1 thing(s) still to do (1 for ivpb validate, enforce.yml and ivpb audit)\n"
    code, _out, err = run(capsys, "validate", "-i", str(school))
    assert code == 1 and "fileserver: ivpb_ups_feeds[1].server: unknown UPS server 'ups-kast'" in err


def test_fire_records_are_listed_and_validate_leaves_them_to_the_audit(capsys, school):
    classification = school / "group_vars" / "all" / "classificatie.yml"
    text = classification.read_text(encoding="utf-8")
    start = text.index("    fire_protection:", text.index("  kleuterschool:"))
    classification.write_text(text[:start], encoding="utf-8")
    code, out, _err = run(capsys, "plan", "-i", str(school), "--lang", "en")
    assert code == 0
    where = f"- {school}/group_vars/all/classificatie.yml:70:5: "
    assert [line.replace(where, "- ") for line in out.splitlines()[-2:]] == [
        "- site kleuterschool: ivpb_sites.kleuterschool.fire_protection.measures: fire protection measures still "
        "to record (ivpb_sites.kleuterschool.fire_protection.measures) (evidence for the audit, not asked by ivpb "
        "validate)",
        "- site kleuterschool: ivpb_sites.kleuterschool.fire_protection.safety_plan: safety plan with the emergency "
        "services still to record (ivpb_sites.kleuterschool.fire_protection.safety_plan) (evidence for the audit, "
        "not asked by ivpb validate)"]
    assert run(capsys, "validate", "-i", str(school))[0] == 0


def _hostile(inv: Path) -> None:
    """A site name no schema accepts, holding Markdown and HTML: it reaches the list in
    validate's message, and the plan's site columns. A mistake, not a missing piece: the plan
    still prints, and exits 1 with the line on standard error."""
    main = inv / "host_vars" / "nas" / "main.yml"
    main.write_text(main.read_text(encoding="utf-8").replace("ivpb_site: hoofdgebouw",
                                                             f"ivpb_site: {json.dumps(HOSTILE)}"), encoding="utf-8")


def test_markdown_escapes_every_value(capsys, school):
    _hostile(school)
    code, out, err = run(capsys, "plan", "-i", str(school), "--format", "markdown")
    assert code == 1 and out.startswith("# Plan: maatregelen van het backupbeleid\n")
    assert "## Nog te doen (1): " in out and "## Locaties (§5 Brandveiligheid)" in out
    assert len(err.splitlines()) == 1 and HOSTILE in err
    lines = [x for x in out.splitlines() if "klik" in x]
    # in the list (validate's message), the hosts' site column and the sites' table
    assert len(lines) == 11 and lines[-1].startswith("| \\[klik\\]")
    # no link, tag or code span: brackets, backticks and angle brackets are escaped
    assert "<script>" not in out and "`x`" not in out and "[klik](" not in out
    escaped = "\\[klik\\](https://evil.example)&lt;script&gt;alert(1)&lt;/script&gt;\\`x\\`"
    assert all(escaped in line for line in lines)
    assert "| fileserver | hoofdgebouw | noodzakelijk/absoluut/geheim | power.ups | §2 |" in out


class _Parsed(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_html_escapes_every_value(capsys, school):
    _hostile(school)
    code, out, _err = run(capsys, "plan", "-i", str(school), "--format", "html", "--lang", "en")
    assert code == 1
    page = _Parsed()
    page.feed(out)
    assert "script" not in page.tags and "a" not in page.tags and "code" not in page.tags
    assert set(page.tags) == {"html", "head", "meta", "title", "style", "body", "h1", "p", "h2", "table", "thead",
                              "tr", "th", "tbody", "td"}
    text = "".join(page.text)
    assert text.count(HOSTILE) == 11
    assert "Still to do (1): ivpb validate accepts the inventory once this list is empty" in text


def test_complete_inventory_says_nothing_is_left(capsys, school):
    code, out, err = run(capsys, "plan", "-i", str(school), "--format", "markdown", "--lang", "en")
    assert code == 0 and err == ""
    assert "## Still to do (0): ivpb validate accepts the inventory once this list is empty\n\n" \
           "Nothing left to do, ivpb validate accepts the inventory.\n" in out


def test_limit_on_plan(capsys, school):
    _feed_to_unknown_server(school)
    code, out, _err = run(capsys, "plan", "-i", str(school), "--limit", "nas,nas-offsite", "--format", "json")
    plan = json.loads(out)
    assert code == 0 and sorted(plan["hosts"]) == ["nas", "nas-offsite"]
    assert sorted(plan["sites"]) == ["hoofdgebouw", "kleuterschool"]
    assert "to_do" not in plan and "complete" not in plan  # fileserver's feed is not theirs
    code, out, _err = run(capsys, "plan", "-i", str(school), "--limit", "all:!nas:!nas-offsite:!router:!niet_beheerd")
    hosts = {line.split()[0] for line in out.split("\n\n")[0].splitlines()[2:] if not line.startswith(" ")}
    assert code == 0 and hosts == {"fileserver", "nutserver", "secretariaat"}
    assert "- " + str(school) + "/host_vars/fileserver/power.yml:4:14: fileserver: ivpb_ups_feeds[1].server" in out


def test_limit_on_validate(capsys, school):
    _feed_to_unknown_server(school)
    assert run(capsys, "validate", "-i", str(school), "--limit", "nas") == (
        0, "OK: 1 hosts valid against the policy\n", "")
    assert run(capsys, "validate", "-i", str(school), "--limit", "servers:&nas") == (
        0, "OK: 1 hosts valid against the policy\n", "")
    code, _out, err = run(capsys, "validate", "-i", str(school), "-l", "fileserver:nas")
    assert code == 1 and [line.split(": ", 1)[1] for line in err.splitlines()] == [
        "fileserver: ivpb_ups_feeds[1].server: unknown UPS server 'ups-kast': not a host of this inventory; "
        "expected one of: nutserver"]
    assert run(capsys, "validate", "-i", str(school), "-l", "geen-host") == (
        1, "", "--limit 'geen-host' matches no host of the inventory\n")


def test_limit_on_herstelplan(capsys, school):
    code, out, _err = run(capsys, "herstelplan", "-i", str(school), "--limit", "nas")
    assert code == 0 and "ivpb restore" in out
    assert "--host nas " in out and "--host fileserver " not in out
    code, out, _err = run(capsys, "herstelplan", "-i", str(school))
    assert code == 0 and "--host fileserver " in out
    assert run(capsys, "herstelplan", "-i", str(school), "-l", "geen-host") == (
        1, "", "--limit 'geen-host' matches no host of the inventory\n")
