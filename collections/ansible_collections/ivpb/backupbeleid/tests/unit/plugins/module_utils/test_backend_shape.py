"""Issue #15: every backend has one shape. Each module's main() is AnsibleModule + host.run_module
over `enforce(host, params)` of its backend; the backends run commands only through the Host
(no subprocess), define no error type of their own and fail bad input with one ModuleFailure line.
Walks every module and every module_utils file, so a new one is held to it too."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import host as toolkit
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import host_program
from ansible_collections.ivpb.backupbeleid.tests.unit.toolkit import asked, make_host

PLUGINS = Path(toolkit.__file__).resolve().parents[1]
PACKAGE = "ansible_collections.ivpb.backupbeleid.plugins"
# Programs the modules install on the host and run there on their own (not backends).
PROGRAMS = set(host_program.PROGRAMS)
# The planner, the audit's judge and the reach run on the controller (action plugins); their module files are
# documentation.
NOT_ON_A_HOST = {"plan", "audit_report", "reach"}
MODULES = sorted(p.stem for p in (PLUGINS / "modules").glob("*.py") if p.stem not in NOT_ON_A_HOST)
UTILS = sorted(p.stem for p in (PLUGINS / "module_utils").glob("*.py") if p.stem != "__init__")


def _tree(kind, name):
    return ast.parse((PLUGINS / kind / f"{name}.py").read_text(encoding="utf-8"))


def _backend_of(name):
    """(backend module name, enforce function) the module's main() hands to run_module."""
    main = next(n for n in _tree("modules", name).body if isinstance(n, ast.FunctionDef) and n.name == "main")
    calls = [c for c in ast.walk(main) if isinstance(c, ast.Call) and getattr(c.func, "id", None) == "run_module"]
    assert len(calls) == 1, f"modules/{name}.py: main() must end in one host.run_module(module, enforce)"
    module = importlib.import_module(f"{PACKAGE}.modules.{name}")
    fn = eval(compile(ast.Expression(calls[0].args[1]), name, "eval"), vars(module))  # noqa: S307 - our own source
    return fn.__module__.rsplit(".", 1)[-1], fn


@pytest.mark.parametrize("name", MODULES)
def test_every_module_is_run_module_over_a_backend_enforce(name):
    backend, fn = _backend_of(name)
    assert backend in UTILS and backend not in PROGRAMS, name
    assert fn.__name__ == "enforce", f"{backend}.{fn.__name__}: the backend's entry is enforce(host, params)"
    assert list(inspect.signature(fn).parameters)[:1] == ["host"] and len(inspect.signature(fn).parameters) == 2


@pytest.mark.parametrize("name", sorted(set(UTILS) - PROGRAMS))
def test_module_utils_run_commands_only_through_the_host_and_raise_one_error_type(name):
    tree = _tree("module_utils", name)
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not imported & {"subprocess", "pty", "asyncio"}, f"{name}: commands go through host.Host.run"
    errors = [n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)
              and any(getattr(b, "id", "").endswith(("Exception", "Error")) for b in n.bases)]
    assert errors == (["ModuleFailure"] if name == "host" else []), f"{name}: raise host.ModuleFailure"


class Recorder:
    """A host where every command fails: bad input must be refused before any of them runs."""

    def __init__(self):
        self.calls = []

    def __call__(self, argv, **_kw):
        self.calls.append(argv)
        return 1, "", "refused by the test"


@pytest.fixture
def host(monkeypatch, tmp_path):
    return make_host(monkeypatch, check_mode=True, diff=True, run=Recorder(), root=str(tmp_path))


# One bad value per backend, as a playbook that calls the module directly might pass it.
BAD = {
    "nut_client": ({"controls": asked("power.ups"), "ups": [{"name": "ups a", "server": "s", "user": "u", "password": "p"}]},
                   "ups[0].name: "),
    "nut_server": ({"ups": {"ups-a": {"driver": "usb hid"}}, "listen": [], "port": 3493, "users": []},
                   "ivpb_nut_server.ups.ups-a.driver: "),
    "wan_failover": ({"uplinks": []}, "uplinks: expected at least one uplink"),
    "backup_job": ({"hostname": "h", "controls": asked("backup.daily", datasets=["ds"]),
                    "datasets": [{"dataset": "ds", "path": "/srv", "target": {"name": "nas", "path": "/b"}}]},
                   "ivpb_backup_targets.nas.address: required"),
    "backup_receiver": ({"install_packages": False, "targets": [{"name": "nas", "path": "relative"}]},
                        "targets.nas.path: "),
    "power_backup": ({"power": {"controls": asked("power.ups"),
                                "ups": [{"name": "ups a", "server": "s", "user": "u", "password": "p"}]}},
                     "ups[0].name: "),
}


@pytest.mark.parametrize("name", MODULES)
def test_bad_input_is_one_module_failure_line_before_any_command(name, host, monkeypatch):
    backend, fn = _backend_of(name)
    params, message = BAD[name]
    monkeypatch.setattr("shutil.which", lambda tool, **_kw: f"/usr/bin/{tool}")
    with pytest.raises(toolkit.ModuleFailure) as exc:
        fn(host, params)
    assert str(exc.value).startswith(message) and "\n" not in str(exc.value)
    assert host._run.calls == [] and host.changed == []
