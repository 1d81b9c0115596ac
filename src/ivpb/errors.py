"""Errors a user can cause: shown as one line each, never as a traceback."""

from __future__ import annotations

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
