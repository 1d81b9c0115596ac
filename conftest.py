"""A guard for every unit test of both trees (tests/ and the collection's tests/unit): a unit test
must never read this machine's own state, which differs from machine to machine (a fresh CI
machine has no nut-client, no /etc/nut, no /srv). Module code reaches a host's paths through the
host toolkit's root; a test gives it a root of its own. Any open or directory listing under the
paths below during a test that is not marked `lab` fails that test, even when the code under
test catches the error it raised."""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import settings

# CI draws the same examples on every run (a property test never turns red by the luck of a
# draw there); a developer's run keeps drawing new ones, which is how they find counterexamples.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# The host's state a module reads or writes, and what the machine's package manager owns.
HOST_STATE = ("/var/lib/dpkg", "/var/lib/apt", "/etc", "/srv", "/usr/local/lib/ivpb", "/var/lib/ivpb",
              "/var/log", "/run/nut", "/var/spool/cron")
# What the interpreter and libraries read from /etc for themselves, the same on every machine.
RUNTIME_FILES = ("/etc/localtime", "/etc/timezone", "/etc/mime.types", "/etc/ssl/", "/etc/hosts",
                 "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/ld.so.cache",
                 "/etc/os-release", "/etc/ansible/", "/etc/pki/")
# ivpb.host.path: a path the host toolkit walks one name at a time (relative opens hide it from "open").
EVENTS = {"open": 0, "os.listdir": 0, "os.scandir": 0, "ivpb.host.path": 0}

_reads: list[str] | None = None


def host_state(path) -> str | None:
    """The normalised path when it lies in the machine's own host state, else None."""
    if isinstance(path, int) or path is None:
        return None
    try:
        text = os.path.normpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return None
    if not text.startswith("/") or text.startswith(RUNTIME_FILES) or text in {p.rstrip("/") for p in RUNTIME_FILES}:
        return None
    return text if any(text == p or text.startswith(p + "/") for p in HOST_STATE) else None


def _audit(event, args):
    if _reads is not None and event in EVENTS and args:
        found = host_state(args[EVENTS[event]])
        if found is not None:
            _reads.append(f"{event} {found}")
            raise PermissionError(f"unit test read this machine's own {found}: give the code a test root")


sys.addaudithook(_audit)


def _guarded(item):
    """Run one phase of a test (setup, call, teardown) with reads of host state recorded, and fail
    it when there were any."""
    global _reads
    if item.get_closest_marker("lab"):
        return (yield)
    _reads = seen = []
    try:
        result = yield
    finally:
        _reads = None
    if seen:
        raise AssertionError(f"read this machine's own state (host state guard in conftest.py): "
                             f"{', '.join(sorted(set(seen)))}; give the code a test root")
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    return (yield from _guarded(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    return (yield from _guarded(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    return (yield from _guarded(item))
