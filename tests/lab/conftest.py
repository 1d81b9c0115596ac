"""One lab bring-up for the lab tests that need the example school running (issue #21).

`demo_lab` runs `lab/demo` (what `make demo` runs, the README's first command) from a lab that
was down: validate, plan, `lab/lab up`, the audit before, enforce.yml, the night's jobs, a real
restore drill of every stored data set with the lab's escrow key, the herstelplan, the audit
after. The tests that share it (test_audit_faults, test_enforce_audit, test_receiver_attacks,
test_restore) start from that enforced, backed-up and drilled school, and each puts back what it
breaks. The lab goes down at the end of the session.

Run them under the shared lab lock:
    flock -o /tmp/ivpb-lab.lock .venv/bin/pytest -q -m lab tests/lab
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ESCROW = ROOT / ".lab" / "escrow-gnupg"  # the lab's escrow key, secret half (lab/lib.sh)


def escrow_fingerprint() -> str:
    """The fingerprint of the lab's escrow key, the example school's directie key in the lab."""
    out = subprocess.run(["gpg", "--homedir", str(ESCROW), "--with-colons", "--list-keys"], capture_output=True,
                         text=True, check=True).stdout
    return next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))


def lab_env(gnupghome: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["CONTAINERS_CONF"] = str(ROOT / "lab" / "containers.conf")
    env["ANSIBLE_NOCOLOR"] = "1"
    env.pop("PASSPHRASE", None)
    if gnupghome is not None:
        env["GNUPGHOME"] = str(gnupghome)
    return env


@pytest.fixture(scope="session")
def demo_lab() -> subprocess.CompletedProcess[str]:
    """lab/demo from a lab that was down; its output (exit code, stdout) for the demo's own test."""
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed: run `make image` (installs it) first")
    down = subprocess.run(["lab/lab", "down"], cwd=ROOT, env=lab_env(), capture_output=True, text=True,
                          timeout=600, check=False)
    assert down.returncode == 0, down.stderr
    demo = subprocess.run(["lab/demo"], cwd=ROOT, env=lab_env(), capture_output=True, text=True, timeout=3600,
                          check=False)
    yield demo
    subprocess.run(["lab/lab", "down"], cwd=ROOT, env=lab_env(), capture_output=True, text=True, timeout=600,
                   check=False)
