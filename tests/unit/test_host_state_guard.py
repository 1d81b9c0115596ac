"""The guard of conftest.py (issue #21): a unit test that reads this machine's own state fails,
even when the code under test swallows the error; one that reads a test root of its own passes.
Run as a pytest session of its own in a folder holding the guard and three tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = '''
import os

def test_reads_the_machines_dpkg_status():
    with open("/var/lib/dpkg/status", encoding="utf-8", errors="replace") as f:
        f.read(10)

def test_swallows_the_error_but_still_fails():
    try:
        os.listdir("/etc/nut")
    except Exception:
        pass

def test_reads_a_root_of_its_own(tmp_path):
    status = tmp_path / "var/lib/dpkg/status"
    status.parent.mkdir(parents=True)
    status.write_text("Package: nut-client\\n")
    assert status.read_text().startswith("Package")
'''


def test_the_guard_fails_tests_that_read_host_state_and_only_those(tmp_path):
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_reads.py").write_text(TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf",
                           "-c", str(tmp_path / "pytest.ini"), str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    out = proc.stdout
    assert proc.returncode == 1, out
    assert "FAILED test_reads.py::test_reads_the_machines_dpkg_status" in out, out
    assert "FAILED test_reads.py::test_swallows_the_error_but_still_fails" in out, out
    assert "read this machine's own /var/lib/dpkg/status" in out and "os.listdir /etc/nut" in out, out
    assert "1 passed" in out and "2 failed" in out, out
