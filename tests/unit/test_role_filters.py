"""The roles hand their modules what the plan step computed, through short filter chains (issue
#15: no Jinja programs in role defaults). Here those very expressions, read from the role files,
are rendered by Ansible's own templar with the variables a play gives them; the lab scenarios
(molecule backup, power, enforce) prove them on real hosts."""

from __future__ import annotations

from pathlib import Path

import yaml
from ansible_collections.ivpb.backupbeleid.plugins.action import power_backup
from ansible_collections.ivpb.backupbeleid.plugins.module_utils import nut_server

from ivpb.inventory import load_inventory
from ivpb.plan import plan_inventory
from ivpb.policy import load_policy
from ivpb.roles import role_groups, role_inputs

ROOT = Path(__file__).resolve().parents[2]
ROLES = ROOT / "collections/ansible_collections/ivpb/backupbeleid/roles"


def render(expression: str, role: str, **variables):
    """`expression` rendered with the role's defaults (templates, as a role's defaults are) and `variables`."""
    # imported here, not at collection: Ansible reads its configuration once, at its first import,
    # and ivpb.inventory sets the inventory settings it needs before that (test_broken_inventories)
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    defaults = yaml.safe_load((ROLES / role / "defaults/main.yml").read_text(encoding="utf-8"))
    trusted = {k: trust_as_template(v) if isinstance(v, str) else v for k, v in defaults.items()}
    return Templar(loader=DataLoader(), variables={**trusted, **variables}).template(trust_as_template(expression))


def task_args(role: str, tasks: str = "main") -> dict:
    [task] = [t for t in yaml.safe_load((ROLES / role / f"tasks/{tasks}.yml").read_text(encoding="utf-8"))
              if any(k.startswith("ivpb.backupbeleid.") for k in t)]
    return next(v for k, v in task.items() if k.startswith("ivpb.backupbeleid."))


def test_backup_reads_the_host_keys_of_the_receivers_the_plan_names():
    """The union of the play's senders' planned receivers: the plan's, not a guess from the
    stores (a receiver the plan does not name is never asked); a receiver that left the play is
    not asked again, one outside the play (--limit) is; a sender that left adds none."""
    inventory = load_inventory([str(ROOT / "inventories/example"), str(ROOT / "inventories/lab")])
    plan = plan_inventory(inventory, load_policy())
    inputs = role_inputs(inventory, plan, role_groups(inventory, plan))
    inputs["nas"]["backup"]["receivers"] = ["nas-offsite", "nas2"]  # a second receiver, for this test
    [read_keys] = [t for t in yaml.safe_load((ROLES / "backup/tasks/host_keys.yml").read_text(encoding="utf-8"))
                   if "ansible.builtin.slurp" in t]
    assert read_keys["loop"] == "{{ backup_receiver_hosts | difference(backup_receiver_keys_reached | list) }}"
    assert read_keys["delegate_to"] == "{{ item }}"

    def receivers(play: list[str], left: list[str] = ()) -> list[str]:
        return render("{{ backup_receiver_hosts }}", "backup", ivpb_plan={"inputs": inputs},
                      ansible_play_hosts=[h for h in play if h not in left], ansible_play_hosts_all=play)

    everyone = list(inventory.hosts)
    assert receivers(everyone) == ["nas-offsite", "nas2"]
    assert receivers(["fileserver"]) == ["nas-offsite"]  # --limit fileserver: its receiver still
    assert receivers(everyone, left=["nas-offsite"]) == ["nas2"]
    assert receivers(everyone, left=["nas"]) == ["nas-offsite"]
    assert receivers(["secretariaat", "router"]) == []


def test_backup_pins_the_keys_the_receivers_said_when_the_play_reached_them():
    """enforce.yml's reach reads a receiver's host key (ivpb_reach.host_key); the role takes it
    from there, so only a receiver not reached so (a role run on its own, --limit) is read again
    by the slurp."""
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0fake"
    inputs = {"nas": {"backup": {"receivers": ["nas-offsite", "nas2", "nas3"]}}}
    hostvars = {"nas": {"ivpb_reach": {}},
                "nas-offsite": {"ivpb_reach": {"host_key": key}},
                "nas2": {},  # not reached by enforce.yml's first task: read by the slurp
                "nas3": {"ivpb_reach": {"host_key": ""}}}  # reached, but no (valid) key said
    variables = {"ivpb_plan": {"inputs": inputs}, "hostvars": hostvars, "ansible_play_hosts": list(hostvars),
                 "ansible_play_hosts_all": list(hostvars)}
    reached = render("{{ backup_receiver_keys_reached }}", "backup", **variables)
    assert reached == {"nas-offsite": key}
    unread = render("{{ backup_receiver_hosts | difference(backup_receiver_keys_reached | list) }}", "backup",
                    **variables)
    assert sorted(unread) == ["nas2", "nas3"]  # difference() keeps no order
    assert task_args("backup", "apply") == {"parts": ["backup"]}
    slurped = [{"item": "nas2", "content": "c3NoLWVkMjU1MTkgQUFBQW5hczIK"},  # ssh-ed25519 AAAAnas2
               {"item": "nas3", "failed": True}]
    said = {h: v["ivpb_reach"].get("host_key") for h, v in hostvars.items() if "ivpb_reach" in v}
    receivers = inputs["nas"]["backup"]["receivers"]
    assert power_backup.receiver_keys(receivers, said, slurped, list(hostvars)) == {
        "nas2": "ssh-ed25519 AAAAnas2", "nas-offsite": key}
    # a receiver that left the play (failed after the reach) gives none: its senders keep theirs
    assert power_backup.receiver_keys(receivers, said, slurped, ["nas", "nas2", "nas3"]) == {
        "nas2": "ssh-ed25519 AAAAnas2"}
    # only the receivers of this sender's data sets
    assert power_backup.receiver_keys(["nas2"], said, slurped, list(hostvars)) == {"nas2": "ssh-ed25519 AAAAnas2"}


