"""The shared field rules (plugins/module_utils/input_rules.py): whole-value matching, the
escapers parse back to the intended value with real parsers, and the JSON Schema form agrees."""

from __future__ import annotations

import re
import shlex

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import input_rules as r
from ansible_collections.ivpb.backupbeleid.tests.unit.parsers import lua_unquote
from hypothesis import given, settings
from hypothesis import strategies as st

RULES = ["identifier", "nut_name", "host_name", "interface", "unix_user", "ipv4", "abs_path", "nut_driver",
         "nut_port", "nut_option", "url", "mail", "text", "command_line", "multiline",
         "armored_key", "size"]
GOOD = {
    "identifier": ["leerlingen", "wan1", "nas-offsite", "a_b"],
    "nut_name": ["ups-a", "UPS.1", "mon-fileserver"],
    "host_name": ["fileserver", "nas.school.example", "192.0.2.1"],
    "interface": ["eth0", "eth0.10", "wan@if3", "enp0s31f6"],
    "unix_user": ["ivpb-backup", "_nut"],
    "ipv4": ["192.0.2.1", "0.0.0.0", "255.255.255.255"],
    "abs_path": ["/", "/srv/data", "/srv/data leerlingen/2026", "/srv/..hidden", "/a/.b"],
    "nut_driver": ["usbhid-ups", "dummy-ups"],
    "nut_port": ["auto", "/dev/ttyS0", "/dev/usb/hiddev0", "ups-a.dev", "ups.example:3493"],
    "nut_option": ["pollinterval", "override.battery.charge.low"],
    "url": ["https://hooks.example/x?a=1&b=%20", "http://192.0.2.1:8080/"],
    "mail": ["ict@school.example", "a+b@x"],
    "multiline": ["", "regel 1\nregel 2\r\n\tmet tab", "é"],
    "size": ["1", "500G", "2T", "1048576K"],
    "armored_key": ["-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEaw==\n=V7T3\n-----END PGP PUBLIC KEY BLOCK-----\n"],
    "command_line": ["/sbin/shutdown -h +0", "/bin/sh -c 'date -u +%FT%TZ > /run/x'"],
    "text": ["", "rookmelder in het serverlokaal", "é ü"],
}
BAD = {
    "identifier": ["", "Leerlingen", "-x", "a b", "a\n", "a;b", "x" * 65, "ä"],
    "nut_name": ["", "-a", ".a", "a b", "a\n", "a]", "a\\"],
    "host_name": ["", "-oProxyCommand=x", "a b", "a\n", "a..b", "a/b", "h;x"],
    "interface": ["", ".", "..", "eth0/1", "a" * 16, "eth 0", "eth0\n", "eth:0"],
    "unix_user": ["", "Root", "-x", "a\n", "a" * 33],
    "ipv4": ["256.1.1.1", "1.2.3", "1.2.3.4\n", "01.2.3.4x"],
    "abs_path": ["", "srv", "//srv", "/srv/", "/srv//x", "/srv/../etc", "/srv/.", "/..", "/srv\n",
                 "/srv\x00", "/a\u2028b", "/a\udcffb", "/" + "a" * 4095],
    "nut_driver": ["", "../x", "a b", "a\n"],
    "nut_port": ["", "../../etc/shadow", "/etc/shadow", "/dev/../etc/shadow", "upsd.users", "auto\n",
                 "/dev/a b", "x]\n[y"],
    "nut_option": ["", "A", "a b", "a=b", "a\n", "driver", "port", "desc"],
    "url": ["", "ftp://x", "https://x/\n", "https://x/'a", 'https://x/"', "https://x y", "https://x\\y"],
    "mail": ["", "-oQ/tmp@x", "a", "a@", "a b@x", "a@x\n", "a@-x"],
    "multiline": ["a\x1b[31m", "a\x00", "\udcff", "x" * 5001],
    "size": ["0", "500GB", "5 G", "-1", "1.5T", "12345678901234", "500g"],
    "armored_key": ["", "mDMEaw==", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\x1b\n-----END PGP PUBLIC KEY BLOCK-----",
                    "-----BEGIN PGP PRIVATE KEY BLOCK-----\nx\n-----END PGP PRIVATE KEY BLOCK-----"],
    "command_line": ["", "shutdown -h now", "-x", "/sbin/shutdown\n/bin/evil", "/bin/x\r"],
    "text": ["a\nb", "a\rb", "a\x00", "\x85", "a\u2029", "\udcff", "x" * 1001],
}


@pytest.mark.parametrize("rule", RULES)
def test_good_values_pass(rule):
    for value in GOOD[rule]:
        assert getattr(r, rule)(value, "f") == value


@pytest.mark.parametrize("rule", RULES)
def test_bad_values_fail_with_one_line(rule):
    for value in BAD[rule]:
        with pytest.raises(ValueError) as e:
            getattr(r, rule)(value, "ivpb_x.field")
        msg = str(e.value)
        assert msg.startswith("ivpb_x.field: ") and "\n" not in msg and len(msg) < 400, msg


