"""Errors raised by vidsal_core.

Every error names the file or argument at fault and says what is wrong with it,
so that a user running a method on their own material sees at once what to
fix. They subclass the built-in exception a caller would expect (``ValueError``
for a bad value, ``FileNotFoundError`` for a missing file), so generic handlers
keep working.
"""

from __future__ import annotations


class VidsalError(Exception):
    """Base class of every error vidsal_core raises on purpose."""


class ConfigError(VidsalError, ValueError):
    """A configuration or argument that cannot be honoured."""


class VideoFileError(VidsalError, ValueError):
    """A video file that cannot be read, or that holds no usable frames."""


class VideoNotFoundError(VidsalError, FileNotFoundError):
    """A video file or directory that does not exist."""


class ClipError(VidsalError, ValueError):
    """A clip that cannot be cut from a video (too short, bad step or offset)."""


class DatasetError(VidsalError, ValueError):
    """A dataset whose files or names do not follow the expected layout."""


class CheckpointError(VidsalError, ValueError):
    """A checkpoint whose hash or configuration does not match what was asked for."""


class CheckpointNotFoundError(VidsalError, FileNotFoundError):
    """A weights or checkpoint file that does not exist (yet): the message says how to make it."""
