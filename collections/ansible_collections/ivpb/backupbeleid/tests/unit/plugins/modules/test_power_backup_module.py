"""§2 + §4 in one module run (ivpb.backupbeleid.power_backup, issue #26): the module entry with
exit_json and fail_json patched. The NUT client's backend runs for real in check mode under a
test folder as the host's root; the backup jobs' backend is replaced where a test needs only its
result's shape (its own tests are test_backup_backend.py)."""

from __future__ import annotations

import json

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import backup_job as backup_backend
from ansible_collections.ivpb.backupbeleid.plugins.modules import power_backup
from ansible_collections.ivpb.backupbeleid.tests.unit.harness import Exit, Fail
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import asked, with_packages

SECRET = 'Pw with "quotes" and blanks'
WEBHOOK = "https://hook.example/secret-token"
POWER = {"controls": asked("power.ups"), "install_packages": False,
         "ups": [{"name": "ups-a", "server": "nutserver.invalid", "user": "mon-fs", "password": SECRET}]}
BACKUP = {"hostname": "fs", "controls": asked("backup.daily", datasets=["admin"]), "datasets": [],
          "failure_hook": {"webhook": WEBHOOK}}


def fake_backup(host, params):
    """The backup part: one change of its own, recorded by the host toolkit as backup_job's are."""
    host.file("/etc/ivpb/backup/backup.conf", f"hook={params['failure_hook']['webhook']}\n", 0o600,
              show=lambda _text: "(failure hook settings, masked)\n")
    return {"changed": bool(host.changed), "controls": [
        {"id": "backup.daily", "dataset": "admin", "status": "drift", "diff_paths": ["/etc/ivpb/backup/backup.conf"]}],
        "ssh_public_key": "ssh-ed25519 AAAAfs", "host_time": "2026-12-07T10:00:00Z", "diff": host.diffs}


@pytest.fixture
def host_root(tmp_path):
    return with_packages(tmp_path / "host", "nut-client")


def test_both_parts_run_in_one_call_each_control_naming_its_own_changes(module_main, monkeypatch, host_root):
    monkeypatch.setattr(backup_backend, "enforce", fake_backup)
    with pytest.raises(Exit) as exc:
        module_main(power_backup, {"power": POWER, "backup": BACKUP}, check_mode=True, root=host_root)
    res = exc.value.args[0]
    assert [(c["id"], c["status"]) for c in res["controls"]] == [("power.ups", "drift"), ("backup.daily", "drift")]
    nut, job = res["controls"]
    assert nut["diff_paths"] and all(p.startswith("/etc/nut/") for p in nut["diff_paths"])
    assert job["diff_paths"] == ["/etc/ivpb/backup/backup.conf"]
    assert sorted(d["before_header"] for d in res["diff"]) == sorted([*nut["diff_paths"], *job["diff_paths"]])
    assert res["changed"] is True
    assert res["ssh_public_key"] == "ssh-ed25519 AAAAfs"  # backup_job's fields stay at the top (backup_target)
    assert res["host_time"] == "2026-12-07T10:00:00Z"
    assert res["power"]["ups"][0]["ups"] == "ups-a@nutserver.invalid" and "controls" not in res["power"]
    assert not (host_root / "etc").exists()  # check mode: nothing written
    text = json.dumps(res)
    assert SECRET not in text and WEBHOOK not in text