@pytest.mark.parametrize("rule", RULES)
@settings(max_examples=300, deadline=None)
@given(value=st.text())
def test_schema_pattern_equals_rule(rule, value):
    """The JSON Schema form (fullmatch of its pattern, its length bounds) says what the function says."""
    d = r.SCHEMA_DEFS[f"rule_{rule}"]
    by_schema = (d["minLength"] <= len(value) <= d["maxLength"]) and re.fullmatch(d["pattern"], value) is not None
    assert by_schema == r.matches(rule, value)


@given(value=st.text())
def test_no_value_with_a_line_break_passes_any_one_line_rule(value):
    for rule in (name for name in RULES if name not in ("multiline", "armored_key")):
        if r.matches(rule, value):
            assert not re.search(f"[{r.CONTROL}]", value)
            assert value == value.strip("\n")


def test_not_secret_shown():
    with pytest.raises(ValueError) as e:
        r.secret("top\nsecret", "ups[0].password")
    assert "secret" not in str(e.value).replace("ups[0].password", "")


@pytest.mark.parametrize(("value", "expected"), [
    ("https://ivpb:Geheim-123@drive.example/dav", "'https://(account not shown)@drive.example/dav'"),
    ("smb://school\\ivpb:p@ss@nas/share", "'smb://(account not shown)@nas/share'"),
    ("sftp://ivpb@nas:22/volume1", "'sftp://(account not shown)@nas:22/volume1'"),
    ("https://drive.example/dav?mail=ict@school.example", "'https://drive.example/dav?mail=ict@school.example'"),
    ("ict@school.example", "'ict@school.example'"),
])
def test_shown_never_quotes_a_urls_account(value, expected):
    """A password pasted into a URL (user:password@) is not repeated by the message that refuses it."""
    assert r.shown(value) == expected


def test_not_option():
    assert r.not_option("ict@x", "f") == "ict@x"
    with pytest.raises(ValueError, match="option"):
        r.not_option("-oQ", "f")


@given(value=st.text())
def test_sh_quote_parses_back(value):
    value = value.replace("\x00", "")
    assert shlex.split(r.sh_quote(value)) == [value]


@given(value=st.text())
def test_lua_string_parses_back(value):
    lit = r.lua_string(value)
    assert lit.isascii() and "\n" not in lit and "\r" not in lit
    assert lua_unquote(lit) == value


def _nut_words(line: str) -> list[str]:
    """NUT's parseconf.c word splitting: blanks separate, '#' starts a comment outside quotes,
    double quotes group, a backslash takes the next character literally."""
    words, cur, quoted, have, i = [], [], False, False, 0
    while i < len(line):
        c = line[i]
        if c == "\\":
            cur.append(line[i + 1])
            have = True
            i += 2
            continue
        if c == '"':
            quoted = not quoted
            have = True
        elif quoted:
            assert c != "#", "unescaped # inside quotes is a NUT parse error"
            cur.append(c)
        elif c in " \t":
            if have:
                words.append("".join(cur))
            cur, have = [], False
        elif c == "#":
            break
        else:
            cur.append(c)
            have = True
        i += 1
    assert not quoted
    if have:
        words.append("".join(cur))
    return words


@given(value=st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_nut_quote_parses_back(value):
    assert _nut_words(f"desc = {r.nut_quote(value)}") == ["desc", "=", value]


@given(value=st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_systemd_quote(value):
    q = r.systemd_quote(value)
    # systemd: C-style unescape inside quotes, then %% -> %, $$ -> $
    body = q[1:-1]
    tokens = re.findall(r'\\["\\]|%%|\$\$|[^"\\%$]', body)
    assert "".join(tokens) == body
    assert "".join(t[-1] if len(t) == 2 else t for t in tokens) == value


def test_sysctl_name():
    assert r.sysctl_name(["net", "ipv4", "conf", "eth0", "rp_filter"]) == "net.ipv4.conf.eth0.rp_filter"
    assert r.sysctl_name(["net", "ipv4", "conf", "eth0.10", "rp_filter"]) == "net/ipv4/conf/eth0.10/rp_filter"
    for bad in ["eth0/1", "a=b", "a b", "a\n", ""]:
        with pytest.raises(ValueError):
            r.sysctl_name(["net", "ipv4", "conf", bad, "rp_filter"])


@pytest.mark.parametrize(("value", "expected"), [
    (None, {"bytes": None, "files": None}),
    ({"bytes": "500G"}, {"bytes": 500 << 30, "files": None}),
    ({"bytes": "1024", "files": 2000}, {"bytes": 1024, "files": 2000}),
])
def test_a_receivers_quota_is_read_in_bytes_and_files(value, expected):
    assert r.quota(value, "quota") == expected


@pytest.mark.parametrize("value", [{"bytes": "5 G"}, {"files": 0}, {"files": True}, {"files": "10"}, {"inodes": 5}, [1]])
def test_a_bad_quota_fails_in_one_line_naming_it(value):
    with pytest.raises(ValueError, match=r"^targets\.nas\.quota") as exc:
        r.quota(value, "targets.nas.quota")
    assert "\n" not in str(exc.value)
