"""§4 backup.best_practice (issue #12): the age of the protected copy comes from the receivers'
own report, never from the client (which a compromised host could fake)."""

from __future__ import annotations

import pytest

from ivpb.audit.results import HostResults, attach_protected


def control(ds, **evidence):
    return {"id": "backup.best_practice", "dataset": ds, "status": "compliant", "evidence": dict(evidence)}


@pytest.mark.parametrize(("receivers", "claimed", "expected"), [
    ({"nas": {"fs": {"lln": "2026-11-29T01:00:00Z"}}}, None, "2026-11-29T01:00:00Z"),
    ({"nas": {"fs": {"lln": "2026-11-20T01:00:00Z"}}, "off": {"fs": {"lln": "2026-11-29T01:00:00Z"}}},
     None, "2026-11-29T01:00:00Z"),
    ({"nas": {"fs": {"lln": None}}}, None, None),                       # the receiver holds nothing sealed
    ({"nas": {"fs": {"lln": None}}}, "2099-01-01T00:00:00Z", None),     # the client's own claim counts for nothing
    ({}, "2026-11-29T01:00:00Z", None),                                 # no receiver reported
    ({"nas": {"other": {"lln": "2026-11-29T01:00:00Z"}}}, None, None),  # another client's backups
    # a `protected` from a host that is not fs's receiver counts for nothing: fs itself, or another client
    ({"nas": {"fs": {"lln": "2026-11-20T01:00:00Z"}}, "fs": {"fs": {"lln": "2026-11-29T01:00:00Z"}}},
     None, "2026-11-20T01:00:00Z"),
    ({"nas": {"fs": {"lln": None}}, "pc": {"fs": {"lln": "2026-11-29T01:00:00Z"}}}, None, None),
])
def test_protected_generation_is_the_receivers_word(receivers, claimed, expected):
    fs = HostResults(controls=[control("lln", **({"protected_generation": claimed} if claimed else {}))],
                     protected=receivers.pop("fs", {}))
    results = {"fs": fs, **{name: HostResults(protected=p) for name, p in receivers.items()}}
    attach_protected(results, {"backup.best_practice"}, {"fs": ["fs", "nas", "off"]})
    assert fs.controls[0]["evidence"].get("protected_generation") == expected
