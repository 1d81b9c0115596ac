"""Writing what a command made: a report or a recovery plan goes to its file whole or not at all.
The commands (cli, herstelplan) share it; it imports nothing of theirs."""

from __future__ import annotations

import os
import tempfile

from ivpb.errors import UserError


def encode(text: str) -> bytes:
    """UTF-8 for any str: a lone surrogate (a non-UTF-8 file name that came back from a host)
    becomes the escape \\udcxx, which is also valid inside a JSON string, instead of an error."""
    return text.encode("utf-8", "backslashreplace")


def write_file(path, text: str) -> None:
    """The whole report or nothing: written to a temporary file next to it, then renamed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        raise UserError(f"{path}: cannot write the report: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(encode(text))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise UserError(f"{path}: cannot write the report: {exc.strerror}") from None
        raise
