"""The AWX / Automation Platform execution environment: `ansible-builder create` must succeed
and carry the ivpb package and the collection (building the image needs a registry: not here)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_ansible_builder_create(tmp_path):
    builder = shutil.which("ansible-builder") or str(Path(__import__("sys").executable).parent / "ansible-builder")
    if not Path(builder).exists():
        pytest.fail("ansible-builder is not installed: pip install -e '.[test]'")
    # The file's name is given: by default it follows the container runtime this machine has.
    proc = subprocess.run([builder, "create", "-f", str(ROOT / "execution-environment.yml"), "-c", str(tmp_path / "ee"),
                           "--output-filename", "Containerfile"],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    containerfile = (tmp_path / "ee" / "Containerfile").read_text()
    assert "pip install --no-cache-dir /tmp/ivpb" in containerfile
    build = tmp_path / "ee" / "_build"
    assert (build / "ivpb" / "src" / "ivpb" / "policies" / "backupbeleid.yml").is_file()
    assert (build / "collection" / "galaxy.yml").is_file()
    assert (build / "collection" / "plugins" / "action" / "plan.py").is_file()
