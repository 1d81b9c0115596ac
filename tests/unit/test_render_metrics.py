"""Prometheus metrics (`ivpb audit --metrics FILE.prom`): read back by prometheus_client's text
parser, values equal the report's, label values of any text round-trip, the output is the same
bytes for the same report, and the file is written whole or not at all."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from ivpb import cli
from ivpb.render import metrics
from ivpb.statuses import STATUSES

from .evidence_keys import emitted
from .test_render_synthetic import synthetic

GENERATED = dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.UTC)  # the fixture's generated_at


def families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def samples(text: str, name: str) -> list:
    return families(text)[name].samples


def subjects(report: dict):
    """(host, site, result) of every result: a site's results have host ""."""
    for host, h in report["hosts"].items():
        for c in h["controls"]:
            yield host, h["site"] or "", c
    for site, s in report["sites"].items():
        for c in s["controls"]:
            yield "", site, c


def test_every_metric_has_help_and_type_and_the_parser_reads_them_all(report):
    text = metrics.render(report, "nl")
    found = families(text)
    assert set(found) == {
        "ivpb_audit_timestamp_seconds", "ivpb_audit_exit_code", "ivpb_host_reachable", "ivpb_control_status",
        "ivpb_evidence_age_seconds", "ivpb_clause_controls", "ivpb_clause_subjects", "ivpb_clause_subjects_compliant",
        "ivpb_results_by_basis",
    }
    lines = text.splitlines()
    for name, family in found.items():
        assert family.type == "gauge" and family.documentation, name
        assert f"# TYPE {name} gauge" in lines and any(line.startswith(f"# HELP {name} ") for line in lines)
        assert family.samples, name
    assert sum(len(f.samples) for f in found.values()) == sum(1 for line in lines if not line.startswith("#"))
    assert text.endswith("\n") and "\n\n" not in text


def test_the_status_of_each_control_is_a_state_set_equal_to_the_report(report):
    series = samples(metrics.render(report, "nl"), "ivpb_control_status")
    results = list(subjects(report))
    assert len(series) == len(STATUSES) * len(results) == 6 * 31
    got: dict[tuple, dict[str, float]] = {}
    for s in series:
        key = (s.labels["host"], s.labels["site"], s.labels["control"], s.labels["dataset"])
        got.setdefault(key, {})[s.labels["status"]] = s.value
    for host, site, c in results:
        states = got[(host, site, c["id"], c.get("dataset", ""))]
        assert set(states) == set(STATUSES)
        assert [status for status, value in states.items() if value == 1] == [c["status"]]
        assert sum(states.values()) == 1
    # a few by hand, from the fixture
    assert got[("fileserver", "hoofdgebouw", "backup.daily", "personeelsdossiers")]["drift"] == 1
    assert got[("fileserver", "hoofdgebouw", "backup.annual_full", "boekhouding")]["waived"] == 1
    assert got[("secretariaat", "hoofdgebouw", "power.ups", "")]["error"] == 1
    assert got[("", "kleuterschool", "fire.protection", "")]["missing"] == 1
    sla = [s for s in series if s.labels["control"] == "internet.sla"]
    assert {s.labels["advisory"] for s in sla} == {"true"}
    assert {s.labels["clause"] for s in sla} == {"§3"}


def test_evidence_ages_are_counted_from_the_reports_generation_time(report):
    text = metrics.render(report, "nl")
    ages = {
        (s.labels["host"] or s.labels["site"], s.labels["control"], s.labels["dataset"], s.labels["evidence"]): s.value
        for s in samples(text, "ivpb_evidence_age_seconds")
    }
    assert ages[("fileserver", "backup.sync_offsite", "leerlingenadministratie", "last_sync")] == 19  # 05:59:41
    assert ages[("fileserver", "backup.daily", "leerlingenadministratie", "last_backup")] == 29 * 3600 - 12
    assert ages[("fileserver", "backup.daily", "personeelsdossiers", "last_backup")] == 77 * 3600 - 9
    assert ages[("fileserver", "backup.best_practice", "boekhouding", "last_verify")] == (
        GENERATED - dt.datetime(2026, 10, 2, 10, 31, tzinfo=dt.UTC)
    ).total_seconds()
    assert ages[("kleuterschool", "fire.protection", "", "safety_plan")] == (
        GENERATED - dt.datetime(2023, 5, 10, tzinfo=dt.UTC)
    ).total_seconds()
    # every timestamp of the fixture's evidence, and nothing else
    assert len(ages) == 16  # fileserver 10, nas 4, the two sites
    assert {k[3] for k in ages} == {"last_backup", "last_annual", "last_verify", "last_sync", "safety_plan"}
    # a report made an hour later gives every age an hour more: the clock at render time plays no part
    later = copy.deepcopy(report)
    later["generated_at"] = "2026-11-30T07:00:00Z"
    for s in samples(metrics.render(later, "nl"), "ivpb_evidence_age_seconds"):
        key = (s.labels["host"] or s.labels["site"], s.labels["control"], s.labels["dataset"], s.labels["evidence"])
        assert s.value == ages[key] + 3600


