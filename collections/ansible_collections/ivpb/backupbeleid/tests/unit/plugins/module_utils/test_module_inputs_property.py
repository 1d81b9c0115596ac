"""Property-based: every string that nut_client, nut_server and wan_failover write to a host,
given by a playbook that calls the module directly (no plan step, no schema). A hostile value
either fails the module's own check with one line, or is written so that the file parses back
(with a parser of that format: NUT's parseconf word rules, /bin/sh, sysctl.d(5), JSON) to exactly
the intended value, in the declared sections and lines only."""

from __future__ import annotations

import json
import subprocess

from ansible_collections.ivpb.backupbeleid.plugins.module_utils import input_rules
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import nut_client as nc
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import nut_server as ns
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import wan_failover as wf
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import ModuleFailure
from ansible_collections.ivpb.backupbeleid.tests.unit.parsers import parse_nut_words
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import asked
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HOSTILE = st.text(max_size=30) | st.sampled_from([
    "a\nb", "ups]\n[evil", "x\"y", "a#b", "\\", "-oProxyCommand=x", "../../etc/shadow", "x;curl e|sh;#",
    "\u2028", "\udcff", "", " ", "$(reboot)", "`id`", "'", "%n", "eth0/../lo",
])


def rule(name: str):
    """Values valid for a rule (to reach the writing path) mixed with hostile ones."""
    return st.from_regex(f"(?:{input_rules.PATTERNS[name]})", fullmatch=True).filter(
        lambda v: input_rules.matches(name, v)) | HOSTILE


def one_line(message: str) -> None:
    assert message and "\n" not in message and len(message) < 400


def parse_ups_conf(text: str) -> dict[str, dict[str, str]]:
    """ups.conf as upsd's parser sees it: [section] headers, `key = value` words."""
    sections: dict[str, dict[str, str]] = {}
    current = None
    for line in text.splitlines():
        words = parse_nut_words(line)
        if not words:
            continue
        if len(words) == 1 and words[0].startswith("[") and words[0].endswith("]"):
            current = sections.setdefault(words[0][1:-1], {})
            continue
        assert len(words) == 3 and words[1] == "=", words
        if current is not None:
            assert words[0] not in current, f"{words[0]} twice in one section"
            current[words[0]] = words[2]
    return sections


@SETTINGS
@given(name=rule("nut_name"), driver=rule("nut_driver"), port=rule("nut_port"), desc=HOSTILE,
       key=rule("nut_option"), value=HOSTILE | st.integers())
@example(name="ups-a", driver="dummy-ups", port="ups-a.dev", desc='rack "1" #2 \\ ]\'', key="pollinterval",
         value="[evil] = x # y").via("written with quotes and escapes")
def test_nut_server_ups_conf_parses_back(name, driver, port, desc, key, value):
    params = {"ups": {name: {"driver": driver, "port": port, "description": desc, "options": {key: value}}},
              "listen": ["0.0.0.0"], "port": 3493, "users": []}
    try:
        ns.check_params(params)
    except ModuleFailure as e:
        one_line(str(e))
        return
    parsed = parse_ups_conf(ns.render_ups_conf(params["ups"]))
    port = port or (f"{name}.dev" if driver == "dummy-ups" else "auto")  # empty: the module's default
    assert parsed == {name: {"driver": driver, "port": port, "desc": desc, key: str(value)}}
    # the file a dummy-ups port names stays in /etc/nut
    assert "/" not in port or port.startswith("/dev/") or driver != "dummy-ups"


@SETTINGS
@given(name=rule("nut_name"), password=st.text(max_size=30))
@example(name="mon-fs", password='p "w" \\ #1 [x]').via("quoted password")
def test_nut_server_users_parse_back(name, password):
    params = {"ups": {"ups-a": {"driver": "dummy-ups"}}, "listen": ["0.0.0.0"], "port": 3493,
              "users": [{"name": name, "password": password, "upsmon": "secondary"}]}
    try:
        ns.check_params(params)
    except ModuleFailure as e:
        one_line(str(e))
        if str(e).startswith("users[0].password"):
            assert str(e).endswith("(value not shown)") and (password not in str(e) or len(password) < 3)
        return
    parsed = parse_ups_conf(ns.render_users(params["users"]).replace("\tupsmon secondary", ""))
    assert parsed == {name: {"password": password}}


@SETTINGS
@given(name=rule("nut_name"), server=rule("host_name"), user=rule("nut_name"), password=st.text(max_size=30),
       shutdown=rule("command_line"))
@example(name="ups-a", server="nut.school.example", user="mon-fs", password='my "sec ret" \\ pass #1',
         shutdown='/bin/sh -c \'echo "x # y" > /run/m\'').via("quoted twice")
