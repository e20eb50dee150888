"""Errors that mean "bad input": the CLI prints the message and exits 2, no traceback."""


class UserError(Exception):
    """Bad input from the user (a load error, an invalid option). Exit code 2."""

    exit_code = 2