def test_every_form_of_evidence_time(report):
    """Times inside a dict (a drill's start, a failure's {at, reason}), 'school year + ISO', one in
    the future (a negative age), and values that are no time (no series)."""
    rep = copy.deepcopy(report)
    c = rep["hosts"]["nas"]["controls"][6]
    c["evidence"] = {
        "last_drill": {"started": "2026-11-30T05:00:00Z", "result": "ok"},
        "verify_failed": {"at": "2026-11-30T05:30:00+01:00", "reason": "gpg: decryption failed"},
        "last_annual": "2026-2027 2026-09-06T02:00:00Z",
        "last_sync": "2026-11-30T06:10:00Z",
        "last_backup": "not a time",
        "run_failed": "disk full",
        "last_verify": None,
        "keep_full": 14,
    }
    ages = {
        s.labels["evidence"]: s.value
        for s in samples(metrics.render(rep, "en"), "ivpb_evidence_age_seconds")
        if s.labels["host"] == "nas" and s.labels["control"] == c["id"] and s.labels["dataset"] == c["dataset"]
    }
    assert ages == {
        "last_drill": 3600,
        "verify_failed": 3600 + 30 * 60,  # 04:30 UTC
        "last_annual": (GENERATED - dt.datetime(2026, 9, 6, 2, 0, tzinfo=dt.UTC)).total_seconds(),
        "last_sync": -600,
    }


def test_every_timestamp_key_the_code_emits_has_an_age():
    """A `last_*` or `*_failed` evidence key gets an age series by its name (a new one too); the
    others that carry a time are listed, and none of the list is a key no code emits."""
    keys = set(emitted().keys)
    timed = {k for k in keys if k.startswith("last_") or k.endswith("_failed")} | {"protected_generation", "updated"}
    assert {k for k in timed if not metrics.time_field(k)[0]} == set()
    assert metrics.time_field("last_immutable") == (True, None) and metrics.time_field("copy_failed") == (True, "at")
    assert metrics.time_field("keep_full") == (False, None) and metrics.time_field("last_drill") == (True, "started")
    assert set(metrics.EVIDENCE_TIMES) <= keys


def test_reachable_counts_and_audit_values(report):
    text = metrics.render(report, "nl")
    reachable = {s.labels["host"]: s.value for s in samples(text, "ivpb_host_reachable")}
    assert reachable == {h: int(v["reachable"]) for h, v in report["hosts"].items()}
    assert reachable["secretariaat"] == 0 and reachable["fileserver"] == 1
    nobody = copy.deepcopy(report)
    nobody["hosts"]["router"]["reachable"] = None  # no task ran on it: unknown, no series
    stored_nowhere = {**report["hosts"]["nas"]["controls"][1], "status": "missing", "evidence": {}}
    nobody["hosts"]["(inventaris)"] = {"inventory": True, "site": None, "reachable": None, "biv": {},
                                       "controls": [stored_nowhere]}
    text_nobody = metrics.render(nobody, "nl")
    assert {s.labels["host"] for s in samples(text_nobody, "ivpb_host_reachable")} == set(reachable) - {"router"}
    assert [(s.labels["site"], s.labels["dataset"], s.labels["status"])
            for s in samples(text_nobody, "ivpb_control_status") if s.labels["host"] == "(inventaris)" and s.value] == [
        ("", "fotos", "missing")]
    counts = {(s.labels["clause"], s.labels["status"]): s.value for s in samples(text, "ivpb_clause_controls")}
    for clause, row in report["summary"]["clauses"].items():
        for status in STATUSES:
            assert counts[(clause, status)] == row["counts"][status]
        assert samples(text, "ivpb_clause_subjects")
    assert {s.labels["clause"]: s.value for s in samples(text, "ivpb_clause_subjects_compliant")} == {
        clause: row["subjects_compliant"] for clause, row in report["summary"]["clauses"].items()
    }
    assert [s.value for s in samples(text, "ivpb_audit_exit_code")] == [report["exit_code"]] == [1]
    assert [s.value for s in samples(text, "ivpb_audit_timestamp_seconds")] == [GENERATED.timestamp()]


