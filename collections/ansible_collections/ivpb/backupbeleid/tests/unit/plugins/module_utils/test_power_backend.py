"""§2 Stroomvoorziening: backend of ivpb.backupbeleid.nut_client (rendering, NUT quoting, enforcing
files and service through a fake command runner on a temporary root, evidence)."""

from __future__ import annotations

import grp
import os

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import nut_client as nc
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import ModuleFailure
from ansible_collections.ivpb.backupbeleid.tests.unit.parsers import parse_nut_words
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import asked, make_host, with_packages

PW = 'my "sec ret" \\ pass #1'


def params(**kw):
    base = {"controls": asked("power.ups"),
            "ups": [{"name": "ups-a", "server": "nutserver", "user": "mon-x", "password": "pw1"}]}
    base.update(kw)
    return base


@pytest.mark.parametrize("password", ["simple", PW, 'a"b', "x y", "trail\\", "#", "=eq", "'single'"])
def test_monitor_password_survives_config_parse_then_upsd_network_parse(password):
    line = f"MONITOR ups@srv 1 mon {nc.encode_monitor_password(password)} secondary"
    words = parse_nut_words(line)
    assert len(words) == 6 and words[-1] == "secondary"
    # upsmon 2.8.0 sends "PASSWORD <word>" unquoted; upsd parses it with the same parser.
    assert parse_nut_words(f"PASSWORD {words[4]}") == ["PASSWORD", password]


@pytest.mark.parametrize("value", ["/sbin/shutdown -h +0", "/bin/sh -c 'date > /run/x'", 'a "b" #c'])
def test_encode_word_is_one_nut_word(value):
    assert parse_nut_words(f"SHUTDOWNCMD {nc.encode_word(value)}") == ["SHUTDOWNCMD", value]


def test_redundant_render_two_monitors_minsupplies_one():
    s = nc.settings_from_params(params(controls=asked("power.ups", "power.redundant_ups"), ups=[
        {"name": "ups-a", "server": "nutserver", "user": "mon-f", "password": PW},
        {"name": "ups-b", "server": "nutserver", "user": "mon-f", "password": PW, "port": 3500}]))
    text = nc.render_upsmon_conf(s)
    monitors = [parse_nut_words(line) for line in text.splitlines() if line.startswith("MONITOR")]
    assert [m[1] for m in monitors] == ["ups-a@nutserver", "ups-b@nutserver:3500"]
    assert all(m[2] == "1" and m[5] == "secondary" for m in monitors)
    assert "MINSUPPLIES 1" in text.splitlines()
    assert "NOTIFYFLAG ONBATT SYSLOG+WALL" in text
    masked = nc.render_upsmon_conf(s, masked=True)
    assert "sec ret" not in masked and nc.MASK in masked
    assert nc.mask_text(text) == masked


@pytest.mark.parametrize(("change", "expected"), [
    ({"controls": asked("power.ups", "power.redundant_ups")}, "at least two distinct UPSes"),
    ({"controls": asked("power.ups", "power.redundant_ups"), "ups": [
        {"name": "ups-a", "server": "s", "user": "u", "password": "p"},
        {"name": "ups-a", "server": "s", "user": "u", "password": "p"}]}, "listed more than once"),
    ({"controls": asked("power.ups", "power.redundant_ups"), "min_supplies": 2, "ups": [
        {"name": "ups-a", "server": "s", "user": "u", "password": "p"},
        {"name": "ups-b", "server": "s", "user": "u", "password": "p"}]}, "does not survive the loss of one UPS"),
    ({"ups": []}, "at least one UPS"),
    ({"ups": [{"name": "ups a", "server": "s", "user": "u", "password": "p"}]}, "ups[0].name: 'ups a' is not a NUT name"),
    ({"ups": [{"name": "ups-a", "server": "s", "user": "u", "password": "pässwörd"}]}, "printable ASCII"),
    ({"ups": [{"name": "ups-a", "server": "s", "user": "u", "password": ""}]}, "non-empty"),
    ({"pollfreq": 10, "deadtime": 15}, "deadtime: expected at least 3 x pollfreq"),
    ({"deadtime": 1500}, "deadtime: expected whole seconds from 1 to 300, got 1500"),
    ({"hostsync": 0}, "hostsync: expected whole seconds from 1 to 300, got 0"),
    ({"finaldelay": -1}, "finaldelay: expected whole seconds from 0 to 300, got -1"),
    ({"pollfreq_alert": 10**30}, "pollfreq_alert: expected whole seconds from 1 to 300"),
    ({"controls": [{"id": "power.ups", "duty": "gold"}]}, "controls[0].duty: 'gold' is not one of ups, redundant_ups"),
    ({"controls": []}, "controls: expected at least one control"),
])
def test_bad_input_one_line_never_the_password(change, expected):
    with pytest.raises(ModuleFailure) as exc:
        nc.settings_from_params(params(**change))
    msg = str(exc.value)
    assert expected in msg and "\n" not in msg
    assert "pässwörd" not in msg


