"""Fixtures the unit tests share."""

from __future__ import annotations

import pytest

from .test_render_synthetic import load_example


@pytest.fixture(scope="module")
def report():
    """The example report (tests/fixtures), loaded once per module; tests that change it copy it first."""
    return load_example()