def test_the_same_report_gives_the_same_bytes_whatever_the_order_of_its_parts(report):
    text = metrics.render(report, "nl")
    assert metrics.render(report, "en") == text  # an interface for machines: no words of a language
    shuffled = copy.deepcopy(report)
    rng = random.Random(24)
    for part in ("hosts", "sites"):
        items = list(shuffled[part].items())
        rng.shuffle(items)
        shuffled[part] = dict(items)
        for subject in shuffled[part].values():
            rng.shuffle(subject["controls"])
    assert metrics.render(shuffled, "nl") == text
    # series sorted within each metric: by subject, control and data set, statuses in their one order
    status = [line for line in text.splitlines() if line.startswith("ivpb_control_status{")]
    keys = [line.split(',status="')[0] for line in status]
    assert keys == sorted(keys)
    assert [line.split('status="')[1].split('"')[0] for line in status[:6]] == list(STATUSES)


def test_a_result_reported_twice_is_one_series_with_the_most_urgent_status(report):
    """node_exporter refuses a whole file that repeats a series."""
    rep = copy.deepcopy(report)
    daily = next(c for c in rep["hosts"]["nas"]["controls"] if c["id"] == "backup.daily")
    rep["hosts"]["nas"]["controls"].append({**daily, "status": "error"})
    series = [s for s in samples(metrics.render(rep, "nl"), "ivpb_control_status")
              if s.labels["host"] == "nas" and s.labels["control"] == "backup.daily"]
    assert len(series) == 6 and [s.labels["status"] for s in series if s.value == 1] == ["error"]


# Any text a host, site or data set may be called, surrogates (non-UTF-8 names from a host) included.
ANY = st.text(alphabet=st.characters(codec=None, exclude_categories=()), min_size=1, max_size=30)


