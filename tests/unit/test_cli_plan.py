"""`ivpb plan` on the example inventory: the JSON shape the issue fixes, and the table."""

from __future__ import annotations

import json

from ivpb.cli import main


def test_plan_json_shape(example_inventory, capsys):
    assert main(["plan", "-i", str(example_inventory), "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert set(plan) >= {"hosts", "sites"}
    fs = plan["hosts"]["fileserver"]
    assert fs["biv"] == {"b": "noodzakelijk", "i": "absoluut", "v": "geheim"}
    ids = [(c["id"], c.get("dataset")) for c in fs["controls"]]
    assert ("backup.sync_offsite", "leerlingenadministratie") in ids
    assert ("power.redundant_ups", None) in ids
    for c in fs["controls"]:
        assert c["clause"].startswith("§") and c["because"]
    assert [c["id"] for c in plan["sites"]["kleuterschool"]["controls"]] == ["fire.protection"]


def test_plan_table_in_dutch_and_english(example_inventory, capsys):
    assert main(["plan", "-i", str(example_inventory)]) == 0
    out = capsys.readouterr().out
    assert "Maatregel" in out and "slaat leerlingenadministratie op" in out
    assert main(["plan", "-i", str(example_inventory), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "Control" in out and "stores leerlingenadministratie" in out
