"""The project's own errors: each message is one line naming the cause and the fix.

The command lines catch `Error` (and only it) to print that line and exit 2; anything else is a bug
and keeps its traceback. Each area raises its own subclass (`data.DataError`, `store.StoreError`,
`tune.TuneError`, `report.NotebookFailed`, …); `ConfigError` is bad input to a config, a study,
a profile or an option. Subclasses of ValueError or RuntimeError stay catchable as those.
"""

from __future__ import annotations

import argparse
import errno
import sys


class Error(Exception):
    """Base of the project's errors: the message is the one line a command line prints."""


class ConfigError(Error, ValueError):
    """A value the user gave (a config field, a study, a profile, a device, an option) that cannot be used."""


def disk_full(err: BaseException, kept: str, folder=None) -> str | None:
    """The one line a command prints when `err` is a full disk (ENOSPC): the file (else `folder`, where the
    command writes), what was `kept` and how to go on; None for any other error."""
    if not isinstance(err, OSError) or err.errno != errno.ENOSPC:
        return None
    where = err.filename or folder or "the disk"
    return f"{where}: no space left on the disk; {kept}: free some space and run the same command again"


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser whose bad-argument message is one line naming the argument, what was wrong and
    where the accepted values are (`--help`), exit 2, instead of the usage block above it."""

    def error(self, message: str):
        print(f"{self.prog}: {message}; see {self.prog} --help", file=sys.stderr)
        sys.exit(2)
