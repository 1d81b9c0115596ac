"""ivpb.backupbeleid.reach (plugins/action/reach.py): one round trip that reaches a host, says its
SSH host key when asked and finds the Python interpreter Ansible would discover, so the host's
first module needs no discovery round trip of its own. Run by a real ansible-playbook over the
local connection (a controller test)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from ansible_collections.ivpb.backupbeleid.plugins.action.reach import END, FOUND, KEYS, parse, script
from ansible_collections.ivpb.backupbeleid.tests.unit.harness import ansible_cli, ansible_env


def run_play(tmp_path, tasks: str, first: str = "/nonexistent/python3.99", rc: int = 0) -> str:
    play = tmp_path / "play.yml"
    # Discovery looks for a name that is nowhere (or `first`), then for this test's own Python:
    # what this machine has installed decides nothing.
    fallback = json.dumps([first, sys.executable])
    play.write_text(f"- hosts: all\n  gather_facts: false\n  vars:\n    ansible_interpreter_python_fallback: {fallback}\n"
                    f"  tasks:\n{tasks}")
    env = {**ansible_env(), "ANSIBLE_PYTHON_INTERPRETER": "auto_silent", "ANSIBLE_STDOUT_CALLBACK": "default"}
    proc = subprocess.run([ansible_cli("ansible-playbook"), "-vvv", "-i", "here,", "-c", "local", str(play)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == rc, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def shown(out: str, name: str):
    """The value a debug task showed for name."""
    return json.loads(out.split(f'"{name}": ', 1)[1].split("\n}", 1)[0])


def test_the_reach_finds_the_interpreter_ansible_would_discover_in_its_own_round_trip(tmp_path):
    discovered = run_play(tmp_path, """
    - ansible.builtin.ping:
    - ansible.builtin.debug: {var: ansible_facts.discovered_interpreter_python}
""")
    assert "Attempting python interpreter discovery" in discovered
    reached = run_play(tmp_path, """
    - ivpb.backupbeleid.reach:
      register: ivpb_reach
    - ansible.builtin.ping:
    - ansible.builtin.debug: {var: ansible_facts.discovered_interpreter_python}
    - ansible.builtin.debug: {var: ivpb_reach}
""")
    assert "Attempting python interpreter discovery" not in reached  # the ping ran without it
    python = shown(reached, "ansible_facts.discovered_interpreter_python")
    assert python == shown(discovered, "ansible_facts.discovered_interpreter_python") == sys.executable
    said = shown(reached, "ivpb_reach")
    assert "host_key" not in said and "backup_key" not in said  # no key asked: none read


def test_an_interpreter_set_for_the_host_is_not_looked_for(tmp_path):
    out = run_play(tmp_path, f"""
    - ivpb.backupbeleid.reach:
      vars: {{ansible_python_interpreter: {sys.executable}}}
      register: ivpb_reach
    - ansible.builtin.debug: {{msg: "facts: {{{{ 'ansible_facts' in ivpb_reach }}}}"}}
""")
    [command] = [line for line in out.splitlines() if line.startswith("<here> EXEC")]
    assert FOUND not in command
    assert '"msg": "facts: False"' in out


@pytest.mark.parametrize("name", ["py thon3", "py;touch x", "py$(id)", "py'3"])
def test_an_interpreter_the_host_names_with_blanks_or_shell_characters_fails_the_host(tmp_path, name):
    """Root on the host chooses what `command -v` prints: a path that the host's shell would read as
    more than one word is refused with one line, never handed to the host's later modules."""
    bad = tmp_path / name
    bad.write_text("#!/bin/sh\n")
    bad.chmod(0o755)
    out = run_play(tmp_path, """
    - ivpb.backupbeleid.reach:
    - ansible.builtin.ping:
""", first=str(bad), rc=2)
    assert f"the host names {str(bad)!r} as its Python interpreter: expected an absolute path" in out
    assert "ansible_python_interpreter for this host" in out and "TASK [ansible.builtin.ping]" not in out


MARK = {name: marker for name, marker, _command in KEYS}
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0hostkey"
BACKUP_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK7backup ivpb-backup@fs"


def test_each_key_asked_follows_its_marker_after_the_interpreters():
    line = script(["python3.13", "/usr/bin/python3"], {"host_key", "backup_key"})
    assert line == (f"echo {FOUND}; command -v python3.13; command -v /usr/bin/python3; echo {END}; "
                    f"echo {MARK['host_key']}; cat /etc/ssh/ssh_host_ed25519_key.pub 2>/dev/null; "
                    f"echo {MARK['backup_key']}; test -s /etc/ivpb/backup/ssh/id_ed25519 && "
                    "cat /etc/ivpb/backup/ssh/id_ed25519.pub 2>/dev/null; true")
    assert script([], set()) == "true"
    out = (f"motd\r\n{FOUND}\r\n/usr/bin/python3.11\r\n/usr/bin/python3\r\n{END}\r\n"
           f"{MARK['host_key']}\r\n{HOST_KEY} root@nas\r\n{MARK['backup_key']}\r\n{BACKUP_KEY}\r\n")
    assert parse(out) == ("/usr/bin/python3.11", {"host_key": HOST_KEY, "backup_key": BACKUP_KEY})
    assert parse(f"{FOUND}\n{END}\n{MARK['host_key']}\n") == (None, {"host_key": ""})
    assert parse(f"{MARK['backup_key']}\n") == (None, {"backup_key": ""})  # no key made yet


@pytest.mark.parametrize("said", [
    f"command=\"sh\" {BACKUP_KEY}",  # an option would ride into authorized_keys
    f"{BACKUP_KEY} extra;words",  # a comment beyond the safe characters
    "ssh-dss AAAAB3NzaC1kc3MAAACBAP",  # a type no reader takes
    "not a key",
])
def test_a_key_of_another_form_counts_as_none(said):
    """Root on the host chooses what the reach prints: a key its reader would refuse (and with it
    every other client's or receiver's work) is no key, so the reader keeps what it had."""
    assert parse(f"{MARK['backup_key']}\n{said}\n") == (None, {"backup_key": ""})
    assert parse(f"{MARK['host_key']}\n{said}\n")[1]["host_key"] in ("", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK7backup")


def test_a_host_says_each_key_once_and_only_under_its_marker():
    out = f"{BACKUP_KEY}\n{MARK['host_key']}\n{HOST_KEY}\nssh-ed25519 AAAAsecond\n{MARK['backup_key']}\n"
    assert parse(out) == (None, {"host_key": HOST_KEY, "backup_key": ""})
