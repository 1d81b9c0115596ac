"""§3 Internetverbinding: backend of ivpb.backupbeleid.wan_failover on a temporary root (files,
modes, sysctls under a fake /proc/sys, systemctl through a recording runner, evidence from the
daemon's state file, check mode, diff masking, idempotence, internet.sla)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import host_program
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import wan_failover as wf
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import ModuleFailure
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import asked, make_host

HOOK = "https://hooks.example.org/ivpb?token=s3cret"
TODAY = dt.date(2026, 11, 29)


def uplinks():
    return [
        {"name": "wan1", "interface": "wan1", "gateway": "10.203.11.1", "metric": 101,
         "track_ip": ["10.203.15.10"], "isp": "ISP een", "sla": {"reference": "SLA-1", "ends": "2030-08-31"}},
        {"name": "wan2", "interface": "wan2", "gateway": "10.203.12.1", "metric": 102,
         "track_ip": ["10.203.15.10"], "isp": "ISP twee", "sla": "none", "reason": "no SLA offered"},
    ]


class Host:
    """A temporary root with /proc/sys values and a systemctl that remembers state."""

    def __init__(self, root: Path):
        self.root = root
        self.calls: list[str] = []
        self.enabled = self.active = False
        for key in ("all", "default", "wan1", "wan2"):
            self.sysctl(f"net/ipv4/conf/{key}/rp_filter", "1")
        self.sysctl("net/ipv4/ip_forward", "0")

    def sysctl(self, key: str, value: str) -> None:
        path = self.root / "proc/sys" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")

    def read(self, key: str) -> str:
        return (self.root / "proc/sys" / key).read_text().strip()

    def run(self, args):
        self.calls.append(" ".join(args))
        if args[0] == "systemctl":
            verb = args[1]
            if verb == "is-enabled":
                return (0, "enabled\n", "") if self.enabled else (1, "disabled\n", "")
            if verb == "is-active":
                return (0, "active\n", "") if self.active else (3, "inactive\n", "")
            if verb == "enable":
                self.enabled = True
            if verb in ("start", "restart"):
                self.active = True
                self.write_state()
            return 0, "", ""
        if args[0] == "ip":
            return 0, json.dumps([{"dst": "default", "gateway": "10.203.11.1", "dev": "wan1", "metric": 10}]), ""
        return 127, "", "not found"

    def write_state(self, updated: str | None = None):
        path = self.root / wf.STATE_PATH.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        now = updated or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        path.write_text(json.dumps({
            "active": "wan1", "updated": now, "last_switch": None, "switches": 0,
            "uplinks": {"wan1": {"state": "online", "replies": "1/1", "since": now},
                        "wan2": {"state": "online", "replies": "1/1", "since": now}}}))


@pytest.fixture
def host(tmp_path, monkeypatch):
    fake = Host(tmp_path)
    fake.monkeypatch = monkeypatch
    return fake


def run(host, check=False, diff=True, **params):
    params = {"uplinks": uplinks(), "probe": {}, "active_metric": 10, "forwarding": True,
              "controls": asked("internet.failover", "internet.sla"), "serves": ["fileserver"], **params}
    toolkit = make_host(host.monkeypatch, check_mode=check, diff=diff, run=host.run, root=str(host.root))
    return wf.WanFailover(toolkit, {**params, "wait": 2}, today=TODAY).run()


def control(result, cid):
    return next(c for c in result["controls"] if c["id"] == cid)


def test_check_mode_on_a_fresh_host_reports_drift_and_changes_nothing(host):
    before = sorted(p for p in host.root.rglob("*"))
    result = run(host, check=True)
    assert result["changed"] is True
    assert control(result, "internet.failover")["status"] == "drift"
    assert sorted(p for p in host.root.rglob("*")) == before
    assert host.read("net/ipv4/conf/all/rp_filter") == "1"
    assert not [c for c in host.calls if c.split()[1] in ("enable", "start", "restart", "daemon-reload")]


def test_enforce_writes_files_sets_sysctls_starts_the_unit_then_is_idempotent(host):
    first = run(host)
    assert first["changed"] is True
    for path, mode in ((wf.DAEMON_PATH, 0o755), (wf.CONFIG_PATH, 0o600), (wf.UNIT_PATH, 0o644),
                       (wf.SYSCTL_PATH, 0o644)):
        assert (host.root / path.lstrip("/")).stat().st_mode & 0o777 == mode, path
    config = json.loads((host.root / wf.CONFIG_PATH.lstrip("/")).read_text())
    assert config["probe"] == {"reliability": 1, "count": 1, "timeout": 2, "interval": 5, "down": 3, "up": 3}
    assert [u["interface"] for u in config["uplinks"]] == ["wan1", "wan2"]
    for key in ("all", "default", "wan1", "wan2"):
        assert host.read(f"net/ipv4/conf/{key}/rp_filter") == "2"
    assert host.read("net/ipv4/ip_forward") == "1"
    sysctl_conf = (host.root / wf.SYSCTL_PATH.lstrip("/")).read_text()
    assert "net.ipv4.conf.wan2.rp_filter = 2" in sysctl_conf
    assert "systemctl enable ivpb-wan-failover.service" in host.calls
    assert "systemctl start ivpb-wan-failover.service" in host.calls
    fo = control(first, "internet.failover")
    assert fo["status"] == "compliant", fo
    assert fo["evidence"]["active"] == "wan1"
    assert fo["evidence"]["serves"] == ["fileserver"]
    assert fo["evidence"]["route"] == "via 10.203.11.1 dev wan1"
    host.calls.clear()
    second = run(host)
    assert second["changed"] is False, second["changes"]
    assert not [c for c in host.calls if c.split()[1] in ("enable", "start", "restart", "daemon-reload")]
    assert control(second, "internet.failover")["status"] == "compliant"
    assert run(host, check=True)["changed"] is False


def test_changed_config_restarts_the_daemon(host):
    run(host)
    host.calls.clear()
    result = run(host, probe={"interval": 3})
    assert result["changed"] is True
    assert "systemctl restart ivpb-wan-failover.service" in host.calls
    assert "systemctl daemon-reload" not in host.calls


def test_webhook_is_masked_in_the_diff_but_written_to_the_config(host):
    result = run(host, webhook=HOOK)
    assert HOOK not in json.dumps(result)
    assert wf.MASK in json.dumps(result["diff"])
    assert HOOK in (host.root / wf.CONFIG_PATH.lstrip("/")).read_text()


def test_no_diff_unless_asked(host):
    assert "diff" not in run(host, diff=False)


def test_stale_state_is_an_error_not_compliance(host):
    run(host)
    host.write_state(updated="2026-01-01T00:00:00Z")
    fo = control(run(host), "internet.failover")
    assert fo["status"] == "error"
    assert "not probing" in fo["detail"]


@pytest.mark.parametrize(("change", "message"), [
    ({"uplinks": []}, "uplinks: expected at least one uplink"),
    ({"uplinks": [uplinks()[0], {**uplinks()[1], "interface": "wan1"}]},
     "uplinks[1].interface: 'wan1' is already used by uplinks[0]"),
    ({"uplinks": [uplinks()[0], {**uplinks()[1], "gateway": "10.203.11.1"}]},
     "uplinks[1].gateway: '10.203.11.1' is already used by uplinks[0]"),
    ({"uplinks": [uplinks()[0], {**uplinks()[1], "track_ip": []}]},
     "uplinks[1].track_ip: expected at least one probe target"),
    ({"active_metric": 150}, "uplinks[0].metric: 101 must be higher than active_metric 150"),
    ({"probe": {"timeout": 10}}, "probe.timeout: count x timeout must stay below two intervals"),
])
def test_bad_parameters_are_one_line(host, change, message):
    with pytest.raises(ModuleFailure) as exc:
        run(host, **change)
    assert str(exc.value).startswith(message)
    assert "\n" not in str(exc.value)


def test_a_single_uplink_is_reported_as_it_is_and_the_count_is_left_to_the_policy(host):
    """How many uplinks an alternative connection needs is the policy file's
    (uplinks_online_min, judged by ivpb audit): the module reports the uplinks it runs."""
    fo = control(run(host, uplinks=uplinks()[:1]), "internet.failover")
    assert fo["evidence"]["uplinks"] == ["wan1"]
    assert fo["status"] == "compliant", fo


@pytest.mark.parametrize(("sla", "reason", "status", "detail"), [
    ({"reference": "SLA-1", "ends": "2030-08-31"}, None, "compliant", "SLA or recorded reason"),
    ({"reference": "SLA-1", "ends": "2026-08-31"}, None, "missing", "wan1: SLA SLA-1 ended 2026-08-31"),
    ("none", "consumer line", "compliant", "SLA or recorded reason"),
    ("none", None, "missing", "wan1: 'no SLA' recorded without a reason"),
    (None, None, "missing", "wan1: no SLA record"),
])
def test_sla_is_advisory_per_uplink(sla, reason, status, detail):
    link = {**uplinks()[0], "sla": sla, "reason": reason}
    got = wf.sla_status([link], TODAY)
    assert got["status"] == status
    assert got["detail"].startswith(detail)
    assert got["evidence"]["wan1"]["isp"] == "ISP een"
    assert [m["params"]["uplink"] for m in got["message"] if "uplink" in m["params"]] == \
        (["wan1"] if status == "missing" else [])


def test_daemon_source_is_the_module_utils_file():
    src = host_program.text(wf.daemon_mod)
    assert src.startswith("#!/usr/bin/python3")
    assert "def main(" in src
