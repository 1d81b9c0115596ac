"""§2 NUT server: what ivpb.backupbeleid.nut_server writes (NUT's quoting, users without admin
rights), and its module entry (exit_json/fail_json patched): bad input is one line, check mode
writes nothing and never shows a password."""

from __future__ import annotations

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import nut_server as backend
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import ModuleFailure
from ansible_collections.ivpb.backupbeleid.plugins.modules import nut_server
from ansible_collections.ivpb.backupbeleid.tests.unit.harness import Exit, Fail

SECRET = 'Pw "quoted" \\ and #hash'


@pytest.fixture
def run_module(module_main):
    return lambda args, check_mode=False: module_main(nut_server, {"install_packages": False, **args}, check_mode)


def test_users_are_monitors_without_admin_rights_and_passwords_are_quoted():
    text = backend.render_users([{"name": "mon-fs", "password": SECRET, "upsmon": "secondary"},
                                 {"name": "lab", "password": "x", "actions": ["SET"]}])
    assert '\n[mon-fs]\n\tpassword = "Pw \\"quoted\\" \\\\ and \\#hash"\n\tupsmon secondary\n' in text
    assert "\n[lab]\n\tpassword = \"x\"\n\tactions = SET\n" in text
    assert "instcmds" not in text and text.count("actions") == 1


def test_ups_conf_dummy_port_and_quoted_options():
    text = backend.render_ups_conf({"ups-a": {"driver": "dummy-ups"},
                                    "ups-b": {"driver": "usbhid-ups", "description": 'rack "1"',
                                              "options": {"pollinterval": 2}}})
    assert "[ups-a]\n\tdriver = dummy-ups\n\tport = ups-a.dev\n" in text
    assert '[ups-b]\n\tdriver = usbhid-ups\n\tport = auto\n\tdesc = "rack \\"1\\""\n\tpollinterval = "2"\n' in text


def test_a_line_break_in_a_value_is_refused():
    with pytest.raises(ModuleFailure, match="line break"):
        backend.word("a\nMONITOR evil")


def test_a_ups_without_driver_is_one_line(run_module):
    with pytest.raises(Fail) as exc:
        run_module({"ups": {"ups-a": {"port": "auto"}}})
    assert exc.value.args[0]["msg"] == "ivpb_nut_server.ups.ups-a.driver: expected a NUT driver name"


def test_check_mode_writes_nothing_and_masks_the_users(run_module, monkeypatch, tmp_path):
    monkeypatch.setattr(backend, "ETC", str(tmp_path / "nut"))
    with pytest.raises(Exit) as exc:
        run_module({"ups": {"ups-a": {"driver": "dummy-ups"}},
                    "users": [{"name": "mon-fs", "password": SECRET, "upsmon": "secondary"}]}, check_mode=True)
    res = exc.value.args[0]
    assert res["changed"] is True and not (tmp_path / "nut").exists()
    assert str(tmp_path / "nut" / "upsd.users") in res["changed_paths"]
    assert SECRET not in repr(res) and "Pw" not in repr(res["diff"])
    assert any(d["after"] == backend.MASKED_USERS for d in res["diff"])


def test_without_the_group_nut_the_failure_names_the_file_and_the_package(run_module, monkeypatch, tmp_path):
    monkeypatch.setattr(backend, "ETC", str(tmp_path / "nut"))
    monkeypatch.setattr(backend, "GROUP", "no-such-group-ivpb")
    with pytest.raises(Fail) as exc:
        run_module({"ups": {"ups-a": {"driver": "dummy-ups"}}})
    assert exc.value.args[0]["msg"] == (f"{tmp_path}/nut/nut.conf: the group no-such-group-ivpb does not exist "
                                        "(nut-server is not installed)")
    assert not (tmp_path / "nut").exists()


def test_the_planned_clients_get_their_host_passwords_masked_and_never_returned(run_module, monkeypatch, tmp_path):
    """The role hands the plan's clients (host, NUT user) and the passwords by host: each client
    is an upsmon secondary with its host's password; the diff and the result never show one."""
    monkeypatch.setattr(backend, "ETC", str(tmp_path / "nut"))
    with pytest.raises(Exit) as exc:
        run_module({"ups": {"ups-a": {"driver": "dummy-ups"}}, "clients": [{"host": "fs", "name": "mon-fs"}],
                    "passwords": {"fs": SECRET}, "users": [{"name": "lab", "password": "x", "actions": ["SET"]}]},
                   check_mode=True)
    res = exc.value.args[0]
    assert SECRET in exc.value.module.no_log_values  # masked wherever Ansible logs or shows it
    assert SECRET not in repr(res) and "Pw" not in repr(res["diff"])
    assert any(d["after"] == backend.MASKED_USERS for d in res["diff"])
    params = {"clients": [{"host": "fs", "name": "mon-fs"}], "passwords": {"fs": SECRET},
              "users": [{"name": "lab", "password": "x", "actions": ["SET"]}]}
    assert backend.render_users([user for _where, user in backend.users_of(params)]) == backend.render_users(
        [{"name": "mon-fs", "password": SECRET, "upsmon": "secondary"}, {"name": "lab", "password": "x", "actions": ["SET"]}])


def test_a_client_without_password_or_a_name_twice_is_one_line(run_module):
    ups = {"ups-a": {"driver": "dummy-ups"}}
    with pytest.raises(Fail) as exc:
        run_module({"ups": ups, "clients": [{"host": "fs", "name": "mon-fs"}], "passwords": {"nas": SECRET}})
    assert exc.value.args[0]["msg"] == "clients[0]: no password for 'fs' in passwords (its ivpb_nut_password)"
    with pytest.raises(Fail) as exc:
        run_module({"ups": ups, "clients": [{"host": "fs", "name": "mon-fs"}], "passwords": {"fs": SECRET},
                    "users": [{"name": "mon-fs", "password": "x"}]})
    assert exc.value.args[0]["msg"] == "users[0].name: 'mon-fs' is listed more than once"
    assert SECRET not in repr(exc.value.args[0])
