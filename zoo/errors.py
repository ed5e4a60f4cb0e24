"""The one exception a user's input raises.

`InputError` is a `ValueError` whose message is meant for the person who sent the input: it says
what was wrong and what to do. The app shows exactly these as `gr.Error`; any other exception is
a bug, logged with its traceback, and the user is told that an internal error was logged.
"""

from __future__ import annotations


class InputError(ValueError):
    """A value a user gave (a name, a number, an upload, a link) that cannot be used; the message says why."""


class WeightsError(ValueError):
    """A model's weights folder cannot be loaded (a truncated file, tensors or a config that do not
    fit the model); the message names the model and the file. Not the user's doing, but not a bug
    in the code either: the app says which model cannot be used and keeps serving the others."""
