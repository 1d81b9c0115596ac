"""The audit history on the lab's real hosts (issue #24).

On the example school as lab/demo left it (enforced and compliant; tests/lab/conftest.py): an
audit is recorded, nas's upsmon is stopped by hand, a second audit is recorded, and `ivpb diff`
names exactly that fault (nas, power.ups: compliant -> drift) and exits 2; `ivpb history` lists
both audits with the inventory's git commit, and the second audit's HTML shows the trend. upsmon
is started again whatever happens, so that the tests after this one find the lab healthy.

Run under the shared lab lock:
    flock -o /tmp/ivpb-lab.lock .venv/bin/pytest -q -m lab tests/lab/test_history.py
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.lab.test_enforce_audit import INV, on, run

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def lab(demo_lab):
    return demo_lab


def recorded_audit(history: Path, report: Path, *outputs: Path) -> dict:
    """ivpb audit recording in history; its JSON report."""
    extra = [arg for out in outputs for arg in ("-o", str(out))]
    proc = run("ivpb", "audit", *INV, "-q", "--history", str(history), "-o", str(report), *extra)
    assert proc.returncode in (0, 1, 2), proc.stderr
    data = json.loads(report.read_text())
    assert data["exit_code"] == proc.returncode
    return data


def nas_ups(report: dict) -> dict:
    return next(c for c in report["hosts"]["nas"]["controls"] if c["id"] == "power.ups")


def test_ivpb_diff_names_exactly_the_fault_made_between_two_audits(lab, tmp_path):
    history = tmp_path / "history.sqlite"
    on("nas", "systemctl start nut-monitor")  # as the demo left it, whatever a test before did
    first = recorded_audit(history, tmp_path / "first.json")
    assert nas_ups(first)["status"] == "compliant", nas_ups(first)
    try:
        on("nas", "systemctl stop nut-monitor")
        second = recorded_audit(history, tmp_path / "second.json", tmp_path / "second.html")
    finally:
        on("nas", "systemctl start nut-monitor")
    assert nas_ups(second)["status"] == "drift", nas_ups(second)
    assert second["exit_code"] == 2

    diff = run("ivpb", "diff", *INV, "--history", str(history), "--format", "json")
    assert diff.returncode == 2, diff.stderr
    doc = json.loads(diff.stdout)
    assert (doc["from"]["id"], doc["to"]["id"], doc["exit_code"]) == (1, 2, 2)
    assert [(c["subject"], c["control"]) for c in doc["new_failures"]] == [("nas", "power.ups")]
    assert (doc["new_failures"][0]["before"], doc["new_failures"][0]["after"]) == ("compliant", "drift")
    assert doc["fixed"] == [] and doc["appeared"] == [] and doc["disappeared"] == []

    text = run("ivpb", "diff", *INV, "--history", str(history))
    assert text.returncode == 2, text.stderr
    went_wrong = text.stdout.split("Nieuw niet in orde (1):\n")[1].split("\n\n")[0].splitlines()
    assert [line.split()[:3] for line in went_wrong[2:]] == [["nas", "§2", "power.ups"]]
    assert "Resultaat: 1 maatregel(en) gingen van in orde naar niet in orde (exit 2)." in text.stdout

    listed = run("ivpb", "history", *INV, "--history", str(history), "--format", "json")
    assert listed.returncode == 0, listed.stderr
    commit = run("git", "rev-parse", "HEAD").stdout.strip() or None
    assert [(e["id"], e["git_commit"], e["exit_code"]) for e in json.loads(listed.stdout)] == [
        (1, commit, first["exit_code"]), (2, commit, 2)]
    page = (tmp_path / "second.html").read_text()
    assert page.count('<svg class="trend"') == 5 and "in de laatste 2 audits van deze hosts" in page
