"""Modules report facts, the report speaks (issue #24): a module's control entry carries a message
id of the words catalogue and its parameters beside its English detail, and a Dutch report writes
the catalogue's Dutch sentence, never the module's English one. A failure without an id is
quoted under "technische details"."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import nut_client as nc
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import wan_failover as wf
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import ModuleFailure
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import asked, make_host

from ivpb.audit.evaluate import build_report
from ivpb.audit.messages import module_findings
from ivpb.audit.results import HostResults, record
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
    "monitors": (UP, False, True, True, True),
}


def module_detail(entry: dict, lang: str) -> str:
    return "; ".join(m.text(lang) for m in module_findings(entry, lang))


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
        assert module_detail({**base, "status": "error", "message": message}, "nl") == \
            "de module meldde een fout; technische details: as the module wrote it", message
    # a parameter is text: braces in it are not the catalogue's
    odd = module_detail({**base, "message": {"id": "nut_client.not_running", "params": {"service": "{x} {0}"}}}, "nl")
    assert odd == "de UPS-bewaking ({x} {0}) draait niet"


def _message_ids() -> set[str]:
    """The message ids the modules' code sends: the "id" of each "message" dict and of each
    {"id", "params"} dict (a finding built apart: wan_failover's SLA gaps, a failure's message),
    constants and the f-strings' possible values (backup_job's daily/weekly schedule; both
    receiver/host forms)."""
    found: set[str] = set()
    for path in sorted(MODULE_UTILS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            keys = [k.value if isinstance(k, ast.Constant) else None for k in getattr(node, "keys", [])]
            if isinstance(node, ast.Dict) and {"id", "params"} <= set(keys):
                value = node.values[keys.index("id")]
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.add(value.value)
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


def test_the_modules_new_findings_are_sent():
    assert {"wan_failover.sla_ended", "wan_failover.sla_recorded", "wan_failover.stale",
            "nut_client.not_installed_run"} <= _message_ids()


TODAY = dt.date(2026, 11, 29)


def _nut_failure(monkeypatch, tmp_path, params: dict) -> ModuleFailure:
    """nut_client failing on a host as its enforce() fails there (no NUT installed, bad input)."""
    monkeypatch.setattr(nc, "GROUP", "no-such-group-x")
    host = make_host(monkeypatch, check_mode=False, diff=False, run=lambda *a, **k: (0, "", ""), root=str(tmp_path))
    with pytest.raises(ModuleFailure) as exc:
        nc.enforce(host, {"install_packages": False, **params})
    return exc.value


def _uplink(name: str, sla, isp: str | None = "Provider") -> dict:
    return {"name": name, "interface": name, "gateway": "10.0.0.1", "metric": 100, "track_ip": ["9.9.9.9"],
            "isp": isp, "sla": sla}


def test_a_dutch_report_of_failures_and_sla_findings_holds_no_english_sentence_of_the_modules(monkeypatch, tmp_path):
    """srv1 (noodzakelijk, routed by gw): nut_client fails for want of NUT (a failure with its
    message id); gw's wan_failover reports its SLA records (one ended, one missing without ISP)
    and then fails on bad input (no id: a failed task without controls). The Dutch report says
    all of it in the catalogue's words; the failure without id only as technical details."""
    policy, inventory = load_policy(), school("noodzakelijk")
    inventory.hosts["srv1"].update(ivpb_needs_internet=True, ivpb_internet_via="gw")
    inventory.hosts["gw"] = {k: v for k, v in inventory.hosts["nas2"].items() if k.startswith("ivpb_") and k in (
        "ivpb_datasets", "ivpb_sites", "ivpb_backup_targets")} | {"ivpb_site": "school"}
    nut = _nut_failure(monkeypatch, tmp_path, {"controls": asked("power.ups", "power.redundant_ups"), "ups": [
        {"name": "ups-a", "server": "nutserver", "user": "mon-x", "password": "pw1"},
        {"name": "ups-b", "server": "nutserver", "user": "mon-x", "password": "pw2"}]})
    sla = {"id": "internet.sla", **wf.sla_status([_uplink("wan1", {"reference": "SLA-7", "ends": "2026-06-30"}),
                                                  _uplink("wan2", None, isp=None)], TODAY)}
    with pytest.raises(ModuleFailure) as bad:  # the module's own input check, as on the router
        wf.check_params([_uplink("wan1", None)], wf.probe_settings({"timeout": 10}), 10)
    stamp = "2026-11-29T12:00:00Z"
    results: dict[str, HostResults] = {}
    record(results, "runner_on_failed", "srv1", {"msg": str(nut), **nut.result}, "power")
    record(results, "runner_on_ok", "gw", {"controls": [sla]}, "internet")
    record(results, "runner_on_failed", "gw", {"msg": str(bad.value)}, "internet")
    for hr in results.values():
        hr.host_time = stamp
    results["nas2"] = HostResults(reachable=True, host_time=stamp)
    report = build_report(policy, inventory, plan_inventory(inventory, policy), results, list(inventory.hosts), NOW,
                          "nl")
    mine = {c["id"]: c for c in report["hosts"]["srv1"]["controls"]}
    assert mine["power.redundant_ups"]["detail"] == \
        "de UPS-bewaking (NUT) is niet geïnstalleerd op deze host: installeer eerst nut-client"
    assert mine["internet.sla"]["detail"] == ("wan1: SLA SLA-7 liep af op 2026-06-30; wan2: geen SLA opgegeven (en "
                                              "geen reden waarom er geen is); wan2: geen internetprovider opgegeven")
    assert mine["backup.daily"]["detail"] == ("controle mislukt (power): de UPS-bewaking (NUT) is niet geïnstalleerd "
                                            "op deze host: installeer eerst nut-client")
    assert mine["internet.failover"]["status"] == "error"
    assert mine["internet.failover"]["detail"].endswith(f"technische details: gw: internet: {bad.value}")
    english = [str(nut), *sla["detail"].split("; ")]
    for text in (html.render(report, "nl"), markdown.render(report, "nl"), str(report)):
        for sentence in english:
            assert sentence not in text, sentence
        assert text.count(str(bad.value)) == text.count(f"technische details: gw: internet: {bad.value}") > 0


