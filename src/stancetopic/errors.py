"""The library's errors: one base class that carries the command line's exit code.

Library code raises these with a message that is already one line for the
user (`file[:line]: reason`); the CLI prints each line as `error: ...` and
exits with `exit_code`, in one place. The codes are the README's "Exit codes".
"""

from __future__ import annotations

EXIT_REFUSED = 2
EXIT_MODEL = 3
EXIT_PARTIAL = 4
EXIT_DATA = 5
EXIT_ENGINE = 6
EXIT_OUTPUT = 7
EXIT_INTERRUPTED = 130
SHOWN_PATH = 160  # characters of a path an error line shows, at most


def short_path(path: object) -> str:
    """A path for an error line: one over `SHOWN_PATH` characters keeps its start and end."""
    text = str(path)
    return text if len(text) <= SHOWN_PATH else f"{text[:80]}...{text[-(SHOWN_PATH - 83) :]}"


class StancetopicError(Exception):
    """Base of every error the library raises for the user to read."""

    exit_code = 1

    def lines(self) -> list[str]:
        """The message, one user-facing line each (most errors have one)."""
        return str(self).splitlines() or [self.__class__.__name__]


class RefusedError(StancetopicError):
    """A run refused before it starts: it would overwrite, mix or lose output, or has nothing to do."""

    exit_code = EXIT_REFUSED


class DataError(StancetopicError):
    """A labelled file, report or label output that cannot be read (`file[:line]: reason`)."""

    exit_code = EXIT_DATA


class EngineError(StancetopicError):
    """The Ray engine failed; the partial output is kept for `--resume`."""

    exit_code = EXIT_ENGINE


class OutputError(StancetopicError):
    """An output file or folder could not be written (read-only, missing, disk full)."""

    exit_code = EXIT_OUTPUT


class Interrupted(StancetopicError):
    """Ctrl-C during a run; the message says how to resume."""

    exit_code = EXIT_INTERRUPTED