def test_the_nut_server_runs_first_its_drift_naming_its_own_changes_and_no_password(
        module_main, monkeypatch, host_root, tmp_path):
    """A NUT server that is also a UPS client (netserver) and stores data: one module run, the
    server's part first; each part's drift names only its own files; the clients' passwords are
    masked like the part's own module masks them."""
    from ansible_collections.ivpb.backupbeleid.plugins.module_utils import nut_server as server_backend

    monkeypatch.setattr(backup_backend, "enforce", fake_backup)
    monkeypatch.setattr(server_backend, "ETC", str(tmp_path / "server-nut"))
    server = {"ups": {"ups-a": {"driver": "dummy-ups"}}, "install_packages": False,
              "clients": [{"host": "pc", "name": "mon-pc"}], "passwords": {"pc": "client-" + SECRET}}
    with pytest.raises(Exit) as exc:
        module_main(power_backup, {"nut_server": server, "power": {**POWER, "mode": "netserver"}, "backup": BACKUP},
                    check_mode=True, root=host_root)
    res = exc.value.args[0]
    assert res["nut_server"]["changed_paths"] and "controls" not in res["nut_server"]
    assert [c["id"] for c in res["controls"]] == ["power.ups", "backup.daily"]
    nut = res["controls"][0]
    assert not [p for p in nut["diff_paths"] if p.startswith(str(tmp_path / "server-nut"))]  # the server's are its own
    assert {d["before_header"] for d in res["diff"]} >= set(res["nut_server"]["changed_paths"])
    assert "client-" + SECRET in exc.value.module.no_log_values
    assert SECRET not in json.dumps(res) and not (tmp_path / "server-nut").exists()


def test_a_part_that_fails_leaves_the_other_its_controls(module_main, monkeypatch, host_root):
    """A redundant supply with one UPS is bad input for the NUT client: its controls are errors,
    the backup part still runs and reports, and the module fails with the NUT client's message."""
    monkeypatch.setattr(backup_backend, "enforce", fake_backup)
    power = {**POWER, "controls": asked("power.ups", "power.redundant_ups")}
    with pytest.raises(Fail) as exc:
        module_main(power_backup, {"power": power, "backup": BACKUP}, check_mode=True, root=host_root)
    res = exc.value.args[0]
    assert "power.redundant_ups (§2) needs at least two distinct UPSes" in res["msg"]
    assert [(c["id"], c["status"]) for c in res["controls"]] == [
        ("power.ups", "error"), ("power.redundant_ups", "error"), ("backup.daily", "drift")]
    assert SECRET not in json.dumps(res)


def test_a_failing_backup_part_is_named_by_its_host(module_main, host_root):
    """The backup part fails as backup_job fails (real backend: the target is the host itself)."""
    backup = {**BACKUP, "datasets": [{"dataset": "admin", "path": "/srv", "target": {"name": "nas", "receiver": "fs"}}]}
    with pytest.raises(Fail) as exc:
        module_main(power_backup, {"backup": backup}, check_mode=True, root=host_root)
    assert exc.value.args[0]["msg"] == ("fs: datasets[0].target: 'nas' is this host itself; "
                                        "a backup goes to another location and medium")


def test_a_part_left_out_does_not_run(module_main, monkeypatch, host_root):
    ran = []
    monkeypatch.setattr(backup_backend, "enforce", lambda host, params: ran.append(params) or {})
    with pytest.raises(Exit) as exc:
        module_main(power_backup, {"power": POWER}, check_mode=True, root=host_root)
    assert ran == []
    assert [c["id"] for c in exc.value.args[0]["controls"]] == ["power.ups"]
    assert "ssh_public_key" not in exc.value.args[0]


def test_the_parts_are_validated_by_their_modules_specs(module_main, host_root):
    with pytest.raises(Fail) as exc:
        module_main(power_backup, {"power": {**POWER, "ups": [{"name": "ups-a", "server": "s", "user": "m"}]}},
                    check_mode=True, root=host_root)
    assert "password" in exc.value.args[0]["msg"] and "power" in exc.value.args[0]["msg"]


# --- power and backup are plain dicts to AnsibleModule, checked by their modules' specs (issue #26)
PING, DAV, NUT_HOOK = "https://hc-ping.example/5f1c-token", "dav 'it\\'s' \"geheim\" $(reboot)", "https://hook.example/nut-token"


def secret_args():
    """Every secret both parts take: the NUT password and notification webhook, the failure webhook,
    the monitoring ping URL, a pull password with both kinds of quote (escaped in any repr)."""
    return {"power": {**POWER, "notify_webhook": NUT_HOOK},
            "backup": {**BACKUP, "failure_hook": {"webhook": WEBHOOK, "ping": PING}, "pull_passwords": {"cloud": DAV}}}