def test_a_school_policy_that_asks_more_ups_or_uplinks_changes_the_verdict_on_the_same_module_facts(tmp_path):
    """The policy file owns the counts (ups_reachable_min per control, uplinks_online_min): the
    same module results are compliant under the shipped policy and drift under a school's own
    file that asks for more (ivpb audit --policy, enforce.yml's ivpb_policy_file)."""
    from importlib import resources

    import yaml

    raw = yaml.safe_load(resources.files("ivpb.policies").joinpath("backupbeleid.yml").read_text(encoding="utf-8"))
    raw["evidence"]["uplinks_online_min"] = 3
    for c in raw["controls"]:
        if c["id"] == "power.ups":
            c["evidence"]["ups_reachable_min"] = 2
    own = tmp_path / "eigen.yml"
    own.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    inventory = school()  # belangrijk: power.ups
    inventory.hosts["srv1"].update(ivpb_needs_internet=True)
    inventory.hosts["srv1"]["ivpb_datasets"] = {"admin": {"biv": {"b": "noodzakelijk", "i": "laag", "v": "intern"}}}
    two = nc.settings_from_params({"controls": asked("power.ups"), "ups": [
        {"name": "ups-a", "server": "nutserver", "user": "mon-x", "password": "pw1"},
        {"name": "ups-b", "server": "nutserver", "user": "mon-x", "password": "pw2"}]})
    [ups] = nc.controls(two, [UP[0], {"ups": "ups-b@nutserver", "reachable": False, "error": "refused"}],
                        False, True, True, True)
    failover = {"id": "internet.failover", "status": "compliant", "detail": "ok", "evidence": {
        "uplinks": ["wan1", "wan2"], "route": "via 10.0.0.1 dev wan1",
        "probes": {"wan1": {"state": "online"}, "wan2": {"state": "online"}}}}

    def verdicts(policy) -> dict[str, str]:
        results = {"srv1": HostResults(reachable=True, host_time="2026-11-29T12:00:00Z", controls=[ups, failover]),
                   "nas2": HostResults(reachable=True, host_time="2026-11-29T12:00:00Z")}
        report = build_report(policy, inventory, plan_inventory(inventory, policy), results, list(inventory.hosts),
                              NOW, "nl")
        return {c["id"]: (c["status"], c["detail"]) for c in report["hosts"]["srv1"]["controls"]
                if c["id"] in ("power.ups", "internet.failover")}

    assert {k: s for k, (s, _d) in verdicts(load_policy()).items()} == \
        {"power.ups": "compliant", "internet.failover": "compliant"}
    theirs = verdicts(load_policy(str(own)))
    assert theirs["power.ups"] == ("drift", "1 van 2 UPS('en) nu via NUT bereikbaar, 2 nodig: "
                                            "ups-a@nutserver OL, ups-b@nutserver unreachable")
    assert theirs["internet.failover"] == ("drift", "2 internetverbinding(en) opgegeven, minstens 3 nodig voor een "
                                                    "alternatieve verbinding")