def test_power_gets_the_planned_upses_with_the_hosts_password_and_its_own_tuning():
    """The power part's options: the plan's controls, mode and UPSes, the host's NUT password on
    each UPS (never in the registered plan), and of ivpb_nut_client only what nut_client takes
    beyond what the plan decides."""
    planned = {"controls": [{"id": "power.ups", "duty": "ups"}], "mode": "netclient",
               "ups": [{"name": "ups-a", "server": "nut1", "port": 3493, "user": "mon-fs"},
                       {"name": "ups-b", "server": "nut2", "port": 3493, "user": "mon-fs"}]}
    args = power_backup.power_args(planned, "pw", {"pollfreq": 7, "address": "10.0.0.5", "mode": "standalone",
                                                   "notify_mail": "it@school.example"}, False)
    assert args == {"controls": planned["controls"], "mode": "netclient",
                    "ups": [{**u, "password": "pw"} for u in planned["ups"]],
                    "pollfreq": 7, "notify_mail": "it@school.example", "install_packages": False}
    assert "password" not in planned["ups"][0]  # the plan's data is not changed


KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK7"


def test_a_receiver_authorizes_the_key_each_client_made_else_the_one_its_reach_said():
    """Clients' keys for the receiver part: the key a client's backup part reported in this run
    (made now, in its first run), else the one its reach said; a key a receiver would refuse
    counts as none, so that one client's word never stops the receiver for the others."""
    clients = {
        "fs": {"backup_job_result": {"ssh_public_key": f"{KEY}fs ivpb-backup@fs"},
               "ivpb_reach": {"backup_key": f"{KEY}old ivpb-backup@fs"}},
        "nas": {"backup_job_result": {"skipped": True}, "ivpb_reach": {"backup_key": f"{KEY}nas  ivpb-backup@nas"}},
        "pc": {"ivpb_reach": {"backup_key": ""}},  # no key yet, and none made (check mode)
        "evil": {"backup_job_result": {"ssh_public_key": f'command="sh" {KEY}evil'},
                 "ivpb_reach": {"backup_key": f"{KEY}evil\nssh-rsa AAAA"}},
        "gone": {},  # not reached, its backup part did not run
    }
    assert power_backup.client_keys(clients) == {"fs": f"{KEY}fs ivpb-backup@fs", "nas": f"{KEY}nas ivpb-backup@nas"}
    assert task_args("backup_target") == {"parts": ["backup_target"]}
    assert power_backup.wanted("nas", {"inputs": {"nas": {"backup_target": {"targets": [{"name": "t"}]}}},
                                       "roles": {"nas": ["ivpb_backup_target"]}}, power_backup.PARTS) == ["backup_target"]


def test_a_receiver_beside_other_parts_reports_its_protected_where_the_audit_reads_it():
    first = {"changed": False, "controls": [{"id": "backup.daily"}], "diff": [{"before_header": "a"}],
             "ssh_public_key": KEY}
    receiver = {"changed": True, "controls": [], "diff": [{"before_header": "b"}], "protected": {"fs": {"x": None}},
                "authorized": ["fs"], "failed": True, "msg": "nas: useradd failed", power_backup.KEYS_GIVEN: "d"}
    merged = power_backup.with_receiver(first, receiver)
    assert merged["controls"] == first["controls"] and merged["ssh_public_key"] == KEY
    assert merged["protected"] == {"fs": {"x": None}} and merged[power_backup.KEYS_GIVEN] == "d"
    assert merged["backup_target"] == {"authorized": ["fs"]}
    assert merged["changed"] and merged["failed"] and merged["msg"] == "nas: useradd failed"
    assert [d["before_header"] for d in merged["diff"]] == ["a", "b"]
    assert power_backup.with_receiver(None, receiver) is receiver


def test_nut_server_adds_only_the_passwords_to_the_planned_clients():
    """The module gets the planner's clients as they are, a password per client host from its
    hostvars, and the test user (with SET) only when the inventory asks for one; upsd.users is
    what the role wrote before (one upsmon secondary per client, then the test user)."""
    assert task_args("nut_server") == {"parts": ["nut_server"]}
    clients = [{"host": "fs", "name": "mon-fs"}, {"host": "nas", "name": "upsmon-nas"}]
    planned = {"port": 3493, "clients": clients}
    passwords = {"fs": "pw-fs", "nas": "pw-nas"}

    def params(server: dict) -> dict:
        return power_backup.nut_server_args(server, planned, passwords, True)

    plain = params({"ups": {"a": {"driver": "dummy-ups"}}})
    assert plain == {"ups": {"a": {"driver": "dummy-ups"}}, "listen": ["0.0.0.0"], "port": 3493, "clients": clients,
                     "passwords": passwords, "users": [], "install_packages": True}
    with_test = params({"ups": {}, "test_user": {"name": "ivpb-test", "password": "t"}})
    assert nut_server.render_users([u for _, u in nut_server.users_of(with_test)]) == nut_server.render_users([
        {"name": "mon-fs", "password": "pw-fs", "upsmon": "secondary"},
        {"name": "upsmon-nas", "password": "pw-nas", "upsmon": "secondary"},
        {"name": "ivpb-test", "password": "t", "actions": ["SET"]},
    ])
