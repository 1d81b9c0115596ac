"""Errors a user can cause: shown as one line each, never as a traceback."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in the inventory: which host (or site), which variable path, what is expected."""

    subject: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.path}: {self.message}"


class UserError(Exception):
    """A mistake in the user's input (inventory, policy file, options)."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = problems or []

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems] or [str(self)]
