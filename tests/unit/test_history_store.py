"""The audit history's file (issue #24): append-only, ivpb's own, safe with two audits at once; an
audit is recorded with the inventory's git commit and its --limit, and `ivpb history` lists them."""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import subprocess
import sys
import time
from argparse import Namespace
from pathlib import Path

import pytest

from ivpb.cli import main
from ivpb.errors import UserError
from ivpb.history.commands import history_path, inventory_commit, open_for_audit, record
from ivpb.history.store import Store

from .test_render_synthetic import load_example, summarize

ROOT = Path(__file__).resolve().parents[2]


def report_at(when: str, **status: str) -> dict:
    """The example report at a fixed time; status: host -> the status of its first control."""
    report = copy.deepcopy(load_example())
    report["generated_at"] = when
    for host, value in status.items():
        report["hosts"][host]["controls"][0]["status"] = value
    return summarize(report)


def audit_args(inventory: Path, **options) -> Namespace:
    """What ivpb audit's command line hands the history."""
    return Namespace(**{"inventory": [str(inventory)], "history": None, "no_history": False, "limit": None,
                        "quiet": True, **options})


def git(cwd: Path, *args: str) -> str:
    env = {"PATH": os.environ["PATH"], "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
           "GIT_AUTHOR_DATE": "2026-11-30T06:00:00Z", "GIT_COMMITTER_DATE": "2026-11-30T06:00:00Z"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def inventory(tmp_path) -> Path:
    """An inventory directory in a git work tree of its own, one commit."""
    inv = tmp_path / "school" / "inventory"
    inv.mkdir(parents=True)
    (inv / "hosts.yml").write_text("all:\n  hosts:\n    nas:\n")
    git(tmp_path / "school", "init", "-q")
    git(tmp_path / "school", "add", ".")
    git(tmp_path / "school", "commit", "-q", "-m", "inventory")
    return inv


def test_the_history_is_beside_the_inventorys_evidence_unless_a_path_is_given(tmp_path):
    (tmp_path / "lab" / ".evidence").mkdir(parents=True)
    sources = [str(tmp_path / "example"), str(tmp_path / "lab")]
    assert history_path(sources, None) == tmp_path / "lab" / ".evidence" / "history.sqlite"
    assert history_path(sources, str(tmp_path / "h.sqlite")) == tmp_path / "h.sqlite"
    with pytest.raises(UserError, match="--history PATH"):
        history_path(["nas,fileserver,"], None)


def test_two_audits_recorded_are_listed_with_the_inventorys_commit(inventory, capsys):
    head = git(inventory, "rev-parse", "HEAD")
    args = audit_args(inventory)
    for when in ("2026-11-29T06:00:00Z", "2026-11-30T06:00:00Z"):
        trend = record(open_for_audit(args), args, report_at(when, nas="drift"))
    assert (inventory / ".evidence" / "history.sqlite").is_file()
    assert [e["generated_at"] for e in trend] == ["2026-11-29T06:00:00Z", "2026-11-30T06:00:00Z"]
    assert main(["history", "-i", str(inventory), "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(e["id"], e["generated_at"], e["git_commit"], e["limit"]) for e in listed] == [
        (1, "2026-11-29T06:00:00Z", head, None), (2, "2026-11-30T06:00:00Z", head, None)]
    assert listed[1]["counts"] == report_at("x", nas="drift")["summary"]["totals"]
    assert listed[1]["exit_code"] == 1  # the example has an unreachable host
    assert main(["history", "-i", str(inventory)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["Nr", "Datum", "Commit"]
    assert table[2].split()[:6] == ["1", "29", "november", "2026,", "06:00", "UTC"] and head[:12] in table[2]


def test_the_whole_report_is_kept(tmp_path):
    report = report_at("2026-11-30T06:00:00Z")
    report["hosts"]["nas"]["controls"][0]["detail"] = "bestand \udcff van de host"  # a non-UTF-8 name from a host
    store = Store.open(tmp_path / "h.sqlite", create=True)
    entry = store.append(report, None, "nas")
    assert store.report(entry.id) == report
    assert (store.entry(entry.id).limit, store.entry(entry.id).commit) == ("nas", None)


def test_no_commit_outside_a_git_work_tree_or_for_a_host_list(tmp_path):
    (tmp_path / "inv").mkdir()
    assert inventory_commit([str(tmp_path / "inv")]) is None
    assert inventory_commit(["nas,fileserver,"]) is None


def test_the_store_refuses_to_change_or_remove_an_audit(tmp_path):
    store = Store.open(tmp_path / "h.sqlite", create=True)
    store.append(report_at("2026-11-30T06:00:00Z"), "abc", None)
    store.close()
    db = sqlite3.connect(tmp_path / "h.sqlite")
    for statement in ("UPDATE audits SET exit_code = 0", "UPDATE audits SET report = x''", "DELETE FROM audits"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(statement)
    db.close()
    store = Store.open(tmp_path / "h.sqlite")
    assert [(e.id, e.exit_code, e.commit) for e in store.entries()] == [(1, 1, "abc")]
    assert store.report(1)["generated_at"] == "2026-11-30T06:00:00Z"


@pytest.mark.parametrize(("content", "reason"), [
    (b"not a database at all\n" * 200, "not an ivpb audit history: file is not a database"),
    ("sqlite", "not an ivpb audit history (a SQLite database of something else)"),
])
def test_a_file_that_is_not_an_ivpb_history_is_one_line_and_left_as_it_was(tmp_path, capsys, content, reason):
    path = tmp_path / ".evidence" / "history.sqlite"
    path.parent.mkdir()
    if content == "sqlite":
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE photos (name TEXT)")
        db.commit()
        db.close()
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    for argv in (["history", "-i", str(tmp_path)], ["diff", "-i", str(tmp_path / "x"), "--history", str(path)]):
        assert main(argv) == 1
        err = capsys.readouterr().err.splitlines()
        assert err == [err[0]] and err[0].startswith(f"{path}: {reason}"), err
    with pytest.raises(UserError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        open_for_audit(audit_args(tmp_path, history=str(path)))
    assert path.read_bytes() == before


def test_a_damaged_history_is_one_line(tmp_path, capsys):
    path = tmp_path / "h.sqlite"
    store = Store.open(path, create=True)
    for day in range(1, 4):
        store.append(report_at(f"2026-11-0{day}T06:00:00Z"), None, None)
    store.close()
    data = bytearray(path.read_bytes())
    page = 4096
    data[page:] = b"\xa5" * (len(data) - page)  # everything after the first page
    path.write_bytes(bytes(data))
    assert main(["history", "-i", str(tmp_path), "--history", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"{path}: "), err
    assert "Traceback" not in err[0]


def test_no_history_yet_is_one_line(tmp_path, capsys):
    assert main(["history", "-i", str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"{tmp_path / '.evidence' / 'history.sqlite'}: no audit history here "
                   "(ivpb audit records one; --history PATH reads another)"]
    assert not (tmp_path / ".evidence").exists()


def test_no_history_records_nothing(tmp_path):
    args = audit_args(tmp_path, no_history=True)
    assert record(open_for_audit(args), args, report_at("2026-11-30T06:00:00Z")) is None
    assert not (tmp_path / ".evidence").exists()


WRITER = """
import json, sys, time
from pathlib import Path
from ivpb.history.store import Store
report = json.loads(Path(sys.argv[2]).read_text())
go = Path(sys.argv[2]).with_name("go")
Path(f"{go}.{sys.argv[3]}").touch()
while not go.exists():
    time.sleep(0.01)
for n in range(int(sys.argv[4])):
    store = Store.open(Path(sys.argv[1]), create=True)
    report["generated_at"] = f"2026-12-0{sys.argv[3]}T06:{n // 60:02d}:{n % 60:02d}Z"
    store.append(report, None, None)
    store.close()
"""


def test_two_audits_recording_at_once_both_land_whole(tmp_path):
    """Two processes make the same new history and append to it at once: every report is there,
    each readable, ids one after the other."""
    source = tmp_path / "report.json"
    source.write_text(json.dumps(report_at("2026-11-30T06:00:00Z")))
    path = tmp_path / "new" / "history.sqlite"
    n = 40
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(source), str(w), str(n)], env=env,
                                stderr=subprocess.PIPE, text=True) for w in (1, 2)]
    while not all((tmp_path / f"go.{w}").exists() for w in (1, 2)):  # both started: let them go at once
        assert all(w.poll() is None for w in writers), [w.communicate()[1] for w in writers]
        time.sleep(0.01)
    (tmp_path / "go").touch()
    errors = [w.communicate(timeout=120)[1] for w in writers]
    assert [w.returncode for w in writers] == [0, 0], errors
    store = Store.open(path)
    entries = store.entries()
    assert [e.id for e in entries] == list(range(1, 2 * n + 1))
    assert sorted(e.generated_at for e in entries) == sorted(
        f"2026-12-0{w}T06:{k // 60:02d}:{k % 60:02d}Z" for w in (1, 2) for k in range(n))
    assert all(store.report(e.id)["generated_at"] == e.generated_at for e in entries)
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)
