"""Waivers in validation (issue #13): no waiver runs longer than the policy allows (one year by
default, `evidence.waiver_max_days`), and the problem names the waiver; ivpb validate says so in
one line and exits 1. The day is injected where the bound is tested exactly."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ivpb.checks.waivers import too_long
from ivpb.inventory import load_inventory
from ivpb.policy import load_policy
from ivpb.validate import validate
from tests.conftest import EXAMPLE

TODAY = dt.date(2026, 11, 30)


def waiver(expires: str, **extra) -> dict:
    return {"control": "backup.daily", "host": "fileserver", "justification": "nieuwe NAS wordt in januari geplaatst",
            "approver": "directie", "expires": expires, **extra}


@pytest.mark.parametrize(
    ("expires", "verdict"),
    [
        ("2026-12-31", None),
        ("2027-11-30", None),  # exactly 365 days
        ("2027-12-01", "366 days from 2026-11-30; the policy allows at most 365 days (until 2027-11-30)"),
        ("9999-12-31", "runs until 9999-12-31"),
        ("2025-01-01", None),  # expired: the audit says so, it is not too long
    ],
)
def test_waiver_length_against_the_policy_maximum(expires, verdict):
    got = too_long(waiver(expires), TODAY, 365)
    assert got is None if verdict is None else verdict in got


def test_the_maximum_is_the_policys():
    assert load_policy().evidence["waiver_max_days"] == 365
    assert too_long(waiver("2028-06-01"), TODAY, 730) is None


def _inventory_with(tmp_path: Path, waivers: list[dict]) -> Path:
    inv = tmp_path / "school"
    shutil.copytree(EXAMPLE, inv)
    (inv / "group_vars" / "all" / "waivers.yml").write_text(yaml.safe_dump({"ivpb_waivers": waivers}))
    return inv


def test_a_waiver_until_9999_is_a_validation_error_naming_it(tmp_path):
    inv = _inventory_with(tmp_path, [waiver("2027-01-31"), waiver("9999-12-31", dataset="leerlingenadministratie")])
    problems = [str(p) for p in validate(load_inventory([str(inv)]), load_policy())]
    assert len(problems) == 1, problems
    assert "ivpb_waivers[1].expires" in problems[0]
    assert "backup.daily for fileserver runs until 9999-12-31" in problems[0]


def test_ivpb_validate_says_it_in_one_line_and_exits_1(tmp_path):
    inv = _inventory_with(tmp_path, [waiver("9999-12-31")])
    proc = subprocess.run([str(Path(sys.executable).parent / "ivpb"), "validate", "-i", str(inv)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out
    lines = [line for line in out.splitlines() if "ivpb_waivers[0].expires" in line]
    assert len(lines) == 1 and "9999-12-31" in lines[0]
