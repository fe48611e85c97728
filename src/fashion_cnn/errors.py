"""The project's own errors: each message is one line naming the cause and the fix.

The command lines catch `Error` (and only it) to print that line and exit 2; anything else is a bug
and keeps its traceback. Each area raises its own subclass (`data.DataError`, `store.StoreError`,
`tune.TuneError`, `report.NotebookFailed`, …); `ConfigError` is bad input to a config, a study,
a profile or an option. Subclasses of ValueError or RuntimeError stay catchable as those.
"""

from __future__ import annotations

import argparse
import sys


class Error(Exception):
    """Base of the project's errors: the message is the one line a command line prints."""


class ConfigError(Error, ValueError):
    """A value the user gave (a config field, a study, a profile, a device, an option) that cannot be used."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser whose bad-argument message is one line naming the argument, what was wrong and
    where the accepted values are (`--help`), exit 2, instead of the usage block above it."""

    def error(self, message: str):
        print(f"{self.prog}: {message}; see {self.prog} --help", file=sys.stderr)
        sys.exit(2)