class FakeHost:
    """systemctl/upsc answers of a host; records the commands."""

    def __init__(self, enabled=True, active=True, reachable=("ups-a@nutserver",)):
        self.enabled, self.active, self.reachable, self.calls = enabled, active, set(reachable), []

    def __call__(self, argv):
        self.calls.append(argv)
        if argv[:2] == ["systemctl", "is-enabled"]:
            return (0, "enabled\n", "") if self.enabled else (1, "disabled\n", "")
        if argv[:2] == ["systemctl", "is-active"]:
            return (0, "", "") if self.active else (3, "", "")
        if argv[:2] == ["systemctl", "enable"]:
            self.enabled = True
            return 0, "", ""
        if argv[0] == "systemctl" and argv[1] in ("restart", "start"):
            self.active = True
            return 0, "", ""
        if argv[0] == "upsc":
            if argv[1] in self.reachable:
                return 0, "OL\n", "Init SSL without certificate database\n"
            return 1, "", "Init SSL without certificate database\nError: Connection failure: Connection refused\n"
        raise AssertionError(argv)


@pytest.fixture
def host(tmp_path, monkeypatch):
    """A host root with NUT's client installed and /etc/nut."""
    with_packages(tmp_path, *nc.PACKAGES)
    (tmp_path / "etc" / "nut").mkdir(parents=True)
    group = grp.getgrgid(os.getgid()).gr_name
    monkeypatch.setattr(nc, "GROUP", group)
    return tmp_path, group


def system(monkeypatch, root, fake, check_mode, want_diff):
    return make_host(monkeypatch, check_mode, want_diff, run=fake, root=str(root))


def test_enforce_then_idempotent_then_check_mode_reports_no_change(host, monkeypatch):
    root, group = host
    s = params()
    fake = FakeHost(enabled=False, active=False)
    first = nc.enforce(system(monkeypatch, root, fake, check_mode=False, want_diff=True), s)
    assert first["changed"] is True
    assert ["systemctl", "enable", nc.SERVICE] in fake.calls and ["systemctl", "start", nc.SERVICE] in fake.calls
    conf = root / "etc/nut/upsmon.conf"
    assert conf.stat().st_mode & 0o777 == 0o640
    assert (root / "etc/nut/nut.conf").read_text().endswith("MODE=netclient\n")
    assert all("pw1" not in d["after"] for d in first["diff"])
    assert [c["status"] for c in first["controls"]] == ["compliant"]
    second = nc.enforce(system(monkeypatch, root, fake, check_mode=False, want_diff=True), s)
    assert second["changed"] is False and second["diff"] == []
    check = nc.enforce(system(monkeypatch, root, fake, check_mode=True, want_diff=True), s)
    assert check["changed"] is False and check["controls"][0]["status"] == "compliant"


