"""User errors: the CLI prints their one-line message and exits non-zero, no traceback."""


class UserError(Exception):
    """Bad input from the user (missing file, unknown class, wrong option). Message is one line."""
