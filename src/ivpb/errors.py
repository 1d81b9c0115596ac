"""Errors a user can cause: shown as one line each, never as a traceback."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in the inventory: which host (or site), which variable path, what is expected.

    `todo` ("key|arg|...", the words todo.<key> of src/ivpb/words) says what is still to do in
    the school's words: `ivpb plan` lists every problem on its shopping list (ivpb.shopping), in
    those words where the check gave them. `control` (with `dataset` for a per-data-set control)
    names the planned control that lacks the detail, on whose row the plan shows the note;
    `ivpb validate`, enforce.yml and `ivpb audit` refuse every problem alike."""

    subject: str
    path: str
    message: str
    control: str = field(default="", compare=False)
    dataset: str = field(default="", compare=False)
    todo: str = field(default="", compare=False)
    where: str = field(default="", compare=False)  # file:line:column of the value, when known
    # A finding about the school's data as a whole (a data set stored on no host): an error for
    # `ivpb validate`, a line of `ivpb plan`, a result of `ivpb audit`; enforce.yml goes on (no
    # host has anything to enforce for it).
    finding: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        return f"{self.subject}: {self.path}: {self.message}"

    def line(self) -> str:
        """The line the user reads: the file:line:column of the value first, when known."""
        return f"{self.where}: {self}" if self.where else str(self)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """ " (did you mean 'x'?)" for the choice closest to a misspelt word, or "" when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


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
