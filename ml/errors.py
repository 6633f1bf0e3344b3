"""Errors that mean "the user asked for something we cannot do": the CLI prints one line, no traceback."""


class UserError(Exception):
    """Bad input from the user (missing file, unknown class, wrong option). Message is one line."""
