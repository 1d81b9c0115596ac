"""ivpb herstelplan on the example school (inventories/example): every stored data set with its
target, yearly fulls, offsite copy, key holder and restore command, in restore order, and the
last drill from the inventory's evidence (an extra inventory source, read through Ansible)."""

from __future__ import annotations

import datetime as dt
import json
import re
import shlex
from pathlib import Path

from ivpb import herstelplan
from ivpb.cli import main
from ivpb.inventory import load_inventory
from ivpb.policy import load_policy

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "inventories" / "example")
NOW = dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.UTC)
STORED = {
    "fileserver": {"leerlingenadministratie": True, "personeelsdossiers": True, "boekhouding": True},
    "nas": {"lesmateriaal": False, "fotos": False, "scans": False},
}
# the example's systems ivpb does not manage (#23): restored as each declares, in the same order
DECLARED = {"synology": "fotoarchief", "directie-pc": "directie", "imac-kleuter": "kleuterwerkjes",
            "laptop-zorg": "zorgdossiers", "tablet-juf": "klasnotities", "informat": "leerlingvolgsysteem",
            "cloudschijf": "oudercommunicatie"}
HOLDER = "Directie (sleutel offline in de kluis)"


def plan(sources, lang="nl", fmt="markdown"):
    inv = load_inventory(sources)
    return herstelplan.render(inv, load_policy(), list(sources), lang, fmt, now=NOW)


def section(text: str, ds: str) -> str:
    m = re.search(rf"^#### \d+\\\. {ds}\n(.*?)(?=^#### |^## |\Z)", text, re.S | re.M)
    assert m, f"no section for {ds}"
    return m.group(1)


def test_every_stored_data_set_with_target_offsite_key_holder_and_command():
    text = plan([EXAMPLE])
    for host, datasets in STORED.items():
        for ds, encrypted in datasets.items():
            s = section(text, ds)
            assert f"**Backup**: nas-offsite:/srv/backup/{host}/{ds}/chain (doel nas-offsite, locatie kleuterschool)" in s
            assert f"**Live pad**: {host}:" in s
            cmd = f"ivpb restore -i {shlex.quote(EXAMPLE)} --host {host} --dataset {ds} --to /herstel/{host}-{ds}"
            assert cmd in s
            if encrypted:
                assert f"in handen van: {HOLDER}" in s and "0075 7982 49F9 6224" in s
            else:
                assert "niet versleuteld: herstel zonder sleutel" in s
            assert "nog geen hersteltest" in s
    lln = section(text, "leerlingenadministratie")
    assert "**Offsite kopie**: nas-offsite:/srv/backup/fileserver/leerlingenadministratie/sync" in lln
    assert "--dataset leerlingenadministratie --to /herstel/fileserver-leerlingenadministratie --offsite" in lln
    assert "--school-year 2026-2027" in lln
    assert "**Offsite kopie**: geen" in section(text, "boekhouding")
    assert "**Jaarbackups**: geen (archive: false)" in section(text, "scans")
    assert "--school-year" not in section(text, "scans")
    # the key table names the holder and every data set encrypted to the key
    assert re.search(rf"\| directie \| 0075 7982 .* \| {re.escape(HOLDER)} \| .*fileserver/personeelsdossiers", text)


def test_restore_order_highest_availability_first():
    text = plan([EXAMPLE])
    order = re.findall(r"^\| (\d+) \| (\S+) \| (\S+) \| (\w+)/", text, re.M)
    assert [o[2] for o in order][0] == "leerlingenadministratie"        # noodzakelijk
    ranks = {"noodzakelijk": 0, "belangrijk": 1, "laag": 2}
    assert [ranks[o[3]] for o in order] == sorted(ranks[o[3]] for o in order)
    assert sorted(o[2] for o in order) == sorted([*(ds for d in STORED.values() for ds in d), *DECLARED.values()])
    headings = re.findall(r"^#### (\d+)\\\. ", text, re.M)  # 1\. : escaped, a heading and not a list
    assert sorted(headings, key=int) == [o[0] for o in order]  # grouped per site (informat: a site of its own)


def test_the_last_drill_from_the_evidence_and_english(tmp_path):
    extra = tmp_path / "evidence-inv"
    d = extra / ".evidence" / "drills" / "fileserver" / "leerlingenadministratie"
    d.mkdir(parents=True)
    (extra / "hosts.yml").write_text("all:\n  hosts:\n    fileserver:\n")
    (d / "20261129T101500Z.json").write_text(json.dumps({
        "format": "ivpb-drill/1", "host": "fileserver", "dataset": "leerlingenadministratie",
        "started": "2026-11-29T10:15:00Z", "result": "ok", "rto_seconds": 754, "rpo_seconds": 32400,
        "files_checked": 1523, "bytes_checked": 10, "by": "aannemer@laptop"}))
    text = plan([EXAMPLE, str(extra)])
    s = section(text, "leerlingenadministratie")
    assert "2026-11-29T10:15:00Z: geslaagd, RTO 12 min 34 s, RPO 9 u 0 min, 1523 bestanden gecontroleerd" in s
    assert "aannemer@laptop" in s
    en = plan([EXAMPLE, str(extra)], lang="en")
    assert "# Recovery plan" in en and "held by: " + HOLDER in en and "passed, RTO 12 min 34 s" in en


