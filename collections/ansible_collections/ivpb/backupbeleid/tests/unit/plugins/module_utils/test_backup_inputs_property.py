"""Property-based (issue #14) for the §4 modules, called directly (no plan step, no schema): a
hostile value either fails the module's own check with one line, or is written so that the file
parses back to exactly the intended value - one cron entry per job running the job script with
the intended action and data set, the sourced config read back by bash, lsyncd's Lua strings
intact, one authorized_keys line per key with its restrictions."""

from __future__ import annotations

import re
import subprocess

from ansible_collections.ivpb.backupbeleid.plugins.module_utils import backup_job as bj
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import backup_receiver as br
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import offsite_sync as osync
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import ModuleFailure
from ansible_collections.ivpb.backupbeleid.tests.unit.parsers import lua_unquote
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import asked
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HOSTILE = st.text(max_size=30) | st.sampled_from([
    "a\nb", "ds;curl e|sh;#", "x y", "../x", "-oProxyCommand=x", "$(reboot)", "`id`", "'", "\u2028",
    "\udcff", "", "/srv/a\n* * * * * root id", "/srv/it's", '/srv/a"b', "/srv/a]]b", "/srv/a\\", "/srv/ü",
])
CRON_LINE = re.compile(r"^[0-9,]+ [0-9*]+ \* \* [0-9*] root /usr/local/lib/ivpb/ivpb-backup (run|annual|verify|heartbeat) (\S+)$")


def params(ds, path, target="nas"):
    return {"hostname": "fileserver",
            "controls": asked("backup.daily", "backup.annual_full", "backup.best_practice", "backup.sync_offsite",
                              datasets=[ds]),
            "datasets": [{"dataset": ds, "path": path, "target": {"name": target, "receiver": "nas"},
                          "sync": {"name": "off", "receiver": "offsite", "path": "/srv/offsite"}}],
            "window": {"start": "22:00", "end": "02:00"}}


def one_line(err):
    assert "\n" not in str(err) and str(err)


@SETTINGS
@given(ds=HOSTILE | st.from_regex(r"[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True), path=HOSTILE | st.just("/srv/data"))
def test_data_set_and_path_reach_cron_bash_and_lua_intact_or_not_at_all(ds, path):
    try:
        jobs = bj.plan_jobs(params(ds, path))
    except ModuleFailure as e:
        one_line(e)
        return
    if not jobs:  # a data set that no planned control names gets nothing on the host
        assert not ds
        return
    cron = [ln for ln in bj.render_crontab(jobs).splitlines() if ln and not ln.startswith("#") and "=" not in ln]
    assert len(cron) == 4 and all(CRON_LINE.match(ln) and CRON_LINE.match(ln).group(2) == ds for ln in cron), cron
    conf = bj.render_dataset_conf(jobs[0])
    out = subprocess.run(["bash", "-c", f'{conf}\nprintf "%s\\0%s\\0%s" "$DATASET" "$SOURCE" "$TARGET_DIR"'],
                         capture_output=True, check=True).stdout.decode("utf-8", "surrogateescape").split("\0")
    assert out == [ds, jobs[0]["source"], ds]
    lua = osync.render([{"dataset": ds, "source": jobs[0]["source"], "delay": 5}], bj.SCRIPT_PATH)
    line = [ln for ln in lua.splitlines() if ln.startswith("sync {")]
    assert len(line) == 1
    literals = re.findall(r'"(?:[^"\\]|\\.)*"', line[0])
    assert [lua_unquote(x) for x in literals] == [ds, jobs[0]["source"]]


@SETTINGS
@given(hook=st.fixed_dictionaries({}, optional={"webhook": HOSTILE, "mail": HOSTILE, "command": HOSTILE}))
def test_the_failure_hook_is_checked_before_it_is_written(hook):
    try:
        bj.check_hook(hook)
    except ModuleFailure as e:
        one_line(e)
        return
    conf = bj.render_backup_conf(hook)
    out = subprocess.run(["bash", "-c", f'{conf}\nprintf "%s\\0%s\\0%s" "$HOOK_WEBHOOK" "$HOOK_MAIL" "$HOOK_COMMAND"'],
                         capture_output=True, check=True).stdout.decode("utf-8", "surrogateescape").split("\0")
    assert out == [hook.get("webhook") or "", hook.get("mail") or "", hook.get("command") or ""]
    assert not (hook.get("mail") or "x").startswith("-")


@SETTINGS
@given(key=HOSTILE | st.builds(lambda body, comment: f"ssh-ed25519 {body}{comment}",
                               st.from_regex(r"[A-Za-z0-9+/]{20,68}={0,2}", fullmatch=True), HOSTILE))
def test_an_authorized_keys_entry_is_one_restricted_line_or_refused(key):
    try:
        line = br.authorized_line(key)
    except ModuleFailure as e:
        one_line(e)
        return
    assert line.endswith("\n") and line.count("\n") == 1
    assert line.startswith('restrict,command="/usr/local/lib/ivpb/backup-receiver gate" ssh-ed25519 ')
    assert '"' not in line.split('gate" ', 1)[1]


@SETTINGS
@given(client=HOSTILE, ds=HOSTILE, path=HOSTILE | st.just("/srv/backup"))
def test_receiver_names_become_paths_and_users_only_when_safe(client, ds, path):
    try:
        entries = br.wanted({"targets": [{"name": "nas", "path": path}],
                             "clients": [{"client": client, "target": "nas", "datasets": {ds: {}}}]})
    except ModuleFailure as e:
        one_line(e)
        return
    (user, entry), = entries
    assert re.fullmatch(r"ivpb-[a-z0-9-]+", user) and len(user) <= 32
    assert entry["area"] == f"{path.rstrip('/')}/{client}" and "/" not in client and ".." not in client.split(".")
    assert re.fullmatch(r"[a-z0-9][a-z0-9_-]*", ds)
