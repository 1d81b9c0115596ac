"""Vault secrets as ansible-playbook takes them: --vault-id LABEL@SOURCE (repeatable; SOURCE a
password file, an executable script or `prompt`), --vault-password-file (repeatable),
--ask-vault-pass, and the configuration's defaults (ANSIBLE_VAULT_IDENTITY_LIST,
ANSIBLE_VAULT_PASSWORD_FILE, ANSIBLE_ASK_VAULT_PASS). Ansible's own CLI code resolves them, once
per command (a prompt asks once); the secrets then reach the controller's inventory loading
(ivpb.inventory, ivpb.restore) and the check run (runner_env). No password is ever put on a
command line, into the environment or into a log."""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path
from typing import Any

from ivpb.errors import UserError

Secrets = list[tuple[str, Any]]  # (vault id, ansible.parsing.vault.VaultSecret), as Ansible's loader takes them

OPTIONS = "--vault-id, --vault-password-file or --ask-vault-pass"


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--vault-id", dest="vault_ids", action="append", default=[], metavar="LABEL@SOURCE",
                        help="a vault identity: SOURCE a password file, a script or 'prompt' (repeatable)")
    parser.add_argument("--vault-password-file", "--vault-pass-file", dest="vault_password_files", action="append",
                        default=[], metavar="FILE", help="a vault password file (repeatable)")
    parser.add_argument("-J", "--ask-vault-password", "--ask-vault-pass", dest="ask_vault_pass", action="store_true",
                        help="ask for the vault password on the terminal (once)")


def ansible_env() -> None:
    """Set before Ansible first reads its configuration (its constants are read once per process;
    secrets_of reads them first): an inventory that Ansible cannot parse must be an error here,
    not a warning and an empty inventory that "validates"."""
    os.environ.setdefault("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true")
    os.environ.setdefault("ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED", "true")


def secrets_of(args: argparse.Namespace) -> Secrets:
    """The secrets the options and Ansible's configuration name, as ansible-playbook loads them."""
    ansible_env()
    from ansible import constants as C
    from ansible.errors import AnsibleError

    vault_ids = [*C.DEFAULT_VAULT_IDENTITY_LIST, *args.vault_ids]
    ask = args.ask_vault_pass or C.DEFAULT_ASK_VAULT_PASS
    if not (vault_ids or args.vault_password_files or ask or C.DEFAULT_VAULT_PASSWORD_FILE):
        return []  # nothing to load: ansible.cli, a fifth of a second to import, is not needed
    with warnings.catch_warnings():  # what ansible.cli imports may warn about the machine's cryptography
        warnings.simplefilter("ignore")
        from ansible.cli import CLI
    from ansible.parsing.dataloader import DataLoader
    from ansible.utils.display import Display

    # Each source that fails is a warning in Ansible before the last failure is raised; the user
    # reads that one line instead.
    display = Display()
    warning, display.warning = display.warning, lambda *a, **k: None
    try:
        return CLI.setup_vault_secrets(
            DataLoader(),
            vault_ids=vault_ids,
            vault_password_files=[os.path.expanduser(f) for f in args.vault_password_files],
            ask_vault_pass=ask,
            auto_prompt=False,
            initialize_context=False,
        )
    except AnsibleError as exc:
        text = str(exc).strip().splitlines()
        raise UserError(f"vault password: {text[0] if text else type(exc).__name__}") from None
    finally:
        display.warning = warning


def apply(loader: Any, secrets: Secrets) -> None:
    """The secrets on an Ansible loader, and (ansible-core 2.19 decrypts lazily, through a
    process-wide context that its own CLI sets up) in that context."""
    loader.set_vault_secrets(secrets)
    try:
        from ansible.parsing.vault import VaultSecretsContext
    except ImportError:  # ansible-core < 2.19 decrypts through the loader alone
        return
    if VaultSecretsContext._current is None:
        VaultSecretsContext.initialize(VaultSecretsContext(secrets))
    else:
        VaultSecretsContext._current.secrets = secrets


def runner_env(secrets: Secrets, private: Path) -> dict[str, str]:
    """The environment that hands the secrets to the ansible-playbook of the check run: each one
    in a file of its own (mode 0600, in the run's private directory, removed with it), named in
    ANSIBLE_VAULT_IDENTITY_LIST. The defaults the user's environment may hold are replaced, so
    that no script runs twice and nothing prompts where no one can answer."""
    env = {"ANSIBLE_ASK_VAULT_PASS": "False"}
    ids = []
    for n, (label, secret) in enumerate(secrets):
        path = private / f"vault-{n}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secret.bytes)
        ids.append(f"{label}@{path}")
    if ids:
        env["ANSIBLE_VAULT_IDENTITY_LIST"] = ",".join(ids)
        env["ANSIBLE_VAULT_PASSWORD_FILE"] = ids[0].split("@", 1)[1]
    return env