SECRETS = (SECRET, NUT_HOOK, WEBHOOK, PING, DAV)


@pytest.fixture
def run_real(module_on_host, host_root):
    return lambda args, check_mode=True: module_on_host(power_backup, args, check_mode=check_mode, root=host_root)


def test_the_parts_get_their_modules_defaults_and_types(module_main, monkeypatch, host_root):
    seen = []
    monkeypatch.setattr(backup_backend, "enforce", lambda host, params: seen.append(params) or {"controls": []})
    backup = {**BACKUP, "datasets": [{"dataset": "admin", "path": "/srv/admin", "keep_full": "6",
                                      "target": {"name": "nas", "receiver": "nas", "port": "2222"}}]}
    with pytest.raises(Exit):
        module_main(power_backup, {"backup": backup}, check_mode=True, root=host_root)
    (params,) = seen
    ds = params["datasets"][0]
    assert (ds["keep_full"], ds["target"]["port"]) == (6, 2222)  # converted as backup_job converts them
    assert ds["full_if_older_than"] == backup_backend.FULL_IF_OLDER_THAN and ds["sync_delay"] == 15
    assert ds["encrypted"] is False and ds["recipients"] == [] and ds["target"]["path"] == "/srv/backup"
    assert params["install_packages"] is True and params["window"] == {}


@pytest.mark.parametrize(("part", "bad", "message"), [
    ("backup", {"datasets": [{"path": "/srv/admin"}]}, "missing required arguments: dataset found in backup -> datasets"),
    ("backup", {"install_packages": "maybe"}, "argument 'install_packages' is of type str found in 'backup'"),
    ("power", {"mode": "cloud"}, "value of mode must be one of: netclient, netserver, standalone, got: cloud found"),
    ("power", {"colour": "blue"}, "module: power.colour. Supported parameters include: controls, deadtime"),
])
def test_bad_input_of_a_part_fails_naming_its_option_and_changes_nothing(run_real, host_root, part, bad, message):
    args = secret_args()
    args[part] = {**args[part], **bad}
    res, logged = run_real(args, check_mode=False)
    assert res["failed"] is True and message in res["msg"]
    assert "\n" not in res["msg"] and "Traceback" not in json.dumps(res)
    assert not (host_root / "etc").exists()  # not in check mode, and nothing was written
    assert not [s for s in SECRETS if s in json.dumps(res)]  # nor in the invocation it shows
    assert logged == []  # bad input is not logged as an invocation


def test_no_secret_reaches_the_result_its_invocation_or_the_hosts_log(run_real, monkeypatch):
    """AnsibleModule logs its invocation to the host's journal/syslog as it starts, before the
    parts' specs are read: power_backup starts with no_log and logs the line itself, masked."""
    monkeypatch.setattr(backup_backend, "enforce", fake_backup)
    res, logged = run_real(secret_args())
    hidden = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert res["invocation"]["module_args"]["backup"]["failure_hook"] == {"webhook": hidden, "ping": hidden}
    assert res["invocation"]["module_args"]["power"]["ups"][0]["password"] == hidden
    assert not [s for s in SECRETS if s in json.dumps(res)]
    (line,) = logged
    assert line.startswith("Invoked with power=") and "backup=" in line and "mon-fs" in line
    assert not [s for s in SECRETS if s in line], line
    assert "geheim" not in line and "5f1c-token" not in line  # nor a part of one, escaped or not


def test_a_failing_part_shows_no_secret_of_either(run_real):
    """The backup part fails on bad input its backend finds (the target is the host itself): neither
    its message, nor the result with its invocation, nor the host's log shows a secret of a part."""
    args = secret_args()
    args["backup"]["datasets"] = [{"dataset": "admin", "path": "/srv", "target": {"name": "nas", "receiver": "fs"}}]
    res, logged = run_real(args)
    assert res["failed"] is True and res["msg"].startswith("fs: datasets[0].target: 'nas' is this host itself")
    assert [c["id"] for c in res["controls"]] == ["power.ups"]
    assert not [s for s in SECRETS if s in json.dumps(res) or s in " ".join(logged)]
