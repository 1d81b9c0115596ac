"""Lab faults end in one clear line, never a stack trace (issue 3, "Bad input and faults")."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "lab" / "lab"
BUILD = ROOT / "lab" / "build-image"
HIDDEN = {"podman", "runc", "debootstrap"}


def _run(args, env=None):
    return subprocess.run(
        [str(a) for a in args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _one_clear_line(proc) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode != 0
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    return lines[0]


@pytest.fixture
def path_without_podman(tmp_path: Path) -> str:
    """A PATH holding every command of this machine except podman, runc and debootstrap."""
    fake = tmp_path / "bin"
    fake.mkdir()
    for d in ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            target = fake / name
            if name not in HIDDEN and not target.exists() and not target.is_symlink():
                target.symlink_to(os.path.join(d, name))
    return str(fake)


def test_missing_podman_says_what_to_install(path_without_podman):
    env = dict(os.environ, PATH=path_without_podman, LAB_NO_INSTALL="1")
    line = _one_clear_line(_run([BUILD], env=env))
    assert "podman" in line and "apt-get install -y podman runc debootstrap" in line


def test_unknown_host_is_named(tmp_path):
    line = _one_clear_line(_run([LAB, "ssh", "no-such-host"]))
    assert "no-such-host" in line and "fileserver" in line


def test_up_rejects_unknown_host_before_starting_anything():
    line = _one_clear_line(_run([LAB, "up", "no-such-host"]))
    assert "unknown lab host 'no-such-host'" in line
