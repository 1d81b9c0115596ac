"""Which hosts each role runs on (enforce.yml's groups), for the example school."""

from __future__ import annotations

from ivpb.inventory import load_inventory
from ivpb.plan import plan_inventory
from ivpb.policy import load_policy
from ivpb.roles import role_groups


def test_example_school_role_groups(example_inventory):
    inventory = load_inventory([str(example_inventory)])
    groups = role_groups(inventory, plan_inventory(inventory, load_policy()))
    assert groups == {
        "fileserver": ["ivpb_backup", "ivpb_power"],
        "nas": ["ivpb_backup", "ivpb_power"],
        "nas-offsite": ["ivpb_backup_target"],
        "secretariaat": ["ivpb_power"],
        "nutserver": ["ivpb_nut_server"],
        "router": ["ivpb_internet"],  # it routes the fileserver, which requires internet.failover
        # systems ivpb does not manage: in no group, so no play targets them
        **dict.fromkeys(["synology", "directie-pc", "imac-kleuter", "laptop-zorg", "tablet-juf", "informat",
                          "cloudschijf"], []),
    }
