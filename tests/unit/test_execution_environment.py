"""The AWX / Automation Platform execution environment: `ansible-builder create` must succeed
and carry the ivpb package and the collection, offline (building the image needs a registry: not
here; the collection's own declaration is tests/unit/test_collection_package.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

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
    build = tmp_path / "ee" / "_build"
    # The collection is installed by ansible-galaxy from its source folder (no Galaxy server), and
    # its declared dependency, the ivpb package, is built into the wheel the builder stage finds.
    assert yaml.safe_load((build / "requirements.yml").read_text()) == {
        "collections": [{"name": "/build/collection", "type": "dir"}]}
    assert "ansible-galaxy collection install" in containerfile
    assert "pip wheel --no-cache-dir --no-deps -w /build/wheels /build/ivpb" in containerfile
    assert containerfile.index("ENV PIP_FIND_LINKS=/build/wheels") < containerfile.index("introspect.py introspect")
    assert (build / "ivpb" / "src" / "ivpb" / "policies" / "backupbeleid.yml").is_file()
    assert (build / "collection" / "galaxy.yml").is_file()
    assert (build / "collection" / "plugins" / "action" / "plan.py").is_file()
    assert (build / "collection" / "meta" / "execution-environment.yml").is_file()
