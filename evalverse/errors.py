"""Errors meant for the user: each carries a message that says what is wrong and how to fix it.

Code below the UI raises these; the CLI and the app show `str(error)` and never a traceback.
"""


class EvalVerseError(Exception):
    """Base class: the message is shown to the user as is."""


class InputError(EvalVerseError):
    """Bad input from the user: a corrupt or unsupported video, a bad parameter, an unknown name."""


class DataError(EvalVerseError):
    """A data file (taxonomy, leaderboard seed) is malformed; the message names the file and row."""


class StoreError(EvalVerseError):
    """The results database cannot be opened or written (read-only or missing directory, lock)."""


class UnavailableError(EvalVerseError):
    """A capability cannot run here (missing weights or package); the message says how to get it."""


class AccessError(EvalVerseError):
    """A token is missing, wrong or revoked, or its role does not allow the action."""