def as_written(value: str) -> str:
    """What a label value reads back as: itself, a lone surrogate as the text \\udcxx."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


@settings(max_examples=150, deadline=None)
@given(host=ANY, site=ANY, dataset=ANY, clause=ANY)
def test_any_label_value_round_trips_through_the_parser(report, tmp_path_factory, host, site, dataset, clause):
    nas = copy.deepcopy(report["hosts"]["nas"])
    for c in nas["controls"]:
        c["clause"] = clause
        if "dataset" in c:  # still one result per control and data set
            c["dataset"] = dataset + c["dataset"]
    rep = {**report, "hosts": {host: {**nas, "site": site}}, "sites": {},
           "summary": {"clauses": {clause: report["summary"]["clauses"]["§4"]}}}
    path = tmp_path_factory.mktemp("prom") / "ivpb.prom"
    cli.write_file(path, cli.render(rep, "metrics", "nl"))
    text = path.read_bytes().decode("utf-8")  # strict: valid UTF-8, as Prometheus requires
    found = families(text)
    assert set(found) == set(metrics.HELP)  # nothing in a value starts a metric of its own
    status = found["ivpb_control_status"].samples
    assert len(status) == 6 * len(nas["controls"])
    assert {s.labels["host"] for s in status} == {as_written(host)}
    assert {s.labels["site"] for s in status} == {as_written(site)}
    assert {s.labels["clause"] for s in status} == {as_written(clause)}
    assert {s.labels["dataset"] for s in status} == {as_written(c.get("dataset", "")) for c in nas["controls"]}
    assert [s.labels["host"] for s in found["ivpb_host_reachable"].samples] == [as_written(host)]
    assert {s.labels["clause"] for s in found["ivpb_clause_controls"].samples} == {as_written(clause)}
    assert len(found["ivpb_evidence_age_seconds"].samples) == 4  # nas: 3 last_backup, 1 last_annual


def test_label_escapes_are_exactly_those_of_the_format(report):
    rep = copy.deepcopy(report)
    rep["hosts"] = {'a\\b"c\nd\re}f,g=h i#': rep["hosts"]["router"]}
    line = next(line for line in metrics.render(rep, "nl").split("\n") if line.startswith("ivpb_host_reachable{"))
    assert line == 'ivpb_host_reachable{host="a\\\\b\\"c\\nd\re}f,g=h i#"} 1'


def test_written_whole_into_its_folder_mode_0644_no_temporary_file_left(report, tmp_path, monkeypatch):
    """At the moment of the rename the whole text is in a file beside the target whose name
    node_exporter does not read (*.prom), and the target still holds the previous audit."""
    folder = tmp_path / "node-exporter"
    target = folder / "ivpb.prom"
    text = cli.render(report, "metrics", "nl")
    umask = os.umask(0o077)  # even under a strict umask: node_exporter must be able to read it
    try:
        cli.write_file(target, "ivpb_audit_exit_code 0\n")
        seen = []
        real_replace = os.replace

        def replace(src, dst):
            seen.append((Path(src).name, Path(src).read_bytes(), Path(dst).read_bytes()))
            real_replace(src, dst)

        monkeypatch.setattr(os, "replace", replace)
        cli.write_file(target, text)
    finally:
        os.umask(umask)
    [(temp, during, before)] = seen
    assert temp.startswith(".ivpb.prom.") and not temp.endswith(".prom")
    assert during == text.encode() and before == b"ivpb_audit_exit_code 0\n"
    assert [p.name for p in folder.iterdir()] == ["ivpb.prom"]
    assert target.read_bytes() == text.encode()
    assert target.stat().st_mode & 0o777 == 0o644


def test_a_write_that_fails_half_way_leaves_the_previous_file_whole(report, tmp_path):
    """A real failure: the file size limit (RLIMIT_FSIZE) stops the write after 4 KiB."""
    target = tmp_path / "ivpb.prom"
    target.write_text("ivpb_audit_exit_code 0\n")
    text = cli.render(report, "metrics", "nl")
    assert len(text) > 20_000
    script = (
        "import resource, signal, sys\n"
        "from pathlib import Path\n"
        "from ivpb import cli\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "try:\n"
        "    cli.write_file(Path(sys.argv[1]), sys.stdin.read())\n"
        "except cli.UserError as exc:\n"
        "    sys.exit(str(exc))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(target)], input=text, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 1
    assert done.stderr.strip().startswith(f"{target}: cannot write the report: File too large")
    assert target.read_text() == "ivpb_audit_exit_code 0\n"
    assert [p.name for p in tmp_path.iterdir()] == ["ivpb.prom"]


def test_metrics_option_and_prom_extension():
    parse = cli.build_parser().parse_args
    args = parse(["audit", "-i", "inv", "-o", "a.json", "--metrics", "/var/lib/prometheus/node-exporter/ivpb.prom"])
    assert args.output == ["a.json", "/var/lib/prometheus/node-exporter/ivpb.prom"]
    assert cli.EXTENSIONS[".prom"] == "metrics"
    assert parse(["audit", "-i", "inv", "-o", "ivpb.PROM"]).output == ["ivpb.PROM"]


def test_metrics_option_refuses_a_name_node_exporter_would_not_read(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.build_parser().parse_args(["audit", "-i", "inv", "--metrics", "ivpb.txt"])
    assert exit_.value.code == cli.EXIT_USAGE
    assert "argument --metrics: ivpb.txt: expected a file name ending in .prom" in capsys.readouterr().err


def test_ivpb_audit_writes_the_metrics_of_its_own_report(tmp_path):
    """The real command, its check run a real ansible-playbook on this machine (one local host
    that stores nothing): the metrics file holds the metrics of the very report it wrote as JSON."""
    (tmp_path / "project" / "playbooks").mkdir(parents=True)
    (tmp_path / "project" / "playbooks" / "enforce.yml").write_text(
        "- name: Reach every host\n  hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - name: Reach\n      ansible.builtin.raw: 'true'\n      check_mode: false\n      changed_when: false\n"
    )
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "ivpb_site": "school"}
    (tmp_path / "hosts.yml").write_text(json.dumps({"all": {"vars": {"ivpb_sites": {"school": {}}},
                                                            "hosts": {"here": host}}}))
    out = tmp_path / "out"
    code = cli.main(["audit", "-i", str(tmp_path / "hosts.yml"), "--project", str(tmp_path / "project"), "-q",
                     "-o", str(out / "audit.json"), "--metrics", str(out / "ivpb.prom")])
    assert code == 0
    report = json.loads((out / "audit.json").read_text())
    data = (out / "ivpb.prom").read_bytes()
    assert data == metrics.render(report, "nl").encode()
    assert samples(data.decode(), "ivpb_host_reachable")[0].labels == {"host": "here"}
    assert sorted(p.name for p in out.iterdir()) == ["audit.json", "ivpb.prom"]
    assert (out / "ivpb.prom").stat().st_mode & 0o777 == 0o644


def test_a_thousand_hosts(capsys):
    report = synthetic()
    start = time.perf_counter()
    text = metrics.render(report, "nl")
    elapsed = time.perf_counter() - start
    n = sum(len(h["controls"]) for h in report["hosts"].values()) + sum(len(s["controls"]) for s in report["sites"].values())
    assert sum(1 for line in text.split("\n") if line.startswith("ivpb_control_status{")) == 6 * n
    with capsys.disabled():
        print(f"\nmetrics: 1000 hosts, {n} results rendered in {elapsed:.2f} s ({len(text) / 1e6:.1f} MB)")
