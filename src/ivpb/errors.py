"""Errors a user can cause: shown as one line each, never as a traceback."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in the inventory: which host (or site), which variable path, what is expected.

    `control` (with `dataset` for a per-data-set control) marks enforcement details that are not
    configured yet for a control the plan gives the host (no UPS feed, uplink, target or
    recipient declared): `ivpb plan` shows them as "to configure" on that control, while
    `ivpb validate`, enforce.yml and `ivpb audit` stay strict. `todo` is the short note."""

    subject: str
    path: str
    message: str
    control: str = field(default="", compare=False)
    dataset: str = field(default="", compare=False)
    todo: str = field(default="", compare=False)
    where: str = field(default="", compare=False)  # file:line:column of the value, when known

    def __str__(self) -> str:
        return f"{self.subject}: {self.path}: {self.message}"

    def line(self) -> str:
        """The line the user reads: the file:line:column of the value first, when known."""
        return f"{self.where}: {self}" if self.where else str(self)


class UserError(Exception):
    """A mistake in the user's input (inventory, policy file, options)."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = problems or []

    def lines(self) -> list[str]:
        return [p.line() for p in self.problems] or [str(self)]


class UsageError(UserError):
    """A command line that cannot be carried out as written (a misspelt or missing option, options
    that exclude each other): exit 64, EX_USAGE of sysexits.h, never 2, which `ivpb audit` uses
    for drift."""
