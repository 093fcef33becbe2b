"""The one exception type that the CLI turns into one line and exit code 2."""

from __future__ import annotations


class RDFaceError(Exception):
    """Bad input or invocation: a message for a person, never a traceback."""


class InputError(RDFaceError, ValueError):
    """A user-supplied file, folder, column or flag is wrong."""


MAX_ERROR_CHARS = 300


def one_line(message: object, limit: int = MAX_ERROR_CHARS) -> str:
    """An error message as one line of at most ``limit`` characters (whitespace runs collapsed;
    a long message keeps its start and end around ``...``): a hostile value quoted in a message
    (a 100 MB flag, a multi-line cell) never floods the terminal."""
    text = " ".join(str(message).split())
    if len(text) <= limit:
        return text
    marker = f" ... [{len(text)} characters in all] ... "
    keep = max(limit - len(marker), 0)
    head = keep * 2 // 3
    return text[:head] + marker + text[len(text) - (keep - head) :]


def hub_error(exc: BaseException, token: object = None) -> str:
    """``Type: first line`` of a Hub client's error (network, auth, gated, no such repo), with the
    token masked: what every push and pull says in its one line."""
    first = (str(exc).splitlines() or [""])[0]
    if isinstance(token, str) and token:
        first = first.replace(token, "***")
    return f"{type(exc).__name__}: {first}"