def test_check_mode_changes_nothing_and_reports_drift(host, monkeypatch):
    root, group = host
    s = (params(controls=asked("power.ups", "power.redundant_ups"), ups=[
        {"name": "ups-a", "server": "nutserver", "user": "m", "password": "new pw"},
        {"name": "ups-b", "server": "nutserver", "user": "m", "password": "new pw"}]))
    conf = root / "etc/nut/upsmon.conf"
    conf.write_text('MONITOR ups-a@nutserver 1 m "old secret" secondary\n')
    fake = FakeHost()
    res = nc.enforce(system(monkeypatch, root, fake, check_mode=True, want_diff=True), s)
    assert res["changed"] is True
    assert conf.read_text() == 'MONITOR ups-a@nutserver 1 m "old secret" secondary\n'
    assert not any(c[1] in ("restart", "start", "enable") for c in fake.calls if c[0] == "systemctl")
    assert {c["id"]: c["status"] for c in res["controls"]} == {"power.ups": "drift", "power.redundant_ups": "drift"}
    diff = {d["before_header"]: d for d in res["diff"]}[nc.UPSMON_CONF]
    assert "old secret" not in diff["before"] and "new pw" not in diff["after"]


def test_config_change_restarts_running_service(host, monkeypatch):
    root, group = host
    fake = FakeHost()
    nc.enforce(system(monkeypatch, root, fake, check_mode=False, want_diff=False), params())
    fake.calls.clear()
    nc.enforce(system(monkeypatch, root, fake, check_mode=False, want_diff=False), params(hostsync=20))
    assert ["systemctl", "restart", nc.SERVICE] in fake.calls


def test_check_mode_on_fresh_host_without_nut_is_drift_not_failure(tmp_path, monkeypatch):
    fake = FakeHost(enabled=False, active=False, reachable=())
    monkeypatch.setattr(nc, "GROUP", "no-such-group-x")
    res = nc.enforce(system(monkeypatch, tmp_path, fake, check_mode=True, want_diff=True),
                     params(install_packages=False))
    assert res["changed"] is True
    assert res["controls"][0]["status"] == "drift" and "not installed" in res["controls"][0]["detail"]
    assert not (tmp_path / "etc").exists()


def test_apply_without_nut_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setattr(nc, "GROUP", "no-such-group-x")
    with pytest.raises(ModuleFailure, match="install nut-client"):
        nc.enforce(system(monkeypatch, tmp_path, FakeHost(), check_mode=False, want_diff=False),
                   params(install_packages=False))


def test_an_unreachable_ups_is_a_fact_with_its_reason_and_the_count_is_left_to_the_policy(host, monkeypatch):
    """How many UPSes must be reached is the policy file's (ups_reachable_min, judged by ivpb
    audit): the module reports what it reached and why not the rest, the same for every control."""
    root, group = host
    s = (params(controls=asked("power.ups", "power.redundant_ups"), ups=[
        {"name": "ups-a", "server": "nutserver", "user": "m", "password": "p"},
        {"name": "ups-b", "server": "nutserver", "user": "m", "password": "p"}]))
    res = nc.enforce(system(monkeypatch, root, FakeHost(reachable=("ups-a@nutserver",)), False, False), s)
    status = {c["id"]: c for c in res["controls"]}
    assert {c["status"] for c in status.values()} == {"compliant"}
    evidence = status["power.redundant_ups"]["evidence"]
    assert evidence["reachable"] == ["ups-a@nutserver"]
    assert evidence["status"] == {"ups-a@nutserver": "OL", "ups-b@nutserver": "unreachable"}
    assert evidence["unreached"]["ups-b@nutserver"].startswith("Error: Connection failure")
    assert status["power.ups"]["evidence"] == evidence


def test_notify_script_only_when_asked_and_webhook_masked(host, monkeypatch):
    root, group = host
    fake = FakeHost()
    res = nc.enforce(system(monkeypatch, root, fake, check_mode=False, want_diff=True),
                     params(notify_webhook="https://hooks.invalid/t0ken"))
    script = root / "etc/nut/ivpb-notify"
    assert script.stat().st_mode & 0o777 == 0o750
    assert "NOTIFYCMD /etc/nut/ivpb-notify" in (root / "etc/nut/upsmon.conf").read_text()
    assert "NOTIFYFLAG FSD SYSLOG+WALL+EXEC" in (root / "etc/nut/upsmon.conf").read_text()
    assert all("t0ken" not in d["after"] for d in res["diff"])
