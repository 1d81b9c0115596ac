"""A molecule verify step must fail when the state it checks is broken (issue 3, "Done when").

Runs the lab smoke scenario (molecule/lab) for real: create + converge, verify passes, then the
service is stopped on one host behind Ansible's back, and `molecule verify` must exit non-zero
and name what is wrong. The scenario is destroyed in any case.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = "lab"
BROKEN_HOST = f"ivpb-mol-{SCENARIO}-fileserver"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["CONTAINERS_CONF"] = str(ROOT / "lab" / "containers.conf")
    env["ANSIBLE_NOCOLOR"] = "1"
    env["NO_COLOR"] = "1"
    return env


def _run(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=timeout, check=False
    )


def _tail(proc: subprocess.CompletedProcess[str], n: int = 40) -> str:
    return "\n".join((proc.stdout + proc.stderr).splitlines()[-n:])


@pytest.fixture
def converged_lab_scenario():
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed: run `make image` (installs it) first")
    _run("molecule", "destroy", "-s", SCENARIO)
    try:
        conv = _run("molecule", "converge", "-s", SCENARIO)
        assert conv.returncode == 0, f"molecule converge -s {SCENARIO} failed:\n{_tail(conv)}"
        yield
    finally:
        _run("molecule", "destroy", "-s", SCENARIO)


def test_verify_passes_then_fails_when_service_is_stopped(converged_lab_scenario):
    good = _run("molecule", "verify", "-s", SCENARIO)
    assert good.returncode == 0, f"verify fails on a converged scenario:\n{_tail(good)}"

    broken = _run("podman", "exec", BROKEN_HOST, "systemctl", "stop", "ivpb-smoke.service")
    assert broken.returncode == 0, broken.stderr

    bad = _run("molecule", "verify", "-s", SCENARIO)
    output = bad.stdout + bad.stderr
    assert bad.returncode != 0, f"verify passed although ivpb-smoke is stopped:\n{_tail(bad)}"
    assert "is-active=inactive" in output, _tail(bad)
