"""Modules report facts, the report speaks (issue #24): a module's control entry carries a message
id of the words catalogue and its parameters beside its English detail, and a Dutch report writes
the catalogue's Dutch sentence, never the module's English one."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import nut_client as nc
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import asked

from ivpb.audit.evaluate import build_report
from ivpb.audit.messages import module_detail
from ivpb.audit.results import HostResults
from ivpb.i18n import catalogue
from ivpb.plan import plan_inventory
from ivpb.policy import load_policy
from ivpb.render import html, markdown
from tests.unit.test_drills import school  # srv1 stores admin (b=belangrijk): power.ups applies

ROOT = Path(__file__).resolve().parents[2]
MODULE_UTILS = ROOT / "collections" / "ansible_collections" / "ivpb" / "backupbeleid" / "plugins" / "module_utils"
NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
SETTINGS = nc.settings_from_params({"controls": asked("power.ups"), "ups": [
    {"name": "ups-a", "server": "nutserver", "user": "mon-x", "password": "pw1"}]})
UP = [{"ups": "ups-a@nutserver", "reachable": True, "status": "OL"}]
DOWN = [{"ups": "ups-a@nutserver", "reachable": False, "error": "Connection failure: Connection refused"}]
# nut_client's findings, each as its own code reports it: (probes, drift, enabled, active, installed)
CASES = {
    "differs": (UP, True, True, True, True),
    "not_installed": (UP, True, False, False, False),
    "not_running": (UP, False, True, False, True),
    "unreached": (DOWN, False, True, True, True),
    "monitors": (UP, False, True, True, True),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_dutch_report_holds_the_catalogues_sentence_not_the_modules(case):
    [entry] = nc.controls(SETTINGS, *CASES[case])
    assert entry["message"]["id"] == f"nut_client.{case}"
    english = entry["detail"]
    policy, inventory = load_policy(), school()
    results = {"srv1": HostResults(reachable=True, host_time="2026-11-29T12:00:00Z", controls=[entry]),
               "nas2": HostResults(reachable=True, host_time="2026-11-29T12:00:00Z")}
    report = build_report(policy, inventory, plan_inventory(inventory, policy), results, list(inventory.hosts), NOW,
                          "nl")
    [ups] = [c for c in report["hosts"]["srv1"]["controls"] if c["id"] == "power.ups"]
    dutch = module_detail(entry, "nl")
    assert dutch != english and dutch.split(":")[0] in ups["detail"]
    for text in (html.render(report, "nl"), markdown.render(report, "nl"), str(report)):
        assert english.split(";")[0].split(":")[0] not in text
    assert module_detail(entry, "en") != dutch


def test_without_a_message_or_with_one_that_does_not_fit_the_module_is_quoted():
    base = {"detail": "as the module wrote it"}
    assert module_detail(base, "nl") == "as the module wrote it"
    for message in ({"id": "nut_client.nope", "params": {}},              # an id the catalogue lacks
                    {"id": "nut_client.not_running", "params": {}},       # a parameter missing
                    {"id": "nut_client.not_running", "params": {"service": {"a": 1}}},  # not plain
                    {"id": 3}, "nut_client.differs"):
        assert module_detail({**base, "message": message}, "nl") == "as the module wrote it", message
    # a parameter is text: braces in it are not the catalogue's
    odd = module_detail({**base, "message": {"id": "nut_client.not_running", "params": {"service": "{x} {0}"}}}, "nl")
    assert odd == "de UPS-bewaking ({x} {0}) draait niet"


def _message_ids() -> set[str]:
    """The message ids the modules' code sends: the "id" of each "message" dict, constants and the
    f-strings' possible values (backup_job's daily/weekly schedule; both receiver/host forms)."""
    found: set[str] = set()
    for path in sorted(MODULE_UTILS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Dict) and any(isinstance(k, ast.Constant) and k.value == "message"
                                                       for k in node.keys)):
                continue
            value = node.values[[k.value if isinstance(k, ast.Constant) else None for k in node.keys].index("message")]
            parts = {id(c) for f in ast.walk(value) if isinstance(f, ast.JoinedStr) for c in f.values}
            for sub in ast.walk(value):
                if id(sub) not in parts and isinstance(sub, ast.Constant) and isinstance(sub.value, str) and re.fullmatch(r"[a-z_]+\.[a-z_]+",
                                                                                                 sub.value):
                    found.add(sub.value)
    text = (MODULE_UTILS / "backup_job.py").read_text(encoding="utf-8")
    assert "f\"backup_job.{job['schedule']}\"" in text and "f\"backup_job.best_practice_{'receiver' if" in text
    found |= {f"backup_job.{d}" for d in ("daily", "weekly")}
    found |= {"backup_job.best_practice_receiver", "backup_job.best_practice_host"}
    return found


def test_every_message_a_module_sends_is_in_both_catalogues_and_every_one_there_is_sent():
    sent = _message_ids()
    assert {"nut_client.differs", "wan_failover.active", "offsite_sync.pushes"} <= sent
    for lang in ("nl", "en"):
        held = {k.removeprefix("module.") for k in catalogue(lang) if k.startswith("module.")}
        assert held == sent, (lang, held ^ sent)
