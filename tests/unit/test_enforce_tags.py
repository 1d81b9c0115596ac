"""The tags of enforce.yml and the collection's roles (issue #26): one tag per clause, never one
per control. One module run enforces a whole clause on a host (nut_client all of §2's UPS
controls, backup_job every §4 duty of every data set), so a control-id tag could only run the
whole clause under another name. A clause's tag is the part before the dot that all of its
controls' ids share in the policy file (power for §2, internet for §3, backup for §4); the
README documents them. `always` marks the plan step and the reach, which every run needs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = ROOT / "collections" / "ansible_collections" / "ivpb" / "backupbeleid" / "roles"
PLAYBOOKS = ROLES.parent / "playbooks"  # the collection's enforce and audit; playbooks/ only imports them
POLICY = ROOT / "src" / "ivpb" / "policies" / "backupbeleid.yml"


def clause_tags() -> dict[str, str]:
    """Each enforced clause's tag (clause id -> tag), from the policy file's control ids."""
    controls = yaml.safe_load(POLICY.read_text(encoding="utf-8"))["controls"]
    prefixes: dict[str, set[str]] = {}
    for control in controls:
        if control.get("enforced_by"):
            prefixes.setdefault(control["clause"], set()).add(control["id"].split(".", 1)[0])
    assert all(len(p) == 1 for p in prefixes.values()), prefixes  # else a clause has no one tag
    return {clause: p.pop() for clause, p in prefixes.items()}


def tags_in(node) -> list[str]:
    """Every tag a task file sets: `tags:` of tasks, blocks and include/import `apply:`."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "tags":
                found += [value] if isinstance(value, str) else list(value)
            else:
                found += tags_in(value)
    elif isinstance(node, list):
        for item in node:
            found += tags_in(item)
    return found


def task_files() -> list[Path]:
    return [*sorted(PLAYBOOKS.glob("*.yml")), *sorted(ROLES.glob("*/tasks/*.yml"))]


def test_every_tag_names_an_enforced_clause_or_always():
    allowed = set(clause_tags().values()) | {"always"}
    seen = set()
    for path in task_files():
        tags = tags_in(yaml.safe_load(path.read_text(encoding="utf-8")))
        assert set(tags) <= allowed, f"{path.relative_to(ROOT)}: {sorted(set(tags) - allowed)}"
        seen |= set(tags)
    assert seen == allowed  # every enforced clause can be run on its own


def test_the_clause_tags_are_the_ones_the_readme_documents():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for clause, tag in clause_tags().items():
        assert f"`--tags {tag}` ({clause}" in readme, (clause, tag)


def listed_tasks(*args: str) -> str:
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(["ansible-playbook", "playbooks/enforce.yml", "-i", "inventories/example", "--list-tasks",
                           *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_a_clause_tag_runs_that_clause_and_the_steps_every_run_needs():
    names = re.findall(r"^\s{6}(\S.*?)\tTAGS:", listed_tasks("--tags", "power"), flags=re.M)
    assert any(n.startswith("ivpb.backupbeleid.power :") for n in names), names
    assert not any("§3" in n for n in names), names
    # §4 only in the task that runs §2 and §4 in one module run; it runs the backup part only
    # when the backup tag is chosen (test_the_power_and_backup_task_runs_the_parts_whose_tag_was_chosen),
    # and the NUT server with the power tag
    assert [n.split(" : ", 1)[0] for n in names if "§4" in n] == ["ivpb.backupbeleid.power"], names
    assert any(n.startswith("Plan the controls of every host") for n in names)
    assert any(n.startswith("Reach every host of the clauses once") for n in names)


def test_the_power_and_backup_task_runs_the_parts_whose_tag_was_chosen():
    """enforce.yml runs §2's NUT server and UPS monitoring and §4's backup jobs in one module run per host
    (roles/power/tasks/with_backup.yml); its action runs a part where its role's own task would
    and when its clause's tag is chosen."""
    from ansible_collections.ivpb.backupbeleid.plugins.action.power_backup import chosen, wanted

    [task] = yaml.safe_load((ROLES / "power/tasks/with_backup.yml").read_text(encoding="utf-8"))
    assert set(task["tags"]) == {"power", "backup"}
    assert task["ivpb.backupbeleid.power_backup"] == {"parts": ["nut_server", "power", "backup", "backup_target"]}

    def parts(run_tags: list[str], skip_tags: list[str] = (), roles: list[str] = ("ivpb_power", "ivpb_backup"),
              power_controls: list = ({"id": "power.ups", "duty": "ups"},)) -> list[str]:
        targets = [{"name": "offsite", "path": "/srv/backup"}] if "ivpb_backup_target" in roles else []
        plan = {"roles": {"fs": list(roles)}, "inputs": {"fs": {"power": {"controls": list(power_controls)},
                                                                "backup_target": {"targets": targets}}}}
        return [p for p in wanted("fs", plan, task["ivpb.backupbeleid.power_backup"]["parts"])
                if chosen(p, run_tags, skip_tags)]

    assert parts(["all"]) == ["power", "backup"]
    assert parts(["power"]) == ["power"]
    assert parts(["backup"]) == ["backup"]
    assert parts(["all"], skip_tags=["power"]) == ["backup"]
    assert parts(["all"], roles=["ivpb_power"]) == ["power"]
    assert parts(["all"], power_controls=[]) == ["backup"]
    assert parts(["tagged"]) == ["power", "backup"]
    assert parts(["internet"]) == []
    # a NUT server runs first, with the power tag; one that stores data runs its backups after
    server = ("ivpb_nut_server", "ivpb_power", "ivpb_backup")
    assert parts(["all"], roles=server) == ["nut_server", "power", "backup"]
    assert parts(["power"], roles=server, power_controls=[]) == ["nut_server"]
    assert parts(["backup"], roles=server) == ["backup"]
    # a host that also receives backups runs its receiver last, with the backup tag
    receiver = ("ivpb_power", "ivpb_backup", "ivpb_backup_target")
    assert parts(["all"], roles=receiver) == ["power", "backup", "backup_target"]
    assert parts(["power"], roles=receiver) == ["power"]
    assert parts(["all"], skip_tags=["backup"], roles=receiver) == ["power"]
    assert parts(["backup"], roles=("ivpb_backup_target",), power_controls=[]) == ["backup_target"]
