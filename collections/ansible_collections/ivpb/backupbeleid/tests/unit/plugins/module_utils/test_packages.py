"""module_utils/packages.py: the modules check their Debian packages in their own call (no apt
task per role). dpkg's status file is read under the host's root: each test writes its own."""

from __future__ import annotations

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import packages
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.host import ModuleFailure
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import make_host

STATUS = ("Package: dpkg\nStatus: install ok installed\n\n"
          "Package: nut-client\nStatus: deinstall ok config-files\n\n"
          "Package: rsync\nStatus: install ok installed\n\n")


@pytest.fixture
def root(tmp_path):
    """A host root whose dpkg knows dpkg and rsync installed, nut-client removed."""
    status = tmp_path / packages.DPKG_STATUS.lstrip("/")
    status.parent.mkdir(parents=True)
    status.write_text(STATUS)
    return tmp_path


def test_installed_reads_a_dpkg_status_file(root):
    status = str(root / packages.DPKG_STATUS.lstrip("/"))
    assert packages.installed(["dpkg", "no-such-package-ivpb"], status) == {"dpkg"}


def test_a_removed_package_with_config_left_is_not_installed(root):
    status = str(root / packages.DPKG_STATUS.lstrip("/"))
    assert packages.installed(["nut-client", "rsync"], status) == {"rsync"}


def test_a_host_without_a_status_file_has_nothing_installed(tmp_path):
    assert packages.installed(["dpkg"], str(tmp_path / "status")) == set()


def test_ensure_reads_the_status_file_under_the_hosts_root(monkeypatch, root):
    monkeypatch.setattr(packages, "_apt", lambda host, args: pytest.fail(f"ran {args}"))
    assert packages.ensure(make_host(monkeypatch, root=str(root)), ["rsync"]) == ([], None)
    host = make_host(monkeypatch, check_mode=True, root=str(root))
    assert packages.ensure(host, ["rsync", "nut-client"]) == (["nut-client"], None)


def test_check_mode_reports_missing_packages_with_a_diff_and_installs_nothing(monkeypatch, root):
    monkeypatch.setattr(packages, "install", lambda host, names: pytest.fail(f"check mode installed {names}"))
    host = make_host(monkeypatch, check_mode=True, diff=True, root=str(root))
    missing, diff = packages.ensure(host, ["dpkg", "no-such-package-ivpb"])
    assert missing == ["no-such-package-ivpb"]
    assert diff["before"] == "no-such-package-ivpb: not installed\n"
    assert diff["after"] == "no-such-package-ivpb: installed\n"
    assert host.changed == ["packages"]


def test_nothing_missing_means_no_apt_get_at_all(monkeypatch, root):
    monkeypatch.setattr(packages, "_apt", lambda host, args: pytest.fail(f"ran {args}"))
    assert packages.ensure(make_host(monkeypatch, diff=True, root=str(root)), ["dpkg"]) == ([], None)


def test_no_apt_get_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ModuleFailure, match="^needs the Debian packages x-ivpb and this host has no apt-get$"):
        packages.install(make_host(monkeypatch), ["x-ivpb"])
