"""Error types for a user's mistake (a bad config key or value, a missing file, a corrupt
checkpoint, an unknown plugin, a missing dataset field).

Tools catch :class:`UserError` and print its message as one line with exit code 2; every other
exception is a bug and keeps its traceback. Each type also derives from the built-in exception that
code raised before it existed, so ``except KeyError`` and friends keep working.
"""


class UserError(Exception):
    """A mistake in what the user gave; the message names the culprit and what was expected."""

    def __str__(self) -> str:  # KeyError quotes its message; keep every subclass readable
        return str(self.args[0]) if self.args else ''


class ConfigError(UserError, KeyError, ValueError, TypeError):
    """A config key or value that is unknown, missing or of the wrong kind."""


class MissingFileError(UserError, FileNotFoundError):
    """A file the config or the command line names does not exist."""


class CheckpointError(UserError, ValueError):
    """A checkpoint that is truncated, corrupt, or does not fit the model."""


class DataError(UserError, KeyError, ValueError):
    """A dataset file or annotation that lacks a field or holds a bad value (a KeyError too:
    a missing field was one before)."""
