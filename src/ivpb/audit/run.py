"""Run enforce.yml in check and diff mode through ansible-runner and fold its events into
per-host results. Nothing on any host changes: --check is always on the command line."""

from __future__ import annotations

import json
import os
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from ivpb.audit.results import HostResults, record, settle
from ivpb.errors import UserError
from ivpb.vault import Secrets, runner_env

EVENTS = {"runner_on_ok", "runner_on_failed", "runner_on_unreachable"}
# The audit changes nothing, so no module run may take long: a hung one (a dead NFS mount, a
# probe that never returns) ends after this many seconds and its host is reported as an error
# naming the bound. Enforcing keeps ansible.cfg's longer task_timeout (package installs).
AUDIT_TASK_TIMEOUT = 60


def find_project(start: Path | None = None) -> Path:
    """The directory holding playbooks/enforce.yml and ansible.cfg: the cwd or one of its parents."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "playbooks" / "enforce.yml").is_file():
            return candidate
    raise UserError("playbooks/enforce.yml not found here or above: run ivpb audit from the project directory "
                    "(or pass --project DIR)")


def bounds(project: Path, task_timeout: int = AUDIT_TASK_TIMEOUT) -> str:
    """The timeouts that bound the check run, as named in the report: SSH's ConnectTimeout and
    keepalive from the project's ansible.cfg, and the audit's task timeout."""
    import configparser

    cfg = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";",))
    cfg.read(project / "ansible.cfg")
    connect = cfg.get("defaults", "timeout", fallback="10")
    ssh = {}
    for word in shlex.split(cfg.get("ssh_connection", "ssh_args", fallback="")):
        key, _, value = word.partition("=")
        if value:
            ssh[key] = value
    parts = [f"SSH ConnectTimeout {connect} s"]
    if "ServerAliveInterval" in ssh:
        parts.append(f"ServerAliveInterval {ssh['ServerAliveInterval']} s x ServerAliveCountMax "
                     f"{ssh.get('ServerAliveCountMax', 3)}")
    parts.append(f"task timeout {task_timeout} s")
    return ", ".join(parts)


def run_check(project: Path, sources: list[str], limit: str | list[str] | None, vault: Secrets | None,
              progress: TextIO | None = sys.stderr, policy_file: str | None = None) -> dict[str, HostResults]:
    """The playbook in check mode; its plan step plans with policy_file (the audit's --policy),
    so that what the hosts report is what the audit judges. `limit` is an Ansible pattern or a
    list of inventory host names (passed as a file, one per line, so no command line grows with
    the number of hosts). The vault secrets (ivpb.vault.secrets_of) reach it as private files."""
    return CheckRun(project, sources, limit, vault, progress, policy_file).results()


class CheckRun:
    """run_check started in the background, so that ivpb audit reads and validates the inventory
    while ansible-playbook starts (its plan step validates the same inventory before any host is
    reached); cancel() ends it when the inventory turns out invalid. Its progress lines wait for
    show_progress(), so that they follow the audit's heading."""

    def __init__(self, project: Path, sources: list[str], limit: str | list[str] | None, vault: Secrets | None,
                 progress: TextIO | None = sys.stderr, policy_file: str | None = None) -> None:
        import threading

        import ansible_runner

        self._results: dict[str, HostResults] = {}
        self._stats: list[dict[str, Any]] = []
        self._seen: set[str] = set()
        self._progress = progress
        self._waiting: list[str] | None = []  # progress lines until show_progress()
        self._lock = threading.Lock()
        self._canceled = threading.Event()
        self._project = project
        cmdline = ["--check", "--diff"]
        for src in sources:
            cmdline += ["-i", str(Path(src).resolve()) if Path(src).exists() else src]
        if policy_file:  # JSON: a path with blanks or quotes stays one value
            cmdline += ["-e", json.dumps({"ivpb_policy_file": str(Path(policy_file).resolve())})]
        env = {"ANSIBLE_CONFIG": str(project / "ansible.cfg")} if (project / "ansible.cfg").is_file() else {}
        env["ANSIBLE_TASK_TIMEOUT"] = str(AUDIT_TASK_TIMEOUT)
        # The ansible-playbook of this environment: a venv's bin is not always on PATH.
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        self._private = tempfile.TemporaryDirectory(prefix="ivpb-audit-")  # mode 0700, removed afterwards
        private = self._private.name
        try:
            env.update(runner_env(vault or [], Path(private)))
            if isinstance(limit, list):
                hosts_file = Path(private) / "limit"
                hosts_file.write_text("".join(f"{h}\n" for h in limit), encoding="utf-8")
                limit = f"@{hosts_file}"
            self._thread, self._runner = ansible_runner.run_async(
                private_data_dir=private,
                project_dir=str(project),
                playbook=str(project / "playbooks" / "enforce.yml"),
                cmdline=shlex.join(cmdline),
                limit=limit,
                envvars=env,
                quiet=True,
                event_handler=self._event,
                cancel_callback=self._canceled.is_set,
                settings={"suppress_ansible_output": True},
            )
        except BaseException:
            self._private.cleanup()
            raise

    def _event(self, event: dict[str, Any]) -> bool:
        name = event.get("event")
        data = event.get("event_data") or {}
        if name == "playbook_on_stats":
            self._stats.append(data)
        if name in EVENTS and data.get("host"):
            host = data["host"]
            res = data.get("res") or {}
            record(self._results, name, host, res, data.get("task", ""),
                   action=data.get("resolved_action") or data.get("task_action") or "",
                   ignored=bool(data.get("ignore_errors")))
            if self._progress is not None and (name != "runner_on_ok" or "controls" in res):
                status = {"runner_on_ok": "ok", "runner_on_failed": "FAILED", "runner_on_unreachable": "UNREACHABLE"}
                self._seen.add(host)
                self._say(f"  [{len(self._seen)}] {host}: {data.get('task', '')}: {status[name]}")
        return False  # keep nothing on disk: results are folded above, memory stays small

    def _say(self, line: str) -> None:
        with self._lock:
            if self._waiting is None:
                print(line, file=self._progress)
            else:
                self._waiting.append(line)

    def show_progress(self) -> None:
        """From now on progress lines are printed (those that came already first)."""
        with self._lock:
            waiting, self._waiting = self._waiting or [], None
        for line in waiting:
            print(line, file=self._progress)

    def cancel(self) -> None:
        """End the run (ansible-runner stops ansible-playbook) and wait for it."""
        self._canceled.set()
        self._thread.join()
        self._private.cleanup()

    def results(self) -> dict[str, HostResults]:
        """Wait for the run; its results per host."""
        self.show_progress()
        self._thread.join()
        try:
            runner, results = self._runner, self._results
            if runner.status not in ("successful", "failed") or not results:
                last = [line for line in runner.stdout.read().splitlines() if line.strip()][-1:] or [runner.status]
                raise UserError(f"the check run of playbooks/enforce.yml reached no host: {last[0].strip()}")
        finally:
            self._private.cleanup()
        stats = self._stats
        settle(results, stats[-1] if stats else None)
        named = bounds(self._project)
        for hr in results.values():
            hr.bounds = named
        return results
