"""The one exception type that the CLI turns into one line and exit code 2."""

from __future__ import annotations


class RDFaceError(Exception):
    """Bad input or invocation: a message for a person, never a traceback."""


class InputError(RDFaceError, ValueError):
    """A user-supplied file, folder, column or flag is wrong."""
