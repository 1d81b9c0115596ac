from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "inventories" / "example"


@pytest.fixture
def example_inventory() -> Path:
    return EXAMPLE


@pytest.fixture(scope="session")
def seed_text() -> str:
    seed = ROOT.parent / "shared" / "seed" / "000_92d8c8088fc3ae04.txt"
    if not seed.exists():
        pytest.skip("the policy seed is not beside this checkout")
    return seed.read_text(encoding="utf-8")
