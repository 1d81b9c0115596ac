"""Requirements are monotone: raising any level never removes a control (a superseded control
counts as kept when the control that supersedes it is there: daily covers weekly)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ivpb.plan import plan_inventory
from ivpb.policy import ASPECTS, load_policy

from .helpers import one_host

POLICY = load_policy()
LEVELS = st.fixed_dictionaries({a: st.integers(0, len(POLICY.ladders[a]) - 1) for a in ASPECTS})


def _ids(ranks, **kw) -> set[str]:
    biv = {a: POLICY.level(a, r) for a, r in ranks.items()}
    plan = plan_inventory(one_host(biv, **kw), POLICY)
    hosts = {c.id for c in plan.hosts["srv1"].controls}
    sites = {f"{s}:{c.id}" for s, sp in plan.sites.items() for c in sp.controls}
    return hosts | sites


def _covered(control_id: str, after: set[str]) -> bool:
    if control_id in after:
        return True
    superseder = POLICY.control(control_id.split(":")[-1]).superseded_by
    return superseder is not None and superseder in after


@given(LEVELS, st.sampled_from(ASPECTS), st.booleans(), st.booleans())
def test_raising_a_level_never_removes_a_control(ranks, aspect, uses, needs_internet):
    top = len(POLICY.ladders[aspect]) - 1
    raised = {**ranks, aspect: min(top, ranks[aspect] + 1)}
    before = _ids(ranks, uses=uses, needs_internet=needs_internet)
    after = _ids(raised, uses=uses, needs_internet=needs_internet)
    assert all(_covered(c, after) for c in before), (before - after)
