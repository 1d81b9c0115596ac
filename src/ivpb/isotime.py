"""Timestamps as ivpb writes and reads them in its evidence, drills and attestations: ISO 8601 in
UTC (2026-11-29T13:11:15Z); a time read without a zone is taken as UTC."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any


def iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any) -> dt.datetime | None:
    """The time value says, or None when it is no timestamp."""
    if not isinstance(value, str) or not value:
        return None
    return _parse_iso(value)


@lru_cache(maxsize=4096)  # a run's evidence repeats a few timestamps for thousands of controls
def _parse_iso(value: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
