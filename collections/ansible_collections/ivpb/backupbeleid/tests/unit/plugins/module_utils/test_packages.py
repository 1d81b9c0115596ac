"""module_utils/packages.py: the modules check their Debian packages in their own call (no apt
task per role). Read against this machine's real dpkg status file."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import packages
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import ModuleFailure
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import make_host

STATUS = Path(packages.DPKG_STATUS)
pytestmark = pytest.mark.skipif(not STATUS.exists(), reason="needs a Debian host (dpkg status file)")


def test_installed_reads_dpkg_status():
    found = packages.installed(["dpkg", "no-such-package-ivpb"])
    assert found == {"dpkg"}


def test_a_removed_package_with_config_left_is_not_installed(tmp_path):
    status = tmp_path / "status"
    status.write_text("Package: nut-client\nStatus: deinstall ok config-files\n\n"
                      "Package: rsync\nStatus: install ok installed\n\n")
    assert packages.installed(["nut-client", "rsync"], str(status)) == {"rsync"}


def test_check_mode_reports_missing_packages_with_a_diff_and_installs_nothing(monkeypatch):
    monkeypatch.setattr(packages, "install", lambda host, names: pytest.fail(f"check mode installed {names}"))
    missing, diff = packages.ensure(make_host(monkeypatch, check_mode=True, diff=True), ["dpkg", "no-such-package-ivpb"])
    assert missing == ["no-such-package-ivpb"]
    assert diff["before"] == "no-such-package-ivpb: not installed\n"
    assert diff["after"] == "no-such-package-ivpb: installed\n"


def test_nothing_missing_means_no_apt_get_at_all(monkeypatch):
    monkeypatch.setattr(packages, "_apt", lambda host, args: pytest.fail(f"ran {args}"))
    assert packages.ensure(make_host(monkeypatch, diff=True), ["dpkg"]) == ([], None)


def test_no_apt_get_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ModuleFailure, match="^needs the Debian packages x-ivpb and this host has no apt-get$"):
        packages.install(make_host(monkeypatch), ["x-ivpb"])
