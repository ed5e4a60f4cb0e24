"""The one exception a user's input raises.

`InputError` is a `ValueError` whose message is meant for the person who sent the input: it says
what was wrong and what to do. The app shows exactly these as `gr.Error`; any other exception is
a bug, logged with its traceback, and the user is told that an internal error was logged.
"""

from __future__ import annotations


class InputError(ValueError):
    """A value a user gave (a name, a number, an upload, a link) that cannot be used; the message says why."""
