"""The command line behaves like the tools around it (issue #21 item 6): --version from the
package metadata, usage errors on exit 64 (2 is the audit's "drift"), the exit codes in
`ivpb audit --help`, no default inventory, and the vault options and variables of
ansible-playbook (--vault-id, --vault-password-file, --ask-vault-pass, ANSIBLE_VAULT_PASSWORD_FILE,
ANSIBLE_VAULT_IDENTITY_LIST), reaching the controller's inventory and the check run."""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from importlib import metadata
from pathlib import Path

import pexpect
import pytest

from ivpb import cli
from ivpb.audit.run import run_check
from ivpb.cli import main
from tests.conftest import EXAMPLE, ROOT

IVPB = Path(sys.executable).parent / "ivpb"
# Each subcommand with what it needs besides -i, so that only the option under test is wrong.
COMMANDS = {
    "validate": [],
    "plan": [],
    "audit": [],
    "herstelplan": [],
    "restore": ["--host", "fileserver", "--dataset", "leerlingenadministratie", "--to", "/tmp/x"],
    "history": [],
    "diff": ["--since", "last"],
}
PASSWORD = "geheim wachtwoord"


def usage_exit(capsys, argv: list[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code, capsys.readouterr().err


@pytest.mark.parametrize("command", COMMANDS)
def test_a_misspelt_option_is_exit_64_on_every_subcommand(capsys, command):
    code, err = usage_exit(capsys, [command, "-i", str(EXAMPLE), *COMMANDS[command], "--formt", "html"])
    assert code == 64, err
    assert f"ivpb {command}: error: unrecognized arguments: --formt html" in err


def test_every_subcommand_has_its_command():
    """The subcommands named by a "module:function" string are imported only when they run: each
    names a function that exists, and the parser offers exactly the commands there are."""
    names = set(cli.build_parser().commands)
    assert names == set(cli.COMMANDS) and "restore" in names
    for name in names:
        assert callable(cli.command_of(name)), name


def test_a_wrong_choice_and_no_subcommand_are_exit_64(capsys):
    assert usage_exit(capsys, ["audit", "-i", str(EXAMPLE), "--format", "pdf"])[0] == 64
    assert usage_exit(capsys, [])[0] == 64


@pytest.mark.parametrize("command", COMMANDS)
def test_a_forgotten_inventory_is_one_line_and_exit_64(capsys, command):
    assert main([command, *COMMANDS[command]]) == 64
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"ivpb {command}: no inventory: pass -i INVENTORY (the school's inventory, "
                   "e.g. -i inventories/<school>)"]


def test_ansible_cfg_names_no_inventory():
    """Nothing falls back on the example school when -i is forgotten (ansible-playbook neither)."""
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(ROOT / "ansible.cfg")
    assert cfg.has_section("defaults") and not cfg.has_option("defaults", "inventory")


def test_version_is_the_package_metadata_from_pyproject():
    proc = subprocess.run([str(IVPB), "--version"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"ivpb {metadata.version('ivpb')}"
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert metadata.version("ivpb") == declared


def test_audit_help_lists_the_exit_codes(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["audit", "--help"])
    out = capsys.readouterr().out
    assert exc.value.code == 0
    for code in (0, 1, 2, 64):
        assert re.search(rf"^ +{code} +\w", out, re.M), out


def test_usage_errors_found_after_parsing_are_exit_64_too(capsys):
    assert main(["audit", "-i", str(EXAMPLE), "-o", "report.pdf"]) == 64
    assert "--output report.pdf: unknown extension" in capsys.readouterr().err


# --- vault ----------------------------------------------------------------------------------


@pytest.fixture
def vaulted(tmp_path) -> tuple[Path, Path]:
    """The example school with fileserver's NUT password vaulted inline (as ansible-vault
    encrypt_string writes it), and its password file."""
    from ansible.parsing.vault import VaultLib, VaultSecret

    inv = tmp_path / "school"
    shutil.copytree(EXAMPLE, inv)
    encrypted = VaultLib([("school", VaultSecret(PASSWORD.encode()))]).encrypt("kluis", vault_id="school").decode()
    power = inv / "host_vars" / "fileserver" / "power.yml"
    text = re.sub(r"^ivpb_nut_password: .*$", "ivpb_nut_password: !vault |\n"
                  + "".join(f"  {line}\n" for line in encrypted.splitlines()), power.read_text(), flags=re.M)
    power.write_text(text)
    password = tmp_path / "vault-pass"
    password.write_text(PASSWORD + "\n")
    password.chmod(0o600)
    return inv, password


def ivpb(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The installed command in a process of its own: Ansible reads its configuration (the
    ANSIBLE_VAULT_* variables) once per process."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_VAULT") and k != "ANSIBLE_ASK_VAULT_PASS"}
    return subprocess.run([str(IVPB), *argv], capture_output=True, text=True, env={**clean, **(env or {})},
                          cwd=ROOT, check=False, timeout=120)


def test_a_vaulted_value_without_a_password_is_one_line(vaulted):
    inv, _ = vaulted
    proc = ivpb("validate", "-i", str(inv))
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert "power.yml" in lines[0] and "host fileserver" in lines[0] and "ivpb_nut_password" in lines[0]
    assert "--vault-id, --vault-password-file or --ask-vault-pass" in lines[0]


def test_a_vaulted_value_loads_with_vault_id_and_the_ansible_variables(vaulted):
    inv, password = vaulted
    for argv, env in (
        (["--vault-id", f"school@{password}"], None),
        (["--vault-password-file", str(password)], None),
        ([], {"ANSIBLE_VAULT_PASSWORD_FILE": str(password)}),
        ([], {"ANSIBLE_VAULT_IDENTITY_LIST": f"school@{password}"}),
    ):
        proc = ivpb("validate", "-i", str(inv), *argv, env=env)
        assert proc.returncode == 0 and proc.stdout.startswith("OK: "), (argv, env, proc.stderr)
    wrong = password.parent / "wrong"
    wrong.write_text("fout\n")
    proc = ivpb("validate", "-i", str(inv), "--vault-id", f"school@{wrong}")
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    proc = ivpb("validate", "-i", str(inv), "--vault-id", f"school@{password.parent / 'missing'}")
    assert proc.returncode == 1 and proc.stderr.startswith("vault password: "), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "missing" in proc.stderr


def test_ask_vault_pass_prompts_once_on_the_terminal(vaulted):
    inv, _ = vaulted
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_VAULT")}
    child = pexpect.spawn(str(IVPB), ["validate", "-i", str(inv), "--ask-vault-pass"], cwd=str(ROOT), env=clean,
                          encoding="utf-8", timeout=120)
    child.expect_exact("Vault password: ")
    child.sendline(PASSWORD)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert "OK: " in child.before and "Vault password" not in child.before  # asked once
    assert PASSWORD not in child.before  # not echoed


def test_the_check_run_gets_the_secrets_as_private_files_only(tmp_path, monkeypatch):
    """ivpb audit's ansible-playbook decrypts with the secrets ivpb resolved (no password on its
    command line or in its environment); the files that held them are gone afterwards."""
    from ansible.parsing.vault import VaultLib, VaultSecret

    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "enforce.yml").write_text("""
- hosts: here
  gather_facts: false
  tasks:
    - name: Decrypted
      ansible.builtin.fail:
        msg: "{{ secret }} {{ lookup('env', 'ANSIBLE_VAULT_IDENTITY_LIST') }} {{ lookup('file', '/proc/self/cmdline') }}"
""")
    encrypted = VaultLib([("school", VaultSecret(PASSWORD.encode()))]).encrypt("kluis", vault_id="school").decode()
    (tmp_path / "hosts.yml").write_text(
        "all:\n  hosts:\n    here:\n      ansible_connection: local\n"
        f"      ansible_python_interpreter: {json.dumps(sys.executable)}\n"
        "      secret: !vault |\n" + "".join(f"        {line}\n" for line in encrypted.splitlines()))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    results = run_check(tmp_path, [str(tmp_path / "hosts.yml")], None, [("school", VaultSecret(PASSWORD.encode()))],
                        progress=None)
    [failure] = results["here"].failures
    assert failure.startswith("Decrypted: kluis school@"), failure
    assert PASSWORD not in failure
    assert list((tmp_path / "tmp").iterdir()) == []