def test_html_and_one_line_errors(tmp_path, capsys):
    out = tmp_path / "plan.html"
    assert main(["herstelplan", "-i", EXAMPLE, "-o", str(out)]) == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<h1>Herstelplan</h1>" in page and "</html>" in page
    assert "nas-offsite:/srv/backup/fileserver/leerlingenadministratie/sync" in page
    assert "wrote" in capsys.readouterr().err
    assert main(["herstelplan", "-i", EXAMPLE, "-o", str(tmp_path / "plan.pdf")]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "FILE.md or FILE.html" in err
    assert main(["herstelplan", "-i", str(tmp_path / "nowhere")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_every_system_with_where_its_data_lives_who_restores_it_from_where_with_which_key():
    """#23 item 4: one row per system and data set, managed or declared; a declared system's data
    set says who restores it, from where and with which account, and gets no ivpb restore command."""
    text = plan([EXAMPLE])
    table = text.split("## Systemen en hun gegevens\n\n", 1)[1].split("\n\n", 1)[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    assert sorted((r[0].split(" (")[0], r[1]) for r in rows) == sorted(
        [*((h, ds) for h, d in STORED.items() for ds in d), *DECLARED.items()])
    assert ["informat (cloud-service)", "leerlingvolgsysteem", "https://informat.example/school/leerlingvolgsysteem",
            "Informat-helpdesk (op vraag van de directie)", "back-ups van Informat", "directieaccount Informat"] in rows
    assert ["fileserver (beheerd door ivpb)", "boekhouding", "/srv/data/boekhouding",
            "wie ivpb restore uitvoert (zie Werkwijze)",
            "nas-offsite:/srv/backup/fileserver/boekhouding/chain (doel nas-offsite, locatie kleuterschool)",
            f"directie: {HOLDER}"] in rows
    pc = section(text, "directie")
    assert "**Waar de gegevens staan**: directie-pc (windows): C:\\\\Users\\\\directie\\\\Documents" in pc
    assert "**Wie zet terug**: directie" in pc and "**Sleutel of account**: Microsoft 365-account" in pc
    assert "ivpb restore" not in pc
    assert "Geen plaats in de inventaris" not in text  # every classified data set of the example has one


def test_a_data_set_stored_nowhere_has_its_line_in_the_herstelplan(tmp_path):
    import shutil

    school = tmp_path / "school"
    shutil.copytree(EXAMPLE, school)
    (school / "host_vars" / "tablet-juf" / "main.yml").write_text(  # uses the class notes, stores them nowhere
        "ivpb_managed: false\nivpb_system_kind: byod\nivpb_site: hoofdgebouw\nivpb_uses: [klasnotities]\n")
    text = plan([str(school)], lang="en")
    assert "No place in the inventory: these data sets are classified but on no host and no declared system" in text
    assert "| klasnotities | tablet-juf |" in text


def test_contacts_from_the_inventory_first_and_recovery_targets_from_the_policy():
    text = plan([EXAMPLE])
    headings = re.findall(r"^## (.*)$", text, re.M)
    assert headings[:3] == ["Contactpersonen", "Werkwijze bij een herstel", "Hersteldoelen per beschikbaarheidsniveau"]
    assert "| ICT-coördinator | ICT-coördinator van de school | \\+32 11 00 00 02 | ict@example.org | schooldagen 8-17 u |" \
        in text
    policy = load_policy()
    targets = re.search(r"^## Hersteldoelen.*?(?=^## )", text, re.S | re.M).group(0)
    rows = re.findall(r"^\| (\w+) \| (.*?) \| (.*?) \| (.*?) \|$", targets, re.M)[1:]  # after the heading row
    assert [r[0] for r in rows] == ["noodzakelijk", "belangrijk", "laag"]
    for level, rpo, rto, _ in rows:
        assert (rpo, rto) == (policy.recovery[level]["rpo"], policy.recovery[level]["rto"])
    assert rows[0][3] == "fileserver/leerlingenadministratie, informat/leerlingvolgsysteem" and rows[2][3] == "cloudschijf/oudercommunicatie, imac-kleuter/kleuterwerkjes, nas/fotos, nas/scans, synology/fotoarchief, tablet-juf/klasnotities"
    assert f"**Hersteldoel**: RPO: {policy.recovery['laag']['rpo']}; RTO: " in section(text, "scans")


def test_a_schools_own_recovery_targets_and_no_contacts(tmp_path):
    from importlib import resources

    import yaml

    raw = yaml.safe_load(resources.files("ivpb.policies").joinpath("backupbeleid.yml").read_text())
    raw["recovery"] = {"noodzakelijk": {"rpo": "hoogstens 1 uur verlies", "rto": "binnen 4 uur terug"}}
    path = tmp_path / "eigen.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    inv = load_inventory([EXAMPLE])
    for hv in inv.hosts.values():
        hv.pop("ivpb_contacts", None)
    text = herstelplan.render(inv, load_policy(str(path)), [EXAMPLE], "en", now=NOW)
    assert r"No contacts in the inventory: fill in ivpb\_contacts (group\_vars/all)." in text
    assert "| noodzakelijk | hoogstens 1 uur verlies | binnen 4 uur terug | fileserver/leerlingenadministratie, informat/leerlingvolgsysteem |" in text
    assert "**Recovery target**: no recovery target for availability laag in the policy" in section(text, "scans")


def test_html_plan_prints_on_a4_with_its_commands_wrapped():
    doc = plan([EXAMPLE], fmt="html")
    style = re.search(r"<style>(.*?)</style>", doc, re.S).group(1)
    pre = re.search(r"(?:^|})pre\{([^}]*)\}", style).group(1)
    assert "white-space:pre-wrap" in pre and "overflow-wrap:anywhere" in pre  # a long command wraps, not cut
    assert "@page{size:A4" in style and "@media print{" in style
    assert "<td>ICT-coördinator</td>" in doc.replace("&#x27;", "'")
