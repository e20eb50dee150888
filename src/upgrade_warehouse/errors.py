"""Errors that mean "bad input": the CLI prints the message and exits 2, no traceback.

Every other failure is one line too (exit 1): :func:`failure_message` words it, in the
CLI and in worker processes alike, which send that line to the build (docs/security.md).
"""


class UserError(Exception):
    """Bad input from the user (a load error, an invalid option). Exit code 2."""

    exit_code = 2


class Failure(Exception):
    """A failure that is not the user's input, already worded as one line (exit 1): the
    CLI prints it as it is, without the exception's type."""


def failure_message(exc: BaseException) -> str:
    """One line: an OS error with its file and reason, a :class:`Failure` as it is,
    anything else with its type."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror} (errno {exc.errno})"
    text = str(exc).strip().splitlines()
    if isinstance(exc, Failure):
        return text[0] if text else type(exc).__name__
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


class BuildFailed(Exception):
    """The build ran but a model or test failed (exit 1; the serving warehouse is kept)."""


class BuildLocked(BuildFailed):
    """Another build of the same warehouse is running (exit 1, nothing done)."""