@example(name="000", server="0", user="R", password="000", shutdown="/").via("the password is the UPS's name")
def test_nut_client_upsmon_conf_parses_back(name, server, user, password, shutdown):
    params = {"controls": asked("power.ups"), "ups": [{"name": name, "server": server, "user": user, "password": password}],
              "shutdown_command": shutdown}
    try:
        s = nc.settings_from_params(params)
    except ModuleFailure as e:
        one_line(str(e))
        if "password" in str(e):
            assert str(e).endswith("(value not shown)")
        return
    lines = [parse_nut_words(x) for x in nc.render_upsmon_conf(s).splitlines()]
    monitors = [w for w in lines if w and w[0] == "MONITOR"]
    assert len(monitors) == 1
    _keyword, system, value, got_user, pw_word, role = monitors[0]
    assert (system, value, got_user, role) == (f"{name}@{server}", "1", user, "secondary")
    # upsd parses the PASSWORD line with the same rules: one more level of words
    assert parse_nut_words(pw_word) == [password] if not nc.PLAIN_WORD.fullmatch(password) else pw_word == password
    assert [w for w in lines if w and w[0] == "SHUTDOWNCMD"] == [["SHUTDOWNCMD", shutdown]]
    # masked, the password's word is the mask (the password may equal another field, say the UPS name)
    masked = [parse_nut_words(x) for x in nc.render_upsmon_conf(s, masked=True).splitlines()]
    assert [w for w in masked if w and w[0] == "MONITOR"] == [["MONITOR", system, value, got_user, nc.MASK, role]]
    assert [w for w in masked if w and w[0] != "MONITOR"] == [w for w in lines if w and w[0] != "MONITOR"]


@settings(max_examples=60, deadline=None)
@given(webhook=rule("url"), mail=rule("mail"))
@example(webhook="https://hooks.example/x?a=1&b=$(id);c=%27!", mail="a+b=c@x.example").via("shell characters")
def test_nut_client_notify_script_values_read_back_by_sh(tmp_path_factory, webhook, mail):
    params = {"controls": asked("power.ups"), "ups": [{"name": "ups-a", "server": "nut", "user": "mon", "password": "pw"}],
              "notify_webhook": webhook, "notify_mail": mail}
    try:
        s = nc.settings_from_params(params)
    except ModuleFailure as e:
        one_line(str(e))
        return
    script = nc.render_notify_script(s)
    assignments = "\n".join(x for x in script.splitlines() if x.startswith(("WEBHOOK=", "MAILTO=")))
    out = subprocess.run(["/bin/sh", "-c", assignments + '\nprintf "%s\\0%s" "$WEBHOOK" "$MAILTO"'],
                         capture_output=True, timeout=10, check=True).stdout
    assert out.decode() == f"{webhook}\0{mail}"
    assert webhook not in nc.mask_script(script)
    assert '-- "$MAILTO"' in script


def parse_sysctl_d(text: str) -> dict[tuple[str, ...], str]:
    """sysctl.d(5): `key = value`; a key whose first separator is '/' uses '/' throughout
    (dots in it are literal), else '.' separates."""
    out = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(("#", ";")):
            continue
        key, eq, value = line.partition("=")
        assert eq, line
        key = key.strip()
        slash, dot = key.find("/"), key.find(".")
        parts = key.split("/") if slash != -1 and (dot == -1 or slash < dot) else key.split(".")
        out[tuple(parts)] = value.strip()
    return out


@SETTINGS
@given(name=rule("identifier"), interface=rule("interface"), gateway=rule("ipv4"), track=rule("ipv4"),
       webhook=st.none() | rule("url"))
@example(name="wan1", interface="eth0.10", gateway="192.0.2.1", track="198.51.100.53",
         webhook="https://x.example/h?token=s3cr3t").via("VLAN interface")
def test_wan_failover_files_parse_back(name, interface, gateway, track, webhook):
    uplinks = [{"name": name, "interface": interface, "gateway": gateway, "metric": 101, "track_ip": [track]},
               {"name": "wan-b", "interface": "ethb", "gateway": "192.0.2.200", "metric": 102,
                "track_ip": ["198.51.100.9"]}]
    probe = wf.probe_settings({})
    try:
        wf.check_params(uplinks, probe, 10, webhook)
    except ModuleFailure as e:
        one_line(str(e))
        return
    keys = parse_sysctl_d(wf.sysctl_text(wf.sysctls(uplinks, True)))
    assert keys[("net", "ipv4", "conf", interface, "rp_filter")] == "2"
    assert len(keys) == 5  # all, default, the two interfaces, ip_forward: nothing else
    config = json.loads(wf.dump(wf.render_config(uplinks, probe, 10, webhook)))
    assert config["uplinks"][0] == {**uplinks[0], "metric": 101}
    assert config.get("webhook") == webhook
    if webhook:
        assert webhook not in wf.mask_config(wf.dump(config), webhook)
