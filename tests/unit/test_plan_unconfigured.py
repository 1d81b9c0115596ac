"""`ivpb plan` before the configuration: an inventory with the classification but without UPS
feeds, uplinks, targets and recipients gets its plan, each control marked with what must still
be configured, and the shopping list; `ivpb validate` stays strict, and any other mistake is an
error for plan too, while the plan still prints."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from ivpb import cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def unconfigured(tmp_path):
    inv = tmp_path / "school"
    shutil.copytree(ROOT / "inventories" / "example", inv)
    for f in [*inv.glob("host_vars/*/power.yml"), *inv.glob("host_vars/*/internet.yml"),
              inv / "group_vars/all/power.yml", inv / "group_vars/all/backup.yml"]:
        f.unlink()
    for f in inv.glob("host_vars/*/main.yml"):
        text = f.read_text(encoding="utf-8")
        f.write_text(re.sub(r"^\s*(ivpb_backup_target|sync_target):.*\n", "", text, flags=re.M), encoding="utf-8")
    return inv


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_stays_strict(capsys, unconfigured):
    code, _out, err = run(capsys, "validate", "-i", str(unconfigured))
    assert code == 1
    assert "nas: ivpb_ups_feeds: power.ups applies (§2): expected at least one UPS" in err


def test_plan_shows_every_control_and_what_is_missing(capsys, unconfigured):
    code, out, err = run(capsys, "plan", "-i", str(unconfigured), "--format", "json", "--lang", "en")
    assert code == 0 and err == "ivpb plan: 17 thing(s) still to do (17 for ivpb validate, enforce.yml and ivpb audit)\n"
    plan = json.loads(out)
    assert plan["complete"] is False and len(plan["to_do"]) == 17
    assert {"subject": "fileserver", "variable": "ivpb_nut_password", "blocks_validate": True,
            "text": "NUT password needed (ivpb_nut_password, in ansible-vault)"} in plan["to_do"]

    def notes(host, cid, dataset=None):
        [c] = [c for c in plan["hosts"][host]["controls"] if c["id"] == cid and c.get("dataset") == dataset]
        return c.get("to_configure", [])

    server = ", and a NUT server (ivpb_nut_server on the host the UPSes are plugged into)"
    assert notes("fileserver", "power.redundant_ups") == ["2 UPS feed(s) needed, 0 declared (ivpb_ups_feeds)" + server]
    assert notes("nas", "power.ups") == ["1 UPS feed(s) needed, 0 declared (ivpb_ups_feeds)" + server,
                                         "NUT password needed (ivpb_nut_password, in ansible-vault)"]
    assert notes("fileserver", "internet.failover") == ["2 uplinks needed, 0 declared (ivpb_uplinks on fileserver)"]
    assert notes("fileserver", "backup.encrypted", "personeelsdossiers")[0].startswith("GPG recipient needed")
    assert notes("fileserver", "backup.sync_offsite", "leerlingenadministratie")[0].startswith("offsite sync target")
    assert notes("nas", "backup.weekly", "fotos")[0].startswith("backup target needed")
    # a control with nothing missing has no note
    assert notes("fileserver", "backup.annual_full", "boekhouding") == []


def test_plan_table_in_dutch(capsys, unconfigured):
    code, out, _err = run(capsys, "plan", "-i", str(unconfigured))
    assert code == 0
    assert "Nog te configureren" in out.splitlines()[0]
    line = next(x for x in out.splitlines() if "power.redundant_ups" in x)
    assert "2 UPS-voeding(en) nodig, 0 opgegeven (ivpb_ups_feeds), en een NUT-server" in line
    assert out.splitlines()[-18] == "Nog te doen (17): ivpb validate aanvaardt de inventaris pas als deze lijst leeg is"
    assert "- secretariaat: ivpb_nut_password: NUT-wachtwoord nodig (ivpb_nut_password, in ansible-vault)" in out


def test_complete_inventory_has_no_todo_column(capsys):
    code, out, err = run(capsys, "plan", "-i", str(ROOT / "inventories" / "example"))
    assert code == 0 and "Nog te configureren" not in out and err == ""


def test_a_mistake_is_an_error_and_the_plan_still_prints(capsys, unconfigured):
    main = unconfigured / "host_vars" / "nas" / "main.yml"
    main.write_text(main.read_text(encoding="utf-8").replace("/srv/nas/fotos", "srv/nas/fotos"), encoding="utf-8")
    line = (f"{main}:7:11: nas: ivpb_stores[1].path: 'srv/nas/fotos' is not an absolute, normalised path "
            "(starting with '/', no '//', '.' or '..' components, no trailing '/', no control characters)")
    code, out, err = run(capsys, "plan", "-i", str(unconfigured))
    # the plan prints, the mistake on its list, and is an error: exit 1, its line on standard error
    assert code == 1 and "power.redundant_ups" in out and f"- {line}" in out.splitlines()
    assert err.splitlines() == [line]
    code, _out, err = run(capsys, "validate", "-i", str(unconfigured))
    assert code == 1 and line in err.splitlines()
