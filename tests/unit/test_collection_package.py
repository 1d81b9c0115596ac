"""The collection on its own (issue #25): `ansible-galaxy collection build` and `install` into an
empty path give the playbooks (run by FQCN), the roles, the modules and the actions with their
Python dependency declared for an execution environment; one version for the collection, the
Python package and the EE. Offline: no Galaxy server is asked."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = ROOT / "collections" / "ansible_collections" / "ivpb" / "backupbeleid"
BIN = Path(sys.executable).parent


def galaxy_version() -> str:
    return yaml.safe_load((COLLECTION / "galaxy.yml").read_text())["version"]


def test_one_version_for_the_collection_the_python_package_and_the_ee():
    version = galaxy_version()  # the owner
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"] == version
    pins = [line for line in (COLLECTION / "requirements.txt").read_text().splitlines()
            if line and not line.startswith("#")]
    assert pins == [f"ivpb=={version}"]
    assert metadata.version("ivpb") == version  # what `ivpb --version` prints (make venv reinstalls)


def env_only(collections: Path) -> dict[str, str]:
    """An environment that sees only the collections under `collections` (no ansible.cfg, no ~/.ansible)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", ANSIBLE_COLLECTIONS_PATH=str(collections),
               ANSIBLE_NOCOLOR="1", ANSIBLE_HOME=str(collections.parent / "ansible-home"))
    return env


def install_built_collection(work: Path) -> Path:
    """`ansible-galaxy collection build`, then `install` into the empty path work/collections; that path."""
    work.mkdir(parents=True, exist_ok=True)
    env = env_only(work / "collections")
    build = subprocess.run([BIN / "ansible-galaxy", "collection", "build", str(COLLECTION), "--output-path",
                            str(work / "dist")], cwd=work, env=env, capture_output=True, text=True, timeout=300,
                           check=False)
    assert build.returncode == 0, build.stderr
    tarball = work / "dist" / f"ivpb-backupbeleid-{galaxy_version()}.tar.gz"
    install = subprocess.run([BIN / "ansible-galaxy", "collection", "install", "--offline", "-p",
                              str(work / "collections"), str(tarball)], cwd=work, env=env, capture_output=True,
                             text=True, timeout=300, check=False)
    assert install.returncode == 0, install.stdout + install.stderr
    return work / "collections"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    return install_built_collection(tmp_path_factory.mktemp("collection"))


def test_the_built_collection_holds_everything_an_ee_needs(installed):
    root = installed / "ansible_collections" / "ivpb" / "backupbeleid"
    for path in ("playbooks/enforce.yml", "playbooks/audit.yml", "plugins/action/plan.py",
                 "plugins/action/audit_report.py", "plugins/modules/backup_job.py", "roles/backup/tasks/apply.yml",
                 "requirements.txt", "meta/execution-environment.yml", "meta/runtime.yml"):
        assert (root / path).is_file(), path
    # ansible-builder's own introspection finds the Python dependency, as an EE build does.
    proc = subprocess.run([BIN / "ansible-builder", "introspect", str(installed)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    python = yaml.safe_load(proc.stdout)["python"]
    assert [p.split("#")[0].strip() for p in python if "ivpb.backupbeleid" in p] == [f"ivpb=={galaxy_version()}"]


@pytest.mark.parametrize("playbook", ["ivpb.backupbeleid.enforce", "ivpb.backupbeleid.audit"])
def test_the_playbooks_run_by_fqcn_from_the_installed_collection(installed, tmp_path, playbook):
    proc = subprocess.run([BIN / "ansible-playbook", playbook, "-i", str(ROOT / "inventories" / "example"),
                           "--list-tasks"], cwd=tmp_path, env=env_only(installed), capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Plan the controls of every host from its BIV classification" in proc.stdout
    assert ("Judge every host and site against every control" in proc.stdout) == playbook.endswith(".audit")


def test_the_audit_playbook_refuses_to_run_without_check_mode(installed, tmp_path):
    """Without --check the enforce plays would change the hosts: the first task stops the run
    (on the controller; the inventory's hosts do not exist, nothing is contacted)."""
    proc = subprocess.run([BIN / "ansible-playbook", "ivpb.backupbeleid.audit", "-i", str(ROOT / "inventories" / "example")],
                          cwd=tmp_path, env=env_only(installed), capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode != 0
    assert "runs in check mode only: add --check" in proc.stdout
    assert "Plan the controls" not in proc.stdout
