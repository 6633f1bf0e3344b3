"""User errors: the CLI prints their one-line message and exits non-zero, no traceback."""


class UserError(Exception):
    """Bad input from the user (missing file, unknown class, wrong option). Message is one line."""


class DiskFullError(UserError):
    """A file could not be written for want of disk space (or quota): the message names the
    folder and its free space, where the OSError or torch's writer would not."""
